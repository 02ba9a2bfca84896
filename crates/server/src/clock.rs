//! Today's date in France, which legal delays and rolling bounds count from.

use chrono::NaiveDate;

/// Gives "today" in Europe/Paris, or a fixed day (tests, `--today`, `LOCADOCS_TODAY`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<NaiveDate>,
}

impl Clock {
    /// A clock fixed on one day.
    pub fn fixed(day: NaiveDate) -> Clock {
        Clock { fixed: Some(day) }
    }

    /// Today's date, or a fixed one (`--today`, `LOCADOCS_TODAY`).
    pub fn new(fixed: Option<NaiveDate>) -> Clock {
        Clock { fixed }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed.unwrap_or_else(|| {
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Europe::Paris)
                .date_naive()
        })
    }
}
