//! Parsing single values: identifiers, codes, dates, coordinates, addresses.
//!
//! Each parser returns the value and an optional warning (a spreadsheet
//! habit that was repaired), or the error message. Messages are in French
//! and quote the value, shortened when very long.

use chrono::NaiveDate;

use super::report::Report;
use super::table::Row;
use crate::codes::{CodeError, InseeCode, Slug};
use crate::reference::{Bound, BoundError, ServiceRef, Territory, TerritoryError, parse_day};

/// A parsed value with an optional warning, or an error message.
pub(crate) type Checked<T> = Result<(T, Option<String>), String>;

/// Parses the column's value if present; blank gives `None`.
pub(crate) fn optional<T>(
    row: &Row<'_>,
    report: &mut Report,
    col: usize,
    parse: impl FnOnce(&str) -> Checked<T>,
) -> Option<T> {
    let v = row.value(col)?;
    apply(row, report, col, parse(v))
}

/// Parses the column's value, reporting a blank one.
pub(crate) fn required<T>(
    row: &Row<'_>,
    report: &mut Report,
    col: usize,
    parse: impl FnOnce(&str) -> Checked<T>,
) -> Option<T> {
    let v = row.required(col, report)?;
    apply(row, report, col, parse(v))
}

fn apply<T>(row: &Row<'_>, report: &mut Report, col: usize, checked: Checked<T>) -> Option<T> {
    match checked {
        Ok((t, warning)) => {
            if let Some(w) = warning {
                row.warn(report, col, w);
            }
            Some(t)
        }
        Err(e) => {
            row.error(report, col, e);
            None
        }
    }
}

/// The value as quoted in messages: at most 60 characters.
pub(crate) fn shown(v: &str) -> String {
    const MAX: usize = 60;
    match v.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &v[..i]),
        None => v.to_owned(),
    }
}

/// A code error whose quoted value is shortened.
fn code_error(e: CodeError) -> String {
    match e {
        CodeError::Insee(s) => CodeError::Insee(shown(&s)),
        CodeError::Siren(s) => CodeError::Siren(shown(&s)),
        CodeError::Departement(s) => CodeError::Departement(shown(&s)),
        CodeError::Region(s) => CodeError::Region(shown(&s)),
        CodeError::Slug(s) => CodeError::Slug(shown(&s)),
        CodeError::HolderKind(s) => CodeError::HolderKind(shown(&s)),
    }
    .to_string()
}

fn bound_error(e: BoundError) -> String {
    match e {
        BoundError::NoSuchDay(s) => format!("la date {} n'existe pas", shown(&s)),
        BoundError::Syntax(s) => BoundError::Syntax(shown(&s)).to_string(),
    }
}

fn french_date_warning(v: &str, d: NaiveDate) -> String {
    format!(
        "date « {v} » lue comme {} : écrivez plutôt AAAA-MM-JJ",
        d.format("%Y-%m-%d")
    )
}

pub(crate) fn slug(v: &str) -> Checked<Slug> {
    Slug::parse(v).map(|s| (s, None)).map_err(code_error)
}

/// `YYYY-MM-DD`, or `DD/MM/YYYY` with a warning.
pub(crate) fn day(v: &str) -> Checked<NaiveDate> {
    match parse_day(v) {
        Ok((d, french)) => Ok((d, french.then(|| french_date_warning(v, d)))),
        Err(BoundError::Syntax(s)) => Err(format!(
            "« {} » n'est pas une date : écrivez AAAA-MM-JJ (par exemple 2024-03-15)",
            shown(&s)
        )),
        Err(e) => Err(bound_error(e)),
    }
}

/// A period bound: `YYYY-MM-DD`, `YYYY`, `-Ny`, or `DD/MM/YYYY` with a
/// warning.
pub(crate) fn bound(v: &str) -> Checked<Bound> {
    match Bound::parse(v) {
        Ok((b, french)) => {
            let warning = match (french, b) {
                (true, Bound::Date(d)) => Some(french_date_warning(v, d)),
                _ => None,
            };
            Ok((b, warning))
        }
        Err(e) => Err(bound_error(e)),
    }
}

fn insee_repaired(v: &str, c: InseeCode) -> String {
    format!("code INSEE « {v} » lu comme {c} (zéro initial perdu par le tableur)")
}

/// A commune code; a spreadsheet's `1004` becomes `01004` with a warning.
pub(crate) fn insee(v: &str) -> Checked<InseeCode> {
    match InseeCode::parse_lenient(v) {
        Ok((c, repaired)) => Ok((c, repaired.then(|| insee_repaired(v, c)))),
        Err(e) => Err(code_error(e)),
    }
}

/// Five digits; four digits get back their leading zero with a warning.
pub(crate) fn postal_code(v: &str) -> Checked<String> {
    let digits = v.bytes().all(|b| b.is_ascii_digit());
    match v.len() {
        5 if digits => Ok((v.to_owned(), None)),
        4 if digits => Ok((
            format!("0{v}"),
            Some(format!(
                "code postal « {v} » lu comme 0{v} (zéro initial perdu par le tableur)"
            )),
        )),
        _ => Err(format!(
            "« {} » n'est pas un code postal (5 chiffres, par exemple 35000)",
            shown(v)
        )),
    }
}

/// A latitude (`limit` 90) or longitude (`limit` 180) in decimal degrees; a
/// decimal comma is read as a point with a warning.
pub(crate) fn coordinate(v: &str, limit: f64, what: &str, example: &str) -> Checked<f64> {
    let (text, warning) = if v.matches(',').count() == 1 && !v.contains('.') {
        let fixed = v.replace(',', ".");
        let w = format!("virgule décimale lue comme un point : {fixed}");
        (fixed, Some(w))
    } else {
        (v.to_owned(), None)
    };
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
    match text.parse::<f64>() {
        Ok(x) if plain && (-limit..=limit).contains(&x) => Ok((x, warning)),
        _ => Err(format!(
            "« {} » n'est pas une {what} : nombre décimal entre -{limit} et {limit} (par exemple {example})",
            shown(v)
        )),
    }
}

/// `something@something.tld`.
pub(crate) fn email(v: &str) -> Checked<String> {
    let ok = v.split_once('@').is_some_and(|(local, domain)| {
        let parts: Vec<&str> = domain.split('.').collect();
        !local.is_empty()
            && parts.len() >= 2
            && parts.iter().all(|p| !p.is_empty() && !p.contains('@'))
            && parts
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
    }) && !v.chars().any(|c| c.is_whitespace() || c == ',' || c == ';');
    if ok {
        Ok((v.to_owned(), None))
    } else {
        Err(format!(
            "« {} » n'est pas une adresse électronique (forme attendue : nom@domaine.fr)",
            shown(v)
        ))
    }
}

/// An address starting with `http://` or `https://`.
pub(crate) fn url(v: &str) -> Checked<String> {
    let lower = v.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &v[8..]
    } else if lower.starts_with("http://") {
        &v[7..]
    } else {
        ""
    };
    if !rest.is_empty() && !v.chars().any(char::is_whitespace) {
        Ok((v.to_owned(), None))
    } else {
        Err(format!(
            "« {} » n'est pas une adresse web : elle doit commencer par http:// ou https://",
            shown(v)
        ))
    }
}

/// A communicability delay: an integer from 0 to 200.
/// A search link template (see [`crate::search_link::check_template`]).
pub(crate) fn search_template(v: &str) -> Checked<String> {
    crate::search_link::check_template(v).map(|()| (v.to_owned(), None))
}

pub(crate) fn years(v: &str) -> Checked<u32> {
    match v.parse::<u32>() {
        Ok(n) if n <= 200 && v.bytes().all(|b| b.is_ascii_digit()) => Ok((n, None)),
        _ => Err(format!(
            "« {} » n'est pas un délai valide : écrivez un nombre entier d'années de 0 à 200 (0 : librement communicable)",
            shown(v)
        )),
    }
}

/// `commune:<INSEE>` (a lost leading zero is repaired with a warning),
/// `epci:<SIREN>`, `departement:<code>` or `france`.
pub(crate) fn territory(v: &str) -> Checked<Territory> {
    if let Some(code) = v.strip_prefix("commune:") {
        return insee(code.trim()).map(|(c, w)| {
            let w = w.map(|_| insee_repaired(code.trim(), c));
            (Territory::Commune(c), w)
        });
    }
    match Territory::parse(v) {
        Ok(t) => Ok((t, None)),
        Err(TerritoryError::Syntax(s)) => Err(TerritoryError::Syntax(shown(&s)).to_string()),
        Err(TerritoryError::Code(e)) => Err(code_error(e)),
    }
}

/// Why a territory is not one the Code officiel géographique knows, if so.
pub(crate) fn unknown_territory(t: &Territory, ctx: &dyn super::ImportContext) -> Option<String> {
    match t {
        Territory::Commune(c) if !ctx.commune_known(*c) => Some(format!(
            "commune {c} inconnue du Code officiel géographique"
        )),
        Territory::Epci(s) if !ctx.epci_known(s) => Some(format!("EPCI {s} inconnu")),
        Territory::Departement(d) if !ctx.departement_known(d) => {
            Some(format!("département {d} inconnu"))
        }
        _ => None,
    }
}

/// A competence list: territories joined by `|`.
pub(crate) fn competence(v: &str) -> Checked<Vec<Territory>> {
    let mut out: Vec<Territory> = Vec::new();
    let mut warning = None;
    for item in v.split(['|', ',']).map(str::trim).filter(|t| !t.is_empty()) {
        let (t, w) = territory(item)?;
        warning = warning.or(w);
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok((out, warning))
}

/// A service id, `@<kind>` or `@inconnu`.
pub(crate) fn service_ref(v: &str) -> Checked<ServiceRef> {
    ServiceRef::parse(v)
        .map(|s| (s, None))
        .map_err(|e| match e {
            CodeError::HolderKind(_) => code_error(e),
            e => format!("{} ou @mairie", code_error(e)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn<T>(c: Checked<T>) -> String {
        c.ok().and_then(|(_, w)| w).unwrap_or_default()
    }

    #[test]
    fn dates() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(day("2015-06-30"), Ok((d("2015-06-30"), None)));
        assert_eq!(
            warn(day("30/06/2015")),
            "date « 30/06/2015 » lue comme 2015-06-30 : écrivez plutôt AAAA-MM-JJ"
        );
        assert_eq!(
            day("2015-02-30").unwrap_err(),
            "la date 2015-02-30 n'existe pas"
        );
        assert_eq!(
            day("30/02/2015").unwrap_err(),
            "la date 30/02/2015 n'existe pas"
        );
        assert_eq!(
            day("hier").unwrap_err(),
            "« hier » n'est pas une date : écrivez AAAA-MM-JJ (par exemple 2024-03-15)"
        );
        assert_eq!(bound("2015").unwrap().0, Bound::Year(2015));
        assert_eq!(bound("-75y").unwrap().0, Bound::YearsAgo(75));
        assert!(warn(bound("1/7/2015")).contains("lue comme 2015-07-01"));
        assert_eq!(
            bound("2015-02-30").unwrap_err(),
            "la date 2015-02-30 n'existe pas"
        );
        assert!(
            bound("bientôt")
                .unwrap_err()
                .starts_with("« bientôt » n'est pas une date")
        );
    }

    #[test]
    fn codes_that_lost_their_leading_zero() {
        assert_eq!(
            insee("35238").unwrap(),
            (InseeCode::parse("35238").unwrap(), None)
        );
        assert_eq!(
            warn(insee("1004")),
            "code INSEE « 1004 » lu comme 01004 (zéro initial perdu par le tableur)"
        );
        assert!(
            insee("352")
                .unwrap_err()
                .contains("n'est pas un code INSEE")
        );
        assert_eq!(postal_code("35000").unwrap().0, "35000");
        let (p, w) = postal_code("1000").unwrap();
        assert_eq!(p, "01000");
        assert_eq!(
            w.unwrap(),
            "code postal « 1000 » lu comme 01000 (zéro initial perdu par le tableur)"
        );
        for bad in ["350", "3500O", "350000", "35 000"] {
            assert!(postal_code(bad).is_err(), "{bad}");
        }
        let (t, w) = territory("commune:1004").unwrap();
        assert_eq!(t.to_string(), "commune:01004");
        assert_eq!(
            w.unwrap(),
            "code INSEE « 1004 » lu comme 01004 (zéro initial perdu par le tableur)"
        );
        assert_eq!(
            territory("epci:243500139").unwrap().0.to_string(),
            "epci:243500139"
        );
        assert!(
            territory("region:53")
                .unwrap_err()
                .contains("n'est pas un territoire")
        );
        assert!(territory("epci:12").unwrap_err().contains("SIREN"));
    }

    #[test]
    fn coordinates() {
        assert_eq!(
            coordinate("48.11", 90.0, "latitude", "48.1").unwrap(),
            (48.11, None)
        );
        let (x, w) = coordinate("-1,68", 180.0, "longitude", "-1.6").unwrap();
        assert_eq!(x, -1.68);
        assert_eq!(w.unwrap(), "virgule décimale lue comme un point : -1.68");
        assert_eq!(
            coordinate("91", 90.0, "latitude", "48.1113").unwrap_err(),
            "« 91 » n'est pas une latitude : nombre décimal entre -90 et 90 (par exemple 48.1113)"
        );
        for bad in ["NaN", "inf", "1,2,3", "48°N", "", "1e2"] {
            assert!(coordinate(bad, 90.0, "latitude", "0").is_err(), "{bad}");
        }
        assert!(coordinate("-180", 180.0, "longitude", "0").is_ok());
    }

    #[test]
    fn emails_urls_and_years() {
        for ok in ["archives@rennes.fr", "a.b-c@x.y.gouv.fr"] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "archives",
            "@rennes.fr",
            "a@rennes",
            "a@.fr",
            "a@b.f",
            "a b@c.fr",
            "a@b@c.fr",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert_eq!(
            email("x").unwrap_err(),
            "« x » n'est pas une adresse électronique (forme attendue : nom@domaine.fr)"
        );
        for ok in ["https://archives.rennes.fr/", "http://x.fr", "HTTPS://x.fr"] {
            assert!(url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "www.rennes.fr",
            "https://",
            "ftp://x.fr",
            "https://x.fr/a b",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
        assert_eq!(years("75").unwrap().0, 75);
        assert_eq!(years("0").unwrap().0, 0);
        for bad in ["201", "-1", "+5", "75 ans", "7.5"] {
            assert!(years(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(5_000);
        let e = slug(&long).unwrap_err();
        assert!(e.chars().count() < 200, "{e}");
        assert!(e.contains("…"));
    }
}
