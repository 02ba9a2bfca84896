//! Building the snapshot of the full national data: all communes and EPCI
//! from the installed COG package, their search index, and about 105,000
//! generated holding rules (three per current commune).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use locadocs_core::cog;
use locadocs_core::snapshot::Geo;
use locadocs_core::{
    Bound, CommuneKind, DocumentType, HoldingRule, RefData, Service, ServiceKind, ServiceRef, Slug,
    Snapshot, Territories, Territory,
};

fn cog_dir() -> std::path::PathBuf {
    std::env::var_os("LOCADOCS_COG_DIR")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../node_modules/@etalab/decoupage-administratif/data")
        })
}

fn generated(territories: &Territories) -> RefData {
    let doc = DocumentType {
        slug: Slug::parse("permis-de-construire").unwrap(),
        label: "Permis de construire".into(),
        theme: None,
        aliases: vec![],
        description: None,
        communicability_years: 0,
        communicability_note: None,
    };
    let services: Vec<Service> = (0..3)
        .map(|i| {
            Service::new(
                Slug::parse(&format!("service-{i}")).unwrap(),
                format!("Service {i}"),
                ServiceKind::Autre,
            )
        })
        .collect();
    let mut holdings = Vec::new();
    for c in territories
        .communes()
        .iter()
        .filter(|c| c.kind == CommuneKind::Current)
    {
        for (i, (from, to)) in [
            ("1900", Some("1949")),
            ("1950", Some("1999-06-30")),
            ("1999-07-01", None),
        ]
        .into_iter()
        .enumerate()
        {
            holdings.push(HoldingRule {
                document_type: doc.slug.clone(),
                territory: Territory::Commune(c.code),
                from: Some(Bound::parse(from).unwrap().0),
                to: to.map(|t| Bound::parse(t).unwrap().0),
                service: ServiceRef::Id(services[i].id.clone()),
                instructions: None,
                source: None,
                verified_at: None,
            });
        }
    }
    RefData {
        document_types: vec![doc],
        services,
        holdings,
        guides: Vec::new(),
        sites: Vec::new(),
        requests: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let dir = cog_dir();
    let read = |f: &str| {
        std::fs::read(dir.join(f))
            .unwrap_or_else(|e| panic!("{}: {e} (run npm ci --ignore-scripts)", dir.display()))
    };
    let data = cog::parse(
        &read("communes.json"),
        &read("epci.json"),
        &read("departements.json"),
        &read("regions.json"),
    )
    .unwrap();
    let territories = Territories::new(
        data.communes.clone(),
        data.epcis.clone(),
        data.departements.clone(),
        data.regions.clone(),
    );
    let refdata = generated(&territories);
    let rules = refdata.holdings.len();

    // One cold build, the way a server starts: territories, search index, rules.
    let started = Instant::now();
    let geo = Arc::new(Geo::new(Territories::new(
        data.communes.clone(),
        data.epcis.clone(),
        data.departements.clone(),
        data.regions.clone(),
    )));
    let snap = Snapshot::build(1, geo.clone(), refdata.clone());
    println!(
        "cold snapshot build: {:.0} ms for {} communes, {} EPCI, {} rules",
        started.elapsed().as_secs_f64() * 1000.0,
        snap.territories().commune_count(),
        snap.territories().epcis().count(),
        rules
    );

    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.bench_function("full build (territories + search index + rules)", |b| {
        b.iter(|| {
            let geo = Arc::new(Geo::new(Territories::new(
                data.communes.clone(),
                data.epcis.clone(),
                data.departements.clone(),
                data.regions.clone(),
            )));
            black_box(Snapshot::build(1, geo, refdata.clone()))
        })
    });
    group.bench_function("rules only (after a back-office save)", |b| {
        b.iter(|| black_box(Snapshot::build(2, geo.clone(), refdata.clone())))
    });
    group.finish();

    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    c.bench_function("locate (Rennes, 1985)", |b| {
        b.iter(|| {
            black_box(
                snap.locate(
                    "permis-de-construire",
                    "35238",
                    locadocs_core::locate::When::Year(1985),
                    today,
                )
                .unwrap()
                .matches
                .len(),
            )
        })
    });
}

/// The generated rules plus national rules naming holders by kind, one
/// departmental archives service per département (competent for it) and a
/// town hall per current commune (about 35,000 competence entries).
fn with_competence(territories: &Territories, mut data: RefData) -> RefData {
    let doc = data.document_types[0].slug.clone();
    // The 101 départements (overseas collectivities have no département code).
    for d in territories.departements() {
        let Ok(t) = Territory::parse(&format!("departement:{}", d.code)) else {
            continue;
        };
        let mut s = Service::new(
            Slug::parse(&format!("ad-{}", d.code.to_lowercase())).unwrap(),
            format!("Archives départementales {}", d.name),
            ServiceKind::ArchivesDepartementales,
        );
        s.competence = vec![t];
        data.services.push(s);
    }
    for c in territories
        .communes()
        .iter()
        .filter(|c| c.kind == CommuneKind::Current)
    {
        let mut s = Service::new(
            Slug::parse(&format!("mairie-{}", c.code.as_str().to_lowercase())).unwrap(),
            format!("Mairie {}", c.name),
            ServiceKind::Mairie,
        );
        s.competence = vec![Territory::Commune(c.code)];
        data.services.push(s);
    }
    for (from, to, holder) in [
        (None, Some("1942"), "@inconnu"),
        (Some("1943"), Some("1983"), "@archives-departementales"),
        (Some("1984"), None, "@mairie"),
    ] {
        data.holdings.push(HoldingRule {
            document_type: doc.clone(),
            territory: Territory::France,
            from: from.map(|f| Bound::parse(f).unwrap().0),
            to: to.map(|t| Bound::parse(t).unwrap().0),
            service: ServiceRef::parse(holder).unwrap(),
            instructions: Some("Raison.".into()),
            source: Some("Source.".into()),
            verified_at: None,
        });
    }
    data
}

fn bench_competence(c: &mut Criterion) {
    let dir = cog_dir();
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let data = cog::parse(
        &read("communes.json"),
        &read("epci.json"),
        &read("departements.json"),
        &read("regions.json"),
    )
    .unwrap();
    let territories = Territories::new(data.communes, data.epcis, data.departements, data.regions);
    let refdata = with_competence(&territories, generated(&territories));
    let competence: usize = refdata.services.iter().map(|s| s.competence.len()).sum();
    let geo = Arc::new(Geo::new(territories));
    let started = Instant::now();
    let snap = Snapshot::build(1, geo.clone(), refdata.clone());
    println!(
        "rules-only snapshot build with competence: {:.0} ms for {} services, {} competence entries, {} rules",
        started.elapsed().as_secs_f64() * 1000.0,
        refdata.services.len(),
        competence,
        refdata.holdings.len()
    );
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut group = c.benchmark_group("competence");
    group.sample_size(10);
    group.bench_function("rules only, with 35,000 competence entries", |b| {
        b.iter(|| black_box(Snapshot::build(2, geo.clone(), refdata.clone())))
    });
    group.finish();
    // Saint-Malo: no commune rule; the national rules resolve per commune.
    c.bench_function("locate by kind (Saint-Malo, all dates)", |b| {
        b.iter(|| {
            black_box(
                snap.locate(
                    "permis-de-construire",
                    "35288",
                    locadocs_core::locate::When::Unknown,
                    today,
                )
                .unwrap()
                .matches
                .len(),
            )
        })
    });
}

criterion_group!(benches, bench, bench_competence);
criterion_main!(benches);
