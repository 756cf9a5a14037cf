//! A simulated world collected by the real connectors into a lake on disk, with a PostgreSQL
//! database of its own: the ground of the pipeline's end-to-end tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use analisa_ingest::{Clock, PlatformsConfig, RetryPolicy, RunOptions, Scope, Target, run};
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use analisa_jobs::{Ledger, Pipeline};
use analisa_lake::{Lake, LakeConfig, TableId};
use analisa_sim::WorldSpec;
use arrow::array::AsArray;
use analisa_sim::server::{Budgets, RunningSim, SimOptions, parse_faults};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;

use crate::support::formulas;

pub async fn start_sim(seed: u64, influencers: u32, days: u32) -> RunningSim {
    let world = WorldSpec::new(seed, influencers, days);
    RunningSim::start(SimOptions { world, listen: "127.0.0.1:0".parse().unwrap(), faults: parse_faults("").unwrap(), budgets: Budgets::default() }).await.unwrap()
}

/// The connectors' configuration for the simulator: the `platforms.*` fragment it writes for
/// `analisa.toml`, read as the real configuration is.
pub fn platforms(sim: &RunningSim) -> PlatformsConfig {
    #[derive(serde::Deserialize)]
    struct Fragment {
        platforms: PlatformsConfig,
    }
    toml::from_str::<Fragment>(&sim.config_fragment()).unwrap().platforms
}

pub fn targets(sim: &RunningSim) -> Vec<Target> {
    serde_json::from_value(sim.accounts_json()["accounts"].clone()).unwrap()
}

/// Collects `targets` into the lake; returns the rows new to bronze.
pub async fn collect(lake: &Lake, sim: &RunningSim, targets: Vec<Target>) -> u64 {
    let retry = RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50), ..RetryPolicy::default() };
    let summary = run(lake, &platforms(sim), targets, RunOptions { retry, ..RunOptions::default() }, |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    summary.landed
}

/// The end of a day as the clock the connectors stamp snapshots with.
pub fn at_end_of(day: NaiveDate) -> Clock {
    Clock::At(Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(23, 59, 0).unwrap())))
}

/// Every day in [from, to]: the profile counters, as a tracking schedule takes them (what
/// follower history is made of). Leaves the simulator on `to`; returns the rows new to bronze.
pub async fn track(lake: &Lake, sim: &RunningSim, targets: &[Target], from: NaiveDate, to: NaiveDate) -> u64 {
    let retry = RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50), ..RetryPolicy::default() };
    let (mut day, mut landed) = (from, 0);
    while day <= to {
        sim.state.set_day(day).unwrap();
        let options = RunOptions { scope: Scope::Profile, clock: at_end_of(day), retry: retry.clone(), concurrency: 16, ..RunOptions::default() };
        let summary = run(lake, &platforms(sim), targets.to_vec(), options, |_| {}).await.unwrap();
        assert!(summary.failures.is_empty(), "{day}: {:?}", summary.failures);
        landed += summary.landed;
        day += chrono::Duration::days(1);
    }
    landed
}

pub fn file_lake(dir: &Path) -> Lake {
    Lake::open(&LakeConfig { root: format!("file://{}", dir.display()), ..LakeConfig::default() }).unwrap()
}

pub fn pipeline_on(lake: Lake) -> Pipeline {
    Pipeline::new(lake, formulas(), "world-test-key".to_owned().into()).expect("the built-in models load")
}

/// A database of the test's own with the migrations applied; dropped by `Database::drop_now`.
pub struct Database {
    pub ledger: Ledger,
    name: String,
}

fn admin_url() -> String {
    std::env::var("ANALISA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl Database {
    pub async fn create() -> Self {
        let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url()).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
        let name = format!("analisa_jobs_{}_{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
        let url = format!("{}/{name}", admin_url().rsplit_once('/').unwrap().0);
        let pool = PgPoolOptions::new().max_connections(8).connect(&url).await.unwrap();
        sqlx::migrate!("../migrations").run(&pool).await.unwrap();
        Self { ledger: Ledger::new(pool), name }
    }

    pub async fn drop_now(self) {
        self.ledger.pool().close().await;
        let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&admin).await.unwrap();
    }
}

/// Every gold table as sorted JSON rows, without what differs between equal runs: the run id,
/// when a flag was first seen, and the Delta versions read (a rerun after a crash has more
/// commits behind the same data).
pub async fn gold(lake: &Lake) -> BTreeMap<String, Vec<String>> {
    let session = lake.session().await.unwrap();
    let mut out = BTreeMap::new();
    for id in [TableId::INFLUENCER_DAILY, TableId::INFLUENCER_METRICS, TableId::ANOMALY_FLAGS, TableId::BENCHMARKS, TableId::SOCIAL_SCORE,
               TableId::COMMENT_SENTIMENT, TableId::SENTIMENT, TableId::FORECASTS] {
        let batches = session.sql(&format!("SELECT * FROM {id}")).await.unwrap();
        let mut writer = arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, arrow::json::writer::JsonArray>(Vec::new());
        for batch in &batches {
            writer.write(batch).unwrap();
        }
        writer.finish().unwrap();
        let buffer = writer.into_inner();
        let rows: Vec<serde_json::Map<String, Value>> = if buffer.is_empty() { Vec::new() } else { serde_json::from_slice(&buffer).unwrap() };
        let mut rows: Vec<String> = rows
            .into_iter()
            .map(|mut r| {
                for volatile in ["run_id", "detected_at", "input_versions"] {
                    r.remove(volatile);
                }
                Value::Object(r).to_string()
            })
            .collect();
        rows.sort();
        out.insert(id.to_string(), rows);
    }
    out
}

/// Rows of a lake table.
pub async fn count(lake: &Lake, table: &str) -> u64 {
    let batches = lake.session().await.unwrap().sql(&format!("SELECT count(*) FROM {table}")).await.unwrap();
    batches[0].column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0) as u64
}

/// Copies a lake directory (bronze and all) so two pipelines can start from the same data.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Asserts two gold snapshots are equal, naming the first rows that differ.
#[track_caller]
pub fn assert_same_gold(left: &BTreeMap<String, Vec<String>>, right: &BTreeMap<String, Vec<String>>) {
    for (table, rows) in left {
        let other = &right[table];
        let only_left: Vec<&String> = rows.iter().filter(|r| !other.contains(r)).take(2).collect();
        let only_right: Vec<&String> = other.iter().filter(|r| !rows.contains(r)).take(2).collect();
        assert!(only_left.is_empty() && only_right.is_empty(), "{table} differs ({} vs {} rows):\n  only left: {only_left:?}\n  only right: {only_right:?}", rows.len(), other.len());
    }
}
