//! Public statistics: `/stats` (HTML) and `/stats.json` (the same figures as
//! open data), the misdirection question of the answer page
//! (`POST /g/{slug}/orientation`) and the request events.
//!
//! Every figure is computed from the daily aggregates (`analytics_daily`,
//! through [`Analytics::totals`]), the registered sites and the editors'
//! impact setting; nothing is typed in. A share computed from fewer than
//! [`MIN_SAMPLE`] answers is not published: the figure is `null` and the page
//! says the sample is too small.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate};
use locadocs_core::guide::Answers;
use locadocs_core::locate::When;
use locadocs_core::snapshot::Holder;
use locadocs_core::{Snapshot, guide};
use serde::Serialize;

use super::AppState;
use super::pages::{Display, Layout, PeerIp, framed, message, not_found_page, render};
use super::theme::Lang;
use super::totals::TotalsCache;
use crate::store::{GroupBy, RawEvent, Store, StoreError, Total, TotalsQuery, kind};

/// The smallest sample a share, a distribution or a percentile is published
/// from. Below it, the figure is `null` and the page says the sample is too
/// small: with fewer answers, one more or one less moves a percentage by
/// more than three points.
pub const MIN_SAMPLE: i64 = 30;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats", get(stats_page))
        .route("/stats.json", get(stats_json))
        .route("/g/{slug}/orientation", post(post_orientation))
}

// ---------------------------------------------------------------- figures

/// The public figures, as `/stats.json` publishes them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    /// When these figures were computed (UTC, RFC 3339).
    pub generated_at: String,
    /// The smallest sample a share is published from.
    pub min_sample: i64,
    /// Guide runs started, in all.
    pub runs_started: i64,
    /// Guide runs started, by month (`YYYY-MM`).
    pub runs_by_month: BTreeMap<String, i64>,
    /// Runs that reached an answer, in all.
    pub answers: i64,
    /// Runs that reached an answer, by month.
    pub answers_by_month: BTreeMap<String, i64>,
    /// Runs that reached an answer ÷ runs started (0–1).
    pub completion_rate: Option<f64>,
    /// Runs whose answer named this document type.
    pub answers_by_document_type: BTreeMap<String, i64>,
    /// The same by the document types' theme.
    pub answers_by_theme: BTreeMap<String, i64>,
    /// Runs that reached a dead end.
    pub dead_ends: i64,
    /// Registered sites embedding the guide.
    pub sites_embedding: usize,
    /// Registered sites where a run started in the last 30 days (today
    /// included).
    pub sites_active_30_days: usize,
    pub satisfaction: Satisfaction,
    pub misdirection_avoided: Misdirection,
    /// `null` when no service takes requests through Locadocs.
    pub requests: Option<RequestFigures>,
    pub hours_saved: HoursSaved,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Satisfaction {
    /// Feedback given.
    pub sample: i64,
    /// Feedback by level, "1" (not useful) to "4" (very useful).
    pub levels: BTreeMap<String, i64>,
    /// Share of levels 3 and 4 (0–1), from [`MIN_SAMPLE`] answers.
    pub useful_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Misdirection {
    /// Share of answers to « Sans ce guide, à qui vous seriez-vous
    /// adressé ? » naming another kind of service than the real holder's,
    /// « je ne sais pas » counted as a misdirection avoided.
    pub rate: Option<f64>,
    /// Answers to the question.
    pub sample: i64,
    /// The same share without the « je ne sais pas » answers.
    pub rate_without_unknown: Option<f64>,
    pub sample_without_unknown: i64,
    /// Answers by guessed kind.
    pub guesses: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestFigures {
    /// Requests sent through Locadocs.
    pub sent: i64,
    /// Reroutes by a service to another one: misdirection left.
    pub rerouted: i64,
    /// (sent − reroutes) ÷ sent, from [`MIN_SAMPLE`] requests.
    pub first_time_right: Option<f64>,
    /// Requests that had a first answer.
    pub answered: i64,
    /// Whole hours from sending to the first answer (nearest rank), from
    /// [`MIN_SAMPLE`] answered requests.
    pub median_hours_to_first_answer: Option<i64>,
    pub p90_hours_to_first_answer: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HoursSaved {
    /// Hours of services' work saved, to one decimal.
    pub value: Option<f64>,
    /// How it is computed, or why it is not.
    pub method: String,
    /// The editors' setting: minutes a service spends on one misdirected
    /// request, and its source.
    pub minutes_per_misdirected_request: Option<f64>,
    pub source: Option<String>,
    /// Runs with an answer × the misdirection-avoided rate without « je ne
    /// sais pas », rounded.
    pub misdirected_requests_avoided: Option<i64>,
}

/// The guesses offered, in the order shown: (value, French, English).
/// Each value but the last two is a service kind (`services.kind`).
pub const GUESSES: [(&str, &str, &str); 7] = [
    ("mairie", "La mairie", "The town hall"),
    (
        "archives-municipales",
        "Les archives municipales",
        "The municipal archives",
    ),
    (
        "archives-departementales",
        "Les archives départementales",
        "The departmental archives",
    ),
    ("notaire", "Un notaire", "A notary"),
    ("tribunal", "Un tribunal", "A court"),
    ("autre", "Un autre service", "Another service"),
    ("ne-sait-pas", "Je ne sais pas", "I don't know"),
];

/// The guess that says « I don't know ».
pub const UNKNOWN_GUESS: &str = "ne-sait-pas";

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole >= MIN_SAMPLE).then(|| round(part.clamp(0, whole) as f64 / whole as f64, 4))
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The value at rank ⌈p·n⌉ of a distribution given as (value, count), in
/// value order.
fn nearest_rank(dist: &BTreeMap<i64, i64>, p: f64) -> Option<i64> {
    let n: i64 = dist.values().sum();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (v, c) in dist {
        seen += c;
        if seen >= rank {
            return Some(*v);
        }
    }
    dist.keys().next_back().copied()
}

fn query(kinds: &[&str], group: GroupBy) -> TotalsQuery {
    TotalsQuery {
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        group,
        ..TotalsQuery::default()
    }
}

/// Computes every public figure from the daily aggregates: today's and
/// yesterday's read now, the settled days' sums as `totals` keeps them for
/// the day.
pub async fn figures(
    store: &dyn Store,
    totals: &TotalsCache,
    snap: &Snapshot,
    today: NaiveDate,
) -> Result<Figures, StoreError> {
    let by_month = GroupBy {
        month: true,
        ..GroupBy::default()
    };
    let by_dim_value = GroupBy {
        dim: true,
        value: true,
        ..GroupBy::default()
    };
    let monthly_q = query(
        &[kind::RUN_STARTED, kind::ANSWER_RUN, kind::DEAD_END],
        by_month,
    );
    let by_type_q = query(
        &[kind::ANSWER_SHOWN],
        GroupBy {
            dim: true,
            ..GroupBy::default()
        },
    );
    let recent_q = TotalsQuery {
        from: Some((today - Duration::days(29)).format("%Y-%m-%d").to_string()),
        to: Some(today.format("%Y-%m-%d").to_string()),
        ..query(
            &[kind::RUN_STARTED],
            GroupBy {
                site: true,
                ..GroupBy::default()
            },
        )
    };
    let small_q = query(
        &[
            kind::FEEDBACK,
            kind::MISDIRECTION,
            kind::REQUEST_SENT,
            kind::REQUEST_REROUTED,
            kind::REQUEST_ANSWERED,
        ],
        by_dim_value,
    );
    // Independent reads, on several connections at once.
    let (monthly, by_type, recent, small, setting) = tokio::try_join!(
        totals.read_fresh(store, today, monthly_q),
        totals.read_fresh(store, today, by_type_q),
        totals.read_fresh(store, today, recent_q),
        totals.read_fresh(store, today, small_q),
        store.impact_setting(),
    )?;
    Ok(assemble(
        snap,
        &monthly,
        &by_type,
        &recent,
        &small,
        setting.map(|s| (s.minutes, s.source)),
    ))
}

/// The figures from the totals read (pure: the benchmark and the tests
/// check it through the pages).
fn assemble(
    snap: &Snapshot,
    monthly: &[Total],
    by_type: &[Total],
    recent: &[Total],
    small: &[Total],
    setting: Option<(f64, String)>,
) -> Figures {
    let mut runs_by_month = BTreeMap::new();
    let mut answers_by_month = BTreeMap::new();
    let mut dead_ends = 0;
    for t in monthly {
        match t.kind.as_str() {
            kind::RUN_STARTED => *runs_by_month.entry(t.period.clone()).or_insert(0) += t.runs,
            kind::ANSWER_RUN => *answers_by_month.entry(t.period.clone()).or_insert(0) += t.runs,
            _ => dead_ends += t.runs,
        }
    }
    let runs_started: i64 = runs_by_month.values().sum();
    let answers: i64 = answers_by_month.values().sum();
    let completion_rate = share(answers, runs_started);

    let mut answers_by_document_type = BTreeMap::new();
    let mut answers_by_theme = BTreeMap::new();
    for t in by_type.iter().filter(|t| !t.dim.is_empty()) {
        *answers_by_document_type.entry(t.dim.clone()).or_insert(0) += t.runs;
        let theme = snap
            .document_type(&t.dim)
            .and_then(|d| d.theme.clone())
            .unwrap_or_else(|| "Sans thème".to_owned());
        *answers_by_theme.entry(theme).or_insert(0) += t.runs;
    }

    let active: BTreeSet<&str> = recent
        .iter()
        .filter(|t| !t.site.is_empty() && t.runs > 0)
        .map(|t| t.site.as_str())
        .collect();

    let mut levels: BTreeMap<String, i64> = (1..=4).map(|l| (l.to_string(), 0)).collect();
    let mut guesses = BTreeMap::new();
    let (mut mis_sample, mut mis_different) = (0, 0);
    let (mut known_sample, mut known_different) = (0, 0);
    let (mut sent, mut rerouted) = (0, 0);
    let mut hours: BTreeMap<i64, i64> = BTreeMap::new();
    for t in small {
        match t.kind.as_str() {
            kind::FEEDBACK => {
                if let Some(n) = levels.get_mut(&t.value) {
                    *n += t.events;
                }
            }
            kind::MISDIRECTION => {
                *guesses.entry(t.dim.clone()).or_insert(0) += t.events;
                let different = t.value == "different";
                mis_sample += t.events;
                mis_different += if different { t.events } else { 0 };
                if t.dim != UNKNOWN_GUESS {
                    known_sample += t.events;
                    known_different += if different { t.events } else { 0 };
                }
            }
            kind::REQUEST_SENT => sent += t.events,
            kind::REQUEST_REROUTED => rerouted += t.events,
            kind::REQUEST_ANSWERED => {
                if let Ok(h) = t.value.parse::<i64>()
                    && h >= 0
                {
                    *hours.entry(h).or_insert(0) += t.events;
                }
            }
            _ => {}
        }
    }
    let feedback_sample: i64 = levels.values().sum();
    let useful = levels.get("3").copied().unwrap_or(0) + levels.get("4").copied().unwrap_or(0);
    let misdirection_avoided = Misdirection {
        rate: share(mis_different, mis_sample),
        sample: mis_sample,
        rate_without_unknown: share(known_different, known_sample),
        sample_without_unknown: known_sample,
        guesses,
    };

    let takes_requests = snap
        .services()
        .iter()
        .any(|s| snap.accepts_requests(s.id.as_str()));
    let answered: i64 = hours.values().sum();
    let enough = answered >= MIN_SAMPLE;
    let requests = takes_requests.then(|| RequestFigures {
        sent,
        rerouted,
        first_time_right: share(sent - rerouted, sent),
        answered,
        median_hours_to_first_answer: enough.then(|| nearest_rank(&hours, 0.5)).flatten(),
        p90_hours_to_first_answer: enough.then(|| nearest_rank(&hours, 0.9)).flatten(),
    });

    let hours_saved = hours_saved(answers, &misdirection_avoided, setting);
    Figures {
        generated_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        min_sample: MIN_SAMPLE,
        runs_started,
        runs_by_month,
        answers,
        answers_by_month,
        completion_rate,
        answers_by_document_type,
        answers_by_theme,
        dead_ends,
        sites_embedding: snap.sites().len(),
        sites_active_30_days: active.len(),
        satisfaction: Satisfaction {
            sample: feedback_sample,
            levels,
            useful_rate: share(useful, feedback_sample),
        },
        misdirection_avoided,
        requests,
        hours_saved,
    }
}

/// The impact estimate: misdirected requests avoided × minutes a service
/// spends on one ÷ 60.
fn hours_saved(answers: i64, m: &Misdirection, setting: Option<(f64, String)>) -> HoursSaved {
    const HOW: &str = "Demandes mal adressées évitées (parcours arrivés à une réponse × part des personnes \
                       qui, sans le guide, se seraient adressées à un autre type de service que le bon, \
                       « je ne sais pas » exclus) × minutes qu'un service passe sur une demande mal adressée \
                       (réglage des éditeurs, avec sa source) ÷ 60.";
    let avoided = m
        .rate_without_unknown
        .map(|r| (answers as f64 * r).round() as i64);
    let (minutes, source) = match setting {
        Some((min, src)) => (Some(min), Some(src)),
        None => (None, None),
    };
    let (value, method) = match (avoided, minutes) {
        (Some(a), Some(min)) => (Some(round(a as f64 * min / 60.0, 1)), HOW.to_owned()),
        (None, _) => (
            None,
            format!(
                "{HOW} Non calculé : moins de {MIN_SAMPLE} réponses à la question « Sans ce guide, \
                 à qui vous seriez-vous adressé ? » (hors « je ne sais pas »)."
            ),
        ),
        (Some(_), None) => (
            None,
            format!(
                "{HOW} Non calculé : le temps passé par un service sur une demande mal adressée \
                 n'a pas encore été renseigné par les éditeurs."
            ),
        ),
    };
    HoursSaved {
        value,
        method,
        minutes_per_misdirected_request: minutes,
        source,
        misdirected_requests_avoided: avoided,
    }
}

// ---------------------------------------------------------------- pages

/// How long computed figures are served again: with the roll-up every 30
/// seconds, today's events are in the figures within a minute.
pub const CACHE_SECONDS: u64 = 30;

/// The figures last computed, served again for [`CACHE_SECONDS`] unless
/// the impact setting or the day changed: reading three years of daily
/// aggregates takes longer than a page may.
#[derive(Default)]
pub struct Cache {
    last: std::sync::Mutex<Option<Cached>>,
    /// When a page or `/stats.json` last asked for the figures: while they
    /// are being read, [`spawn_refresher`] computes them again before they
    /// expire, so that no visitor waits for them.
    asked: std::sync::Mutex<Option<std::time::Instant>>,
}

struct Cached {
    at: std::time::Instant,
    today: NaiveDate,
    setting: Option<(f64, String)>,
    figures: std::sync::Arc<Figures>,
}

impl Cache {
    pub fn new() -> std::sync::Arc<Cache> {
        std::sync::Arc::new(Cache::default())
    }
}

async fn load(state: &AppState) -> Result<std::sync::Arc<Figures>, Response> {
    let fail = |e: StoreError| {
        tracing::error!(error = %e, "statistics not computed");
        (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response()
    };
    *state.stats.asked.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    let store = state.live.store();
    let today = state.clock.today();
    let setting = store
        .impact_setting()
        .await
        .map_err(fail)?
        .map(|s| (s.minutes, s.source));
    {
        let last = state.stats.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = last.as_ref()
            && c.at.elapsed().as_secs() < CACHE_SECONDS
            && c.today == today
            && c.setting == setting
        {
            return Ok(c.figures.clone());
        }
    }
    compute(state, today, setting).await.map_err(fail)
}

/// Computes the figures and keeps them.
async fn compute(
    state: &AppState,
    today: NaiveDate,
    setting: Option<(f64, String)>,
) -> Result<std::sync::Arc<Figures>, StoreError> {
    let snap = state.live.snapshot();
    let f = std::sync::Arc::new(
        figures(state.live.store().as_ref(), &state.totals, &snap, today).await?,
    );
    *state.stats.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
        at: std::time::Instant::now(),
        today,
        setting,
        figures: f.clone(),
    });
    Ok(f)
}

/// How long after the last visit the figures are still kept fresh ahead.
const KEEP_FRESH_SECONDS: u64 = 600;

/// Whether the figures should be computed again now, ahead of visitors:
/// they were asked for in the last [`KEEP_FRESH_SECONDS`], and those kept
/// are missing or will expire within `ahead`.
pub fn refresh_due(state: &AppState, ahead: std::time::Duration) -> bool {
    let asked = *state.stats.asked.lock().unwrap_or_else(|e| e.into_inner());
    let wanted = asked.is_some_and(|at| at.elapsed().as_secs() < KEEP_FRESH_SECONDS);
    let last = state.stats.last.lock().unwrap_or_else(|e| e.into_inner());
    let expiring = last
        .as_ref()
        .is_none_or(|c| c.at.elapsed() + ahead >= std::time::Duration::from_secs(CACHE_SECONDS));
    wanted && expiring
}

/// Keeps the public figures computed ahead of visitors while they are
/// being read: every `every`, when [`refresh_due`] (with `every` twice as
/// the margin), the figures are computed again in the background. Reading
/// three years of aggregates takes a few hundred milliseconds, which only
/// the first visitor after ten quiet minutes waits for.
pub fn spawn_refresher(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    crate::clock::every(every, move || {
        let state = state.clone();
        async move {
            if !refresh_due(&state, every * 2) {
                return;
            }
            let setting = match state.live.store().impact_setting().await {
                Ok(s) => s.map(|s| (s.minutes, s.source)),
                Err(e) => {
                    tracing::warn!(error = %e, "statistics not refreshed");
                    return;
                }
            };
            if let Err(e) = compute(&state, state.clock.today(), setting).await {
                tracing::warn!(error = %e, "statistics not refreshed");
            }
        }
    })
}

/// Figures include today's events within a minute: a cache may keep them
/// at most that long.
fn fresh_for_a_minute(resp: &mut Response) {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
}

async fn stats_json(State(state): State<AppState>) -> Response {
    let f = match load(&state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let mut resp = super::cors::open(axum::Json(f.as_ref()).into_response());
    fresh_for_a_minute(&mut resp);
    resp
}

/// A figure as the page shows it.
struct Line {
    label: String,
    value: String,
}

/// A table: caption, two column heads, rows.
struct TableView {
    caption: String,
    head: (String, String),
    rows: Vec<(String, String)>,
    /// A chart of the same figures, shown above the table (SVG from
    /// [`super::charts`]); the table stays the accessible version.
    chart: Option<String>,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    l: Layout,
    key_figures: Vec<Line>,
    tables: Vec<TableView>,
    satisfaction: Option<TableView>,
    satisfaction_note: String,
    misdirection: Vec<Line>,
    requests: Option<Vec<Line>>,
    impact: Vec<Line>,
    impact_method: String,
    method: Vec<String>,
    generated_at: String,
}

framed!(StatsPage);

fn int(n: i64) -> String {
    // French thousands separator: a narrow no-break space.
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn percent(r: Option<f64>, sample: i64) -> String {
    match r {
        Some(r) => format!(
            "{} % (sur {})",
            format!("{:.1}", r * 100.0).replace('.', ","),
            int(sample)
        ),
        None => format!(
            "échantillon trop faible ({} sur {MIN_SAMPLE} au moins) : non publié",
            int(sample)
        ),
    }
}

/// `2026-11` as « 11/2026 », short enough for a chart's axis.
fn short_month(ym: &str) -> String {
    match ym.split_once('-') {
        Some((y, m)) => format!("{m}/{y}"),
        None => ym.to_owned(),
    }
}

fn month_label(ym: &str) -> String {
    let (y, m) = ym.split_once('-').unwrap_or((ym, ""));
    match m.parse::<usize>() {
        Ok(m @ 1..=12) => format!("{} {y}", super::i18n::FR_MONTHS[m - 1]),
        _ => ym.to_owned(),
    }
}

fn guess_label(value: &str) -> String {
    GUESSES
        .iter()
        .find(|(v, _, _)| *v == value)
        .map(|(_, fr, _)| (*fr).to_owned())
        .unwrap_or_else(|| value.to_owned())
}

fn stats_view(f: &Figures, snap: &Snapshot, d: &Display) -> StatsPage {
    let key_figures = vec![
        Line {
            label: "Parcours commencés".into(),
            value: int(f.runs_started),
        },
        Line {
            label: "Parcours arrivés à une réponse".into(),
            value: int(f.answers),
        },
        Line {
            label: "Taux de complétion (réponses ÷ parcours commencés)".into(),
            value: percent(f.completion_rate, f.runs_started),
        },
        Line {
            label: "Parcours arrivés à une impasse".into(),
            value: int(f.dead_ends),
        },
        Line {
            label: "Sites qui intègrent le guide".into(),
            value: int(f.sites_embedding as i64),
        },
        Line {
            label: "Sites actifs ces 30 derniers jours".into(),
            value: int(f.sites_active_30_days as i64),
        },
    ];
    let months: BTreeSet<&String> = f
        .runs_by_month
        .keys()
        .chain(f.answers_by_month.keys())
        .collect();
    // The last 24 months with figures, as columns.
    let recent: Vec<(String, f64)> = months
        .iter()
        .rev()
        .take(24)
        .rev()
        .map(|m| {
            (
                short_month(m),
                f.runs_by_month.get(*m).copied().unwrap_or(0) as f64,
            )
        })
        .collect();
    let mut tables = vec![TableView {
        chart: (!recent.is_empty()).then(|| {
            super::charts::columns(
                "Parcours commencés par mois",
                "Nombre de parcours commencés chaque mois, sur les 24 derniers mois qui en comptent ; le tableau qui suit donne les chiffres.",
                &recent,
                "",
            )
        }),
        caption: "Parcours commencés et arrivés à une réponse, par mois".into(),
        head: ("Mois".into(), "Parcours commencés / réponses".into()),
        rows: months
            .iter()
            .map(|m| {
                (
                    month_label(m),
                    format!(
                        "{} / {}",
                        int(f.runs_by_month.get(*m).copied().unwrap_or(0)),
                        int(f.answers_by_month.get(*m).copied().unwrap_or(0))
                    ),
                )
            })
            .collect(),
    }];
    if !f.answers_by_theme.is_empty() {
        tables.push(TableView {
            chart: None,
            caption: "Réponses données, par thème".into(),
            head: ("Thème".into(), "Réponses".into()),
            rows: f
                .answers_by_theme
                .iter()
                .map(|(t, n)| (t.clone(), int(*n)))
                .collect(),
        });
    }
    let mut by_type: Vec<(&String, &i64)> = f.answers_by_document_type.iter().collect();
    by_type.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let label = |slug: &String| {
        snap.document_type(slug)
            .map(|d| d.label.clone())
            .unwrap_or_else(|| slug.clone())
    };
    let bars: Vec<(String, f64)> = by_type
        .iter()
        .take(12)
        .map(|(slug, n)| (label(slug), **n as f64))
        .collect();
    tables.push(TableView {
        chart: (!bars.is_empty()).then(|| {
            super::charts::hbars(
                "Réponses données, par type de document",
                "Les types de documents les plus demandés ; le tableau qui suit donne tous les chiffres.",
                &bars,
                "",
            )
        }),
        caption: "Réponses données, par type de document".into(),
        head: ("Type de document".into(), "Réponses".into()),
        rows: by_type
            .into_iter()
            .map(|(slug, n)| (label(slug), int(*n)))
            .collect(),
    });
    let s = &f.satisfaction;
    let (satisfaction, satisfaction_note) = if s.sample >= MIN_SAMPLE {
        let labels = super::i18n::texts(Lang::Fr).feedback_levels;
        (
            Some(TableView {
                chart: None,
                caption: format!(
                    "Réponses à « Est-ce que cela vous a été utile ? » (sur {})",
                    int(s.sample)
                ),
                head: ("Réponse".into(), "Nombre".into()),
                rows: s
                    .levels
                    .iter()
                    .map(|(level, n)| {
                        let i = level.parse::<usize>().unwrap_or(1).clamp(1, 4) - 1;
                        (
                            labels
                                .get(i)
                                .map(|l| (*l).to_owned())
                                .unwrap_or_else(|| level.clone()),
                            int(*n),
                        )
                    })
                    .collect(),
            }),
            format!(
                "Part des réponses « utile » ou mieux : {}.",
                percent(s.useful_rate, s.sample)
            ),
        )
    } else {
        (
            None,
            format!(
                "{} avis donnés : la répartition n'est publiée qu'à partir de {MIN_SAMPLE} avis.",
                int(s.sample)
            ),
        )
    };
    let m = &f.misdirection_avoided;
    let mut misdirection = vec![
        Line {
            label: "Part des personnes qui se seraient adressées à un autre service que le bon"
                .into(),
            value: percent(m.rate, m.sample),
        },
        Line {
            label: "La même part, sans les réponses « je ne sais pas »".into(),
            value: percent(m.rate_without_unknown, m.sample_without_unknown),
        },
    ];
    for (g, n) in &m.guesses {
        misdirection.push(Line {
            label: format!("Réponse « {} »", guess_label(g)),
            value: int(*n),
        });
    }
    let requests = f.requests.as_ref().map(|r| {
        let hours = |h: Option<i64>| match h {
            Some(h) => format!("{} h", int(h)),
            None => format!(
                "échantillon trop faible ({} sur {MIN_SAMPLE} au moins) : non publié",
                int(r.answered)
            ),
        };
        vec![
            Line {
                label: "Demandes envoyées".into(),
                value: int(r.sent),
            },
            Line {
                label: "Demandes redirigées vers un autre service (erreurs d'adressage restantes)"
                    .into(),
                value: int(r.rerouted),
            },
            Line {
                label: "Part arrivée au bon service du premier coup".into(),
                value: percent(r.first_time_right, r.sent),
            },
            Line {
                label: "Délai médian avant la première réponse".into(),
                value: hours(r.median_hours_to_first_answer),
            },
            Line {
                label: "Délai avant la première réponse pour 90 % des demandes".into(),
                value: hours(r.p90_hours_to_first_answer),
            },
        ]
    });
    let h = &f.hours_saved;
    let mut impact = vec![Line {
        label: "Heures de travail épargnées aux services".into(),
        value: match h.value {
            Some(v) => format!("{} h", format!("{v:.1}").replace('.', ",")),
            None => "non calculé (voir la méthode)".into(),
        },
    }];
    if let Some(a) = h.misdirected_requests_avoided {
        impact.push(Line {
            label: "Demandes mal adressées évitées (estimation)".into(),
            value: int(a),
        });
    }
    if let (Some(min), Some(src)) = (h.minutes_per_misdirected_request, &h.source) {
        impact.push(Line {
            label: "Temps passé par un service sur une demande mal adressée".into(),
            value: format!(
                "{} min (source : {src})",
                format!("{min}").replace('.', ",")
            ),
        });
    }
    StatsPage {
        l: d.layout("Statistiques"),
        key_figures,
        tables,
        satisfaction,
        satisfaction_note,
        misdirection,
        requests,
        impact,
        impact_method: h.method.clone(),
        method: vec![
            "Locadocs mesure son usage sans suivre personne : ni cookie, ni adresse IP, ni empreinte du \
             navigateur. Un parcours est relié d'une étape à l'autre par un identifiant aléatoire porté \
             par l'adresse de la page du guide. Les événements bruts sont conservés quelques mois, puis \
             seuls restent les totaux par jour, d'où sont calculés tous les chiffres de cette page."
                .into(),
            "Parcours commencés : premières étapes affichées. Réponses : parcours arrivés à une page de \
             réponse (un parcours compte une fois par jour, quel que soit le nombre de documents de la \
             réponse). Taux de complétion : réponses ÷ parcours commencés."
                .into(),
            "Mauvaise orientation évitée : sur la page de réponse, la question facultative « Sans ce guide, \
             à qui vous seriez-vous adressé ? ». Une réponse compte comme une erreur évitée quand le type \
             de service nommé n'est celui d'aucun des détenteurs de la réponse. « Un autre service » et \
             « je ne sais pas » comptent comme des erreurs évitées dans le premier taux ; le second taux \
             exclut « je ne sais pas »."
                .into(),
            "Demandes : envoyées par le formulaire de Locadocs aux services qui en reçoivent. Les \
             redirections d'un service à un autre sont l'erreur d'adressage qui reste ; la part arrivée \
             au bon service du premier coup est (demandes − redirections) ÷ demandes. Délais en heures \
             entières entre l'envoi et la première réponse d'un agent ; médiane et 90e centile au rang \
             le plus proche."
                .into(),
            format!(
                "Échantillons : une part, une répartition ou un délai n'est publié qu'à partir de \
                 {MIN_SAMPLE} réponses ; en dessous, la page le dit plutôt que d'afficher un pourcentage \
                 trompeur."
            ),
            "Données ouvertes : les mêmes chiffres sont publiés en JSON à l'adresse /stats.json.".into(),
        ],
        generated_at: f.generated_at.clone(),
    }
}

async fn stats_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let d = Display::from_answers(&Answers::parse_query(raw.as_deref().unwrap_or("")));
    let f = match load(&state).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let snap = state.live.snapshot();
    let mut resp = render(&stats_view(&f, &snap, &d));
    fresh_for_a_minute(&mut resp);
    resp
}

// ---------------------------------------------------------------- misdirection question

/// The question on an answer page, as the template shows it.
pub struct Orientation {
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub question: &'static str,
    pub help: &'static str,
    pub choices: Vec<(&'static str, &'static str)>,
    /// Just answered: the thanks are announced instead of the question.
    pub thanks: Option<&'static str>,
}

/// The query parameter the answer page is reached with after the question.
pub const THANKS_PARAM: &str = "orientation";

/// The question for an answer: the form carries what the answer was asked
/// with (document types, commune, year); the server finds its holders again.
pub fn orientation(
    slug: &str,
    document_types: &[String],
    commune: &str,
    year: Option<i32>,
    lang: Lang,
    raw: &Answers,
) -> Orientation {
    let en = lang == Lang::En;
    let mut hidden: Vec<(String, String)> = document_types
        .iter()
        .map(|d| ("document_type".to_owned(), d.clone()))
        .collect();
    hidden.push(("commune".into(), commune.to_owned()));
    if let Some(y) = year {
        hidden.push((guide::YEAR.into(), y.to_string()));
    }
    hidden.push(("lang".into(), lang.as_str().to_owned()));
    // Back to this very page: the answers it was asked with.
    let back = Answers::from_pairs(
        raw.pairs()
            .iter()
            .filter(|(k, _)| k != THANKS_PARAM && k != "merci")
            .cloned(),
    );
    hidden.push(("back".into(), back.to_query()));
    Orientation {
        action: format!("/g/{slug}/orientation"),
        hidden,
        question: if en {
            "Without this guide, whom would you have asked?"
        } else {
            "Sans ce guide, à qui vous seriez-vous adressé ?"
        },
        help: if en {
            "Optional and anonymous: one click helps us measure the misdirected requests avoided."
        } else {
            "Facultatif et anonyme : un clic nous aide à mesurer les demandes mal adressées évitées."
        },
        choices: GUESSES
            .iter()
            .map(|(v, fr, en_label)| (*v, if en { *en_label } else { *fr }))
            .collect(),
        thanks: raw.get(THANKS_PARAM).is_some().then_some(if en {
            "Thank you, your answer has been recorded."
        } else {
            "Merci, votre réponse est enregistrée."
        }),
    }
}

/// Most document types one answer is asked about.
const MAX_TYPES: usize = 20;

fn bad_orientation(lang: Lang, text: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        &Display::plain(lang),
        super::i18n::texts(lang).error_title,
        vec![text.to_owned()],
        vec![],
    )
}

/// A run id as carried in a guide's address: letters, digits, `-` and `_`.
/// The run an answer belongs to, when its id is one this instance signed
/// (a forged or garbled id links the guess to no run).
async fn run_of(state: &AppState, back: &Answers) -> String {
    match back.get("run") {
        Some(r)
            if state
                .analytics
                .verify_run(state.live.store().as_ref(), r)
                .await =>
        {
            r.to_owned()
        }
        _ => String::new(),
    }
}

async fn post_orientation(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let lang = Lang::parse(field("lang"));
    let en = lang == Lang::En;
    let snap = state.live.snapshot();
    if snap.guide(&slug).is_none() {
        return not_found_page(lang);
    }
    if !state.limiter.allow(peer) {
        let t = super::i18n::texts(lang);
        let mut resp = message(
            StatusCode::TOO_MANY_REQUESTS,
            &Display::plain(lang),
            t.error_title,
            vec![t.too_many.to_owned()],
            vec![],
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
        return resp;
    }
    let Some(guess) = field("guess").filter(|g| GUESSES.iter().any(|(v, _, _)| v == g)) else {
        return bad_orientation(
            lang,
            if en {
                "Choose one of the answers offered."
            } else {
                "Choisissez une des réponses proposées (la mairie, les archives municipales, les archives \
                 départementales, un notaire, un tribunal, un autre service ou je ne sais pas)."
            },
        );
    };
    let types: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "document_type")
        .map(|(_, v)| v.as_str())
        .collect();
    let commune = field("commune").unwrap_or("");
    let year = match field(guide::YEAR).map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) if y == guide::UNKNOWN => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (1000..=9999).contains(&y) => Some(y),
            _ => {
                return bad_orientation(
                    lang,
                    if en {
                        "The year of the answer is not valid."
                    } else {
                        "L'année de la réponse n'est pas valable."
                    },
                );
            }
        },
    };
    let today = state.clock.today();
    let when = year.map(When::Year).unwrap_or(When::Unknown);
    let mut holders: Vec<String> = Vec::new();
    let mut kinds: BTreeSet<&'static str> = BTreeSet::new();
    let mut located = Vec::new();
    for doc in types.iter().take(MAX_TYPES + 1) {
        let Ok(answer) = snap.locate(doc, commune, when, today) else {
            continue;
        };
        located.push(answer.document_type.slug.to_string());
        for m in &answer.matches {
            let (id, k) = match m.holder {
                Holder::Service(s) => (s.id.to_string(), s.kind.as_str()),
                Holder::Unknown { kind, .. } => (format!("@{kind}"), kind.as_str()),
            };
            if !holders.contains(&id) {
                holders.push(id);
            }
            kinds.insert(k);
        }
    }
    if types.is_empty() || types.len() > MAX_TYPES || located.len() != types.len() {
        return bad_orientation(
            lang,
            if en {
                "This answer cannot be found again: start the guide again."
            } else {
                "Cette réponse est introuvable (type de document ou commune inconnus) : recommencez le guide."
            },
        );
    }
    let back = Answers::parse_query(field("back").unwrap_or(""));
    let site = back
        .get("site")
        .filter(|k| snap.site(k).is_some())
        .unwrap_or_default()
        .to_owned();
    // The guessed kind is one of the holders' kinds; « un autre service »
    // and « je ne sais pas » never are.
    let same = guess != "autre" && guess != UNKNOWN_GUESS && kinds.contains(guess);
    let run = run_of(&state, &back).await;
    state.analytics.record(RawEvent {
        at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        day: today.format("%Y-%m-%d").to_string(),
        run,
        kind: kind::MISDIRECTION.to_owned(),
        guide: slug.clone(),
        site,
        value: guess.to_owned(),
        document_type: located[0].clone(),
        holders: holders.join(" "),
        complete: Some(same),
        ..RawEvent::default()
    });
    let mut to = back;
    to.push(THANKS_PARAM, "merci");
    Redirect::to(&format!("/g/{slug}?{}#orientation", to.to_query())).into_response()
}

// ---------------------------------------------------------------- request events

/// Records a request event (`request_sent`, `request_rerouted`,
/// `request_answered`): `holders` is the service, or "from to".
pub fn request_event(
    state: &AppState,
    event_kind: &str,
    guide: Option<&str>,
    holders: &str,
    document_type: &str,
    value: &str,
) {
    state.analytics.record(RawEvent {
        at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        day: state.clock.today().format("%Y-%m-%d").to_string(),
        kind: event_kind.to_owned(),
        guide: guide.unwrap_or_default().to_owned(),
        holders: holders.to_owned(),
        document_type: document_type.to_owned(),
        value: value.to_owned(),
        ..RawEvent::default()
    });
}

/// A request's first answer, when this one is: whole hours since it was
/// sent (`created_at`, RFC 3339).
pub fn first_answer(state: &AppState, req: &crate::store::StoredRequest) {
    if let Some(e) = answered_event(req, state.clock.today()) {
        state.analytics.record(e);
    }
}

/// The `request_answered` event of a request's first answer, given today
/// (the service's day); `None` when it was answered before.
pub fn answered_event(req: &crate::store::StoredRequest, today: NaiveDate) -> Option<RawEvent> {
    if req.first_answer_at.is_some() {
        return None;
    }
    let hours = chrono::DateTime::parse_from_rfc3339(&req.created_at)
        .map(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .num_hours()
                .max(0)
        })
        .unwrap_or(0);
    Some(RawEvent {
        at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        day: today.format("%Y-%m-%d").to_string(),
        kind: kind::REQUEST_ANSWERED.to_owned(),
        guide: req.guide.clone().unwrap_or_default(),
        holders: req.service.clone(),
        document_type: req.document_type.clone(),
        value: hours.to_string(),
        ..RawEvent::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d: BTreeMap<i64, i64> = [(1, 5), (10, 4), (100, 1)].into_iter().collect();
        assert_eq!(nearest_rank(&d, 0.5), Some(1));
        assert_eq!(nearest_rank(&d, 0.9), Some(10));
        assert_eq!(nearest_rank(&d, 1.0), Some(100));
        assert_eq!(nearest_rank(&BTreeMap::new(), 0.5), None);
    }

    #[test]
    fn shares_need_the_minimum_sample() {
        assert_eq!(share(1, MIN_SAMPLE - 1), None);
        assert_eq!(share(10, 40), Some(0.25));
        assert_eq!(share(50, 40), Some(1.0));
    }

    #[test]
    fn numbers_in_french() {
        assert_eq!(int(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(int(12), "12");
    }
}
