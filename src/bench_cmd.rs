//! `analisa bench incremental`: benchmark B2 of docs/benchmarks.md. A simulated world is
//! collected as the demo's is and run through the whole pipeline once; then, day after day, one
//! more day of tracking is collected and the incremental run that follows is timed beside a
//! full rebuild of the same lake (every step reading all of bronze again).
//!
//! `analisa bench hello`: the ceiling B5 compares the API with, a bare axum "hello" with no
//! middleware, in this very binary (same build, allocator and runtime as `analisa serve`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use analisa_jobs::{Ledger, Pipeline, RunOptions, StepReport, StepStatus, select};
use clap::{Args, Subcommand};

use crate::config::AppConfig;
use crate::demo_cmd::{SimulatedWorld, WorldArgs, step, world_pipeline};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// B2: an incremental pipeline run after one new day of data against a full rebuild.
    Incremental(IncrementalArgs),
    /// B5's ceiling: serve a bare axum "hello" at / until stopped.
    Hello {
        #[arg(long, default_value = "127.0.0.1:8099")]
        listen: String,
    },
}

#[derive(Debug, Args)]
pub struct IncrementalArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Days of daily profile snapshots before the first run.
    #[arg(long, default_value_t = 30)]
    tracked_days: u32,
    /// New days, each followed by an incremental run and a full rebuild.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// The benchmark's lake (replaced on every start).
    #[arg(long, default_value = ".analisa-bench")]
    dir: PathBuf,
    /// The benchmark's own PostgreSQL database (dropped and recreated on every start).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/analisa_bench_incremental")]
    database_url: String,
}

pub async fn run(command: BenchCommand, config: &AppConfig) -> anyhow::Result<()> {
    let args = match command {
        BenchCommand::Incremental(args) => args,
        BenchCommand::Hello { listen } => return hello(&listen).await,
    };
    anyhow::ensure!(args.runs >= 1 && args.tracked_days >= 1 && args.tracked_days + args.runs <= args.world.days, "--tracked-days plus --runs must fit in --days");
    let world = args.world.spec();
    let end = world.end_date;
    let collected = SimulatedWorld::start(world, &args.dir, config).await?;
    let first_new = end - chrono::Duration::days(i64::from(args.runs) - 1);
    step(&format!("collecting {} accounts: {} days of tracking, then everything", collected.targets.len(), args.tracked_days));
    collected.track(first_new - chrono::Duration::days(i64::from(args.tracked_days)), first_new - chrono::Duration::days(1), true).await?;
    let ledger = Ledger::new(crate::database::recreate(&args.database_url).await?);
    let pipeline = world_pipeline(&collected.lake, config)?;
    step("the first run");
    let (first, _) = timed(&pipeline, &ledger, false).await?;
    eprintln!("  {:.1} s", first.as_secs_f64());

    println!("| new day | rows landed | incremental run (s) | full rebuild (s) | full ÷ incremental |");
    println!("|---|---:|---:|---:|---:|");
    let mut last = None;
    for day in first_new.iter_days().take_while(|d| *d <= end) {
        let landed = collected.track(day, day, false).await?;
        let (incremental, steps_incremental) = timed(&pipeline, &ledger, false).await?;
        let (full, steps_full) = timed(&pipeline, &ledger, true).await?;
        println!("| {day} | {landed} | {:.2} | {:.2} | {:.1}× |", incremental.as_secs_f64(), full.as_secs_f64(), full.as_secs_f64() / incremental.as_secs_f64());
        last = Some((steps_incremental, steps_full));
    }
    if let Some((incremental, full)) = last {
        println!("\nSteps of the last new day (seconds):\n\n| step | incremental | full rebuild |\n|---|---:|---:|");
        for (i, f) in incremental.iter().zip(&full) {
            println!("| {} | {:.2} | {:.2} |", i.step, i.elapsed.as_secs_f64(), f.elapsed.as_secs_f64());
        }
    }
    collected.sim.stop().await;
    Ok(())
}

async fn timed(pipeline: &Pipeline, ledger: &Ledger, full: bool) -> anyhow::Result<(Duration, Vec<StepReport>)> {
    let mut options = RunOptions::new(select("all")?);
    options.full = full;
    let started = Instant::now();
    let reports = pipeline.run(ledger, &options, |_| {}).await?;
    let elapsed = started.elapsed();
    if let Some(failed) = reports.iter().find(|r| matches!(r.status, StepStatus::Failed(_))) {
        anyhow::bail!("the pipeline failed at {}: {:?}", failed.step, failed.status);
    }
    Ok((elapsed, reports))
}

async fn hello(listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
    Ok(axum::serve(listener, app).await?)
}
