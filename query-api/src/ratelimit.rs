//! Per-caller token buckets in Redis, sized by plan (IETF `RateLimit-*` headers). Redis down ⇒
//! no limit is enforced for that while (logged by the Redis handle): availability first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

use crate::auth::Principal;
use crate::state::AppState;

/// A bucket holding `capacity` tokens that refills completely in `period_ms`; takes up to
/// `want` tokens, at least one. Returns {tokens taken (0 when refused), remaining (−1 when
/// refused), ms until full, ms until the next token}. Redis's own clock keeps every API
/// instance on one time.
const TAKE: &str = r"
local capacity = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * capacity / period)
local taken = math.min(want, math.floor(tokens))
local remaining = -1
if taken >= 1 then
  tokens = tokens - taken
  remaining = math.floor(tokens)
else
  taken = 0
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], period)
return {taken, remaining, math.ceil((capacity - tokens) * period / capacity), math.ceil(math.max(0, 1 - tokens) * period / capacity)}
";

/// A busy caller takes this share of its plan's minute from Redis at once and spends it in
/// process: the free plan (120 a minute) still asks Redis on every request, an enterprise key
/// (12,000) once every 120. Leased tokens have left the shared bucket, so no number of API
/// instances lets a caller over its limit; a lease unspent after `LEASE_LIFE` is dropped.
const LEASE_SHARE: i64 = 100;
const LEASE_LIFE: Duration = Duration::from_secs(1);
/// Leases kept at most before expired ones are swept.
const MAX_LEASES: usize = 10_000;

/// Tokens leased from Redis, by bucket.
#[derive(Default)]
pub struct Leases {
    by_bucket: Mutex<HashMap<String, Lease>>,
}

struct Lease {
    left: i64,
    /// The shared bucket's tokens when the lease was taken.
    remaining: i64,
    reset_secs: u64,
    until: Instant,
}

impl Leases {
    fn spend(&self, bucket: &str, limit: i64) -> Option<RateLimit> {
        let mut leases = self.by_bucket.lock().expect("lease lock");
        let lease = leases.get_mut(bucket).filter(|l| l.left > 0 && Instant::now() < l.until)?;
        lease.left -= 1;
        Some(RateLimit { limit, remaining: lease.remaining + lease.left, reset_secs: lease.reset_secs, retry_after_secs: 1 })
    }

    fn grant(&self, bucket: String, lease: Lease) {
        let mut leases = self.by_bucket.lock().expect("lease lock");
        if leases.len() >= MAX_LEASES {
            let now = Instant::now();
            leases.retain(|_, l| now < l.until);
        }
        leases.insert(bucket, lease);
    }
}

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
    let bucket = principal.bucket();
    if let Some(leased) = state.leases.spend(&bucket, limit) {
        return Some(leased);
    }
    let want = (limit / LEASE_SHARE).max(1);
    let key = state.redis.key(&format!("ratelimit:{bucket}"));
    let (taken, remaining, reset_ms, next_ms): (i64, i64, i64, i64) = state.redis.invoke(&SCRIPT, &[key], &[limit, 60_000, want]).await?;
    if remaining < 0 {
        state.metrics.rate_limited.inc();
    }
    let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
    if taken > 1 {
        state.leases.grant(bucket, Lease { left: taken - 1, remaining, reset_secs: secs(reset_ms), until: Instant::now() + LEASE_LIFE });
    }
    let remaining = if remaining < 0 { remaining } else { remaining + (taken - 1).max(0) };
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
