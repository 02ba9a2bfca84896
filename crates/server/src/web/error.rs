//! API errors: one JSON shape, a stable code, a French message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Every way an API call can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    InvalidParameter { parameter: String, message: String },
    #[error("{0}")]
    UnknownCommune(String),
    #[error("{0}")]
    UnknownDocumentType(String),
    #[error("{0}")]
    UnknownService(String),
    #[error("aucune ressource à cette adresse")]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidParameter { .. } => "invalid_parameter",
            ApiError::UnknownCommune(_) => "unknown_commune",
            ApiError::UnknownDocumentType(_) => "unknown_document_type",
            ApiError::UnknownService(_) => "unknown_service",
            ApiError::NotFound => "not_found",
            ApiError::Unexpected(_) => "internal_error",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnknownCommune(_)
            | ApiError::UnknownDocumentType(_)
            | ApiError::UnknownService(_)
            | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for a program (`code`) and for a person (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid_parameter`, `unknown_commune`, `unknown_document_type`,
    /// `unknown_service`, `not_found`, `method_not_allowed`, `internal_error`.
    pub code: String,
    pub message: String,
    /// The query parameter at fault, for `invalid_parameter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Unexpected(e) = &self {
            tracing::error!(error = ?e, "unexpected error");
        }
        let parameter = match &self {
            ApiError::InvalidParameter { parameter, .. } => Some(parameter.clone()),
            _ => None,
        };
        let message = match &self {
            ApiError::Unexpected(_) => {
                "erreur interne : l'incident est enregistré, réessayez plus tard".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                parameter,
            },
        };
        super::cors::open((self.status(), Json(body)).into_response())
    }
}
