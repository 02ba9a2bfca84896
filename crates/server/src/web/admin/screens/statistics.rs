//! *Statistiques*: each guide's figures over a chosen period, compared with
//! the period of the same length just before — the funnel, the completion
//! rate, the answers by holder service and by document type, the embedding
//! sites, the feedback and its comments, the suggestions to triage, the
//! misdirection answers and the requests — each table also as CSV.
//!
//! Every figure is read from the daily aggregates
//! ([`crate::store::Analytics::totals`]), never from the raw events. Who
//! sees which table is the policy's ([`policy::statistics_services`],
//! [`Act::ReadStatisticsTable`]): contributors see only the rows of their
//! own services.
//!
//! The sums are read through [`crate::web::totals::TotalsCache`]; the usual
//! periods of every guide are computed ahead ([`spawn_warmer`]).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Days, Months, NaiveDate};
use locadocs_core::guide::Guide;
use locadocs_core::{Snapshot, formats::escape_cell};
use serde::Deserialize;

use crate::store::{GroupBy, SuggestionStatus, Total, TotalsQuery, kind};
use crate::web::admin::error::{AdminError, Result};
use crate::web::admin::policy::{self, Act};
use crate::web::admin::view::{
    self, Block, Button, Cell, CellForm, Field, FormView, Kind, Notice, Table,
};
use crate::web::admin::{SignedForm, SignedIn};
use crate::web::{AppState, charts};

/// The longest period shown, in days (ten years).
const MAX_DAYS: i64 = 3660;

/// The feedback levels, as the guide's answer page words them.
const LEVELS: [&str; 4] = ["Pas du tout", "Un peu", "Oui", "Tout à fait"];

// ---------------------------------------------------------------- period

/// `?du=YYYY-MM-DD&au=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    au: Option<String>,
    /// After a triage: the status just given.
    #[serde(default)]
    trie: Option<String>,
}

/// Days `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    from: NaiveDate,
    to: NaiveDate,
}

impl Period {
    fn last_days(today: NaiveDate, n: u64) -> Period {
        Period {
            from: today - Days::new(n - 1),
            to: today,
        }
    }

    fn last_months(today: NaiveDate, n: u32) -> Period {
        let from = today
            .checked_sub_months(Months::new(n))
            .map(|d| d + Days::new(1))
            .unwrap_or(today);
        Period { from, to: today }
    }

    fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length that ends the day before.
    fn previous(&self) -> Period {
        let to = self.from - Days::new(1);
        Period {
            from: to - Days::new(self.days() as u64 - 1),
            to,
        }
    }

    fn iso(d: NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    fn text(&self) -> String {
        format!(
            "du {} au {}",
            self.from.format("%d/%m/%Y"),
            self.to.format("%d/%m/%Y")
        )
    }

    fn query(&self) -> String {
        format!("du={}&au={}", Self::iso(self.from), Self::iso(self.to))
    }
}

/// The period asked for; field errors (`du`, `au`) otherwise. Without
/// dates: the last 30 days.
fn period_of(
    q: &PeriodQuery,
    today: NaiveDate,
) -> std::result::Result<Period, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut day = |name: &str, v: &Option<String>| -> Option<NaiveDate> {
        let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    name.to_owned(),
                    format!("Date invalide « {v} » : attendu AAAA-MM-JJ, par exemple 2026-01-31."),
                ));
                None
            }
        }
    };
    let from = day("du", &q.du);
    let to = day("au", &q.au);
    if !errors.is_empty() {
        return Err(errors);
    }
    let p = match (from, to) {
        (None, None) => Period::last_days(today, 30),
        (Some(from), None) => Period {
            from,
            to: today.max(from),
        },
        (None, Some(to)) => Period::last_days(to, 30),
        (Some(from), Some(to)) => Period { from, to },
    };
    if p.to < p.from {
        return Err(vec![(
            "au".into(),
            "La date de fin doit être le même jour que la date de début ou après.".into(),
        )]);
    }
    if p.days() > MAX_DAYS {
        return Err(vec![(
            "du".into(),
            format!("La période doit durer au plus {MAX_DAYS} jours (dix ans)."),
        )]);
    }
    Ok(p)
}

/// The usual periods, offered as links by the period chooser and computed
/// ahead by [`spawn_warmer`].
fn presets(today: NaiveDate) -> [(&'static str, Period); 2] {
    [
        ("30 derniers jours", Period::last_days(today, 30)),
        ("12 derniers mois", Period::last_months(today, 12)),
    ]
}

/// The period chooser: a GET form, and links to the usual periods.
fn period_blocks(
    action: &str,
    p: Option<Period>,
    q: &PeriodQuery,
    errors: &[(String, String)],
    today: NaiveDate,
) -> Vec<Block> {
    let value = |v: &Option<String>, d: Option<NaiveDate>| {
        v.clone()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| d.map(Period::iso))
            .unwrap_or_default()
    };
    let err = |name: &str| {
        errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
    };
    vec![
        Block::Form(FormView {
            action: action.to_owned(),
            csrf: String::new(),
            hidden: vec![],
            fields: vec![
                Field::new("du", "Du", &value(&q.du, p.map(|p| p.from)), Kind::Date)
                    .hint("Premier jour inclus (AAAA-MM-JJ).")
                    .error(err("du")),
                Field::new("au", "Au", &value(&q.au, p.map(|p| p.to)), Kind::Date)
                    .hint("Dernier jour inclus (AAAA-MM-JJ).")
                    .error(err("au")),
            ],
            buttons: vec![Button::primary("Afficher cette période")],
        }),
        Block::Links(
            presets(today)
                .iter()
                .map(|(label, p)| (label.to_string(), format!("{action}?{}", p.query())))
                .collect(),
        ),
    ]
}

// ---------------------------------------------------------------- values

/// A cell of a statistics table, as shown and as exported.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Text(String),
    Int(i64),
    /// A share in percent; `None` when its base is 0.
    Pct(Option<f64>),
    /// A relative change in percent; `None` when the previous value is 0.
    Change(Option<f64>),
    /// A change of a rate, in percentage points.
    Points(Option<f64>),
}

/// One decimal, French style; never « -0,0 ».
fn one_decimal(x: f64) -> String {
    let x = if x.abs() < 0.05 { 0.0 } else { x };
    format!("{x:.1}").replace('.', ",")
}

fn signed(x: f64) -> String {
    let s = one_decimal(x);
    if s.starts_with('-') || s == "0,0" {
        s
    } else {
        format!("+{s}")
    }
}

impl V {
    fn html(&self) -> Cell {
        match self {
            V::Text(t) => Cell::text(t),
            V::Int(n) => Cell::num(n.to_string()),
            V::Pct(Some(x)) => Cell::num(format!("{}\u{a0}%", one_decimal(*x))),
            V::Change(Some(x)) => Cell::num(format!("{}\u{a0}%", signed(*x))),
            V::Points(Some(x)) => Cell::num(format!("{}\u{a0}pts", signed(*x))),
            V::Pct(None) | V::Change(None) | V::Points(None) => Cell::num("—"),
        }
    }

    /// As written in a CSV file: numbers bare (a comma for decimals), empty
    /// when undefined, text through the project's formula escaping.
    fn csv(&self) -> String {
        match self {
            V::Text(t) => escape_cell(t).into_owned(),
            V::Int(n) => n.to_string(),
            V::Pct(Some(x)) | V::Change(Some(x)) | V::Points(Some(x)) => one_decimal(*x),
            V::Pct(None) | V::Change(None) | V::Points(None) => String::new(),
        }
    }
}

fn pct(part: i64, base: i64) -> Option<f64> {
    (base > 0).then(|| part as f64 * 100.0 / base as f64)
}

fn change(cur: i64, prev: i64) -> Option<f64> {
    (prev > 0).then(|| (cur - prev) as f64 * 100.0 / prev as f64)
}

fn points(cur: Option<f64>, prev: Option<f64>) -> Option<f64> {
    Some(cur? - prev?)
}

/// One table of figures.
struct Tab {
    /// Its name in the CSV address.
    name: &'static str,
    title: String,
    /// How it is counted.
    note: Option<String>,
    caption: String,
    head: Vec<String>,
    rows: Vec<Vec<V>>,
}

impl Tab {
    fn html(&self) -> Table {
        Table {
            caption: self.caption.clone(),
            head: self.head.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let c = v.html();
                            if i == 0 { Cell::row(c.text) } else { c }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// The CSV file: UTF-8 with BOM, `;`, CRLF, as every export.
    fn csv(&self) -> String {
        fn field(s: &str) -> String {
            if s.contains([';', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        }
        let mut out = String::from("\u{feff}");
        let line = |cells: Vec<String>| {
            cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(";") + "\r\n"
        };
        out.push_str(&line(self.head.clone()));
        for r in &self.rows {
            out.push_str(&line(r.iter().map(V::csv).collect()));
        }
        out
    }
}

// ---------------------------------------------------------------- reading

/// The sums of some kinds for a guide over a period.
struct Sums(std::sync::Arc<Vec<Total>>);

impl Sums {
    async fn read(
        state: &AppState,
        guide: &str,
        p: Period,
        kinds: &[&str],
        dims: Option<&Vec<String>>,
        group: GroupBy,
    ) -> Result<Sums> {
        let q = TotalsQuery {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            from: Some(Period::iso(p.from)),
            to: Some(Period::iso(p.to)),
            guide: Some(guide.to_owned()),
            site: None,
            dims: dims.cloned(),
            group,
        };
        Ok(Sums(
            state
                .totals
                .read(state.live.store().as_ref(), state.clock.today(), q)
                .await?,
        ))
    }

    fn runs(&self, k: &str, f: impl Fn(&Total) -> bool) -> i64 {
        self.0
            .iter()
            .filter(|t| t.kind == k && f(t))
            .map(|t| t.runs)
            .sum()
    }

    fn events(&self, k: &str, f: impl Fn(&Total) -> bool) -> i64 {
        self.0
            .iter()
            .filter(|t| t.kind == k && f(t))
            .map(|t| t.events)
            .sum()
    }

    fn dims(&self, k: &str) -> BTreeSet<String> {
        self.0
            .iter()
            .filter(|t| t.kind == k)
            .map(|t| t.dim.clone())
            .collect()
    }
}

const BY_DIM: GroupBy = GroupBy {
    month: false,
    day: false,
    guide: false,
    site: false,
    dim: true,
    value: false,
};

const BY_DIM_VALUE: GroupBy = GroupBy {
    value: true,
    ..BY_DIM
};

const BY_SITE: GroupBy = GroupBy {
    site: true,
    dim: false,
    ..BY_DIM
};

const BY_GUIDE: GroupBy = GroupBy {
    guide: true,
    dim: false,
    ..BY_DIM
};

fn service_name(snap: &Snapshot, id: &str) -> String {
    if id.is_empty() {
        return "service non renseigné".into();
    }
    snap.service(id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

fn type_name(snap: &Snapshot, slug: &str) -> String {
    if slug.is_empty() {
        return "type non renseigné".into();
    }
    snap.document_type(slug)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| slug.to_owned())
}

fn step_name(g: &Guide, id: &str) -> String {
    match g.step(id).and_then(|s| s.question.clone()) {
        Some(q) => format!("{q} ({id})"),
        None => id.to_owned(),
    }
}

/// Rows `[label, current, previous, change]` per dim, the largest first.
fn compared_rows(
    cur: &Sums,
    prev: &Sums,
    k: &str,
    count: impl Fn(&Sums, &str) -> i64,
    label: impl Fn(&str) -> String,
) -> Vec<Vec<V>> {
    let _ = k;
    let mut dims: Vec<String> = cur.dims(k).union(&prev.dims(k)).cloned().collect();
    dims.sort_by_key(|d| (std::cmp::Reverse(count(cur, d)), label(d)));
    dims.iter()
        .map(|d| {
            let (c, p) = (count(cur, d), count(prev, d));
            vec![
                V::Text(label(d)),
                V::Int(c),
                V::Int(p),
                V::Change(change(c, p)),
            ]
        })
        .collect()
}

fn compared_head(first: &str, what: &str) -> Vec<String> {
    vec![
        first.to_owned(),
        what.to_owned(),
        format!("{what} (période précédente)"),
        "Évolution".to_owned(),
    ]
}

/// Whose figures a guide's tables show: the tables read and the services
/// their rows are limited to.
struct Scope<'a> {
    may: Box<dyn Fn(&str) -> bool + Send + Sync + 'a>,
    services: Option<Vec<String>>,
}

impl Scope<'_> {
    /// What the policy lets `me` read ([`Act::ReadStatisticsTable`],
    /// [`policy::statistics_services`]).
    fn of(me: &SignedIn) -> Scope<'_> {
        Scope {
            may: Box::new(|name| me.may(Act::ReadStatisticsTable(name))),
            services: policy::statistics_services(&me.user),
        }
    }

    /// Every table of every service: only to compute sums ahead, never
    /// shown.
    fn ahead() -> Scope<'static> {
        Scope {
            may: Box::new(|_| true),
            services: None,
        }
    }
}

/// Every table of a guide's statistics that `scope` may read, in page
/// order.
async fn tables(state: &AppState, scope: &Scope<'_>, g: &Guide, p: Period) -> Result<Vec<Tab>> {
    let store = state.live.store().as_ref();
    let snap = state.live.snapshot();
    let slug = g.slug.as_str();
    let pp = p.previous();
    let services = scope.services.clone();
    let may = |name: &str| (scope.may)(name);
    let mut out = Vec::new();

    if may("indicateurs") || may("entonnoir") {
        let kinds = [
            kind::RUN_STARTED,
            kind::STEP_SHOWN,
            kind::ANSWER_SHOWN,
            kind::ANSWER_RUN,
            kind::DEAD_END,
        ];
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &kinds, None, BY_DIM),
            Sums::read(state, slug, pp, &kinds, None, BY_DIM),
        )?;
        let head = |s: &Sums| {
            let started = s.runs(kind::RUN_STARTED, |_| true);
            // Runs that reached an answer, once each whatever the number of
            // document types it showed.
            let answered = s.runs(kind::ANSWER_RUN, |_| true);
            let dead = s.runs(kind::DEAD_END, |_| true);
            (started, answered, pct(answered, started), dead)
        };
        let (c, pr) = (head(&cur), head(&prev));
        if may("indicateurs") {
            out.push(Tab {
                name: "indicateurs",
                title: "Chiffres clés".into(),
                note: Some("Taux de complétion : parcours arrivés à une réponse ÷ parcours commencés. Un parcours qui dure plusieurs jours compte une fois par jour.".into()),
                caption: format!("Chiffres clés, {}, comparés à la période précédente", p.text()),
                head: vec![
                    "Indicateur".into(),
                    "Période".into(),
                    "Période précédente".into(),
                    "Évolution".into(),
                ],
                rows: vec![
                    vec![V::Text("Parcours commencés".into()), V::Int(c.0), V::Int(pr.0), V::Change(change(c.0, pr.0))],
                    vec![V::Text("Parcours arrivés à une réponse".into()), V::Int(c.1), V::Int(pr.1), V::Change(change(c.1, pr.1))],
                    vec![V::Text("Taux de complétion".into()), V::Pct(c.2), V::Pct(pr.2), V::Points(points(c.2, pr.2))],
                    vec![V::Text("Impasses atteintes".into()), V::Int(c.3), V::Int(pr.3), V::Change(change(c.3, pr.3))],
                ],
            });
        }
        if may("entonnoir") {
            let mut rows = Vec::new();
            let mut before: Option<(i64, i64)> = None;
            let mut line = |label: String, c: i64, pv: i64, rows: &mut Vec<Vec<V>>| {
                let drop = before.and_then(|(bc, _)| pct(bc - c, bc));
                let drop_prev = before.and_then(|(_, bp)| pct(bp - pv, bp));
                rows.push(vec![
                    V::Text(label),
                    V::Int(c),
                    V::Pct(pct(c, cur.runs(kind::RUN_STARTED, |_| true))),
                    V::Pct(drop),
                    V::Int(pv),
                    V::Pct(drop_prev),
                    V::Change(change(c, pv)),
                ]);
                before = Some((c, pv));
            };
            line("Parcours commencés".into(), c.0, pr.0, &mut rows);
            for s in &g.steps {
                let shown = |x: &Sums| x.runs(kind::STEP_SHOWN, |t| t.dim == s.id);
                line(step_name(g, &s.id), shown(&cur), shown(&prev), &mut rows);
            }
            out.push(Tab {
                name: "entonnoir",
                title: "Entonnoir".into(),
                note: Some("Parcours ayant affiché chaque étape, dans l'ordre du guide. L'abandon est la part des parcours de la ligne précédente qui n'ont pas affiché cette étape (une étape sur une autre branche du guide peut en compter moins sans abandon).".into()),
                caption: format!("Entonnoir du guide, {}, comparé à la période précédente", p.text()),
                head: vec![
                    "Étape".into(),
                    "Parcours".into(),
                    "Part des parcours commencés".into(),
                    "Abandon depuis la ligne précédente".into(),
                    "Parcours (période précédente)".into(),
                    "Abandon (période précédente)".into(),
                    "Évolution".into(),
                ],
                rows,
            });
        }
    }

    if may("detenteurs") {
        let dims = services.as_ref();
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &[kind::ANSWER_HOLDER], dims, BY_DIM),
            Sums::read(state, slug, pp, &[kind::ANSWER_HOLDER], dims, BY_DIM),
        )?;
        out.push(Tab {
            name: "detenteurs",
            title: "Réponses par service détenteur".into(),
            note: Some("Parcours dont la réponse désigne ce service comme détenteur (une réponse peut en désigner plusieurs).".into()),
            caption: format!("Réponses par service détenteur, {}", p.text()),
            head: compared_head("Service", "Réponses"),
            rows: compared_rows(
                &cur,
                &prev,
                kind::ANSWER_HOLDER,
                |s, d| s.runs(kind::ANSWER_HOLDER, |t| t.dim == d),
                |d| service_name(&snap, d),
            ),
        });
    }

    if may("types") || may("dates") {
        let kinds = [kind::ANSWER_SHOWN, "answer_date"];
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &kinds, None, BY_DIM_VALUE),
            Sums::read(state, slug, pp, &kinds, None, BY_DIM_VALUE),
        )?;
        if may("types") {
            let mut types: Vec<String> = cur
                .dims(kind::ANSWER_SHOWN)
                .union(&prev.dims(kind::ANSWER_SHOWN))
                .cloned()
                .collect();
            let count = |s: &Sums, d: &str, v: Option<&str>| {
                s.runs(kind::ANSWER_SHOWN, |t| {
                    t.dim == d && v.is_none_or(|v| t.value == v)
                })
            };
            types.sort_by_key(|d| (std::cmp::Reverse(count(&cur, d, None)), type_name(&snap, d)));
            out.push(Tab {
                name: "types",
                title: "Réponses par type de document".into(),
                note: Some(
                    "Une réponse est incomplète quand une période n'est couverte par aucune règle."
                        .into(),
                ),
                caption: format!("Réponses par type de document, {}", p.text()),
                head: vec![
                    "Type de document".into(),
                    "Réponses complètes".into(),
                    "Réponses incomplètes".into(),
                    "Réponses".into(),
                    "Réponses (période précédente)".into(),
                    "Évolution".into(),
                ],
                rows: types
                    .iter()
                    .map(|d| {
                        let (all, before) = (count(&cur, d, None), count(&prev, d, None));
                        vec![
                            V::Text(type_name(&snap, d)),
                            V::Int(count(&cur, d, Some("complete"))),
                            V::Int(count(&cur, d, Some("incomplete"))),
                            V::Int(all),
                            V::Int(before),
                            V::Change(change(all, before)),
                        ]
                    })
                    .collect(),
            });
        }
        if may("dates") {
            let count = |s: &Sums, v: &str| s.runs("answer_date", |t| t.value == v);
            let total = count(&cur, "date_known") + count(&cur, "date_unknown");
            out.push(Tab {
                name: "dates",
                title: "Date du document connue ou non".into(),
                note: None,
                caption: format!(
                    "Réponses selon que la date du document était connue, {}",
                    p.text()
                ),
                head: vec![
                    "Date du document".into(),
                    "Réponses".into(),
                    "Part des réponses".into(),
                    "Réponses (période précédente)".into(),
                    "Évolution".into(),
                ],
                rows: [
                    ("date_known", "Date connue"),
                    ("date_unknown", "Date inconnue"),
                ]
                .iter()
                .map(|(v, label)| {
                    let (c, pv) = (count(&cur, v), count(&prev, v));
                    vec![
                        V::Text(label.to_string()),
                        V::Int(c),
                        V::Pct(pct(c, total)),
                        V::Int(pv),
                        V::Change(change(c, pv)),
                    ]
                })
                .collect(),
            });
        }
    }

    if may("sites") {
        let kinds = [kind::RUN_STARTED, kind::ANSWER_SHOWN];
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &kinds, None, BY_SITE),
            Sums::read(state, slug, pp, &kinds, None, BY_SITE),
        )?;
        let sites: BTreeSet<String> = cur
            .0
            .iter()
            .chain(prev.0.iter())
            .map(|t| t.site.clone())
            .collect();
        let name = |k: &str| {
            if k.is_empty() {
                "Page du guide".to_owned()
            } else {
                snap.site(k)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| k.to_owned())
            }
        };
        let count = |s: &Sums, k: &str, site: &str| s.runs(k, |t| t.site == site);
        let mut sites: Vec<String> = sites.into_iter().collect();
        sites.sort_by_key(|s| {
            (
                std::cmp::Reverse(count(&cur, kind::RUN_STARTED, s)),
                name(s),
            )
        });
        out.push(Tab {
            name: "sites",
            title: "Résultats par site d'intégration".into(),
            note: Some(
                "« Page du guide » : le guide ouvert sur Locadocs, hors de tout site enregistré."
                    .into(),
            ),
            caption: format!("Parcours et réponses par site d'intégration, {}", p.text()),
            head: vec![
                "Site".into(),
                "Parcours commencés".into(),
                "Réponses".into(),
                "Taux de complétion".into(),
                "Réponses (période précédente)".into(),
                "Évolution".into(),
            ],
            rows: sites
                .iter()
                .map(|s| {
                    let started = count(&cur, kind::RUN_STARTED, s);
                    let answers = count(&cur, kind::ANSWER_SHOWN, s);
                    let before = count(&prev, kind::ANSWER_SHOWN, s);
                    vec![
                        V::Text(name(s)),
                        V::Int(started),
                        V::Int(answers),
                        V::Pct(pct(answers, started)),
                        V::Int(before),
                        V::Change(change(answers, before)),
                    ]
                })
                .collect(),
        });
    }

    if may("avis") {
        let group = GroupBy {
            value: true,
            ..BY_SITE
        };
        let group = GroupBy {
            site: false,
            ..group
        };
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &[kind::FEEDBACK], None, group),
            Sums::read(state, slug, pp, &[kind::FEEDBACK], None, group),
        )?;
        let count = |s: &Sums, level: &str| s.events(kind::FEEDBACK, |t| t.value == level);
        let total: i64 = (1..=4).map(|l| count(&cur, &l.to_string())).sum();
        out.push(Tab {
            name: "avis",
            title: "Avis « Est-ce que cela vous a été utile ? »".into(),
            note: None,
            caption: format!("Répartition des avis, {}", p.text()),
            head: vec![
                "Avis".into(),
                "Avis donnés".into(),
                "Part des avis".into(),
                "Avis donnés (période précédente)".into(),
                "Évolution".into(),
            ],
            rows: LEVELS
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let level = (i + 1).to_string();
                    let (c, pv) = (count(&cur, &level), count(&prev, &level));
                    vec![
                        V::Text(format!("{} – {label}", i + 1)),
                        V::Int(c),
                        V::Pct(pct(c, total)),
                        V::Int(pv),
                        V::Change(change(c, pv)),
                    ]
                })
                .collect(),
        });
    }

    if may("commentaires") {
        let comments = store
            .guide_comments(slug, &Period::iso(p.from), &Period::iso(p.to))
            .await?;
        out.push(Tab {
            name: "commentaires",
            title: "Commentaires".into(),
            note: Some("Laissés avec un avis, les plus récents d'abord. Ils ne sont montrés qu'aux éditeurs et aux administrateurs.".into()),
            caption: format!("Commentaires laissés avec un avis, {}", p.text()),
            head: vec![
                "Date".into(),
                "Type de document".into(),
                "Avis".into(),
                "Commentaire".into(),
            ],
            rows: comments
                .iter()
                .map(|c| {
                    let level = usize::try_from(c.rating - 1)
                        .ok()
                        .and_then(|i| LEVELS.get(i))
                        .map(|l| format!("{} – {l}", c.rating))
                        .unwrap_or_else(|| c.rating.to_string());
                    vec![
                        V::Text(day_of(&c.created_at)),
                        V::Text(c.document_type.as_deref().map(|d| type_name(&snap, d)).unwrap_or_default()),
                        V::Text(level),
                        V::Text(c.comment.clone()),
                    ]
                })
                .collect(),
        });
    }

    if may("suggestions") {
        let list = store
            .guide_suggestions(slug, &Period::iso(p.from), &Period::iso(p.to))
            .await?;
        out.push(Tab {
            name: "suggestions",
            title: "Suggestions à trier".into(),
            note: Some("Envoyées depuis une impasse du guide, les plus récentes d'abord.".into()),
            caption: format!("Suggestions reçues, {}", p.text()),
            head: vec![
                "Numéro".into(),
                "Date".into(),
                "Étape".into(),
                "Suggestion".into(),
                "État".into(),
            ],
            rows: list
                .iter()
                .map(|s| {
                    vec![
                        V::Text(format!("n° {}", s.id)),
                        V::Text(day_of(&s.created_at)),
                        V::Text(step_name(g, &s.step)),
                        V::Text(s.text.clone()),
                        V::Text(s.status.label().to_owned()),
                    ]
                })
                .collect(),
        });
    }

    if may("orientation") {
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &[kind::MISDIRECTION], None, BY_DIM_VALUE),
            Sums::read(state, slug, pp, &[kind::MISDIRECTION], None, BY_DIM_VALUE),
        )?;
        let count = |s: &Sums, d: Option<&str>, v: Option<&str>| {
            s.events(kind::MISDIRECTION, |t| {
                d.is_none_or(|d| t.dim == d) && v.is_none_or(|v| t.value == v)
            })
        };
        let guesses: BTreeSet<String> = cur
            .dims(kind::MISDIRECTION)
            .union(&prev.dims(kind::MISDIRECTION))
            .cloned()
            .collect();
        let row = |label: String, d: Option<&str>| {
            let same = count(&cur, d, Some("same"));
            let different = count(&cur, d, Some("different"));
            let all = same + different;
            let before = count(&prev, d, None);
            vec![
                V::Text(label),
                V::Int(same),
                V::Int(different),
                V::Int(all),
                V::Pct(pct(different, all)),
                V::Int(before),
                V::Change(change(all, before)),
            ]
        };
        let mut rows: Vec<Vec<V>> = guesses.iter().map(|d| row(d.clone(), Some(d))).collect();
        rows.push(row("Toutes les réponses".into(), None));
        out.push(Tab {
            name: "orientation",
            title: "Sans ce guide, à qui vous seriez-vous adressé ?".into(),
            note: Some("Une réponse « autre type » que le détenteur réel est une erreur d'orientation évitée ; la part d'autres types est calculée sur les réponses à la question (échantillon : la colonne Réponses).".into()),
            caption: format!("Réponses à la question d'orientation, {}", p.text()),
            head: vec![
                "Service auquel la personne se serait adressée".into(),
                "Même type que le détenteur".into(),
                "Autre type".into(),
                "Réponses".into(),
                "Part d'erreurs évitées".into(),
                "Réponses (période précédente)".into(),
                "Évolution".into(),
            ],
            rows,
        });
    }

    if may("liens") {
        let dims = services.as_ref();
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &[kind::LINK_CLICKED], dims, BY_DIM_VALUE),
            Sums::read(state, slug, pp, &[kind::LINK_CLICKED], dims, BY_DIM_VALUE),
        )?;
        let count = |s: &Sums, d: &str, v: Option<&str>| {
            s.events(kind::LINK_CLICKED, |t| {
                t.dim == d && v.is_none_or(|v| t.value == v)
            })
        };
        let mut list: Vec<String> = cur
            .dims(kind::LINK_CLICKED)
            .union(&prev.dims(kind::LINK_CLICKED))
            .cloned()
            .collect();
        list.sort_by_key(|d| {
            (
                std::cmp::Reverse(count(&cur, d, None)),
                service_name(&snap, d),
            )
        });
        out.push(Tab {
            name: "liens",
            title: "Clics vers les services".into(),
            note: None,
            caption: format!(
                "Clics sur les coordonnées, le site et la demande en ligne des services, {}",
                p.text()
            ),
            head: vec![
                "Service".into(),
                "Coordonnées".into(),
                "Site internet".into(),
                "Demande en ligne".into(),
                "Clics".into(),
                "Clics (période précédente)".into(),
                "Évolution".into(),
            ],
            rows: list
                .iter()
                .map(|d| {
                    let (all, before) = (count(&cur, d, None), count(&prev, d, None));
                    vec![
                        V::Text(service_name(&snap, d)),
                        V::Int(count(&cur, d, Some("contact"))),
                        V::Int(count(&cur, d, Some("website"))),
                        V::Int(count(&cur, d, Some("request"))),
                        V::Int(all),
                        V::Int(before),
                        V::Change(change(all, before)),
                    ]
                })
                .collect(),
        });
    }

    if may("demandes") {
        let dims = services.as_ref();
        let kinds = [
            kind::REQUEST_SENT,
            kind::REQUEST_REROUTED,
            kind::REQUEST_ANSWERED,
        ];
        // The period and the one before, read together.
        let (cur, prev) = tokio::try_join!(
            Sums::read(state, slug, p, &kinds, dims, BY_DIM_VALUE),
            Sums::read(state, slug, pp, &kinds, dims, BY_DIM_VALUE),
        )?;
        let mut list: BTreeSet<String> = BTreeSet::new();
        for k in kinds {
            list.extend(cur.dims(k));
            list.extend(prev.dims(k));
        }
        let count = |s: &Sums, k: &str, d: &str| s.events(k, |t| t.dim == d);
        let mut list: Vec<String> = list.into_iter().collect();
        list.sort_by_key(|d| {
            (
                std::cmp::Reverse(count(&cur, kind::REQUEST_SENT, d)),
                service_name(&snap, d),
            )
        });
        out.push(Tab {
            name: "demandes",
            title: "Demandes".into(),
            note: Some("Demandes envoyées par le guide, redirigées par le service vers un autre, et premières réponses, avec le délai médian entre l'envoi et la première réponse.".into()),
            caption: format!("Demandes par service, {}", p.text()),
            head: vec![
                "Service".into(),
                "Envoyées".into(),
                "Envoyées (période précédente)".into(),
                "Évolution".into(),
                "Redirigées vers un autre service".into(),
                "Premières réponses".into(),
                "Délai médian de première réponse (heures)".into(),
            ],
            rows: list
                .iter()
                .map(|d| {
                    let (sent, before) = (count(&cur, kind::REQUEST_SENT, d), count(&prev, kind::REQUEST_SENT, d));
                    let hours: BTreeMap<i64, i64> = cur
                        .0
                        .iter()
                        .filter(|t| t.kind == kind::REQUEST_ANSWERED && t.dim == *d)
                        .filter_map(|t| Some((t.value.parse::<i64>().ok()?, t.events)))
                        .fold(BTreeMap::new(), |mut m, (h, n)| {
                            *m.entry(h).or_insert(0) += n;
                            m
                        });
                    vec![
                        V::Text(service_name(&snap, d)),
                        V::Int(sent),
                        V::Int(before),
                        V::Change(change(sent, before)),
                        V::Int(count(&cur, kind::REQUEST_REROUTED, d)),
                        V::Int(count(&cur, kind::REQUEST_ANSWERED, d)),
                        match median(&hours) {
                            Some(h) => V::Int(h),
                            None => V::Text("—".into()),
                        },
                    ]
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The chart drawn above a table, from the table's own figures (the table
/// is its data table): which column it draws, by table.
fn chart(t: &Tab) -> Option<String> {
    let (column, unit, what) = match t.name {
        "entonnoir" => (1, "", "Parcours ayant affiché chaque étape"),
        "detenteurs" => (1, "réponses", "Réponses par service détenteur"),
        "types" => (3, "réponses", "Réponses par type de document"),
        "sites" => (1, "parcours", "Parcours commencés par site"),
        "avis" => (1, "avis", "Répartition des avis"),
        _ => return None,
    };
    let bars: Vec<(String, i64)> = t
        .rows
        .iter()
        .filter_map(|r| match (r.first(), r.get(column)) {
            (Some(V::Text(label)), Some(V::Int(n))) => Some((label.clone(), *n)),
            _ => None,
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    let desc = format!(
        "{} ; les chiffres sont dans le tableau qui suit.",
        t.caption
    );
    Some(if t.name == "entonnoir" {
        let steps: Vec<(String, u64)> = bars
            .into_iter()
            .map(|(l, n)| (l, u64::try_from(n).unwrap_or(0)))
            .collect();
        charts::funnel(what, &desc, &steps)
    } else {
        let bars: Vec<(String, f64)> = bars.into_iter().map(|(l, n)| (l, n as f64)).collect();
        charts::hbars(what, &desc, &bars, unit)
    })
}

/// The median of counted values (the lower one of the two middle values).
fn median(counts: &BTreeMap<i64, i64>) -> Option<i64> {
    let n: i64 = counts.values().sum();
    if n == 0 {
        return None;
    }
    let mut seen = 0;
    for (v, c) in counts {
        seen += c;
        if seen * 2 >= n {
            return Some(*v);
        }
    }
    None
}

/// `2026-11-23T10:00:00Z` as `23/11/2026`.
fn day_of(at: &str) -> String {
    NaiveDate::parse_from_str(at.get(..10).unwrap_or(at), "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| at.to_owned())
}

/// What the account sees, said on the page.
fn scope_text(me: &SignedIn, snap: &Snapshot) -> String {
    match policy::statistics_services(&me.user) {
        None => "Vous voyez tous les chiffres, les commentaires et les suggestions.".into(),
        Some(list) if list.is_empty() => "Vous voyez les chiffres des services qui vous sont confiés : aucun ne l'est pour l'instant. Les chiffres de l'ensemble du guide, les sites, les avis, les commentaires et les suggestions sont réservés aux éditeurs et aux administrateurs.".into(),
        Some(list) => format!(
            "Vous voyez les chiffres qui concernent vos services ({}) : les réponses qui les désignent, les clics vers eux et leurs demandes. Les chiffres de l'ensemble du guide, les sites, les avis, les commentaires et les suggestions sont réservés aux éditeurs et aux administrateurs.",
            list.iter().map(|s| service_name(snap, s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

// ---------------------------------------------------------------- screens

/// The sums of the list of guides, for an editor.
fn every_guide(p: Period) -> TotalsQuery {
    TotalsQuery {
        kinds: [
            kind::RUN_STARTED,
            kind::ANSWER_SHOWN,
            kind::ANSWER_RUN,
            kind::DEAD_END,
        ]
        .iter()
        .map(|k| k.to_string())
        .collect(),
        from: Some(Period::iso(p.from)),
        to: Some(Period::iso(p.to)),
        guide: None,
        site: None,
        dims: None,
        group: BY_GUIDE,
    }
}

/// Reads the sums of the public figures, of the list of guides and of
/// every guide's tables over the usual periods ([`presets`]), so that they
/// are kept ([`crate::web::totals`]): a view of those periods then reads
/// only yesterday's and today's rows.
pub async fn warm(state: &AppState) -> Result<()> {
    let today = state.clock.today();
    let snap = state.live.snapshot();
    let store = state.live.store().as_ref();
    // The public figures' settled sums too: `/stats` then reads two days.
    crate::web::stats::figures(store, &state.totals, &snap, today).await?;
    for (_, p) in presets(today) {
        state.totals.read(store, today, every_guide(p)).await?;
        for g in snap.guides() {
            tables(state, &Scope::ahead(), g, p).await?;
        }
    }
    Ok(())
}

/// Runs [`warm`] at start, then again whenever the date, the published
/// guides or a settled day's figures changed (checked every `every`).
pub fn spawn_warmer(state: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    let done = std::sync::Arc::new(std::sync::Mutex::new(None));
    crate::clock::every(every, move || {
        let (state, done) = (state.clone(), done.clone());
        async move {
            let stamp = (
                crate::web::totals::settled_stamp(state.live.store().as_ref(), state.clock.today()),
                state.live.snapshot().version,
            );
            if *done.lock().unwrap_or_else(|e| e.into_inner()) == Some(stamp) {
                return;
            }
            let started = std::time::Instant::now();
            match warm(&state).await {
                Ok(()) => {
                    tracing::debug!(
                        ms = started.elapsed().as_millis() as u64,
                        "dashboards computed ahead"
                    );
                    *done.lock().unwrap_or_else(|e| e.into_inner()) = Some(stamp);
                }
                Err(e) => tracing::warn!(error = ?e, "dashboards not computed ahead"),
            }
        }
    })
}

/// `/admin/statistiques`: every guide with its headline figures.
pub async fn statistics(
    State(state): State<AppState>,
    Query(q): Query<PeriodQuery>,
    me: SignedIn,
) -> Result {
    let today = state.clock.today();
    let snap = state.live.snapshot();
    let mut page = view::page(&me.access, "Statistiques");
    let action = "/admin/statistiques";
    let p = match period_of(&q, today) {
        Ok(p) => p,
        Err(errors) => {
            page.blocks = period_blocks(action, None, &q, &errors, today);
            page.errors = errors;
            return Err(AdminError::Form(StatusCode::BAD_REQUEST, Box::new(page)));
        }
    };
    page.blocks.push(Block::P(format!(
        "Période : {} ({} jours). {}",
        p.text(),
        p.days(),
        scope_text(&me, &snap)
    )));
    page.blocks
        .extend(period_blocks(action, Some(p), &q, &[], today));
    let store = state.live.store().as_ref();
    let mut guides: Vec<&Guide> = snap.guides().collect();
    guides.sort_by(|a, b| a.title.cmp(&b.title));
    let range = |p: Period| (Some(Period::iso(p.from)), Some(Period::iso(p.to)));
    let (from, to) = range(p);
    let rows: Vec<Vec<V>>;
    let head: Vec<String>;
    match policy::statistics_services(&me.user) {
        None => {
            let sums = Sums(state.totals.read(store, today, every_guide(p)).await?);
            head = vec![
                "Guide".into(),
                "Parcours commencés".into(),
                "Taux de complétion".into(),
                "Réponses".into(),
                "Impasses".into(),
            ];
            rows = guides
                .iter()
                .map(|g| {
                    let of = |k: &str| sums.runs(k, |t| t.guide == g.slug.as_str());
                    let (started, answers) = (of(kind::RUN_STARTED), of(kind::ANSWER_SHOWN));
                    let answered = of(kind::ANSWER_RUN);
                    vec![
                        V::Text(g.title.clone()),
                        V::Int(started),
                        V::Pct(pct(answered, started)),
                        V::Int(answers),
                        V::Int(of(kind::DEAD_END)),
                    ]
                })
                .collect();
        }
        Some(mine) => {
            let q = TotalsQuery {
                kinds: vec![kind::ANSWER_HOLDER.to_string()],
                from,
                to,
                guide: None,
                site: None,
                dims: Some(mine),
                group: BY_GUIDE,
            };
            let sums = Sums(state.totals.read(store, today, q).await?);
            head = vec!["Guide".into(), "Réponses désignant vos services".into()];
            rows = guides
                .iter()
                .map(|g| {
                    vec![
                        V::Text(g.title.clone()),
                        V::Int(sums.runs(kind::ANSWER_HOLDER, |t| t.guide == g.slug.as_str())),
                    ]
                })
                .collect();
        }
    }
    page.blocks.push(Block::H2("Guides".into()));
    if guides.is_empty() {
        page.blocks
            .push(Block::P("Aucun guide n'est publié.".into()));
        return Ok(view::render(&page));
    }
    let mut table = Tab {
        name: "guides",
        title: String::new(),
        note: None,
        caption: format!("Guides, {}", p.text()),
        head,
        rows,
    }
    .html();
    for (row, g) in table.rows.iter_mut().zip(&guides) {
        row[0].href = Some(format!("/admin/statistiques/{}?{}", g.slug, p.query()));
    }
    page.blocks.push(Block::Table(table));
    Ok(view::render(&page))
}

/// `/admin/statistiques/{guide}`: the guide's tables for the period.
pub async fn guide_statistics(
    State(state): State<AppState>,
    Path(guide): Path<String>,
    Query(q): Query<PeriodQuery>,
    me: SignedIn,
) -> Result {
    let today = state.clock.today();
    let snap = state.live.snapshot();
    let g = snap.guide(&guide).ok_or(AdminError::NotFound)?;
    let action = format!("/admin/statistiques/{}", g.slug);
    let mut page = view::page(&me.access, &format!("Statistiques : {}", g.title));
    let p = match period_of(&q, today) {
        Ok(p) => p,
        Err(errors) => {
            page.blocks = period_blocks(&action, None, &q, &errors, today);
            page.errors = errors;
            return Err(AdminError::Form(StatusCode::BAD_REQUEST, Box::new(page)));
        }
    };
    page.notice = match q.trie.as_deref().and_then(SuggestionStatus::parse) {
        Some(SuggestionStatus::Done) => Some(Notice::success(
            "Suggestion marquée comme traitée",
            "Son nouvel état est enregistré.",
        )),
        Some(SuggestionStatus::NotRelevant) => Some(Notice::success(
            "Suggestion marquée comme non pertinente",
            "Son nouvel état est enregistré.",
        )),
        Some(SuggestionStatus::New) => Some(Notice::success(
            "Suggestion remise à traiter",
            "Son nouvel état est enregistré.",
        )),
        None => None,
    };
    let pp = p.previous();
    page.blocks.push(Block::Links(vec![(
        "Tous les guides".into(),
        format!("/admin/statistiques?{}", p.query()),
    )]));
    page.blocks.push(Block::P(format!(
        "Période : {} ({} jours), comparée à la période précédente de même durée, {}. {}",
        p.text(),
        p.days(),
        pp.text(),
        scope_text(&me, &snap)
    )));
    page.blocks
        .extend(period_blocks(&action, Some(p), &q, &[], today));
    let list = tables(&state, &Scope::of(&me), g, p).await?;
    let triage = me.may(Act::TriageSuggestions);
    let suggestions = if triage {
        state
            .live
            .store()
            .guide_suggestions(g.slug.as_str(), &Period::iso(p.from), &Period::iso(p.to))
            .await?
    } else {
        Vec::new()
    };
    for t in &list {
        page.blocks.push(Block::H2(t.title.clone()));
        if let Some(n) = &t.note {
            page.blocks.push(Block::P(n.clone()));
        }
        if t.rows.is_empty() {
            page.blocks
                .push(Block::P("Aucune donnée sur cette période.".into()));
            continue;
        }
        if let Some(svg) = chart(t) {
            page.blocks.push(Block::Chart(svg));
        }
        let mut table = t.html();
        if t.name == "suggestions" && triage {
            table.head.push("Trier".into());
            for (row, s) in table.rows.iter_mut().zip(&suggestions) {
                let mut cell = Cell::text("");
                for (status, label) in [
                    (SuggestionStatus::Done, "Marquer traitée"),
                    (SuggestionStatus::NotRelevant, "Marquer non pertinente"),
                ] {
                    if s.status == status {
                        continue;
                    }
                    cell.forms.push(CellForm {
                        action: format!("/admin/statistiques/{}/suggestions", g.slug),
                        csrf: me.access.csrf.clone(),
                        hidden: vec![
                            ("id".into(), s.id.to_string()),
                            ("du".into(), Period::iso(p.from)),
                            ("au".into(), Period::iso(p.to)),
                        ],
                        button: Button::named(
                            "statut",
                            status.as_str(),
                            &format!("{label} (n° {})", s.id),
                            status == SuggestionStatus::NotRelevant,
                        ),
                    });
                }
                row.push(cell);
            }
        }
        page.blocks.push(Block::Table(table));
        page.blocks.push(Block::Links(vec![(
            format!("Télécharger « {} » (CSV)", t.title),
            format!(
                "/admin/statistiques/{}/{}.csv?{}",
                g.slug,
                t.name,
                p.query()
            ),
        )]));
    }
    Ok(view::render(&page))
}

/// `/admin/statistiques/{guide}/{table}.csv`.
pub async fn statistics_csv(
    State(state): State<AppState>,
    Path((guide, file)): Path<(String, String)>,
    Query(q): Query<PeriodQuery>,
    me: SignedIn,
) -> Result {
    let name = file.strip_suffix(".csv").ok_or(AdminError::NotFound)?;
    let snap = state.live.snapshot();
    let g = snap.guide(&guide).ok_or(AdminError::NotFound)?;
    let p = period_of(&q, state.clock.today()).map_err(|errors| {
        AdminError::BadRequest(
            errors
                .into_iter()
                .map(|(f, m)| format!("{f} : {m}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    })?;
    let list = tables(&state, &Scope::of(&me), g, p).await?;
    let t = list
        .iter()
        .find(|t| t.name == name)
        .ok_or(AdminError::NotFound)?;
    let file_name = format!(
        "locadocs-{}-{}-{}-{}.csv",
        g.slug,
        t.name,
        Period::iso(p.from),
        Period::iso(p.to)
    );
    let mut r = t.csv().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// A triage form: the suggestion, its new status, and the period to go back to.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    id: i64,
    statut: String,
    #[serde(default)]
    du: Option<String>,
    #[serde(default)]
    au: Option<String>,
}

/// `POST /admin/statistiques/{guide}/suggestions`.
pub async fn suggestion_triage(
    State(state): State<AppState>,
    Path(guide): Path<String>,
    SignedForm { me, form }: SignedForm<TriageForm>,
) -> Result<Response> {
    me.ensure(Act::TriageSuggestions)?;
    let snap = state.live.snapshot();
    let g = snap.guide(&guide).ok_or(AdminError::NotFound)?;
    let status = SuggestionStatus::parse(&form.statut).ok_or_else(|| {
        AdminError::BadRequest(format!("État de suggestion inconnu « {} ».", form.statut))
    })?;
    let found = state
        .live
        .store()
        .triage_suggestion(g.slug.as_str(), form.id, status, me.user.id)
        .await?;
    if !found {
        return Err(AdminError::NotFound);
    }
    let q = PeriodQuery {
        du: form.du,
        au: form.au,
        trie: None,
    };
    let back = match period_of(&q, state.clock.today()) {
        Ok(p) => format!("{}&", p.query()),
        Err(_) => String::new(),
    };
    Ok(crate::web::admin::see_other(&format!(
        "/admin/statistiques/{}?{back}trie={}",
        g.slug,
        status.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_period_has_the_same_length_and_ends_the_day_before() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = Period {
            from: d("2026-11-01"),
            to: d("2026-11-30"),
        };
        assert_eq!(
            p.previous(),
            Period {
                from: d("2026-10-02"),
                to: d("2026-10-31")
            }
        );
        assert_eq!(
            Period::last_months(d("2026-11-23"), 12).from,
            d("2025-11-24")
        );
    }

    #[test]
    fn percentages_have_one_decimal_and_a_dash_without_base() {
        assert_eq!(V::Pct(pct(2, 3)).html().text, "66,7\u{a0}%");
        assert_eq!(V::Pct(pct(1, 0)).html().text, "—");
        assert_eq!(V::Change(change(1, 2)).html().text, "-50,0\u{a0}%");
        assert_eq!(V::Change(change(3, 2)).csv(), "50,0");
        assert_eq!(V::Pct(None).csv(), "");
        assert_eq!(V::Text("=1+1".into()).csv(), "'=1+1");
    }

    #[test]
    fn the_median_of_counted_values() {
        let m: BTreeMap<i64, i64> = [(2, 1), (5, 1), (9, 2)].into_iter().collect();
        assert_eq!(median(&m), Some(5));
        assert_eq!(median(&BTreeMap::new()), None);
    }
}
