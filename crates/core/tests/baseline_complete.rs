//! The national baseline (`data/baseline.csv`) gives every current commune
//! of the Code officiel géographique a complete answer for every document
//! type asked without a date: each period held by a named holder or
//! explicitly left without one, with a reason and a source. Checked on the
//! full COG, as packaged by `@etalab/decoupage-administratif` (installed by
//! `npm ci --ignore-scripts` at the workspace root, or `$LOCADOCS_COG_DIR`).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use locadocs_core::codes::{DeptCode, InseeCode, Siren, Slug};
use locadocs_core::formats::{ImportContext, read_document_types, read_holdings};
use locadocs_core::locate::When;
use locadocs_core::snapshot::{Geo, Holder};
use locadocs_core::{RefData, ServiceKind, ServiceRef, Snapshot, Territories, Territory};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cog_dir() -> PathBuf {
    match std::env::var_os("LOCADOCS_COG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => root().join("node_modules/@etalab/decoupage-administratif/data"),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

struct Ctx<'a>(&'a Territories);

impl ImportContext for Ctx<'_> {
    fn commune_known(&self, code: InseeCode) -> bool {
        self.0.knows(code)
    }
    fn epci_known(&self, siren: &Siren) -> bool {
        self.0.epci(siren).is_some()
    }
    fn departement_known(&self, code: &DeptCode) -> bool {
        self.0.departement(code.as_str()).is_some()
    }
    fn document_type_known(&self, _: &Slug) -> bool {
        true
    }
    fn service_known(&self, _: &Slug) -> bool {
        false
    }
}

fn baseline_snapshot() -> Snapshot {
    let dir = cog_dir();
    assert!(
        dir.join("communes.json").is_file(),
        "the COG data is missing from {}: run `npm ci --ignore-scripts` at the workspace root",
        dir.display()
    );
    let read = |name: &str| std::fs::read(dir.join(name)).expect("COG file");
    let cog = locadocs_core::cog::parse(
        &read("communes.json"),
        &read("epci.json"),
        &read("departements.json"),
        &read("regions.json"),
    )
    .expect("valid COG data");
    let territories = Territories::new(cog.communes, cog.epcis, cog.departements, cog.regions);
    let docs = std::fs::read(root().join("demo/document-types.csv")).unwrap();
    let document_types: Vec<_> = read_document_types(&docs)
        .unwrap_or_else(|e| panic!("{e}"))
        .rows
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    let bytes = std::fs::read(root().join("data/baseline.csv")).unwrap();
    // No service is known: the baseline names holders only by kind.
    let holdings: Vec<_> = read_holdings(&bytes, &Ctx(&territories), today())
        .unwrap_or_else(|e| panic!("{e}"))
        .rows
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    let data = RefData {
        document_types,
        holdings,
        ..RefData::default()
    };
    Snapshot::build(1, Arc::new(Geo::new(territories)), data)
}

#[test]
fn every_rule_of_the_baseline_is_national_and_sourced() {
    let snap = baseline_snapshot();
    assert!(!snap.holdings().is_empty());
    for h in snap.holdings() {
        assert_eq!(h.territory, Territory::France, "{h:?}");
        assert!(
            h.source.as_deref().is_some_and(|s| !s.trim().is_empty()),
            "no source: {h:?}"
        );
        assert!(
            !matches!(h.service, ServiceRef::Id(_)),
            "a national rule names a holder by kind: {h:?}"
        );
        if h.service == ServiceRef::Unstated {
            assert!(h.instructions.is_some(), "no reason: {h:?}");
        }
    }
}

#[test]
fn the_baseline_answers_every_commune_and_document_type_completely() {
    let snap = baseline_snapshot();
    let c = locadocs_core::coverage::coverage(&snap, None, today());
    assert!(c.communes > 34_000, "{} communes", c.communes);
    assert_eq!(c.by_document_type.len(), snap.document_types().len());
    let incomplete: Vec<_> = c
        .by_document_type
        .iter()
        .filter(|(_, q, ok)| q != ok)
        .collect();
    assert!(incomplete.is_empty(), "incomplete answers: {incomplete:?}");
    assert_eq!(c.complete, c.questions);
}

#[test]
fn holders_are_named_for_the_commune_in_correct_french() {
    let snap = baseline_snapshot();
    let name = |doc: &str, commune: &str, year: i32| -> Vec<String> {
        snap.locate(doc, commune, When::Year(year), today())
            .unwrap()
            .matches
            .iter()
            .map(|m| m.holder.name())
            .collect()
    };
    // Ambérieu-en-Bugey (Ain), Lyon (Rhône), Mont-de-Marsan (Landes),
    // Ajaccio (Corse-du-Sud), Le Havre (Seine-Maritime).
    assert_eq!(
        name("acte-notarie", "01004", 1900),
        ["Archives départementales de l'Ain"]
    );
    assert_eq!(
        name("registre-hypotheques", "69123", 1900),
        ["Archives départementales du Rhône"]
    );
    assert_eq!(
        name("acte-de-naissance", "40192", 1900),
        ["Archives départementales des Landes"]
    );
    assert_eq!(
        name("jugement-de-divorce", "2A004", 1960),
        ["Archives départementales de la Corse-du-Sud"]
    );
    assert_eq!(
        name("acte-de-naissance", "76351", 2000),
        ["Mairie du Havre"]
    );
    assert_eq!(
        name("acte-notarie", "76351", 2000),
        ["Le notaire qui a reçu l'acte, ou son successeur"]
    );
    assert_eq!(
        name("registre-hypotheques", "76351", 2000),
        ["Le service de publicité foncière dont dépend la commune"]
    );
    // No contact details are invented; a lead says how to find the holder.
    let a = snap
        .locate("acte-notarie", "01004", When::Year(1900), today())
        .unwrap();
    match a.matches[0].holder {
        Holder::Unknown { kind, .. } => assert_eq!(kind, ServiceKind::ArchivesDepartementales),
        Holder::Service(s) => panic!("no service is known, got {}", s.id),
    }
    assert!(
        a.matches[0]
            .holder
            .lead()
            .is_some_and(|l| l.contains("FranceArchives"))
    );
    // An explicitly uncovered period carries its reason.
    let a = snap
        .locate("dossier-scolaire", "01004", When::Unknown, today())
        .unwrap();
    assert!(a.matches.is_empty() && a.uncovered.is_empty());
    assert_eq!(a.unstated.len(), 1);
    assert!(
        a.unstated[0]
            .reason()
            .is_some_and(|r| r.contains("établissement"))
    );
}
