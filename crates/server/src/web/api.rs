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
use super::cors;
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
    match iso_digits(d) {
        Some(b) => String::from_utf8_lossy(&b).into_owned(),
        None => d.format("%Y-%m-%d").to_string(),
    }
}

/// The ten bytes of `YYYY-MM-DD` for a year from 0 to 9999.
fn iso_digits(d: NaiveDate) -> Option<[u8; 10]> {
    use chrono::Datelike;
    let y = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let mut buf = *b"0000-00-00";
    for (i, v) in [(0, y / 100), (2, y % 100), (5, d.month()), (8, d.day())] {
        buf[i] = b'0' + (v / 10) as u8;
        buf[i + 1] = b'0' + (v % 10) as u8;
    }
    Some(buf)
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(iso_day)
}

/// A day written `YYYY-MM-DD` straight into the output, without an
/// intermediate string.
#[derive(Debug, Clone, Copy)]
pub struct Day(pub NaiveDate);

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match iso_digits(self.0) {
            // Digits and hyphens only.
            Some(b) => s.serialize_str(std::str::from_utf8(&b).unwrap_or_default()),
            None => s.serialize_str(&iso_day(self.0)),
        }
    }
}

/// A value written through its `Display` form, straight into the output.
#[derive(Debug, Clone, Copy)]
pub struct Shown<T>(pub T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A commune named by its code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneRef<'a> {
    pub code: &'a str,
    pub name: &'a str,
}

/// A commune search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneOut<'a> {
    pub code: String,
    pub name: String,
    pub postal_codes: Vec<String>,
    pub departement: String,
    /// The département's name (« Ille-et-Vilaine »), when known.
    pub departement_name: Option<&'a str>,
    /// `commune-actuelle`, `commune-deleguee`, `commune-associee` or `arrondissement-municipal`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For a former commune or an arrondissement: the commune it belongs to today.
    pub current: Option<CommuneRef<'a>>,
}

/// Commune search results, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneResults<'a> {
    pub results: Vec<CommuneOut<'a>>,
}

fn commune_out<'a>(c: &'a Commune, snap: &'a Snapshot) -> CommuneOut<'a> {
    let current = c
        .current
        .and_then(|code| snap.territories().current(code))
        .map(|cur| CommuneRef {
            code: cur.code.as_str(),
            name: &cur.name,
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
        departement_name: snap
            .territories()
            .departement(&c.departement)
            .map(|d| d.name.as_str()),
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
) -> Result<Response, ApiError> {
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
    Ok(cors::open(Json(CommuneResults { results }).into_response()))
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
    match HeaderValue::try_from(etag) {
        Ok(etag) => revalidate_with(headers, &etag, body),
        // Our validators are ASCII: not reached, but never worth a failure.
        Err(_) => no_cache(body()),
    }
}

/// [`revalidate`] with a validator already made into a header.
pub fn revalidate_with(
    headers: &IfNoneMatch,
    etag: &HeaderValue,
    body: impl FnOnce() -> Response,
) -> Response {
    let tag = etag.as_bytes();
    let matches = headers
        .0
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().as_bytes())
                .any(|t| t == tag || t == b"*")
        });
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body()
    };
    resp.headers_mut().insert(header::ETAG, etag.clone());
    no_cache(resp)
}

fn no_cache(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
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
    cors::open(conditional(&headers, &snap, state.clock.today(), || {
        Json(DocumentTypeList {
            results: snap.document_types().iter().map(Into::into).collect(),
        })
        .into_response()
    }))
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
    Ok(cors::open(conditional(
        &headers,
        &snap,
        state.clock.today(),
        || Json(DocumentTypeOut::from(doc)).into_response(),
    )))
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
    /// For a holder named without contact details (`id` is `null`): how to
    /// find it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<&'a str>,
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
            lead: None,
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
    Ok(cors::open(conditional(
        &headers,
        &snap,
        state.clock.today(),
        || {
            Json(ServiceDetail {
                service: s.into(),
                commune: s.commune.map(|c| c.to_string()),
                latitude: s.latitude,
                longitude: s.longitude,
                annuaire_id: s.annuaire_id.clone(),
                verified_at: day(s.verified_at),
            })
            .into_response()
        },
    )))
}

/// Whether anyone may consult the document.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunicabilityOut<'a> {
    /// `true`: freely accessible now; `false`: not yet; `null`: depends on the document's date, not given.
    pub free: Option<bool>,
    /// From when it is freely accessible (`YYYY-MM-DD`), when a delay applies and the date is known.
    #[schema(value_type = Option<String>, format = Date)]
    pub free_from: Option<Day>,
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
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Day>,
    /// Last day (`null`: up to now and beyond).
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<Day>,
    /// The territory of the rule that gives this holder, e.g. `commune:35238`.
    #[schema(value_type = String)]
    pub territory: Shown<&'a locadocs_core::reference::Territory>,
    pub instructions: Option<&'a str>,
    pub source: Option<&'a str>,
    pub communicability: CommunicabilityOut<'a>,
    /// A search in the holder's own online inventories, commune, year and
    /// document filled in (absent when the holder has no search link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_search_url: Option<String>,
    /// The holder's page on FranceArchives, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub francearchives_url: Option<&'a str>,
}

/// A period without a holder: no rule covers it, or a rule says why no
/// holder can be named (`reason`, with its `source`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<Day>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<Day>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The commune asked about, and the current one if it is a former commune.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocatedCommune<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub current: Option<CommuneRef<'a>>,
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
    pub commune: LocatedCommune<'a>,
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
        free_from: c.free_from.map(Day),
        delay_years: c.delay_years,
        note: c.note.as_deref(),
    }
}

fn period_out(p: &Period) -> PeriodOut {
    PeriodOut {
        from: p.from.map(Day),
        to: p.to.map(Day),
        reason: None,
        source: None,
    }
}

/// Builds the JSON answer; shared with the guide pages.
pub fn answer_out<'a>(answer: &'a Answer<'a>, when: When) -> LocateOut<'a> {
    let res = &answer.commune;
    let commune = match &res.former_code {
        None => LocatedCommune {
            code: res.current.code.as_str(),
            name: &res.current.name,
            current: None,
        },
        Some(code) => LocatedCommune {
            code: code.as_str(),
            name: res.entry.map_or(&res.current.name, |e| &e.name),
            current: Some(CommuneRef {
                code: res.current.code.as_str(),
                name: &res.current.name,
            }),
        },
    };
    let matches = answer
        .matches
        .iter()
        .map(|m| MatchOut {
            service: match m.holder {
                Holder::Service(s) => s.into(),
                Holder::Unknown { kind, .. } => ServiceOut {
                    id: None,
                    name: Cow::Owned(m.holder.name()),
                    kind: kind.as_str(),
                    lead: m.holder.lead(),
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
            from: m.period.from.map(Day),
            to: m.period.to.map(Day),
            territory: Shown(&m.rule.territory),
            instructions: m.rule.instructions.as_deref(),
            source: m.rule.source.as_deref(),
            communicability: communicability_out(&m.communicability),
            inventory_search_url: match m.holder {
                Holder::Service(s) => locadocs_core::search_link::for_service(
                    s,
                    commune.name,
                    when,
                    &answer.document_type.label,
                ),
                Holder::Unknown { .. } => None,
            },
            francearchives_url: match m.holder {
                Holder::Service(s) => s.francearchives_url.as_deref(),
                Holder::Unknown { .. } => None,
            },
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
        uncovered: {
            let mut out: Vec<(Option<NaiveDate>, PeriodOut)> = answer
                .uncovered
                .iter()
                .map(|p| (p.from, period_out(p)))
                .chain(answer.unstated.iter().map(|u| {
                    let mut p = period_out(&u.period);
                    p.reason = u.rule.instructions.clone();
                    p.source = u.rule.source.clone();
                    (u.period.from, p)
                }))
                .collect();
            out.sort_by_key(|(from, _)| *from);
            out.into_iter().map(|(_, p)| p).collect()
        },
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
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let query = req.uri().query().unwrap_or("");
    let snap = state.live.peek();
    let today = state.clock.today();
    // The same question asked again, on the same data and the same day,
    // gets the answer already written, without parsing it again.
    let (etag, cached) = state.answers.get(snap.version, today, query);
    let body = match cached {
        Some(body) => body,
        None => {
            let body = answer_locate(&snap, today, query)?;
            state.answers.put(snap.version, today, query, body.clone());
            body
        }
    };
    let if_none_match = IfNoneMatch(req.headers().get(header::IF_NONE_MATCH).cloned());
    Ok(cors::open(revalidate_with(&if_none_match, &etag, || {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    })))
}

/// Parses a locate question, answers it and writes the answer.
fn answer_locate(snap: &Snapshot, today: NaiveDate, query: &str) -> Result<Bytes, ApiError> {
    let params = Params::parse(Some(query))?;
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
    write_json(&answer_out(&answer, when))
}

/// Serializes into a buffer kept by the thread, so that an answer costs
/// one allocation of its exact size rather than a series of regrowths.
fn write_json(value: &impl Serialize) -> Result<Bytes, ApiError> {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        serde_json::to_writer(&mut *buf, value).map_err(|e| ApiError::Unexpected(e.into()))?;
        let bytes = Bytes::copy_from_slice(&buf);
        // One unusually long answer does not pin its buffer for good.
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::new();
        }
        Ok(bytes)
    })
}

/// Longest query string whose answer is kept: real questions are far
/// shorter, and the bound keeps the cache's memory bounded too.
const MAX_CACHED_QUERY: usize = 256;

/// Written locate answers for one data version and one day, keyed by the
/// query string as sent. An answer is a pure function of the snapshot, the
/// day and the query, so a hit is exactly what a recomputation would give;
/// only answers (never errors) are kept, the cache is bounded (a full cache
/// drops one entry for each new one), and a new version or a new day
/// empties it.
pub struct AnswerCache {
    current: std::sync::Mutex<Generation>,
    capacity: usize,
}

struct Generation {
    version: i64,
    today: NaiveDate,
    /// The validator of every answer of this generation.
    etag: HeaderValue,
    entries: foldhash::HashMap<Box<str>, Bytes>,
}

impl Generation {
    fn new(version: i64, today: NaiveDate) -> Generation {
        Generation {
            version,
            today,
            etag: HeaderValue::try_from(etag(version, today))
                .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\"")),
            entries: foldhash::HashMap::default(),
        }
    }
}

impl AnswerCache {
    pub fn new(capacity: usize) -> Arc<AnswerCache> {
        Arc::new(AnswerCache {
            current: std::sync::Mutex::new(Generation::new(i64::MIN, NaiveDate::MIN)),
            capacity,
        })
    }

    /// The validator for this version and day, and the answer to `query`
    /// if it is known.
    fn get(&self, version: i64, today: NaiveDate, query: &str) -> (HeaderValue, Option<Bytes>) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.version != version || current.today != today {
            *current = Generation::new(version, today);
        }
        (current.etag.clone(), current.entries.get(query).cloned())
    }

    fn put(&self, version: i64, today: NaiveDate, query: &str, body: Bytes) {
        if self.capacity == 0 || query.len() > MAX_CACHED_QUERY {
            return;
        }
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        // Computed on data that has been replaced meanwhile: not kept.
        if current.version != version || current.today != today {
            return;
        }
        if current.entries.contains_key(query) {
            return;
        }
        // Full: one entry makes room, the first in the table's order, which
        // follows the hash and so is as good as a random pick. Frequent
        // questions are asked again before they are picked, and stay.
        if current.entries.len() >= self.capacity {
            current.entries.extract_if(|_, _| true).next();
        }
        current.entries.insert(query.into(), body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn days_are_written_iso() {
        for (y, m, d, text) in [
            (2015, 6, 30, "2015-06-30"),
            (1908, 1, 1, "1908-01-01"),
            (999, 12, 31, "0999-12-31"),
            (10000, 1, 1, "+10000-01-01"),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_day(date), text);
            assert_eq!(
                serde_json::to_string(&Day(date)).unwrap(),
                format!("\"{text}\"")
            );
        }
    }

    #[test]
    fn the_cache_keeps_answers_of_one_version_and_one_day() {
        let cache = AnswerCache::new(10);
        let (etag, hit) = cache.get(7, day(23), "q=1");
        assert_eq!(etag, "W/\"7-20261123\"");
        assert!(hit.is_none());
        cache.put(7, day(23), "q=1", Bytes::from_static(b"one"));
        assert_eq!(cache.get(7, day(23), "q=1").1.as_deref(), Some(&b"one"[..]));
        // Another spelling is another key; a new version or day empties it.
        assert!(cache.get(7, day(23), "q=01").1.is_none());
        let (etag, hit) = cache.get(8, day(23), "q=1");
        assert_eq!(etag, "W/\"8-20261123\"");
        assert!(hit.is_none());
        cache.put(8, day(23), "q=1", Bytes::from_static(b"eight"));
        assert!(cache.get(8, day(24), "q=1").1.is_none());
        // An answer computed on replaced data is not kept.
        cache.put(8, day(23), "q=1", Bytes::from_static(b"stale"));
        assert!(cache.get(8, day(24), "q=1").1.is_none());
        // Nor one for an overlong query.
        let long = "q=".to_owned() + &"x".repeat(MAX_CACHED_QUERY);
        cache.put(8, day(24), &long, Bytes::from_static(b"long"));
        assert!(cache.get(8, day(24), &long).1.is_none());
    }

    #[test]
    fn a_full_cache_makes_room_one_entry_at_a_time() {
        let cache = AnswerCache::new(100);
        cache.get(1, day(23), "");
        for i in 0..1_000 {
            let q = format!("q={i}");
            cache.put(1, day(23), &q, Bytes::from(q.clone()));
            // The newest answer is always there, and right.
            assert_eq!(cache.get(1, day(23), &q).1, Some(Bytes::from(q)));
            let len = cache.current.lock().unwrap().entries.len();
            assert_eq!(len, (i + 1).min(100));
        }
        // Answers kept are the right ones.
        let kept = cache.current.lock().unwrap().entries.clone();
        assert_eq!(kept.len(), 100);
        for (q, body) in kept {
            assert_eq!(&body[..], q.as_bytes());
        }
    }
}
