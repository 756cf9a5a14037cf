//! The outbound rate-limit governor: every worker asks Redis before calling a platform, so
//! that together they never exceed the configured budgets, and all of them slow down when a
//! platform's usage headers say the limit is near.

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::Deserialize;
use serde_json::Value;
use tracing::{debug, warn};

use crate::fetch::Call;
use crate::platforms::Platform;

/// Calls allowed per window, per app / object, shared by every worker.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Budgets {
    /// Meta Platform limit of the app, per rolling hour.
    pub meta_app_per_hour: u64,
    /// Meta Business Use Case limit per Instagram account or Page, per rolling hour.
    pub meta_object_per_hour: u64,
    /// TikTok API for Business calls per second for the app.
    pub tiktok_business_per_second: u64,
    /// TikTok Display API calls per minute per endpoint.
    pub tiktok_display_per_minute: u64,
    /// GA4 requests per property per hour.
    pub ga4_per_hour: u64,
    /// Usage share (percent, from the platform's headers) at which everybody pauses.
    pub pause_at_percent: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self { meta_app_per_hour: 50_000, meta_object_per_hour: 4_000, tiktok_business_per_second: 10, tiktok_display_per_minute: 600, ga4_per_hour: 2_000, pause_at_percent: 90 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GovernorError {
    #[error("the rate-limit governor cannot reach Redis at {url}: {source}")]
    Connect { url: String, source: redis::RedisError },
    #[error("the rate-limit governor lost Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Sliding windows in Redis sorted sets, checked and recorded atomically for all the keys of
/// a call at once (on Redis's clock, so workers on several machines agree). KEYS[1] and
/// KEYS[2] are pauses (the platform family's and the object's); the rest are windows. Returns
/// 0 when the call may go, else the milliseconds until it may.
const ACQUIRE: &str = r#"
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local pause = math.max(redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2]))
if pause > 0 then return pause end
local wait = 0
for i = 3, #KEYS do
  local budget = tonumber(ARGV[(i - 3) * 2 + 1])
  local window = tonumber(ARGV[(i - 3) * 2 + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now_ms - window)
  if redis.call('ZCARD', KEYS[i]) >= budget then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + window - now_ms
    if free_at > wait then wait = free_at end
  end
end
if wait > 0 then return wait end
local member = ARGV[#ARGV]
for i = 3, #KEYS do
  local window = tonumber(ARGV[(i - 3) * 2 + 2])
  redis.call('ZADD', KEYS[i], now_ms, member)
  redis.call('PEXPIRE', KEYS[i], window)
end
return 0
"#;

/// The governor; clone it freely (one Redis connection, multiplexed).
#[derive(Clone)]
pub struct Governor {
    redis: ConnectionManager,
    budgets: Budgets,
    prefix: String,
    script: redis::Script,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor").field("budgets", &self.budgets).field("prefix", &self.prefix).finish()
    }
}

impl Governor {
    /// Connects to Redis. `prefix` separates deployments (and tests) sharing one Redis.
    pub async fn connect(url: &str, budgets: Budgets, prefix: &str) -> Result<Self, GovernorError> {
        let redacted = redact_url(url);
        let redis = crate::redis_link::connect(url).await.map_err(|source| GovernorError::Connect { url: redacted, source })?;
        Ok(Self { redis, budgets, prefix: prefix.to_owned(), script: redis::Script::new(ACQUIRE) })
    }

    /// The windows a call counts against: (key, budget, window).
    fn windows(&self, call: &Call) -> Vec<(String, u64, Duration)> {
        let b = &self.budgets;
        // Windows are a little longer than the platform's so that calls the platform counts
        // in one window, after network delays, still fit it.
        let pad = |d: Duration| d + d / 20 + Duration::from_millis(50);
        let hour = pad(Duration::from_secs(3_600));
        match call.platform {
            Platform::Instagram | Platform::Facebook => vec![
                ("meta_app".to_owned(), b.meta_app_per_hour, hour),
                (format!("meta_object:{}", call.account_ref), b.meta_object_per_hour, hour),
            ],
            Platform::TiktokBusiness => vec![("tiktok_business".to_owned(), b.tiktok_business_per_second, pad(Duration::from_secs(1)))],
            Platform::Tiktok => vec![(format!("tiktok_display:{}", call.endpoint), b.tiktok_display_per_minute, pad(Duration::from_secs(60)))],
            Platform::Ga4 => vec![(format!("ga4:{}", call.account_ref), b.ga4_per_hour, hour)],
        }
    }

    /// The pause of the whole platform family (app-level usage).
    fn pause_key(&self, call: &Call) -> String {
        let family = match call.platform {
            Platform::Instagram | Platform::Facebook => "meta",
            Platform::Tiktok => "tiktok",
            Platform::TiktokBusiness => "tiktok_business",
            Platform::Ga4 => "ga4",
        };
        format!("{}:pause:{family}", self.prefix)
    }

    /// The pause of one account or Page (Meta business-use-case limits are per object).
    fn object_pause_key(&self, call: &Call) -> String {
        format!("{}:pause:object:{}:{}", self.prefix, call.platform, call.account_ref)
    }

    /// Waits until the call fits every budget, then counts it.
    pub async fn acquire(&self, call: &Call) -> Result<(), GovernorError> {
        let windows = self.windows(call);
        let member = format!("{}:{}", std::process::id(), uniq());
        loop {
            let mut invocation = self.script.key(self.pause_key(call));
            invocation.key(self.object_pause_key(call));
            for (key, budget, window) in &windows {
                invocation.key(format!("{}:{key}", self.prefix)).arg(*budget).arg(window.as_millis() as u64);
            }
            invocation.arg(&member);
            let mut redis = self.redis.clone();
            let wait: i64 = invocation.invoke_async(&mut redis).await?;
            if wait <= 0 {
                return Ok(());
            }
            debug!(platform = %call.platform, wait_ms = wait, "budget spent, waiting");
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    /// Calls in the current window of every budget in use, with the budget: (key, used, budget).
    pub async fn usage(&self) -> Result<Vec<(String, u64, u64)>, GovernorError> {
        let mut redis = self.redis.clone();
        let keys: Vec<String> = {
            let mut cursor = 0u64;
            let mut keys = Vec::new();
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(format!("{}:*", self.prefix)).arg("COUNT").arg(500).query_async(&mut redis).await?;
                keys.extend(batch.into_iter().filter(|k| !k.contains(":pause:")));
                if next == 0 {
                    break keys;
                }
                cursor = next;
            }
        };
        let now: (u64, u64) = redis::cmd("TIME").query_async(&mut redis).await?;
        let now_ms = now.0 * 1000 + now.1 / 1000;
        let mut out = Vec::new();
        for key in keys {
            let name = key.trim_start_matches(&format!("{}:", self.prefix)).to_owned();
            let b = &self.budgets;
            let (budget, window_ms) = match name.split(':').next().unwrap_or("") {
                "meta_app" => (b.meta_app_per_hour, 3_600_000),
                "meta_object" => (b.meta_object_per_hour, 3_600_000),
                "tiktok_business" => (b.tiktok_business_per_second, 1_000),
                "tiktok_display" => (b.tiktok_display_per_minute, 60_000),
                "ga4" => (b.ga4_per_hour, 3_600_000),
                _ => continue,
            };
            let used: u64 = redis::cmd("ZCOUNT").arg(&key).arg(now_ms.saturating_sub(window_ms)).arg("+inf").query_async(&mut redis).await?;
            out.push((name, used, budget));
        }
        out.sort();
        Ok(out)
    }

    /// Reads the platform's usage headers; near the limit, every worker pauses.
    pub async fn observe(&self, call: &Call, rate_limit: Option<&str>) -> Result<(), GovernorError> {
        let Some(headers) = rate_limit.and_then(|r| serde_json::from_str::<Value>(r).ok()) else { return Ok(()) };
        let usage = |v: &Value| ["call_count", "total_time", "total_cputime"].iter().filter_map(|k| v[*k].as_u64()).max().unwrap_or(0);
        let mut pauses: Vec<(String, Duration)> = Vec::new();
        // App-level usage near the limit: the whole family pauses.
        if let Some(app) = headers["x-app-usage"].as_str().and_then(|h| serde_json::from_str::<Value>(h).ok()) {
            if usage(&app) >= self.budgets.pause_at_percent {
                pauses.push((self.pause_key(call), Duration::from_secs(60)));
            }
        }
        // Business-use-case usage is per account or Page: only that object pauses.
        if let Some(buc) = headers["x-business-use-case-usage"].as_str().and_then(|h| serde_json::from_str::<Value>(h).ok()) {
            let entries: Vec<Value> = buc.as_object().into_iter().flat_map(|o| o.values()).flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect();
            let regain = entries.iter().filter_map(|e| e["estimated_time_to_regain_access"].as_u64()).max().unwrap_or(0);
            let percent = entries.iter().map(usage).max().unwrap_or(0);
            if regain > 0 {
                pauses.push((self.object_pause_key(call), Duration::from_secs(regain * 60)));
            } else if percent >= self.budgets.pause_at_percent {
                pauses.push((self.object_pause_key(call), Duration::from_secs(60)));
            }
        }
        for (key, pause) in pauses {
            warn!(platform = %call.platform, account = %call.account_ref, pause_s = pause.as_secs(), "platform usage near its limit; pausing");
            let mut redis = self.redis.clone();
            // NX: a pause already in force is not extended by every worker that notices.
            let _: Option<String> = redis::cmd("SET").arg(key).arg(1).arg("PX").arg(pause.as_millis() as u64).arg("NX").query_async(&mut redis).await?;
        }
        Ok(())
    }
}

fn uniq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) ^ (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64) << 16)
}

/// A Redis URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
