//! `POST /api/v1/events`: audience events sent by the enhanced guide and
//! host pages (`navigator.sendBeacon`). Page loads are recorded by the
//! server itself (see `docs/analytics.md`); this endpoint only takes what a
//! page load cannot tell: clicks on links that leave Locadocs, the widget
//! shown inside a host page.
//!
//! Strict: a body of 4 KB at most, JSON with known fields only, a run id
//! made by this instance, a guide, step and service that exist, a `seq`
//! greater than the run's previous one, a few events per address and
//! minute. Every refusal is counted by reason, nothing refused is stored.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::cors;
use super::error::{ErrorBody, ErrorDetail};
use super::pages::PeerIp;
use crate::analytics::{Refusal, event_of, now_utc, origin_of};
use crate::store::{RawEvent, kind};

/// Largest body accepted, in bytes.
pub const MAX_BODY: usize = 4096;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(post_event))
}

/// Which link of a holder was followed.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// An e-mail address or a telephone number.
    Contact,
    /// The service's website.
    Website,
    /// The service's own request page.
    Request,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            LinkKind::Contact => "contact",
            LinkKind::Website => "website",
            LinkKind::Request => "request",
        }
    }
}

/// One event, told apart by `type`. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientEvent {
    /// A click on a holder's contact, website or request link on an answer
    /// page.
    LinkClicked {
        /// The run id carried in the guide's address (`run`).
        run: String,
        /// Greater than the run's previous event (the guide's script sends
        /// the time in milliseconds).
        seq: u64,
        /// The guide's slug.
        guide: String,
        /// The step shown (the answer's step), if known.
        #[serde(default)]
        step: Option<String>,
        /// The holder's service id.
        service: String,
        link: LinkKind,
        /// The document type of the answer the link is on.
        #[serde(default)]
        document_type: Option<String>,
        /// The embedding site's key, if any.
        #[serde(default)]
        site: Option<String>,
    },
    /// The guide shown inside a host page's widget, once per page.
    WidgetShown {
        run: String,
        seq: u64,
        guide: String,
        #[serde(default)]
        step: Option<String>,
        /// The host page's origin only: `https://www.example.fr`.
        origin: String,
        #[serde(default)]
        site: Option<String>,
    },
}

/// The answer to an accepted event.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// Always `queued`.
    pub status: &'static str,
}

fn refused(state: &AppState, why: Refusal, message: impl Into<String>) -> Response {
    state.analytics.refuse(why);
    let status = match why {
        Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: why.as_str().to_owned(),
            message: message.into(),
            parameter: None,
        },
    };
    let mut resp = (status, Json(body)).into_response();
    if why == Refusal::RateLimited {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    }
    cors::open(resp)
}

/// Records an audience event.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    request_body(content = ClientEvent, description = "Un événement, en JSON (4 Ko au plus). Envoyé avec navigator.sendBeacon, le type de contenu est libre."),
    responses(
        (status = 202, description = "Événement mis en file pour écriture", body = Queued),
        (status = 400, description = "Événement refusé : JSON illisible, champ inconnu, type inconnu, identifiant de parcours invalide, guide, étape ou service inconnu, seq non croissant", body = ErrorBody),
        (status = 413, description = "Corps de plus de 4 Ko", body = ErrorBody),
        (status = 429, description = "Trop d'événements depuis cette adresse (par minute)", body = ErrorBody),
        (status = 503, description = "File pleine : événement perdu et compté", body = ErrorBody),
    ),
    tag = "events"
)]
async fn post_event(State(state): State<AppState>, PeerIp(peer): PeerIp, body: Body) -> Response {
    if !state.analytics.allow_address(peer) {
        return refused(
            &state,
            Refusal::RateLimited,
            "trop d'événements depuis cette adresse : réessayez dans une minute",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refused(
            &state,
            Refusal::TooLarge,
            format!("corps trop grand : {MAX_BODY} octets au plus"),
        );
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return refused(&state, Refusal::Malformed, format!("JSON illisible : {e}"));
        }
    };
    match value.get("type").and_then(|t| t.as_str()) {
        Some("link_clicked" | "widget_shown") => {}
        Some(t) => {
            let t: String = t.chars().take(40).collect();
            return refused(
                &state,
                Refusal::UnknownType,
                format!("type : « {t} » inconnu, attendu link_clicked ou widget_shown"),
            );
        }
        None if value.is_object() => {
            return refused(
                &state,
                Refusal::UnknownType,
                "type : champ manquant, attendu link_clicked ou widget_shown",
            );
        }
        None => {
            return refused(
                &state,
                Refusal::Malformed,
                "événement invalide : attendu un objet JSON",
            );
        }
    }
    let event: ClientEvent = match serde_json::from_value(value) {
        Ok(e) => e,
        Err(e) => {
            return refused(
                &state,
                Refusal::Malformed,
                format!("événement invalide : {e}"),
            );
        }
    };
    let event = match check(&state, event).await {
        Ok(e) => e,
        Err((why, message)) => return refused(&state, why, message),
    };
    if state.analytics.record(event) {
        cors::open((StatusCode::ACCEPTED, Json(Queued { status: "queued" })).into_response())
    } else {
        let body = ErrorBody {
            error: ErrorDetail {
                code: "queue_full".into(),
                message: "file d'attente pleine : événement perdu".into(),
                parameter: None,
            },
        };
        cors::open((StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response())
    }
}

/// Checks an event against the run key and the published data; the event
/// to store.
async fn check(state: &AppState, event: ClientEvent) -> Result<RawEvent, (Refusal, String)> {
    let (run, seq, guide, step, site) = match &event {
        ClientEvent::LinkClicked {
            run,
            seq,
            guide,
            step,
            site,
            ..
        }
        | ClientEvent::WidgetShown {
            run,
            seq,
            guide,
            step,
            site,
            ..
        } => (run, *seq, guide, step, site),
    };
    if !state
        .analytics
        .verify_run(state.live.store().as_ref(), run)
        .await
    {
        return Err((
            Refusal::BadRun,
            "run : identifiant de parcours inconnu de ce service".into(),
        ));
    }
    let snap = state.live.snapshot();
    let Some(g) = snap.guide(guide) else {
        return Err((
            Refusal::UnknownGuide,
            format!("guide : « {guide} » inconnu"),
        ));
    };
    if let Some(step) = step
        && !g.steps.iter().any(|s| &s.id == step)
    {
        return Err((
            Refusal::UnknownStep,
            format!("step : « {step} » n'est pas une étape du guide « {guide} »"),
        ));
    }
    if let Some(site) = site
        && snap.site(site).is_none()
    {
        return Err((Refusal::Malformed, format!("site : « {site} » inconnu")));
    }
    let base = RawEvent {
        at: now_utc(),
        day: super::api::iso_day(state.clock.today()),
        run: run.clone(),
        guide: guide.clone(),
        site: site.clone().unwrap_or_default(),
        ..RawEvent::default()
    };
    let out = match &event {
        ClientEvent::LinkClicked {
            service,
            link,
            document_type,
            ..
        } => {
            if snap.service(service).is_none() {
                return Err((
                    Refusal::UnknownService,
                    format!("service : « {service} » inconnu"),
                ));
            }
            if let Some(d) = document_type
                && snap.document_type(d).is_none()
            {
                return Err((
                    Refusal::Malformed,
                    format!("document_type : « {d} » inconnu"),
                ));
            }
            RawEvent {
                step: step.clone().unwrap_or_default(),
                holders: service.clone(),
                value: link.as_str().to_owned(),
                document_type: document_type.clone().unwrap_or_default(),
                ..event_of(&base, kind::LINK_CLICKED)
            }
        }
        ClientEvent::WidgetShown { origin, .. } => {
            if origin_of(origin).as_deref() != Some(origin.as_str()) {
                return Err((
                    Refusal::Malformed,
                    "origin : attendu l'origine seule de la page hôte, en minuscules \
                     (https://www.exemple.fr)"
                        .to_owned(),
                ));
            }
            RawEvent {
                step: step.clone().unwrap_or_default(),
                origin: origin.clone(),
                ..event_of(&base, kind::WIDGET_SHOWN)
            }
        }
    };
    // Last, so that a refused event does not move the run's sequence.
    if seq > (1u64 << 53) || !state.analytics.advance_seq(run, seq) {
        return Err((
            Refusal::OutOfOrder,
            format!(
                "seq : {seq} n'est pas plus grand que celui du dernier événement de ce parcours"
            ),
        ));
    }
    Ok(out)
}
