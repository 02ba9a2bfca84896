//! Public coverage and open data: `/couverture` (how specific the answer is
//! for every département and document type, as a chart and a table),
//! `/couverture.json` (the same as open data), and `/donnees` with the
//! published holding rules as CSV and JSON.
//!
//! The coverage map takes one locate per current commune × document type:
//! it is computed once per snapshot version and day (rolling bounds such as
//! "75 years" move with the day), by one request at a time, and served from
//! memory afterwards.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use locadocs_core::Snapshot;
use locadocs_core::coverage::{CoverageMap, Specificity, coverage_map};
use locadocs_core::guide::Answers;
use locadocs_core::reference::ServiceRef;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::pages::{Display, Layout, framed, render};

/// The licence the service publishes its data under.
pub const LICENCE: &str = "Licence Ouverte / Open Licence 2.0 (etalab-2.0)";
/// Where the licence is described.
pub const LICENCE_URL: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/couverture", get(coverage_page))
        .route("/couverture.json", get(coverage_json))
        .route("/donnees", get(data_page))
        .route("/donnees/regles.csv", get(rules_csv))
        .route("/donnees/regles.json", get(rules_json))
}

// ---------------------------------------------------------------- cache

/// The coverage map of the current snapshot version and day.
#[derive(Default)]
pub struct Cache {
    last: std::sync::Mutex<Option<(i64, NaiveDate, Arc<CoverageMap>)>>,
    /// One computation at a time: requests arriving meanwhile wait for it
    /// rather than starting their own.
    computing: tokio::sync::Mutex<()>,
}

impl Cache {
    pub fn new() -> Arc<Cache> {
        Arc::new(Cache::default())
    }

    fn get(&self, version: i64, today: NaiveDate) -> Option<Arc<CoverageMap>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match last.as_ref() {
            Some((v, d, m)) if *v == version && *d == today => Some(m.clone()),
            _ => None,
        }
    }

    /// The map for this snapshot and day, computed if needed (off the
    /// request threads).
    pub async fn map(&self, snap: Arc<Snapshot>, today: NaiveDate) -> Arc<CoverageMap> {
        if let Some(m) = self.get(snap.version, today) {
            return m;
        }
        let _one = self.computing.lock().await;
        if let Some(m) = self.get(snap.version, today) {
            return m;
        }
        let version = snap.version;
        let started = std::time::Instant::now();
        let map = match tokio::task::spawn_blocking(move || coverage_map(&snap, today)).await {
            Ok(m) => Arc::new(m),
            Err(e) => {
                tracing::error!(error = %e, "coverage map not computed");
                return Arc::new(CoverageMap::default());
            }
        };
        tracing::info!(
            version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "coverage map computed"
        );
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, today, map.clone()));
        map
    }
}

/// Keeps the map of the current data version computed ahead of the first
/// visitor: checks every `every` whether the snapshot or the day changed,
/// and computes the new map then (off the request threads). Computing the
/// map of the full national data takes seconds; no visitor should wait for
/// it after a change.
pub fn spawn_warmer(
    cache: Arc<Cache>,
    live: Arc<crate::live::Live>,
    clock: crate::clock::Clock,
    every: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    crate::clock::every(every, move || {
        let (cache, snap, today) = (cache.clone(), live.snapshot(), clock.today());
        async move {
            if cache.get(snap.version, today).is_none() {
                cache.map(snap, today).await;
            }
        }
    })
}

// ---------------------------------------------------------------- open data

/// Counts of communes by specificity, as published.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct CountsJson {
    pub local: u32,
    pub departement: u32,
    pub national: u32,
    pub uncovered: u32,
}

impl From<[u32; 4]> for CountsJson {
    fn from(c: [u32; 4]) -> Self {
        CountsJson {
            local: c[0],
            departement: c[1],
            national: c[2],
            uncovered: c[3],
        }
    }
}

#[derive(Debug, Serialize)]
struct DocTypeJson {
    slug: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct DeptJson {
    code: String,
    name: String,
    communes: u32,
    /// By document type slug.
    document_types: std::collections::BTreeMap<String, CountsJson>,
}

#[derive(Debug, Serialize)]
struct CoverageJson {
    licence: &'static str,
    licence_url: &'static str,
    data_version: i64,
    /// The day the answers were computed for (rolling bounds move with it).
    computed_for: String,
    categories: [&'static str; 4],
    document_types: Vec<DocTypeJson>,
    communes: u32,
    /// France-wide, by document type slug.
    totals: std::collections::BTreeMap<String, CountsJson>,
    departements: Vec<DeptJson>,
}

fn label(snap: &Snapshot, slug: &str) -> String {
    snap.document_type(slug)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| slug.to_owned())
}

fn dept_name(snap: &Snapshot, code: &str) -> String {
    snap.territories()
        .departement(code)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| code.to_owned())
}

fn totals(map: &CoverageMap) -> Vec<[u32; 4]> {
    let mut out = vec![[0u32; 4]; map.document_types.len()];
    for d in &map.departements {
        for (i, c) in d.counts.iter().enumerate() {
            for k in 0..4 {
                out[i][k] += c[k];
            }
        }
    }
    out
}

fn coverage_doc(snap: &Snapshot, map: &CoverageMap, today: NaiveDate) -> CoverageJson {
    let t = totals(map);
    CoverageJson {
        licence: LICENCE,
        licence_url: LICENCE_URL,
        data_version: snap.version,
        computed_for: today.format("%Y-%m-%d").to_string(),
        categories: Specificity::ALL.map(Specificity::key),
        document_types: map
            .document_types
            .iter()
            .map(|s| DocTypeJson {
                slug: s.clone(),
                label: label(snap, s),
            })
            .collect(),
        communes: map.departements.iter().map(|d| d.communes).sum(),
        totals: map
            .document_types
            .iter()
            .cloned()
            .zip(t.into_iter().map(CountsJson::from))
            .collect(),
        departements: map
            .departements
            .iter()
            .map(|d| DeptJson {
                code: d.code.clone(),
                name: dept_name(snap, &d.code),
                communes: d.communes,
                document_types: map
                    .document_types
                    .iter()
                    .cloned()
                    .zip(d.counts.iter().map(|c| CountsJson::from(*c)))
                    .collect(),
            })
            .collect(),
    }
}

/// Data that changes with the published data version: caches may keep it
/// for five minutes.
fn cacheable(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    super::cors::open(resp)
}

async fn coverage_json(State(state): State<AppState>) -> Response {
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let map = state.coverage.map(snap.clone(), today).await;
    cacheable(axum::Json(coverage_doc(&snap, &map, today)).into_response())
}

// ---------------------------------------------------------------- page

/// The words of the four categories, most specific first.
const NAMES: [&str; 4] = [
    "Règle locale",
    "Règle départementale",
    "Règle nationale seulement",
    "Non couvert",
];
/// Short words for the chart's lines.
const SHORT: [&str; 4] = ["locale", "dép.", "nationale", "non couvert"];
/// Shades of the accent colour, most specific darkest.
const OPACITIES: [f64; 4] = [1.0, 0.65, 0.3, 0.0];

/// One row of a table: its head and its four counts.
struct Row {
    head: String,
    link: Option<String>,
    communes: String,
    cells: [String; 4],
}

#[derive(Template)]
#[template(path = "couverture.html")]
struct CoveragePage {
    l: Layout,
    /// The département shown in detail, by name.
    departement: Option<String>,
    chart: String,
    caption: String,
    first_head: &'static str,
    names: [&'static str; 4],
    rows: Vec<Row>,
    computed_for: String,
}

framed!(CoveragePage);

#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    departement: Option<String>,
}

fn count(n: u32, of: u32) -> String {
    if of == 0 {
        super::charts::number(n as f64)
    } else {
        format!(
            "{} ({}\u{a0}%)",
            super::charts::number(n as f64),
            super::charts::number(n as f64 * 100.0 / of as f64)
        )
    }
}

fn row(head: String, link: Option<String>, communes: u32, c: [u32; 4]) -> Row {
    let total: u32 = c.iter().sum();
    Row {
        head,
        link,
        communes: super::charts::number(communes as f64),
        cells: c.map(|n| count(n, total)),
    }
}

async fn coverage_page(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    RawQuery(raw): RawQuery,
) -> Response {
    let d = Display::from_answers(&Answers::parse_query(raw.as_deref().unwrap_or("")));
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let map = state.coverage.map(snap.clone(), today).await;
    let chosen = q
        .departement
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| map.departements.iter().find(|d| d.code == c));
    if q.departement.as_deref().is_some_and(|c| !c.is_empty()) && chosen.is_none() {
        return super::pages::not_found_page(d.lang);
    }
    let page = match chosen {
        Some(dep) => {
            let name = format!("{} ({})", dept_name(&snap, &dep.code), dep.code);
            let rows: Vec<Row> = map
                .document_types
                .iter()
                .zip(&dep.counts)
                .map(|(s, c)| row(label(&snap, s), None, dep.communes, *c))
                .collect();
            let bars: Vec<(String, Vec<u64>)> = map
                .document_types
                .iter()
                .zip(&dep.counts)
                .map(|(s, c)| (label(&snap, s), c.iter().map(|n| u64::from(*n)).collect()))
                .collect();
            CoveragePage {
                l: d.layout(format!("Couverture : {name}")),
                chart: super::charts::stacked_bars(
                    &format!("Précision des réponses par type de document, {name}"),
                    "Pour chaque type de document, la part des communes du département dont la réponse vient d'une règle locale, départementale, nationale seulement, ou n'est pas couverte ; le tableau qui suit donne les chiffres.",
                    &SHORT,
                    &OPACITIES,
                    &bars,
                ),
                caption: format!(
                    "Communes de {name} selon la précision de la réponse, par type de document"
                ),
                first_head: "Type de document",
                departement: Some(name),
                names: NAMES,
                rows,
                computed_for: today.format("%d/%m/%Y").to_string(),
            }
        }
        None => {
            let t = totals(&map);
            let bars: Vec<(String, Vec<u64>)> = map
                .document_types
                .iter()
                .zip(&t)
                .map(|(s, c)| (label(&snap, s), c.iter().map(|n| u64::from(*n)).collect()))
                .collect();
            let rows: Vec<Row> = map
                .departements
                .iter()
                .map(|dep| {
                    let mut sum = [0u32; 4];
                    for c in &dep.counts {
                        for k in 0..4 {
                            sum[k] += c[k];
                        }
                    }
                    row(
                        format!("{} – {}", dep.code, dept_name(&snap, &dep.code)),
                        Some(format!("/couverture?departement={}", dep.code)),
                        dep.communes,
                        sum,
                    )
                })
                .collect();
            CoveragePage {
                l: d.layout("Couverture"),
                chart: super::charts::stacked_bars(
                    "Précision des réponses par type de document, France entière",
                    "Pour chaque type de document, la part des communes de France dont la réponse vient d'une règle locale, départementale, nationale seulement, ou n'est pas couverte ; les tableaux qui suivent donnent les chiffres.",
                    &SHORT,
                    &OPACITIES,
                    &bars,
                ),
                caption:
                    "Réponses (communes × types de document) selon leur précision, par département"
                        .into(),
                first_head: "Département",
                departement: None,
                names: NAMES,
                rows,
                computed_for: today.format("%d/%m/%Y").to_string(),
            }
        }
    };
    let mut resp = render(&page);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

// ---------------------------------------------------------------- rules

/// One published holding rule, as open data.
#[derive(Debug, Serialize)]
struct RuleJson {
    document_type: String,
    territory: String,
    from: Option<String>,
    to: Option<String>,
    /// A service id, `@<kind>` (the service of that kind competent for the
    /// commune) or `@inconnu` (no holder can be named).
    holder: String,
    /// The named service's name, for a service id.
    holder_name: Option<String>,
    instructions: Option<String>,
    source: Option<String>,
    verified_at: Option<String>,
}

fn rules(snap: &Snapshot) -> Vec<RuleJson> {
    snap.holdings()
        .iter()
        .map(|r| RuleJson {
            document_type: r.document_type.to_string(),
            territory: r.territory.to_string(),
            from: r.from.map(|b| b.to_string()),
            to: r.to.map(|b| b.to_string()),
            holder: r.service.to_string(),
            holder_name: match &r.service {
                ServiceRef::Id(id) => snap.service(id.as_str()).map(|s| s.name.clone()),
                _ => None,
            },
            instructions: r.instructions.clone(),
            source: r.source.clone(),
            verified_at: r.verified_at.map(|d| d.format("%Y-%m-%d").to_string()),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct RulesJson {
    licence: &'static str,
    licence_url: &'static str,
    data_version: i64,
    rules: Vec<RuleJson>,
}

async fn rules_json(State(state): State<AppState>) -> Response {
    let snap = state.live.snapshot();
    cacheable(
        axum::Json(RulesJson {
            licence: LICENCE,
            licence_url: LICENCE_URL,
            data_version: snap.version,
            rules: rules(&snap),
        })
        .into_response(),
    )
}

async fn rules_csv(State(state): State<AppState>) -> Response {
    let snap = state.live.snapshot();
    let body = locadocs_core::formats::write_holdings_open_data(snap.holdings(), |id| {
        snap.service(id).map(|s| s.name.clone())
    });
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"locadocs-regles.csv\""),
    );
    cacheable(resp)
}

#[derive(Template)]
#[template(path = "donnees.html")]
struct DataPage {
    l: Layout,
    rules: usize,
    licence: &'static str,
    licence_url: &'static str,
}

framed!(DataPage);

async fn data_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let d = Display::from_answers(&Answers::parse_query(raw.as_deref().unwrap_or("")));
    let snap = state.live.snapshot();
    render(&DataPage {
        l: d.layout("Données ouvertes"),
        rules: snap.holdings().len(),
        licence: LICENCE,
        licence_url: LICENCE_URL,
    })
}
