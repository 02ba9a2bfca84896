//! HTTP: thin handlers that parse input, ask the snapshot, render.

pub mod admin;
pub mod api;
pub mod charts;
pub mod client_ip;
pub mod cors;
pub mod coverage;
pub mod embed;
pub mod error;
pub mod events;
pub mod headers;
pub mod i18n;
pub mod pages;
pub mod params;
pub mod request_pages;
pub mod stats;
pub mod theme;
pub mod totals;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::clock::Clock;
use crate::live::Live;

/// What every handler can reach: one shared value, so that handing it to
/// a handler costs one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The application's shared parts.
#[derive(Clone)]
pub struct Shared {
    pub live: Arc<Live>,
    pub clock: Clock,
    /// Serialized locate answers for the current data version.
    pub answers: Arc<api::AnswerCache>,
    /// Rate limit of the public feedback forms.
    pub limiter: Arc<pages::Limiter>,
    /// Rate limit of requests and their replies, per client address.
    pub request_limiter: Arc<pages::Limiter>,
    /// Anonymous counts of guide use, written in batches.
    pub usage: Arc<crate::usage::Usage>,
    /// Audience events, queued for the background writer.
    pub analytics: Arc<crate::analytics::Recorder>,
    /// The public statistics last computed (`/stats`).
    pub stats: Arc<stats::Cache>,
    /// Sums of daily aggregates the dashboards read lately.
    pub totals: Arc<totals::TotalsCache>,
    /// The coverage map of the current data version (`/couverture`).
    pub coverage: Arc<coverage::Cache>,
    /// The settings read at start (public URL, cookies, mail, proxies).
    pub admin: Arc<admin::AdminConfig>,
}

impl AppState {
    /// The application with its settings, read once at start
    /// ([`crate::settings`]).
    pub fn new(live: Arc<Live>, clock: Clock, settings: admin::AdminConfig) -> AppState {
        AppState(Arc::new(Shared {
            live,
            clock,
            answers: api::AnswerCache::new(4_096),
            limiter: pages::Limiter::new(10, Duration::from_secs(600)),
            request_limiter: pages::Limiter::new(20, Duration::from_secs(3600)),
            usage: crate::usage::Usage::new(),
            analytics: crate::analytics::Recorder::configured(&settings.analytics),
            stats: stats::Cache::new(),
            totals: totals::TotalsCache::new(),
            coverage: coverage::Cache::new(),
            admin: Arc::new(settings),
        }))
    }

    /// Replaces the back-office settings (tests).
    pub fn with_admin(mut self, admin: admin::AdminConfig) -> AppState {
        Arc::make_mut(&mut self.0).admin = Arc::new(admin);
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Locadocs API",
        description = "Quel document, qui le détient aujourd'hui pour une commune et une date, et peut-on le consulter.",
        license(name = "EUPL-1.2")
    ),
    servers((url = "/")),
    tags(
        (name = "communes", description = "Recherche de communes, actuelles et anciennes"),
        (name = "documents", description = "Types de documents et délais de communicabilité"),
        (name = "services", description = "Services qui détiennent des documents"),
        (name = "locate", description = "Qui détient quoi, pour quelle commune et quelle date"),
        (name = "events", description = "Mesure d'audience anonyme : événements envoyés par le guide et les pages hôtes"),
    )
)]
struct ApiDoc;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::router())
        .merge(events::router())
        .split_for_parts();
    let openapi = Arc::new(openapi);
    let api = api
        .route(
            "/api/v1/openapi.json",
            get(move || {
                std::future::ready(cors::open(
                    axum::Json(openapi.as_ref().clone()).into_response(),
                ))
            }),
        )
        .route(
            "/api/v1/{*rest}",
            any(|| async { error::ApiError::NotFound }),
        )
        // Also where preflights land: the API's routes only allow GET and HEAD.
        .method_not_allowed_fallback(|method: Method, headers: HeaderMap| async move {
            if cors::is_preflight(&method, &headers) {
                return cors::preflight(&headers);
            }
            let body = error::ErrorBody {
                error: error::ErrorDetail {
                    code: "method_not_allowed".into(),
                    message: "méthode non permise : l'API publique se lit avec GET".into(),
                    parameter: None,
                },
            };
            cors::open((StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response())
        });

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(pages::router())
        .merge(stats::router())
        .merge(coverage::router())
        .merge(embed::router())
        // Merged with full paths rather than nested: nesting rewrites every
        // request's URI, a cost paid on the API's hottest path.
        .merge(api)
        .merge(admin::router())
        // Everything above takes bodies of 1 MB at most; requests carry
        // attachments, checked one by one as they stream in.
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .merge(request_pages::router().layer(RequestBodyLimitLayer::new(64 * 1024 * 1024)))
        .fallback(|| async { pages::not_found_page(theme::Lang::Fr) })
        // Security headers of every response, in one place.
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(15),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            // One-time links carry a secret in their path: never logged.
            tracing::debug_span!("request", method = %req.method(), path = %admin::redacted_path(req.uri().path()))
        }))
        .with_state(state)
}
