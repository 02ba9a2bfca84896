//! Properties of the CSV formats: reading never panics, and writing then
//! reading valid rows gives them back unchanged.

use chrono::{Days, NaiveDate};
use locadocs_core::formats::{
    FORMULA_TRIGGERS, ImportContext, Rejected, escape_cell, plan_document_types, plan_holdings,
    plan_services, read_document_types, read_holdings, read_services, unescape_cell,
    write_document_types, write_holdings, write_services,
};
use locadocs_core::{
    Bound, DeptCode, DocumentType, HoldingRule, InseeCode, Service, ServiceKind, ServiceRef, Siren,
    Slug, Territory,
};
use proptest::prelude::*;

struct Everything;

impl ImportContext for Everything {
    fn commune_known(&self, _: InseeCode) -> bool {
        true
    }
    fn epci_known(&self, _: &Siren) -> bool {
        true
    }
    fn departement_known(&self, _: &DeptCode) -> bool {
        true
    }
    fn document_type_known(&self, _: &Slug) -> bool {
        true
    }
    fn service_known(&self, _: &Slug) -> bool {
        true
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Every issue points at a line of the file (or at the file itself).
fn lines_are_plausible(bytes: &[u8], r: &Result<impl Sized, Rejected>) {
    let breaks = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    let lines = 2 + breaks as u64;
    if let Err(rejected) = r {
        assert!(!rejected.errors.is_empty());
        for i in rejected.errors.iter().chain(&rejected.warnings) {
            assert!(i.line.is_none_or(|l| (1..=lines).contains(&l)), "{i}");
        }
    }
}

fn read_all(bytes: &[u8]) {
    let r = read_document_types(bytes);
    lines_are_plausible(bytes, &r);
    let r = read_services(bytes, &Everything);
    lines_are_plausible(bytes, &r);
    let r = read_holdings(bytes, &Everything, today());
    lines_are_plausible(bytes, &r);
}

// ---- Strategies for valid rows ----

fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?"
}

/// Free text as it survives reading: trimmed, non-empty, with delimiters,
/// quotes, line breaks and accents, often starting like a spreadsheet
/// formula (`=`, `+`, `-`, `@`), sometimes after `'`.
fn text() -> impl Strategy<Value = String> {
    "('{0,2}[=+@-])?[a-zA-Z0-9éèàçÉŒ ;,\"'|\n\r\t:/@=+-]{1,24}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("blank", |s| !s.is_empty())
}

/// Any text, but often starting with quotes and formula triggers.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        ("'{0,3}[=+@\t\r-]{0,2}", any::<String>()).prop_map(|(a, b)| a + &b),
        "['=+@\t\r -]{0,6}[a-z]{0,2}",
    ]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (0u64..80_000).prop_map(|d| NaiveDate::from_ymd_opt(1850, 1, 1).unwrap() + Days::new(d))
}

fn insee() -> impl Strategy<Value = InseeCode> {
    prop_oneof!["[0-9]{5}", "2[AB][0-9]{3}"].prop_map(|s| InseeCode::parse(&s).unwrap())
}

fn document_type() -> impl Strategy<Value = DocumentType> {
    (
        slug(),
        text(),
        opt_text(),
        prop::collection::vec(text().prop_map(|a| a.replace('|', "/")), 0..4),
        opt_text(),
        0u32..=200,
        opt_text(),
    )
        .prop_map(
            |(slug, label, theme, aliases, description, years, note)| DocumentType {
                slug: Slug::parse(&slug).unwrap(),
                label,
                theme,
                aliases: aliases
                    .into_iter()
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect(),
                description,
                communicability_years: years,
                communicability_note: note,
            },
        )
}

fn service() -> impl Strategy<Value = Service> {
    (
        (
            slug(),
            text(),
            prop::sample::select(ServiceKind::ALL.to_vec()),
        ),
        (
            prop::option::of(insee()),
            opt_text(),
            prop::option::of("[0-9]{5}"),
            opt_text(),
        ),
        (
            opt_text(),
            prop::option::of("[a-z0-9.]{1,8}@[a-z]{1,8}\\.(fr|gouv\\.fr|org)"),
            prop::option::of("https?://[a-z]{1,10}\\.fr(/[a-z0-9?=&;,]{0,12})?"),
            prop::option::of("https://[a-z]{1,10}\\.fr/[a-z]{0,5}"),
        ),
        (
            opt_text(),
            opt_text(),
            prop::option::of((-90.0f64..=90.0, -180.0f64..=180.0)),
        ),
        (opt_text(), prop::option::of(day())),
    )
        .prop_map(
            |(
                (id, name, kind),
                (commune, address, postal_code, city),
                (phone, email, website, request_url),
                (opening_hours, response_time, point),
                (annuaire_id, verified_at),
            )| Service {
                francearchives_id: annuaire_id.as_ref().map(|a| format!("FR{a}")),
                francearchives_url: website.clone(),
                search_url: website
                    .as_ref()
                    .map(|w| format!("{w}?q={{commune}}&a={{annee}}")),
                id: Slug::parse(&id).unwrap(),
                name,
                kind,
                commune,
                address,
                postal_code,
                city,
                phone,
                email,
                website,
                request_url,
                opening_hours,
                response_time,
                latitude: point.map(|p| p.0),
                longitude: point.map(|p| p.1),
                annuaire_id,
                verified_at,
                // Exercises the competence column, empty or not.
                competence: commune.iter().map(|c| Territory::Commune(*c)).collect(),
            },
        )
}

fn bound() -> impl Strategy<Value = Bound> {
    prop_oneof![
        day().prop_map(Bound::Date),
        (1000i32..=2999).prop_map(Bound::Year),
        (0u32..=1000).prop_map(Bound::YearsAgo),
    ]
}

fn territory() -> impl Strategy<Value = Territory> {
    prop_oneof![
        insee().prop_map(Territory::Commune),
        "[0-9]{9}".prop_map(|s| Territory::Epci(Siren::parse(&s).unwrap())),
        prop::sample::select(vec!["01", "35", "2A", "2B", "95", "971", "976"])
            .prop_map(|d| Territory::Departement(DeptCode::parse(d).unwrap())),
        Just(Territory::France),
    ]
}

fn holding() -> impl Strategy<Value = HoldingRule> {
    (
        (
            slug(),
            territory(),
            prop::option::of(bound()),
            prop::option::of(bound()),
        ),
        prop_oneof![
            slug().prop_map(|s| ServiceRef::Id(Slug::parse(&s).unwrap())),
            Just(ServiceRef::TOWN_HALL_REF),
        ],
        (opt_text(), opt_text(), prop::option::of(day())),
    )
        .prop_map(
            |((doc, territory, from, to), service, (instructions, source, verified_at))| {
                let mut r = HoldingRule {
                    document_type: Slug::parse(&doc).unwrap(),
                    territory,
                    from,
                    to,
                    service,
                    instructions,
                    source,
                    verified_at,
                };
                if r.is_empty_period(today()) {
                    r.to = None;
                }
                r
            },
        )
}

/// Makes keys unique by suffixing the slug with the row's index.
fn unique(slug: &Slug, i: usize) -> Slug {
    let s = slug.as_str();
    Slug::parse(&format!("{}-{i}", &s[..s.len().min(60)])).unwrap()
}

fn rows<T>(parsed: Vec<(u64, T)>) -> Vec<T> {
    parsed.into_iter().map(|(_, t)| t).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn unescape_undoes_escape(s in cell()) {
        let escaped = escape_cell(&s);
        prop_assert_eq!(unescape_cell(&escaped), s.as_str());
        prop_assert!(
            !escaped.starts_with(FORMULA_TRIGGERS),
            "{:?} is written {:?}", s, escaped
        );
        // A cell is changed only by one leading `'`.
        prop_assert!(escaped == s || escaped.strip_prefix('\'') == Some(s.as_str()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        read_all(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(
        header in prop::sample::select(vec![
            "slug;label;theme;aliases;description;communicability_years;communicability_note\n",
            "id,name,kind,commune,postal_code,email,website,latitude,longitude,verified_at\n",
            "document_type;territory;from;to;service;verified_at\n",
            "sep=;\r\nDocument_Type;Territory;Service\r\n",
            "",
        ]),
        body in "[a-z0-9 ;,\"\n\r:/@|.\u{e9}-]{0,300}",
    ) {
        let input = format!("{header}{body}");
        read_all(input.as_bytes());
    }

    #[test]
    fn document_types_round_trip(docs in prop::collection::vec(document_type(), 0..12)) {
        let docs: Vec<DocumentType> = docs
            .into_iter()
            .enumerate()
            .map(|(i, mut d)| { d.slug = unique(&d.slug, i); d })
            .collect();
        let bytes = write_document_types(&docs);
        let parsed = read_document_types(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let plan = plan_document_types(&docs, parsed.rows.clone(), true);
        prop_assert!(plan.is_noop());
        prop_assert_eq!(rows(parsed.rows), docs);
    }

    #[test]
    fn services_round_trip(services in prop::collection::vec(service(), 0..12)) {
        let services: Vec<Service> = services
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| { s.id = unique(&s.id, i); s })
            .collect();
        let bytes = write_services(&services);
        let parsed = read_services(&bytes, &Everything).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let plan = plan_services(&services, parsed.rows.clone(), true);
        prop_assert!(plan.is_noop());
        prop_assert_eq!(rows(parsed.rows), services);
    }

    #[test]
    fn holdings_round_trip(rules in prop::collection::vec(holding(), 0..12)) {
        // One document type per rule: no duplicate keys, no overlaps.
        let rules: Vec<HoldingRule> = rules
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| { r.document_type = unique(&r.document_type, i); r })
            .collect();
        let bytes = write_holdings(&rules);
        let parsed = read_holdings(&bytes, &Everything, today()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let plan = plan_holdings(&rules, parsed.rows.clone(), true, today()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(plan.is_noop());
        prop_assert_eq!(rows(parsed.rows), rules);
    }
}
