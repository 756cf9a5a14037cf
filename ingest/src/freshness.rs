//! Per-account freshness: the accounts organisations track are collected daily, and the
//! accounts of running campaigns hourly (their posts' counters move fast while a campaign is
//! on). A schedule's occurrence is enqueued by exactly one of any number of schedulers: each
//! takes a claim row in PostgreSQL first (the table the pipeline's scheduler uses).

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use tracing::{info, warn};

use crate::collect::Scope;
use crate::platforms::Platform;
use crate::queue::{Queue, QueueError, Task};

/// `[ingest.freshness]`: when each kind of account is due. Six-field cron expressions with
/// seconds, read in `timezone` (IANA, default UTC).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FreshnessConfig {
    /// Accounts in any tracked list or campaign of any organisation (default daily at 04:00).
    pub tracked: String,
    /// Accounts of the campaigns running that day (default every hour on the hour).
    pub campaigns: String,
    pub timezone: Option<String>,
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        Self { tracked: "0 0 4 * * *".into(), campaigns: "0 0 * * * *".into(), timezone: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FreshnessError {
    #[error("ingest.freshness: {0}")]
    Config(String),
    #[error("freshness schedule: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Which accounts an occurrence enqueues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Tracked,
    Campaigns,
}

impl Cadence {
    /// The claim's schedule name.
    fn name(self) -> &'static str {
        match self {
            Cadence::Tracked => "ingest:tracked",
            Cadence::Campaigns => "ingest:campaigns",
        }
    }

    fn accounts_sql(self) -> &'static str {
        match self {
            // Connected accounts too: an organisation connects one for its insights, which
            // nobody collects unless the account is scheduled.
            Cadence::Tracked => {
                "SELECT platform, account_id FROM tracked_list_members
                 UNION SELECT platform, account_id FROM campaign_members
                 UNION SELECT platform, account_id FROM platform_connections WHERE status = 'active'
                 ORDER BY 1, 2"
            }
            // A campaign runs from its first to its last day, in UTC dates.
            Cadence::Campaigns => {
                "SELECT DISTINCT m.platform, m.account_id FROM campaign_members m JOIN campaigns c USING (campaign_id)
                 WHERE ($1 AT TIME ZONE 'UTC')::date BETWEEN c.starts_on AND c.ends_on
                 ORDER BY 1, 2"
            }
        }
    }
}

/// The parsed schedules.
#[derive(Debug, Clone)]
pub struct Freshness {
    schedules: Vec<(Cadence, cron::Schedule)>,
    timezone: chrono_tz::Tz,
}

impl Freshness {
    pub fn parse(config: &FreshnessConfig) -> Result<Self, FreshnessError> {
        let cron = |what: &str, text: &str| text.parse::<cron::Schedule>().map_err(|e| FreshnessError::Config(format!("{what} = `{text}`: {e}")));
        let timezone = match &config.timezone {
            Some(name) => name.parse().map_err(|_| FreshnessError::Config(format!("unknown time zone `{name}`")))?,
            None => chrono_tz::Tz::UTC,
        };
        Ok(Self { schedules: vec![(Cadence::Tracked, cron("tracked", &config.tracked)?), (Cadence::Campaigns, cron("campaigns", &config.campaigns)?)], timezone })
    }

    /// Each schedule's next occurrence after `after`.
    fn next_of(&self, index: usize, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedules[index].1.after(&after.with_timezone(&self.timezone)).next().map(|t| t.with_timezone(&Utc))
    }

    /// Occurrences in (after, until], in order (two schedules due at once both come).
    pub fn due_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(Cadence, DateTime<Utc>)> {
        let mut due: Vec<(Cadence, DateTime<Utc>)> = (0..self.schedules.len())
            .flat_map(|i| {
                std::iter::successors(self.next_of(i, after), move |t| self.next_of(i, *t)).take_while(move |t| *t <= until).map(move |t| (self.schedules[i].0, t))
            })
            .collect();
        due.sort_by_key(|(_, t)| *t);
        due
    }
}

/// Enqueues the accounts of one occurrence, unless another scheduler claimed it: the number of
/// tasks enqueued, or `None` when the occurrence was taken elsewhere.
pub async fn enqueue_due(pool: &PgPool, queue: &Queue, cadence: Cadence, due_at: DateTime<Utc>, scheduler: &str) -> Result<Option<usize>, FreshnessError> {
    let run_id = format!("{}-{}", cadence.name(), due_at.format("%Y%m%dT%H%M%SZ"));
    let claimed = sqlx::query("INSERT INTO job_schedule_claims (schedule, due_at, claimed_by, run_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(cadence.name())
        .bind(due_at)
        .bind(scheduler)
        .bind(&run_id)
        .execute(pool)
        .await?
        .rows_affected()
        == 1;
    if !claimed {
        return Ok(None);
    }
    let rows: Vec<(String, String)> = sqlx::query_as(cadence.accounts_sql()).bind(due_at).fetch_all(pool).await?;
    let tasks: Vec<Task> = rows
        .into_iter()
        .filter_map(|(platform, account_id)| match platform.parse::<Platform>() {
            Ok(platform) => Some(Task { platform, account_id, attempt: 0, scope: Scope::Full }),
            Err(_) => {
                warn!(%platform, %account_id, "tracked account of an unknown platform skipped");
                None
            }
        })
        .collect();
    queue.enqueue(&tasks).await?;
    info!(schedule = cadence.name(), %due_at, tasks = tasks.len(), "accounts enqueued for freshness");
    Ok(Some(tasks.len()))
}

/// Enqueues every occurrence as it comes, until `stop` resolves.
pub async fn run_schedules(pool: PgPool, queue: Queue, freshness: Freshness, scheduler: String, stop: impl Future<Output = ()>) -> Result<(), FreshnessError> {
    tokio::pin!(stop);
    let mut next: Vec<Option<DateTime<Utc>>> = (0..freshness.schedules.len()).map(|i| freshness.next_of(i, Utc::now())).collect();
    while let Some((index, due_at)) = next.iter().enumerate().filter_map(|(i, t)| t.map(|t| (i, t))).min_by_key(|(_, t)| *t) {
        let wait = (due_at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut stop => return Ok(()),
        }
        let cadence = freshness.schedules[index].0;
        match enqueue_due(&pool, &queue, cadence, due_at, &scheduler).await {
            Ok(Some(_)) => {}
            Ok(None) => info!(schedule = cadence.name(), %due_at, "occurrence taken by another scheduler"),
            // One failed occurrence (PostgreSQL or Redis away) is not the end of scheduling.
            Err(error) => warn!(schedule = cadence.name(), %due_at, %error, "occurrence not enqueued"),
        }
        next[index] = freshness.next_of(index, due_at);
    }
    Ok(())
}
