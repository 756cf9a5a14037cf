//! Answers of the public influencer routes, cached in Redis under the publication they were
//! computed from, with ETags. A publication changes every key (and `jobs` drops the old ones),
//! so a cached answer is never older than the data the API would read.

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiResult;
use crate::state::AppState;

/// The newest publication: known in process while the announcements are followed, else
/// announced in Redis by `jobs`, else read from PostgreSQL.
pub async fn publication(state: &AppState) -> ApiResult<i64> {
    if let Some(id) = state.near.publication() {
        return Ok(id);
    }
    let key = state.redis.key("published");
    if let Some(Some(id)) = state.redis.run::<Option<i64>>(redis::cmd("GET").arg(&key)).await {
        state.near.saw_publication(id);
        return Ok(id);
    }
    let id: Option<i64> = sqlx::query_scalar("SELECT max(publication_id) FROM serving.publications").fetch_one(&state.db).await?;
    let id = id.unwrap_or(0);
    // NX: a publication announced meanwhile wins over this older reading.
    state.redis.run::<Option<String>>(redis::cmd("SET").arg(&key).arg(id).arg("NX")).await;
    state.near.saw_publication(id);
    Ok(id)
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`). A wildcard is not
/// taken as a request for gzip: the plain answer is always acceptable.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0));
        (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && !refused
    })
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..12]))
}

/// Serves `key`'s answer from the cache, or computes, stores and serves it; honours
/// `If-None-Match`. `key` must identify the answer fully (route and every parameter).
pub async fn cached<T, F>(state: &AppState, request_headers: &HeaderMap, key: &str, compute: F) -> ApiResult<Response>
where
    T: Serialize,
    F: Future<Output = ApiResult<T>>,
{
    let publication = publication(state).await?;
    let (answer, outcome) = match state.near.answer(publication, key) {
        Some(answer) => (answer, "near_hit"),
        None => {
            let redis_key = state.redis.key(&format!("cache:{publication}:{}", hex::encode(Sha256::digest(key.as_bytes()))));
            let (body, outcome) = match state.redis.run::<Option<Vec<u8>>>(redis::cmd("GET").arg(&redis_key)).await {
                Some(Some(body)) => (body, "hit"),
                found => {
                    let body = serde_json::to_vec(&compute.await?).map_err(|e| crate::error::ApiError::Internal(e.to_string()))?;
                    let outcome = if found.is_some() {
                        let ttl = state.config.cache_ttl.as_secs().max(1);
                        state.redis.run::<()>(redis::cmd("SET").arg(&redis_key).arg(&body).arg("EX").arg(ttl)).await;
                        "miss"
                    } else {
                        "bypass"
                    };
                    (body, outcome)
                }
            };
            let etag = HeaderValue::from_str(&etag_of(&body)).expect("hex is ascii");
            (state.near.keep(publication, key, body.into(), etag), outcome)
        }
    };
    state.metrics.cache.with_label_values(&[outcome]).inc();
    let etag = answer.etag.to_str().expect("hex is ascii");
    let not_modified = request_headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/") == etag
    });
    let gzip = answer.gzip.as_ref().filter(|_| accepts_gzip(request_headers));
    let mut response = if not_modified {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(Body::from(gzip.map_or_else(|| answer.body.clone(), |g| g.body.clone())));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if gzip.is_some() {
            // Already encoded: the compression layer leaves it as it is.
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, gzip.map_or_else(|| answer.etag.clone(), |g| g.etag.clone()));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    // Both kinds of hit are one to a client: the answer was not computed for it.
    headers.insert("x-cache", HeaderValue::from_static(if outcome == "near_hit" { "hit" } else { outcome }));
    headers.insert("x-publication", HeaderValue::from(publication));
    Ok(response)
}
