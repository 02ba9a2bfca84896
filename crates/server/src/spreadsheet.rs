//! Spreadsheets (`.xlsx`, `.ods`, `.xls`) read as the CSV the importers
//! already check, so that a file saved from a town hall's office suite gets
//! the same line report and all-or-nothing rule.
//!
//! The first sheet is read. Each sheet row becomes one CSV line, blank rows
//! included, so that "ligne N" in a report is row N of the sheet (as long as
//! no cell holds a line break). Each cell is written with the formula escape
//! of [`escape_cell`], which the CSV reader undoes: a text cell reaches the
//! importer exactly as typed.

use std::io::Cursor;

use calamine::{Data, Reader, Sheets, open_workbook_from_rs};
use locadocs_core::formats::escape_cell;

/// What kind of file the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// A zip container: `.xlsx` or `.ods`.
    Zip,
    /// An OLE container: `.xls`.
    Ole,
}

/// Recognises spreadsheets by their first bytes; anything else is CSV.
pub fn format_of(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"PK\x03\x04") {
        Format::Zip
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Format::Ole
    } else {
        Format::Csv
    }
}

fn open(bytes: &[u8]) -> Result<Sheets<Cursor<&[u8]>>, String> {
    let rs = Cursor::new(bytes);
    let opened = match format_of(bytes) {
        Format::Zip => open_workbook_from_rs(rs.clone())
            .map(Sheets::Xlsx)
            .or_else(|_| open_workbook_from_rs(rs).map(Sheets::Ods))
            .ok(),
        Format::Ole => open_workbook_from_rs(rs).map(Sheets::Xls).ok(),
        Format::Csv => return Err("ce n'est pas un classeur".into()),
    };
    opened.ok_or_else(|| {
        "classeur illisible : enregistrez-le au format .xlsx, .ods ou CSV (UTF-8) et envoyez-le à nouveau"
            .to_owned()
    })
}

/// One cell as text: whole numbers without decimals (a postal code typed as
/// a number stays `35000`), dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "oui" } else { "non" }.to_owned(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.date().to_string(),
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => return Err("date illisible".into()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("la cellule contient une erreur de calcul ({e})")),
    })
}

/// Writes one CSV field (`;`-separated), quoted when needed.
fn push_field(out: &mut String, text: &str) {
    let text = escape_cell(text);
    if text.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

/// The first sheet of a spreadsheet as `;`-separated UTF-8 CSV, or `None`
/// when the bytes are not a spreadsheet. An error names the line and column
/// of a cell that cannot be read.
pub fn to_csv(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    if format_of(bytes) == Format::Csv {
        return None;
    }
    Some(convert(bytes))
}

fn column_letters(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn convert(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut book = open(bytes)?;
    let range = match book.worksheet_range_at(0) {
        None => return Err("le classeur n'a aucune feuille".into()),
        Some(Err(_)) => return Err("la première feuille du classeur est illisible".into()),
        Some(Ok(r)) => r,
    };
    let Some((row0, col0)) = range.start() else {
        return Err("la première feuille du classeur est vide".into());
    };
    let mut out = String::new();
    // Rows above the first used one stay blank lines, so line numbers match.
    for _ in 0..row0 {
        out.push('\n');
    }
    for (i, row) in range.rows().enumerate() {
        let mut first = true;
        for _ in 0..col0 {
            out.push(';');
            first = false;
        }
        // Trailing empty cells are left out: the reader pads short rows.
        let used = row
            .iter()
            .rposition(|c| *c != Data::Empty)
            .map_or(0, |p| p + 1);
        for (j, cell) in row[..used].iter().enumerate() {
            if !first {
                out.push(';');
            }
            first = false;
            let text = cell_text(cell).map_err(|m| {
                format!(
                    "ligne {}, colonne {} : {m}",
                    row0 as usize + i + 1,
                    column_letters(col0 + j as u32)
                )
            })?;
            push_field(&mut out, &text);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_left_alone() {
        assert!(to_csv(b"id;name\n").is_none());
        assert_eq!(format_of(b"PK\x03\x04rest"), Format::Zip);
    }

    #[test]
    fn a_broken_workbook_is_refused_with_a_message() {
        let err = to_csv(b"PK\x03\x04not a zip").unwrap().unwrap_err();
        assert!(err.contains("classeur illisible"), "{err}");
    }

    #[test]
    fn cells_read_as_typed() {
        assert_eq!(cell_text(&Data::Float(35000.0)).unwrap(), "35000");
        assert_eq!(cell_text(&Data::Float(1.5)).unwrap(), "1.5");
        assert_eq!(cell_text(&Data::Int(-75)).unwrap(), "-75");
        let mut out = String::new();
        push_field(&mut out, "=1+1");
        assert_eq!(out, "'=1+1");
        out.clear();
        push_field(&mut out, "a;\"b\"");
        assert_eq!(out, "\"a;\"\"b\"\"\"");
    }

    #[test]
    fn columns_are_named_like_the_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
    }
}
