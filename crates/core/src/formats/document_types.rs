//! The `document-types` file.

use super::fields::{self, optional, required};
use super::keys::report_duplicates;
use super::report::{Parsed, Rejected, Report};
use super::table::{Row, Schema, read_table};
use super::write::{opt, write_table};
use crate::reference::DocumentType;

pub(crate) const SCHEMA: Schema = Schema {
    columns: &[
        "slug",
        "label",
        "theme",
        "aliases",
        "description",
        "communicability_years",
        "communicability_note",
    ],
    required: &["slug", "label"],
};

const SLUG: usize = 0;
const LABEL: usize = 1;
const THEME: usize = 2;
const ALIASES: usize = 3;
const DESCRIPTION: usize = 4;
const YEARS: usize = 5;
const NOTE: usize = 6;

fn parse_row(row: &Row<'_>, report: &mut Report) -> Option<DocumentType> {
    let before = report.errors.len();
    let slug = required(row, report, SLUG, fields::slug);
    let label = row.required(LABEL, report).map(str::to_owned);
    let communicability_years = optional(row, report, YEARS, fields::years).unwrap_or(0);
    if report.errors.len() > before {
        return None;
    }
    Some(DocumentType {
        slug: slug?,
        label: label?,
        theme: row.text(THEME),
        aliases: row.value(ALIASES).map(split_aliases).unwrap_or_default(),
        description: row.text(DESCRIPTION),
        communicability_years,
        communicability_note: row.text(NOTE),
    })
}

/// `PC | permis|` → `["PC", "permis"]`.
fn split_aliases(v: &str) -> Vec<String> {
    v.split('|')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads a `document-types` file. See the module documentation for the
/// rules.
pub fn read_document_types(bytes: &[u8]) -> Result<Parsed<DocumentType>, Rejected> {
    let mut report = Report::default();
    let Some(rows) = read_table(bytes, &SCHEMA, &mut report, parse_row) else {
        return Err(report.into_rejected());
    };
    report_duplicates(rows.iter().map(|(l, d)| (*l, &d.slug)), &mut report, |s| {
        format!("slug « {s} »")
    });
    report.finish(rows)
}

/// Writes document types in the canonical form (UTF-8 with BOM, `;`).
pub fn write_document_types(rows: &[DocumentType]) -> Vec<u8> {
    write_table(
        SCHEMA.columns,
        rows.iter().map(|d| {
            vec![
                d.slug.to_string(),
                d.label.clone(),
                opt(&d.theme),
                d.aliases.join("|"),
                opt(&d.description),
                d.communicability_years.to_string(),
                opt(&d.communicability_note),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Slug;

    fn errors(input: &str) -> Vec<String> {
        read_document_types(input.as_bytes())
            .unwrap_err()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn reads_a_valid_file() {
        let input = "slug;label;theme;aliases;description;communicability_years;communicability_note\n\
                     permis-de-construire;Permis de construire;urbanisme; PC | permis |;Autorisation;0;\n\
                     acte-de-naissance;Acte de naissance;etat-civil;;;75;\"Librement, pour l'intéressé\"\n\
                     plan-cadastral;Plan cadastral;;;;;\n";
        let parsed = read_document_types(input.as_bytes()).unwrap();
        assert!(parsed.warnings.is_empty());
        let (line, pc) = &parsed.rows[0];
        assert_eq!(*line, 2);
        assert_eq!(pc.slug, Slug::parse("permis-de-construire").unwrap());
        assert_eq!(pc.theme.as_deref(), Some("urbanisme"));
        assert_eq!(pc.aliases, vec!["PC", "permis"]);
        assert_eq!(pc.communicability_years, 0);
        assert_eq!(pc.communicability_note, None);
        assert_eq!(parsed.rows[1].1.communicability_years, 75);
        assert_eq!(
            parsed.rows[1].1.communicability_note.as_deref(),
            Some("Librement, pour l'intéressé")
        );
        // A blank delay means 0, freely accessible.
        assert_eq!(parsed.rows[2].1.communicability_years, 0);
        assert!(parsed.rows[2].1.aliases.is_empty());
    }

    #[test]
    fn every_error_of_every_row_is_reported() {
        let input = "slug,label,communicability_years\n\
                     Permis,,75 ans\n\
                     ok,OK,201\n\
                     ok,Encore,0\n\
                     ,Sans slug,\n";
        assert_eq!(
            errors(input),
            vec![
                "ligne 2, colonne slug : « Permis » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères)",
                "ligne 2, colonne label : valeur obligatoire manquante",
                "ligne 2, colonne communicability_years : « 75 ans » n'est pas un délai valide : écrivez un nombre entier d'années de 0 à 200 (0 : librement communicable)",
                "ligne 3, colonne communicability_years : « 201 » n'est pas un délai valide : écrivez un nombre entier d'années de 0 à 200 (0 : librement communicable)",
                "ligne 5, colonne slug : valeur obligatoire manquante",
            ]
        );
    }

    #[test]
    fn duplicate_slugs_name_both_lines() {
        let input = "slug;label\na;A\nb;B\na;A encore\n";
        assert_eq!(
            errors(input),
            vec!["ligne 4 : même clé que la ligne 2 (slug « a »)"]
        );
    }

    #[test]
    fn round_trip() {
        let rows = vec![
            DocumentType {
                slug: Slug::parse("permis-de-construire").unwrap(),
                label: "Permis de construire; \"PC\"".into(),
                theme: Some("urbanisme".into()),
                aliases: vec!["PC".into(), "permis".into()],
                description: Some("Sur deux\nlignes".into()),
                communicability_years: 0,
                communicability_note: None,
            },
            DocumentType {
                slug: Slug::parse("acte-de-naissance").unwrap(),
                label: "Acte de naissance".into(),
                theme: None,
                aliases: vec![],
                description: None,
                communicability_years: 75,
                communicability_note: Some("Sauf l'intéressé".into()),
            },
        ];
        let bytes = write_document_types(&rows);
        assert!(bytes.starts_with(b"\xEF\xBB\xBFslug;label;theme;aliases;"));
        assert!(String::from_utf8_lossy(&bytes).contains("\r\n"));
        let parsed = read_document_types(&bytes).unwrap();
        assert!(parsed.warnings.is_empty());
        let back: Vec<DocumentType> = parsed.rows.into_iter().map(|(_, d)| d).collect();
        assert_eq!(back, rows);
    }
}
