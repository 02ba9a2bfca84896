//! The back office's one error type: every refusal a handler can answer,
//! rendered as a French page with the right status, so that handlers use
//! `?` instead of matching each failure by hand.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::view::{self, Page};
use crate::store::{StoreError, WriteError};

/// Why a back-office request is not answered with its page.
pub enum AdminError {
    /// Nobody is signed in: a page goes to the login form, a form post is
    /// refused (its content would be lost by a redirect).
    SignedOut {
        page: bool,
    },
    NotFound,
    /// Signed in, but this account may not (the reason, in French).
    Forbidden(String),
    /// A request that cannot be read (a form that is not one).
    BadRequest(String),
    /// A form refused: the page to show again, with its errors, and the
    /// status (422 for invalid fields, 409 for a concurrent change).
    Form(StatusCode, Box<Page>),
    /// A refusal with a title and an explanation (a conflict, a duplicate).
    Refused {
        status: StatusCode,
        title: &'static str,
        text: String,
    },
    /// A bug or an outage: logged, answered 500 without details.
    Unexpected(anyhow::Error),
}

/// What back-office handlers return.
pub type Result<T = Response> = std::result::Result<T, AdminError>;

impl AdminError {
    pub fn forbidden(why: impl Into<String>) -> AdminError {
        AdminError::Forbidden(why.into())
    }

    /// A form to show again with its errors (422).
    pub fn invalid(page: Page) -> AdminError {
        AdminError::Form(StatusCode::UNPROCESSABLE_ENTITY, Box::new(page))
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::SignedOut { page: true } => StatusCode::SEE_OTHER,
            AdminError::SignedOut { page: false } | AdminError::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Form(s, _) | AdminError::Refused { status: s, .. } => *s,
            AdminError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl std::fmt::Debug for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Unexpected(e) => write!(f, "Unexpected({e})"),
            other => write!(f, "AdminError({})", other.status()),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            AdminError::SignedOut { page: true } => Redirect::to("/admin/login").into_response(),
            AdminError::SignedOut { page: false } => view::message_page(
                status,
                None,
                "Accès refusé",
                "Votre session a expiré : connectez-vous à nouveau.",
            ),
            AdminError::NotFound => view::message_page(
                status,
                None,
                "Page introuvable",
                "Cette fiche n'existe pas (ou plus).",
            ),
            AdminError::Forbidden(why) => view::message_page(status, None, "Accès refusé", &why),
            AdminError::BadRequest(why) => {
                view::message_page(status, None, "Requête refusée", &why)
            }
            AdminError::Form(_, page) => {
                let mut r = view::render(&page);
                *r.status_mut() = status;
                r
            }
            AdminError::Refused { title, text, .. } => {
                view::message_page(status, None, title, &text)
            }
            AdminError::Unexpected(e) => {
                tracing::error!(error = %e, "back-office error");
                view::message_page(
                    status,
                    None,
                    "Erreur interne",
                    "Une erreur interne est survenue ; elle est enregistrée. Réessayez plus tard.",
                )
            }
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(text) => AdminError::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Enregistrement impossible",
                text,
            },
            other => AdminError::Unexpected(other.into()),
        }
    }
}

impl From<WriteError> for AdminError {
    fn from(e: WriteError) -> Self {
        let text = e.to_string();
        match e {
            WriteError::NotFound => AdminError::NotFound,
            WriteError::Conflict => AdminError::Refused {
                status: StatusCode::CONFLICT,
                title: "Modification concurrente",
                text,
            },
            WriteError::Duplicate | WriteError::Invalid(_) => AdminError::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Enregistrement impossible",
                text,
            },
            WriteError::Store(s) => s.into(),
        }
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(e: anyhow::Error) -> Self {
        AdminError::Unexpected(e)
    }
}

/// The status and notice a refused write shows on the form it came from.
pub fn write_notice(e: &WriteError) -> Option<(StatusCode, view::Notice)> {
    match e {
        WriteError::Store(_) | WriteError::NotFound => None,
        WriteError::Conflict => Some((
            StatusCode::CONFLICT,
            view::Notice::error("Modification concurrente", &e.to_string()),
        )),
        WriteError::Duplicate | WriteError::Invalid(_) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            view::Notice::error("Enregistrement impossible", &e.to_string()),
        )),
    }
}
