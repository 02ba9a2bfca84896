//! The public JSON API, `/api/v1`, and its OpenAPI document.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
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
    path = "/communes",
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
pub struct DocumentTypeOut {
    pub slug: String,
    pub label: String,
    pub theme: Option<String>,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    /// Years after the document's date before anyone may consult it (0: at once).
    pub communicability_years: u32,
    pub communicability_note: Option<String>,
}

impl From<&DocumentType> for DocumentTypeOut {
    fn from(d: &DocumentType) -> Self {
        DocumentTypeOut {
            slug: d.slug.to_string(),
            label: d.label.clone(),
            theme: d.theme.clone(),
            aliases: d.aliases.clone(),
            description: d.description.clone(),
            communicability_years: d.communicability_years,
            communicability_note: d.communicability_note.clone(),
        }
    }
}

/// All document types.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentTypeList {
    pub results: Vec<DocumentTypeOut>,
}

/// Answers with `304 Not Modified` when the client already has this
/// version of the data for this day; otherwise marks the response so.
fn conditional(
    headers: &HeaderMap,
    snap: &Snapshot,
    today: NaiveDate,
    body: impl FnOnce() -> Response,
) -> Response {
    let etag = format!("W/\"{}-{}\"", snap.version, today.format("%Y%m%d"));
    let matches = headers
        .get(header::IF_NONE_MATCH)
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
    path = "/document-types",
    responses((status = 200, description = "Types de documents", body = DocumentTypeList)),
    tag = "documents"
)]
async fn list_document_types(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
    path = "/document-types/{slug}",
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
    headers: HeaderMap,
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
pub struct ServiceOut {
    /// `null` for a town hall that no contributor has described yet.
    pub id: Option<String>,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub request_url: Option<String>,
    pub opening_hours: Option<String>,
    pub response_time: Option<String>,
}

impl From<&Service> for ServiceOut {
    fn from(s: &Service) -> Self {
        ServiceOut {
            id: Some(s.id.to_string()),
            name: s.name.clone(),
            kind: s.kind.as_str().to_owned(),
            address: s.address.clone(),
            postal_code: s.postal_code.clone(),
            city: s.city.clone(),
            phone: s.phone.clone(),
            email: s.email.clone(),
            website: s.website.clone(),
            request_url: s.request_url.clone(),
            opening_hours: s.opening_hours.clone(),
            response_time: s.response_time.clone(),
        }
    }
}

/// A service with everything known about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: ServiceOut,
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
    path = "/services/{id}",
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
    headers: HeaderMap,
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
pub struct CommunicabilityOut {
    /// `true`: freely accessible now; `false`: not yet; `null`: depends on the document's date, not given.
    pub free: Option<bool>,
    /// From when it is freely accessible (`YYYY-MM-DD`), when a delay applies and the date is known.
    pub free_from: Option<String>,
    /// The legal delay in years (0: at once).
    pub delay_years: u32,
    /// Who may access earlier, exceptions.
    pub note: Option<String>,
}

/// One holder over one unbroken stretch of time.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchOut {
    pub service: ServiceOut,
    /// First day of the stretch this holder covers (`null`: since ever).
    pub from: Option<String>,
    /// Last day (`null`: up to now and beyond).
    pub to: Option<String>,
    /// The territory of the rule that gives this holder.
    pub territory: String,
    pub instructions: Option<String>,
    pub source: Option<String>,
    pub communicability: CommunicabilityOut,
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

/// Who holds the documents, for which dates, and whether they may be consulted.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocateOut {
    pub document_type: DocumentTypeOut,
    pub commune: LocatedCommune,
    /// Holders, oldest first; with a year that straddles a transfer, every holder of that year.
    pub matches: Vec<MatchOut>,
    /// Periods touching the date asked about that no rule covers.
    pub uncovered: Vec<PeriodOut>,
    pub communicability: CommunicabilityOut,
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

fn communicability_out(c: &locadocs_core::communicability::Communicability) -> CommunicabilityOut {
    CommunicabilityOut {
        free: c.free,
        free_from: day(c.free_from),
        delay_years: c.delay_years,
        note: c.note.clone(),
    }
}

fn period_out(p: &Period) -> PeriodOut {
    PeriodOut {
        from: day(p.from),
        to: day(p.to),
    }
}

/// Builds the JSON answer; shared with the guide pages.
pub fn answer_out(answer: &Answer<'_>) -> LocateOut {
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
                    name: m.holder.name(),
                    kind: "mairie".into(),
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
            instructions: m.rule.instructions.clone(),
            source: m.rule.source.clone(),
            communicability: communicability_out(&m.communicability),
        })
        .collect();
    LocateOut {
        document_type: answer.document_type.into(),
        commune,
        matches,
        uncovered: answer.uncovered.iter().map(period_out).collect(),
        communicability: communicability_out(&answer.communicability),
    }
}

/// Who holds documents of a type for a commune and a date, and may they be consulted yet.
#[utoipa::path(
    get,
    path = "/locate",
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
    headers: HeaderMap,
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
    let answer = snap
        .locate(doc, commune, when, today)
        .map_err(|e| match e {
            LocateError::UnknownDocumentType(d) => ApiError::UnknownDocumentType(format!(
                "type de document inconnu : « {} »",
                clip(&d)
            )),
            LocateError::UnknownCommune(c) => {
                ApiError::UnknownCommune(format!("commune inconnue : « {} »", clip(&c)))
            }
        })?;
    Ok(conditional(&headers, &snap, today, || {
        Json(answer_out(&answer)).into_response()
    }))
}
