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

/// Runs `task` now and then every `every`, for as long as the server runs.
/// A tick missed while the task ran is delayed, never run twice in a row.
pub fn every<F, Fut>(every: std::time::Duration, mut task: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            task().await;
        }
    })
}
