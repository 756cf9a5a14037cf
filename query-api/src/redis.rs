//! Redis as an accelerator, never a dependency: every use has a short timeout, and after a
//! failure Redis is skipped for a while (answers then come from PostgreSQL), so that a dead
//! Redis costs one slow request every few seconds, not one per request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tracing::warn;

const TIMEOUT: Duration = Duration::from_millis(300);
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct RedisHandle {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<redis::Client>,
    manager: RwLock<Option<ConnectionManager>>,
    /// One request connects at a time; the others go without Redis meanwhile instead of
    /// queueing behind a connection that may never come.
    connecting: AtomicBool,
    /// Unix milliseconds before which Redis is not tried again.
    skip_until: AtomicU64,
    prefix: String,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl RedisHandle {
    /// `url` is not connected to yet: the first use connects.
    pub fn new(url: &str, prefix: impl Into<String>) -> Self {
        let client = redis::Client::open(url).map_err(|error| warn!(%error, "invalid Redis URL; running without Redis")).ok();
        Self { inner: Arc::new(Inner { client, manager: RwLock::new(None), connecting: AtomicBool::new(false), skip_until: AtomicU64::new(0), prefix: prefix.into() }) }
    }

    /// The client, for connections of their own (pub/sub); none when the URL was invalid.
    pub fn client(&self) -> Option<redis::Client> {
        self.inner.client.clone()
    }

    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.inner.prefix)
    }

    pub fn is_paused(&self) -> bool {
        now_ms() < self.inner.skip_until.load(Ordering::Relaxed)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        if self.is_paused() {
            return None;
        }
        if let Some(manager) = self.inner.manager.read().expect("redis handle lock").clone() {
            return Some(manager);
        }
        let client = self.inner.client.clone()?;
        if self.inner.connecting.swap(true, Ordering::AcqRel) {
            return None;
        }
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(TIMEOUT)).set_connection_timeout(Some(TIMEOUT)).set_number_of_retries(1);
        let connected = tokio::time::timeout(TIMEOUT * 2, ConnectionManager::new_with_config(client, config)).await;
        self.inner.connecting.store(false, Ordering::Release);
        match connected {
            Ok(Ok(manager)) => {
                *self.inner.manager.write().expect("redis handle lock") = Some(manager.clone());
                Some(manager)
            }
            Ok(Err(error)) => self.failed(&error.to_string()),
            Err(_) => self.failed("connection timed out"),
        }
    }

    fn failed<T>(&self, error: &str) -> Option<T> {
        warn!(error, "Redis unavailable; answering without it for a few seconds");
        self.inner.skip_until.store(now_ms() + PAUSE_AFTER_FAILURE.as_millis() as u64, Ordering::Relaxed);
        None
    }

    /// Runs a command; `None` when Redis is down or slow (the caller goes without it).
    pub async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Option<T> {
        let mut connection = self.connection().await?;
        self.within_timeout(command.query_async::<T>(&mut connection)).await
    }

    async fn within_timeout<T>(&self, call: impl std::future::Future<Output = redis::RedisResult<T>>) -> Option<T> {
        match tokio::time::timeout(TIMEOUT, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => self.failed(&error.to_string()),
            Err(_) => self.failed("timed out"),
        }
    }

    pub async fn invoke<T: redis::FromRedisValue>(&self, script: &redis::Script, keys: &[String], args: &[i64]) -> Option<T> {
        let mut connection = self.connection().await?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        self.within_timeout(invocation.invoke_async::<T>(&mut connection)).await
    }

    pub async fn ping(&self) -> bool {
        self.run::<String>(&redis::cmd("PING")).await.is_some()
    }
}
