//! The public JSON API, `/api/v1`, and its OpenAPI document.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use locadocs_core::locate::{Period, When};
use locadocs_core::snapshot::{Answer, Holder, LocateError};
use locadocs_core::territory::Commune;
use locadocs_core::{DocumentType, InseeCode, Service, Snapshot};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::params::Params;

/// The API's routes, with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_communes))
        .routes(routes!(list_document_types))
        .routes(routes!(get_document_type))
        .routes(routes!(get_service))
        .routes(routes!(locate))
}

/// `YYYY-MM-DD`, written by hand: chrono's formatter is slow on a hot path.
pub fn iso_day(d: NaiveDate) -> String {
    use chrono::Datelike;
    let y = d.year();
    if (0..=9999).contains(&y) {
        format!("{y:04}-{:02}-{:02}", d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(iso_day)
}

/// A commune named by its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneRef {
    pub code: String,
    pub name: String,
}

/// A commune search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneOut {
    pub code: String,
    pub name: String,
    pub postal_codes: Vec<String>,
    pub departement: String,
    /// `commune-actuelle`, `commune-deleguee`, `commune-associee` or `arrondissement-municipal`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For a former commune or an arrondissement: the commune it belongs to today.
    pub current: Option<CommuneRef>,
}

/// Commune search results, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneResults {
    pub results: Vec<CommuneOut>,
}

fn commune_out(c: &Commune, snap: &Snapshot) -> CommuneOut {
    let current = c
        .current
        .and_then(|code| snap.territories().current(code))
        .map(|cur| CommuneRef {
            code: cur.code.to_string(),
            name: cur.name.clone(),
        });
    // A former commune has no postal codes of its own in the COG: give its current commune's.
    let postal_codes = if c.postal_codes.is_empty() {
        c.current
            .and_then(|code| snap.territories().current(code))
            .map(|cur| cur.postal_codes.clone())
            .unwrap_or_default()
    } else {
        c.postal_codes.clone()
    };
    CommuneOut {
        code: c.code.to_string(),
        name: c.name.clone(),
        postal_codes,
        departement: c.departement.clone(),
        kind: c.kind.as_str().to_owned(),
        current,
    }
}

/// Finds communes by name (while typing, tolerant of typos), postal code or
/// INSEE code; former communes are found under their own names.
#[utoipa::path(
    get,
    path = "/api/v1/communes",
    params(
        ("q" = String, Query, description = "Texte tapé : nom (début d'un mot, fautes de frappe tolérées), code postal ou code INSEE"),
        ("limit" = Option<u32>, Query, description = "Nombre de résultats, 1 à 50 (10 par défaut)"),
    ),
    responses(
        (status = 200, description = "Communes trouvées, la meilleure d'abord", body = CommuneResults),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
    ),
    tag = "communes"
)]
async fn search_communes(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CommuneResults>, ApiError> {
    let params = Params::parse(raw.as_deref())?;
    let q = params.required("q")?;
    let limit = match params.get("limit") {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=50).contains(l))
            .ok_or_else(|| {
                ApiError::invalid("limit", "« limit » doit être un nombre entier de 1 à 50")
            })?,
    };
    let snap = state.live.snapshot();
    let results = snap
        .search_communes(q, limit)
        .into_iter()
        .map(|c| commune_out(c, &snap))
        .collect();
    Ok(Json(CommuneResults { results }))
}

/// A document type and its access rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentTypeOut<'a> {
    pub slug: &'a str,
    pub label: &'a str,
    pub theme: Option<&'a str>,
    pub aliases: &'a [String],
    pub description: Option<&'a str>,
    /// Years after the document's date before anyone may consult it (0: at once).
    pub communicability_years: u32,
    pub communicability_note: Option<&'a str>,
}

impl<'a> From<&'a DocumentType> for DocumentTypeOut<'a> {
    fn from(d: &'a DocumentType) -> Self {
        DocumentTypeOut {
            slug: d.slug.as_str(),
            label: &d.label,
            theme: d.theme.as_deref(),
            aliases: &d.aliases,
            description: d.description.as_deref(),
            communicability_years: d.communicability_years,
            communicability_note: d.communicability_note.as_deref(),
        }
    }
}

/// All document types.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentTypeList<'a> {
    pub results: Vec<DocumentTypeOut<'a>>,
}

/// The weak validator of everything derived from one data version on one day.
pub fn etag(version: i64, today: NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "W/\"{version}-{:04}{:02}{:02}\"",
        today.year(),
        today.month(),
        today.day()
    )
}

/// The `If-None-Match` header alone (extracting the whole `HeaderMap`
/// would copy every header of every request).
pub struct IfNoneMatch(pub Option<HeaderValue>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(IfNoneMatch(
            parts.headers.get(header::IF_NONE_MATCH).cloned(),
        ))
    }
}

/// Answers with `304 Not Modified` when the client already has this
/// version of the data for this day; otherwise marks the response so.
pub fn conditional(
    headers: &IfNoneMatch,
    snap: &Snapshot,
    today: NaiveDate,
    body: impl FnOnce() -> Response,
) -> Response {
    revalidate(headers, etag(snap.version, today), body)
}

/// `Cache-Control: no-cache` with `etag`; `304` when the client already
/// holds that version.
pub fn revalidate(
    headers: &IfNoneMatch,
    etag: String,
    body: impl FnOnce() -> Response,
) -> Response {
    let matches = headers
        .0
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Lists every document type.
#[utoipa::path(
    get,
    path = "/api/v1/document-types",
    responses((status = 200, description = "Types de documents", body = DocumentTypeList)),
    tag = "documents"
)]
async fn list_document_types(State(state): State<AppState>, headers: IfNoneMatch) -> Response {
    let snap = state.live.snapshot();
    conditional(&headers, &snap, state.clock.today(), || {
        Json(DocumentTypeList {
            results: snap.document_types().iter().map(Into::into).collect(),
        })
        .into_response()
    })
}

/// One document type.
#[utoipa::path(
    get,
    path = "/api/v1/document-types/{slug}",
    params(("slug" = String, Path, description = "Identifiant du type de document")),
    responses(
        (status = 200, description = "Le type de document", body = DocumentTypeOut),
        (status = 404, description = "Type inconnu", body = ErrorBody),
    ),
    tag = "documents"
)]
async fn get_document_type(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: IfNoneMatch,
) -> Result<Response, ApiError> {
    let snap = state.live.snapshot();
    let doc = snap.document_type(&slug).ok_or_else(|| {
        ApiError::UnknownDocumentType(format!("type de document inconnu : « {} »", clip(&slug)))
    })?;
    Ok(conditional(&headers, &snap, state.clock.today(), || {
        Json(DocumentTypeOut::from(doc)).into_response()
    }))
}

/// A service that holds documents or handles requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut<'a> {
    /// `null` for a town hall that no contributor has described yet.
    pub id: Option<&'a str>,
    pub name: Cow<'a, str>,
    pub kind: &'a str,
    pub address: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub city: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub website: Option<&'a str>,
    pub request_url: Option<&'a str>,
    pub opening_hours: Option<&'a str>,
    pub response_time: Option<&'a str>,
}

impl<'a> From<&'a Service> for ServiceOut<'a> {
    fn from(s: &'a Service) -> Self {
        ServiceOut {
            id: Some(s.id.as_str()),
            name: Cow::Borrowed(&s.name),
            kind: s.kind.as_str(),
            address: s.address.as_deref(),
            postal_code: s.postal_code.as_deref(),
            city: s.city.as_deref(),
            phone: s.phone.as_deref(),
            email: s.email.as_deref(),
            website: s.website.as_deref(),
            request_url: s.request_url.as_deref(),
            opening_hours: s.opening_hours.as_deref(),
            response_time: s.response_time.as_deref(),
        }
    }
}

/// A service with everything known about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail<'a> {
    #[serde(flatten)]
    pub service: ServiceOut<'a>,
    pub commune: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub annuaire_id: Option<String>,
    /// When a contributor last confirmed these details (`YYYY-MM-DD`).
    pub verified_at: Option<String>,
}

/// One service.
#[utoipa::path(
    get,
    path = "/api/v1/services/{id}",
    params(("id" = String, Path, description = "Identifiant du service")),
    responses(
        (status = 200, description = "Le service", body = ServiceDetail),
        (status = 404, description = "Service inconnu", body = ErrorBody),
    ),
    tag = "services"
)]
async fn get_service(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: IfNoneMatch,
) -> Result<Response, ApiError> {
    let snap = state.live.snapshot();
    let s = snap
        .service(&id)
        .ok_or_else(|| ApiError::UnknownService(format!("service inconnu : « {} »", clip(&id))))?;
    Ok(conditional(&headers, &snap, state.clock.today(), || {
        Json(ServiceDetail {
            service: s.into(),
            commune: s.commune.map(|c| c.to_string()),
            latitude: s.latitude,
            longitude: s.longitude,
            annuaire_id: s.annuaire_id.clone(),
            verified_at: day(s.verified_at),
        })
        .into_response()
    }))
}

/// Whether anyone may consult the document.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunicabilityOut<'a> {
    /// `true`: freely accessible now; `false`: not yet; `null`: depends on the document's date, not given.
    pub free: Option<bool>,
    /// From when it is freely accessible (`YYYY-MM-DD`), when a delay applies and the date is known.
    pub free_from: Option<String>,
    /// The legal delay in years (0: at once).
    pub delay_years: u32,
    /// Who may access earlier, exceptions.
    pub note: Option<&'a str>,
}

/// One holder over one unbroken stretch of time.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchOut<'a> {
    pub service: ServiceOut<'a>,
    /// First day of the stretch this holder covers (`null`: since ever).
    pub from: Option<String>,
    /// Last day (`null`: up to now and beyond).
    pub to: Option<String>,
    /// The territory of the rule that gives this holder.
    pub territory: String,
    pub instructions: Option<&'a str>,
    pub source: Option<&'a str>,
    pub communicability: CommunicabilityOut<'a>,
}

/// A period no rule covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The commune asked about, and the current one if it is a former commune.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocatedCommune {
    pub code: String,
    pub name: String,
    pub current: Option<CommuneRef>,
}

/// The document type of an answer, without its long texts (see
/// `/document-types/{slug}` for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentTypeBrief<'a> {
    pub slug: &'a str,
    pub label: &'a str,
    pub theme: Option<&'a str>,
    pub communicability_years: u32,
    pub communicability_note: Option<&'a str>,
}

/// Who holds the documents, for which dates, and whether they may be consulted.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocateOut<'a> {
    pub document_type: DocumentTypeBrief<'a>,
    pub commune: LocatedCommune,
    /// Holders, oldest first; with a year that straddles a transfer, every holder of that year.
    pub matches: Vec<MatchOut<'a>>,
    /// Periods touching the date asked about that no rule covers.
    pub uncovered: Vec<PeriodOut>,
    pub communicability: CommunicabilityOut<'a>,
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

fn parse_when(params: &Params) -> Result<When, ApiError> {
    match (params.get("year"), params.get("date")) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "date",
            "donnez « year » ou « date », pas les deux",
        )),
        (Some("inconnu"), None) | (None, None) => Ok(When::Unknown),
        (Some(y), None) => {
            let ok = y.len() == 4 && y.bytes().all(|c| c.is_ascii_digit());
            let year: i32 = y
                .parse()
                .ok()
                .filter(|_| ok)
                .filter(|y| *y >= 1000)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "year",
                        format!(
                            "« {} » n'est pas une année (quatre chiffres, par exemple 1985)",
                            clip(y)
                        ),
                    )
                })?;
            Ok(When::Year(year))
        }
        (None, Some(d)) => locadocs_core::reference::parse_iso_date(d)
            .ok()
            .flatten()
            .filter(|d| chrono::Datelike::year(d) >= 1000)
            .map(When::Day)
            .ok_or_else(|| {
                ApiError::invalid(
                    "date",
                    format!(
                        "« {} » n'est pas une date valide (AAAA-MM-JJ, par exemple 1985-03-02)",
                        clip(d)
                    ),
                )
            }),
    }
}

fn communicability_out(
    c: &locadocs_core::communicability::Communicability,
) -> CommunicabilityOut<'_> {
    CommunicabilityOut {
        free: c.free,
        free_from: day(c.free_from),
        delay_years: c.delay_years,
        note: c.note.as_deref(),
    }
}

fn period_out(p: &Period) -> PeriodOut {
    PeriodOut {
        from: day(p.from),
        to: day(p.to),
    }
}

/// Builds the JSON answer; shared with the guide pages.
pub fn answer_out<'a>(answer: &'a Answer<'a>) -> LocateOut<'a> {
    let res = &answer.commune;
    let commune = match res.former_code {
        None => LocatedCommune {
            code: res.current.code.to_string(),
            name: res.current.name.clone(),
            current: None,
        },
        Some(code) => LocatedCommune {
            code: code.to_string(),
            name: res
                .entry
                .map(|e| e.name.clone())
                .unwrap_or_else(|| res.current.name.clone()),
            current: Some(CommuneRef {
                code: res.current.code.to_string(),
                name: res.current.name.clone(),
            }),
        },
    };
    let matches = answer
        .matches
        .iter()
        .map(|m| MatchOut {
            service: match m.holder {
                Holder::Service(s) => s.into(),
                Holder::UnknownTownHall(_) => ServiceOut {
                    id: None,
                    name: Cow::Owned(m.holder.name()),
                    kind: "mairie",
                    address: None,
                    postal_code: None,
                    city: None,
                    phone: None,
                    email: None,
                    website: None,
                    request_url: None,
                    opening_hours: None,
                    response_time: None,
                },
            },
            from: day(m.period.from),
            to: day(m.period.to),
            territory: m.rule.territory.to_string(),
            instructions: m.rule.instructions.as_deref(),
            source: m.rule.source.as_deref(),
            communicability: communicability_out(&m.communicability),
        })
        .collect();
    LocateOut {
        document_type: DocumentTypeBrief {
            slug: answer.document_type.slug.as_str(),
            label: &answer.document_type.label,
            theme: answer.document_type.theme.as_deref(),
            communicability_years: answer.document_type.communicability_years,
            communicability_note: answer.document_type.communicability_note.as_deref(),
        },
        commune,
        matches,
        uncovered: answer.uncovered.iter().map(period_out).collect(),
        communicability: communicability_out(&answer.communicability),
    }
}

/// Who holds documents of a type for a commune and a date, and may they be consulted yet.
#[utoipa::path(
    get,
    path = "/api/v1/locate",
    params(
        ("document_type" = String, Query, description = "Identifiant du type de document, par exemple permis-de-construire"),
        ("commune" = String, Query, description = "Code INSEE de la commune (actuelle ou ancienne), par exemple 35238"),
        ("year" = Option<String>, Query, description = "Année du document (AAAA), ou « inconnu »"),
        ("date" = Option<String>, Query, description = "Date du document (AAAA-MM-JJ), à la place de l'année"),
    ),
    responses(
        (status = 200, description = "Les détenteurs, du plus ancien au plus récent", body = LocateOut),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 404, description = "Commune ou type de document inconnu", body = ErrorBody),
    ),
    tag = "locate"
)]
async fn locate(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw.as_deref())?;
    let doc = params.required("document_type")?;
    let commune = params.required("commune")?;
    if InseeCode::parse(commune).is_err() {
        return Err(ApiError::invalid(
            "commune",
            format!(
                "« {} » n'est pas un code INSEE de commune (5 caractères, par exemple 35238 ou 2A004)",
                clip(commune)
            ),
        ));
    }
    let when = parse_when(&params)?;
    let snap: Arc<Snapshot> = state.live.snapshot();
    let today = state.clock.today();
    let key = AnswerKey {
        version: snap.version,
        today,
        document_type: doc.to_owned(),
        commune: commune.to_owned(),
        when,
    };
    let body = match state.answers.get(&key) {
        Some(bytes) => bytes,
        None => {
            let answer =
                snap.locate(doc, commune, when, today)
                    .map_err(|e| match e {
                        LocateError::UnknownDocumentType(d) => ApiError::UnknownDocumentType(
                            format!("type de document inconnu : « {} »", clip(&d)),
                        ),
                        LocateError::UnknownCommune(c) => {
                            ApiError::UnknownCommune(format!("commune inconnue : « {} »", clip(&c)))
                        }
                    })?;
            let bytes = Bytes::from(
                serde_json::to_vec(&answer_out(&answer))
                    .map_err(|e| ApiError::Unexpected(e.into()))?,
            );
            state.answers.put(key, bytes.clone());
            bytes
        }
    };
    Ok(conditional(&headers, &snap, today, || {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    }))
}

/// What identifies a locate answer: the data and the day it was computed
/// for, and the question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    version: i64,
    today: NaiveDate,
    document_type: String,
    commune: String,
    when: When,
}

/// Serialized locate answers, reused while the data and the day stay the
/// same. Answers are a pure function of the snapshot, so a hit is exactly
/// what a recomputation would give; the cache is bounded and starts over
/// when full.
pub struct AnswerCache {
    entries: std::sync::Mutex<std::collections::HashMap<AnswerKey, Bytes>>,
    capacity: usize,
}

impl AnswerCache {
    pub fn new(capacity: usize) -> Arc<AnswerCache> {
        Arc::new(AnswerCache {
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
            capacity,
        })
    }

    fn get(&self, key: &AnswerKey) -> Option<Bytes> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: AnswerKey, value: Bytes) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of older versions or days can never be hit again.
        if entries.len() >= self.capacity
            || entries
                .keys()
                .next()
                .is_some_and(|k| k.version != key.version || k.today != key.today)
        {
            entries.clear();
        }
        entries.insert(key, value);
    }
}
