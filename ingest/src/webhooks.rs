//! Webhook receivers: Meta's verification handshake and signed deliveries
//! (`X-Hub-Signature-256`), TikTok's signed deliveries (`TikTok-Signature`). A verified event
//! lands in `bronze.webhook_events` at once and asks the workers for a targeted refresh; an
//! unsigned or tampered one is refused and nothing is stored.

use std::sync::Arc;

use analisa_lake::{Lake, TableId};
use arrow::array::{ArrayRef, BooleanArray, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::platforms::Platform;
use crate::collect::Scope;
use crate::queue::{Queue, Task};

/// Secrets the receivers check deliveries with.
#[derive(Clone)]
pub struct WebhookSecrets {
    /// The Meta app secret (signs `X-Hub-Signature-256`).
    pub meta_app_secret: SecretString,
    /// The token Analisa gave Meta for the GET handshake.
    pub meta_verify_token: SecretString,
    /// The TikTok client secret (signs `TikTok-Signature`).
    pub tiktok_client_secret: SecretString,
    /// Deliveries whose TikTok timestamp is older than this are replays.
    pub tiktok_max_age_secs: i64,
}

#[derive(Clone)]
struct Receiver {
    secrets: WebhookSecrets,
    lake: Lake,
    queue: Option<Queue>,
}

/// The routes, under `/webhooks/meta` and `/webhooks/tiktok`.
pub fn router(lake: Lake, queue: Option<Queue>, secrets: WebhookSecrets) -> Router {
    Router::new()
        .route("/webhooks/meta", get(meta_handshake).post(meta_event))
        .route("/webhooks/tiktok", post(tiktok_event))
        .with_state(Arc::new(Receiver { secrets, lake, queue }))
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
}

async fn meta_handshake(State(receiver): State<Arc<Receiver>>, Query(query): Query<Handshake>) -> Response {
    let expected = receiver.secrets.meta_verify_token.expose_secret().as_bytes();
    let token_ok = query.verify_token.as_deref().is_some_and(|t| constant_time_eq(t.as_bytes(), expected));
    match (query.mode.as_deref(), query.challenge) {
        (Some("subscribe"), Some(challenge)) if token_ok => (StatusCode::OK, challenge).into_response(),
        _ => {
            warn!("refused a Meta webhook handshake with a wrong verify token");
            StatusCode::FORBIDDEN.into_response()
        }
    }
}

async fn meta_event(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers.get("x-hub-signature-256").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("sha256="));
    let Some(signature) = signature.and_then(|s| hex::decode(s).ok()) else {
        warn!("refused a Meta webhook without a valid X-Hub-Signature-256 header");
        return (StatusCode::UNAUTHORIZED, "missing or malformed X-Hub-Signature-256").into_response();
    };
    // Verified over the raw bytes as received, never over re-encoded JSON.
    if !verify(receiver.secrets.meta_app_secret.expose_secret(), &body, &signature) {
        warn!("refused a Meta webhook whose signature does not match its body");
        return (StatusCode::UNAUTHORIZED, "signature mismatch").into_response();
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON").into_response();
    };
    let platform = if event["object"] == "page" { "facebook" } else { "instagram" };
    let entries = event["entry"].as_array().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut tasks = Vec::new();
    for entry in &entries {
        let account = entry["id"].as_str().map(str::to_owned);
        let changes = entry["changes"].as_array().cloned().unwrap_or_default();
        let field = changes.first().and_then(|c| c["field"].as_str()).map(str::to_owned);
        rows.push(EventRow { platform, object: event["object"].as_str().map(str::to_owned), field, account: account.clone() });
        if let Some(account) = account {
            tasks.push(Task { platform: if platform == "facebook" { Platform::Facebook } else { Platform::Instagram }, account_id: account, attempt: 0, scope: Scope::Full });
        }
    }
    if rows.is_empty() {
        rows.push(EventRow { platform, object: event["object"].as_str().map(str::to_owned), field: None, account: None });
    }
    store(&receiver, &body, rows, tasks).await
}

async fn tiktok_event(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = headers.get("tiktok-signature").and_then(|h| h.to_str().ok()).unwrap_or("");
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("s", s)) => signature = hex::decode(s).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        warn!("refused a TikTok webhook without a valid TikTok-Signature header");
        return (StatusCode::UNAUTHORIZED, "missing or malformed TikTok-Signature").into_response();
    };
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&body);
    if !verify(receiver.secrets.tiktok_client_secret.expose_secret(), &signed, &signature) {
        warn!("refused a TikTok webhook whose signature does not match its body");
        return (StatusCode::UNAUTHORIZED, "signature mismatch").into_response();
    }
    if (Utc::now().timestamp() - timestamp).abs() > receiver.secrets.tiktok_max_age_secs {
        warn!(timestamp, "refused a TikTok webhook with a stale timestamp (replay?)");
        return (StatusCode::UNAUTHORIZED, "stale timestamp").into_response();
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON").into_response();
    };
    let account = event["user_openid"].as_str().map(str::to_owned);
    let rows = vec![EventRow { platform: "tiktok", object: event["event"].as_str().map(str::to_owned), field: None, account: account.clone() }];
    // A removed authorisation needs no refresh (there is nothing left to read).
    let tasks = match (event["event"].as_str(), account) {
        (Some("authorization.removed"), _) | (_, None) => Vec::new(),
        (_, Some(account)) => vec![Task { platform: Platform::Tiktok, account_id: account, attempt: 0, scope: Scope::Full }],
    };
    store(&receiver, &body, rows, tasks).await
}

struct EventRow {
    platform: &'static str,
    object: Option<String>,
    field: Option<String>,
    account: Option<String>,
}

async fn store(receiver: &Receiver, body: &[u8], rows: Vec<EventRow>, tasks: Vec<Task>) -> Response {
    let received = Utc::now();
    let text = String::from_utf8_lossy(body).into_owned();
    let fingerprint = |i: usize, platform: &str| {
        let mut hash = Sha256::new();
        hash.update(platform.as_bytes());
        hash.update([0]);
        hash.update(body);
        hash.update(i.to_le_bytes());
        hex::encode(hash.finalize())
    };
    let n = rows.len();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let table: TableId = "bronze.webhook_events".parse().expect("catalogued");
    let strings = |values: Vec<Option<String>>| std::sync::Arc::new(StringArray::from(values)) as ArrayRef;
    let batch = RecordBatch::try_new(
        table.def().schema.clone(),
        vec![
            strings(rows.iter().enumerate().map(|(i, r)| Some(fingerprint(i, r.platform))).collect()),
            strings(rows.iter().map(|r| Some(r.platform.to_owned())).collect()),
            strings(rows.iter().map(|r| r.object.clone()).collect()),
            strings(rows.iter().map(|r| r.field.clone()).collect()),
            strings(rows.iter().map(|r| r.account.clone()).collect()),
            std::sync::Arc::new(BooleanArray::from(vec![true; n])),
            std::sync::Arc::new(TimestampMicrosecondArray::from(vec![received.timestamp_micros(); n]).with_timezone("UTC")),
            std::sync::Arc::new(Date32Array::from(vec![(received.date_naive() - epoch).num_days() as i32; n])),
            strings(vec![Some(text); n]),
        ],
    )
    .expect("columns follow the catalogue");
    // A redelivered event has the same fingerprint and lands once.
    if let Err(error) = receiver.lake.insert_missing(table, vec![batch]).await {
        warn!(%error, "could not store a verified webhook event; the platform will retry");
        return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable, retry later").into_response();
    }
    if let (Some(queue), false) = (&receiver.queue, tasks.is_empty()) {
        if let Err(error) = queue.enqueue(&tasks).await {
            warn!(%error, "stored a webhook event but could not enqueue its refresh");
        }
    }
    info!(events = n, refreshes = tasks.len(), "webhook event stored");
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// HMAC-SHA256 check in constant time.
fn verify(secret: &str, message: &[u8], signature: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
