//! Full collection of a simulated world: everything the simulator holds ends up in bronze,
//! once, through faults and API churn.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use analisa_ingest::{PlatformConfig, PlatformsConfig, RetryPolicy, RunOptions, Target, run};
use analisa_lake::{Lake, LakeConfig};
use analisa_sim::WorldSpec;
use analisa_sim::server::{Budgets, RunningSim, SimOptions, parse_faults};
use analisa_sim::world::{MediaType, Platform};
use arrow::array::AsArray;
use serde_json::Value;
use url::Url;

/// The world most tests use: (seed, influencers, days).
const WORLD: (u64, u32, u32) = (21, 60, 40);
/// The full-collection test's world, the size the ingest requirements name.
const FULL_WORLD: (u64, u32, u32) = (21, 200, 40);

pub async fn start_sim(faults: &str) -> RunningSim {
    start_world(WORLD, faults).await
}

async fn start_world((seed, influencers, days): (u64, u32, u32), faults: &str) -> RunningSim {
    let world = WorldSpec::new(seed, influencers, days);
    RunningSim::start(SimOptions { world, listen: "127.0.0.1:0".parse().unwrap(), faults: parse_faults(faults).unwrap(), budgets: Budgets::default() }).await.unwrap()
}

/// The connectors' configuration pointing at the simulator, as `--write-config` writes it.
pub fn platforms(sim: &RunningSim, meta_version: &str) -> PlatformsConfig {
    let endpoints = sim.endpoints();
    let config = |key: &str| {
        let e = endpoints.iter().find(|e| e.key == key).unwrap();
        PlatformConfig {
            base_url: Url::parse(&e.base_url).unwrap(),
            api_version: if matches!(key, "instagram" | "facebook") { meta_version.to_owned() } else { e.api_version.clone() },
            auth_url: Url::parse(&e.auth_url).unwrap(),
            token_url: Url::parse(&e.token_url).unwrap(),
            client_id: Some(e.client_id.clone()),
            client_secret: Some(e.client_secret.clone().into()),
            redirect_uri: None,
            scopes: vec![],
            access_token: None,
        }
    };
    PlatformsConfig { instagram: config("instagram"), facebook: config("facebook"), tiktok: config("tiktok"), tiktok_business: config("tiktok_business"), ga4: config("ga4") }
}

pub fn targets(sim: &RunningSim) -> Vec<Target> {
    serde_json::from_value(sim.accounts_json()["accounts"].clone()).unwrap()
}

pub async fn lake() -> Lake {
    let lake = Lake::open(&LakeConfig { root: "memory://".into(), ..LakeConfig::default() }).unwrap();
    lake.init().await.unwrap();
    lake
}

pub fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy { max_attempts: attempts, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50), ..RetryPolicy::default() }
}

/// (endpoint, body) of every bronze row of a table.
pub async fn bronze(lake: &Lake, table: &str) -> Vec<(String, Value)> {
    let session = lake.session().await.unwrap();
    let batches = session.sql(&format!("SELECT endpoint, body FROM {table}")).await.unwrap();
    let mut out = Vec::new();
    for batch in batches {
        let (endpoints, bodies) = (batch.column(0), batch.column(1));
        for i in 0..batch.num_rows() {
            let text = |c: &dyn arrow::array::Array| match c.data_type() {
                arrow::datatypes::DataType::Utf8View => c.as_string_view().value(i).to_owned(),
                _ => c.as_string::<i32>().value(i).to_owned(),
            };
            out.push((text(endpoints.as_ref()), serde_json::from_str(&text(bodies.as_ref())).unwrap()));
        }
    }
    out
}

/// Compares id sets, reporting sizes and a few differences instead of both sets.
#[track_caller]
fn same(got: BTreeSet<String>, want: &BTreeSet<String>, what: &str) {
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(want).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{what}: got {}, want {}; missing {missing:?}; unexpected {extra:?}", got.len(), want.len());
}

fn ids(rows: &[(String, Value)], endpoint: &str, pointer: &str, id: &str) -> BTreeSet<String> {
    rows.iter()
        .filter(|(e, _)| e == endpoint)
        .flat_map(|(_, body)| body.pointer(pointer).and_then(Value::as_array).cloned().unwrap_or_default())
        // Instagram comments carry their replies inside `replies.data`.
        .flat_map(|item| std::iter::once(item.clone()).chain(item["replies"]["data"].as_array().cloned().unwrap_or_default()))
        .map(|item| item[id].as_str().unwrap().to_owned())
        .collect()
}

/// Comment ids of a Graph API platform: from its comment edge's pages and expanded inside the
/// pages of posts that list them.
fn comment_ids(rows: &[(String, Value)], edge: &str, posts: &str) -> BTreeSet<String> {
    let expanded: Vec<(String, Value)> = rows
        .iter()
        .filter(|(e, _)| e == posts)
        .flat_map(|(_, body)| body["data"].as_array().cloned().unwrap_or_default())
        .map(|post| (edge.to_owned(), post["comments"].clone()))
        .collect();
    let mut all = ids(rows, edge, "/data", "id");
    all.extend(ids(&expanded, edge, "/data", "id"));
    all
}

/// What the world holds, per platform: accounts, posts (no stories), top-level comments.
struct Expected {
    posts: HashMap<Platform, BTreeSet<String>>,
    comments: HashMap<Platform, BTreeSet<String>>,
    accounts: HashMap<Platform, usize>,
}

fn expected((seed, influencers, days): (u64, u32, u32)) -> Expected {
    let world = WorldSpec::new(seed, influencers, days);
    // The simulator's clock stands at the end of the last day: later comments are not written yet.
    let now = chrono::NaiveDate::from(world.end_date).succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let mut e = Expected { posts: HashMap::new(), comments: HashMap::new(), accounts: HashMap::new() };
    for account in world.accounts() {
        *e.accounts.entry(account.platform).or_default() += 1;
        let timeline = world.timeline(account.clone());
        for post in timeline.posts.iter().filter(|p| p.media_type != MediaType::Story) {
            e.posts.entry(account.platform).or_default().insert(post.id.clone());
            for comment in world.comments(&account, post).into_iter().filter(|c| c.published_at < now) {
                e.comments.entry(account.platform).or_default().insert(comment.id);
            }
        }
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_post_and_comment_lands_in_bronze_once() {
    let sim = start_world(FULL_WORLD, "").await;
    let lake = lake().await;
    let platforms = platforms(&sim, "v24.0");
    let summary = run(&lake, &platforms, targets(&sim), RunOptions { concurrency: 6, retry: quick_retries(4), ..RunOptions::default() }, |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(summary.accounts, FULL_WORLD.1 as usize);
    let want = expected(FULL_WORLD);

    let instagram = bronze(&lake, "bronze.instagram_raw").await;
    assert_eq!(instagram.iter().filter(|(e, _)| e == "ig_user").count(), want.accounts[&Platform::Instagram]);
    same(ids(&instagram, "media", "/data", "id"), &want.posts[&Platform::Instagram], "want.posts[&Platform::Instagram]");
    same(comment_ids(&instagram, "comments", "media"), &want.comments[&Platform::Instagram], "want.comments[&Platform::Instagram]");
    assert!(!instagram.iter().any(|(e, _)| e == "comments"), "every post's comments fit in its media page: no request per post");
    assert!(instagram.iter().any(|(e, _)| e == "account_insights"), "connected accounts have insights");

    let facebook = bronze(&lake, "bronze.facebook_raw").await;
    if let Some(pages) = want.accounts.get(&Platform::Facebook) {
        assert_eq!(facebook.iter().filter(|(e, _)| e == "page").count(), *pages);
        same(ids(&facebook, "page_posts", "/data", "id"), &want.posts[&Platform::Facebook], "want.posts[&Platform::Facebook]");
        same(comment_ids(&facebook, "page_post_comments", "page_posts"), &want.comments[&Platform::Facebook], "want.comments[&Platform::Facebook]");
    }

    let tiktok = bronze(&lake, "bronze.tiktok_business_raw").await;
    assert_eq!(tiktok.iter().filter(|(e, _)| e == "business_get").count(), want.accounts[&Platform::Tiktok]);
    same(ids(&tiktok, "video_list", "/data/videos", "item_id"), &want.posts[&Platform::Tiktok], "want.posts[&Platform::Tiktok]");
    same(ids(&tiktok, "comment_list", "/data/comments", "comment_id"), &want.comments[&Platform::Tiktok], "want.comments[&Platform::Tiktok]");

    let ga4 = bronze(&lake, "bronze.ga4_raw").await;
    assert!(!ga4.is_empty() && ga4.iter().all(|(e, b)| e == "run_report" && b["kind"] == "analyticsData#runReport"));

    // Secrets stay out of bronze; rate-limit headers are kept.
    let session = lake.session().await.unwrap();
    let leaks = session.sql("SELECT count(*) FROM bronze.instagram_raw WHERE request_path LIKE '%access_token%'").await.unwrap();
    assert_eq!(leaks[0].column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0), 0);
    let with_usage = session.sql("SELECT count(*) FROM bronze.instagram_raw WHERE rate_limit LIKE '%x-app-usage%'").await.unwrap();
    assert!(with_usage[0].column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0) > 0);

    // The same collection again lands nothing new: same pages, same fingerprints.
    let again = run(&lake, &platforms, targets(&sim), RunOptions { concurrency: 6, retry: quick_retries(4), ..RunOptions::default() }, |_| {}).await.unwrap();
    assert!(again.answers.values().sum::<u64>() > 0);
    assert_eq!(again.landed, 0, "nothing is landed twice");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_retried_and_nothing_is_lost() {
    let sim = start_sim("all:error_rate=0.1,truncated=0.05,malformed=0.05,storm=0.02").await;
    let lake = lake().await;
    // Three comments come inside each post's page; the rest come from the comment edge, whose
    // first page the platform links from the expanded ones.
    let options = RunOptions { concurrency: 4, retry: quick_retries(12), comments_expanded: 3, ..RunOptions::default() };
    let summary = run(&lake, &platforms(&sim, "v24.0"), targets(&sim), options, |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let want = expected(WORLD);
    let instagram = bronze(&lake, "bronze.instagram_raw").await;
    assert!(instagram.iter().any(|(e, b)| e == "comments" && b["data"].as_array().is_some_and(|d| !d.is_empty())), "the rest of the comments came from the edge");
    same(ids(&instagram, "media", "/data", "id"), &want.posts[&Platform::Instagram], "want.posts[&Platform::Instagram]");
    same(comment_ids(&instagram, "comments", "media"), &want.comments[&Platform::Instagram], "want.comments[&Platform::Instagram]");
    let tiktok = bronze(&lake, "bronze.tiktok_business_raw").await;
    same(ids(&tiktok, "video_list", "/data/videos", "item_id"), &want.posts[&Platform::Tiktok], "want.posts[&Platform::Tiktok]");
    // Only whole answers land: every body in bronze parses (broken ones were retried).
    let stats: Value = reqwest::get(format!("{}_sim/stats", sim.urls["ga4"])).await.unwrap().json().await.unwrap();
    assert!(stats["servers"]["facebook"]["requests"].as_u64().unwrap() > 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_metric_is_dropped_and_the_rest_still_lands() {
    let sim = start_sim("").await;
    let lake = lake().await;
    // v21 clients still asked for media `impressions`; the platform has retired it for
    // media created after July 2024, so it must be dropped with a warning, not fail the call.
    let summary = run(&lake, &platforms(&sim, "v21.0"), targets(&sim), RunOptions { concurrency: 4, retry: quick_retries(4), ..RunOptions::default() }, |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(summary.retired_metrics, ["instagram:impressions"]);
    let instagram = bronze(&lake, "bronze.instagram_raw").await;
    let media_insights: Vec<&Value> = instagram.iter().filter(|(e, b)| e == "media_insights" && b.get("data").is_some()).map(|(_, b)| b).collect();
    assert!(!media_insights.is_empty());
    assert!(media_insights.iter().all(|b| b["data"].as_array().unwrap().iter().all(|m| m["name"] != "impressions")));
    assert!(media_insights.iter().any(|b| b["data"].as_array().unwrap().iter().any(|m| m["name"] == "saved")));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_reported_not_retried_forever() {
    let sim = start_sim("").await;
    let lake = lake().await;
    let mut targets = targets(&sim);
    targets.retain(|t| t.platform == analisa_ingest::Platform::Instagram);
    targets.truncate(2);
    targets[0].tokens.facebook.as_mut().unwrap().access_token = "EAAexpired".into();
    let summary = run(&lake, &platforms(&sim, "v24.0"), targets.clone(), RunOptions { concurrency: 2, retry: quick_retries(4), ..RunOptions::default() }, |_| {}).await.unwrap();
    assert_eq!(summary.failures.len(), 1);
    assert_eq!(summary.failures[0].0, targets[0].account_id);
    assert!(summary.failures[0].1.contains("refused the access token"), "{:?}", summary.failures);
    let stats: Value = reqwest::get(format!("{}_sim/stats", sim.urls["ga4"])).await.unwrap().json().await.unwrap();
    assert!(stats["servers"]["facebook"]["requests"].as_u64().unwrap() > 1);
    sim.stop().await;
}
