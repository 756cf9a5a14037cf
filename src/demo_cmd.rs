//! `analisa demo`: the whole product on one machine in one command. A simulated world is served
//! by the fake platform servers, collected by the real connectors (a daily tracking history,
//! then one full collection), run through the pipeline, published, and served with a demo
//! organisation and login; the simulated platforms stay up for connecting accounts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analisa_ingest::oauth::{Connections, TokenCipher};
use analisa_ingest::{Clock, PlatformsConfig, RetryPolicy, RunOptions, Scope, Target};
use analisa_jobs::{CacheBus, Formulas, Ledger, Pipeline, StepStatus, select};
use analisa_lake::{Lake, LakeConfig};
use analisa_query_api::{NewAccount, Plan, provision, random_token};
use analisa_sim::WorldSpec;
use analisa_sim::server::{Budgets, RunningSim, SimOptions, parse_faults};
use anyhow::Context;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AppConfig;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where the Arrow Flight SQL endpoint listens.
    #[arg(long, default_value = "127.0.0.1:50051")]
    flight_sql_listen: SocketAddr,
    #[command(flatten)]
    world: WorldArgs,
    /// Days of daily profile snapshots before the final collection (growth needs 90 + 14).
    #[arg(long, default_value_t = 105)]
    tracked_days: u32,
    /// The demo's lake (replaced on every start).
    #[arg(long, default_value = ".analisa-demo")]
    dir: PathBuf,
    /// The demo's own PostgreSQL database (dropped and recreated on every start).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/analisa_demo")]
    database_url: String,
    /// Prepare everything, print the login, and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// Which simulated world: the same seed and size always make the same one.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Seed of the simulated world.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Simulated platform accounts.
    #[arg(long, default_value_t = 200)]
    influencers: u32,
    /// Days of simulated history.
    #[arg(long, default_value_t = 180)]
    pub days: u32,
}

impl WorldArgs {
    pub fn spec(&self) -> WorldSpec {
        WorldSpec::new(self.seed, self.influencers, self.days)
    }
}

pub const DEMO_EMAIL: &str = "demo@analisa.dev";

pub async fn run(args: DemoArgs, config: &AppConfig) -> anyhow::Result<()> {
    anyhow::ensure!(args.tracked_days >= 1 && args.tracked_days <= args.world.days, "--tracked-days must be between 1 and --days");
    let started = Instant::now();
    let world = args.world.spec();
    let end = world.end_date;
    let collected = SimulatedWorld::start(world, &args.dir, config).await?;
    step(&format!("collecting {} accounts with the real connectors: {} days of tracking, then everything", collected.targets.len(), args.tracked_days));
    collected.track(end - chrono::Duration::days(i64::from(args.tracked_days) - 1), end, true).await?;
    let SimulatedWorld { sim, platforms, lake, .. } = collected;

    step("preparing the database");
    let db = crate::database::recreate(&args.database_url).await?;

    step("running the pipeline: bronze → silver → gold → PostgreSQL");
    let pipeline = world_pipeline(&lake, config)?;
    let ledger = Ledger::new(db.clone());
    let reports = pipeline
        .run(&ledger, &analisa_jobs::RunOptions::new(select("all")?), |r| eprintln!("  {:<24} {:>9} rows  {:>6.1} s", r.step, r.rows_out, r.elapsed.as_secs_f64()))
        .await?;
    if let Some(failed) = reports.iter().find(|r| matches!(r.status, StepStatus::Failed(_))) {
        anyhow::bail!("the pipeline failed at {}: {:?}", failed.step, failed.status);
    }

    step("creating the demo organisation and login");
    let password = random_token()[..16].to_owned();
    let account = provision(&db, NewAccount { email: DEMO_EMAIL.into(), password: password.clone(), display_name: "Demo".into(), organisation: "Agência Demo".into(), plan: Plan::Pro }).await?;
    // A tracked list of the ten best-scored creators, so the organisation has data of its own.
    let list_id = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO tracked_lists (list_id, org_id, name, created_by) VALUES ($1, $2, 'Favoritos', $3)").bind(list_id).bind(account.org_id).bind(account.user_id).execute(&db).await?;
    sqlx::query("INSERT INTO tracked_list_members (list_id, platform, account_id) SELECT $1, platform, account_id FROM serving.influencers ORDER BY score DESC NULLS LAST, platform, account_id LIMIT 10")
        .bind(list_id)
        .execute(&db)
        .await?;

    let mut api_config = analisa_query_api::ApiConfig { report_smtp: config.reports.smtp.clone(), ..config.api.clone() };
    if api_config.jwt_secret.is_none() {
        api_config.jwt_secret = Some(SecretString::from(random_token()));
    }
    if api_config.web_root.is_none() && std::path::Path::new("web/dist/browser/index.html").exists() {
        api_config.web_root = Some(PathBuf::from("web/dist/browser"));
    }
    let dashboard = match &api_config.web_root {
        Some(_) => format!("http://{}/", args.listen),
        None => "not built (scripts/demo builds web/ with npm)".to_owned(),
    };
    // The simulated platforms stay up while the demo serves, so that accounts can be connected
    // from the dashboard's Settings through their real OAuth flow.
    let cipher = match &config.ingest.token_key {
        Some(key) => TokenCipher::from_base64(key)?,
        None => TokenCipher::generate(),
    };
    let connections = Connections::new(db.clone(), cipher, platforms);
    let api = analisa_query_api::Api::new(db, config.redis.url.expose_secret(), &config.ingest.redis_prefix, Some(lake), api_config)?.with_connections(connections);
    let influencers: i64 = sqlx::query_scalar("SELECT count(*) FROM serving.influencers").fetch_one(ledger.pool()).await?;
    println!();
    println!("Analisa demo ready in {:.0} s: {influencers} influencers published", started.elapsed().as_secs_f64());
    println!("  web      {dashboard}");
    println!("  API      http://{}/v1/influencers   (docs: http://{}/docs)", args.listen, args.listen);
    println!("  SQL      POST http://{}/v1/sql, or Flight SQL at grpc://{} (ADBC, JDBC)", args.listen, args.flight_sql_listen);
    println!("  login    {DEMO_EMAIL}");
    println!("  password {password}");
    println!("  e.g.     curl -s -X POST http://{}/v1/auth/login -H 'content-type: application/json' -d '{{\"email\":\"{DEMO_EMAIL}\",\"password\":\"{password}\"}}'", args.listen);
    let served = if args.no_serve { Ok(()) } else { crate::serve_cmd::listen_and_serve(&api, args.listen, args.flight_sql_listen).await };
    sim.stop().await;
    served
}


/// A simulated world served by the fake platforms and the lake its collections land in.
pub struct SimulatedWorld {
    pub sim: RunningSim,
    pub platforms: PlatformsConfig,
    pub targets: Vec<Target>,
    pub lake: Lake,
    governor: analisa_ingest::Governor,
}

impl SimulatedWorld {
    /// Starts the simulated platforms and an empty lake under `dir` (emptied first).
    pub async fn start(world: WorldSpec, dir: &Path, config: &AppConfig) -> anyhow::Result<Self> {
        step("starting the simulated platforms");
        let sim = RunningSim::start(SimOptions { world, listen: "127.0.0.1:0".parse()?, faults: parse_faults("").map_err(anyhow::Error::msg)?, budgets: Budgets::default() }).await?;
        let platforms: PlatformsConfig = {
            #[derive(serde::Deserialize)]
            struct Fragment {
                platforms: PlatformsConfig,
            }
            toml::from_str::<Fragment>(&sim.config_fragment())?.platforms
        };
        let targets: Vec<Target> = serde_json::from_value(sim.accounts_json()["accounts"].clone())?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir)?;
        let root = std::fs::canonicalize(dir)?;
        let lake = Lake::open(&LakeConfig { root: format!("file://{}/lake", root.display()), ..LakeConfig::default() })?;
        lake.init().await?;
        // The connectors pace themselves below the simulator's limits through the shared
        // governor, as production workers do below the platforms'.
        let sim_budgets = Budgets::default();
        let budgets = analisa_ingest::Budgets {
            meta_app_per_hour: sim_budgets.meta_app_per_hour * 9 / 10,
            meta_object_per_hour: sim_budgets.meta_object_per_hour * 9 / 10,
            tiktok_business_per_second: sim_budgets.tiktok_business_per_second * 9 / 10,
            tiktok_display_per_minute: sim_budgets.tiktok_display_per_minute * 9 / 10,
            ga4_per_hour: sim_budgets.ga4_per_hour * 9 / 10,
            ..analisa_ingest::Budgets::default()
        };
        let governor = analisa_ingest::Governor::connect(config.redis.url.expose_secret(), budgets, &format!("{}:demo:{}", config.ingest.redis_prefix, std::process::id())).await?;
        Ok(Self { sim, platforms, targets, lake, governor })
    }

    /// Collects every day of [first, last] at its end, as a daily tracking schedule does: the
    /// profiles' counters, and on the last day everything when `full_on_last`.
    pub async fn track(&self, first: NaiveDate, last: NaiveDate, full_on_last: bool) -> anyhow::Result<u64> {
        let retry = RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(100), ..RetryPolicy::default() };
        let days = (last - first).num_days() + 1;
        let bar = ProgressBar::new(days.max(0) as u64).with_style(ProgressStyle::with_template("  [{bar:40}] {pos}/{len} days ({eta} left)").expect("valid template"));
        let mut landed = 0;
        for day in first.iter_days().take_while(|d| *d <= last) {
            self.sim.state.set_day(day).map_err(anyhow::Error::msg)?;
            let clock = Clock::At(Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(23, 59, 0).expect("a time"))));
            // Profiles are one call per account: quick retries and many at once. The full
            // collection pages through everything, so it waits out the platforms' limits patiently.
            let options = if day == last && full_on_last {
                RunOptions { scope: Scope::Full, clock, governor: Some(self.governor.clone()), ..RunOptions::default() }
            } else {
                RunOptions { scope: Scope::Profile, clock, retry: retry.clone(), concurrency: 16, governor: Some(self.governor.clone()), ..RunOptions::default() }
            };
            let summary = analisa_ingest::run(&self.lake, &self.platforms, self.targets.clone(), options, |_| {}).await?;
            anyhow::ensure!(summary.failures.is_empty(), "collecting {day} failed: {:?}", summary.failures);
            landed += summary.landed;
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(landed)
    }
}

/// The pipeline over a simulated world's lake, with the built-in models (and a random
/// pseudonymisation key unless one is configured).
pub fn world_pipeline(lake: &Lake, config: &AppConfig) -> anyhow::Result<Pipeline> {
    let formulas = Formulas::load(config.pipeline.formulas.as_deref())?;
    let pseudonym_key = config.pipeline.pseudonym_key.clone().unwrap_or_else(|| SecretString::from(random_token()));
    let cache = CacheBus { url: config.redis.url.expose_secret().to_owned(), prefix: config.ingest.redis_prefix.clone() };
    Ok(Pipeline::new(lake.clone(), formulas, pseudonym_key)?.with_cache(cache))
}

pub fn step(what: &str) {
    eprintln!("==> {what}");
}
