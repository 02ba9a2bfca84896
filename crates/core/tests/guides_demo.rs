//! The demo guides parse, validate against the demo document types, round
//! trip, and every document type they lead to can be found by its label.

use std::path::PathBuf;

use locadocs_core::guide::{
    Answers, Current, GuideEnv, branch_for_document, find_documents, parse, run, to_toml, validate,
};
use locadocs_core::{DocumentType, formats::read_document_types};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo_document_types() -> Vec<DocumentType> {
    let bytes = std::fs::read(root().join("demo/document-types.csv")).expect("demo file");
    match read_document_types(&bytes) {
        Ok(parsed) => parsed.rows.into_iter().map(|(_, d)| d).collect(),
        Err(e) => panic!("{e:?}"),
    }
}

fn demo_guides() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root().join("demo/guides"))
        .expect("demo/guides")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("guide");
            (p.display().to_string(), text)
        })
        .collect();
    out.sort();
    out
}

struct Demo(Vec<DocumentType>);

impl GuideEnv for Demo {
    fn document_type_known(&self, slug: &str) -> bool {
        self.0.iter().any(|d| d.slug.as_str() == slug)
    }
    fn commune_known(&self, code: &str) -> bool {
        code == "35238"
    }
}

#[test]
fn demo_guides_parse_validate_and_round_trip() {
    let docs = demo_document_types();
    let known = |slug: &str| docs.iter().any(|d| d.slug.as_str() == slug);
    let guides = demo_guides();
    let names: Vec<&str> = guides
        .iter()
        .filter_map(|(p, _)| p.rsplit('/').next())
        .collect();
    for expected in ["divorce.toml", "etat-civil.toml", "immobilier.toml"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for (path, text) in &guides {
        let guide = parse(text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let problems = validate(&guide, &known);
        assert!(problems.is_empty(), "{path}: {problems:#?}");
        assert_eq!(parse(&to_toml(&guide)).as_ref(), Ok(&guide), "{path}");
    }
}

#[test]
fn every_document_of_a_guide_reaches_its_result() {
    let docs = demo_document_types();
    let env = Demo(docs.clone());
    for (path, text) in demo_guides() {
        let guide = parse(&text).unwrap();
        for slug in guide.document_types() {
            // Found by its own label, then entered with it.
            let doc = docs.iter().find(|d| d.slug.as_str() == slug).unwrap();
            let found = find_documents(&doc.label, &docs, 3);
            assert_eq!(found.first().map(|d| d.slug.as_str()), Some(slug));
            let mut answers = branch_for_document(&guide, slug).unwrap();
            // Answer whatever is asked with its first choice, up to the end.
            for _ in 0..20 {
                let walk = run(&guide, &answers, &env);
                assert!(walk.error.is_none(), "{path} {slug}: {:?}", walk.error);
                match walk.current {
                    Current::Step(step) => {
                        let value = match step.kind {
                            locadocs_core::guide::StepKind::Commune => "35238".to_owned(),
                            locadocs_core::guide::StepKind::Date => "1990".to_owned(),
                            locadocs_core::guide::StepKind::Info => "ok".to_owned(),
                            _ => step.choices[0].value.clone(),
                        };
                        answers = Answers::parse_query(&walk.query_with(&[&value]));
                    }
                    Current::Result {
                        document_types,
                        commune,
                        year,
                        ..
                    } => {
                        assert!(document_types.iter().any(|d| d == slug), "{path} {slug}");
                        assert_eq!(commune.as_deref(), Some("35238"));
                        assert_eq!(year, Some(1990));
                        break;
                    }
                    Current::DeadEnd(step) => panic!("{path} {slug}: dead end {}", step.id),
                }
            }
        }
    }
}

#[test]
fn people_find_documents_with_their_words() {
    let docs = demo_document_types();
    let first = |q: &str| {
        find_documents(q, &docs, 5)
            .first()
            .map(|d| d.slug.to_string())
    };
    assert_eq!(first("PC").as_deref(), Some("permis-de-construire"));
    assert_eq!(first("acte de vente").as_deref(), Some("acte-notarie"));
    assert_eq!(
        first("hypotheques").as_deref(),
        Some("registre-hypotheques")
    );
    assert_eq!(first("Plan cadastral").as_deref(), Some("cadastre"));
    assert_eq!(first("divorce").as_deref(), Some("jugement-de-divorce"));
    assert_eq!(first("deces").as_deref(), Some("acte-de-deces"));
}

/// The ```toml blocks of `docs/guides.md`.
fn doc_examples() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/guides.md")).expect("docs/guides.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn documented_examples_are_valid_guides() {
    let docs = demo_document_types();
    let known = |slug: &str| docs.iter().any(|d| d.slug.as_str() == slug);
    let blocks = doc_examples();
    assert_eq!(blocks.len(), 2);
    for block in &blocks {
        let guide = parse(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert_eq!(validate(&guide, &known), Vec::new(), "{block}");
    }
    // The walks the documentation describes.
    let guide = parse(&blocks[0]).unwrap();
    let env = Demo(docs.clone());
    let walk = run(
        &guide,
        &Answers::parse_query("besoin=plans&a-savoir=ok&commune=35238&year=1985"),
        &env,
    );
    assert_eq!(
        walk.current,
        Current::Result {
            step: guide.step("resultat").unwrap(),
            document_types: vec!["permis-de-construire".to_owned()],
            commune: Some("35238".to_owned()),
            year: Some(1985),
            year_to: None,
        }
    );
    let walk = run(
        &guide,
        &Answers::parse_query("document_type=cadastre"),
        &env,
    );
    assert_eq!(walk.current.step().id, "commune");
    assert_eq!(
        guide.localized("en").step("besoin").unwrap().choices[0].label,
        "The plans of the house"
    );
}
