//! Reference data maintained by contributors: document types, services and
//! the holding rules that say which service holds which documents, where and
//! for which dates.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::codes::{CodeError, DeptCode, InseeCode, Siren, Slug};

/// A kind of document people look for (permis de construire, acte notarié…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentType {
    pub slug: Slug,
    pub label: String,
    pub theme: Option<String>,
    /// Synonyms people type (`PC`, `permis`).
    pub aliases: Vec<String>,
    pub description: Option<String>,
    /// Years after the document's date before anyone may consult it; 0 means
    /// freely accessible at once (Code du patrimoine L213-2).
    pub communicability_years: u32,
    /// Who may access earlier, exceptions.
    pub communicability_note: Option<String>,
}

/// What a service is, which drives how it is named and found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    Mairie,
    Urbanisme,
    Epci,
    ArchivesMunicipales,
    ArchivesIntercommunales,
    ArchivesDepartementales,
    ArchivesNationales,
    Notaire,
    PubliciteFonciere,
    Tribunal,
    Udap,
    Autre,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 12] = [
        ServiceKind::Mairie,
        ServiceKind::Urbanisme,
        ServiceKind::Epci,
        ServiceKind::ArchivesMunicipales,
        ServiceKind::ArchivesIntercommunales,
        ServiceKind::ArchivesDepartementales,
        ServiceKind::ArchivesNationales,
        ServiceKind::Notaire,
        ServiceKind::PubliciteFonciere,
        ServiceKind::Tribunal,
        ServiceKind::Udap,
        ServiceKind::Autre,
    ];

    /// The identifier used in files and in the API (`archives-departementales`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Mairie => "mairie",
            ServiceKind::Urbanisme => "urbanisme",
            ServiceKind::Epci => "epci",
            ServiceKind::ArchivesMunicipales => "archives-municipales",
            ServiceKind::ArchivesIntercommunales => "archives-intercommunales",
            ServiceKind::ArchivesDepartementales => "archives-departementales",
            ServiceKind::ArchivesNationales => "archives-nationales",
            ServiceKind::Notaire => "notaire",
            ServiceKind::PubliciteFonciere => "publicite-fonciere",
            ServiceKind::Tribunal => "tribunal",
            ServiceKind::Udap => "udap",
            ServiceKind::Autre => "autre",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What people call it, in French (`Archives départementales`).
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Mairie => "Mairie",
            ServiceKind::Urbanisme => "Service d'urbanisme",
            ServiceKind::Epci => "Intercommunalité",
            ServiceKind::ArchivesMunicipales => "Archives municipales",
            ServiceKind::ArchivesIntercommunales => "Archives intercommunales",
            ServiceKind::ArchivesDepartementales => "Archives départementales",
            ServiceKind::ArchivesNationales => "Archives nationales",
            ServiceKind::Notaire => "Notaire",
            ServiceKind::PubliciteFonciere => "Service de publicité foncière",
            ServiceKind::Tribunal => "Tribunal",
            ServiceKind::Udap => "Unité départementale de l'architecture et du patrimoine",
            ServiceKind::Autre => "Autre service",
        }
    }

    /// The list of accepted values, for error messages.
    pub fn accepted() -> String {
        Self::ALL.map(|k| k.as_str()).join(", ")
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body that holds documents or handles requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub id: Slug,
    pub name: String,
    pub kind: ServiceKind,
    /// The commune where it sits; for a `mairie`, the commune it serves.
    pub commune: Option<InseeCode>,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub request_url: Option<String>,
    pub opening_hours: Option<String>,
    pub response_time: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The service's identifier in the Annuaire de l'administration.
    pub annuaire_id: Option<String>,
    /// Its identifier in the FranceArchives directory of archive services.
    #[serde(default)]
    pub francearchives_id: Option<String>,
    /// Its page on FranceArchives.
    #[serde(default)]
    pub francearchives_url: Option<String>,
    /// A search in its own online inventories, with `{commune}`, `{annee}`
    /// and `{document}` placeholders (see [`crate::search_link`]).
    #[serde(default)]
    pub search_url: Option<String>,
    pub verified_at: Option<NaiveDate>,
    /// The territories it is competent for: a rule's `@<kind>` holder
    /// resolves, for a commune, to the service of that kind competent for
    /// it (the most specific territory wins). Empty for a `mairie` means its
    /// own commune.
    #[serde(default)]
    pub competence: Vec<Territory>,
}

impl Service {
    /// A service with only the required fields set.
    pub fn new(id: Slug, name: impl Into<String>, kind: ServiceKind) -> Self {
        Service {
            id,
            name: name.into(),
            kind,
            commune: None,
            address: None,
            postal_code: None,
            city: None,
            phone: None,
            email: None,
            website: None,
            request_url: None,
            opening_hours: None,
            response_time: None,
            latitude: None,
            longitude: None,
            annuaire_id: None,
            francearchives_id: None,
            francearchives_url: None,
            search_url: None,
            verified_at: None,
            competence: Vec::new(),
        }
    }

    /// The territories it is competent for, with a town hall's default: its
    /// own commune.
    pub fn competence_area(&self) -> Vec<Territory> {
        match (self.competence.is_empty(), self.kind, self.commune) {
            (true, ServiceKind::Mairie, Some(c)) => vec![Territory::Commune(c)],
            _ => self.competence.clone(),
        }
    }
}

/// Parses a competence list, `departement:35|epci:243500139` (also `,` or
/// `;` between items); each item as `Territory::parse` reads it.
pub fn parse_competence(s: &str) -> Result<Vec<Territory>, TerritoryError> {
    let mut out: Vec<Territory> = Vec::new();
    for item in s
        .split(['|', ',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let t = Territory::parse(item)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Writes a competence list as `parse_competence` reads it.
pub fn format_competence(ts: &[Territory]) -> String {
    ts.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("|")
}

/// Two services of one kind competent for the same territory: `@<kind>`
/// could not tell which one holds. Returns `(kind, territory, first,
/// second)` for each clash, `first` coming earlier in `services`. A
/// service competent for a commune and another for its département do not
/// clash: the more specific one answers for that commune.
pub fn competence_clashes(services: &[&Service]) -> Vec<(ServiceKind, Territory, usize, usize)> {
    let mut seen: std::collections::HashMap<(ServiceKind, Territory), usize> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        for t in s.competence_area() {
            match seen.entry((s.kind, t)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (kind, t) = e.key().clone();
                    out.push((kind, t, *e.get(), i));
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
    }
    out
}

/// The area a holding rule applies to, from most to least specific.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Territory {
    Commune(InseeCode),
    Epci(Siren),
    Departement(DeptCode),
    France,
}

impl Territory {
    /// Parses `commune:<INSEE>`, `epci:<SIREN>`, `departement:<code>` or `france`.
    pub fn parse(s: &str) -> Result<Self, TerritoryError> {
        let s = s.trim();
        if s == "france" {
            return Ok(Territory::France);
        }
        let Some((kind, code)) = s.split_once(':') else {
            return Err(TerritoryError::Syntax(s.to_owned()));
        };
        match kind {
            "commune" => Ok(Territory::Commune(InseeCode::parse(code)?)),
            "epci" => Ok(Territory::Epci(Siren::parse(code)?)),
            "departement" => Ok(Territory::Departement(DeptCode::parse(code)?)),
            _ => Err(TerritoryError::Syntax(s.to_owned())),
        }
    }

    /// Rank of specificity: 0 is the most specific level.
    pub fn level(&self) -> u8 {
        match self {
            Territory::Commune(_) => 1,
            Territory::Epci(_) => 2,
            Territory::Departement(_) => 3,
            Territory::France => 4,
        }
    }
}

impl fmt::Display for Territory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Territory::Commune(c) => write!(f, "commune:{c}"),
            Territory::Epci(s) => write!(f, "epci:{s}"),
            Territory::Departement(d) => write!(f, "departement:{d}"),
            Territory::France => f.write_str("france"),
        }
    }
}

impl Serialize for Territory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for Territory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Territory::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a territory was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerritoryError {
    #[error(
        "« {0} » n'est pas un territoire : écrivez commune:<code INSEE>, epci:<SIREN>, departement:<code> ou france"
    )]
    Syntax(String),
    #[error(transparent)]
    Code(#[from] CodeError),
}

/// "deux services … compétents pour …" naming both.
pub fn clash_message(kind: ServiceKind, t: &Territory, a: &Slug, b: &Slug) -> String {
    format!(
        "deux services de type « {kind} » seraient compétents pour {t} (« {a} » et « {b} ») : \
         un seul peut l'être pour un même territoire ; retirez ce territoire de la compétence de l'un \
         des deux, ou donnez-lui un territoire plus précis"
    )
}

/// One end of a holding rule's period, as written by its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// An exact day.
    Date(NaiveDate),
    /// A bare year: 1 January as a start, 31 December as an end.
    Year(i32),
    /// A rolling bound, `-75y`: documents reach this holder when they are
    /// that many years old. As an end it is the day exactly that many years
    /// before today; as a start, the day after, so that `to = -75y` and
    /// `from = -75y` share the timeline without overlap.
    YearsAgo(u32),
}

/// Why a bound was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    #[error("« {0} » n'est pas une date : écrivez AAAA-MM-JJ, AAAA, ou -Ny (par exemple -75y)")]
    Syntax(String),
    #[error("« {0} » n'existe pas dans le calendrier")]
    NoSuchDay(String),
}

impl Bound {
    /// Parses `YYYY-MM-DD`, `YYYY` or `-Ny`. Returns the bound and whether a
    /// spreadsheet's `DD/MM/YYYY` had to be read (a warning for the importer).
    pub fn parse(s: &str) -> Result<(Bound, bool), BoundError> {
        let t = s.trim();
        if let Some(n) = t.strip_prefix('-').and_then(|r| r.strip_suffix('y')) {
            return n
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 1000)
                .map(|n| (Bound::YearsAgo(n), false))
                .ok_or_else(|| BoundError::Syntax(t.to_owned()));
        }
        if t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit()) {
            let y: i32 = t.parse().map_err(|_| BoundError::Syntax(t.to_owned()))?;
            return Ok((Bound::Year(y), false));
        }
        if let Some(d) = parse_iso_date(t)? {
            return Ok((Bound::Date(d), false));
        }
        if let Some(d) = parse_french_date(t)? {
            return Ok((Bound::Date(d), true));
        }
        Err(BoundError::Syntax(t.to_owned()))
    }

    /// The first day covered when this bound starts a period.
    pub fn start(self, today: NaiveDate) -> NaiveDate {
        match self {
            Bound::Date(d) => d,
            Bound::Year(y) => ymd(y, 1, 1),
            Bound::YearsAgo(n) => years_before(today, n).succ_opt().unwrap_or(NaiveDate::MAX),
        }
    }

    /// The last day covered when this bound ends a period.
    pub fn end(self, today: NaiveDate) -> NaiveDate {
        match self {
            Bound::Date(d) => d,
            Bound::Year(y) => ymd(y, 12, 31),
            Bound::YearsAgo(n) => years_before(today, n),
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Bound::Year(y) => write!(f, "{y:04}"),
            Bound::YearsAgo(n) => write!(f, "-{n}y"),
        }
    }
}

/// A day, clamped into chrono's range (years in files are four digits).
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(if y < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// `today` minus `n` years (29 February becomes 28 February).
pub fn years_before(today: NaiveDate, n: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(n.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN)
}

/// Parses `YYYY-MM-DD`; `Ok(None)` when the text has another shape.
pub fn parse_iso_date(t: &str) -> Result<Option<NaiveDate>, BoundError> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Ok(None);
    }
    let (y, m, d) = (&t[0..4], &t[5..7], &t[8..10]);
    if ![y, m, d]
        .iter()
        .all(|p| p.bytes().all(|c| c.is_ascii_digit()))
    {
        return Ok(None);
    }
    let day = NaiveDate::from_ymd_opt(
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    day.map(Some)
        .ok_or_else(|| BoundError::NoSuchDay(t.to_owned()))
}

/// Parses Excel's French `DD/MM/YYYY` (also `D/M/YYYY`); `Ok(None)` otherwise.
pub fn parse_french_date(t: &str) -> Result<Option<NaiveDate>, BoundError> {
    let parts: Vec<&str> = t.split('/').collect();
    if parts.len() != 3
        || parts[2].len() != 4
        || !(1..=2).contains(&parts[0].len())
        || !(1..=2).contains(&parts[1].len())
        || !parts.iter().all(|p| p.bytes().all(|c| c.is_ascii_digit()))
    {
        return Ok(None);
    }
    let day = NaiveDate::from_ymd_opt(
        parts[2].parse().unwrap_or(0),
        parts[1].parse().unwrap_or(0),
        parts[0].parse().unwrap_or(0),
    );
    day.map(Some)
        .ok_or_else(|| BoundError::NoSuchDay(t.to_owned()))
}

/// Parses a plain `YYYY-MM-DD` or `DD/MM/YYYY` day (for `verified_at`).
/// Returns the day and whether the French form was used.
pub fn parse_day(t: &str) -> Result<(NaiveDate, bool), BoundError> {
    let t = t.trim();
    if let Some(d) = parse_iso_date(t)? {
        return Ok((d, false));
    }
    if let Some(d) = parse_french_date(t)? {
        return Ok((d, true));
    }
    Err(BoundError::Syntax(t.to_owned()))
}

/// Who holds the documents: a named service; "the service of this kind
/// competent for the commune asked about" (`@mairie`,
/// `@archives-departementales`…); or nobody that can be named for every
/// commune (`@inconnu`, the rule's instructions saying why).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServiceRef {
    Id(Slug),
    Competent(ServiceKind),
    Unstated,
}

impl ServiceRef {
    pub const TOWN_HALL: &'static str = "@mairie";
    pub const UNSTATED: &'static str = "@inconnu";
    /// `@mairie`, as a value.
    pub const TOWN_HALL_REF: ServiceRef = ServiceRef::Competent(ServiceKind::Mairie);

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if s == Self::UNSTATED {
            return Ok(ServiceRef::Unstated);
        }
        if let Some(kind) = s.strip_prefix('@') {
            return ServiceKind::parse(kind)
                .map(ServiceRef::Competent)
                .ok_or_else(|| CodeError::HolderKind(s.to_owned()));
        }
        Slug::parse(s).map(ServiceRef::Id)
    }
}

impl fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceRef::Id(s) => f.write_str(s.as_str()),
            ServiceRef::Competent(k) => write!(f, "@{}", k.as_str()),
            ServiceRef::Unstated => f.write_str(Self::UNSTATED),
        }
    }
}

/// "Service S holds documents of type D for territory T over this period."
#[derive(Debug, Clone, PartialEq)]
pub struct HoldingRule {
    pub document_type: Slug,
    pub territory: Territory,
    pub from: Option<Bound>,
    pub to: Option<Bound>,
    pub service: ServiceRef,
    pub instructions: Option<String>,
    pub source: Option<String>,
    pub verified_at: Option<NaiveDate>,
}

impl HoldingRule {
    /// The rule's key: at most one rule per document type, territory and start.
    pub fn key(&self) -> (Slug, Territory, Option<Bound>) {
        (
            self.document_type.clone(),
            self.territory.clone(),
            self.from,
        )
    }

    /// The first day covered, `None` when open towards the past.
    pub fn start(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.from.map(|b| b.start(today))
    }

    /// The last day covered, `None` when open towards the future.
    pub fn end(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.to.map(|b| b.end(today))
    }

    /// Whether the period is empty (ends before it starts) as of `today`.
    pub fn is_empty_period(&self, today: NaiveDate) -> bool {
        matches!((self.start(today), self.end(today)), (Some(s), Some(e)) if e < s)
    }

    /// Whether the two rules' periods share at least one day as of `today`.
    pub fn overlaps(&self, other: &HoldingRule, today: NaiveDate) -> bool {
        let s1 = self.start(today).unwrap_or(NaiveDate::MIN);
        let e1 = self.end(today).unwrap_or(NaiveDate::MAX);
        let s2 = other.start(today).unwrap_or(NaiveDate::MIN);
        let e2 = other.end(today).unwrap_or(NaiveDate::MAX);
        s1 <= e2 && s2 <= e1
    }
}

/// The year of a day, as used by communicability (delays run from the end
/// of the document's year).
pub fn year_of(d: NaiveDate) -> i32 {
    d.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn bounds_parse_and_resolve() {
        let today = d("2026-11-23");
        assert_eq!(Bound::parse("2015").unwrap(), (Bound::Year(2015), false));
        assert_eq!(
            Bound::parse("2015-06-30").unwrap(),
            (Bound::Date(d("2015-06-30")), false)
        );
        assert_eq!(
            Bound::parse("30/06/2015").unwrap(),
            (Bound::Date(d("2015-06-30")), true)
        );
        assert_eq!(Bound::parse("-75y").unwrap(), (Bound::YearsAgo(75), false));
        assert!(matches!(
            Bound::parse("2015-02-30"),
            Err(BoundError::NoSuchDay(_))
        ));
        assert!(matches!(
            Bound::parse("30/02/2015"),
            Err(BoundError::NoSuchDay(_))
        ));
        for bad in ["", "19850", "-3", "2015-6-30", "hier", "-y", "-75"] {
            assert!(Bound::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Bound::Year(2015).start(today), d("2015-01-01"));
        assert_eq!(Bound::Year(2015).end(today), d("2015-12-31"));
        assert_eq!(Bound::YearsAgo(75).end(today), d("1951-11-23"));
        assert_eq!(Bound::YearsAgo(75).start(today), d("1951-11-24"));
        // 29 February falls back to the 28th.
        assert_eq!(Bound::YearsAgo(1).end(d("2024-02-29")), d("2023-02-28"));
    }

    #[test]
    fn territories_round_trip() {
        for t in [
            "commune:35238",
            "commune:2A004",
            "epci:243500139",
            "departement:35",
            "france",
        ] {
            assert_eq!(Territory::parse(t).unwrap().to_string(), t);
        }
        for bad in [
            "",
            "commune:",
            "commune:352",
            "region:53",
            "France",
            "epci:12",
        ] {
            assert!(Territory::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn holders_by_kind_parse_and_print() {
        for t in [
            "@mairie",
            "@archives-departementales",
            "@notaire",
            "@inconnu",
            "ad35",
        ] {
            assert_eq!(ServiceRef::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(
            ServiceRef::parse("@publicite-fonciere").unwrap(),
            ServiceRef::Competent(ServiceKind::PubliciteFonciere)
        );
        assert_eq!(
            ServiceRef::parse("@mairie").unwrap(),
            ServiceRef::TOWN_HALL_REF
        );
        let e = ServiceRef::parse("@chateau").unwrap_err().to_string();
        assert!(e.starts_with("« @chateau » n'est pas un détenteur"), "{e}");
        assert!(e.contains("archives-departementales"), "{e}");
    }

    #[test]
    fn competence_lists_parse_and_print() {
        let c = parse_competence(" departement:35 | epci:243500139|commune:35238|departement:35")
            .unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            format_competence(&c),
            "departement:35|epci:243500139|commune:35238"
        );
        assert!(parse_competence("").unwrap().is_empty());
        assert!(parse_competence("region:53").is_err());
    }
}
