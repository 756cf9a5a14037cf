//! Delivery of a succeeded run beyond the object store: a webhook POST of its manifest,
//! signed with the definition's secret, retried while the receiver fails on its side.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Manifest, Retry};
use crate::error::{JobsError, Result};

/// Where a definition's runs go besides the object store (`delivery` of the definition).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub webhook: Option<Webhook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    pub url: String,
    /// Signs every POST; the receiver checks `X-Analisa-Signature` with it.
    pub secret: SecretString,
}

impl Delivery {
    pub fn parse(json: &Value) -> Result<Self> {
        let delivery: Self = serde_json::from_value(json.clone()).map_err(|e| JobsError::InvalidReport(format!("delivery: {e}")))?;
        if let Some(hook) = &delivery.webhook {
            let url = url::Url::parse(&hook.url).map_err(|e| JobsError::InvalidReport(format!("delivery: webhook url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(JobsError::InvalidReport("delivery: a webhook url is http or https".into()));
            }
            if hook.secret.expose_secret().len() < 16 {
                return Err(JobsError::InvalidReport("delivery: a webhook secret has at least 16 characters".into()));
            }
        }
        Ok(delivery)
    }

    /// The delivery as it may be shown (secrets left out).
    pub fn redacted(json: &Value) -> Value {
        let mut shown = json.clone();
        if let Some(hook) = shown.get_mut("webhook").and_then(Value::as_object_mut) {
            hook.remove("secret");
        }
        shown
    }
}

/// What a delivery did, kept on the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivered {
    pub delivered: bool,
    pub attempts: i32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

/// `sha256=` and the hex HMAC of `{timestamp}.{body}`: the timestamp is signed too, so a
/// captured request cannot be replayed later under a fresh one.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs the run's manifest; a 5xx answer or no answer is tried again with doubling delays,
/// any other refusal is final.
pub(super) async fn webhook(client: &reqwest::Client, hook: &Webhook, manifest: &Manifest, retry: &Retry) -> Delivered {
    let body = match serde_json::to_vec(&json!({"event": "report.run.succeeded", "manifest": manifest})) {
        Ok(body) => body,
        Err(error) => return Delivered { delivered: false, attempts: 0, http_status: None, error: Some(error.to_string()) },
    };
    let mut delay = retry.first_delay;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let timestamp = chrono::Utc::now().timestamp();
        let answer = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-analisa-event", "report.run.succeeded")
            .header("x-analisa-timestamp", timestamp.to_string())
            .header("x-analisa-signature", signature(hook.secret.expose_secret(), timestamp, &body))
            .body(body.clone())
            .send()
            .await;
        let (status, error) = match answer {
            Ok(response) if response.status().is_success() => return Delivered { delivered: true, attempts, http_status: Some(response.status().as_u16()), error: None },
            Ok(response) => (Some(response.status().as_u16()), format!("the receiver answered {}", response.status())),
            Err(error) => (None, format!("the receiver is unreachable: {error}")),
        };
        let retriable = status.is_none_or(|s| s >= 500);
        if !retriable || attempts >= retry.attempts {
            return Delivered { delivered: false, attempts, http_status: status, error: Some(error) };
        }
        tracing::warn!(url = %hook.url, attempt = attempts, %error, "webhook delivery failed; trying again");
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(15)).connect_timeout(Duration::from_secs(5)).build().expect("a client with timeouts builds")
}
