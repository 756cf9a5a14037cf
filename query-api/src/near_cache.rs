//! The near cache: in-process copies of what every request would otherwise ask Redis for — the
//! newest publication, the sessions known to be live, and cached answers — so that a cached
//! answer costs no network round trip. Redis stays the shared record; its pub/sub channels
//! (`<prefix>:published`, `<prefix>:revoked`) keep every API instance's copies current.
//!
//! While the subscription is down, the newest publication and live sessions are not taken from
//! here (a missed announcement or revocation would go unseen). Answers are keyed by the
//! publication they were computed from, so they stay right whatever happens to Redis.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use bytes::Bytes;
use futures::StreamExt;
use tracing::{debug, warn};
use uuid::Uuid;

/// How long a session checked live is believed live without asking again. A revocation
/// reaches every instance at once through pub/sub; this bounds the wait if one is missed.
const SESSION_BELIEVED_FOR: Duration = Duration::from_secs(5);
/// Sessions remembered at most; beyond it, expired ones are dropped and then all.
const MAX_SESSIONS: usize = 100_000;
/// The announced publication is read again this often, in case an announcement was lost.
const REREAD_EVERY: Duration = Duration::from_secs(5);
const UNKNOWN: i64 = -1;

/// One cached answer with its entity tag, computed once.
pub struct Answer {
    pub body: Bytes,
    pub etag: HeaderValue,
    expires: Instant,
}

pub struct NearCache {
    subscribed: AtomicBool,
    publication: AtomicI64,
    sessions: Mutex<HashMap<Uuid, Instant>>,
    answers: Mutex<Answers>,
    capacity: usize,
    ttl: Duration,
}

/// Answers of one publication; the oldest go first when the memory budget is full.
#[derive(Default)]
struct Answers {
    publication: i64,
    by_key: HashMap<String, Arc<Answer>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl NearCache {
    /// `capacity` bytes of answer bodies at most (0 keeps none); each lives `ttl` at most.
    pub fn new(capacity: u64, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            subscribed: AtomicBool::new(false),
            publication: AtomicI64::new(UNKNOWN),
            sessions: Mutex::default(),
            answers: Mutex::default(),
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            ttl,
        })
    }

    /// The newest publication, when the subscription vouches for it.
    pub fn publication(&self) -> Option<i64> {
        let id = self.publication.load(Ordering::Acquire);
        (self.subscribed.load(Ordering::Acquire) && id != UNKNOWN).then_some(id)
    }

    /// A publication read from Redis or PostgreSQL. Ids only grow, so the larger reading wins
    /// whatever order the readings and announcements arrive in.
    pub fn saw_publication(&self, id: i64) {
        self.publication.fetch_max(id, Ordering::AcqRel);
    }

    pub fn session_live(&self, session: Uuid) -> bool {
        if !self.subscribed.load(Ordering::Acquire) {
            return false;
        }
        let sessions = self.sessions.lock().expect("near cache lock");
        sessions.get(&session).is_some_and(|until| Instant::now() < *until)
    }

    pub fn saw_live_session(&self, session: Uuid) {
        if !self.subscribed.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        let mut sessions = self.sessions.lock().expect("near cache lock");
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, until| now < *until);
            if sessions.len() >= MAX_SESSIONS {
                sessions.clear();
            }
        }
        sessions.insert(session, now + SESSION_BELIEVED_FOR);
    }

    pub fn forget_session(&self, session: Uuid) {
        self.sessions.lock().expect("near cache lock").remove(&session);
    }

    pub fn answer(&self, publication: i64, key: &str) -> Option<Arc<Answer>> {
        let answers = self.answers.lock().expect("near cache lock");
        if answers.publication != publication {
            return None;
        }
        answers.by_key.get(key).filter(|a| Instant::now() < a.expires).cloned()
    }

    /// Keeps `body` as `key`'s answer under `publication`; answers of older publications go.
    pub fn keep(&self, publication: i64, key: &str, body: Bytes, etag: HeaderValue) -> Arc<Answer> {
        let answer = Arc::new(Answer { body, etag, expires: Instant::now() + self.ttl });
        let size = answer.body.len() + key.len();
        if size > self.capacity {
            return answer;
        }
        let mut answers = self.answers.lock().expect("near cache lock");
        if answers.publication != publication {
            if answers.publication > publication {
                // An answer of an older publication, computed while a newer one arrived.
                return answer;
            }
            *answers = Answers { publication, ..Answers::default() };
        }
        while answers.bytes + size > self.capacity {
            let Some(oldest) = answers.order.pop_front() else { break };
            if let Some(gone) = answers.by_key.remove(&oldest) {
                answers.bytes -= gone.body.len() + oldest.len();
            }
        }
        if let Some(previous) = answers.by_key.insert(key.to_owned(), answer.clone()) {
            answers.bytes -= previous.body.len() + key.len();
            answers.order.retain(|k| k != key);
        }
        answers.order.push_back(key.to_owned());
        answers.bytes += size;
        answer
    }

    fn subscription_lost(&self) {
        self.subscribed.store(false, Ordering::Release);
        self.sessions.lock().expect("near cache lock").clear();
    }

    /// Follows the announcements on Redis until the cache is dropped, reconnecting as needed.
    pub fn follow(self: &Arc<Self>, redis: crate::redis::RedisHandle) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let Some(client) = redis.client() else { return };
        let cache = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut pause = Duration::from_millis(100);
            while cache.strong_count() > 0 {
                match subscription(&cache, &client, &redis).await {
                    Ok(()) => pause = Duration::from_millis(100),
                    Err(error) => debug!(%error, "announcement subscription failed"),
                }
                if let Some(cache) = cache.upgrade() {
                    cache.subscription_lost();
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
    }
}

/// One subscription's life: subscribe, then read the newest publication (so that nothing
/// announced in between is missed), then apply announcements until the connection ends.
async fn subscription(cache: &Weak<NearCache>, client: &redis::Client, redis: &crate::redis::RedisHandle) -> redis::RedisResult<()> {
    let connect = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub());
    let mut pubsub = connect.await.map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out connecting")))??;
    let published = redis.key("published");
    let revoked = redis.key("revoked");
    pubsub.subscribe(&[&published, &revoked]).await?;
    if !reread(cache, redis, &published).await {
        return Ok(());
    }
    if let Some(cache) = cache.upgrade() {
        cache.subscribed.store(true, Ordering::Release);
    }
    let mut messages = pubsub.on_message();
    let mut ticks = tokio::time::interval(REREAD_EVERY);
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else { return Ok(()) };
                let Some(cache) = cache.upgrade() else { return Ok(()) };
                let payload: String = message.get_payload().unwrap_or_default();
                if message.get_channel_name() == published {
                    match payload.parse() {
                        Ok(id) => cache.saw_publication(id),
                        Err(_) => warn!(payload, "ignoring a malformed publication announcement"),
                    }
                } else if let Ok(session) = payload.parse() {
                    cache.forget_session(session);
                }
            }
            _ = ticks.tick() => {
                if !reread(cache, redis, &published).await {
                    return Ok(());
                }
            }
        }
    }
}

/// Reads the announced publication; false once the cache is gone.
async fn reread(cache: &Weak<NearCache>, redis: &crate::redis::RedisHandle, published: &str) -> bool {
    let id = redis.run::<Option<i64>>(redis::cmd("GET").arg(published)).await;
    let Some(cache) = cache.upgrade() else { return false };
    if let Some(Some(id)) = id {
        cache.saw_publication(id);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u8) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{n}\"")).unwrap()
    }

    #[test]
    fn answers_belong_to_one_publication_and_fit_the_budget() {
        let cache = NearCache::new(30, Duration::from_secs(60));
        cache.keep(1, "a", Bytes::from_static(b"0123456789"), tag(1));
        cache.keep(1, "b", Bytes::from_static(b"0123456789"), tag(2));
        assert_eq!(cache.answer(1, "a").unwrap().etag, tag(1));
        assert!(cache.answer(2, "a").is_none(), "another publication's answer is not this one's");
        cache.keep(1, "c", Bytes::from_static(b"0123456789"), tag(3));
        assert!(cache.answer(1, "a").is_none(), "the oldest answer made room (33 bytes > 30)");
        assert!(cache.answer(1, "b").is_some() && cache.answer(1, "c").is_some());
        cache.keep(0, "d", Bytes::from_static(b"x"), tag(4));
        assert!(cache.answer(1, "b").is_some(), "an older publication's late answer evicts nothing");
        cache.keep(2, "d", Bytes::from_static(b"x"), tag(5));
        assert!(cache.answer(1, "b").is_none() && cache.answer(2, "d").is_some(), "a newer publication starts afresh");
        cache.keep(2, "big", Bytes::from(vec![0u8; 100]), tag(6));
        assert!(cache.answer(2, "big").is_none() && cache.answer(2, "d").is_some(), "an answer over budget is served, not kept");
    }

    #[test]
    fn nothing_but_answers_is_trusted_without_the_subscription() {
        let cache = NearCache::new(1024, Duration::from_secs(60));
        let session = Uuid::new_v4();
        cache.saw_publication(3);
        cache.saw_live_session(session);
        assert_eq!((cache.publication(), cache.session_live(session)), (None, false));
        cache.subscribed.store(true, Ordering::Release);
        cache.saw_publication(2);
        assert_eq!(cache.publication(), Some(3), "a late, older reading never goes back");
        cache.saw_live_session(session);
        assert!(cache.session_live(session));
        cache.forget_session(session);
        assert!(!cache.session_live(session), "a revocation is seen at once");
        cache.saw_live_session(session);
        cache.subscription_lost();
        assert_eq!((cache.publication(), cache.session_live(session)), (None, false));
    }
}
