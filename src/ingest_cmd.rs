//! `analisa ingest …`: collecting from the platform APIs into bronze.

use std::path::PathBuf;

use analisa_ingest::{Governor, Platform, RunOptions, load_targets, run};
use secrecy::ExposeSecret;
use analisa_lake::Lake;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::AppConfig;

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Collect accounts now (on demand) and land every answer in bronze.
    Run {
        /// Accounts and their tokens (`{"accounts":[…]}`, as `analisa sim serve` writes it).
        #[arg(long, value_name = "FILE")]
        accounts_file: PathBuf,
        /// Only accounts of this platform (instagram, facebook, tiktok).
        #[arg(long)]
        platform: Option<String>,
        /// Only these accounts (platform ids); repeatable.
        #[arg(long = "account", value_name = "ID")]
        accounts: Vec<String>,
        /// Accounts collected at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
}

pub async fn run_command(command: IngestCommand, config: &AppConfig) -> anyhow::Result<()> {
    match command {
        IngestCommand::Run { accounts_file, platform, accounts, concurrency } => {
            let platform: Option<Platform> = platform
                .map(|p| serde_json::from_value(serde_json::Value::String(p.clone())).map_err(|_| anyhow::anyhow!("unknown platform `{p}` (instagram, facebook, tiktok)")))
                .transpose()?;
            let mut targets = load_targets(&accounts_file)?;
            targets.retain(|t| platform.is_none_or(|p| t.platform == p) && (accounts.is_empty() || accounts.contains(&t.account_id)));
            anyhow::ensure!(!targets.is_empty(), "no account in {} matches the selection", accounts_file.display());
            let lake = Lake::open(&config.lake)?;
            lake.init().await?;
            let governor = Governor::connect(config.redis.url.expose_secret(), config.ingest.budgets, "analisa:governor").await?;
            let bar = ProgressBar::new(targets.len() as u64).with_style(ProgressStyle::with_template("{spinner} collecting [{bar:40}] {pos}/{len} accounts ({elapsed})").expect("valid template"));
            let options = RunOptions { concurrency, governor: Some(governor), ..RunOptions::default() };
            let summary = run(&lake, &config.platforms, targets, options, |done| bar.set_position(done as u64)).await?;
            bar.finish_and_clear();
            let answers: u64 = summary.answers.values().sum();
            println!("run {}: {} accounts, {answers} answers, {} new in bronze", summary.run_id, summary.accounts, summary.landed);
            for (platform, n) in &summary.answers {
                println!("  {platform}: {n} answers");
            }
            for metric in &summary.retired_metrics {
                println!("  retired metric left out: {metric}");
            }
            for (account, note) in &summary.notes {
                println!("  note {account}: {note}");
            }
            for (account, error) in &summary.failures {
                eprintln!("  failed {account}: {error}");
            }
            anyhow::ensure!(summary.failures.is_empty(), "{} account(s) could not be collected completely", summary.failures.len());
        }
    }
    Ok(())
}
