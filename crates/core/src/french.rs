//! Writing French correctly around place names.

/// "Mairie de Rennes", "Mairie du Havre", "Mairie d'Évreux", "Mairie des
/// Andelys": the town hall of a commune, named with the right contraction.
///
/// `liaison` is INSEE's "type de nom en clair" when known; without it the
/// article is guessed from the name.
pub fn town_hall_name(commune: &str, liaison: Option<u8>) -> String {
    format!("Mairie {}", of_place(commune, liaison))
}

/// "de Rennes", "du Havre", "d'Évreux", "des Andelys", "de La Rochelle".
pub fn of_place(name: &str, liaison: Option<u8>) -> String {
    let strip = |prefix: &str| name.strip_prefix(prefix).unwrap_or(name).to_owned();
    match liaison {
        Some(1) => format!("d'{name}"),
        Some(2) if name.starts_with("Le ") => format!("du {}", strip("Le ")),
        Some(4) if name.starts_with("Les ") => format!("des {}", strip("Les ")),
        Some(6) if name.starts_with("Aux ") => format!("d'{name}"),
        Some(0 | 3 | 5 | 7 | 8) => format!("de {name}"),
        _ => guess(name),
    }
}

/// "de l'Ain", "du Rhône", "des Landes", "de la Corse-du-Sud", "de Paris":
/// a département named after "de", from its name without article (as the
/// COG writes it) and the COG's `typeLiaison`. Without the hint the article
/// cannot be told from the name; the name is then set apart instead
/// ("(Rhône)"), which stays correct French after a noun.
pub fn of_departement(name: &str, liaison: Option<u8>) -> String {
    match liaison {
        Some(0) => format!("de {name}"),
        Some(1) => format!("d'{name}"),
        Some(2) => format!("du {name}"),
        Some(3) => format!("de la {name}"),
        Some(4) => format!("des {name}"),
        Some(5) => format!("de l'{name}"),
        Some(6) => format!("des {name}"),
        Some(7) => format!("de las {name}"),
        Some(8) => format!("de los {name}"),
        _ => format!("({name})"),
    }
}

/// "Archives départementales de l'Ain".
pub fn departmental_archives_name(departement: &str, liaison: Option<u8>) -> String {
    match liaison {
        Some(0..=8) => format!(
            "Archives départementales {}",
            of_departement(departement, liaison)
        ),
        _ => format!("Archives départementales ({departement})"),
    }
}

fn guess(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("Le ") {
        return format!("du {rest}");
    }
    if let Some(rest) = name.strip_prefix("Les ") {
        return format!("des {rest}");
    }
    let first = name.chars().next().unwrap_or('x');
    // Vowels, accented vowels and the (mostly mute) h of place names elide.
    if "AEIOUYÀÂÄÉÈÊËÎÏÔÖÛÜŒaeiouyàâäéèêëîïôöûüœHh".contains(first) && !name.starts_with("La ")
    {
        format!("d'{name}")
    } else {
        format!("de {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn town_halls_are_named_in_correct_french() {
        assert_eq!(town_hall_name("Rennes", Some(0)), "Mairie de Rennes");
        assert_eq!(town_hall_name("Le Havre", Some(2)), "Mairie du Havre");
        assert_eq!(town_hall_name("Évreux", Some(1)), "Mairie d'Évreux");
        assert_eq!(town_hall_name("Les Andelys", Some(4)), "Mairie des Andelys");
        assert_eq!(
            town_hall_name("La Rochelle", Some(3)),
            "Mairie de La Rochelle"
        );
        assert_eq!(
            town_hall_name("L'Haÿ-les-Roses", Some(5)),
            "Mairie de L'Haÿ-les-Roses"
        );
        // Without INSEE's hint.
        assert_eq!(town_hall_name("Le Havre", None), "Mairie du Havre");
        assert_eq!(town_hall_name("Évreux", None), "Mairie d'Évreux");
        assert_eq!(town_hall_name("Les Andelys", None), "Mairie des Andelys");
        assert_eq!(town_hall_name("Angers", None), "Mairie d'Angers");
        assert_eq!(town_hall_name("Rennes", None), "Mairie de Rennes");
    }

    #[test]
    fn departements_take_the_cog_article() {
        // The COG's typeLiaison of each: 5 Ain, 2 Rhône, 4 Landes, 3 Corse-du-Sud, 0 Paris.
        assert_eq!(
            departmental_archives_name("Ain", Some(5)),
            "Archives départementales de l'Ain"
        );
        assert_eq!(
            departmental_archives_name("Rhône", Some(2)),
            "Archives départementales du Rhône"
        );
        assert_eq!(
            departmental_archives_name("Landes", Some(4)),
            "Archives départementales des Landes"
        );
        assert_eq!(
            departmental_archives_name("Corse-du-Sud", Some(3)),
            "Archives départementales de la Corse-du-Sud"
        );
        assert_eq!(
            departmental_archives_name("Paris", Some(0)),
            "Archives départementales de Paris"
        );
        assert_eq!(
            departmental_archives_name("Rhône", None),
            "Archives départementales (Rhône)"
        );
        assert_eq!(
            of_departement("Ille-et-Vilaine", Some(1)),
            "d'Ille-et-Vilaine"
        );
    }
}
