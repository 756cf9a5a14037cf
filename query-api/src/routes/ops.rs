//! Operations: liveness, readiness, metrics, the OpenAPI document and its docs page.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// ready when PostgreSQL answers (Redis and the lake only degrade the service).
    pub status: String,
    pub postgres: bool,
    pub redis: bool,
    pub lake: Option<bool>,
    /// The newest publication served, if any.
    pub publication: Option<i64>,
}

/// Readiness: PostgreSQL, Redis and the lake checked (each within a second).
#[utoipa::path(get, path = "/ready", tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> Response {
    let within = Duration::from_secs(1);
    let publication = tokio::time::timeout(within, sqlx::query_scalar::<_, Option<i64>>("SELECT max(publication_id) FROM serving.publications").fetch_one(&state.db)).await;
    let (postgres, publication) = match publication {
        Ok(Ok(publication)) => (true, publication),
        _ => (false, None),
    };
    let redis = state.redis.ping().await;
    let lake = match &state.lake {
        Some(lake) => Some(matches!(tokio::time::timeout(within, lake.object_store().list_with_delimiter(None)).await, Ok(Ok(_)))),
        None => None,
    };
    let status = if postgres { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = Readiness { status: if postgres { "ready" } else { "unavailable" }.into(), postgres, redis, lake, publication };
    (status, Json(body)).into_response()
}

/// Prometheus metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    response
}

/// The OpenAPI 3.1 document generated from the code.
pub async fn openapi() -> Response {
    let mut response = crate::openapi::document_json().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An interactive page over `/openapi.json`, self-contained (no scripts from elsewhere).
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
