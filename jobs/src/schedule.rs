//! The scheduler: cron expressions from the configuration, each occurrence run by exactly one
//! of any number of schedulers (a claim row in PostgreSQL), each step under its lock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use tracing::{info, warn};

use uuid::Uuid;

use crate::error::{JobsError, Result};
use crate::reports::{self, Exporter, RunTrigger};
use crate::ledger::Ledger;
use crate::pipeline::{Pipeline, RunOptions, StepReport};
use crate::steps::{Selection, select};

/// One `[[pipeline.schedules]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub name: String,
    /// Six fields with seconds: `sec min hour day-of-month month day-of-week`, e.g.
    /// `0 30 3 * * *` for 03:30 every day.
    pub cron: String,
    /// IANA time zone the expression is read in (default UTC), e.g. America/Sao_Paulo.
    #[serde(default)]
    pub timezone: Option<String>,
    /// What to run: all, silver, gold, publish or one step.
    #[serde(default = "all")]
    pub step: String,
}

fn all() -> String {
    "all".into()
}

/// A cron expression read in a time zone (pipeline schedules and report definitions).
#[derive(Debug, Clone)]
struct When {
    cron: cron::Schedule,
    timezone: Tz,
}

impl When {
    fn parse(cron: &str, timezone: Option<&str>) -> std::result::Result<Self, String> {
        let cron: cron::Schedule = cron.parse().map_err(|e| format!("cron expression `{cron}`: {e}"))?;
        let timezone: Tz = match timezone {
            Some(name) => name.parse().map_err(|_| format!("unknown time zone `{name}`"))?,
            None => Tz::UTC,
        };
        Ok(Self { cron, timezone })
    }

    /// Occurrences in (after, until], in order.
    fn due_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.cron
            .after(&after.with_timezone(&self.timezone))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until)
            .collect()
    }

    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.after(&after.with_timezone(&self.timezone)).next().map(|t| t.with_timezone(&Utc))
    }
}

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    when: When,
    selection: Selection,
}

impl Schedule {
    pub fn parse(config: &ScheduleConfig) -> Result<Self> {
        let when = When::parse(&config.cron, config.timezone.as_deref()).map_err(|what| JobsError::Config(format!("schedule {}: {what}", config.name)))?;
        Ok(Self { name: config.name.clone(), when, selection: select(&config.step)? })
    }

    /// Occurrences in (after, until], in order.
    pub fn due_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.when.due_between(after, until)
    }

    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.when.next_after(after)
    }
}

/// What became of one scheduled occurrence of a report definition.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportOutcome {
    /// This scheduler made the run.
    Ran(Uuid),
    /// The run failed (retried first); the reason is on the run.
    Failed(String),
    /// Another scheduler had started this occurrence.
    TakenElsewhere,
}

#[derive(Debug, Clone)]
pub struct ReportOccurrence {
    pub report_id: Uuid,
    pub due_at: DateTime<Utc>,
    pub outcome: ReportOutcome,
}

/// How long a scheduler sleeps at most: report definitions appear in PostgreSQL at any time.
const REPORT_POLL: Duration = Duration::from_secs(60);

/// What one occurrence did.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub schedule: String,
    pub due_at: DateTime<Utc>,
    /// None when another scheduler had claimed it.
    pub reports: Option<Vec<StepReport>>,
}

pub struct Scheduler {
    pipeline: Pipeline,
    exporter: Exporter,
    ledger: Ledger,
    schedules: Vec<Schedule>,
    /// This scheduler's name in the claims (host and process by default).
    pub identity: String,
    pub attempts: u32,
}

impl Scheduler {
    pub fn new(pipeline: Pipeline, ledger: Ledger, schedules: Vec<Schedule>) -> Self {
        let identity = format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "scheduler".into()), std::process::id());
        let exporter = Exporter::new(pipeline.lake().clone());
        Self { pipeline, exporter, ledger, schedules, identity, attempts: 3 }
    }

    /// The SMTP server for scheduled reports that deliver by e-mail.
    pub fn with_smtp(mut self, smtp: Option<reports::SmtpConfig>) -> Self {
        self.exporter = self.exporter.with_smtp(smtp);
        self
    }

    /// Runs every occurrence due in (after, until] that no other scheduler has claimed. An
    /// occurrence is never run before its time, and only once across schedulers.
    pub async fn tick(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Occurrence>> {
        let mut out = Vec::new();
        for schedule in &self.schedules {
            for due_at in schedule.due_between(after, until) {
                let run_id = format!("{}-{}", schedule.name, due_at.format("%Y%m%dT%H%M%SZ"));
                let claimed = sqlx::query("INSERT INTO job_schedule_claims (schedule, due_at, claimed_by, run_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(&schedule.name)
                    .bind(due_at)
                    .bind(&self.identity)
                    .bind(&run_id)
                    .execute(self.ledger.pool())
                    .await?
                    .rows_affected()
                    == 1;
                if !claimed {
                    info!(schedule = %schedule.name, %due_at, "another scheduler took this occurrence");
                    out.push(Occurrence { schedule: schedule.name.clone(), due_at, reports: None });
                    continue;
                }
                let mut options = RunOptions::new(schedule.selection.clone());
                options.run_id = run_id;
                options.attempts = self.attempts;
                info!(schedule = %schedule.name, %due_at, run_id = %options.run_id, "running scheduled occurrence");
                let reports = self.pipeline.run(&self.ledger, &options, |_| {}).await?;
                out.push(Occurrence { schedule: schedule.name.clone(), due_at, reports: Some(reports) });
            }
        }
        Ok(out)
    }

    /// Runs every occurrence of a scheduled report definition due in (after, until]: each
    /// once across schedulers (the run's row is unique per definition and occurrence), never
    /// before its time, after the pipeline occurrences of the same tick.
    pub async fn tick_reports(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<ReportOccurrence>> {
        let db = self.ledger.pool();
        let scheduled: Vec<(Uuid, String, String)> =
            sqlx::query_as("SELECT report_id, schedule, time_zone FROM report_definitions WHERE schedule IS NOT NULL ORDER BY report_id").fetch_all(db).await?;
        let mut out = Vec::new();
        for (report_id, cron, zone) in scheduled {
            let when = match When::parse(&cron, Some(&zone)) {
                Ok(when) => when,
                Err(error) => {
                    warn!(%report_id, %error, "a report's schedule cannot be read");
                    continue;
                }
            };
            for due_at in when.due_between(after, until) {
                let outcome = match reports::definition(db, report_id).await {
                    Err(error) => ReportOutcome::Failed(error.to_string()),
                    Ok(definition) => match self.exporter.run_recorded(db, &definition, RunTrigger::Schedule, Some(due_at), None).await {
                        Ok(Some(manifest)) => ReportOutcome::Ran(manifest.run.run_id),
                        Ok(None) => ReportOutcome::TakenElsewhere,
                        Err(error) => ReportOutcome::Failed(error.to_string()),
                    },
                };
                info!(%report_id, %due_at, ?outcome, "scheduled report");
                out.push(ReportOccurrence { report_id, due_at, outcome });
            }
        }
        Ok(out)
    }

    /// Sleeps until the next occurrence (or a minute, to see new report definitions), runs
    /// what is due, and so on until `shutdown` completes. Occurrences missed while no
    /// scheduler ran are not made up.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut checked = Utc::now();
        loop {
            let poll = checked + chrono::Duration::from_std(REPORT_POLL).expect("a minute fits");
            let next = self.schedules.iter().filter_map(|s| s.next_after(checked)).min().map_or(poll, |next| next.min(poll));
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
            let now = Utc::now();
            if let Err(error) = self.tick(checked, now).await {
                warn!(%error, "a scheduled run failed; the next occurrence will try again");
            }
            if let Err(error) = self.tick_reports(checked, now).await {
                warn!(%error, "scheduled reports could not be read; the next tick will try again");
            }
            checked = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_follow_the_time_zone() {
        let config = ScheduleConfig { name: "weekly".into(), cron: "0 0 8 * * Mon".into(), timezone: Some("America/Sao_Paulo".into()), step: "all".into() };
        let schedule = Schedule::parse(&config).unwrap();
        let after: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().unwrap();
        let until: DateTime<Utc> = "2026-12-08T00:00:00Z".parse().unwrap();
        // Mondays 08:00 in São Paulo (UTC−3) are 11:00 UTC.
        assert_eq!(schedule.due_between(after, until), vec!["2026-11-30T11:00:00Z".parse::<DateTime<Utc>>().unwrap(), "2026-12-07T11:00:00Z".parse().unwrap()]);
    }

    #[test]
    fn bad_schedules_are_refused_with_the_reason() {
        let config = |cron: &str, tz: Option<&str>, step: &str| ScheduleConfig { name: "s".into(), cron: cron.into(), timezone: tz.map(Into::into), step: step.into() };
        assert!(Schedule::parse(&config("every day", None, "all")).unwrap_err().to_string().contains("cron expression"));
        assert!(Schedule::parse(&config("0 0 3 * * *", Some("Mars/Olympus"), "all")).unwrap_err().to_string().contains("unknown time zone"));
        assert!(Schedule::parse(&config("0 0 3 * * *", None, "bronze")).unwrap_err().to_string().contains("unknown step"));
    }
}
