//! The guide runner never panics, whatever the query string, and what it
//! keeps walks to the same place.

use locadocs_core::guide::{Answers, GuideEnv, parse, run};
use proptest::prelude::*;

const GUIDES: [&str; 4] = [
    include_str!("../../../demo/guides/immobilier.toml"),
    include_str!("../../../demo/guides/etat-civil.toml"),
    include_str!("../../../demo/guides/divorce.toml"),
    include_str!("../../../demo/guides/travaux-site-protege.toml"),
];

struct Env;

impl GuideEnv for Env {
    fn document_type_known(&self, slug: &str) -> bool {
        [
            "cadastre",
            "acte-notarie",
            "jugement-de-divorce",
            "acte-de-naissance",
            "conseil-abf",
        ]
        .contains(&slug)
    }
    fn commune_known(&self, code: &str) -> bool {
        code.starts_with("35")
    }
    fn current_year(&self) -> Option<i32> {
        Some(2025)
    }
}

/// Names the guides use, and some noise.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "savoir",
            "document",
            "besoin",
            "urbanisme",
            "commune",
            "year",
            "document_type",
            "acte",
            "delais",
            "a-savoir",
            "procedure",
            "ex-epoux",
            "copie-ex-epoux",
            "lang",
            "site",
            "theme",
            "color",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

/// Values the guides accept, and some noise.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "oui",
            "non",
            "inconnu",
            "ok",
            "plans",
            "limites",
            "autre",
            "cadastre",
            "35238",
            "35000",
            "2a004",
            "1985",
            "19850",
            "-3",
            "0",
            "juge",
            "notaire",
            "naissance",
            "",
        ])
        .prop_map(str::to_owned),
        ".{0,30}",
        "[0-9]{1,6}",
        Just("x".repeat(10_000)),
    ]
}

proptest! {
    #[test]
    fn run_never_panics(
        g in 0..GUIDES.len(),
        pairs in prop::collection::vec((name(), value()), 0..25),
        raw in ".{0,200}",
    ) {
        let guide = parse(GUIDES[g]).unwrap();
        let answers = Answers::from_pairs(pairs);
        let walk = run(&guide, &answers, &Env);
        // What was kept leads to the same step, with the same path.
        let again = run(&guide, &walk.kept, &Env);
        prop_assert_eq!(again.current.step().id.as_str(), walk.current.step().id.as_str());
        prop_assert_eq!(again.path.len(), walk.path.len());
        prop_assert!(again.error.is_none() || walk.error.is_some());
        // Every "change" link leads back to its step.
        for (i, answered) in walk.path.iter().enumerate() {
            let back = run(&guide, &Answers::parse_query(&walk.query_for(i)), &Env);
            prop_assert_eq!(back.current.step().id.as_str(), answered.step.id.as_str());
        }
        // Raw query strings too.
        let _ = run(&guide, &Answers::parse_query(&raw), &Env);
        let _ = Answers::parse_query(&walk.kept.to_query());
    }
}
