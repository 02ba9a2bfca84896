//! The examples in `docs/data-formats.md` are valid files.

use chrono::NaiveDate;
use locadocs_core::formats::{ImportContext, read_document_types, read_holdings, read_services};
use locadocs_core::{DeptCode, InseeCode, Siren, Slug};

const DOC: &str = include_str!("../../../docs/data-formats.md");

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

/// The contents of the ```csv blocks.
fn csv_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        match (&mut current, line.trim()) {
            (None, "```csv") => current = Some(String::new()),
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
fn documented_examples_are_valid() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let blocks = csv_blocks();
    assert_eq!(blocks.len(), 3);
    for block in blocks {
        let bytes = block.as_bytes();
        let (rows, warnings) = if block.starts_with("slug;") {
            let p = read_document_types(bytes).unwrap_or_else(|e| panic!("{e}"));
            (p.rows.len(), p.warnings)
        } else if block.starts_with("id;") {
            let p = read_services(bytes, &Everything).unwrap_or_else(|e| panic!("{e}"));
            (p.rows.len(), p.warnings)
        } else {
            let p = read_holdings(bytes, &Everything, today).unwrap_or_else(|e| panic!("{e}"));
            (p.rows.len(), p.warnings)
        };
        assert!(rows > 0);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
