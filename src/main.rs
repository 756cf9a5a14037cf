//! `analisa`: the one binary. It parses arguments and calls the crates; nothing else.

mod bench_cmd;
mod config;
mod database;
mod demo_cmd;
mod export_cmd;
mod ingest_cmd;
mod jobs_cmd;
mod lake_cmd;
mod ml_cmd;
mod serve_cmd;
mod sim_cmd;
mod telemetry;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{AppConfig, LogFormat};

// Why mimalloc, and what it costs: the `mimalloc` line of the workspace Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Analisa — open influencer-analytics lakehouse.
#[derive(Debug, Parser)]
#[command(name = "analisa", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Configuration file (default: ./analisa.toml if present). Environment variables
    /// ANALISA__SECTION__KEY override it, e.g. ANALISA__LAKE__ROOT=s3://bucket/lake.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log format (overrides log.format).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect and maintain the lake (Delta tables on file://, s3:// or memory://).
    #[command(subcommand)]
    Lake(lake_cmd::LakeCommand),
    /// Collect from the platform APIs into bronze.
    #[command(subcommand)]
    Ingest(ingest_cmd::IngestCommand),
    /// The pipeline: bronze → silver → gold, and its run ledger.
    #[command(subcommand)]
    Jobs(jobs_cmd::JobsCommand),
    /// Report exports: run a definition, or make a past run again from its manifest.
    #[command(subcommand)]
    Export(export_cmd::ExportCommand),
    /// The models: train, evaluate, score texts, forecast series, list the registry.
    #[command(subcommand)]
    Ml(ml_cmd::MlCommand),
    /// Apply the PostgreSQL migrations.
    Migrate,
    /// Work through the collection queue (any number of workers, on any machines).
    Worker(ingest_cmd::WorkerArgs),
    /// The platform simulator: a synthetic world behind fake platform servers.
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
    /// Serve the HTTP API (and the dashboard, when built).
    Serve(serve_cmd::ServeArgs),
    /// The audit log.
    #[command(subcommand)]
    Audit(serve_cmd::AuditCommand),
    /// The whole product on this machine: a simulated world collected, processed and served.
    Demo(demo_cmd::DemoArgs),
    /// Benchmarks that need the product's insides (the others are scripts in bench/).
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = AppConfig::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        config.log.format = format;
    }
    // The demo narrates its own progress; per-run log lines would drown it.
    if matches!(cli.command, Command::Demo(_) | Command::Bench(_)) && std::env::var_os("RUST_LOG").is_none() {
        config.log.filter = format!("warn,{}", config.log.filter.split(',').filter(|d| d.contains('=')).collect::<Vec<_>>().join(","));
    }
    telemetry::init(&config.log)?;
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Lake(command) => runtime.block_on(lake_cmd::run(command, &config)),
        Command::Sim(command) => runtime.block_on(sim_cmd::run(command)),
        Command::Ingest(command) => runtime.block_on(ingest_cmd::run_command(command, &config)),
        Command::Jobs(command) => runtime.block_on(jobs_cmd::run(command, &config)),
        Command::Export(command) => runtime.block_on(export_cmd::run(command, &config)),
        Command::Ml(command) => runtime.block_on(ml_cmd::run(command, &config)),
        Command::Migrate => runtime.block_on(database::migrate(&config)),
        Command::Worker(args) => runtime.block_on(ingest_cmd::worker(args, &config)),
        Command::Serve(args) => runtime.block_on(serve_cmd::serve(args, &config)),
        Command::Audit(command) => runtime.block_on(serve_cmd::audit(command, &config)),
        Command::Demo(args) => runtime.block_on(demo_cmd::run(args, &config)),
        Command::Bench(command) => runtime.block_on(bench_cmd::run(command, &config)),
    }
}
