//! The `holdings` file.

use chrono::NaiveDate;

use super::ImportContext;
use super::fields::{self, optional, required};
use super::keys::report_duplicates;
use super::overlap::overlaps_within;
use super::report::{Parsed, Rejected, Report};
use super::table::{Row, Schema, read_table};
use super::write::{opt, write_table};
use crate::reference::{Bound, HoldingRule, ServiceRef};

pub(crate) const SCHEMA: Schema = Schema {
    columns: &[
        "document_type",
        "territory",
        "from",
        "to",
        "service",
        "instructions",
        "source",
        "verified_at",
    ],
    required: &["document_type", "territory", "service"],
};

const DOCUMENT_TYPE: usize = 0;
const TERRITORY: usize = 1;
const FROM: usize = 2;
const TO: usize = 3;
const SERVICE: usize = 4;
const INSTRUCTIONS: usize = 5;
const SOURCE: usize = 6;
const VERIFIED_AT: usize = 7;

/// `2015` or `-75y (2026-11-23 : 1951-11-23)`: the bound as written, and the
/// day it stands for when that is not obvious.
fn shown_bound(b: Bound, day: NaiveDate) -> String {
    match b {
        Bound::Date(_) => b.to_string(),
        _ => format!("{b}, soit le {}", day.format("%Y-%m-%d")),
    }
}

fn parse_row(
    row: &Row<'_>,
    report: &mut Report,
    ctx: &dyn ImportContext,
    today: NaiveDate,
) -> Option<HoldingRule> {
    let before = report.errors.len();
    let document_type = required(row, report, DOCUMENT_TYPE, fields::slug);
    if let Some(d) = &document_type
        && !ctx.document_type_known(d)
    {
        row.error(
            report,
            DOCUMENT_TYPE,
            format!("type de document « {d} » inconnu"),
        );
    }
    let territory = required(row, report, TERRITORY, fields::territory);
    let unknown = territory
        .as_ref()
        .and_then(|t| fields::unknown_territory(t, ctx));
    if let Some(message) = unknown {
        row.error(report, TERRITORY, message);
    }
    let from = optional(row, report, FROM, fields::bound);
    let to = optional(row, report, TO, fields::bound);
    let service = required(row, report, SERVICE, fields::service_ref);
    if let Some(ServiceRef::Id(id)) = &service
        && !ctx.service_known(id)
    {
        row.error(report, SERVICE, format!("service « {id} » inconnu"));
    }
    if service == Some(ServiceRef::Unstated) && row.text(INSTRUCTIONS).is_none() {
        row.error(
            report,
            INSTRUCTIONS,
            "obligatoire avec @inconnu : dites pourquoi aucun détenteur ne peut être nommé pour cette période",
        );
    }
    let verified_at = optional(row, report, VERIFIED_AT, fields::day);
    if report.errors.len() > before {
        return None;
    }
    let rule = HoldingRule {
        document_type: document_type?,
        territory: territory?,
        from,
        to,
        service: service?,
        instructions: row.text(INSTRUCTIONS),
        source: row.text(SOURCE),
        verified_at,
    };
    if let (Some(f), Some(t), true) = (from, to, rule.is_empty_period(today)) {
        report.error(
            row.line,
            None,
            format!(
                "période vide : le début (from = {}) est après la fin (to = {})",
                shown_bound(f, f.start(today)),
                shown_bound(t, t.end(today))
            ),
        );
        return None;
    }
    Some(rule)
}

/// Reports rules of the same document type and territory whose periods
/// overlap, except those already reported as duplicate keys.
fn report_overlaps(
    rows: &[(u64, HoldingRule)],
    skip: &[u64],
    report: &mut Report,
    today: NaiveDate,
) {
    let kept: Vec<&(u64, HoldingRule)> = rows
        .iter()
        .filter(|(line, _)| skip.binary_search(line).is_err())
        .collect();
    let rules: Vec<&HoldingRule> = kept.iter().map(|(_, r)| r).collect();
    for (i, j) in overlaps_within(&rules, today) {
        let (a, b) = (kept[i].0, kept[j].0);
        let (later, earlier) = if a > b { (a, b) } else { (b, a) };
        report.error(
            later,
            None,
            format!(
                "la période chevauche celle de la ligne {earlier} (même type de document et même territoire)"
            ),
        );
    }
}

/// Reads a `holdings` file, checking references against `ctx` and periods
/// as of `today` (for rolling `-Ny` bounds). See the module documentation
/// for the rules.
pub fn read_holdings(
    bytes: &[u8],
    ctx: &dyn ImportContext,
    today: NaiveDate,
) -> Result<Parsed<HoldingRule>, Rejected> {
    let mut report = Report::default();
    let Some(rows) = read_table(bytes, &SCHEMA, &mut report, |row, report| {
        parse_row(row, report, ctx, today)
    }) else {
        return Err(report.into_rejected());
    };
    let mut dups = report_duplicates(
        rows.iter().map(|(l, r)| (*l, r.key())),
        &mut report,
        |(d, t, f)| {
            format!(
                "document_type, territory, from : {d}, {t}, {}",
                f.map_or_else(|| "vide".to_owned(), |b| b.to_string())
            )
        },
    );
    dups.sort_unstable();
    report_overlaps(&rows, &dups, &mut report, today);
    report.finish(rows)
}

/// Writes holding rules in the canonical form (UTF-8 with BOM, `;`). Bounds
/// are written as they were given: `2015`, `2015-12-31` or `-75y`.
pub fn write_holdings(rows: &[HoldingRule]) -> Vec<u8> {
    write_table(SCHEMA.columns, rows.iter().map(cells))
}

/// A rule's cells, in the order of [`SCHEMA`].
fn cells(r: &HoldingRule) -> Vec<String> {
    vec![
        r.document_type.to_string(),
        r.territory.to_string(),
        opt(&r.from),
        opt(&r.to),
        r.service.to_string(),
        opt(&r.instructions),
        opt(&r.source),
        opt(&r.verified_at.map(|d| d.format("%Y-%m-%d"))),
    ]
}

/// Writes holding rules as open data: the canonical columns (so that the
/// file can be imported elsewhere as it is), then `holder_name`, the name
/// of the service a rule names by id (`name_of`), blank for `@<kind>` and
/// `@inconnu`. Every cell goes through the formula escaping.
pub fn write_holdings_open_data(
    rows: &[HoldingRule],
    name_of: impl Fn(&str) -> Option<String>,
) -> Vec<u8> {
    let mut columns: Vec<&str> = SCHEMA.columns.to_vec();
    columns.push("holder_name");
    write_table(
        &columns,
        rows.iter().map(|r| {
            let name = match &r.service {
                crate::reference::ServiceRef::Id(id) => name_of(id.as_str()),
                _ => None,
            };
            let mut row = cells(r);
            row.push(name.unwrap_or_default());
            row
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Slug;
    use crate::formats::tests::{Known, today};
    use crate::reference::Territory;

    fn read(input: &str) -> Result<Parsed<HoldingRule>, Rejected> {
        read_holdings(input.as_bytes(), &Known, today())
    }

    fn errors(input: &str) -> Vec<String> {
        read(input)
            .unwrap_err()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const HEADER: &str = "document_type;territory;from;to;service\n";

    #[test]
    fn reads_a_valid_file() {
        let input = "Service;Territory;To;From;Document_Type;Instructions;source;verified_at\n\
                     archives-rennes;commune:35238;2015-06-30;1908;permis-de-construire;\"Salle de lecture,\n2e étage\";délibération;2024-03-15\n\
                     @mairie;commune:35238;;2015-07-01;permis-de-construire;;;\n\
                     archives-35;departement:35;-75y;;etat-civil;;;\n\
                     @mairie;departement:35;;-75y;etat-civil;;;\n\
                     @mairie;epci:243500139;;;cadastre;;;\n\
                     ad-france;france;;;cadastre;;;\n";
        let parsed = read(input).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let lines: Vec<u64> = parsed.rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 4, 5, 6, 7, 8]);
        let r = &parsed.rows[0].1;
        assert_eq!(r.from, Some(Bound::Year(1908)));
        assert_eq!(
            r.to,
            Some(Bound::Date(NaiveDate::from_ymd_opt(2015, 6, 30).unwrap()))
        );
        assert_eq!(
            r.service,
            ServiceRef::Id(Slug::parse("archives-rennes").unwrap())
        );
        assert_eq!(
            r.instructions.as_deref(),
            Some("Salle de lecture,\n2e étage")
        );
        assert_eq!(parsed.rows[1].1.service, ServiceRef::TOWN_HALL_REF);
        assert_eq!(parsed.rows[2].1.to, Some(Bound::YearsAgo(75)));
        assert_eq!(parsed.rows[5].1.territory, Territory::France);
    }

    #[test]
    fn excel_habits_are_warnings() {
        let input = format!("{HEADER}pc;commune:1004;1/1/1908;30/06/2015;@mairie\n");
        let parsed = read(&input).unwrap();
        let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            vec![
                "ligne 2, colonne territory : code INSEE « 1004 » lu comme 01004 (zéro initial perdu par le tableur)",
                "ligne 2, colonne from : date « 1/1/1908 » lue comme 1908-01-01 : écrivez plutôt AAAA-MM-JJ",
                "ligne 2, colonne to : date « 30/06/2015 » lue comme 2015-06-30 : écrivez plutôt AAAA-MM-JJ",
            ]
        );
        assert_eq!(parsed.rows[0].1.territory.to_string(), "commune:01004");
    }

    #[test]
    fn every_field_is_validated() {
        let input = format!(
            "{HEADER}Permis;commune:352;2015-02-30;hier;archives rennes\n\
             inconnu;commune:99999;;;inconnu-service\n\
             pc;epci:999999999;;;@mairie\n\
             pc;departement:99;;;@mairie\n\
             pc;region:53;;;@mairie\n\
             ;;;;\n\
             ;;2015;;\n\
             pc;france;2016;2015-06-30;@mairie\n\
             pc;france;-10y;-20y;@mairie\n"
        );
        assert_eq!(
            errors(&input),
            vec![
                "ligne 2, colonne document_type : « Permis » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères)",
                "ligne 2, colonne territory : « 352 » n'est pas un code INSEE de commune (5 caractères, par exemple 35238 ou 2A004)",
                "ligne 2, colonne from : la date 2015-02-30 n'existe pas",
                "ligne 2, colonne to : « hier » n'est pas une date : écrivez AAAA-MM-JJ, AAAA, ou -Ny (par exemple -75y)",
                "ligne 2, colonne service : « archives rennes » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères) ou @mairie",
                "ligne 3, colonne document_type : type de document « inconnu » inconnu",
                "ligne 3, colonne territory : commune 99999 inconnue du Code officiel géographique",
                "ligne 3, colonne service : service « inconnu-service » inconnu",
                "ligne 4, colonne territory : EPCI 999999999 inconnu",
                "ligne 5, colonne territory : département 99 inconnu",
                "ligne 6, colonne territory : « region:53 » n'est pas un territoire : écrivez commune:<code INSEE>, epci:<SIREN>, departement:<code> ou france",
                "ligne 8, colonne document_type : valeur obligatoire manquante",
                "ligne 8, colonne territory : valeur obligatoire manquante",
                "ligne 8, colonne service : valeur obligatoire manquante",
                "ligne 9 : période vide : le début (from = 2016, soit le 2016-01-01) est après la fin (to = 2015-06-30)",
                "ligne 10 : période vide : le début (from = -10y, soit le 2016-11-24) est après la fin (to = -20y, soit le 2006-11-23)",
            ]
        );
    }

    #[test]
    fn duplicate_keys_and_overlaps_name_both_lines() {
        let input = format!(
            "{HEADER}pc;commune:35238;1908;2015-06-30;archives-rennes\n\
             pc;commune:35238;2015-07-01;;@mairie\n\
             pc;commune:35238;1908;1950;archives-rennes\n\
             pc;commune:35238;2020;;@mairie\n\
             pc;commune:35047;1908;;@mairie\n\
             ec;departement:35;;-75y;archives-35\n\
             ec;departement:35;-75y;;@mairie\n\
             ec;departement:35;-76y;;@mairie\n"
        );
        assert_eq!(
            errors(&input),
            vec![
                "ligne 4 : même clé que la ligne 2 (document_type, territory, from : pc, commune:35238, 1908)",
                "ligne 5 : la période chevauche celle de la ligne 3 (même type de document et même territoire)",
                "ligne 9 : la période chevauche celle de la ligne 8 (même type de document et même territoire)",
                "ligne 9 : la période chevauche celle de la ligne 7 (même type de document et même territoire)",
            ]
        );
    }

    #[test]
    fn a_hundred_thousand_bad_lines_give_a_hundred_thousand_errors() {
        let mut input = String::from(HEADER);
        for i in 0..100_000 {
            input.push_str(&format!("pc;commune:X{i};;;@mairie\n"));
        }
        let started = std::time::Instant::now();
        let rejected = read(&input).unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(rejected.errors.len(), 100_000);
        assert_eq!(
            rejected.errors[99_999].to_string(),
            "ligne 100001, colonne territory : « X99999 » n'est pas un code INSEE de commune (5 caractères, par exemple 35238 ou 2A004)"
        );
        // Generous, for unoptimised builds on a busy machine.
        assert!(elapsed.as_secs() < 20, "{elapsed:?}");
    }

    #[test]
    fn round_trip_keeps_bounds_as_written() {
        let input = format!(
            "{HEADER}pc;commune:35238;1908;2015-12-31;archives-rennes\n\
             pc;commune:35238;2016-01-01;2019;@mairie\n\
             ec;departement:35;;-75y;archives-35\n\
             ec;departement:35;-75y;;@mairie\n"
        );
        let rules: Vec<HoldingRule> = read(&input)
            .unwrap()
            .rows
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let bytes = write_holdings(&rules);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("pc;commune:35238;1908;2015-12-31;archives-rennes;;;\r\n"),
            "{text}"
        );
        // `-75y` and `@mairie` would be formulas in a spreadsheet: written
        // with a leading `'`, read back without it.
        assert!(
            text.contains("ec;departement:35;'-75y;;'@mairie;;;\r\n"),
            "{text}"
        );
        let back: Vec<HoldingRule> = read_holdings(&bytes, &Known, today())
            .unwrap()
            .rows
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(back, rules);
    }

    #[test]
    fn hand_written_and_exported_formula_cells_read_the_same() {
        let by_hand = format!(
            "{HEADER}ec;departement:35;-75y;;@mairie\n\
             pc;commune:35238;;-10y;archives-rennes\n"
        );
        let exported = format!(
            "{HEADER}'ec;departement:35;'-75y;;'@mairie\n\
             pc;commune:35238;;' -10y;archives-rennes\n"
        );
        let a: Vec<HoldingRule> = read(&by_hand)
            .unwrap()
            .rows
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(a[0].from, Some(Bound::YearsAgo(75)));
        assert_eq!(a[0].service, ServiceRef::TOWN_HALL_REF);
        assert_eq!(a[1].to, Some(Bound::YearsAgo(10)));
        // A `'` is removed only before formula-looking text: `'ec` and
        // `' -10y` keep it, and are refused as values.
        assert_eq!(
            errors(&exported),
            vec![
                "ligne 2, colonne document_type : « 'ec » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères)",
                "ligne 3, colonne to : « ' -10y » n'est pas une date : écrivez AAAA-MM-JJ, AAAA, ou -Ny (par exemple -75y)",
            ]
        );
        let exported = exported.replace("'ec", "ec").replace("' -10y", "'-10y");
        let b: Vec<HoldingRule> = read(&exported)
            .unwrap()
            .rows
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(a, b);
    }

    /// Run with `cargo test --release -p locadocs-core --lib -- --ignored
    /// --nocapture validating_100k`.
    #[test]
    #[ignore]
    fn validating_100k_holdings_timing() {
        let mut input = String::from("document_type;territory;from;to;service;source\n");
        for i in 0..25_000u32 {
            let commune = format!("{:05}", 10_000 + i);
            input.push_str(&format!("pc;commune:{commune};;1907;archives-35;x\n"));
            input.push_str(&format!(
                "pc;commune:{commune};1908;2015-06-30;archives-rennes;x\n"
            ));
            input.push_str(&format!("pc;commune:{commune};2015-07-01;;@mairie;x\n"));
            input.push_str(&format!("ec;commune:{commune};;-75y;archives-35;x\n"));
        }
        let started = std::time::Instant::now();
        let parsed = read(&input).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(parsed.rows.len(), 100_000);
        println!(
            "read and validated 100000 holdings ({} bytes) in {elapsed:?}",
            input.len()
        );

        let rules: Vec<HoldingRule> = parsed.rows.into_iter().map(|(_, r)| r).collect();
        let refs: Vec<&HoldingRule> = rules.iter().collect();
        let started = std::time::Instant::now();
        assert!(overlaps_within(&refs, today()).is_empty());
        println!("overlap check alone: {:?}", started.elapsed());

        // 75,000 existing rules stay; 25,000 new rules fill their gaps.
        let (incoming, existing): (Vec<_>, Vec<_>) =
            rules.into_iter().enumerate().partition(|(i, _)| i % 4 == 1);
        let existing: Vec<HoldingRule> = existing.into_iter().map(|(_, r)| r).collect();
        let incoming: Vec<(u64, HoldingRule)> = incoming
            .into_iter()
            .map(|(i, r)| (i as u64 + 2, r))
            .collect();
        let started = std::time::Instant::now();
        let plan = crate::formats::plan_holdings(&existing, incoming, false, today()).unwrap();
        assert_eq!(plan.add.len(), 25_000);
        println!(
            "plan of 25000 rules against 75000 existing: {:?}",
            started.elapsed()
        );
    }
}
