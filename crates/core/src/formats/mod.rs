//! The three CSV files contributors exchange with Locadocs: `document-types`,
//! `services` and `holdings`. Reading (with validation and a full error
//! report), writing (canonical form) and import plans.
//!
//! Everything here is pure: functions take bytes and return values, and
//! anything that needs the rest of the reference data (does this commune
//! exist? this service?) asks an [`ImportContext`]. `docs/data-formats.md`
//! describes the formats for contributors.
//!
//! # Reading
//!
//! - [`read_document_types`], [`read_services`] and [`read_holdings`] return
//!   [`Parsed`] rows, each with the physical line where its record starts,
//!   plus warnings; or [`Rejected`] with every error found and the warnings.
//! - Encoding: UTF-8 with or without BOM. Other bytes are read as
//!   Windows-1252 (Excel's « CSV (séparateur : point-virgule) ») with a
//!   warning. UTF-16, NUL bytes and spreadsheets (`.xlsx`, `.ods`) are
//!   refused at once.
//! - Delimiter: `;` or `,`, whichever the header line uses (outside quotes);
//!   an Excel `sep=;` first line is honoured. Quoted fields may contain
//!   delimiters, line breaks and `""`.
//! - Header: any column order, names trimmed and case-insensitive. Unknown
//!   columns are ignored with a warning; a missing required column or a
//!   duplicate column refuses the file. Optional columns may be left out.
//!   A header-only file is valid and has no rows; an empty file is refused.
//! - Rows: blank rows (all fields blank) are skipped. A row with another
//!   number of fields than the header is an error. Values are trimmed and an
//!   empty value means "absent". A value longer than
//!   [`MAX_FIELD_CHARS`] characters is an error.
//! - Every problem of every row is reported (file-level problems stop the
//!   reading early), as `ligne N, colonne X : …` or `ligne N : …`, N being
//!   the physical line (header = line 1; a record with quoted line breaks
//!   spans several lines and is numbered by its first).
//! - Spreadsheet habits are repaired with a warning: `DD/MM/YYYY` dates,
//!   INSEE codes and postal codes that lost their leading zero (`1004` →
//!   `01004`, also in `commune:1004`), decimal commas in coordinates.
//! - Keys must be unique in a file: slug, id, and (document type, territory,
//!   from). Two holding rules for the same document type and territory must
//!   not overlap (as of `today`, for rolling `-Ny` bounds).
//!
//! # Writing
//!
//! [`write_document_types`], [`write_services`] and [`write_holdings`]
//! produce UTF-8 with BOM, `;`-separated, CRLF, with every column in
//! canonical order. Reading what they wrote gives back the same rows.
//!
//! # Import plans
//!
//! [`plan_document_types`], [`plan_services`] and [`plan_holdings`] compare
//! the rows read with the existing ones, by key, and say what to add, update
//! and (with `replace`) remove. For holdings, `replace` only removes rules of
//! the territories the file mentions, and the plan is refused if an incoming
//! rule overlaps an existing rule that stays.

mod cells;
mod decode;
mod document_types;
mod fields;
mod francearchives;
mod holdings;
mod keys;
pub(crate) mod overlap;
mod plan;
mod report;
mod services;
mod table;
mod write;

use std::fmt;
use std::str::FromStr;

pub use cells::{FORMULA_TRIGGERS, escape_cell, unescape_cell};
pub use document_types::{read_document_types, write_document_types};
pub use francearchives::{ArchiveCategory, ArchiveRecord, read_francearchives};
pub use holdings::{read_holdings, write_holdings, write_holdings_open_data};
pub use plan::{Plan, plan_document_types, plan_holdings, plan_services};
pub use report::{Issue, Parsed, Rejected};
pub use services::{read_services, write_services};
pub use table::MAX_FIELD_CHARS;

use crate::codes::{DeptCode, InseeCode, Siren, Slug};

/// What the rest of the reference data knows, for existence checks.
pub trait ImportContext {
    /// A current or former commune code of the Code officiel géographique.
    fn commune_known(&self, code: InseeCode) -> bool;
    fn epci_known(&self, siren: &Siren) -> bool;
    fn departement_known(&self, code: &DeptCode) -> bool;
    /// A document type already published or being imported alongside.
    fn document_type_known(&self, slug: &Slug) -> bool;
    /// A service already published or being imported alongside.
    fn service_known(&self, id: &Slug) -> bool;
}

/// The three kinds of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    DocumentTypes,
    Services,
    Holdings,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::DocumentTypes, Kind::Services, Kind::Holdings];

    /// The name used on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DocumentTypes => "document-types",
            Kind::Services => "services",
            Kind::Holdings => "holdings",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The columns, in canonical order.
    pub fn columns(self) -> &'static [&'static str] {
        self.schema().columns
    }

    /// The columns that must appear in the header and be filled on each row.
    pub fn required_columns(self) -> &'static [&'static str] {
        self.schema().required
    }

    fn schema(self) -> &'static table::Schema {
        match self {
            Kind::DocumentTypes => &document_types::SCHEMA,
            Kind::Services => &services::SCHEMA,
            Kind::Holdings => &holdings::SCHEMA,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::parse(s).ok_or_else(|| {
            format!(
                "« {} » n'est pas un type de fichier : document-types, services ou holdings",
                fields::shown(s)
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// A context that knows everything except commune 99999, EPCI
    /// 999999999, département 99 and slugs starting with `inconnu`.
    pub(crate) struct Known;

    impl ImportContext for Known {
        fn commune_known(&self, code: InseeCode) -> bool {
            code.as_str() != "99999"
        }
        fn epci_known(&self, siren: &Siren) -> bool {
            siren.as_str() != "999999999"
        }
        fn departement_known(&self, code: &DeptCode) -> bool {
            code.as_str() != "99"
        }
        fn document_type_known(&self, slug: &Slug) -> bool {
            !slug.as_str().starts_with("inconnu")
        }
        fn service_known(&self, id: &Slug) -> bool {
            !id.as_str().starts_with("inconnu")
        }
    }

    pub(crate) fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn kinds() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert_eq!(
            "holding".parse::<Kind>().unwrap_err(),
            "« holding » n'est pas un type de fichier : document-types, services ou holdings"
        );
        assert_eq!(
            Kind::Holdings.required_columns(),
            ["document_type", "territory", "service"]
        );
        assert_eq!(Kind::Services.columns().len(), 21);
    }
}
