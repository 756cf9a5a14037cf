//! The near cache: in-process copies of what every request would otherwise ask Redis for — the
//! newest publication, the sessions known to be live, and cached answers — so that a cached
//! answer costs no network round trip. Redis stays the shared record; its pub/sub channels
//! (`<prefix>:published`, `<prefix>:revoked`) keep every API instance's copies current.
//!
//! While the subscription is down, the newest publication and live sessions are not taken from
//! here (a missed announcement or revocation would go unseen). Answers are keyed by the
//! publication they were computed from, so they stay right whatever happens to Redis.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
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
/// The announced publication is read again (and the subscription's connection pinged) this
/// often, in case an announcement was lost or the connection died silently.
const REREAD_EVERY: Duration = Duration::from_secs(5);
/// The longest wait for Redis while subscribing, rereading or pinging.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// A subscription that lasted this long was healthy: the next reconnection starts quickly.
const HEALTHY_AFTER: Duration = Duration::from_secs(30);
/// Bookkeeping of one answer beyond its body and key (entry, order slot, tag, allocation).
const ENTRY_OVERHEAD: usize = 256;
const UNKNOWN: i64 = -1;

/// Answers this long or longer are also kept gzip-compressed.
const GZIP_FROM: usize = 1024;

/// One cached answer with its entity tag, computed once.
pub struct Answer {
    pub body: Bytes,
    /// The body gzip-compressed once, for the clients that accept it: compressing per request
    /// would cost more than the answer, and sending the plain bytes is a third of a cached
    /// answer's time on loopback (B5's profile).
    pub gzip: Option<Gzipped>,
    pub etag: HeaderValue,
    expires: Instant,
    /// Which insertion this is, so that the eviction order can hold stale slots cheaply.
    serial: u64,
}

/// An answer's gzip form, with the weak form of its entity tag: the same content in another
/// encoding (so `If-None-Match` matches either).
pub struct Gzipped {
    pub body: Bytes,
    pub etag: HeaderValue,
}

pub struct NearCache {
    subscribed: AtomicBool,
    publication: AtomicI64,
    sessions: Mutex<HashMap<Uuid, Instant>>,
    /// Counts revocations heard (and subscriptions lost): a session check that began before
    /// one must not remember the session as live.
    revocations: AtomicU64,
    answers: Mutex<Answers>,
    capacity: usize,
    ttl: Duration,
}

/// Answers of one publication; the oldest go first when the memory budget is full.
#[derive(Default)]
struct Answers {
    publication: i64,
    by_key: HashMap<String, Arc<Answer>>,
    /// Keys in insertion order with the serial of that insertion; a slot whose serial is no
    /// longer the key's was replaced, and is skipped.
    order: VecDeque<(String, u64)>,
    bytes: usize,
    serial: u64,
}

fn footprint(key: &str, answer: &Answer) -> usize {
    answer.body.len() + answer.gzip.as_ref().map_or(0, |g| g.body.len()) + 2 * key.len() + ENTRY_OVERHEAD
}

fn gzipped(body: &[u8], etag: &HeaderValue) -> Gzipped {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::default());
    encoder.write_all(body).expect("writing to memory");
    let mut weak = b"W/".to_vec();
    weak.extend_from_slice(etag.as_bytes());
    Gzipped { body: encoder.finish().expect("writing to memory").into(), etag: HeaderValue::from_bytes(&weak).expect("an entity tag stays a header value") }
}

impl NearCache {
    /// `capacity` bytes of answer bodies at most (0 keeps none); each lives `ttl` at most.
    pub fn new(capacity: u64, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            subscribed: AtomicBool::new(false),
            publication: AtomicI64::new(UNKNOWN),
            sessions: Mutex::default(),
            revocations: AtomicU64::new(0),
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

    /// Where the revocations stand; taken before a session check, handed to `saw_live_session`.
    pub fn revocation_mark(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    /// Remembers a session found live by a check that began at `mark`, unless a revocation
    /// was heard since (it may be this session's, read as live just before).
    pub fn saw_live_session(&self, session: Uuid, mark: u64) {
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
        if self.revocations.load(Ordering::Acquire) == mark {
            sessions.insert(session, now + SESSION_BELIEVED_FOR);
        }
    }

    pub fn forget_session(&self, session: Uuid) {
        let mut sessions = self.sessions.lock().expect("near cache lock");
        self.revocations.fetch_add(1, Ordering::AcqRel);
        sessions.remove(&session);
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
        let mut answer = Answer { body, gzip: None, etag, expires: Instant::now() + self.ttl, serial: 0 };
        if footprint(key, &answer) > self.capacity {
            return Arc::new(answer);
        }
        if answer.body.len() >= GZIP_FROM {
            answer.gzip = Some(gzipped(&answer.body, &answer.etag));
        }
        let size = footprint(key, &answer);
        let mut answers = self.answers.lock().expect("near cache lock");
        // Dropped after the lock is released: freeing a publication's answers takes a while.
        let mut outdated = None;
        if answers.publication != publication {
            if answers.publication > publication {
                // An answer of an older publication, computed while a newer one arrived.
                return Arc::new(answer);
            }
            outdated = Some(std::mem::replace(&mut *answers, Answers { publication, ..Answers::default() }));
        }
        answers.serial += 1;
        answer.serial = answers.serial;
        let answer = Arc::new(answer);
        if let Some(previous) = answers.by_key.insert(key.to_owned(), answer.clone()) {
            answers.bytes -= footprint(key, &previous);
        }
        answers.order.push_back((key.to_owned(), answer.serial));
        answers.bytes += size;
        while answers.bytes > self.capacity {
            let Some((oldest, serial)) = answers.order.pop_front() else { break };
            if answers.by_key.get(&oldest).is_some_and(|a| a.serial == serial) {
                let gone = answers.by_key.remove(&oldest).expect("just found");
                answers.bytes -= footprint(&oldest, &gone);
            }
        }
        drop(answers);
        drop(outdated);
        answer
    }

    fn subscription_lost(&self) {
        self.subscribed.store(false, Ordering::Release);
        let mut sessions = self.sessions.lock().expect("near cache lock");
        self.revocations.fetch_add(1, Ordering::AcqRel);
        sessions.clear();
    }

    /// Follows the announcements on Redis until the cache is dropped, reconnecting as needed.
    pub fn follow(self: &Arc<Self>, redis: crate::redis::RedisHandle) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let Some(client) = redis.client() else { return };
        let cache = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut pause = Duration::from_millis(100);
            while cache.strong_count() > 0 {
                let began = Instant::now();
                if let Err(error) = subscription(&cache, &client, &redis).await {
                    debug!(%error, "announcement subscription ended");
                }
                if let Some(cache) = cache.upgrade() {
                    cache.subscription_lost();
                }
                if began.elapsed() > HEALTHY_AFTER {
                    pause = Duration::from_millis(100);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        });
    }
}

async fn within<T>(call: impl std::future::Future<Output = redis::RedisResult<T>>) -> redis::RedisResult<T> {
    tokio::time::timeout(REDIS_TIMEOUT, call).await.map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))?
}

/// One subscription's life: subscribe, then read the newest publication (so that nothing
/// announced in between is missed), then apply announcements until the connection ends or
/// the cache is dropped (`Ok`).
async fn subscription(cache: &Weak<NearCache>, client: &redis::Client, redis: &crate::redis::RedisHandle) -> redis::RedisResult<()> {
    let (mut sink, mut messages) = within(client.get_async_pubsub()).await?.split();
    let published = redis.key("published");
    let revoked = redis.key("revoked");
    within(sink.subscribe(&[&published, &revoked])).await?;
    reread(cache, redis, &published).await?;
    match cache.upgrade() {
        Some(cache) => cache.subscribed.store(true, Ordering::Release),
        None => return Ok(()),
    }
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + REREAD_EVERY, REREAD_EVERY);
    loop {
        tokio::select! {
            message = messages.next() => {
                let message = message.ok_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "connection closed")))?;
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
                if cache.strong_count() == 0 {
                    return Ok(());
                }
                within(sink.ping::<redis::Value>()).await?;
                reread(cache, redis, &published).await?;
            }
        }
    }
}

/// Reads the announced publication (absent before the first publication: nothing to learn).
async fn reread(cache: &Weak<NearCache>, redis: &crate::redis::RedisHandle, published: &str) -> redis::RedisResult<()> {
    let id = redis.run::<Option<i64>>(redis::cmd("GET").arg(published)).await.ok_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "no answer to GET")))?;
    if let (Some(id), Some(cache)) = (id, cache.upgrade()) {
        cache.saw_publication(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(n: u8) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{n}\"")).unwrap()
    }

    #[test]
    fn answers_belong_to_one_publication_and_fit_the_budget() {
        // Room for two answers of 10 bytes with one-letter keys, not three.
        let cache = NearCache::new(2 * (10 + 2 + ENTRY_OVERHEAD as u64) + 5, Duration::from_secs(60));
        cache.keep(1, "a", Bytes::from_static(b"0123456789"), tag(1));
        cache.keep(1, "b", Bytes::from_static(b"0123456789"), tag(2));
        assert_eq!(cache.answer(1, "a").unwrap().etag, tag(1));
        assert!(cache.answer(2, "a").is_none(), "another publication's answer is not this one's");
        cache.keep(1, "c", Bytes::from_static(b"0123456789"), tag(3));
        assert!(cache.answer(1, "a").is_none(), "the oldest answer made room");
        assert!(cache.answer(1, "b").is_some() && cache.answer(1, "c").is_some());
        cache.keep(0, "d", Bytes::from_static(b"x"), tag(4));
        assert!(cache.answer(1, "b").is_some(), "an older publication's late answer evicts nothing");
        cache.keep(2, "d", Bytes::from_static(b"x"), tag(5));
        assert!(cache.answer(1, "b").is_none() && cache.answer(2, "d").is_some(), "a newer publication starts afresh");
        cache.keep(2, "d", Bytes::from_static(b"y"), tag(6));
        assert_eq!(cache.answer(2, "d").unwrap().etag, tag(6), "a recomputed answer replaces the old one");
        cache.keep(2, "e", Bytes::from_static(b"z"), tag(7));
        cache.keep(2, "big", Bytes::from(vec![0u8; 1000]), tag(8));
        assert!(cache.answer(2, "big").is_none() && cache.answer(2, "d").is_some(), "an answer over budget is served, not kept");
        cache.keep(2, "f", Bytes::from_static(b"w"), tag(9));
        assert!(cache.answer(2, "d").is_none(), "the oldest goes (its replaced slot is skipped, its newest one counts)");
        assert!(cache.answer(2, "e").is_some() && cache.answer(2, "f").is_some());
    }

    #[test]
    fn long_answers_are_kept_gzipped_too() {
        use std::io::Read;
        let cache = NearCache::new(1 << 20, Duration::from_secs(60));
        let body: Bytes = serde_json::to_vec(&vec!["an influencer's profile"; 100]).unwrap().into();
        cache.keep(1, "long", body.clone(), tag(1));
        let kept = cache.answer(1, "long").unwrap();
        let gzip = kept.gzip.as_ref().expect("a long answer has a gzip form");
        assert!(gzip.body.len() < body.len() / 4, "{} bytes gzipped from {}", gzip.body.len(), body.len());
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, body);
        assert_eq!(gzip.etag, "W/\"1\"");
        cache.keep(1, "short", Bytes::from_static(b"{}"), tag(2));
        assert!(cache.answer(1, "short").unwrap().gzip.is_none(), "a short answer is not worth compressing");
    }

    #[test]
    fn nothing_but_answers_is_trusted_without_the_subscription() {
        let cache = NearCache::new(1024, Duration::from_secs(60));
        let session = Uuid::new_v4();
        cache.saw_publication(3);
        cache.saw_live_session(session, cache.revocation_mark());
        assert_eq!((cache.publication(), cache.session_live(session)), (None, false));
        cache.subscribed.store(true, Ordering::Release);
        cache.saw_publication(2);
        assert_eq!(cache.publication(), Some(3), "a late, older reading never goes back");
        cache.saw_live_session(session, cache.revocation_mark());
        assert!(cache.session_live(session));
        let mark = cache.revocation_mark();
        cache.forget_session(session);
        assert!(!cache.session_live(session), "a revocation is seen at once");
        cache.saw_live_session(session, mark);
        assert!(!cache.session_live(session), "a check begun before the revocation is not believed");
        cache.saw_live_session(session, cache.revocation_mark());
        cache.subscription_lost();
        assert_eq!((cache.publication(), cache.session_live(session)), (None, false));
    }
}
