//! The collection work queue: a Redis stream with a consumer group, so any number of workers
//! on any number of machines share the tasks; at-least-once (a task is acknowledged only once
//! its answers are in bronze), retried with a limit, dead-lettered after that, and reclaimed
//! from a worker that died holding it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use analisa_lake::Lake;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};

use tracing::{Instrument, info, info_span, warn};

use crate::collect::{Collector, Scope};
use crate::fetch::{Fetcher, RetryPolicy};
use crate::governor::Governor;
use crate::oauth::Connections;
use crate::platforms::{Platform, PlatformsConfig};
use crate::run::write_bronze;
use crate::target::Target;

/// One unit of collection work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub platform: Platform,
    pub account_id: String,
    /// 0 for the first delivery; re-enqueued failures count up.
    #[serde(default)]
    pub attempt: u32,
    /// What to collect: everything, or the daily profile snapshot of tracked accounts.
    #[serde(default)]
    pub scope: Scope,
}

/// Names and limits of the queue.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Key prefix: `<prefix>:tasks`, `<prefix>:dead`.
    pub prefix: String,
    pub group: String,
    /// Attempts before a task goes to the dead-letter stream.
    pub max_attempts: u32,
    /// A task delivered to a worker and not acknowledged for this long is taken over.
    pub reclaim_after: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self { prefix: "analisa:ingest".into(), group: "workers".into(), max_attempts: 3, reclaim_after: Duration::from_secs(300) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the work queue cannot reach Redis at {url}: {source}")]
    Connect { url: String, source: redis::RedisError },
    #[error("work queue: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("landing answers in bronze failed: {0}")]
    Landing(#[from] analisa_lake::LakeError),
}

/// A handle on the queue.
#[derive(Clone)]
pub struct Queue {
    redis: ConnectionManager,
    url: String,
    config: QueueConfig,
}

impl Queue {
    pub async fn connect(url: &str, config: QueueConfig) -> Result<Self, QueueError> {
        let redis = connect(url).await?;
        let queue = Self { redis, url: url.to_owned(), config };
        queue.ensure_group().await?;
        Ok(queue)
    }

    fn tasks_key(&self) -> String {
        format!("{}:tasks", self.config.prefix)
    }

    pub fn dead_key(&self) -> String {
        format!("{}:dead", self.config.prefix)
    }

    async fn ensure_group(&self) -> Result<(), QueueError> {
        let mut redis = self.redis.clone();
        let created: Result<(), redis::RedisError> = redis::cmd("XGROUP").arg("CREATE").arg(self.tasks_key()).arg(&self.config.group).arg("0").arg("MKSTREAM").query_async(&mut redis).await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    /// Adds tasks; returns how many.
    pub async fn enqueue(&self, tasks: &[Task]) -> Result<usize, QueueError> {
        let mut pipe = redis::pipe();
        for task in tasks {
            pipe.cmd("XADD").arg(self.tasks_key()).arg("*").arg("task").arg(serde_json::to_string(task).expect("tasks serialise")).ignore();
        }
        let mut redis = self.redis.clone();
        let _: () = pipe.query_async(&mut redis).await?;
        Ok(tasks.len())
    }

    /// Tasks waiting to be read, tasks delivered and not yet acknowledged, dead tasks.
    pub async fn depth(&self) -> Result<(u64, u64, u64), QueueError> {
        let mut redis = self.redis.clone();
        let groups: Vec<HashMap<String, redis::Value>> = redis::cmd("XINFO").arg("GROUPS").arg(self.tasks_key()).query_async(&mut redis).await?;
        let group = groups.iter().find(|g| g.get("name").and_then(|v| redis::from_redis_value_ref::<String>(v).ok()).as_deref() == Some(self.config.group.as_str()));
        let number = |key: &str| group.and_then(|g| g.get(key)).and_then(|v| redis::from_redis_value_ref::<u64>(v).ok()).unwrap_or(0);
        let dead: u64 = redis::cmd("XLEN").arg(self.dead_key()).query_async(&mut redis).await?;
        Ok((number("lag"), number("pending"), dead))
    }

    async fn ack(&self, id: &str) -> Result<(), QueueError> {
        let mut redis = self.redis.clone();
        let _: u64 = redis::cmd("XACK").arg(self.tasks_key()).arg(&self.config.group).arg(id).query_async(&mut redis).await?;
        Ok(())
    }

    /// A failed task is tried again (as a new entry) until its attempts run out, then kept in
    /// the dead-letter stream with the error.
    async fn fail(&self, id: &str, task: &Task, error: &str) -> Result<(), QueueError> {
        let next = Task { attempt: task.attempt + 1, ..task.clone() };
        if next.attempt >= self.config.max_attempts {
            return self.dead_letter(id, serde_json::to_string(task).expect("tasks serialise"), error).await;
        }
        self.replace(id, self.tasks_key(), vec![("task", serde_json::to_string(&next).expect("tasks serialise"))]).await
    }

    /// A task that cannot succeed: kept with its error in the dead-letter stream.
    async fn dead_letter(&self, id: &str, task: String, error: &str) -> Result<(), QueueError> {
        self.replace(id, self.dead_key(), vec![("task", task), ("error", error.to_owned())]).await
    }

    /// Adds an entry to `key` and acknowledges `id`, atomically.
    async fn replace(&self, id: &str, key: String, fields: Vec<(&str, String)>) -> Result<(), QueueError> {
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XADD").arg(key).arg("*").arg(&fields).ignore();
        pipe.cmd("XACK").arg(self.tasks_key()).arg(&self.config.group).arg(id).ignore();
        let _: () = pipe.query_async(&mut redis).await?;
        Ok(())
    }
}

/// Keeps claiming an in-flight task for its worker (XCLAIM with no minimum idle time resets
/// the idle clock) until aborted.
async fn heartbeat(queue: Queue, consumer: String, id: String) {
    let every = queue.config.reclaim_after / 3;
    loop {
        tokio::time::sleep(every).await;
        let mut redis = queue.redis.clone();
        let claimed: Result<redis::Value, _> = redis::cmd("XCLAIM").arg(queue.tasks_key()).arg(&queue.config.group).arg(&consumer).arg(0).arg(&id).arg("JUSTID").query_async(&mut redis).await;
        if let Err(error) = claimed {
            warn!(%error, task = %id, "cannot refresh the claim on a running task");
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The raw `task` field of an entry, for the dead-letter record.
fn raw_text(entry: &StreamId) -> String {
    entry.get::<String>("task").unwrap_or_default()
}

async fn connect(url: &str) -> Result<ConnectionManager, QueueError> {
    crate::redis_link::connect(url).await.map_err(|source| QueueError::Connect { url: url.to_owned(), source })
}

/// What a worker needs.
pub struct WorkerOptions {
    pub consumer: String,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub governor: Option<Governor>,
    /// Stop once the queue is empty and nothing is pending (for one-shot runs and tests).
    pub exit_when_idle: bool,
    /// Stored OAuth connections, whose tokens are used over the accounts file's.
    pub connections: Option<Arc<Connections>>,
}

/// Runs a worker until `stop` resolves (or, with `exit_when_idle`, until no work is left).
pub async fn work(queue: Queue, lake: Lake, platforms: PlatformsConfig, targets: Vec<Target>, options: WorkerOptions, stop: impl std::future::Future<Output = ()>) -> Result<u64, QueueError> {
    let targets: Arc<HashMap<(Platform, String), Target>> = Arc::new(targets.into_iter().map(|t| ((t.platform, t.account_id.clone()), t)).collect());
    let (sink, answers) = mpsc::channel(4_096);
    let writer = tokio::spawn(write_bronze(lake, format!("worker-{}", options.consumer), answers));
    let collector = Arc::new(Collector::new(Fetcher::new(options.retry, options.governor.clone()), platforms, sink, options.connections.clone()));
    // Reading blocks its connection, so it gets one of its own.
    let mut reader = connect(&queue.url).await?;
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut done = 0u64;
    let mut tasks: tokio::task::JoinSet<Result<u64, QueueError>> = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let free = slots.available_permits();
        let mut entries: Vec<StreamId> = Vec::new();
        if free > 0 {
            // Tasks abandoned by a dead worker first, then new ones.
            let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM").arg(queue.tasks_key()).arg(&queue.config.group).arg(&options.consumer).arg(queue.config.reclaim_after.as_millis() as u64).arg("0-0").arg("COUNT").arg(free).query_async(&mut reader).await?;
            if !claimed.claimed.is_empty() {
                info!(count = claimed.claimed.len(), "reclaimed tasks from a worker that stopped answering");
            }
            entries.extend(claimed.claimed);
            if entries.is_empty() {
                let mut command = redis::cmd("XREADGROUP");
                command.arg("GROUP").arg(&queue.config.group).arg(&options.consumer).arg("COUNT").arg(free).arg("BLOCK").arg(500).arg("STREAMS").arg(queue.tasks_key()).arg(">");
                let read = tokio::select! {
                    read = command.query_async::<Option<StreamReadReply>>(&mut reader) => read?,
                    _ = &mut stop => break,
                };
                entries.extend(read.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids));
            }
        }
        while let Some(finished) = tasks.try_join_next() {
            done += finished.expect("tasks do not panic")?;
        }
        if entries.is_empty() {
            // The read just came back empty; with nothing in flight here and nothing pending
            // anywhere (another worker may still re-enqueue a retry, and will then read it),
            // a one-shot worker is done.
            if options.exit_when_idle && tasks.is_empty() && queue.depth().await?.1 == 0 {
                break;
            }
            if free == 0 {
                tokio::select! {
                    finished = tasks.join_next() => if let Some(finished) = finished { done += finished.expect("tasks do not panic")?; },
                    _ = &mut stop => break,
                }
            }
            continue;
        }
        for entry in entries {
            let permit = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (queue, collector, targets) = (queue.clone(), collector.clone(), targets.clone());
            let span = info_span!("task", id = %entry.id);
            // While the task runs, its idle time is reset regularly, so that only a task whose
            // worker died is ever taken over by another.
            let heartbeat = tokio::spawn(heartbeat(queue.clone(), options.consumer.clone(), entry.id.clone()));
            tasks.spawn(
                async move {
                    let _permit = permit;
                    let _heartbeat = AbortOnDrop(heartbeat);
                    let raw: Option<String> = entry.get("task");
                    let Some(task) = raw.and_then(|r| serde_json::from_str::<Task>(&r).ok()) else {
                        queue.dead_letter(&entry.id, raw_text(&entry), "malformed task").await?;
                        return Ok(0);
                    };
                    let Some(target) = targets.get(&(task.platform, task.account_id.clone())) else {
                        queue.dead_letter(&entry.id, serde_json::to_string(&task).expect("tasks serialise"), "no such account or no token for it").await?;
                        return Ok(0);
                    };
                    // A task is acknowledged only once its answers are in bronze; a crash before
                    // that runs it again, and fingerprints keep the second landing empty.
                    let outcome = match collector.collect(target, task.scope).await {
                        Ok(_) => collector.flushed().await,
                        Err(error) => Err(error.to_string()),
                    };
                    match outcome {
                        Ok(()) => {
                            queue.ack(&entry.id).await?;
                            Ok(1)
                        }
                        Err(error) => {
                            warn!(account = %task.account_id, %error, attempt = task.attempt, "task failed");
                            queue.fail(&entry.id, &task, &error).await?;
                            Ok(0)
                        }
                    }
                }
                .instrument(span),
            );
        }
    }
    while let Some(finished) = tasks.join_next().await {
        done += finished.expect("tasks do not panic")?;
    }
    drop(collector);
    writer.await.expect("the bronze writer does not panic")?;
    info!(done, "worker stopped");
    Ok(done)
}
