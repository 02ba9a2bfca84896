//! What reading a file reports: errors, warnings, and how they are shown.

use std::fmt;

/// One problem found in a file, located as precisely as possible.
///
/// Shown as `ligne N, colonne X : message`, `ligne N : message` when no
/// single column is at fault, or just the message for file-level problems
/// (encoding, empty file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The physical line (1-based, the header is line 1) where the record
    /// starts; `None` for the file as a whole.
    pub line: Option<u64>,
    /// The column's name as written in the header (trimmed, lower-case).
    pub column: Option<String>,
    /// What is wrong, in French.
    pub message: String,
}

impl Issue {
    /// A problem with the whole file.
    pub fn file(message: impl Into<String>) -> Self {
        Issue {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem on a line, optionally in one column.
    pub fn at(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Issue {
            line: Some(line),
            column: column.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(l), Some(c)) => write!(f, "ligne {l}, colonne {c} : {}", self.message),
            (Some(l), None) => write!(f, "ligne {l} : {}", self.message),
            (None, Some(c)) => write!(f, "colonne {c} : {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// A file that was read successfully: its rows, each with the line where it
/// starts, and the warnings (values that were repaired, ignored columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub rows: Vec<(u64, T)>,
    pub warnings: Vec<Issue>,
}

/// A file that was refused: every error found, and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Rejected {
    /// A refusal with a single, file-level error.
    pub fn file(message: impl Into<String>) -> Self {
        Rejected {
            errors: vec![Issue::file(message)],
            warnings: Vec::new(),
        }
    }
}

/// `1 erreur`, `3 erreurs`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n <= 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

impl fmt::Display for Rejected {
    /// The whole report: a summary line, then one error per line, then the
    /// warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Fichier refusé : {}",
            count(self.errors.len(), "erreur", "erreurs")
        )?;
        if !self.warnings.is_empty() {
            write!(
                f,
                ", {}",
                count(self.warnings.len(), "avertissement", "avertissements")
            )?;
        }
        f.write_str(".")?;
        for e in &self.errors {
            write!(f, "\n{e}")?;
        }
        if !self.warnings.is_empty() {
            f.write_str("\nAvertissements :")?;
            for w in &self.warnings {
                write!(f, "\n{w}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// Collects issues while a file is read.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Report {
    pub fn error(&mut self, line: u64, column: Option<&str>, message: impl Into<String>) {
        self.errors.push(Issue::at(line, column, message));
    }

    pub fn warn(&mut self, line: u64, column: Option<&str>, message: impl Into<String>) {
        self.warnings.push(Issue::at(line, column, message));
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Sorts issues by line (file-level first), keeping the order in which
    /// they were found within a line.
    fn sorted(mut v: Vec<Issue>) -> Vec<Issue> {
        v.sort_by_key(|i| i.line);
        v
    }

    pub fn into_rejected(self) -> Rejected {
        Rejected {
            errors: Self::sorted(self.errors),
            warnings: Self::sorted(self.warnings),
        }
    }

    /// The rows if no error was found, otherwise the full report.
    pub fn finish<T>(self, rows: Vec<(u64, T)>) -> Result<Parsed<T>, Rejected> {
        if self.has_errors() {
            Err(self.into_rejected())
        } else {
            Ok(Parsed {
                rows,
                warnings: Self::sorted(self.warnings),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_display_in_the_documented_shapes() {
        assert_eq!(
            Issue::at(7, Some("slug"), "valeur obligatoire").to_string(),
            "ligne 7, colonne slug : valeur obligatoire"
        );
        assert_eq!(
            Issue::at(7, None, "même clé que la ligne 3").to_string(),
            "ligne 7 : même clé que la ligne 3"
        );
        assert_eq!(
            Issue::file("le fichier est vide").to_string(),
            "le fichier est vide"
        );
    }

    #[test]
    fn rejected_displays_the_whole_report_sorted_by_line() {
        let mut r = Report::default();
        r.error(9, None, "b");
        r.error(3, Some("id"), "a");
        r.warn(2, Some("commune"), "w");
        let shown = r.into_rejected().to_string();
        assert_eq!(
            shown,
            "Fichier refusé : 2 erreurs, 1 avertissement.\n\
             ligne 3, colonne id : a\n\
             ligne 9 : b\n\
             Avertissements :\n\
             ligne 2, colonne commune : w"
        );
        assert_eq!(
            Rejected::file("vide").to_string(),
            "Fichier refusé : 1 erreur.\nvide"
        );
    }
}
