//! The back office under `/admin`: accounts and sessions, the screens where
//! contributors keep their services and holding rules up to date, and the
//! history of every change.
//!
//! Every route is declared once in [`routes::routes`] with the permission it
//! needs; the router is built from that table, and a test walks it for every
//! role.

pub mod auth;
pub mod error;
pub mod imports;
pub mod mail;
pub mod policy;
pub mod routes;
pub mod screens;
pub mod view;

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::AppState;
pub use crate::settings::AdminConfig;
use crate::store::{Author, User};
pub use mail::Mailer;
pub use routes::{AdminRoute, Perm, routes};

/// The back-office router, built from the route table.
pub fn router() -> Router<AppState> {
    let mut r = Router::new();
    for route in routes() {
        let rule = RouteRule {
            perm: route.perm,
            path: route.path,
        };
        r = r.route(route.path, route.handler.layer(axum::Extension(rule)));
    }
    r
}

/// The rule of the route a request came through, set by the router.
#[derive(Debug, Clone, Copy)]
pub struct RouteRule {
    pub perm: Perm,
    pub path: &'static str,
}

/// A request that went through the checks of its route: who is signed in
/// (if anyone) and the CSRF token their forms must carry.
#[derive(Debug, Clone)]
pub struct Access {
    pub user: Option<User>,
    /// The session's CSRF token, or the pre-session form token.
    pub csrf: String,
    /// A cookie to set with the response (a new pre-session form token).
    pub set_cookie: Option<String>,
    pub session_hash: Option<String>,
}

// Handlers answer a refusal as the response itself, as axum does.
#[allow(clippy::result_large_err)]
impl Access {
    /// Whether someone is signed in and the policy lets them do `act`.
    pub fn may(&self, act: policy::Act<'_>) -> bool {
        self.user.as_ref().is_some_and(|u| policy::allows(u, act))
    }

    /// Refuses a form whose CSRF token is not this request's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if self.csrf.is_empty() || !auth::constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            return Err(view::message_page(
                StatusCode::FORBIDDEN,
                self.user.as_ref(),
                "Formulaire expiré",
                "Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page et recommencez.",
            ));
        }
        Ok(())
    }
}

/// A request from a signed-in, active account that its route's permission
/// lets through: what every handler of a signed-in route takes.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub access: Access,
}

impl SignedIn {
    /// The author recorded in the history for this account's changes.
    pub fn author(&self) -> Author {
        Author::user(self.user.id, &self.user.email)
    }

    /// Whether the policy lets this account do `act`.
    pub fn may(&self, act: policy::Act<'_>) -> bool {
        policy::allows(&self.user, act)
    }

    /// Refuses with the policy's reason when this account may not do `act`.
    pub fn ensure(&self, act: policy::Act<'_>) -> error::Result<()> {
        match policy::refusal(&self.user, act) {
            None => Ok(()),
            Some(why) => Err(error::AdminError::forbidden(why)),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let access = Access::from_request_parts(parts, state).await?;
        let safe = parts.method == Method::GET || parts.method == Method::HEAD;
        match access.user.clone() {
            Some(user) => Ok(SignedIn { user, access }),
            None => Err(error::AdminError::SignedOut { page: safe }.into_response()),
        }
    }
}

/// A POSTed form of a signed-in account, its CSRF token checked.
pub struct SignedForm<T> {
    pub me: SignedIn,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let Posted { access, form } = Posted::<T>::from_request(req, state).await?;
        match access.user.clone() {
            Some(user) => Ok(SignedForm {
                me: SignedIn { user, access },
                form,
            }),
            None => Err(error::AdminError::SignedOut { page: false }.into_response()),
        }
    }
}

/// Marks a request whose form body is checked for the CSRF token.
#[derive(Debug, Clone, Copy)]
struct CsrfChecked;

impl FromRequestParts<AppState> for Access {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(rule) = parts.extensions.get::<RouteRule>().copied() else {
            tracing::error!("back-office handler reached without a route rule");
            return Err(internal());
        };
        let safe = parts.method == Method::GET || parts.method == Method::HEAD;
        if !safe {
            if parts.extensions.get::<CsrfChecked>().is_none() {
                tracing::error!(path = rule.path, "back-office POST without a CSRF check");
                return Err(internal());
            }
            if !auth::origin_ok(&parts.headers, &state.admin.public_url) {
                return Err(forbidden(
                    "Ce formulaire a été envoyé depuis un autre site : il est refusé.",
                ));
            }
        }
        let session = auth::session_of(&parts.headers, state).await?;
        let (user, csrf, set_cookie, session_hash) = match session {
            Some((user, csrf, hash)) => (Some(user), csrf, None, Some(hash)),
            None => {
                let (token, cookie) = auth::form_token(&parts.headers, &state.admin);
                (None, token, cookie, None)
            }
        };
        let access = Access {
            user,
            csrf,
            set_cookie,
            session_hash,
        };
        routes::check(rule, &access, parts, state, safe)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(access)
    }
}

/// A POSTed back-office form whose CSRF token was checked.
pub struct Posted<T> {
    pub access: Access,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(CsrfChecked);
        let access = Access::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| bad_request("Formulaire trop gros."))?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        access.check_csrf(&sent)?;
        let req = Request::from_parts(parts, Body::from(bytes));
        let Form(form) = Form::<T>::from_request(req, state)
            .await
            .map_err(|_| bad_request("Formulaire incomplet ou mal formé."))?;
        Ok(Posted { access, form })
    }
}

/// 403 with a French page.
pub fn forbidden(text: &str) -> Response {
    view::message_page(StatusCode::FORBIDDEN, None, "Accès refusé", text)
}

pub fn bad_request(text: &str) -> Response {
    view::message_page(StatusCode::BAD_REQUEST, None, "Requête refusée", text)
}

pub fn not_found() -> Response {
    view::message_page(
        StatusCode::NOT_FOUND,
        None,
        "Page introuvable",
        "Cette fiche n'existe pas (ou plus).",
    )
}

pub fn internal() -> Response {
    view::message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Erreur interne",
        "Une erreur interne est survenue ; elle est enregistrée. Réessayez plus tard.",
    )
}

/// Logs an unexpected error and answers 500.
pub fn unexpected(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "back-office error");
    internal()
}

/// A redirection after a successful POST.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Adds a Set-Cookie header when there is one.
pub fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = header::HeaderValue::from_str(&c)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The trace span of a request, without the secret part of one-time links.
pub fn redacted_path(path: &str) -> String {
    for prefix in [
        "/admin/invitation/",
        "/admin/reinitialisation/",
        "/demande/suivi/",
    ] {
        if path.starts_with(prefix) {
            return format!("{prefix}…");
        }
    }
    path.to_owned()
}
