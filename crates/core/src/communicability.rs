//! When anyone may consult a document (Code du patrimoine L213-1, L213-2).

use chrono::NaiveDate;
use serde::Serialize;

use crate::reference::ymd;

/// Whether a document is freely accessible, computed for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Communicability {
    /// `Some(true)`: free now; `Some(false)`: not yet; `None`: unknown
    /// because the document's date is unknown.
    pub free: Option<bool>,
    /// The day it becomes free for everyone, when that is known and a delay
    /// applies.
    pub free_from: Option<NaiveDate>,
    /// The legal delay in years (0: free at once).
    pub delay_years: u32,
    /// Who may access earlier, exceptions.
    pub note: Option<String>,
}

/// Computes communicability for a document of year `year` (if known), given
/// its type's delay. Delays run from 1 January of the year after the
/// document's date: a 1985 document under a 75-year delay is free from
/// 2061-01-01.
pub fn communicability(
    delay_years: u32,
    note: Option<&str>,
    year: Option<i32>,
    today: NaiveDate,
) -> Communicability {
    let note = note.map(str::to_owned);
    if delay_years == 0 {
        return Communicability {
            free: Some(true),
            free_from: None,
            delay_years,
            note,
        };
    }
    match year {
        None => Communicability {
            free: None,
            free_from: None,
            delay_years,
            note,
        },
        Some(y) => {
            let free_from = ymd(y.saturating_add(delay_years as i32).saturating_add(1), 1, 1);
            Communicability {
                free: Some(today >= free_from),
                free_from: Some(free_from),
                delay_years,
                note,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn delays() {
        let today = d("2026-11-23");
        let c = communicability(0, None, Some(2020), today);
        assert_eq!((c.free, c.free_from), (Some(true), None));
        let c = communicability(0, None, None, today);
        assert_eq!(c.free, Some(true));

        let c = communicability(75, Some("Les parties ont accès"), Some(1985), today);
        assert_eq!((c.free, c.free_from), (Some(false), Some(d("2061-01-01"))));
        assert_eq!(c.note.as_deref(), Some("Les parties ont accès"));

        let c = communicability(75, None, Some(1950), today);
        assert_eq!((c.free, c.free_from), (Some(true), Some(d("2026-01-01"))));
        // The boundary: free on 1 January of Y + N + 1, not the day before.
        let c = communicability(75, None, Some(1951), today);
        assert_eq!((c.free, c.free_from), (Some(false), Some(d("2027-01-01"))));
        let c = communicability(75, None, Some(1951), d("2027-01-01"));
        assert_eq!(c.free, Some(true));

        let c = communicability(75, None, None, today);
        assert_eq!((c.free, c.free_from, c.delay_years), (None, None, 75));
    }
}
