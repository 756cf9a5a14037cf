//! `analisa jobs …`: the bronze → silver → gold pipeline and its ledger.

use analisa_jobs::{CacheBus, Formulas, Ledger, Models, Pipeline, RunOptions, Schedule, Scheduler, Step, StepStatus, select};
use secrecy::ExposeSecret;
use analisa_lake::Lake;
use chrono::NaiveDate;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::config::AppConfig;

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run pipeline steps now (incremental unless --full) and print what each did.
    Run {
        /// all, silver, gold, or one step (e.g. social_score or gold.social_score).
        #[arg(long, default_value = "all")]
        step: String,
        /// Read all of bronze again and recompute gold even if nothing changed.
        #[arg(long)]
        full: bool,
        /// The day gold describes (default: the newest day with account snapshots).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        /// Attempts per step before giving up.
        #[arg(long, default_value_t = 3)]
        attempts: u32,
    },
    /// Run the configured schedules (`[[pipeline.schedules]]`) until stopped. Any number of
    /// schedulers may run: each occurrence is run by one of them.
    Schedule,
    /// Print the SQL one step would run now: for gold the registry tables, then the shared
    /// views, then the step's query, every parameter filled in. To read a formula, or to run
    /// it in another engine (bench/gold_build.sh runs gold's in DuckDB).
    Sql {
        /// One step, e.g. influencer_metrics or gold.social_score.
        step: String,
        /// The day gold describes (default: the newest day with account snapshots).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
    },
    /// Show how one step's query is planned over the whole lake; with --analyze also run it
    /// (writing nothing) and show each operator's rows, time, memory and spills.
    Explain {
        /// One step, e.g. influencer_metrics or gold.social_score.
        step: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        analyze: bool,
    },
    /// List the newest entries of the run ledger.
    Runs {
        #[arg(long, default_value_t = 30)]
        limit: i64,
    },
}

pub async fn run(command: JobsCommand, config: &AppConfig) -> anyhow::Result<()> {
    let ledger = async || anyhow::Ok(Ledger::new(crate::database::connect(config).await?));
    match command {
        JobsCommand::Sql { step, as_of } => {
            print!("{}", pipeline(config).await?.script(one_step(&step, "sql")?, as_of, "jobs-sql").await?);
        }
        JobsCommand::Explain { step, as_of, analyze } => {
            print!("{}", pipeline(config).await?.explain(one_step(&step, "explain")?, as_of, analyze).await?);
        }
        JobsCommand::Schedule => {
            let schedules = config.pipeline.schedules.iter().map(Schedule::parse).collect::<Result<Vec<_>, _>>()?;
            if schedules.is_empty() {
                eprintln!("no pipeline schedule is configured ([[pipeline.schedules]]): only scheduled report definitions will run");
            }
            let scheduler = Scheduler::new(pipeline(config).await?, ledger().await?, schedules).with_smtp(config.reports.smtp.clone());
            eprintln!("scheduler {} running {} schedule(s); stop with Ctrl-C", scheduler.identity, config.pipeline.schedules.len());
            scheduler.run(crate::sim_cmd::shutdown_signal()).await?;
        }
        JobsCommand::Run { step, full, as_of, attempts } => {
            let pipeline = pipeline(config).await?;
            let mut options = RunOptions::new(select(&step)?);
            options.full = full;
            options.as_of = as_of;
            options.attempts = attempts;
            eprintln!("run {} ({} step(s){}{})", options.run_id, options.steps.len(), if options.publish { " and publish" } else { "" }, if full { ", full" } else { ", incremental" });
            let reports = pipeline
                .run(&ledger().await?, &options, |report| {
                    eprintln!("  {:<24} {:<10} {:>10} rows out  {:>6.1} s", report.step, status_word(&report.status), report.rows_out, report.elapsed.as_secs_f64());
                })
                .await?;
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["step", "status", "attempts", "rows in", "rows out", "version", "seconds"]);
            for r in &reports {
                table.add_row([
                    r.step.to_owned(),
                    status_word(&r.status).to_owned(),
                    r.attempts.to_string(),
                    r.rows_in.to_string(),
                    r.rows_out.to_string(),
                    r.output_version.map_or_else(|| "-".into(), |v| v.to_string()),
                    format!("{:.2}", r.elapsed.as_secs_f64()),
                ]);
            }
            println!("{table}");
            if let Some(failed) = reports.iter().find_map(|r| match &r.status {
                StepStatus::Failed(message) => Some(format!("{}: {message}", r.step)),
                _ => None,
            }) {
                anyhow::bail!("the run stopped at a failed step: {failed}");
            }
        }
        JobsCommand::Runs { limit } => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["run", "step", "status", "as of", "started", "seconds", "rows in", "rows out", "version", "error"]);
            for e in ledger().await?.recent(limit).await? {
                table.add_row([
                    e.run_id,
                    e.step,
                    e.status,
                    e.as_of_date.map_or_else(String::new, |d| d.to_string()),
                    e.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.finished_at.map_or_else(String::new, |f| format!("{:.1}", (f - e.started_at).num_milliseconds() as f64 / 1000.0)),
                    e.rows_in.map_or_else(String::new, |n| n.to_string()),
                    e.rows_out.map_or_else(String::new, |n| n.to_string()),
                    e.output_version.map_or_else(String::new, |v| v.to_string()),
                    e.error.unwrap_or_default(),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(())
}

async fn pipeline(config: &AppConfig) -> anyhow::Result<Pipeline> {
    let key = config
        .pipeline
        .pseudonym_key
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the pipeline needs pipeline.pseudonym_key (a long random string) to pseudonymise commenters"))?;
    let formulas = Formulas::load(config.pipeline.formulas.as_deref())?;
    let cache = CacheBus { url: config.redis.url.expose_secret().to_owned(), prefix: config.ingest.redis_prefix.clone() };
    let lake = Lake::open(&config.lake)?;
    let registry = analisa_ml::Registry::new(lake.object_store(), lake.object_path("models/"));
    let models = Models::load(&registry, &config.pipeline.sentiment_model, &config.pipeline.forecast_model).await?;
    Ok(Pipeline::new(lake, formulas, key)?.with_cache(cache).with_models(models))
}

fn status_word(status: &StepStatus) -> &'static str {
    match status {
        StepStatus::Succeeded => "succeeded",
        StepStatus::Unchanged => "unchanged",
        StepStatus::Locked => "locked",
        StepStatus::Failed(_) => "FAILED",
    }
}

fn one_step(name: &str, command: &str) -> anyhow::Result<&'static Step> {
    match select(name)?.steps[..] {
        [one] => Ok(one),
        _ => anyhow::bail!("`jobs {command}` takes one step: name it (e.g. influencer_metrics), not a layer"),
    }
}
