//! Anonymous counts of guide use, kept in memory and added to the store in
//! batches, so that serving a page never waits for a write.
//!
//! Counts are statistics, not acknowledged writes: a crash loses at most the
//! counts of the last flush interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use crate::store::{Store, StoreError, UsageKey};

/// Where a guide page was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Inside the widget on a host site.
    Embed,
    /// On the guide's own page.
    Direct,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The first step was shown.
    Start,
    /// An answer was shown.
    Result,
}

/// Counts waiting to be written.
#[derive(Debug, Default)]
pub struct Usage {
    pending: Mutex<HashMap<UsageKey, u64>>,
}

impl Usage {
    pub fn new() -> Arc<Usage> {
        Arc::new(Usage::default())
    }

    /// Counts one event. `site` is a registered site's key, if any.
    pub fn record(
        &self,
        day: NaiveDate,
        guide: &str,
        site: Option<&str>,
        channel: Channel,
        event: Event,
    ) {
        let key = UsageKey {
            day: day.format("%Y-%m-%d").to_string(),
            guide: guide.to_owned(),
            site: site.unwrap_or_default().to_owned(),
            channel: match channel {
                Channel::Embed => "embed",
                Channel::Direct => "direct",
            },
            event: match event {
                Event::Start => "start",
                Event::Result => "result",
            },
        };
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *pending.entry(key).or_insert(0) += 1;
    }

    /// Writes the pending counts. On failure they are put back, to be tried
    /// again at the next flush.
    pub async fn flush(&self, store: &dyn Store) -> Result<(), StoreError> {
        let batch: Vec<(UsageKey, u64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = store.add_usage(&batch).await {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for (k, n) in batch {
                *pending.entry(k).or_insert(0) += n;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Flushes every `every` in the background, for as long as the task runs.
    pub fn spawn_flusher(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let usage = self.clone();
        crate::clock::every(every, move || {
            let (usage, store) = (usage.clone(), store.clone());
            async move {
                if let Err(e) = usage.flush(store.as_ref()).await {
                    tracing::warn!(error = %e, "usage counts not written; will retry");
                }
            }
        })
    }
}
