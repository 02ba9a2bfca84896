//! Today's date in France, which legal delays and rolling bounds count from.

use chrono::NaiveDate;

/// Gives "today" in Europe/Paris, or a fixed day (tests, `LOCADOCS_TODAY`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<NaiveDate>,
}

impl Clock {
    /// A clock fixed on one day.
    pub fn fixed(day: NaiveDate) -> Clock {
        Clock { fixed: Some(day) }
    }

    /// Reads `LOCADOCS_TODAY=YYYY-MM-DD` if set.
    pub fn from_env() -> anyhow::Result<Clock> {
        match std::env::var("LOCADOCS_TODAY") {
            Ok(s) if !s.trim().is_empty() => {
                let day = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                    anyhow::anyhow!("LOCADOCS_TODAY=« {s} » : date attendue au format AAAA-MM-JJ")
                })?;
                Ok(Clock::fixed(day))
            }
            _ => Ok(Clock::default()),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed.unwrap_or_else(|| {
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Europe::Paris)
                .date_naive()
        })
    }
}
