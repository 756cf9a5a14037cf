//! An ingest run: collect a set of accounts with bounded concurrency while one writer lands
//! the answers in bronze.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use analisa_lake::{Lake, LakeError, TableId};
use arrow::array::AsArray;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, info_span, warn, Instrument};

use crate::collect::{COMMENTS_EXPANDED, Collector, Scope};
use crate::fetch::{Clock, Fetcher, RetryPolicy};
use crate::governor::Governor;
use crate::oauth::Connections;
use crate::platforms::PlatformsConfig;
use crate::raw::{RawAnswer, bronze_table, to_batch};
use crate::target::Target;

/// Answers buffered per platform before a bronze commit.
const FLUSH_ANSWERS: usize = 2_000;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_id: String,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// The shared budget keeper; without it only the platforms' own refusals slow a run.
    pub governor: Option<Governor>,
    pub scope: Scope,
    pub clock: Clock,
    /// Stored OAuth connections, whose tokens are used over the accounts file's.
    pub connections: Option<Arc<Connections>>,
    /// Comments asked for inside each Instagram media and Page post page; the rest of a post's
    /// comments come from its comment edge.
    pub comments_expanded: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { run_id: format!("ingest-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")), concurrency: 8, retry: RetryPolicy::default(), governor: None, scope: Scope::Full, clock: Clock::System, connections: None, comments_expanded: COMMENTS_EXPANDED }
    }
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub accounts: usize,
    /// Answers received, by platform.
    pub answers: BTreeMap<&'static str, u64>,
    /// Rows new to bronze (answers already there are not landed twice).
    pub landed: u64,
    /// Accounts that could not be collected completely, with why.
    pub failures: Vec<(String, String)>,
    /// Requests the platform refused for good (kept in bronze), by account.
    pub notes: Vec<(String, String)>,
    /// Metric names the platforms refused as retired; later requests left them out.
    pub retired_metrics: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("landing answers in bronze failed: {0}")]
    Landing(#[from] LakeError),
}

/// Collects `targets` and lands every answer in bronze. `progress` hears of each account done.
pub async fn run(lake: &Lake, platforms: &PlatformsConfig, targets: Vec<Target>, options: RunOptions, progress: impl Fn(usize) + Send + Sync) -> Result<RunSummary, IngestError> {
    let (sink, answers) = mpsc::channel::<ToBronze>(4_096);
    let mut collector = Collector::new(Fetcher::new(options.retry, options.governor.clone()).with_clock(options.clock), platforms.clone(), sink, options.connections.clone());
    collector.comments_expanded = options.comments_expanded;
    let collector = Arc::new(collector);
    let writer = tokio::spawn(write_bronze(lake.clone(), options.run_id.clone(), answers));
    let mut summary = RunSummary { run_id: options.run_id.clone(), accounts: targets.len(), ..RunSummary::default() };
    let mut done = 0;
    let mut results = futures::stream::iter(targets.into_iter().map(|target| {
        let collector = collector.clone();
        let span = info_span!("collect", platform = %target.platform, account = %target.account_id);
        async move {
            let result = collector.collect(&target, options.scope).await;
            (target, result)
        }
        .instrument(span)
    }))
    .buffer_unordered(options.concurrency.max(1));
    while let Some((target, result)) = results.next().await {
        match result {
            Ok(notes) => summary.notes.extend(notes.into_iter().map(|n| (target.account_id.clone(), n))),
            Err(error) => {
                warn!(account = %target.account_id, %error, "account not fully collected");
                summary.failures.push((target.account_id.clone(), error.to_string()));
            }
        }
        done += 1;
        progress(done);
    }
    drop(results);
    summary.retired_metrics = collector.retired_metrics();
    drop(collector); // closes the channel: the writer flushes and ends
    let (answers, landed) = writer.await.expect("the bronze writer does not panic")?;
    summary.answers = answers;
    summary.landed = landed;
    info!(run_id = %summary.run_id, accounts = summary.accounts, landed, failures = summary.failures.len(), "ingest run finished");
    Ok(summary)
}

/// What collectors send the bronze writer.
#[derive(Debug)]
pub enum ToBronze {
    Answer(RawAnswer),
    /// Land everything buffered now and say whether it worked (before a task is acknowledged).
    Flush(oneshot::Sender<Result<(), String>>),
}

/// The one writer: batches answers per platform and lands them, skipping fingerprints bronze
/// already holds.
pub(crate) async fn write_bronze(lake: Lake, run_id: String, mut inbox: mpsc::Receiver<ToBronze>) -> Result<(BTreeMap<&'static str, u64>, u64), LakeError> {
    let mut buffers: BTreeMap<&'static str, Vec<RawAnswer>> = BTreeMap::new();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut known = Known::default();
    let mut landed = 0;
    while let Some(message) = inbox.recv().await {
        match message {
            ToBronze::Answer(answer) => {
                let key = answer.platform.as_str();
                *counts.entry(key).or_default() += 1;
                let buffer = buffers.entry(key).or_default();
                buffer.push(answer);
                if buffer.len() >= FLUSH_ANSWERS {
                    landed += known.land(&lake, &run_id, std::mem::take(buffer)).await?;
                }
            }
            ToBronze::Flush(done) => {
                let mut result = Ok(());
                for buffer in buffers.values_mut().filter(|b| !b.is_empty()) {
                    match known.land(&lake, &run_id, std::mem::take(buffer)).await {
                        Ok(n) => landed += n,
                        Err(e) => {
                            result = Err(e.to_string());
                            break;
                        }
                    }
                }
                let _ = done.send(result);
            }
        }
    }
    for (_, buffer) in buffers {
        if !buffer.is_empty() {
            landed += known.land(&lake, &run_id, buffer).await?;
        }
    }
    Ok((counts, landed))
}

/// The bronze keys (fingerprint, day) the writer knows of: each table's keys of a day are read
/// once, when the writer first lands an answer of that day, and then kept as it lands more. A
/// batch is checked against them and appended, instead of a MERGE that read the table's keys
/// again for every 2,000 answers (the one writer was then the whole of a zero-latency run).
/// Another process landing the same page at the same moment can still land it twice; silver
/// keeps one row per natural key whatever bronze holds.
#[derive(Default)]
struct Known {
    keys: HashMap<(TableId, i32), HashSet<String>>,
}

impl Known {
    async fn land(&mut self, lake: &Lake, run_id: &str, answers: Vec<RawAnswer>) -> Result<u64, LakeError> {
        let table = bronze_table(answers[0].platform);
        let mut fresh = Vec::new();
        let mut prints = Vec::new();
        let mut days = Vec::new();
        let mut batch_keys = HashSet::new();
        for answer in answers {
            let day = answer.fetched_day();
            let print = answer.fingerprint();
            let known = self.day(lake, table, day).await?;
            if !known.contains(&print) && batch_keys.insert((print.clone(), day)) {
                fresh.push(answer);
                prints.push(print);
                days.push(day);
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let rows = lake.append(table, vec![to_batch(run_id, &fresh, prints.clone())]).await?.rows;
        // Known only once landed: a failed append is tried again (the task is not acknowledged).
        for (print, day) in prints.into_iter().zip(days) {
            self.keys.entry((table, day)).or_default().insert(print);
        }
        Ok(rows)
    }

    async fn day(&mut self, lake: &Lake, table: TableId, day: i32) -> Result<&HashSet<String>, LakeError> {
        if !self.keys.contains_key(&(table, day)) {
            let loaded = fingerprints_of_day(lake, table, day).await?;
            self.keys.insert((table, day), loaded);
        }
        Ok(&self.keys[&(table, day)])
    }
}

async fn fingerprints_of_day(lake: &Lake, table: TableId, day: i32) -> Result<HashSet<String>, LakeError> {
    let date = chrono::NaiveDate::default() + chrono::Duration::days(day as i64);
    let session = lake.session().await?;
    let batches = session.sql(&format!("SELECT CAST(request_fingerprint AS VARCHAR) FROM {table} WHERE fetched_date = DATE '{date}'")).await?;
    let mut out = HashSet::new();
    for batch in batches {
        let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        out.extend(column.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    Ok(out)
}
