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

pub struct RateLimit {
    pub limit: i64,
    /// Tokens left; negative when this request was refused.
    pub remaining: i64,
    pub reset_secs: u64,
    /// When a refused caller may try again.
    pub retry_after_secs: u64,
}

/// A caller's tokens are leased from Redis and spent in process: one at a time at first, then,
/// while each lease is spent within `LEASE_LIFE`, twice as many each time, up to this share of
/// the plan's minute (an enterprise key, 12,000 a minute, asks Redis about once per 120
/// requests). Leased tokens have left the shared bucket, so no number of API processes lets a
/// caller over its limit; what a lease has left after `LEASE_LIFE` is dropped, which costs a
/// caller at most its last second's worth, never more than this share.
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
    /// The shared bucket's tokens when the newest lease was taken.
    remaining: i64,
    reset_secs: u64,
    until: Instant,
    /// How many tokens the newest lease asked for.
    size: i64,
}

impl Leases {
    /// Spends a leased token, or says how many tokens to ask Redis for.
    fn spend(&self, bucket: &str, limit: i64) -> Result<RateLimit, i64> {
        let most = (limit / LEASE_SHARE).max(1);
        let mut leases = self.by_bucket.lock().expect("lease lock");
        match leases.get_mut(bucket) {
            Some(lease) if Instant::now() < lease.until => {
                if lease.left == 0 {
                    return Err((lease.size * 2).min(most));
                }
                lease.left -= 1;
                Ok(RateLimit { limit, remaining: lease.remaining + lease.left, reset_secs: lease.reset_secs, retry_after_secs: 1 })
            }
            _ => Err(1),
        }
    }

    /// Adds what Redis granted (`taken` tokens, one of them for the asking request). Requests
    /// that ran out together each took tokens: they are pooled, none lost.
    fn grant(&self, bucket: String, size: i64, taken: i64, remaining: i64, reset_secs: u64) {
        let now = Instant::now();
        let mut leases = self.by_bucket.lock().expect("lease lock");
        if leases.len() >= MAX_LEASES {
            leases.retain(|_, l| now < l.until);
        }
        let lease = leases.entry(bucket).or_insert(Lease { left: 0, remaining, reset_secs, until: now, size });
        if lease.until <= now {
            lease.left = 0;
        }
        lease.left += taken - 1;
        lease.remaining = remaining;
        lease.reset_secs = reset_secs;
        lease.until = now + LEASE_LIFE;
        lease.size = size;
    }
}

pub async fn take(state: &AppState, principal: &Principal) -> Option<RateLimit> {
    static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(TAKE));
    let limit = state.config.plans.limits(principal.plan()).requests_per_minute;
    let bucket = principal.bucket();
    let want = match state.leases.spend(&bucket, limit) {
        Ok(leased) => return Some(leased),
        Err(want) => want,
    };
    let key = state.redis.key(&format!("ratelimit:{bucket}"));
    let (taken, remaining, reset_ms, next_ms): (i64, i64, i64, i64) = state.redis.invoke(&SCRIPT, &[key], &[limit, 60_000, want]).await?;
    let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
    if taken == 0 {
        state.metrics.rate_limited.inc();
        return Some(RateLimit { limit, remaining: -1, reset_secs: secs(reset_ms), retry_after_secs: secs(next_ms).max(1) });
    }
    state.leases.grant(bucket, want, taken, remaining, secs(reset_ms));
    Some(RateLimit { limit, remaining: remaining + taken - 1, reset_secs: secs(reset_ms), retry_after_secs: secs(next_ms).max(1) })
}

impl RateLimit {
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining.max(0)));
        headers.insert("ratelimit-reset", HeaderValue::from(self.reset_secs));
        headers.insert("ratelimit-policy", HeaderValue::from_str(&format!("{};w=60", self.limit)).expect("ascii"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_grow_while_spent_in_time_and_pool_what_concurrent_requests_took() {
        let leases = Leases::default();
        assert_eq!(leases.spend("k", 12_000).err(), Some(1), "a new caller asks for one token");
        leases.grant("k".into(), 1, 1, 500, 60);
        assert_eq!(leases.spend("k", 12_000).err(), Some(2), "spent within its life: twice as many");
        leases.grant("k".into(), 2, 2, 498, 60);
        assert_eq!(leases.spend("k", 12_000).unwrap().remaining, 498);
        assert_eq!(leases.spend("k", 12_000).err(), Some(4));
        // Two requests ran out together and each took a lease of 4: 3 + 3 left, none lost.
        leases.grant("k".into(), 4, 4, 490, 60);
        leases.grant("k".into(), 4, 4, 486, 60);
        let spent = (0..6).map(|_| leases.spend("k", 12_000).is_ok()).filter(|ok| *ok).count();
        assert_eq!(spent, 6);
        assert_eq!(leases.spend("k", 12_000).err(), Some(8));
        assert_eq!(leases.spend("k", 120).err(), Some(1), "never more than 1 % of the plan's minute");
    }
}
