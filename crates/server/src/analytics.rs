//! Recording audience events without slowing a page: a bounded in-memory
//! queue that a background writer empties in batches. A full queue drops the
//! event and counts it; recording never waits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::store::{RawEvent, Store, StoreError, kind};
use crate::web::pages::Limiter;

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
    /// Client events refused, by [`Refusal`].
    refused: [AtomicU64; Refusal::ALL.len()],
    /// Days raw events are kept.
    retention_days: u32,
    /// Client events per address and minute.
    limiter: Arc<Limiter>,
    /// What the server remembers of recent runs (never stored).
    runs: RunMemory,
    /// The key that signs run ids, read from the store on first use.
    key: tokio::sync::OnceCell<[u8; 32]>,
    /// Held while a flush writes: a flush at shutdown waits for the batch
    /// the writer has in hand instead of leaving it behind.
    flushing: tokio::sync::Mutex<()>,
}

/// What a recorder has seen since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub accepted: u64,
    pub dropped: u64,
    pub written: u64,
    /// Client events refused (every reason).
    pub refused: u64,
}

impl Recorder {
    pub fn new(capacity: usize, enabled: bool) -> Arc<Recorder> {
        Recorder::configured(&AnalyticsConfig {
            enabled,
            queue_capacity: capacity,
            ..AnalyticsConfig::default()
        })
    }

    /// A recorder with these settings ([`crate::settings`]).
    pub fn configured(c: &AnalyticsConfig) -> Arc<Recorder> {
        let capacity = c.queue_capacity.max(1);
        Arc::new(Recorder {
            queue: Mutex::new(VecDeque::with_capacity(capacity.min(65_536))),
            capacity,
            enabled: c.enabled,
            wake: Notify::new(),
            accepted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            refused: Default::default(),
            retention_days: c.retention_days,
            limiter: Limiter::new(c.per_address.max(1), Duration::from_secs(60)),
            runs: RunMemory::new(RUNS_REMEMBERED),
            key: tokio::sync::OnceCell::new(),
            flushing: tokio::sync::Mutex::new(()),
        })
    }

    /// Days raw events are kept.
    pub fn retention_days(&self) -> u32 {
        self.retention_days
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

    /// Queues events under one lock; those beyond the capacity are dropped
    /// (and counted).
    pub fn record_all(&self, events: Vec<RawEvent>) {
        if !self.enabled || events.is_empty() {
            return;
        }
        let n = events.len();
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.capacity.saturating_sub(q.len()).min(n);
        q.extend(events.into_iter().take(room));
        let len = q.len();
        drop(q);
        self.accepted.fetch_add(room as u64, Ordering::Relaxed);
        self.dropped.fetch_add((n - room) as u64, Ordering::Relaxed);
        if len >= BATCH {
            self.wake.notify_one();
        }
    }

    pub fn counts(&self) -> Counts {
        Counts {
            accepted: self.accepted.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            refused: self.refused.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
        }
    }

    /// Counts a refused client event.
    pub fn refuse(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Refused client events, by reason.
    pub fn refusals(&self) -> Vec<(&'static str, u64)> {
        Refusal::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    self.refused[*r as usize].load(Ordering::Relaxed),
                )
            })
            .collect()
    }

    /// One more client event from this address (its rate limit key, kept in
    /// memory only) is allowed now.
    pub fn allow_address(&self, ip: Option<std::net::IpAddr>) -> bool {
        self.limiter.allow(ip)
    }

    /// The line `serve` prints at shutdown (no personal data).
    pub fn summary(&self) -> String {
        let c = self.counts();
        format!(
            "events: accepted {}, written {}, dropped {}, refused {}",
            c.accepted, c.written, c.dropped, c.refused
        )
    }

    fn queue_len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
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
        let _one_at_a_time = self.flushing.lock().await;
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

// ---------------------------------------------------------------- settings

/// The recording settings (`--analytics`, `--events-queue`,
/// `--events-retention-days`, `--events-per-address`).
#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    pub enabled: bool,
    pub queue_capacity: usize,
    pub retention_days: u32,
    /// Client events one address may post per minute.
    pub per_address: u32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            enabled: true,
            queue_capacity: 100_000,
            retention_days: 90,
            per_address: 120,
        }
    }
}

/// The longest raw events may be kept: 25 months, the limit under which
/// audience measurement is exempt from consent in France.
pub const MAX_RETENTION_DAYS: u32 = 760;

// ---------------------------------------------------------------- refusals

/// Why a client event was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed = 0,
    TooLarge,
    UnknownType,
    BadRun,
    UnknownGuide,
    UnknownStep,
    UnknownService,
    OutOfOrder,
    RateLimited,
}

impl Refusal {
    pub const ALL: [Refusal; 9] = [
        Refusal::Malformed,
        Refusal::TooLarge,
        Refusal::UnknownType,
        Refusal::BadRun,
        Refusal::UnknownGuide,
        Refusal::UnknownStep,
        Refusal::UnknownService,
        Refusal::OutOfOrder,
        Refusal::RateLimited,
    ];

    /// The error code answered and the counter's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::TooLarge => "too_large",
            Refusal::UnknownType => "unknown_type",
            Refusal::BadRun => "bad_run",
            Refusal::UnknownGuide => "unknown_guide",
            Refusal::UnknownStep => "unknown_step",
            Refusal::UnknownService => "unknown_service",
            Refusal::OutOfOrder => "out_of_order",
            Refusal::RateLimited => "rate_limited",
        }
    }
}

// ---------------------------------------------------------------- run ids

/// The query parameter that carries the run id (one of the guide's display
/// parameters, `locadocs_core::guide::DISPLAY_PARAMS`).
pub const RUN_PARAM: &str = "run";

/// The name of the run-signing key in `instance_secrets`.
pub const RUN_KEY: &str = "run_key";
const RUN_RANDOM: usize = 16;
const RUN_MAC: usize = 12;

/// HMAC-SHA256 (RFC 2104) with a 32-byte key.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

/// A run id: 16 random bytes and the first 12 bytes of their MAC,
/// base64url without padding (38 characters).
pub fn sign_run(key: &[u8; 32], random: [u8; RUN_RANDOM]) -> String {
    let mac = hmac_sha256(key, &random);
    let mut bytes = [0u8; RUN_RANDOM + RUN_MAC];
    bytes[..RUN_RANDOM].copy_from_slice(&random);
    bytes[RUN_RANDOM..].copy_from_slice(&mac[..RUN_MAC]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a run id was made by this instance.
pub fn run_is_valid(key: &[u8; 32], run: &str) -> bool {
    if run.len() != 38 {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(run) else {
        return false;
    };
    if bytes.len() != RUN_RANDOM + RUN_MAC {
        return false;
    }
    let mac = hmac_sha256(key, &bytes[..RUN_RANDOM]);
    // Constant time: every byte is compared.
    mac[..RUN_MAC]
        .iter()
        .zip(&bytes[RUN_RANDOM..])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

impl Recorder {
    async fn run_key(&self, store: &dyn Store) -> Option<&[u8; 32]> {
        let got = self
            .key
            .get_or_try_init(|| async {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh).map_err(|e| e.to_string())?;
                let fresh = base64::engine::general_purpose::STANDARD.encode(fresh);
                let stored = store
                    .instance_secret(RUN_KEY, &fresh)
                    .await
                    .map_err(|e| e.to_string())?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(stored.trim())
                    .map_err(|e| e.to_string())?;
                <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "bad key length".to_owned())
            })
            .await;
        match got {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::warn!(error = %e, "run key unavailable: runs are not recorded");
                None
            }
        }
    }

    /// A new run id, `None` when the key cannot be read.
    pub async fn new_run(&self, store: &dyn Store) -> Option<String> {
        let key = self.run_key(store).await?;
        let mut random = [0u8; RUN_RANDOM];
        getrandom::fill(&mut random).ok()?;
        Some(sign_run(key, random))
    }

    /// Whether `run` was made by this instance (`false` when the key cannot
    /// be read).
    pub async fn verify_run(&self, store: &dyn Store, run: &str) -> bool {
        match self.run_key(store).await {
            Some(key) => run_is_valid(key, run),
            None => false,
        }
    }

    /// Accepts a client event's `seq` for this run when it is greater than
    /// every earlier one (and remembers it).
    pub fn advance_seq(&self, run: &str, seq: u64) -> bool {
        self.runs.with(run, |m| {
            if seq > m.seq {
                m.seq = seq;
                true
            } else {
                false
            }
        })
    }
}

// ---------------------------------------------------------------- runs remembered

/// Runs remembered, per generation: when the current generation is full it
/// becomes the previous one and the oldest is forgotten, so memory stays
/// bounded (two generations at most).
const RUNS_REMEMBERED: usize = 50_000;

#[derive(Debug, Default)]
struct RunMemo {
    /// The step the run's last recorded page load showed.
    last_step: Option<String>,
    /// The highest client `seq` accepted.
    seq: u64,
}

#[derive(Debug, Default)]
struct Generations {
    current: HashMap<String, RunMemo>,
    previous: HashMap<String, RunMemo>,
}

#[derive(Debug)]
struct RunMemory {
    per_generation: usize,
    inner: Mutex<Generations>,
}

impl RunMemory {
    fn new(per_generation: usize) -> RunMemory {
        RunMemory {
            per_generation: per_generation.max(1),
            inner: Mutex::new(Generations::default()),
        }
    }

    fn with<R>(&self, run: &str, f: impl FnOnce(&mut RunMemo) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = g.current.get_mut(run) {
            return f(m);
        }
        let memo = g.previous.remove(run).unwrap_or_default();
        if g.current.len() >= self.per_generation {
            g.previous = std::mem::take(&mut g.current);
        }
        f(g.current.entry(run.to_owned()).or_insert(memo))
    }
}

// ---------------------------------------------------------------- page loads

/// What one guide page load showed, for [`Recorder::page_load`].
#[derive(Debug, Clone, Default)]
pub struct PageLoad {
    /// `at`, `day`, `run`, `guide`, `site`, and `origin` (kept on
    /// `run_started` only).
    pub base: RawEvent,
    /// The load began the run (no valid run in its address).
    pub new_run: bool,
    /// The step shown (a question, a dead end or the result step).
    pub step: String,
    /// The choice or multiple-choice step answered last along the path, with
    /// its values: recorded when it is the step the run's previous load
    /// showed, i.e. answered on this load.
    pub answered: Option<(String, Vec<String>)>,
    pub dead_end: bool,
    /// On an answer page, one per document type.
    pub answers: Vec<AnswerFacts>,
}

/// What an answer says about one document type.
#[derive(Debug, Clone, Default)]
pub struct AnswerFacts {
    pub document_type: String,
    /// Service ids.
    pub holders: Vec<String>,
    pub date_known: bool,
    /// No uncovered period in the timeline.
    pub complete: bool,
}

/// An event of `kind` with the run's context.
pub fn event_of(base: &RawEvent, kind: &str) -> RawEvent {
    RawEvent {
        kind: kind.to_owned(),
        origin: String::new(),
        step: String::new(),
        value: String::new(),
        document_type: String::new(),
        holders: String::new(),
        date_known: None,
        complete: None,
        ..base.clone()
    }
}

/// Now, UTC, RFC 3339 to the second.
pub fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Recorder {
    /// Records a guide page load (see `docs/analytics.md`): `run_started`
    /// when it began the run; then, unless it shows the same step as the
    /// run's previous load (a reload, the return after feedback), `choice`
    /// for the step answered on this load, `step_shown`, and `dead_end` or
    /// one `answer_shown` per document type. Returns the events queued.
    pub fn page_load(&self, p: PageLoad) -> usize {
        if !self.enabled || p.base.run.is_empty() {
            return 0;
        }
        let previous = self
            .runs
            .with(&p.base.run, |m| m.last_step.replace(p.step.clone()));
        let mut events = Vec::new();
        if p.new_run {
            events.push(RawEvent {
                origin: p.base.origin.clone(),
                ..event_of(&p.base, kind::RUN_STARTED)
            });
        }
        if previous.as_deref() != Some(p.step.as_str()) {
            if let Some((step, values)) = &p.answered
                && previous.as_deref() == Some(step.as_str())
            {
                for v in values {
                    events.push(RawEvent {
                        step: step.clone(),
                        value: v.clone(),
                        ..event_of(&p.base, kind::CHOICE)
                    });
                }
            }
            events.push(RawEvent {
                step: p.step.clone(),
                ..event_of(&p.base, kind::STEP_SHOWN)
            });
            if p.dead_end {
                events.push(RawEvent {
                    step: p.step.clone(),
                    ..event_of(&p.base, kind::DEAD_END)
                });
            }
            for a in &p.answers {
                events.push(RawEvent {
                    step: p.step.clone(),
                    document_type: a.document_type.clone(),
                    holders: a.holders.join(" "),
                    date_known: Some(a.date_known),
                    complete: Some(a.complete),
                    ..event_of(&p.base, kind::ANSWER_SHOWN)
                });
            }
        }
        let n = events.len();
        self.record_all(events);
        n
    }
}

// ---------------------------------------------------------------- upkeep

fn days_back(today: chrono::NaiveDate, n: u32) -> chrono::NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(u64::from(n)))
        .unwrap_or(today)
}

impl Recorder {
    /// Writes what is queued, then recomputes today's and yesterday's daily
    /// aggregates.
    pub async fn roll_up(&self, store: &dyn Store, clock: &Clock) -> Result<(), StoreError> {
        self.flush(store).await?;
        let today = clock.today();
        let days = [
            crate::web::api::iso_day(days_back(today, 1)),
            crate::web::api::iso_day(today),
        ];
        store.rollup(&days).await?;
        Ok(())
    }

    /// Deletes raw events older than the retention.
    pub async fn purge(&self, store: &dyn Store, clock: &Clock) -> Result<u64, StoreError> {
        let before = crate::web::api::iso_day(days_back(clock.today(), self.retention_days));
        store.purge_events(&before).await
    }

    /// Starts the upkeep: a purge now and then daily, a roll-up every
    /// `every` (figures include today's events within that delay). A
    /// roll-up re-reads the day's raw events, so under heavy traffic its
    /// pause grows to 20 times its last duration (at most 5 % of a core);
    /// when nothing was written since the last one, it is skipped.
    pub fn spawn_upkeep(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        clock: Clock,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut purged_on = None;
            let mut pause = every;
            let mut rolled_after: Option<u64> = None;
            loop {
                let today = clock.today();
                if purged_on != Some(today) {
                    match me.purge(store.as_ref(), &clock).await {
                        Ok(n) => {
                            purged_on = Some(today);
                            if n > 0 {
                                tracing::info!(events = n, "raw analytics events purged");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "raw analytics events not purged"),
                    }
                }
                tokio::time::sleep(pause).await;
                let written = me.written.load(Ordering::Relaxed);
                if rolled_after == Some(written) && me.queue_len() == 0 {
                    continue;
                }
                let started = std::time::Instant::now();
                match me.roll_up(store.as_ref(), &clock).await {
                    Ok(()) => rolled_after = Some(me.written.load(Ordering::Relaxed)),
                    Err(e) => tracing::warn!(error = %e, "analytics roll-up failed"),
                }
                pause = every.max(started.elapsed() * 20);
            }
        })
    }

    /// At shutdown: writes everything queued (a few attempts), then a last
    /// roll-up.
    pub async fn finish(&self, store: &dyn Store, clock: &Clock) {
        for attempt in 0..5 {
            match self.flush(store).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "analytics events not written yet");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        if let Err(e) = self.roll_up(store, clock).await {
            tracing::warn!(error = %e, "last analytics roll-up failed");
        }
    }
}

/// The origin (`scheme://host[:port]`) of an http(s) address, lower-case;
/// `None` for anything else. Paths, queries and credentials are dropped or
/// refused, so that nothing but the origin is ever kept.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.len() > 200 || authority.contains('@') {
        return None;
    }
    let ok = authority
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !ok {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
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
        // Several at once: as many as there is room for.
        let r = Recorder::new(3, true);
        r.record(RawEvent::default());
        r.record_all(vec![RawEvent::default(); 4]);
        let c = r.counts();
        assert_eq!((c.accepted, c.dropped), (3, 2));
        assert_eq!(r.queue_len(), 3);
    }

    #[test]
    fn run_ids_verify_and_forgeries_do_not() {
        let key = [7u8; 32];
        let run = sign_run(&key, [1u8; 16]);
        assert_eq!(run.len(), 38);
        assert!(run_is_valid(&key, &run));
        assert!(!run_is_valid(&[8u8; 32], &run));
        let mut forged = run.clone().into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        assert!(!run_is_valid(&key, std::str::from_utf8(&forged).unwrap()));
        assert!(!run_is_valid(&key, "abc"));
        assert!(!run_is_valid(&key, &"A".repeat(38)));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; ours are 32 bytes, padded
        // with zeros the same way HMAC pads any short key.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_reload_records_nothing_new_and_a_choice_counts_once() {
        let r = Recorder::new(100, true);
        let base = RawEvent {
            run: "r".into(),
            guide: "g".into(),
            ..RawEvent::default()
        };
        let load = |step: &str, answered: Option<(&str, &str)>, new_run| PageLoad {
            base: base.clone(),
            new_run,
            step: step.into(),
            answered: answered.map(|(s, v)| (s.to_owned(), vec![v.to_owned()])),
            ..PageLoad::default()
        };
        assert_eq!(r.page_load(load("a", None, true)), 2);
        assert_eq!(r.page_load(load("a", None, false)), 0);
        assert_eq!(r.page_load(load("b", Some(("a", "x")), false)), 2);
        // « Modifier » back to a: no choice; then a answered again.
        assert_eq!(r.page_load(load("a", None, false)), 1);
        assert_eq!(r.page_load(load("b", Some(("a", "y")), false)), 2);
        let kinds: Vec<String> = r.take(100).into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                "run_started",
                "step_shown",
                "choice",
                "step_shown",
                "step_shown",
                "choice",
                "step_shown"
            ]
        );
    }

    #[test]
    fn seq_must_increase_per_run() {
        let r = Recorder::new(10, true);
        assert!(r.advance_seq("a", 1));
        assert!(r.advance_seq("b", 1));
        assert!(!r.advance_seq("a", 1));
        assert!(r.advance_seq("a", 5));
        assert!(!r.advance_seq("a", 4));
    }

    #[test]
    fn run_memory_stays_bounded() {
        let m = RunMemory::new(2);
        for run in ["a", "b", "c", "d", "e"] {
            m.with(run, |memo| memo.seq = 1);
        }
        let g = m.inner.lock().unwrap();
        assert!(g.current.len() + g.previous.len() <= 4);
    }

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("https://www.Rennes.fr:8443/a/b?c=d#e").as_deref(),
            Some("https://www.rennes.fr:8443")
        );
        assert_eq!(origin_of("http://x.fr").as_deref(), Some("http://x.fr"));
        assert_eq!(origin_of("https://user:pw@x.fr/"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("ftp://x.fr"), None);
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
