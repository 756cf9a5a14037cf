//! The run ledger in PostgreSQL (`job_runs`) and the advisory lock that keeps two schedulers
//! from running one step at once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgPool;
use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::Postgres;

use crate::error::Result;

/// A finished step as the ledger recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub run_id: String,
    pub step: String,
    pub status: String,
    pub full_run: bool,
    pub as_of_date: Option<NaiveDate>,
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub rows_in: Option<i64>,
    pub rows_out: Option<i64>,
    pub input_versions: BTreeMap<String, u64>,
    pub output_version: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    pool: PgPool,
}

/// Held while a step runs; dropping it (or the process dying) releases the lock, because an
/// advisory lock belongs to its session.
pub struct StepLock {
    connection: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl StepLock {
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut connection) = self.connection.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)").bind(self.key).execute(&mut *connection).await?;
        }
        Ok(())
    }
}

impl Drop for StepLock {
    fn drop(&mut self) {
        // Not released explicitly (a panic or an early return): close the session instead of
        // handing a connection that still holds the lock back to the pool.
        if let Some(connection) = self.connection.take() {
            drop(connection.detach());
        }
    }
}

/// The lock key of a step: stable across processes and releases.
fn lock_key(step: &str) -> i64 {
    crate::formulas::fnv1a(format!("analisa.jobs.{step}").as_bytes()) as i64
}

impl Ledger {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The database the ledger (and the serving tables) live in.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Takes the step's lock, waiting up to `wait` for whoever holds it; None when it stayed
    /// taken that long.
    pub async fn lock(&self, step: &str, wait: std::time::Duration) -> Result<Option<StepLock>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(lock) = self.try_lock(step).await? {
                return Ok(Some(lock));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Takes the step's lock if nobody holds it; None when another scheduler runs the step.
    pub async fn try_lock(&self, step: &str) -> Result<Option<StepLock>> {
        let mut connection = self.pool.acquire().await?;
        let key = lock_key(step);
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *connection).await?;
        Ok(locked.then_some(StepLock { connection: Some(connection), key }))
    }

    /// Records the start of a step (a retry of the same run and step counts up `attempt`).
    pub async fn start(&self, run_id: &str, step: &str, full_run: bool, as_of_date: Option<NaiveDate>) -> Result<i32> {
        let attempt: i32 = sqlx::query_scalar(
            "INSERT INTO job_runs (run_id, step, status, full_run, as_of_date) VALUES ($1, $2, 'running', $3, $4)
             ON CONFLICT (run_id, step) DO UPDATE SET status = 'running', attempt = job_runs.attempt + 1,
                 started_at = now(), finished_at = NULL, error = NULL, full_run = EXCLUDED.full_run, as_of_date = EXCLUDED.as_of_date
             RETURNING attempt",
        )
        .bind(run_id)
        .bind(step)
        .bind(full_run)
        .bind(as_of_date)
        .fetch_one(&self.pool)
        .await?;
        Ok(attempt)
    }

    pub async fn succeed(&self, run_id: &str, step: &str, outcome: &Finished) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET status = $3, finished_at = now(), rows_in = $4, rows_out = $5, input_versions = $6, output_version = $7
             WHERE run_id = $1 AND step = $2",
        )
        .bind(run_id)
        .bind(step)
        .bind(if outcome.unchanged { "unchanged" } else { "succeeded" })
        .bind(outcome.rows_in as i64)
        .bind(outcome.rows_out as i64)
        .bind(serde_json::to_value(&outcome.input_versions).expect("versions serialise"))
        .bind(outcome.output_version.map(|v| v as i64))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn fail(&self, run_id: &str, step: &str, error: &str) -> Result<()> {
        sqlx::query("UPDATE job_runs SET status = 'failed', finished_at = now(), error = $3 WHERE run_id = $1 AND step = $2")
            .bind(run_id)
            .bind(step)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest successful (or unchanged) run of a step.
    pub async fn last_success(&self, step: &str) -> Result<Option<LedgerEntry>> {
        let row = sqlx::query(&format!("{SELECT} WHERE step = $1 AND status IN ('succeeded', 'unchanged') ORDER BY finished_at DESC LIMIT 1"))
            .bind(step)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| entry(&r)).transpose()
    }

    /// The newest entries, newest first.
    pub async fn recent(&self, limit: i64) -> Result<Vec<LedgerEntry>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY started_at DESC, step LIMIT $1")).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry).collect()
    }
}

/// What a finished step reports to the ledger.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    pub rows_in: u64,
    pub rows_out: u64,
    pub input_versions: BTreeMap<String, u64>,
    pub output_version: Option<u64>,
    /// Nothing new to read: the step wrote nothing.
    pub unchanged: bool,
}

const SELECT: &str = "SELECT run_id, step, status, full_run, as_of_date, attempt, started_at, finished_at, rows_in, rows_out, input_versions, output_version, error FROM job_runs";

fn entry(row: &sqlx::postgres::PgRow) -> Result<LedgerEntry> {
    let versions: serde_json::Value = row.try_get("input_versions")?;
    Ok(LedgerEntry {
        run_id: row.try_get("run_id")?,
        step: row.try_get("step")?,
        status: row.try_get("status")?,
        full_run: row.try_get("full_run")?,
        as_of_date: row.try_get("as_of_date")?,
        attempt: row.try_get("attempt")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        rows_in: row.try_get("rows_in")?,
        rows_out: row.try_get("rows_out")?,
        input_versions: serde_json::from_value(versions).unwrap_or_default(),
        output_version: row.try_get("output_version")?,
        error: row.try_get("error")?,
    })
}
