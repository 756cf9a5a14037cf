//! Report definitions and runs in PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::deliver::Delivery;
use super::spec::ReportSpec;
use super::{Manifest, RunIdentity};
use crate::error::{JobsError, Result};

/// A definition as stored, its spec parsed.
#[derive(Debug, Clone)]
pub struct ReportDefinition {
    pub report_id: Uuid,
    pub org_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub name: String,
    pub version: i32,
    pub spec: ReportSpec,
    pub schedule: Option<String>,
    pub time_zone: String,
    pub delivery: Delivery,
}

impl ReportDefinition {
    pub fn identity(&self, run_id: Uuid) -> RunIdentity {
        RunIdentity { org_id: self.org_id, report_id: self.report_id, run_id, report_name: self.name.clone(), definition_version: self.version }
    }
}

pub async fn definition(db: &PgPool, report_id: Uuid) -> Result<ReportDefinition> {
    type Row = (Uuid, Option<Uuid>, String, i32, serde_json::Value, Option<String>, String, serde_json::Value);
    let (org_id, owner_id, name, version, spec, schedule, time_zone, delivery): Row =
        sqlx::query_as("SELECT org_id, owner_id, name, version, spec, schedule, time_zone, delivery FROM report_definitions WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(db)
            .await?
            .ok_or_else(|| JobsError::InvalidReport(format!("no report {report_id}")))?;
    Ok(ReportDefinition { report_id, org_id, owner_id, name, version, spec: ReportSpec::parse(&spec)?, schedule, time_zone, delivery: Delivery::parse(&delivery)? })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTrigger {
    Schedule,
    Manual,
    Rerun,
}

impl RunTrigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Manual => "manual",
            Self::Rerun => "rerun",
        }
    }
}

/// Records a run as started. For a scheduled run, `due_at` makes the row unique: `false`
/// means another scheduler already started that occurrence.
pub(super) async fn record_start(db: &PgPool, run: &RunIdentity, trigger: RunTrigger, due_at: Option<DateTime<Utc>>, rerun_of: Option<Uuid>, requested_by: Option<Uuid>) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO report_runs (run_id, report_id, org_id, definition_version, trigger, due_at, rerun_of, requested_by, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running') ON CONFLICT (report_id, due_at) DO NOTHING",
    )
    .bind(run.run_id)
    .bind(run.report_id)
    .bind(run.org_id)
    .bind(run.definition_version)
    .bind(trigger.as_str())
    .bind(due_at)
    .bind(rerun_of)
    .bind(requested_by)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(super) async fn record_success(db: &PgPool, manifest: &Manifest, attempts: i32) -> Result<()> {
    let json = serde_json::to_value(manifest).map_err(|e| JobsError::Export(e.to_string()))?;
    sqlx::query("UPDATE report_runs SET status = 'succeeded', attempts = $2, manifest = $3, error = NULL, finished_at = now() WHERE run_id = $1")
        .bind(manifest.run.run_id)
        .bind(attempts)
        .bind(json)
        .execute(db)
        .await?;
    Ok(())
}

pub(super) async fn record_failure(db: &PgPool, run_id: Uuid, error: &str, attempts: i32) -> Result<()> {
    sqlx::query("UPDATE report_runs SET status = 'failed', attempts = $2, error = $3, finished_at = now() WHERE run_id = $1")
        .bind(run_id)
        .bind(attempts)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}
