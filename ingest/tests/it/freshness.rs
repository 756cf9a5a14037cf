//! Per-account freshness: the organisations' tracked accounts and running campaigns' accounts
//! are enqueued on their schedules, each occurrence once however many schedulers run.

use std::time::Duration;

use analisa_ingest::freshness::{Cadence, Freshness, FreshnessConfig, enqueue_due};
use analisa_ingest::{Queue, QueueConfig, Task};
use chrono::{TimeZone, Utc};

use crate::oauth::{database, drop_database};

fn queue_config() -> QueueConfig {
    let prefix = format!("analisa-test:fresh:{}:{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    QueueConfig { prefix, reclaim_after: Duration::from_secs(60), ..QueueConfig::default() }
}

/// The tasks on the queue, in order.
async fn queued(config: &QueueConfig) -> Vec<Task> {
    let url = std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let mut redis = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE").arg(format!("{}:tasks", config.prefix)).arg("-").arg("+").query_async(&mut redis).await.unwrap();
    entries.ids.iter().map(|e| serde_json::from_str(&e.get::<String>("task").unwrap()).unwrap()).collect()
}

#[test]
fn schedules_parse_and_both_come_when_due_at_once() {
    let freshness = Freshness::parse(&FreshnessConfig::default()).unwrap();
    let from = Utc.with_ymd_and_hms(2026, 11, 30, 2, 30, 0).unwrap();
    let due = freshness.due_between(from, from + chrono::Duration::hours(2));
    let at = |h| Utc.with_ymd_and_hms(2026, 11, 30, h, 0, 0).unwrap();
    assert_eq!(due, [(Cadence::Campaigns, at(3)), (Cadence::Tracked, at(4)), (Cadence::Campaigns, at(4))]);
    let sao_paulo = Freshness::parse(&FreshnessConfig { timezone: Some("America/Sao_Paulo".into()), ..FreshnessConfig::default() }).unwrap();
    let day = sao_paulo.due_between(from, from + chrono::Duration::days(1));
    assert!(day.contains(&(Cadence::Tracked, at(7))), "04:00 in São Paulo is 07:00 UTC: {day:?}");
    for bad in [FreshnessConfig { tracked: "every day".into(), ..FreshnessConfig::default() }, FreshnessConfig { timezone: Some("Mars/Olympus".into()), ..FreshnessConfig::default() }] {
        let error = Freshness::parse(&bad).unwrap_err().to_string();
        assert!(error.starts_with("ingest.freshness:"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracked_and_campaign_accounts_are_enqueued_once_per_occurrence() {
    let (pool, name) = database().await;
    let org = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO organisations (org_id, name, plan) VALUES ($1, 'Agência', 'pro')").bind(org).execute(&pool).await.unwrap();
    let list = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO tracked_lists (list_id, org_id, name) VALUES ($1, $2, 'Favoritos')").bind(list).bind(org).execute(&pool).await.unwrap();
    for (platform, account) in [("instagram", "1001"), ("tiktok", "2002"), ("myspace", "3003")] {
        sqlx::query("INSERT INTO tracked_list_members (list_id, platform, account_id) VALUES ($1, $2, $3)").bind(list).bind(platform).bind(account).execute(&pool).await.unwrap();
    }
    for (days, (platform, account)) in [((-1, 3), ("facebook", "4004")), ((-30, -2), ("instagram", "5005")), ((-1, 3), ("instagram", "1001"))] {
        let campaign = uuid::Uuid::new_v4();
        let today = Utc::now().date_naive();
        sqlx::query("INSERT INTO campaigns (campaign_id, org_id, name, starts_on, ends_on, status) VALUES ($1, $2, 'C', $3, $4, 'active')")
            .bind(campaign)
            .bind(org)
            .bind(today + chrono::Duration::days(days.0))
            .bind(today + chrono::Duration::days(days.1))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO campaign_members (campaign_id, platform, account_id) VALUES ($1, $2, $3)").bind(campaign).bind(platform).bind(account).execute(&pool).await.unwrap();
    }
    // Connected accounts are collected daily while their token works.
    for (platform, account, status) in [("ga4", "123456", "active"), ("instagram", "1001", "active"), ("tiktok", "6006", "needs_reauth"), ("facebook", "7007", "revoked")] {
        sqlx::query("INSERT INTO platform_connections (id, org_id, platform, account_id, status, access_token) VALUES ($1, $2, $3, $4, $5, '\\x00')")
            .bind(uuid::Uuid::new_v4())
            .bind(org.to_string())
            .bind(platform)
            .bind(account)
            .bind(status)
            .execute(&pool)
            .await
            .unwrap();
    }
    let config = queue_config();
    let url = std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let queue = Queue::connect(&url, config.clone()).await.unwrap();
    let now = Utc::now();

    // Daily: everything tracked, in a campaign or connected, once each; the unknown platform and
    // the connections that need re-authorisation or were revoked are skipped.
    assert_eq!(enqueue_due(&pool, &queue, Cadence::Tracked, now, "scheduler-a").await.unwrap(), Some(5));
    // A second scheduler finds the occurrence taken and enqueues nothing.
    assert_eq!(enqueue_due(&pool, &queue, Cadence::Tracked, now, "scheduler-b").await.unwrap(), None);
    let ids = |tasks: &[Task]| tasks.iter().map(|t| format!("{}:{}", t.platform, t.account_id)).collect::<Vec<_>>();
    assert_eq!(ids(&queued(&config).await), ["facebook:4004", "ga4:123456", "instagram:1001", "instagram:5005", "tiktok:2002"]);

    // Hourly: the accounts of the campaigns running today only.
    assert_eq!(enqueue_due(&pool, &queue, Cadence::Campaigns, now, "scheduler-b").await.unwrap(), Some(2));
    assert_eq!(ids(&queued(&config).await[5..]), ["facebook:4004", "instagram:1001"]);
    assert!(queued(&config).await.iter().all(|t| t.scope == analisa_ingest::Scope::Full && t.attempt == 0));
    drop_database(pool, &name).await;
}
