//! A service's search link template: the address of a search in its own
//! online inventories, with `{commune}`, `{annee}` and `{document}`
//! placeholders filled in for the question asked.

use chrono::Datelike;

use crate::guide::percent_encode;
use crate::locate::When;
use crate::reference::Service;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["commune", "annee", "document"];

/// Checks a template: an `http://` or `https://` address whose `{…}` are
/// only known placeholders. The message is in French, for the person who
/// wrote it.
pub fn check_template(t: &str) -> Result<(), String> {
    let t = t.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "« {t} » n'est pas une adresse web : elle doit commencer par http:// ou https://"
            )
        })?;
    if rest.is_empty() || rest.starts_with(['/', '{']) || t.chars().any(char::is_whitespace) {
        return Err(format!("« {t} » n'est pas une adresse web valide"));
    }
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                let Some(end) = rest[i + 1..].find('}') else {
                    return Err(format!("« {t} » : accolade « {{ » non fermée"));
                };
                let name = &rest[i + 1..i + 1 + end];
                if !PLACEHOLDERS.contains(&name) {
                    return Err(format!(
                        "« {{{name}}} » n'est pas un champ connu ; champs acceptés : {{commune}}, {{annee}}, {{document}}"
                    ));
                }
                for _ in 0..=end {
                    chars.next();
                }
            }
            '}' => return Err(format!("« {t} » : accolade « }} » sans « {{ »")),
            _ => {}
        }
    }
    Ok(())
}

/// The template with its placeholders replaced by the URL-encoded values;
/// an absent year leaves `{annee}` empty.
pub fn fill(template: &str, commune: &str, year: Option<i32>, document: &str) -> String {
    let year = year.map(|y| y.to_string()).unwrap_or_default();
    template
        .replace("{commune}", &percent_encode(commune))
        .replace("{annee}", &percent_encode(&year))
        .replace("{document}", &percent_encode(document))
}

/// The year a search is asked about: the year given, the first of a
/// period, the year of a day; none when the date is unknown.
pub fn year_of(when: When) -> Option<i32> {
    match when {
        When::Unknown => None,
        When::Year(y) | When::Years(y, _) => Some(y),
        When::Day(d) => Some(d.year()),
    }
}

/// The search in `s`'s online inventories for a question, when it has a
/// (valid) template.
pub fn for_service(s: &Service, commune: &str, when: When, document: &str) -> Option<String> {
    let t = s.search_url.as_deref()?;
    check_template(t).ok()?;
    Some(fill(t.trim(), commune, year_of(when), document))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        for ok in [
            "https://archives.example.fr/recherche?q={document}+{commune}&date={annee}",
            "http://x.fr/search",
            "https://x.fr/{commune}/{annee}",
        ] {
            assert_eq!(check_template(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_template("https://x.fr/?q={ville}").unwrap_err(),
            "« {ville} » n'est pas un champ connu ; champs acceptés : {commune}, {annee}, {document}"
        );
        assert!(check_template("ftp://x.fr/{commune}").is_err());
        assert!(check_template("www.x.fr/?q={commune}").is_err());
        assert!(check_template("https://x.fr/?q={commune").is_err());
        assert!(check_template("https://x.fr/?q=commune}").is_err());
        assert!(check_template("https://").is_err());
        assert!(check_template("https://x.fr/a b").is_err());
    }

    #[test]
    fn values_are_url_encoded_and_a_missing_year_is_empty() {
        let t = "https://x.fr/r?c={commune}&a={annee}&d={document}";
        assert_eq!(
            fill(t, "Saint-Étienne & Co", Some(1985), "Permis de construire"),
            "https://x.fr/r?c=Saint-%C3%89tienne%20%26%20Co&a=1985&d=Permis%20de%20construire"
        );
        assert_eq!(
            fill(t, "Rennes", None, "x"),
            "https://x.fr/r?c=Rennes&a=&d=x"
        );
    }
}
