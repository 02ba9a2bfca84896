//! Reading a CSV file into rows of named fields, whatever the kind: encoding,
//! delimiter, header, physical line numbers, field limits.

use std::collections::HashMap;

use csv::{ReaderBuilder, StringRecord};

use super::cells::unescape_cell;
use super::decode::decode;
use super::fields::shown;
use super::report::{Issue, Report};

/// The longest value accepted in a field, in characters.
pub const MAX_FIELD_CHARS: usize = 10_000;

/// The columns of one kind of file, in canonical order.
pub(crate) struct Schema {
    pub columns: &'static [&'static str],
    /// Columns that must appear in the header (and have a value on each row).
    pub required: &'static [&'static str],
}

impl Schema {
    fn expected(&self) -> String {
        self.columns.join(";")
    }
}

/// One field of a row, as seen by the kind-specific parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    /// Column absent from the header, or blank value.
    Empty,
    /// A trimmed, non-empty value, without the `'` that the export puts
    /// before formula-looking text (see [`unescape_cell`]).
    Value(&'a str),
    /// A value already refused (too long): no further message about it.
    Refused,
}

/// One data row, with access to its fields by schema column index.
pub(crate) struct Row<'a> {
    pub line: u64,
    record: &'a StringRecord,
    map: &'a [Option<usize>],
    columns: &'static [&'static str],
    refused: &'a [bool],
}

impl<'a> Row<'a> {
    /// The column's name, for messages.
    pub fn name(&self, col: usize) -> &'static str {
        self.columns[col]
    }

    pub fn field(&self, col: usize) -> Field<'a> {
        if self.refused[col] {
            return Field::Refused;
        }
        match self.map[col]
            .and_then(|i| self.record.get(i))
            .map(cell_text)
        {
            Some(v) if !v.is_empty() => Field::Value(v),
            _ => Field::Empty,
        }
    }

    /// The trimmed value, `None` when blank or already refused.
    pub fn value(&self, col: usize) -> Option<&'a str> {
        match self.field(col) {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value as an owned string (free-text columns).
    pub fn text(&self, col: usize) -> Option<String> {
        self.value(col).map(str::to_owned)
    }

    /// The value of a required column; reports a blank one.
    pub fn required(&self, col: usize, report: &mut Report) -> Option<&'a str> {
        match self.field(col) {
            Field::Value(v) => Some(v),
            Field::Empty => {
                self.error(report, col, "valeur obligatoire manquante");
                None
            }
            Field::Refused => None,
        }
    }

    pub fn error(&self, report: &mut Report, col: usize, message: impl Into<String>) {
        report.error(self.line, Some(self.name(col)), message);
    }

    pub fn warn(&self, report: &mut Report, col: usize, message: impl Into<String>) {
        report.warn(self.line, Some(self.name(col)), message);
    }
}

/// Tracks physical line numbers as the CSV reader advances. A line ends
/// with LF, CRLF or a lone CR.
struct Lines<'t> {
    bytes: &'t [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    /// Whether the byte at `i` ends a line.
    fn ends_line(&self, i: usize) -> bool {
        match self.bytes[i] {
            b'\n' => true,
            b'\r' => self.bytes.get(i + 1) != Some(&b'\n'),
            _ => false,
        }
    }

    /// The line of the record whose read started at byte `start`: blank
    /// lines and the previous record's terminator come first, and a record
    /// never starts with a line break.
    fn record_at(&mut self, start: usize) -> u64 {
        let mut p = self.pos;
        let start = start.min(self.bytes.len());
        while p < start || matches!(self.bytes.get(p), Some(b'\n' | b'\r')) {
            if self.ends_line(p) {
                self.line += 1;
            }
            p += 1;
        }
        self.pos = p;
        self.line
    }
}

/// `,` or `;`, whichever the header line (outside quotes) uses most; `;`
/// when tied, `,` when the header has a single column.
fn detect_delimiter(text: &str) -> u8 {
    let (mut commas, mut semicolons) = (0usize, 0usize);
    let mut quoted = false;
    let mut content = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted && content => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            content = true;
        }
    }
    if semicolons > 0 && semicolons >= commas {
        b';'
    } else {
        b','
    }
}

/// Excel's optional first line `sep=;` names the delimiter. Returns the
/// delimiter and the text after that line.
fn sep_line(text: &str) -> Option<(u8, &str)> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim();
    let d = first
        .strip_prefix("sep=")
        .or_else(|| first.strip_prefix("SEP="))?;
    match d.trim_matches('"').as_bytes().first() {
        Some(b';') => Some((b';', rest)),
        Some(b',') => Some((b',', rest)),
        _ => None,
    }
}

/// Reads `bytes` as a table of `schema`, calling `parse_row` on each
/// non-blank row of the right width. File-level errors are added to
/// `report` and return `None`; row-level problems are reported and the
/// reading goes on.
pub(crate) fn read_table<T>(
    bytes: &[u8],
    schema: &Schema,
    report: &mut Report,
    mut parse_row: impl FnMut(&Row<'_>, &mut Report) -> Option<T>,
) -> Option<Vec<(u64, T)>> {
    let text = match decode(bytes) {
        Ok((text, warning)) => {
            report.warnings.extend(warning);
            text
        }
        Err(e) => {
            report.errors.push(e);
            return None;
        }
    };
    let (delimiter, body, first_line) = match sep_line(&text) {
        Some((d, rest)) => (d, rest, 2),
        None => (detect_delimiter(&text), &text[..], 1),
    };
    if body.trim().is_empty() {
        report.errors.push(Issue::file(format!(
            "le fichier est vide : la première ligne doit donner les noms des colonnes ({})",
            schema.expected()
        )));
        return None;
    }

    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut lines = Lines {
        bytes: body.as_bytes(),
        pos: 0,
        line: first_line,
    };
    let mut record = StringRecord::new();

    // Header.
    match reader.read_record(&mut record) {
        Ok(true) => {}
        _ => {
            report.errors.push(Issue::file("en-tête illisible"));
            return None;
        }
    }
    let header_line = lines.record_at(start_of(&record));
    let width = record.len();
    let mut map: Vec<Option<usize>> = vec![None; schema.columns.len()];
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut header_ok = true;
    for (i, raw) in record.iter().enumerate() {
        let name = header_name(raw);
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(&name) {
            report.error(
                header_line,
                None,
                format!(
                    "la colonne « {} » apparaît deux fois (colonnes {} et {})",
                    shown(&name),
                    first + 1,
                    i + 1
                ),
            );
            header_ok = false;
            continue;
        }
        seen.insert(name.clone(), i);
        match schema.columns.iter().position(|c| *c == name) {
            Some(col) => map[col] = Some(i),
            None => unknown.push(name),
        }
    }
    for (col, name) in schema.columns.iter().enumerate() {
        if map[col].is_none() && schema.required.contains(name) {
            let hint = if width == 1 && record.get(0).is_some_and(|h| h.contains('\t')) {
                " ; le séparateur doit être « ; » ou « , », pas une tabulation"
            } else {
                ""
            };
            report.error(
                header_line,
                None,
                format!(
                    "colonne obligatoire « {name} » absente (en-tête attendu : {}){hint}",
                    schema.expected()
                ),
            );
            header_ok = false;
        }
    }
    if !header_ok {
        return None;
    }
    if !unknown.is_empty() {
        const LISTED: usize = 10;
        let mut names: Vec<String> = unknown.iter().take(LISTED).map(|n| shown(n)).collect();
        if unknown.len() > LISTED {
            names.push(format!("et {} autres", unknown.len() - LISTED));
        }
        let (what, agreement) = if unknown.len() == 1 {
            ("colonne inconnue", "")
        } else {
            ("colonnes inconnues", "s")
        };
        report.warn(
            header_line,
            None,
            format!("{what} ignorée{agreement} : {}", names.join(", ")),
        );
    }

    // Rows.
    let mut rows = Vec::new();
    let mut refused = vec![false; schema.columns.len()];
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Cannot happen on valid UTF-8 text read from memory.
                let line = lines.record_at(start_of(&record));
                report.error(line, None, format!("lecture impossible : {e}"));
                break;
            }
        }
        let line = lines.record_at(start_of(&record));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != width {
            let hint = if record.iter().any(|f| f.contains('\n')) {
                " ; un guillemet n'est peut-être pas fermé"
            } else {
                ""
            };
            report.error(
                line,
                None,
                format!(
                    "{} au lieu de {} (autant que de colonnes dans l'en-tête) : vérifiez les séparateurs « {} » et les guillemets{hint}",
                    super::report::count(record.len(), "valeur", "valeurs"),
                    width,
                    delimiter as char
                ),
            );
            continue;
        }
        for (col, slot) in map.iter().enumerate() {
            refused[col] = false;
            let Some(v) = slot.and_then(|i| record.get(i)) else {
                continue;
            };
            if v.len() > MAX_FIELD_CHARS {
                let n = cell_text(v).chars().count();
                if n > MAX_FIELD_CHARS {
                    report.error(
                        line,
                        Some(schema.columns[col]),
                        format!("valeur trop longue : {n} caractères (10 000 au maximum)"),
                    );
                    refused[col] = true;
                }
            }
        }
        let row = Row {
            line,
            record: &record,
            map: &map,
            columns: schema.columns,
            refused: &refused,
        };
        if let Some(t) = parse_row(&row, report) {
            rows.push((line, t));
        }
    }
    Some(rows)
}

/// A header cell as matched against the schema: trimmed, lower case,
/// without accents, spaces and hyphens read as `_` (open-data portals
/// rewrite `Catégorie de service` as `categorie_de_service`).
fn header_name(raw: &str) -> String {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            ' ' | '-' => '_',
            c => c,
        })
        .collect()
}

/// The text of a cell as the parsers see it: trimmed, then unescaped. It is
/// never blank when the trimmed cell is not.
fn cell_text(raw: &str) -> &str {
    unescape_cell(raw.trim())
}

fn start_of(record: &StringRecord) -> usize {
    record
        .position()
        .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: Schema = Schema {
        columns: &["slug", "label", "note"],
        required: &["slug", "label"],
    };

    type Rows = Option<Vec<(u64, Vec<Option<String>>)>>;

    /// Reads with a parser that returns the (slug, label, note) values.
    fn read(input: &str) -> (Rows, Report) {
        let mut report = Report::default();
        let rows = read_table(input.as_bytes(), &SCHEMA, &mut report, |row, report| {
            let slug = row.required(0, report).map(str::to_owned);
            let label = row.required(1, report).map(str::to_owned);
            Some(vec![slug, label, row.text(2)])
        });
        (rows, report)
    }

    fn strings(report: &Report) -> (Vec<String>, Vec<String>) {
        (
            report.errors.iter().map(|i| i.to_string()).collect(),
            report.warnings.iter().map(|i| i.to_string()).collect(),
        )
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn delimiter_is_detected_from_the_header_outside_quotes() {
        assert_eq!(detect_delimiter("slug;label\na,b;c"), b';');
        assert_eq!(detect_delimiter("slug,label\na;b,c"), b',');
        assert_eq!(detect_delimiter("\"a;b;c\",label\n"), b',');
        assert_eq!(detect_delimiter("\n\nslug;label"), b';');
        assert_eq!(detect_delimiter("slug"), b',');
        for input in [
            "slug,label,note\na,A b,n\n",
            "slug;label;note\r\na;A b;n\r\n",
        ] {
            let (rows, report) = read(input);
            assert!(!report.has_errors(), "{:?}", report.errors);
            assert_eq!(rows.unwrap(), vec![(2, vec![s("a"), s("A b"), s("n")])]);
        }
    }

    #[test]
    fn quoted_fields_keep_newlines_and_lines_are_physical() {
        let input = "slug;label;note\n\
                     a;\"Deux\nlignes\";\"dit \"\"oui\"\"; ok\"\n\
                     \n\
                     b;\"x\r\ny\r\nz\";\n\
                     ;;\n\
                     c;;\n";
        let (rows, report) = read(input);
        let rows = rows.unwrap();
        assert_eq!(
            rows[0],
            (2, vec![s("a"), s("Deux\nlignes"), s("dit \"oui\"; ok")])
        );
        // Line 4 is blank; b's record spans lines 5 to 7.
        assert_eq!(rows[1], (5, vec![s("b"), s("x\r\ny\r\nz"), None]));
        // Line 8 is an empty row, skipped; line 9 misses its label.
        assert_eq!(
            strings(&report).0,
            vec!["ligne 9, colonne label : valeur obligatoire manquante"]
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines_too() {
        let (rows, report) = read("slug;label\ra;A\r\rb;\"B\rB\"\r\nc;\r\n");
        assert_eq!(
            rows.unwrap(),
            vec![
                (2, vec![s("a"), s("A"), None]),
                (4, vec![s("b"), s("B\rB"), None]),
                (6, vec![s("c"), None, None]),
            ]
        );
        assert_eq!(
            strings(&report).0,
            vec!["ligne 6, colonne label : valeur obligatoire manquante"]
        );
    }

    #[test]
    fn header_in_any_order_case_and_spacing_with_unknown_columns() {
        let (rows, report) = read(" Note ;LABEL;Couleur; slug;Remarque\nn;L;rouge;a;r\n");
        assert_eq!(rows.unwrap(), vec![(2, vec![s("a"), s("L"), s("n")])]);
        assert_eq!(
            strings(&report).1,
            vec!["ligne 1 : colonnes inconnues ignorées : couleur, remarque"]
        );
        // Optional columns may be left out.
        let (rows, report) = read("label,slug\nL,a\n");
        assert_eq!(rows.unwrap(), vec![(2, vec![s("a"), s("L"), None])]);
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn header_names_are_matched_without_accents() {
        assert_eq!(
            header_name(" Catégorie de service "),
            "categorie_de_service"
        );
        assert_eq!(header_name("Téléphone"), "telephone");
        let (rows, report) = read("SLUG;Label;Nöte\na;L;n\n");
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(rows.unwrap(), vec![(2, vec![s("a"), s("L"), s("n")])]);
    }

    #[test]
    fn missing_and_duplicate_columns_are_file_errors() {
        let (rows, report) = read("slug;note\na;b\n");
        assert!(rows.is_none());
        assert_eq!(
            strings(&report).0,
            vec![
                "ligne 1 : colonne obligatoire « label » absente (en-tête attendu : slug;label;note)"
            ]
        );
        let (rows, report) = read("slug;label;Slug\na;b;c\n");
        assert!(rows.is_none());
        assert_eq!(
            strings(&report).0,
            vec!["ligne 1 : la colonne « slug » apparaît deux fois (colonnes 1 et 3)"]
        );
        let (_, report) = read("slug\tlabel\na\tb\n");
        assert!(strings(&report).0[0].ends_with("pas une tabulation"));
    }

    #[test]
    fn very_wide_headers_are_handled_quickly() {
        let names: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
        let input = format!(
            "slug;label;{}\na;b;{}\n",
            names.join(";"),
            ";".repeat(99_999)
        );
        let started = std::time::Instant::now();
        let (rows, report) = read(&input);
        assert!(started.elapsed().as_secs() < 5);
        assert_eq!(rows.unwrap().len(), 1);
        assert_eq!(
            strings(&report).1,
            vec![
                "ligne 1 : colonnes inconnues ignorées : c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, et 99990 autres"
            ]
        );
    }

    #[test]
    fn empty_file_and_header_only() {
        for input in ["", "   \r\n\n", "\u{feff}"] {
            let (rows, report) = read(input);
            assert!(rows.is_none());
            assert_eq!(
                strings(&report).0,
                vec![
                    "le fichier est vide : la première ligne doit donner les noms des colonnes (slug;label;note)"
                ]
            );
        }
        let (rows, report) = read("slug;label;note\r\n");
        assert_eq!(rows.unwrap(), vec![]);
        assert!(!report.has_errors());
    }

    #[test]
    fn excel_sep_line_is_understood() {
        let (rows, report) = read("sep=;\nslug;label\na;b,c\n");
        assert!(!report.has_errors());
        assert_eq!(rows.unwrap(), vec![(3, vec![s("a"), s("b,c"), None])]);
    }

    #[test]
    fn wrong_field_counts_are_row_errors() {
        let (rows, report) = read("slug;label;note\na;b\nc;d;e;f\ng;h;i\nj;\"k;l\n");
        assert_eq!(rows.unwrap(), vec![(4, vec![s("g"), s("h"), s("i")])]);
        assert_eq!(
            strings(&report).0,
            vec![
                "ligne 2 : 2 valeurs au lieu de 3 (autant que de colonnes dans l'en-tête) : vérifiez les séparateurs « ; » et les guillemets",
                "ligne 3 : 4 valeurs au lieu de 3 (autant que de colonnes dans l'en-tête) : vérifiez les séparateurs « ; » et les guillemets",
                "ligne 5 : 2 valeurs au lieu de 3 (autant que de colonnes dans l'en-tête) : vérifiez les séparateurs « ; » et les guillemets ; un guillemet n'est peut-être pas fermé",
            ]
        );
    }

    #[test]
    fn a_one_megabyte_field_is_a_clean_error() {
        let big = "é".repeat(1 << 20);
        let input = format!("slug;label;note\na;{big};n\nb;\"{big}\";\n");
        let started = std::time::Instant::now();
        let (rows, report) = read(&input);
        assert!(started.elapsed().as_secs() < 5);
        // The refused label is not also reported as missing.
        assert_eq!(
            strings(&report).0,
            vec![
                "ligne 2, colonne label : valeur trop longue : 1048576 caractères (10 000 au maximum)",
                "ligne 3, colonne label : valeur trop longue : 1048576 caractères (10 000 au maximum)",
            ]
        );
        assert_eq!(rows.unwrap()[0].1, vec![s("a"), None, s("n")]);
        // At the limit is fine.
        let ok = format!("slug;label\na;{}\n", "x".repeat(MAX_FIELD_CHARS));
        assert!(!read(&ok).1.has_errors());
    }

    #[test]
    fn line_numbers_match_csv_positions_for_simple_files() {
        // Without blank lines, our count agrees with the csv crate's own.
        let input = "slug;label\na;\"b\nc\"\nd;e\n";
        let mut rdr = ReaderBuilder::new()
            .has_headers(false)
            .delimiter(b';')
            .from_reader(input.as_bytes());
        let csv_lines: Vec<u64> = rdr
            .records()
            .map(|r| r.unwrap().position().unwrap().line())
            .collect();
        let (rows, _) = read(input);
        let ours: Vec<u64> = rows.unwrap().iter().map(|(l, _)| *l).collect();
        assert_eq!(csv_lines[1..], ours[..]);
    }
}
