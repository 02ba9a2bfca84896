//! Sums of daily aggregates, as the dashboards and `/stats` read them, kept
//! between views.
//!
//! A period is read in two parts:
//!
//! - its **settled** days, up to the day before yesterday: the roll-up
//!   rewrites only today and yesterday, so their sums are kept for the whole
//!   day — until the date changes or a write rewrites a settled day
//!   ([`crate::store::Analytics::settled_writes`]: imports of past
//!   figures, tests);
//! - its **recent** days, yesterday and today, kept [`CACHE_SECONDS`] like
//!   every figure that includes today's events.
//!
//! A long period's sums are therefore read once a day; after that a view
//! reads two days of daily rows. Each query's whole answer (both parts
//! added in one pass over their sorted rows) is kept as long as its recent
//! part, so that a view served again adds nothing. The dashboards' usual periods are computed
//! ahead, at start and after midnight
//! ([`super::admin::screens::spawn_dashboard_warmer`]), so that nobody
//! waits for them.
//!
//! A query limited to some services (`dims`) and grouped by service is
//! answered from the sums of every service, filtered: a contributor's
//! dashboard reads the sums an editor's did.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Days, NaiveDate};

use super::stats::CACHE_SECONDS;
use crate::store::{Store, StoreError, Total, TotalsQuery};

/// What settled sums were read for: the day, and the store's count of
/// writes to settled days then ([`settled_stamp`]).
pub type Stamp = (NaiveDate, u64);

/// The stamp of the sums read on `today`: read it before the sums, so
/// that a write landing meanwhile makes them stale.
pub fn settled_stamp(store: &dyn Store, today: NaiveDate) -> Stamp {
    (today, store.settled_writes(eve_of(today)))
}

/// Settled sums and what they were read for.
struct Settled {
    stamp: Stamp,
    sums: Arc<Vec<Total>>,
}

/// Recent sums: when they were read, the sums.
type Recent = (Instant, Arc<Vec<Total>>);

/// See the module's documentation. Bounded: past [`TotalsCache::MAX`]
/// entries of a kind, the stale ones go, then all.
#[derive(Default)]
pub struct TotalsCache {
    settled: Mutex<HashMap<TotalsQuery, Settled>>,
    recent: Mutex<HashMap<TotalsQuery, Recent>>,
    /// Each query's answer, both parts added (and filtered to its
    /// services), kept as long as its recent part.
    whole: Mutex<HashMap<TotalsQuery, Whole>>,
}

/// The last settled day: the day before yesterday.
fn eve_of(today: NaiveDate) -> NaiveDate {
    today.checked_sub_days(Days::new(2)).unwrap_or(today)
}

/// The parts of `q` to read: its settled days (to the day before
/// yesterday) and its recent ones (from yesterday); `None` for a part the
/// period does not reach. Days are `YYYY-MM-DD`, compared as text.
fn split(q: &TotalsQuery, today: NaiveDate) -> (Option<TotalsQuery>, Option<TotalsQuery>) {
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let (eve, yesterday) = (iso(eve_of(today)), iso(yesterday));
    let settled = q
        .from
        .as_ref()
        .is_none_or(|f| *f <= eve)
        .then(|| TotalsQuery {
            to: Some(match &q.to {
                Some(t) if *t < eve => t.clone(),
                _ => eve.clone(),
            }),
            ..q.clone()
        });
    let recent =
        q.to.as_ref()
            .is_none_or(|t| *t >= yesterday)
            .then(|| TotalsQuery {
                from: Some(match &q.from {
                    Some(f) if *f > yesterday => f.clone(),
                    _ => yesterday.clone(),
                }),
                ..q.clone()
            });
    (settled, recent)
}

/// A total's key, in the order the store sorts its results by.
fn key(t: &Total) -> (&str, &str, &str, &str, &str, &str) {
    (&t.kind, &t.period, &t.guide, &t.site, &t.dim, &t.value)
}

/// The sums of both parts, in the store's order: one pass over both, each
/// sorted by key (as the store returns them), equal keys added.
fn merge(a: &[Total], b: &[Total]) -> Vec<Total> {
    let sorted = |v: &[Total]| v.windows(2).all(|w| key(&w[0]) < key(&w[1]));
    if !sorted(a) || !sorted(b) {
        // Not the store's order: add through a map.
        let mut acc: BTreeMap<_, (i64, i64)> = BTreeMap::new();
        for t in a.iter().chain(b) {
            let e = acc.entry(key(t)).or_default();
            e.0 += t.events;
            e.1 += t.runs;
        }
        return acc
            .into_iter()
            .map(
                |((kind, period, guide, site, dim, value), (events, runs))| Total {
                    kind: kind.to_owned(),
                    period: period.to_owned(),
                    guide: guide.to_owned(),
                    site: site.to_owned(),
                    dim: dim.to_owned(),
                    value: value.to_owned(),
                    events,
                    runs,
                },
            )
            .collect();
    }
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match key(&a[i]).cmp(&key(&b[j])) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(Total {
                    events: a[i].events + b[j].events,
                    runs: a[i].runs + b[j].runs,
                    ..a[i].clone()
                });
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Whole sums: when they were made, the day and settled writes they were
/// made for, the sums.
struct Whole {
    at: Instant,
    stamp: Stamp,
    sums: Arc<Vec<Total>>,
}

/// Keeps `value` under `key` in a map of at most [`TotalsCache::MAX`]
/// entries: when full, the entries no longer `valid` go, then all.
fn keep<V>(
    map: &Mutex<HashMap<TotalsQuery, V>>,
    key: TotalsQuery,
    value: V,
    valid: impl Fn(&V) -> bool,
) {
    let mut kept = map.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= TotalsCache::MAX {
        kept.retain(|_, v| valid(v));
        if kept.len() >= TotalsCache::MAX {
            kept.clear();
        }
    }
    kept.insert(key, value);
}

/// Whether sums read at `at` are still fresh.
fn fresh(at: &Instant) -> bool {
    at.elapsed().as_secs() < CACHE_SECONDS
}

impl TotalsCache {
    const MAX: usize = 1024;

    pub fn new() -> Arc<TotalsCache> {
        Arc::new(TotalsCache::default())
    }

    /// Forgets every sum (the benchmark measures dashboards computed).
    pub fn clear(&self) {
        self.settled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.clear_recent();
    }

    /// Forgets the sums of recent days, as when they expire (benchmark).
    pub fn clear_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.whole.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn whole_get(&self, q: &TotalsQuery, stamp: Stamp) -> Option<(Instant, Arc<Vec<Total>>)> {
        let kept = self.whole.lock().unwrap_or_else(|e| e.into_inner());
        let w = kept.get(q)?;
        (w.stamp == stamp && fresh(&w.at)).then(|| (w.at, w.sums.clone()))
    }

    /// Keeps a whole answer as old as its recent part (`at`): it expires
    /// with it.
    fn whole_put(&self, q: TotalsQuery, stamp: Stamp, at: Instant, sums: Arc<Vec<Total>>) {
        keep(&self.whole, q, Whole { at, stamp, sums }, |w| {
            w.stamp == stamp && fresh(&w.at)
        });
    }

    /// The sums for `q` on `today`: kept ones while valid, else from the
    /// store. Today's events are in them within [`CACHE_SECONDS`] of their
    /// roll-up.
    pub async fn read(
        &self,
        store: &dyn Store,
        today: NaiveDate,
        q: TotalsQuery,
    ) -> Result<Arc<Vec<Total>>, StoreError> {
        let stamp = settled_stamp(store, today);
        if let Some((_, sums)) = self.whole_get(&q, stamp) {
            return Ok(sums);
        }
        let (at, sums) = match &q.dims {
            Some(dims) if q.group.dim && !dims.is_empty() => {
                let wide = TotalsQuery {
                    dims: None,
                    ..q.clone()
                };
                let (at, every) = match self.whole_get(&wide, stamp) {
                    Some(kept) => kept,
                    None => {
                        let (at, every) = self.parts(store, stamp, &wide, true).await?;
                        self.whole_put(wide, stamp, at, every.clone());
                        (at, every)
                    }
                };
                let wanted: HashSet<&str> = dims.iter().map(String::as_str).collect();
                let mine = every
                    .iter()
                    .filter(|t| wanted.contains(t.dim.as_str()))
                    .cloned()
                    .collect();
                (at, Arc::new(mine))
            }
            _ => self.parts(store, stamp, &q, true).await?,
        };
        self.whole_put(q, stamp, at, sums.clone());
        Ok(sums)
    }

    /// The sums for `q` with their recent part read from the store now and
    /// kept nowhere, the settled part as [`TotalsCache::read`] keeps it:
    /// for figures that are themselves kept (`/stats`).
    pub async fn read_fresh(
        &self,
        store: &dyn Store,
        today: NaiveDate,
        q: TotalsQuery,
    ) -> Result<Arc<Vec<Total>>, StoreError> {
        let stamp = settled_stamp(store, today);
        Ok(self.parts(store, stamp, &q, false).await?.1)
    }

    /// Both parts of `q`, added, and when the recent one was read (now when
    /// there is none). `keep_recent`: whether the recent part is kept.
    async fn parts(
        &self,
        store: &dyn Store,
        stamp: Stamp,
        q: &TotalsQuery,
        keep_recent: bool,
    ) -> Result<(Instant, Arc<Vec<Total>>), StoreError> {
        let (settled, recent) = split(q, stamp.0);
        let (a, b) = tokio::try_join!(
            async {
                match settled {
                    Some(s) => self.settled(store, stamp, s).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match recent {
                    Some(r) if keep_recent => self.recent(store, r).await.map(Some),
                    Some(r) => Ok(Some((Instant::now(), Arc::new(store.totals(&r).await?)))),
                    None => Ok(None),
                }
            },
        )?;
        Ok(match (a, b) {
            (Some(a), Some((at, b))) => (at, Arc::new(merge(&a, &b))),
            (Some(a), None) => (Instant::now(), a),
            (None, Some(b)) => b,
            (None, None) => (Instant::now(), Arc::new(Vec::new())),
        })
    }

    async fn settled(
        &self,
        store: &dyn Store,
        stamp: Stamp,
        q: TotalsQuery,
    ) -> Result<Arc<Vec<Total>>, StoreError> {
        if let Some(s) = self
            .settled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&q)
            && s.stamp == stamp
        {
            return Ok(s.sums.clone());
        }
        let sums = Arc::new(store.totals(&q).await?);
        let value = Settled {
            stamp,
            sums: sums.clone(),
        };
        keep(&self.settled, q, value, |s| s.stamp == stamp);
        Ok(sums)
    }

    async fn recent(&self, store: &dyn Store, q: TotalsQuery) -> Result<Recent, StoreError> {
        if let Some((at, sums)) = self
            .recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&q)
            && fresh(at)
        {
            return Ok((*at, sums.clone()));
        }
        let at = Instant::now();
        let sums = Arc::new(store.totals(&q).await?);
        keep(&self.recent, q, (at, sums.clone()), |(at, _)| fresh(at));
        Ok((at, sums))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> TotalsQuery {
        TotalsQuery {
            kinds: vec!["run_started".into()],
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            ..TotalsQuery::default()
        }
    }

    fn ends(p: Option<TotalsQuery>) -> Option<(Option<String>, Option<String>)> {
        p.map(|p| (p.from, p.to))
    }

    fn s(d: &str) -> Option<String> {
        Some(d.to_owned())
    }

    #[test]
    fn a_period_splits_before_yesterday() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // Across: settled to the day before yesterday, recent from yesterday.
        let (a, b) = split(&q(Some("2025-03-01"), Some("2026-03-01")), today);
        assert_eq!(ends(a), Some((s("2025-03-01"), s("2026-02-27"))));
        assert_eq!(ends(b), Some((s("2026-02-28"), s("2026-03-01"))));
        // Open ends stay open on their side.
        let (a, b) = split(&q(None, None), today);
        assert_eq!(ends(a), Some((None, s("2026-02-27"))));
        assert_eq!(ends(b), Some((s("2026-02-28"), None)));
        // All settled.
        let (a, b) = split(&q(Some("2025-01-01"), Some("2025-12-31")), today);
        assert_eq!(ends(a), Some((s("2025-01-01"), s("2025-12-31"))));
        assert_eq!(ends(b), None);
        // All recent, and a period that begins today.
        let (a, b) = split(&q(Some("2026-02-28"), Some("2026-03-01")), today);
        assert_eq!(ends(a), None);
        assert_eq!(ends(b), Some((s("2026-02-28"), s("2026-03-01"))));
        let (a, b) = split(&q(Some("2026-03-01"), None), today);
        assert_eq!(ends(a), None);
        assert_eq!(ends(b), Some((s("2026-03-01"), None)));
        // The eve of yesterday is the last settled day.
        let (a, b) = split(&q(Some("2026-02-27"), Some("2026-02-27")), today);
        assert_eq!(ends(a), Some((s("2026-02-27"), s("2026-02-27"))));
        assert_eq!(ends(b), None);
    }

    #[test]
    fn both_parts_add_up_by_key() {
        let t = |dim: &str, events, runs| Total {
            kind: "k".into(),
            dim: dim.into(),
            events,
            runs,
            ..Total::default()
        };
        let merged = merge(
            &[t("b", 1, 1), t("a", 2, 2)],
            &[t("b", 10, 5), t("c", 3, 1)],
        );
        assert_eq!(merged, vec![t("a", 2, 2), t("b", 11, 6), t("c", 3, 1)]);
    }
}
