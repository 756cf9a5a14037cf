//! The governor against a real Redis: budgets hold across workers.

use analisa_ingest::{Budgets, Governor, RunOptions, run};
use analisa_sim::server::{Budgets as SimBudgets, RunningSim, SimOptions, parse_faults};
use analisa_sim::WorldSpec;
use serde_json::Value;

use crate::collection::{lake, platforms, quick_retries, targets};

fn redis_url() -> String {
    std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

fn prefix() -> String {
    format!("analisa-test:{}:{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_exceed_the_budget() {
    // The simulator refuses TikTok for Business calls beyond 6 a second; the governor is
    // told the same budget and must keep two independent workers inside it.
    let world = WorldSpec::new(31, 24, 10);
    let sim = RunningSim::start(SimOptions { world, listen: "127.0.0.1:0".parse().unwrap(), faults: parse_faults("").unwrap(), budgets: SimBudgets { tiktok_business_per_second: 6, ..SimBudgets::default() } }).await.unwrap();
    let budgets = Budgets { tiktok_business_per_second: 6, ..Budgets::default() };
    let prefix = prefix();
    let mut tiktok: Vec<_> = targets(&sim).into_iter().filter(|t| t.platform == analisa_ingest::Platform::Tiktok).collect();
    assert!(tiktok.len() >= 4, "the world has TikTok accounts");
    let second_half = tiktok.split_off(tiktok.len() / 2);
    let (lake_a, lake_b) = (lake().await, lake().await);
    let platforms = platforms(&sim, "v24.0");
    let worker = |targets, lake: analisa_lake::Lake| {
        let (platforms, prefix, url) = (platforms.clone(), prefix.clone(), redis_url());
        async move {
            let governor = Governor::connect(&url, budgets, &prefix).await.unwrap();
            let options = RunOptions { concurrency: 3, retry: quick_retries(3), governor: Some(governor), ..RunOptions::default() };
            run(&lake, &platforms, targets, options, |_| {}).await.unwrap()
        }
    };
    let (a, b) = tokio::join!(worker(tiktok, lake_a), worker(second_half, lake_b));
    assert!(a.failures.is_empty() && b.failures.is_empty(), "{:?} {:?}", a.failures, b.failures);
    let stats: Value = reqwest::get(format!("{}_sim/stats", sim.urls["ga4"])).await.unwrap().json().await.unwrap();
    let served = stats["servers"]["tiktok_business"]["requests"].as_u64().unwrap();
    assert!(served > 12, "enough calls to cross the budget several times ({served})");
    assert_eq!(stats["servers"]["tiktok_business"]["throttled"], 0, "no call over the budget");
    sim.stop().await;
}

#[tokio::test]
async fn usage_near_the_limit_pauses_every_worker() {
    let prefix = prefix();
    let governor = Governor::connect(&redis_url(), Budgets::default(), &prefix).await.unwrap();
    let call = analisa_ingest::fetch::Call::get(analisa_ingest::Platform::Instagram, "media", "v24.0", "1784", url::Url::parse("http://127.0.0.1:9/").unwrap());
    let headers = serde_json::json!({ "x-app-usage": r#"{"call_count":95,"total_time":10,"total_cputime":10}"# }).to_string();
    governor.observe(&call, Some(&headers)).await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{prefix}:pause:meta")).query_async(&mut connection).await.unwrap();
    assert!(ttl > 0, "a pause is in force for every Meta call ({ttl})");
    let calm = serde_json::json!({ "x-app-usage": r#"{"call_count":12,"total_time":3,"total_cputime":3}"# }).to_string();
    let other = format!("{prefix}-calm");
    let calm_governor = Governor::connect(&redis_url(), Budgets::default(), &other).await.unwrap();
    calm_governor.observe(&call, Some(&calm)).await.unwrap();
    let ttl: i64 = redis::cmd("PTTL").arg(format!("{other}:pause:meta")).query_async(&mut connection).await.unwrap();
    assert_eq!(ttl, -2, "no pause below the threshold");
    // A business-use-case limit pauses only that account.
    let buc = serde_json::json!({ "x-business-use-case-usage": r#"{"1784":[{"type":"instagram","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":3}]}"# }).to_string();
    calm_governor.observe(&call, Some(&buc)).await.unwrap();
    let object: i64 = redis::cmd("PTTL").arg(format!("{other}:pause:object:instagram:1784")).query_async(&mut connection).await.unwrap();
    let family: i64 = redis::cmd("PTTL").arg(format!("{other}:pause:meta")).query_async(&mut connection).await.unwrap();
    assert!(object > 120_000 && family == -2, "object {object}, family {family}");
}

#[tokio::test]
async fn an_unreachable_redis_is_named() {
    let err = Governor::connect("redis://:secret@127.0.0.1:1/", Budgets::default(), "x").await.unwrap_err().to_string();
    assert!(err.contains("127.0.0.1:1") && !err.contains("secret"), "{err}");
}
