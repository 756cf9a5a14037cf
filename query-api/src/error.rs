//! The one HTTP error type: every domain error becomes an RFC 7807 problem+json answer here,
//! and nowhere else.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::error;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotAcceptable(String),
    /// Something that existed and is no more (an expired download link).
    #[error("{0}")]
    Gone(String),
    /// A query cancelled at its time or memory limit.
    #[error("{0}")]
    QueryLimit(String),
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_secs: u64 },
    /// A platform or other upstream service failed or refused.
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// RFC 7807 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not-acceptable"),
            Self::Gone(_) => (StatusCode::GONE, "gone"),
            Self::QueryLimit(_) => (StatusCode::UNPROCESSABLE_ENTITY, "query-limit"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
            Self::BadGateway(_) => (StatusCode::BAD_GATEWAY, "bad-gateway"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Maps a database error, naming what a unique-key conflict means at this call.
    pub fn conflict_means(meaning: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |error| match Self::from(error) {
            Self::Conflict(_) => Self::Conflict(meaning.into()),
            other => other,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} does not exist or is not visible to you"))
    }
}

/// A problem+json response for a status and detail (also used for errors axum raises itself).
pub fn problem(status: StatusCode, slug: &str, detail: String) -> Response {
    let body = Problem {
        kind: format!("https://analisa.dev/problems/{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
    };
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).expect("a problem serialises")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug) = self.parts();
        let detail = match &self {
            // The cause is logged with the request's span; the client gets no internals.
            Self::Internal(cause) => {
                error!(%cause, "internal error");
                "an internal error occurred; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = problem(status, slug, detail);
        if let Self::TooManyRequests { retry_after_secs, .. } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                error!(%error, "PostgreSQL unreachable");
                Self::Unavailable("the database is unreachable; try again shortly".into())
            }
            // Connection exceptions, shutdowns and refused connections: PostgreSQL is away.
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300") || db.message().contains("not currently accepting connections") => {
                error!(%error, "PostgreSQL unavailable");
                Self::Unavailable("the database is unavailable; try again shortly".into())
            }
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")) => Self::Conflict("a concurrent change got in the way; try again".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict("this already exists".into()),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::BadRequest("it refers to something that does not exist".into()),
            sqlx::Error::Database(db) if db.is_check_violation() => Self::BadRequest("a value is out of its allowed range".into()),
            // A row read a moment ago is gone (deleted concurrently).
            sqlx::Error::RowNotFound => Self::NotFound("it no longer exists".into()),
            _ => Self::Internal(error.to_string()),
        }
    }
}

impl From<crate::sql::SqlError> for ApiError {
    fn from(error: crate::sql::SqlError) -> Self {
        use crate::sql::SqlError as E;
        match error {
            E::NotVisible { .. } => Self::Forbidden(error.to_string()),
            E::TimeLimit(_) | E::MemoryLimit(..) => Self::QueryLimit(error.to_string()),
            E::Unavailable(_) => Self::Unavailable(error.to_string()),
            E::Internal(cause) => Self::Internal(cause),
            E::Syntax(_) | E::NotReadOnly(_) | E::UnknownTable(_) | E::Plan(_) | E::TimeTravel(_) => Self::BadRequest(error.to_string()),
        }
    }
}

impl From<analisa_ingest::oauth::OAuthError> for ApiError {
    fn from(error: analisa_ingest::oauth::OAuthError) -> Self {
        use analisa_ingest::oauth::OAuthError;
        match error {
            OAuthError::BadState | OAuthError::RedirectMismatch { .. } | OAuthError::NoIdentity { .. } => Self::BadRequest(error.to_string()),
            OAuthError::NotConfigured { .. } => Self::Unavailable(error.to_string()),
            OAuthError::Refused { .. } | OAuthError::Http { .. } => Self::BadGateway(error.to_string()),
            OAuthError::NotConnected { .. } => Self::NotFound(error.to_string()),
            OAuthError::NeedsReauth { .. } => Self::Conflict(error.to_string()),
            OAuthError::Database(e) => e.into(),
            OAuthError::BadKey(_) | OAuthError::Unseal => Self::Internal(error.to_string()),
        }
    }
}
