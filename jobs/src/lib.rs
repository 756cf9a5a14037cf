//! Analisa's batch pipeline: the bronze → silver → gold steps (their SQL lives in `sql/`),
//! the formula registry they read, the run ledger and the per-step lock in PostgreSQL.

mod error;
mod formulas;
mod functions;
mod ledger;
mod models;
mod pipeline;
mod publish;
pub mod reports;
mod schedule;
mod steps;

pub use error::{JobsError, Result};
pub use formulas::Formulas;

/// The shipped formula registry (`sql/formulas.toml`), as text.
pub fn formulas_toml() -> &'static str {
    formulas::DEFAULT
}
pub use ledger::{Ledger, LedgerEntry};
pub use models::Models;
pub use pipeline::{Pipeline, RunOptions, StepReport, StepStatus};
pub use publish::CacheBus;
pub use schedule::{Occurrence, ReportOccurrence, ReportOutcome, Schedule, ScheduleConfig, Scheduler};
pub use steps::{STEPS, Selection, Step, Write, select};
