//! Keeping spreadsheet formulas out of exported cells (CSV injection).
//!
//! A spreadsheet reads a cell whose text starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return as a formula. Every cell written gets a leading
//! `'` when it would be read that way ([`escape_cell`]), which spreadsheets
//! take as "this is text"; every cell read loses that `'` again
//! ([`unescape_cell`]).
//!
//! The two are exact inverses: a cell that already starts with one or more
//! `'` followed by a trigger character gets one more `'` on export, and
//! reading removes one `'` only when what follows still needs escaping. So
//! `'=x` is written `''=x` and read back as `'=x`, and a cell written by hand
//! without any `'` (`-75y`, `=x`) is read as it is.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula when
/// they start it.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s`, once its leading `'` are set aside, starts with a formula
/// trigger: such a text gets a `'` in front when written.
fn needs_escaping(s: &str) -> bool {
    s.trim_start_matches('\'')
        .starts_with(|c: char| FORMULA_TRIGGERS.contains(&c))
}

/// The cell as written: `s` with a leading `'` when a spreadsheet would
/// otherwise read it as a formula (or when it already starts with `'`
/// followed by such a text, so that [`unescape_cell`] can tell them apart).
pub fn escape_cell(s: &str) -> Cow<'_, str> {
    if needs_escaping(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The text of a cell as read: one leading `'` removed when what follows
/// needs escaping, so that `unescape_cell(&escape_cell(s)) == s` for any
/// `s`. Any other cell is left as it is.
pub fn unescape_cell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_escaping(rest) => rest,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_leading_quote() {
        for (text, written) in [
            (
                "=HYPERLINK(\"http://evil\",\"clic\")",
                "'=HYPERLINK(\"http://evil\",\"clic\")",
            ),
            ("+33 2 23 62 12 60", "'+33 2 23 62 12 60"),
            ("-75y", "'-75y"),
            ("-1.68", "'-1.68"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("=", "'="),
            // Already quoted formulas get one more quote.
            ("'=x", "''=x"),
            ("''+x", "'''+x"),
        ] {
            assert_eq!(escape_cell(text), written, "{text:?}");
            assert_eq!(unescape_cell(written), text, "{written:?}");
        }
    }

    #[test]
    fn other_cells_are_left_alone() {
        for text in [
            "",
            "Archives de Rennes",
            "02 23 62 12 60",
            "2015-06-30",
            "1.68",
            " =x",
            "a=b",
            "'",
            "''",
            "'x",
            "l'=x",
            "Mairie d'Ambronay",
            "é=",
        ] {
            assert!(matches!(escape_cell(text), Cow::Borrowed(_)), "{text:?}");
            assert_eq!(escape_cell(text), text);
            assert_eq!(unescape_cell(text), text, "{text:?}");
        }
    }

    #[test]
    fn hand_written_cells_read_as_they_are() {
        // No `'`: nothing is removed, formula-looking or not.
        for text in ["-75y", "=x", "+33 2 23 62 12 60", "@x"] {
            assert_eq!(unescape_cell(text), text);
        }
        // A single `'` before a formula is the spreadsheet's text marker.
        assert_eq!(unescape_cell("'-75y"), "-75y");
        assert_eq!(unescape_cell("'+33 2 23 62 12 60"), "+33 2 23 62 12 60");
        // Only one `'` is removed.
        assert_eq!(unescape_cell("''-75y"), "'-75y");
    }
}
