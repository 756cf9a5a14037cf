//! Per-caller token buckets in Redis, sized by plan (IETF `RateLimit-*` headers). Redis down ⇒
//! no limit is enforced for that while (logged by the Redis handle): availability first.

use axum::http::{HeaderMap, HeaderValue};

use crate::auth::Principal;
use crate::state::AppState;

/// A bucket holding `capacity` tokens that refills completely in `period_ms`; takes one token.
/// Returns {remaining (−1 when refused), ms until full, ms until the next token}. Redis's own clock keeps every API
/// instance on one time.
const TAKE: &str = r"
local capacity = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * capacity / period)
local remaining = -1
if tokens >= 1 then
  tokens = tokens - 1
  remaining = math.floor(tokens)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], period)
return {remaining, math.ceil((capacity - tokens) * period / capacity), math.ceil(math.max(0, 1 - tokens) * period / capacity)}
";

pub struct RateLimit {
    pub limit: i64,
    /// Tokens left; negative when this request was refused.
    pub remaining: i64,
    pub reset_secs: u64,
    /// When a refused caller may try again.
    pub retry_after_secs: u64,
}

pub async fn take(state: &AppState, principal: &Principal) -> Option<RateLimit> {
    static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(TAKE));
    let limit = state.config.plans.limits(principal.plan()).requests_per_minute;
    let key = state.redis.key(&format!("ratelimit:{}", principal.bucket()));
    let (remaining, reset_ms, next_ms): (i64, i64, i64) = state.redis.invoke(&SCRIPT, &[key], &[limit, 60_000]).await?;
    if remaining < 0 {
        state.metrics.rate_limited.inc();
    }
    let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
    Some(RateLimit { limit, remaining, reset_secs: secs(reset_ms), retry_after_secs: secs(next_ms).max(1) })
}

impl RateLimit {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining.max(0)));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset_secs));
        headers.insert("ratelimit-policy", HeaderValue::from_str(&format!("{};w=60", self.limit)).expect("ascii"));
    }
}
