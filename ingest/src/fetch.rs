//! Calling a platform: one request, classified the way each platform signals success, limits
//! and failures, retried with exponential backoff and jitter when retrying can help.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tracing::{debug, warn};
use url::Url;

use crate::governor::Governor;
use crate::platforms::Platform;
use crate::raw::{RawAnswer, redact};

/// What went wrong with a request, in terms a collector can act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The token is invalid, expired or revoked: the connection needs re-authorisation.
    #[error("{platform} refused the access token for {account}: {message}")]
    TokenRejected { platform: Platform, account: String, message: String },
    /// The platform keeps answering "too many calls"; the budget is spent for now.
    #[error("{platform} rate limit still in force after {attempts} attempts: {message}")]
    RateLimited { platform: Platform, attempts: u32, message: String },
    /// Transient failures (5xx, timeouts, broken bodies) outlasted the retries.
    #[error("{platform} {endpoint} failed after {attempts} attempts: {message}")]
    GaveUp { platform: Platform, endpoint: &'static str, attempts: u32, message: String },
    /// The shared rate-limit state (Redis) could not be consulted; calling blind could
    /// exceed the budget, so the call is not made.
    #[error("rate-limit governor unavailable: {0}")]
    Governor(String),
    /// A definite error answer (bad parameter, permission …). It is landed in bronze as well.
    #[error("{platform} {endpoint} answered with an error: {message}")]
    Refused { platform: Platform, endpoint: &'static str, message: String, answer: Box<RawAnswer> },
}

/// A request to make.
#[derive(Clone)]
pub struct Call {
    pub platform: Platform,
    pub endpoint: &'static str,
    pub api_version: String,
    pub account_ref: String,
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub json: Option<Value>,
}

/// URLs and headers carry tokens: the Debug form shows only what is safe.
impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("platform", &self.platform)
            .field("endpoint", &self.endpoint)
            .field("account_ref", &self.account_ref)
            .field("method", &self.method)
            .field("path", &redact(&self.url))
            .finish_non_exhaustive()
    }
}

impl Call {
    pub fn get(platform: Platform, endpoint: &'static str, api_version: &str, account_ref: &str, url: Url) -> Self {
        Self { platform, endpoint, api_version: api_version.to_owned(), account_ref: account_ref.to_owned(), method: reqwest::Method::GET, url, headers: Vec::new(), json: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn post_json(mut self, body: Value) -> Self {
        self.method = reqwest::Method::POST;
        self.json = Some(body);
        self
    }
}

/// A successful answer: the raw record and its parsed body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub answer: RawAnswer,
    pub json: Value,
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest wait a rate-limit answer may impose before the call gives up.
    pub max_rate_limit_wait: Duration,
    /// Least wait after a rate-limit answer that names no time (TikTok's QPS limit): limit
    /// windows are a second or longer, so retrying sooner only burns attempts.
    pub rate_limit_floor: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 6, base_delay: Duration::from_millis(200), max_delay: Duration::from_secs(20), max_rate_limit_wait: Duration::from_secs(120), rate_limit_floor: Duration::from_secs(1), timeout: Duration::from_secs(30) }
    }
}

/// How one answer reads.
#[derive(Debug)]
enum Verdict {
    Ok(Value),
    Retry { message: String, wait: Option<Duration> },
    Limited { message: String, wait: Option<Duration> },
    Token(String),
    Refused(String),
}

/// What time a collection believes it is: the system clock, or a fixed instant when replaying
/// or simulating a past day (answers are stamped with it, and insight windows end on its day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    At(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::At(at) => at,
        }
    }
}

/// The HTTP side of every connector.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: RetryPolicy,
    governor: Option<Governor>,
    clock: Clock,
}

const RATE_LIMIT_HEADERS: [&str; 6] = ["x-app-usage", "x-business-use-case-usage", "x-page-usage", "x-ad-account-usage", "retry-after", "x-fb-ads-insights-throttle"];

impl Fetcher {
    pub fn new(policy: RetryPolicy, governor: Option<Governor>) -> Self {
        let client = reqwest::Client::builder().timeout(policy.timeout).user_agent(concat!("analisa/", env!("CARGO_PKG_VERSION"))).build().expect("a TLS backend is compiled in");
        Self { client, policy, governor, clock: Clock::System }
    }

    /// Collect as of another time than now (see [`Clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn fetch(&self, call: &Call) -> Result<Fetched, FetchError> {
        let mut last = String::new();
        let mut limited = false;
        for attempt in 1..=self.policy.max_attempts {
            if let Some(governor) = &self.governor {
                governor.acquire(call).await.map_err(|e| FetchError::Governor(e.to_string()))?;
            }
            let mut request = self.client.request(call.method.clone(), call.url.clone());
            for (name, value) in &call.headers {
                request = request.header(*name, value);
            }
            if let Some(body) = &call.json {
                request = request.json(body);
            }
            let (status, headers, body) = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match response.text().await {
                        Ok(body) => (status, headers, body),
                        Err(e) => {
                            last = format!("reading the body failed: {}", e.without_url());
                            self.pause(attempt, None).await;
                            continue;
                        }
                    }
                }
                Err(e) => {
                    // The URL may carry a token: it never goes into an error message.
                    last = format!("request failed: {}", e.without_url());
                    self.pause(attempt, None).await;
                    continue;
                }
            };
            let answer = RawAnswer {
                platform: call.platform,
                endpoint: call.endpoint,
                api_version: call.api_version.clone(),
                account_ref: call.account_ref.clone(),
                request_path: redact(&call.url),
                http_status: status,
                fetched_at: self.clock.now(),
                rate_limit: rate_limit_json(&headers),
                body: crate::raw::redact_body(&body),
            };
            if let Some(governor) = &self.governor {
                governor.observe(call, answer.rate_limit.as_deref()).await.map_err(|e| FetchError::Governor(e.to_string()))?;
            }
            match classify(call.platform, status, &headers, &body) {
                Verdict::Ok(json) => return Ok(Fetched { answer, json }),
                Verdict::Retry { message, wait } => {
                    debug!(platform = %call.platform, endpoint = call.endpoint, attempt, %message, "transient failure, retrying");
                    last = message;
                    limited = false;
                    self.pause(attempt, wait).await;
                }
                Verdict::Limited { message, wait } => {
                    warn!(platform = %call.platform, endpoint = call.endpoint, attempt, %message, "rate limited, backing off");
                    if wait.is_some_and(|w| w > self.policy.max_rate_limit_wait) {
                        return Err(FetchError::RateLimited { platform: call.platform, attempts: attempt, message });
                    }
                    last = message;
                    limited = true;
                    self.pause(attempt, Some(wait.unwrap_or_default().max(self.policy.rate_limit_floor))).await;
                }
                Verdict::Token(message) => return Err(FetchError::TokenRejected { platform: call.platform, account: call.account_ref.clone(), message }),
                Verdict::Refused(message) => return Err(FetchError::Refused { platform: call.platform, endpoint: call.endpoint, message, answer: Box::new(answer) }),
            }
        }
        let attempts = self.policy.max_attempts;
        Err(if limited {
            FetchError::RateLimited { platform: call.platform, attempts, message: last }
        } else {
            FetchError::GaveUp { platform: call.platform, endpoint: call.endpoint, attempts, message: last }
        })
    }

    /// Exponential backoff with full jitter, or the platform's own wait when it named one.
    async fn pause(&self, attempt: u32, wait: Option<Duration>) {
        let ceiling = self.policy.base_delay.saturating_mul(2u32.saturating_pow(attempt - 1)).min(self.policy.max_delay);
        let jittered = ceiling.mul_f64(jitter());
        tokio::time::sleep(wait.map_or(jittered, |w| w + jittered / 4)).await;
    }
}

/// A draw in [0, 1) for jitter; it need not be reproducible, only spread out.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = nanos ^ 0x9E37_79B9_7F4A_7C15 ^ (std::process::id() as u64) << 32;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn rate_limit_json(headers: &HeaderMap) -> Option<String> {
    let found: serde_json::Map<String, Value> = RATE_LIMIT_HEADERS
        .iter()
        .filter_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()).map(|v| ((*name).to_owned(), Value::String(v.to_owned()))))
        .collect();
    (!found.is_empty()).then(|| Value::Object(found).to_string())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers.get("retry-after")?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Minutes until a Meta business-use-case budget is back, from `X-Business-Use-Case-Usage`.
fn meta_regain(headers: &HeaderMap) -> Option<Duration> {
    let usage: Value = serde_json::from_str(headers.get("x-business-use-case-usage")?.to_str().ok()?).ok()?;
    let minutes = usage.as_object()?.values().flat_map(|v| v.as_array().into_iter().flatten()).filter_map(|e| e["estimated_time_to_regain_access"].as_u64()).max()?;
    (minutes > 0).then(|| Duration::from_secs(minutes * 60))
}

fn classify(platform: Platform, status: u16, headers: &HeaderMap, body: &str) -> Verdict {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        // A body that does not parse (cut short, or an HTML error page) is never data.
        return if status == 429 {
            Verdict::Limited { message: format!("HTTP {status}"), wait: retry_after(headers) }
        } else {
            Verdict::Retry { message: format!("HTTP {status} with a body that is not JSON ({} bytes)", body.len()), wait: None }
        };
    };
    match platform {
        Platform::Instagram | Platform::Facebook => {
            let Some(error) = json.get("error") else {
                return if status < 300 { Verdict::Ok(json) } else { Verdict::Retry { message: format!("HTTP {status}"), wait: None } };
            };
            let code = error["code"].as_u64().unwrap_or(0);
            let message = format!("({code}) {}", error["message"].as_str().unwrap_or(""));
            match code {
                4 | 17 | 32 | 341 | 613 | 80000..=80014 => Verdict::Limited { message, wait: meta_regain(headers) },
                190 | 102 => Verdict::Token(message),
                1 | 2 => Verdict::Retry { message, wait: None },
                _ if error["is_transient"] == Value::Bool(true) || status >= 500 => Verdict::Retry { message, wait: None },
                _ => Verdict::Refused(message),
            }
        }
        Platform::TiktokBusiness => match json["code"].as_u64() {
            Some(0) if status < 300 => Verdict::Ok(json),
            Some(code @ (40100 | 51021)) => Verdict::Limited { message: format!("({code}) {}", json["message"].as_str().unwrap_or("")), wait: None },
            Some(code @ 40105) => Verdict::Token(format!("({code}) {}", json["message"].as_str().unwrap_or(""))),
            Some(code @ 50000..=59999) => Verdict::Retry { message: format!("({code}) {}", json["message"].as_str().unwrap_or("")), wait: None },
            _ if status >= 500 => Verdict::Retry { message: format!("HTTP {status}"), wait: None },
            Some(code) => Verdict::Refused(format!("({code}) {}", json["message"].as_str().unwrap_or(""))),
            None => Verdict::Retry { message: "answer without a code".into(), wait: None },
        },
        Platform::Tiktok => {
            let code = json["error"]["code"].as_str().unwrap_or("");
            let message = format!("{code}: {}", json["error"]["message"].as_str().unwrap_or(""));
            match (status, code) {
                (200, "ok") => Verdict::Ok(json),
                (429, _) | (_, "rate_limit_exceeded") => Verdict::Limited { message, wait: retry_after(headers) },
                (_, "access_token_invalid") => Verdict::Token(message),
                (500.., _) | (_, "internal_error") => Verdict::Retry { message, wait: None },
                _ => Verdict::Refused(message),
            }
        }
        Platform::Ga4 => {
            let message = json["error"]["message"].as_str().unwrap_or("").to_owned();
            match status {
                200..=299 => Verdict::Ok(json),
                429 => Verdict::Limited { message, wait: retry_after(headers) },
                401 => Verdict::Token(message),
                500.. => Verdict::Retry { message, wait: None },
                _ => Verdict::Refused(message),
            }
        }
    }
}
