//! Recording audience events without slowing a page: a bounded in-memory
//! queue that a background writer empties in batches. A full queue drops the
//! event and counts it; recording never waits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::{RawEvent, Store, StoreError};

/// Events written per batch at most.
const BATCH: usize = 2_000;

/// The queue of events waiting to be written, and its counters.
#[derive(Debug)]
pub struct Recorder {
    queue: Mutex<VecDeque<RawEvent>>,
    capacity: usize,
    /// Off: nothing is recorded (`record` accepts and forgets).
    enabled: bool,
    wake: Notify,
    accepted: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
}

/// What a recorder has seen since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub accepted: u64,
    pub dropped: u64,
    pub written: u64,
}

impl Recorder {
    pub fn new(capacity: usize, enabled: bool) -> Arc<Recorder> {
        Arc::new(Recorder {
            queue: Mutex::new(VecDeque::with_capacity(capacity.min(65_536))),
            capacity,
            enabled,
            wake: Notify::new(),
            accepted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Queues one event. Returns `false` when the queue was full and the
    /// event was dropped (and counted).
    pub fn record(&self, event: RawEvent) -> bool {
        if !self.enabled {
            return true;
        }
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= self.capacity {
            drop(q);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        q.push_back(event);
        let len = q.len();
        drop(q);
        self.accepted.fetch_add(1, Ordering::Relaxed);
        if len >= BATCH {
            self.wake.notify_one();
        }
        true
    }

    pub fn counts(&self) -> Counts {
        Counts {
            accepted: self.accepted.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
        }
    }

    fn take(&self, n: usize) -> Vec<RawEvent> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let n = n.min(q.len());
        q.drain(..n).collect()
    }

    /// Puts back a batch whose write failed, in front, as far as room allows.
    fn put_back(&self, batch: Vec<RawEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.capacity.saturating_sub(q.len());
        let lost = batch.len().saturating_sub(room);
        for e in batch.into_iter().take(room).rev() {
            q.push_front(e);
        }
        drop(q);
        self.dropped.fetch_add(lost as u64, Ordering::Relaxed);
    }

    /// Writes everything queued. On failure the batch goes back to the queue.
    pub async fn flush(&self, store: &dyn Store) -> Result<(), StoreError> {
        loop {
            let batch = self.take(BATCH);
            if batch.is_empty() {
                return Ok(());
            }
            let n = batch.len() as u64;
            if let Err(e) = store.add_events(&batch).await {
                self.put_back(batch);
                return Err(e);
            }
            self.written.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Starts the background writer: it writes whenever a batch is full, and
    /// at least every `every`.
    pub fn spawn_writer(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(every, me.wake.notified()).await;
                if let Err(e) = me.flush(store.as_ref()).await {
                    tracing::warn!(error = %e, "analytics events not written yet");
                    tokio::time::sleep(every).await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let r = Recorder::new(2, true);
        assert!(r.record(RawEvent::default()));
        assert!(r.record(RawEvent::default()));
        assert!(!r.record(RawEvent::default()));
        let c = r.counts();
        assert_eq!((c.accepted, c.dropped, c.written), (2, 1, 0));
    }

    #[test]
    fn a_failed_batch_goes_back_in_front() {
        let r = Recorder::new(3, true);
        for v in ["a", "b"] {
            r.record(RawEvent {
                value: v.into(),
                ..RawEvent::default()
            });
        }
        let batch = r.take(10);
        r.record(RawEvent {
            value: "c".into(),
            ..RawEvent::default()
        });
        r.put_back(batch);
        let order: Vec<String> = r.take(10).into_iter().map(|e| e.value).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
