//! `analisa sim …`: the platform simulator.

use std::net::SocketAddr;
use std::path::PathBuf;

use analisa_sim::WorldSpec;
use analisa_sim::server::{Budgets, RunningSim, SimOptions, parse_faults};
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Seed of the world: the same seed and size always give the same world.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of platform accounts.
    #[arg(long, default_value_t = 200)]
    influencers: u32,
    /// Days of history.
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Last simulated day (default: a fixed date, so that a seed always means one world).
    #[arg(long)]
    end_date: Option<NaiveDate>,
}

impl WorldArgs {
    fn spec(&self) -> anyhow::Result<WorldSpec> {
        anyhow::ensure!(self.influencers > 0, "--influencers must be at least 1");
        anyhow::ensure!(self.days > 0, "--days must be at least 1");
        let mut spec = WorldSpec::new(self.seed, self.influencers, self.days);
        if let Some(end) = self.end_date {
            spec.end_date = end;
        }
        Ok(spec)
    }
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the world through fake Instagram, Facebook, TikTok and GA4 servers until stopped.
    Serve {
        #[command(flatten)]
        world: WorldArgs,
        /// Address to bind; port 0 gives each server a free port, port N gives N…N+4.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Faults per server, e.g. `instagram:latency=50ms,error_rate=0.1;all:truncated=0.01`.
        #[arg(long, default_value = "")]
        faults: String,
        /// Rate-limit budgets, e.g. `meta_app=1000,meta_object=200,tiktok_display=600`.
        #[arg(long, default_value = "")]
        budgets: String,
        /// Write an analisa.toml fragment pointing every connector at the simulator.
        #[arg(long, value_name = "FILE")]
        write_config: Option<PathBuf>,
        /// Where to write the accounts file (accounts and their tokens).
        #[arg(long, value_name = "FILE")]
        accounts_file: Option<PathBuf>,
    },
    /// Write the whole world, ground truth included, as Parquet.
    Export {
        #[command(flatten)]
        world: WorldArgs,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

pub async fn run(command: SimCommand) -> anyhow::Result<()> {
    match command {
        SimCommand::Export { world, out } => {
            let spec = world.spec()?;
            let bar = ProgressBar::new(spec.influencers as u64).with_style(
                ProgressStyle::with_template("{spinner} exporting [{bar:40}] {pos}/{len} accounts ({per_sec}, eta {eta})").expect("valid template"),
            );
            let started = std::time::Instant::now();
            let summary = tokio::task::spawn_blocking(move || analisa_sim::export(&spec, &out, |done| bar.set_position(done as u64)).map(|s| (s, out)))
                .await
                .context("the export task panicked")??;
            let (summary, out) = summary;
            println!(
                "wrote {} accounts, {} account-days, {} posts, {} comments, {} events to {} in {:.1}s",
                summary.accounts, summary.account_days, summary.posts, summary.comments, summary.events, out.display(), started.elapsed().as_secs_f64()
            );
        }
        SimCommand::Serve { world, listen, faults, budgets, write_config, accounts_file } => {
            let options = SimOptions {
                world: world.spec()?,
                listen,
                faults: parse_faults(&faults).map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
                budgets: Budgets::parse(&budgets).map_err(|e| anyhow::anyhow!("--budgets: {e}"))?,
            };
            let sim = RunningSim::start(options).await?;
            let accounts_file = accounts_file.unwrap_or_else(|| {
                let dir = write_config.as_ref().and_then(|p| p.parent().map(PathBuf::from)).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(std::env::temp_dir);
                dir.join(format!("sim-accounts-{}.json", world.seed))
            });
            std::fs::write(&accounts_file, serde_json::to_vec_pretty(&sim.accounts_json())?)
                .with_context(|| format!("cannot write {}", accounts_file.display()))?;
            if let Some(path) = &write_config {
                std::fs::write(path, sim.config_fragment()).with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!("{}", sim.ready_line(&accounts_file.display().to_string()));
            shutdown_signal().await;
            sim.stop().await;
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
