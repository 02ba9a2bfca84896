//! The public statistics from three years of daily aggregates, through the
//! whole router:
//!
//! 1. generates 10 million raw events over three years in memory, one day
//!    at a time ([`events_of_day`]: several guides, steps, sites, document
//!    types, holders, feedback, misdirection answers, requests), aggregates
//!    each day ([`aggregate`]) and stores the daily rows (`put_daily`);
//! 2. measures `/stats` and `/stats.json` beside a trivial page
//!    (`/mentions-legales`) in the same run, so that the figures read as a
//!    ratio on a shared machine too. Prints p50 and p95 in milliseconds
//!    (the target is under 50 ms), and the time to compute the figures
//!    from the aggregates, the first time of the day and again with the
//!    settled days' sums kept (once per `CACHE_SECONDS`).
//!
//! 3. measures a guide's dashboard (`/admin/statistiques/{guide}`, an
//!    editor signed in, every table) over the last 30 days, the last 12
//!    months and the last 18 months (with the period before it compares
//!    to: the three years): computed from nothing kept (its sums cache
//!    emptied before each of five views), with the settled days' sums kept
//!    and the recent ones expired (what a view costs after the first of
//!    the day, or after the usual periods were computed ahead, which is
//!    timed too), and served again while its sums are fresh.
//!
//! `cargo bench -p locadocs --bench stats` (SQLite; PostgreSQL too when
//! `LOCADOCS_BENCH_POSTGRES_URL` is set). `BENCH_EVENTS` changes the 10
//! million; `BENCH_KEEP_DB=<file>` keeps the SQLite database there.
//! [`generate`] is the generator, for other pages' measures
//! (a guide's dashboard) in this file.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chrono::NaiveDate;
use locadocs::clock::Clock;
use locadocs::live::Live;
use locadocs::store::{DailyRow, RawEvent, Store, aggregate, kind};
use locadocs::web::{AppState, app};
use tower::ServiceExt;

const SAMPLES: usize = 200;
const DAYS: i64 = 3 * 365 + 1;
const GUIDES: [&str; 4] = ["immobilier", "etat-civil", "succession", "urbanisme"];
const STEPS: [&str; 6] = ["objet", "document", "commune", "date", "precision", "fin"];
const DOCS: usize = 12;
const HOLDERS: usize = 20;
const SITES: usize = 8;
const GUESSES: [&str; 7] = [
    "mairie",
    "archives-municipales",
    "archives-departementales",
    "notaire",
    "tribunal",
    "autre",
    "ne-sait-pas",
];

/// A small deterministic generator (SplitMix64): the same events every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// About `n` raw events of one day: whole runs (start, steps shown,
/// choices, an answer or a dead end, sometimes feedback, a misdirection
/// answer, a link click, a request and its answer or reroute).
pub fn events_of_day(day: NaiveDate, n: usize, rng: &mut Rng) -> Vec<RawEvent> {
    let d = day.format("%Y-%m-%d").to_string();
    let at = format!("{d}T10:00:00Z");
    let mut out = Vec::with_capacity(n + 16);
    let mut run_no = 0usize;
    while out.len() < n {
        run_no += 1;
        let run = format!("{d}-{run_no}");
        let guide = GUIDES[rng.below(GUIDES.len())].to_owned();
        // Half the runs come from an embedding site.
        let site = if rng.chance(50) {
            format!("site-{}", rng.below(SITES))
        } else {
            String::new()
        };
        let base = RawEvent {
            at: at.clone(),
            day: d.clone(),
            run: run.clone(),
            guide,
            site,
            ..RawEvent::default()
        };
        let ev = |k: &str| RawEvent {
            kind: k.to_owned(),
            ..base.clone()
        };
        out.push(ev(kind::RUN_STARTED));
        let depth = 1 + rng.below(STEPS.len() - 1);
        for step in STEPS.iter().take(depth) {
            out.push(RawEvent {
                step: (*step).to_owned(),
                ..ev(kind::STEP_SHOWN)
            });
            out.push(RawEvent {
                step: (*step).to_owned(),
                value: format!("choix-{}", rng.below(4)),
                ..ev(kind::CHOICE)
            });
        }
        if rng.chance(15) {
            out.push(RawEvent {
                step: "fin".into(),
                ..ev(kind::DEAD_END)
            });
            continue;
        }
        if !rng.chance(75) {
            continue;
        }
        let doc = format!("type-{}", rng.below(DOCS));
        let holder = format!("service-{}", rng.below(HOLDERS));
        out.push(RawEvent {
            document_type: doc.clone(),
            holders: holder.clone(),
            date_known: Some(rng.chance(70)),
            complete: Some(rng.chance(90)),
            ..ev(kind::ANSWER_SHOWN)
        });
        if rng.chance(10) {
            out.push(RawEvent {
                value: (1 + rng.below(4)).to_string(),
                document_type: doc.clone(),
                ..ev(kind::FEEDBACK)
            });
        }
        if rng.chance(8) {
            out.push(RawEvent {
                value: GUESSES[rng.below(GUESSES.len())].to_owned(),
                holders: holder.clone(),
                complete: Some(rng.chance(40)),
                ..ev(kind::MISDIRECTION)
            });
        }
        if rng.chance(20) {
            out.push(RawEvent {
                holders: holder.clone(),
                value: ["contact", "website", "request"][rng.below(3)].to_owned(),
                ..ev(kind::LINK_CLICKED)
            });
        }
        if rng.chance(3) {
            out.push(RawEvent {
                holders: holder.clone(),
                document_type: doc.clone(),
                ..ev(kind::REQUEST_SENT)
            });
            if rng.chance(10) {
                out.push(RawEvent {
                    holders: format!("{holder} service-{}", rng.below(HOLDERS)),
                    document_type: doc.clone(),
                    ..ev(kind::REQUEST_REROUTED)
                });
            }
            out.push(RawEvent {
                holders: holder,
                value: rng.below(24 * 15).to_string(),
                ..ev(kind::REQUEST_ANSWERED)
            });
        }
    }
    out
}

/// Generates `total` raw events over [`DAYS`] days ending on `last`, one
/// day in memory at a time, and hands each day's aggregates to `sink`.
/// Returns the events generated.
pub async fn generate<F, Fut>(total: usize, last: NaiveDate, mut sink: F) -> usize
where
    F: FnMut(Vec<DailyRow>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut rng = Rng::new(12);
    let per_day = total / DAYS as usize;
    let mut made = 0;
    let mut batch = Vec::new();
    for i in 0..DAYS {
        let day = last - chrono::Duration::days(DAYS - 1 - i);
        let events = events_of_day(day, per_day, &mut rng);
        made += events.len();
        batch.extend(aggregate(&events));
        // A month of rows per write.
        if i % 30 == 29 || i == DAYS - 1 {
            sink(std::mem::take(&mut batch)).await;
        }
    }
    made
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn status_of(router: &Router, path: &str, cookie: &str) -> u16 {
    let mut req = Request::get(path).body(Body::empty()).unwrap();
    if !cookie.is_empty() {
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    // The whole body is produced, as a client would read it.
    let _ = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    status
}

async fn timed(router: &Router, path: &str, cookie: &str) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        assert_eq!(status_of(router, path, cookie).await, 200, "{path}");
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

/// Five views of `path`, each after `reset`: the median and the slowest.
async fn five_views(
    router: &Router,
    path: &str,
    cookie: &str,
    reset: impl Fn(),
) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(5);
    for _ in 0..5 {
        reset();
        let start = Instant::now();
        assert_eq!(status_of(router, path, cookie).await, 200, "{path}");
        times.push(start.elapsed());
    }
    times.sort();
    (times[2], times[4])
}

async fn run(engine: &str, url: &str, n: usize) {
    let store = locadocs::store::open(url).await.unwrap();
    let last = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let started = Instant::now();
    let mut rows = 0usize;
    let made = {
        let store = store.clone();
        let rows = &mut rows;
        generate(n, last, move |batch| {
            *rows += batch.len();
            let store = store.clone();
            async move { store.put_daily(&batch).await.unwrap() }
        })
        .await
    };
    println!(
        "{engine}: {made} events over {DAYS} days → {rows} daily rows, generated, aggregated and stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store
        .set_impact_setting(20.0, "banc d'essai", "bench")
        .await
        .unwrap();
    for g in GUIDES {
        store.save_guide(g, &guide_toml(g), true).await.unwrap();
    }
    let editor = store
        .create_user(
            "editeur@exemple.fr",
            locadocs::store::Role::Editor,
            &[],
            &[],
            &locadocs::store::Author::command_line("bench"),
        )
        .await
        .unwrap();
    let token = locadocs::web::admin::auth::random_token();
    let expires = locadocs::store::time_text(chrono::Utc::now() + chrono::Duration::hours(2));
    store
        .add_session(
            &locadocs::web::admin::auth::token_hash(&token),
            editor.id,
            &locadocs::web::admin::auth::random_token(),
            &expires,
        )
        .await
        .unwrap();
    let cookie = format!("ld_session={token}");
    let store: std::sync::Arc<dyn Store> = store;
    let live = Live::load(store).await.unwrap();
    let settings = locadocs::web::admin::AdminConfig::for_tests(
        "http://127.0.0.1:8080",
        locadocs::web::admin::Mailer::Outbox(std::env::temp_dir().join("locadocs_bench_outbox")),
    );
    // Computing the figures from the aggregates, as the first visitor after
    // the cache expired waits for it.
    let mut cold = Vec::new();
    let mut again = Vec::new();
    let kept = locadocs::web::totals::TotalsCache::new();
    for _ in 0..5 {
        let snap = live.snapshot();
        let fresh = locadocs::web::totals::TotalsCache::new();
        let start = Instant::now();
        locadocs::web::stats::figures(live.store().as_ref(), &fresh, &snap, last)
            .await
            .unwrap();
        cold.push(start.elapsed());
        // The same with the settled days' sums kept: what the refresher
        // does every 30 seconds after the first time of the day.
        locadocs::web::stats::figures(live.store().as_ref(), &kept, &snap, last)
            .await
            .unwrap();
        kept.clear_recent();
        let start = Instant::now();
        locadocs::web::stats::figures(live.store().as_ref(), &kept, &snap, last)
            .await
            .unwrap();
        again.push(start.elapsed());
    }
    cold.sort();
    again.sort();
    println!(
        "{engine}: figures computed from the daily aggregates (first time of the day): median {:.1} ms, max {:.1} ms",
        ms(cold[2]),
        ms(cold[4])
    );
    println!(
        "{engine}: figures computed again, settled days' sums kept (once per {} s): median {:.1} ms, max {:.1} ms",
        locadocs::web::stats::CACHE_SECONDS,
        ms(again[2]),
        ms(again[4])
    );
    let state = AppState::new(live, Clock::fixed(last), settings);
    let router = app(state.clone());
    for p in ["/mentions-legales", "/stats", "/stats.json"] {
        assert_eq!(status_of(&router, p, "").await, 200, "{p}");
    }
    let (b50, b95) = timed(&router, "/mentions-legales", "").await;
    println!(
        "{engine}: /mentions-legales (baseline) p50 {:.3} ms, p95 {:.3} ms",
        ms(b50),
        ms(b95)
    );
    for p in ["/stats", "/stats.json"] {
        let (p50, p95) = timed(&router, p, "").await;
        println!(
            "{engine}: {p} p50 {:.3} ms, p95 {:.3} ms ({:.0}× the baseline at p50; target < 50 ms)",
            ms(p50),
            ms(p95),
            ms(p50) / ms(b50).max(1e-6)
        );
    }
    // A guide's dashboard with the period before for comparison: computed
    // (its sums cache emptied before each view, as after a roll-up), then
    // served again while its sums are fresh.
    let first = last - chrono::Duration::days(DAYS - 1);
    let periods = [
        ("30 days", last - chrono::Duration::days(29)),
        ("12 months", last - chrono::Duration::days(364)),
        (
            "18 months (three years with the period before)",
            first + chrono::Duration::days(DAYS / 2),
        ),
    ];
    state.totals.clear();
    let start = Instant::now();
    locadocs::web::admin::screens::warm_dashboards(&state)
        .await
        .unwrap();
    println!(
        "{engine}: every guide's dashboard over the usual periods (30 days, 12 months) computed ahead in {:.1} ms ({} guides)",
        ms(start.elapsed()),
        GUIDES.len()
    );
    for (what, from) in periods {
        let path = format!(
            "/admin/statistiques/immobilier?du={}&au={}",
            from.format("%Y-%m-%d"),
            last.format("%Y-%m-%d")
        );
        let (median, max) = five_views(&router, &path, &cookie, || state.totals.clear()).await;
        println!(
            "{engine}: dashboard of a guide, {what} and the period before, computed from nothing kept: median {:.1} ms, max {:.1} ms",
            ms(median),
            ms(max)
        );
        // Settled days' sums kept (after the first view of the day, or
        // computed ahead for the usual periods), recent ones expired.
        let (median, max) =
            five_views(&router, &path, &cookie, || state.totals.clear_recent()).await;
        println!(
            "{engine}: dashboard of a guide, {what} and the period before, settled sums kept, yesterday and today read: median {:.1} ms, max {:.1} ms (target < 50 ms)",
            ms(median),
            ms(max)
        );
        let (p50, p95) = timed(&router, &path, &cookie).await;
        println!(
            "{engine}: dashboard of a guide, {what} and the period before, served: p50 {:.3} ms, p95 {:.3} ms ({:.0}× the baseline at p50; target < 50 ms)",
            ms(p50),
            ms(p95),
            ms(p50) / ms(b50).max(1e-6)
        );
    }
}

/// A guide whose step ids are the generated ones.
fn guide_toml(slug: &str) -> String {
    let mut t = format!("slug = \"{slug}\"\ntitle = \"Guide {slug}\"\n");
    for (i, step) in STEPS.iter().enumerate() {
        if i + 1 == STEPS.len() {
            t.push_str(&format!(
                "\n[[steps]]\nid = \"{step}\"\nkind = \"result\"\nquestion = \"Résultat\"\n"
            ));
        } else {
            t.push_str(&format!(
                "\n[[steps]]\nid = \"{step}\"\nkind = \"choice\"\nquestion = \"Étape {step}\"\nnext = \"{}\"\n\n[[steps.choices]]\nvalue = \"oui\"\nlabel = \"Oui\"\n",
                STEPS[i + 1]
            ));
        }
    }
    t
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    let n: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // `BENCH_KEEP_DB=<file>`: the SQLite database is written there and
        // kept, to read its query plans afterwards.
        let keep = std::env::var_os("BENCH_KEEP_DB").map(std::path::PathBuf::from);
        let dir = std::env::temp_dir().join(format!("locadocs-bench-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = keep.unwrap_or_else(|| dir.join("s.db"));
        run("SQLite", &format!("sqlite://{}", file.display()), n).await;
        let _ = std::fs::remove_dir_all(&dir);
        if let Ok(url) = std::env::var("LOCADOCS_BENCH_POSTGRES_URL") {
            // A fresh database for the run.
            let db = format!("locadocs_bench_stats_{}", std::process::id());
            let admin = sqlx::AnyPool::connect(&url).await;
            match admin {
                Ok(pool) => {
                    sqlx::any::install_default_drivers();
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                        .execute(&pool)
                        .await;
                    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
                    run("PostgreSQL", &format!("{base}/{db}"), n).await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE {db} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await;
                }
                Err(e) => println!("PostgreSQL skipped: {e}"),
            }
        }
    });
}
