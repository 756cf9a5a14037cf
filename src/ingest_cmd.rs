//! `analisa ingest …`: collecting from the platform APIs into bronze.

use std::path::PathBuf;

use std::time::Duration;

use analisa_ingest::freshness::Freshness;
use analisa_ingest::{Governor, Platform, Queue, QueueConfig, RunOptions, Scope, Target, Task, WorkerOptions, load_targets, run, work};
use secrecy::ExposeSecret;
use analisa_lake::Lake;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::AppConfig;

/// Which accounts of an accounts file.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Accounts and their tokens (`{"accounts":[…]}`, as `analisa sim serve` writes it).
    #[arg(long, value_name = "FILE")]
    accounts_file: PathBuf,
    /// Only accounts of this platform (instagram, facebook, tiktok).
    #[arg(long)]
    platform: Option<String>,
    /// Only these accounts (platform ids); repeatable.
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
}

fn parse_platform(text: &str) -> anyhow::Result<Platform> {
    Ok(text.parse()?)
}

/// The store of connected accounts and their sealed tokens, when `ingest.token_key` is set.
pub fn connection_store(config: &AppConfig, pool: sqlx::PgPool) -> anyhow::Result<Option<analisa_ingest::oauth::Connections>> {
    let Some(key) = config.ingest.token_key.as_ref() else { return Ok(None) };
    let cipher = analisa_ingest::oauth::TokenCipher::from_base64(key)?;
    Ok(Some(analisa_ingest::oauth::Connections::new(pool, cipher, config.platforms.clone())))
}

/// The connection store for collections, when `ingest.token_key` is set: stored tokens of
/// connected accounts are used over the accounts file's.
async fn collection_connections(config: &AppConfig) -> anyhow::Result<Option<std::sync::Arc<analisa_ingest::oauth::Connections>>> {
    if config.ingest.token_key.is_none() {
        return Ok(None);
    }
    let pool = crate::database::connect(config).await?;
    Ok(connection_store(config, pool)?.map(std::sync::Arc::new))
}

async fn connections(config: &AppConfig) -> anyhow::Result<analisa_ingest::oauth::Connections> {
    let pool = crate::database::connect(config).await?;
    connection_store(config, pool)?.ok_or_else(|| anyhow::anyhow!("connecting accounts needs ingest.token_key (32 random bytes in base64)"))
}

impl Selection {
    fn targets(&self) -> anyhow::Result<Vec<Target>> {
        let platform: Option<Platform> = self.platform.as_deref().map(parse_platform).transpose()?;
        let mut targets = load_targets(&self.accounts_file)?;
        targets.retain(|t| platform.is_none_or(|p| t.platform == p) && (self.accounts.is_empty() || self.accounts.contains(&t.account_id)));
        anyhow::ensure!(!targets.is_empty(), "no account in {} matches the selection", self.accounts_file.display());
        Ok(targets)
    }
}

/// `analisa worker`: take collection tasks from the queue until stopped.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Accounts and tokens the worker may collect.
    #[arg(long, value_name = "FILE")]
    accounts_file: PathBuf,
    /// Tasks worked on at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// This worker's name in the consumer group (default: host and process id).
    #[arg(long)]
    consumer: Option<String>,
    /// Take over tasks a worker has held this long without progress.
    #[arg(long, default_value = "5m", value_parser = |s: &str| humantime::parse_duration(s).map_err(|e| e.to_string()))]
    reclaim_after: Duration,
    /// Attempts before a task goes to the dead-letter stream.
    #[arg(long, default_value_t = 3)]
    max_attempts: u32,
    /// Stop when no task is left (instead of waiting for more).
    #[arg(long)]
    exit_when_idle: bool,
}

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Put collection tasks on the queue for the workers.
    Enqueue {
        #[command(flatten)]
        selection: Selection,
        /// full, or profile: the cheap daily snapshot of tracked accounts.
        #[arg(long, value_enum, default_value = "full")]
        scope: ScopeArg,
    },
    /// Keep accounts fresh until stopped: enqueue the organisations' tracked accounts daily and
    /// running campaigns' accounts hourly (`[ingest.freshness]`). Any number may run: each
    /// occurrence is enqueued once.
    Schedule,
    /// Receive Meta and TikTok webhooks: verify, land in bronze, enqueue a targeted refresh.
    Webhooks {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
    /// Start connecting an account: prints the URL to send its owner to.
    Connect {
        /// instagram, facebook, tiktok, tiktok_business or ga4.
        #[arg(long)]
        platform: String,
        /// Where the platform sends the owner back (registered with the app).
        #[arg(long)]
        redirect_uri: url::Url,
        /// GA4 property id (GA4 does not name it in its answer).
        #[arg(long)]
        property: Option<String>,
    },
    /// Finish connecting an account with the `code` and `state` the platform redirected with.
    Callback {
        #[arg(long)]
        platform: String,
        #[arg(long)]
        state: String,
        #[arg(long)]
        code: String,
    },
    /// Queue depth: tasks waiting, in progress, dead.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Collect accounts now (on demand) and land every answer in bronze.
    Run {
        #[command(flatten)]
        selection: Selection,
        /// Accounts collected at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// full (profile, media, comments, insights) or profile (the daily follower snapshot).
        #[arg(long, value_enum, default_value = "full")]
        scope: ScopeArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    Full,
    Profile,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Full => Scope::Full,
            ScopeArg::Profile => Scope::Profile,
        }
    }
}

pub async fn run_command(command: IngestCommand, config: &AppConfig) -> anyhow::Result<()> {
    match command {
        IngestCommand::Enqueue { selection, scope } => {
            let tasks: Vec<Task> = selection.targets()?.into_iter().map(|t| Task { platform: t.platform, account_id: t.account_id, attempt: 0, scope: scope.into() }).collect();
            let queue = Queue::connect(config.redis.url.expose_secret(), config.ingest.queue()).await?;
            println!("enqueued {} task(s)", queue.enqueue(&tasks).await?);
        }
        IngestCommand::Schedule => {
            let freshness = Freshness::parse(&config.ingest.freshness)?;
            let pool = crate::database::connect(config).await?;
            let queue = Queue::connect(config.redis.url.expose_secret(), config.ingest.queue()).await?;
            let scheduler = format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "scheduler".into()), std::process::id());
            eprintln!("enqueuing tracked accounts ({}) and campaign accounts ({}); stop with Ctrl-C", config.ingest.freshness.tracked, config.ingest.freshness.campaigns);
            analisa_ingest::freshness::run_schedules(pool, queue, freshness, scheduler, crate::sim_cmd::shutdown_signal()).await?;
        }
        IngestCommand::Webhooks { listen } => {
            let secret = |platform: &analisa_ingest::PlatformConfig, what: &str| {
                platform.client_secret.clone().ok_or_else(|| anyhow::anyhow!("webhooks need {what}"))
            };
            let secrets = analisa_ingest::webhooks::WebhookSecrets {
                meta_app_secret: secret(&config.platforms.facebook, "platforms.facebook.client_secret (the Meta app secret)")?,
                meta_verify_token: config.ingest.webhook_verify_token.clone().ok_or_else(|| anyhow::anyhow!("webhooks need ingest.webhook_verify_token"))?,
                tiktok_client_secret: secret(&config.platforms.tiktok, "platforms.tiktok.client_secret")?,
                tiktok_max_age_secs: 300,
            };
            let lake = Lake::open(&config.lake)?;
            lake.init().await?;
            let queue = Queue::connect(config.redis.url.expose_secret(), config.ingest.queue()).await?;
            let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            println!("receiving webhooks on http://{listen}/webhooks/meta and /webhooks/tiktok");
            axum::serve(listener, analisa_ingest::webhooks::router(lake, Some(queue), secrets)).with_graceful_shutdown(crate::sim_cmd::shutdown_signal()).await?;
        }
        IngestCommand::Connect { platform, redirect_uri, property } => {
            let url = connections(config).await?.begin(parse_platform(&platform)?, &redirect_uri, None, property.as_deref()).await?;
            println!("{url}");
        }
        IngestCommand::Callback { platform, state, code } => {
            let connection = connections(config).await?.complete(parse_platform(&platform)?, &state, &code, None).await?;
            println!("connected {} account {} ({})", connection.platform, connection.account_id, connection.status);
        }
        IngestCommand::Status { json } => {
            let url = config.redis.url.expose_secret();
            let queue = Queue::connect(url, config.ingest.queue()).await?;
            let (waiting, in_progress, dead) = queue.depth().await?;
            let governor = Governor::connect(url, config.ingest.budgets, &config.ingest.governor_prefix()).await?;
            let usage = governor.usage().await?;
            if json {
                let budgets: Vec<_> = usage.iter().map(|(key, used, budget)| serde_json::json!({ "key": key, "used": used, "budget": budget })).collect();
                println!("{}", serde_json::json!({ "waiting": waiting, "in_progress": in_progress, "dead": dead, "budgets": budgets }));
            } else {
                println!("tasks waiting: {waiting}\ntasks in progress: {in_progress}\ndead tasks (failed for good): {dead} (stream {})", queue.dead_key());
                for (key, used, budget) in usage {
                    println!("budget {key}: {used} of {budget} used in the current window");
                }
            }
        }
        IngestCommand::Run { selection, concurrency, scope } => {
            let targets = selection.targets()?;
            let lake = Lake::open(&config.lake)?;
            lake.init().await?;
            let governor = Governor::connect(config.redis.url.expose_secret(), config.ingest.budgets, &config.ingest.governor_prefix()).await?;
            let bar = ProgressBar::new(targets.len() as u64).with_style(ProgressStyle::with_template("{spinner} collecting [{bar:40}] {pos}/{len} accounts ({elapsed})").expect("valid template"));
            let options = RunOptions { concurrency, governor: Some(governor), scope: scope.into(), connections: collection_connections(config).await?, ..RunOptions::default() };
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

pub async fn worker(args: WorkerArgs, config: &AppConfig) -> anyhow::Result<()> {
    let targets = load_targets(&args.accounts_file)?;
    let url = config.redis.url.expose_secret();
    let queue = Queue::connect(url, QueueConfig { reclaim_after: args.reclaim_after, max_attempts: args.max_attempts, ..config.ingest.queue() }).await?;
    let governor = Governor::connect(url, config.ingest.budgets, &config.ingest.governor_prefix()).await?;
    let lake = Lake::open(&config.lake)?;
    lake.init().await?;
    let consumer = args.consumer.unwrap_or_else(|| format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into()), std::process::id()));
    let options = WorkerOptions { consumer, concurrency: args.concurrency, retry: Default::default(), governor: Some(governor), exit_when_idle: args.exit_when_idle, connections: collection_connections(config).await? };
    let done = work(queue, lake, config.platforms.clone(), targets, options, crate::sim_cmd::shutdown_signal()).await?;
    println!("worker finished {done} task(s)");
    Ok(())
}
