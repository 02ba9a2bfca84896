//! Audience and impact measurement: raw events (kept a few months) and the
//! daily aggregates every page reads (kept).
//!
//! Raw events carry nothing personal: no cookie, no address, no user agent,
//! no free text. The daily aggregates are a pure function of one day's raw
//! events ([`aggregate`]), so recomputing the last days from the raw events
//! ([`Analytics::rollup`]) always gives the same figures, and the benchmark
//! builds years of aggregates from generated events the same way.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use async_trait::async_trait;
use sqlx::Row;

use super::sql::{Val as SqlVal, insert_batched as insert_rows};
use super::{SqlStore, StoreError};

/// Event kinds, as stored. Every kind and what it carries is in
/// `docs/analytics.md`.
pub mod kind {
    /// A guide run started (its first step shown).
    pub const RUN_STARTED: &str = "run_started";
    /// A step shown (`step`).
    pub const STEP_SHOWN: &str = "step_shown";
    /// A choice answered (`step`, `value`: the choice's value).
    pub const CHOICE: &str = "choice";
    /// An answer page shown, one event per document type (`document_type`,
    /// `holders`, `date_known`, `complete`).
    pub const ANSWER_SHOWN: &str = "answer_shown";
    /// A dead end reached (`step`).
    pub const DEAD_END: &str = "dead_end";
    /// Feedback given (`value`: the level 1–4, `document_type`).
    pub const FEEDBACK: &str = "feedback";
    /// A click on a holder's link (`holders`: the service, `value`:
    /// `contact`, `website` or `request`).
    pub const LINK_CLICKED: &str = "link_clicked";
    /// A suggestion sent from a dead end (`step`).
    pub const SUGGESTION: &str = "suggestion";
    /// "Sans ce guide, à qui vous seriez-vous adressé ?" answered (`value`:
    /// the guessed kind, `holders`: the answer's holders, `complete`: 1 when
    /// the guess was one of the holders' kinds).
    pub const MISDIRECTION: &str = "misdirection";
    /// A request sent (`holders`: the service, `document_type`).
    pub const REQUEST_SENT: &str = "request_sent";
    /// A request rerouted (`holders`: from and to, `document_type`).
    pub const REQUEST_REROUTED: &str = "request_rerouted";
    /// A request's first answer (`holders`: the service, `value`: whole
    /// hours from sending to the first answer).
    pub const REQUEST_ANSWERED: &str = "request_answered";

    /// The guide shown inside a host page's widget (`origin`: the host
    /// page's origin, as the widget's script learnt it; `step`).
    pub const WIDGET_SHOWN: &str = "widget_shown";

    /// Every kind.
    pub const ALL: [&str; 13] = [
        RUN_STARTED,
        STEP_SHOWN,
        CHOICE,
        ANSWER_SHOWN,
        DEAD_END,
        FEEDBACK,
        LINK_CLICKED,
        SUGGESTION,
        MISDIRECTION,
        REQUEST_SENT,
        REQUEST_REROUTED,
        REQUEST_ANSWERED,
        WIDGET_SHOWN,
    ];

    /// Aggregate-only kind: one row per holder of an answer (`dim`: the
    /// service, `value`: the document type).
    pub const ANSWER_HOLDER: &str = "answer_holder";

    /// Aggregate-only kind: one row per answer page shown, whatever its
    /// document types (`dim` and `value` empty), so that its `runs` are the
    /// distinct runs that reached an answer that day.
    pub const ANSWER_RUN: &str = "answer_run";
}

/// One raw event. Empty strings stand for "none".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// UTC, RFC 3339, to the second.
    pub at: String,
    /// Local day, `YYYY-MM-DD`.
    pub day: String,
    pub run: String,
    pub kind: String,
    pub guide: String,
    pub site: String,
    pub step: String,
    pub value: String,
    pub document_type: String,
    /// Service ids, space-separated.
    pub holders: String,
    pub origin: String,
    pub date_known: Option<bool>,
    pub complete: Option<bool>,
}

/// One row of daily aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRow {
    pub day: String,
    pub kind: String,
    pub guide: String,
    pub site: String,
    pub dim: String,
    pub value: String,
    pub events: i64,
    /// Distinct runs that day (events without a run count as one run each).
    pub runs: i64,
}

/// The `site` of the stored rows that sum every site (no site included):
/// queries that neither filter nor group by site read these, a fraction of
/// the rows. Site keys are lower-case letters, digits and hyphens, so this
/// is never a real key; it never leaves the store.
pub const ALL_SITES: &str = "*";

/// The rows summing `rows` over their sites, one per (day, kind, guide,
/// dim, value). A run has one site, so the sum of runs is the distinct
/// runs of every site together.
fn all_sites(rows: &[DailyRow]) -> Vec<DailyRow> {
    // (day, kind, guide, dim, value) → (events, runs)
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);
    let mut acc: BTreeMap<Key<'_>, (i64, i64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.site != ALL_SITES) {
        let e = acc
            .entry((&r.day, &r.kind, &r.guide, &r.dim, &r.value))
            .or_default();
        e.0 += r.events;
        e.1 += r.runs;
    }
    acc.into_iter()
        .map(
            |((day, kind, guide, dim, value), (events, runs))| DailyRow {
                day: day.to_owned(),
                kind: kind.to_owned(),
                guide: guide.to_owned(),
                site: ALL_SITES.to_owned(),
                dim: dim.to_owned(),
                value: value.to_owned(),
                events,
                runs,
            },
        )
        .collect()
}

/// The aggregate rows one raw event adds to: `(kind, dim, value)`.
///
/// | kind | dim | value |
/// | --- | --- | --- |
/// | run_started | '' | '' |
/// | step_shown, dead_end, suggestion | step | '' |
/// | choice | step | choice value |
/// | answer_shown | document type | `complete` / `incomplete`, then `date_known` / `date_unknown` in a second row of kind `answer_date` |
/// | answer_holder | service | document type (one row per holder) |
/// | answer_run | '' | '' (one row per answer event: distinct runs with an answer) |
/// | feedback | document type | level |
/// | link_clicked | service | link kind |
/// | misdirection | guessed kind | `same` / `different` |
/// | request_sent | service | document type |
/// | request_rerouted | from service | to service |
/// | request_answered | service | whole hours |
/// | widget_shown | host page origin | '' |
pub fn keys_of(e: &RawEvent) -> Vec<(String, String, String)> {
    let k = e.kind.as_str();
    let one = |dim: &str, value: &str| vec![(k.to_owned(), dim.to_owned(), value.to_owned())];
    let first_holder = e.holders.split(' ').next().unwrap_or_default();
    match k {
        kind::RUN_STARTED => one("", ""),
        kind::STEP_SHOWN | kind::DEAD_END | kind::SUGGESTION => one(&e.step, ""),
        kind::CHOICE => one(&e.step, &e.value),
        kind::ANSWER_SHOWN => {
            let mut keys = one(
                &e.document_type,
                if e.complete == Some(true) {
                    "complete"
                } else {
                    "incomplete"
                },
            );
            keys.push((
                "answer_date".to_owned(),
                e.document_type.clone(),
                if e.date_known == Some(true) {
                    "date_known"
                } else {
                    "date_unknown"
                }
                .to_owned(),
            ));
            for h in e.holders.split(' ').filter(|h| !h.is_empty()) {
                keys.push((
                    kind::ANSWER_HOLDER.to_owned(),
                    h.to_owned(),
                    e.document_type.clone(),
                ));
            }
            keys.push((kind::ANSWER_RUN.to_owned(), String::new(), String::new()));
            keys
        }
        kind::FEEDBACK => one(&e.document_type, &e.value),
        kind::LINK_CLICKED => one(first_holder, &e.value),
        kind::MISDIRECTION => one(
            &e.value,
            if e.complete == Some(true) {
                "same"
            } else {
                "different"
            },
        ),
        kind::REQUEST_SENT => one(first_holder, &e.document_type),
        kind::REQUEST_REROUTED => {
            let mut it = e.holders.split(' ');
            let from = it.next().unwrap_or_default();
            let to = it.next().unwrap_or_default();
            one(from, to)
        }
        kind::REQUEST_ANSWERED => one(first_holder, &e.value),
        kind::WIDGET_SHOWN => one(&e.origin, ""),
        _ => Vec::new(),
    }
}

/// The daily aggregates of some raw events (any days, any order).
pub fn aggregate<'a>(events: impl IntoIterator<Item = &'a RawEvent>) -> Vec<DailyRow> {
    type Key = (String, String, String, String, String, String);
    let mut acc: BTreeMap<Key, (i64, HashSet<&'a str>, i64)> = BTreeMap::new();
    for e in events {
        for (k, dim, value) in keys_of(e) {
            let key = (
                e.day.clone(),
                k,
                e.guide.clone(),
                e.site.clone(),
                dim,
                value,
            );
            let entry = acc.entry(key).or_insert_with(|| (0, HashSet::new(), 0));
            entry.0 += 1;
            if e.run.is_empty() {
                entry.2 += 1;
            } else {
                entry.1.insert(e.run.as_str());
            }
        }
    }
    acc.into_iter()
        .map(
            |((day, kind, guide, site, dim, value), (events, runs, anonymous))| DailyRow {
                day,
                kind,
                guide,
                site,
                dim,
                value,
                events,
                runs: runs.len() as i64 + anonymous,
            },
        )
        .collect()
}

/// How totals are grouped: each `true` field is a column of the result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GroupBy {
    pub month: bool,
    pub day: bool,
    pub guide: bool,
    pub site: bool,
    pub dim: bool,
    pub value: bool,
}

/// Which daily rows to sum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TotalsQuery {
    /// Kinds to include (at least one).
    pub kinds: Vec<String>,
    /// First day included, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day included, `YYYY-MM-DD`.
    pub to: Option<String>,
    pub guide: Option<String>,
    pub site: Option<String>,
    /// Only these dims (for instance a contributor's services).
    pub dims: Option<Vec<String>>,
    pub group: GroupBy,
}

/// Summed daily rows. Fields not grouped on are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Total {
    pub kind: String,
    /// `YYYY-MM` when grouped by month, `YYYY-MM-DD` by day.
    pub period: String,
    pub guide: String,
    pub site: String,
    pub dim: String,
    pub value: String,
    pub events: i64,
    /// Sum of daily distinct runs: a run that spans two days counts twice.
    pub runs: i64,
}

/// Raw events past their keeping date, and when to purge them.
#[async_trait]
pub trait Analytics: Send + Sync {
    /// Stores raw events, in one transaction.
    async fn add_events(&self, events: &[RawEvent]) -> Result<(), StoreError>;

    /// The raw events of some days, oldest first (tests, roll-up).
    async fn raw_events(&self, days: &[String]) -> Result<Vec<RawEvent>, StoreError>;

    /// Recomputes the daily aggregates of these days from their raw events,
    /// in one transaction. Days whose raw events are gone keep their rows.
    async fn rollup(&self, days: &[String]) -> Result<usize, StoreError>;

    /// Replaces the aggregates of the days present in `rows` (benchmarks,
    /// imports of past figures).
    async fn put_daily(&self, rows: &[DailyRow]) -> Result<(), StoreError>;

    /// Deletes raw events of days before `day`. Aggregates stay.
    async fn purge_events(&self, before_day: &str) -> Result<u64, StoreError>;

    /// Sums of daily rows.
    async fn totals(&self, q: &TotalsQuery) -> Result<Vec<Total>, StoreError>;

    /// A number that changes whenever this process rewrites the aggregates
    /// of a day up to `day`. The roll-up only ever rewrites today and
    /// yesterday, so the sums of the days before may be kept as long as
    /// this number does not change (imports of past figures, benchmarks and
    /// tests change it).
    fn settled_writes(&self, day: chrono::NaiveDate) -> u64;

    /// This instance's secret named `name`: the one stored, or `fresh`,
    /// stored now, when there is none yet (two servers starting at once
    /// agree on the first one written).
    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError>;
}

fn flag(b: Option<bool>) -> Option<i64> {
    b.map(i64::from)
}

fn raw_row(r: &sqlx::any::AnyRow) -> Result<RawEvent, StoreError> {
    let flag = |name: &str| -> Result<Option<bool>, StoreError> {
        Ok(r.try_get::<Option<i64>, _>(name)?.map(|v| v != 0))
    };
    Ok(RawEvent {
        at: r.try_get("at")?,
        day: r.try_get("day")?,
        run: r.try_get("run")?,
        kind: r.try_get("kind")?,
        guide: r.try_get("guide")?,
        site: r.try_get("site")?,
        step: r.try_get("step")?,
        value: r.try_get("value")?,
        document_type: r.try_get("document_type")?,
        holders: r.try_get("holders")?,
        origin: r.try_get("origin")?,
        date_known: flag("date_known")?,
        complete: flag("complete")?,
    })
}

fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which days' aggregates this process wrote, and when (a number that
/// grows with every write).
#[derive(Debug, Default)]
pub struct WrittenDays {
    /// Each day written, with the number of its last write.
    days: std::sync::Mutex<BTreeMap<chrono::NaiveDate, u64>>,
    writes: std::sync::atomic::AtomicU64,
}

impl WrittenDays {
    /// Notes that the aggregates of `days` were rewritten.
    fn wrote(&self, days: &[String]) {
        let n = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let mut kept = self.days.lock().unwrap_or_else(|e| e.into_inner());
        for d in days {
            if let Ok(d) = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                kept.insert(d, n);
            }
        }
    }

    /// The number of the last write of a day up to `day` (0: none).
    fn last_write_up_to(&self, day: chrono::NaiveDate) -> u64 {
        let kept = self.days.lock().unwrap_or_else(|e| e.into_inner());
        kept.range(..=day).map(|(_, n)| *n).max().unwrap_or(0)
    }
}

impl SqlStore {
    async fn write_daily(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        days: &[String],
        rows: &[DailyRow],
    ) -> Result<(), StoreError> {
        for chunk in days.chunks(200) {
            let sql = format!(
                "DELETE FROM analytics_daily WHERE day IN ({})",
                placeholders(1, chunk.len())
            );
            // Only placeholders are spliced in; values are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for d in chunk {
                q = q.bind(d);
            }
            q.execute(&mut **tx).await?;
        }
        let summed = all_sites(rows);
        let vals = rows
            .iter()
            .filter(|r| r.site != ALL_SITES)
            .chain(&summed)
            .map(|r| {
                vec![
                    SqlVal::from(r.day.as_str()),
                    r.kind.as_str().into(),
                    r.guide.as_str().into(),
                    r.site.as_str().into(),
                    r.dim.as_str().into(),
                    r.value.as_str().into(),
                    r.events.into(),
                    r.runs.into(),
                ]
            })
            .collect();
        insert_rows(
            tx,
            "INSERT INTO analytics_daily (day, kind, guide, site, dim, value, events, runs)",
            8,
            vals,
            "",
        )
        .await?;
        let months: BTreeSet<&str> = days.iter().filter_map(|d| d.get(..7)).collect();
        for m in months {
            Self::write_month(tx, m).await?;
        }
        Ok(())
    }

    /// Recomputes one month's sums from its daily rows.
    async fn write_month(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        month: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM analytics_monthly WHERE month = $1")
            .bind(month)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO analytics_monthly (month, kind, guide, site, dim, value, events, runs) \
             SELECT $1, kind, guide, site, dim, value, SUM(events), SUM(runs) \
             FROM analytics_daily WHERE day >= $2 AND day <= $3 \
             GROUP BY kind, guide, site, dim, value",
        )
        .bind(month)
        .bind(format!("{month}-01"))
        .bind(format!("{month}-31"))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Analytics for SqlStore {
    async fn add_events(&self, events: &[RawEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let vals = events
            .iter()
            .map(|e| {
                vec![
                    SqlVal::from(e.at.as_str()),
                    e.day.as_str().into(),
                    e.run.as_str().into(),
                    e.kind.as_str().into(),
                    e.guide.as_str().into(),
                    e.site.as_str().into(),
                    e.step.as_str().into(),
                    e.value.as_str().into(),
                    e.document_type.as_str().into(),
                    e.holders.as_str().into(),
                    e.origin.as_str().into(),
                    flag(e.date_known).into(),
                    flag(e.complete).into(),
                ]
            })
            .collect();
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "INSERT INTO analytics_events (at, day, run, kind, guide, site, step, value, \
             document_type, holders, origin, date_known, complete)",
            13,
            vals,
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn raw_events(&self, days: &[String]) -> Result<Vec<RawEvent>, StoreError> {
        let mut out = Vec::new();
        for chunk in days.chunks(200) {
            let sql = format!(
                "SELECT at, day, run, kind, guide, site, step, value, document_type, holders, \
                 origin, date_known, complete FROM analytics_events WHERE day IN ({}) ORDER BY id",
                placeholders(1, chunk.len())
            );
            // Only placeholders are spliced in; values are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for d in chunk {
                q = q.bind(d);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(raw_row(&r)?);
            }
        }
        Ok(out)
    }

    async fn rollup(&self, days: &[String]) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut kept = Vec::new();
        let mut raw = Vec::new();
        for day in days {
            let rows = sqlx::query(
                "SELECT at, day, run, kind, guide, site, step, value, document_type, holders, \
                 origin, date_known, complete FROM analytics_events WHERE day = $1",
            )
            .bind(day)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                continue;
            }
            kept.push(day.clone());
            for r in &rows {
                raw.push(raw_row(r)?);
            }
        }
        let rows = aggregate(&raw);
        Self::write_daily(&mut tx, &kept, &rows).await?;
        tx.commit().await?;
        self.written.wrote(&kept);
        Ok(rows.len())
    }

    async fn put_daily(&self, rows: &[DailyRow]) -> Result<(), StoreError> {
        let days: Vec<String> = rows
            .iter()
            .map(|r| r.day.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut tx = self.begin_write().await?;
        Self::write_daily(&mut tx, &days, rows).await?;
        tx.commit().await?;
        self.written.wrote(&days);
        Ok(())
    }

    async fn purge_events(&self, before_day: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM analytics_events WHERE day < $1")
            .bind(before_day)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    async fn instance_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .execute(&mut *tx)
        .await?;
        let value: String = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .try_get("value")?;
        tx.commit().await?;
        Ok(value)
    }

    fn settled_writes(&self, day: chrono::NaiveDate) -> u64 {
        self.written.last_write_up_to(day)
    }

    async fn totals(&self, q: &TotalsQuery) -> Result<Vec<Total>, StoreError> {
        if q.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let parts = if q.group.day {
            vec![(Source::Daily, q.from.clone(), q.to.clone())]
        } else {
            split_period(q.from.as_deref(), q.to.as_deref())
        };
        type Key = (String, String, String, String, String, String);
        let mut merged: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for (source, from, to) in parts {
            for t in self
                .totals_in(q, source, (from.as_deref(), to.as_deref()))
                .await?
            {
                let e = merged
                    .entry((t.kind, t.period, t.guide, t.site, t.dim, t.value))
                    .or_default();
                e.0 += t.events;
                e.1 += t.runs;
            }
        }
        Ok(merged
            .into_iter()
            .map(
                |((kind, period, guide, site, dim, value), (events, runs))| Total {
                    kind,
                    period,
                    guide,
                    site,
                    dim,
                    value,
                    events,
                    runs,
                },
            )
            .collect())
    }
}

impl SqlStore {
    /// Sums of one table's rows over `range` (days `YYYY-MM-DD` for the
    /// daily table, months `YYYY-MM` for the monthly one).
    async fn totals_in(
        &self,
        q: &TotalsQuery,
        source: Source,
        range: (Option<&str>, Option<&str>),
    ) -> Result<Vec<Total>, StoreError> {
        let (table, period) = match source {
            Source::Daily => ("analytics_daily", "day"),
            Source::Monthly => ("analytics_monthly", "month"),
        };
        let month_of = match source {
            Source::Daily => "substr(day, 1, 7)",
            Source::Monthly => "month",
        };
        if q.kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut cols: Vec<&str> = vec!["kind"];
        if q.group.month {
            cols.push(month_of);
        } else if q.group.day {
            cols.push(period);
        }
        for (on, col) in [
            (q.group.guide, "guide"),
            (q.group.site, "site"),
            (q.group.dim, "dim"),
            (q.group.value, "value"),
        ] {
            if on {
                cols.push(col);
            }
        }
        let mut binds: Vec<String> = Vec::new();
        let mut wh = vec![format!("kind IN ({})", placeholders(1, q.kinds.len()))];
        binds.extend(q.kinds.iter().cloned());
        let mut push = |cond: &str, v: &str, binds: &mut Vec<String>| {
            binds.push(v.to_owned());
            wh.push(format!("{cond} ${}", binds.len()));
        };
        let (from_cond, to_cond) = (format!("{period} >="), format!("{period} <="));
        if let Some(f) = range.0 {
            push(&from_cond, f, &mut binds);
        }
        if let Some(t) = range.1 {
            push(&to_cond, t, &mut binds);
        }
        if let Some(g) = &q.guide {
            push("guide =", g, &mut binds);
        }
        if let Some(s) = &q.site {
            push("site =", s, &mut binds);
        }
        // Only fixed text: the rows summing every site, or the others.
        wh.push(if q.site.is_none() && !q.group.site {
            format!("site = '{ALL_SITES}'")
        } else {
            format!("site <> '{ALL_SITES}'")
        });
        if let Some(dims) = &q.dims {
            if dims.is_empty() {
                return Ok(Vec::new());
            }
            wh.push(format!(
                "dim IN ({})",
                placeholders(binds.len() + 1, dims.len())
            ));
            binds.extend(dims.iter().cloned());
        }
        let group = cols.join(", ");
        let sql = format!(
            // PostgreSQL sums BIGINTs as NUMERIC, which the Any driver cannot
            // decode: cast back.
            "SELECT {group}, CAST(SUM(events) AS BIGINT) AS events, \
             CAST(SUM(runs) AS BIGINT) AS runs FROM {table} \
             WHERE {} GROUP BY {group}",
            wh.join(" AND ")
        );
        // Only fixed column names and placeholders are spliced in.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let mut i = 0usize;
                let mut next = || -> Result<String, StoreError> {
                    i += 1;
                    Ok(r.try_get::<String, _>(i - 1)?)
                };
                let kind = next()?;
                let period = if q.group.month || q.group.day {
                    next()?
                } else {
                    String::new()
                };
                let guide = if q.group.guide {
                    next()?
                } else {
                    String::new()
                };
                let site = if q.group.site { next()? } else { String::new() };
                let dim = if q.group.dim { next()? } else { String::new() };
                let value = if q.group.value {
                    next()?
                } else {
                    String::new()
                };
                Ok(Total {
                    kind,
                    period,
                    guide,
                    site,
                    dim,
                    value,
                    events: sum(r, "events")?,
                    runs: sum(r, "runs")?,
                })
            })
            .collect()
    }
}

/// Where sums are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Daily,
    Monthly,
}

/// The parts of a period of days (`YYYY-MM-DD`, either end open) to read:
/// its whole months from the monthly sums, the days before the first whole
/// month and after the last from the daily rows.
fn split_period(
    from: Option<&str>,
    to: Option<&str>,
) -> Vec<(Source, Option<String>, Option<String>)> {
    use chrono::{Datelike, NaiveDate};
    let parse = |d: Option<&str>| d.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"));
    let (f, t) = match (parse(from), parse(to)) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            // Not a day: read the daily rows as asked.
            return vec![(
                Source::Daily,
                from.map(str::to_owned),
                to.map(str::to_owned),
            )];
        }
        (f, t) => (
            f.map(Result::unwrap_or_default),
            t.map(Result::unwrap_or_default),
        ),
    };
    let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let next_month = |d: NaiveDate| {
        month_start(d)
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(d)
    };
    // The first day of the first whole month, and the day after the last.
    let first = f.map(|f| if f.day() == 1 { f } else { next_month(f) });
    let end = t.map(|t| {
        let after = t.succ_opt().unwrap_or(t);
        if after.day() == 1 {
            after
        } else {
            month_start(t)
        }
    });
    if let (Some(a), Some(b)) = (first, end)
        && a >= b
    {
        return vec![(
            Source::Daily,
            from.map(str::to_owned),
            to.map(str::to_owned),
        )];
    }
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let ym = |d: NaiveDate| d.format("%Y-%m").to_string();
    let mut parts = vec![(
        Source::Monthly,
        first.map(ym),
        end.and_then(|e| e.pred_opt()).map(ym),
    )];
    if let (Some(f), Some(a)) = (f, first)
        && f < a
    {
        parts.push((Source::Daily, Some(iso(f)), a.pred_opt().map(iso)));
    }
    if let (Some(t), Some(b)) = (t, end)
        && b <= t
    {
        parts.push((Source::Daily, Some(iso(b)), Some(iso(t))));
    }
    parts
}

/// `SUM` is a BIGINT in SQLite and a NUMERIC in PostgreSQL, which the Any
/// driver cannot read: the query casts it back to BIGINT.
fn sum(r: &sqlx::any::AnyRow, col: &str) -> Result<i64, StoreError> {
    if let Ok(v) = r.try_get::<i64, _>(col) {
        return Ok(v);
    }
    if let Ok(v) = r.try_get::<f64, _>(col) {
        return Ok(v as i64);
    }
    let s: String = r.try_get(col)?;
    s.parse().map_err(|_| StoreError::Corrupt {
        table: "analytics_daily",
        key: col.to_owned(),
        message: format!("somme illisible « {s} »"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_seen_by_the_days_it_rewrote_and_after() {
        let w = WrittenDays::default();
        let days = |d: &[&str]| d.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert_eq!(w.last_write_up_to(day("2026-12-01")), 0);
        // The roll-up: yesterday and today, day after day.
        w.wrote(&days(&["2026-11-30", "2026-12-01"]));
        w.wrote(&days(&["2026-12-01", "2026-12-02"]));
        let settled = w.last_write_up_to(day("2026-11-30"));
        assert_eq!(settled, 1);
        w.wrote(&days(&["2026-12-02", "2026-12-03"]));
        assert_eq!(w.last_write_up_to(day("2026-11-30")), settled);
        assert_eq!(w.last_write_up_to(day("2026-12-02")), 3);
        // A settled day written again (an import of past figures).
        w.wrote(&days(&["2026-10-01", "not a day"]));
        assert_eq!(w.last_write_up_to(day("2026-11-30")), 4);
        assert_eq!(w.last_write_up_to(day("2026-09-30")), 0);
    }

    fn parts(
        from: Option<&str>,
        to: Option<&str>,
    ) -> Vec<(Source, Option<String>, Option<String>)> {
        split_period(from, to)
    }

    fn p(
        source: Source,
        a: Option<&str>,
        b: Option<&str>,
    ) -> (Source, Option<String>, Option<String>) {
        (source, a.map(str::to_owned), b.map(str::to_owned))
    }

    #[test]
    fn long_periods_read_whole_months_and_their_edge_days() {
        use Source::*;
        assert_eq!(parts(None, None), vec![p(Monthly, None, None)]);
        assert_eq!(
            parts(Some("2024-01-01"), Some("2024-12-31")),
            vec![p(Monthly, Some("2024-01"), Some("2024-12"))]
        );
        assert_eq!(
            parts(Some("2024-01-15"), Some("2024-04-10")),
            vec![
                p(Monthly, Some("2024-02"), Some("2024-03")),
                p(Daily, Some("2024-01-15"), Some("2024-01-31")),
                p(Daily, Some("2024-04-01"), Some("2024-04-10")),
            ]
        );
        // February of a leap year ends on the 29th.
        assert_eq!(
            parts(Some("2023-12-02"), Some("2024-02-29")),
            vec![
                p(Monthly, Some("2024-01"), Some("2024-02")),
                p(Daily, Some("2023-12-02"), Some("2023-12-31")),
            ]
        );
        assert_eq!(
            parts(None, Some("2024-03-05")),
            vec![
                p(Monthly, None, Some("2024-02")),
                p(Daily, Some("2024-03-01"), Some("2024-03-05")),
            ]
        );
        assert_eq!(
            parts(Some("2024-03-05"), None),
            vec![
                p(Monthly, Some("2024-04"), None),
                p(Daily, Some("2024-03-05"), Some("2024-03-31")),
            ]
        );
    }

    #[test]
    fn short_periods_read_days_only() {
        use Source::*;
        // Thirty days across two months hold no whole month.
        assert_eq!(
            parts(Some("2026-11-02"), Some("2026-12-01")),
            vec![p(Daily, Some("2026-11-02"), Some("2026-12-01"))]
        );
        assert_eq!(
            parts(Some("2026-11-10"), Some("2026-11-20")),
            vec![p(Daily, Some("2026-11-10"), Some("2026-11-20"))]
        );
        // Something that is not a day is passed on as asked.
        assert_eq!(
            parts(Some("2026-13-01"), None),
            vec![p(Daily, Some("2026-13-01"), None)]
        );
    }

    fn ev(day: &str, run: &str, kind: &str, step: &str) -> RawEvent {
        RawEvent {
            at: format!("{day}T10:00:00Z"),
            day: day.into(),
            run: run.into(),
            kind: kind.into(),
            guide: "g".into(),
            step: step.into(),
            ..RawEvent::default()
        }
    }

    #[test]
    fn aggregates_count_events_and_distinct_runs_per_day() {
        let events = [
            ev("2026-01-01", "a", kind::STEP_SHOWN, "s1"),
            ev("2026-01-01", "a", kind::STEP_SHOWN, "s1"),
            ev("2026-01-01", "b", kind::STEP_SHOWN, "s1"),
            ev("2026-01-02", "a", kind::STEP_SHOWN, "s1"),
        ];
        let rows = aggregate(&events);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].events, rows[0].runs), (3, 2));
        assert_eq!(
            (rows[1].day.as_str(), rows[1].events, rows[1].runs),
            ("2026-01-02", 1, 1)
        );
    }

    #[test]
    fn an_answer_adds_a_row_per_holder_and_its_date_row() {
        let mut e = ev("2026-01-01", "a", kind::ANSWER_SHOWN, "");
        e.document_type = "permis".into();
        e.holders = "mairie-1 ad-35".into();
        e.complete = Some(true);
        e.date_known = Some(false);
        let keys = keys_of(&e);
        assert_eq!(
            keys,
            vec![
                ("answer_shown".into(), "permis".into(), "complete".into()),
                ("answer_date".into(), "permis".into(), "date_unknown".into()),
                ("answer_holder".into(), "mairie-1".into(), "permis".into()),
                ("answer_holder".into(), "ad-35".into(), "permis".into()),
                ("answer_run".into(), "".into(), "".into()),
            ]
        );
    }

    #[test]
    fn a_run_shown_two_document_types_reached_one_answer() {
        let answer = |doc: &str| {
            let mut e = ev("2026-01-01", "a", kind::ANSWER_SHOWN, "");
            e.document_type = doc.into();
            e
        };
        let rows = aggregate(&[answer("permis"), answer("plan")]);
        let runs_of =
            |k: &str| -> i64 { rows.iter().filter(|r| r.kind == k).map(|r| r.runs).sum() };
        assert_eq!(runs_of(kind::ANSWER_SHOWN), 2, "one row per document type");
        assert_eq!(
            runs_of(kind::ANSWER_RUN),
            1,
            "completion counts the run once"
        );
    }

    #[test]
    fn unknown_kinds_add_nothing() {
        assert!(keys_of(&ev("2026-01-01", "a", "nope", "")).is_empty());
    }
}
