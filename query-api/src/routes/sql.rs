//! `POST /v1/sql`: read-only SQL over the lake, answered as JSON, NDJSON, CSV, Arrow or Parquet.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use futures::TryStreamExt;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::sql::{Channel, Format, encode};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlRequest {
    /// One query: SELECT, WITH … SELECT or VALUES. Tables are `gold.*` (everyone), `silver.*`
    /// (analysts and up), `bronze.*` (admins and owners) and the views of docs/sql.md;
    /// `<table> VERSION AS OF <n>` and `<table> TIMESTAMP AS OF '<time>'` read the past.
    pub sql: String,
    /// The organisation whose private rows and role apply; needed only by users who belong to
    /// several (an API key always acts for its own).
    pub org_id: Option<Uuid>,
    /// The answer's format; without it the `Accept` header decides, and JSON when it says nothing.
    pub format: Option<Format>,
    /// Fewer rows than the server's limit (`api.sql.row_limit`).
    #[schema(minimum = 1)]
    pub max_rows: Option<usize>,
}

/// Runs a read-only query. Headers: `X-Analisa-Row-Count`, `X-Analisa-Truncated` (rows beyond
/// the limit were left out) and `X-Analisa-Lake-Versions` (the Delta version of each table read).
#[utoipa::path(post, path = "/v1/sql", tag = "sql", request_body = SqlRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The result, in the format asked for",
            headers(("X-Analisa-Row-Count" = u64), ("X-Analisa-Truncated" = bool), ("X-Analisa-Lake-Versions" = String)),
            content(("application/json"), ("application/x-ndjson"), ("text/csv"), ("application/vnd.apache.arrow.stream"), ("application/vnd.apache.parquet"))),
        (status = 400, description = "Not one read-only query, a syntax or planning error, an unknown table or version", body = Problem),
        (status = 403, description = "A table of a layer the caller's role may not read", body = Problem),
        (status = 406, description = "The Accept header names no format offered", body = Problem),
        (status = 422, description = "The query hit its time or memory limit and was cancelled", body = Problem),
    ))]
pub async fn query(State(state): State<AppState>, principal: Principal, headers: HeaderMap, Json(request): Json<SqlRequest>) -> ApiResult<Response> {
    let gateway = state.sql.as_ref().ok_or_else(|| ApiError::Unavailable("this instance has no lake configured".into()))?;
    let format = match (request.format, headers.get(header::ACCEPT)) {
        (Some(format), _) => format,
        (None, None) => Format::Json,
        (None, Some(accept)) => Format::from_accept(accept.to_str().unwrap_or_default())
            .ok_or_else(|| ApiError::NotAcceptable("ask for application/json, application/x-ndjson, text/csv, application/vnd.apache.arrow.stream or application/vnd.apache.parquet".into()))?,
    };
    if request.max_rows == Some(0) {
        return Err(ApiError::BadRequest("max_rows must be at least 1".into()));
    }
    let caller = crate::rbac::sql_caller(&state, &principal, request.org_id).await?;
    let planned = gateway.plan(&caller, &request.sql, request.max_rows, Channel::Http).await?;
    let versions = planned.versions_text();
    let mut stream = gateway.execute(planned);
    let schema = stream.schema();
    // The whole result (at most the row limit) is read before answering, so that the headers
    // can say how many rows there are; the encoding is then streamed batch by batch.
    let mut batches = Vec::new();
    while let Some(batch) = stream.try_next().await? {
        batches.push(batch);
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut response = Response::new(Body::from_stream(encode(format, schema, batches)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    headers.insert("x-analisa-row-count", HeaderValue::from(rows));
    headers.insert("x-analisa-truncated", HeaderValue::from_static(if stream.truncated() { "true" } else { "false" }));
    // Table names and numbers only: always a valid header value.
    headers.insert("x-analisa-lake-versions", HeaderValue::from_str(&versions).map_err(|e| ApiError::Internal(e.to_string()))?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
