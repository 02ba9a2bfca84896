//! Writing files in the canonical form: UTF-8 with BOM (so that Excel shows
//! accents), `;` delimiter, canonical column order, CRLF line ends, and no
//! cell that a spreadsheet would read as a formula.

use csv::{QuoteStyle, Terminator, WriterBuilder};

use super::cells::escape_cell;

/// Writes `columns` as the header, then one record per row. Every row cell
/// goes through [`escape_cell`] here, and only here; the header names are
/// ours and safe.
pub(crate) fn write_table(columns: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = WriterBuilder::new()
        .delimiter(b';')
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    // Writing into a Vec cannot fail.
    w.write_record(columns).expect("write to memory");
    for row in rows {
        let cells: Vec<_> = row.iter().map(|cell| escape_cell(cell)).collect();
        w.write_record(cells.iter().map(|cell| cell.as_bytes()))
            .expect("write to memory");
    }
    w.into_inner().expect("write to memory")
}

/// An optional value as written: blank when absent.
pub(crate) fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}
