//! The work queue on a real Redis: shared by workers, at-least-once, retried, dead-lettered,
//! and reclaimed from a worker that died holding tasks.

use std::time::Duration;

use analisa_ingest::{Queue, QueueConfig, Task, WorkerOptions, work};
use arrow::array::AsArray;
use arrow::datatypes::Int64Type;

use crate::collection::{lake, platforms, quick_retries, start_sim, targets};

fn config(reclaim_after: Duration) -> QueueConfig {
    let prefix = format!("analisa-test:queue:{}:{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    QueueConfig { prefix, reclaim_after, max_attempts: 2, ..QueueConfig::default() }
}

fn redis_url() -> String {
    std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

fn options(consumer: &str) -> WorkerOptions {
    WorkerOptions { consumer: consumer.into(), concurrency: 3, retry: quick_retries(3), governor: None, exit_when_idle: true, connections: None }
}

async fn count(lake: &analisa_lake::Lake, sql: &str) -> i64 {
    lake.session().await.unwrap().sql(sql).await.unwrap()[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_queue_and_bad_tasks_end_in_dead_letters() {
    let sim = start_sim("").await;
    let lake = lake().await;
    let mut all = targets(&sim);
    all.truncate(16);
    let queue = Queue::connect(&redis_url(), config(Duration::from_secs(60))).await.unwrap();
    let mut tasks: Vec<Task> = all.iter().map(|t| Task { platform: t.platform, account_id: t.account_id.clone(), attempt: 0, scope: analisa_ingest::Scope::Full }).collect();
    tasks.push(Task { platform: analisa_ingest::Platform::Instagram, account_id: "nobody".into(), attempt: 0, scope: analisa_ingest::Scope::Full });
    let mut broken = all.clone();
    let victim = broken.iter().position(|t| t.platform == analisa_ingest::Platform::Instagram).unwrap();
    broken[victim].tokens.facebook.as_mut().unwrap().access_token = "EAArevoked".into();
    assert_eq!(queue.enqueue(&tasks).await.unwrap(), 17);

    let platforms = platforms(&sim, "v24.0");
    let (a, b) = tokio::join!(
        work(queue.clone(), lake.clone(), platforms.clone(), broken.clone(), options("worker-a"), std::future::pending()),
        work(queue.clone(), lake.clone(), platforms.clone(), broken, options("worker-b"), std::future::pending()),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let dead_entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE").arg(queue.dead_key()).arg("-").arg("+").query_async(&mut redis).await.unwrap();
    let dead_errors: Vec<String> = dead_entries.ids.iter().map(|e| format!("{:?} {:?}", e.get::<String>("task"), e.get::<String>("error"))).collect();
    assert_eq!(a + b, 15, "every task but the unknown account and the revoked token: {dead_errors:?}");
    let (waiting, pending, dead) = queue.depth().await.unwrap();
    assert_eq!((waiting, pending, dead), (0, 0, 2));
    let ig = all.iter().filter(|t| t.platform == analisa_ingest::Platform::Instagram).count() as i64;
    assert_eq!(count(&lake, "SELECT count(DISTINCT account_ref) FROM bronze.instagram_raw WHERE endpoint = 'ig_user'").await, ig - 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_held_by_a_dead_worker_are_reclaimed_without_duplicates() {
    let sim = start_sim("").await;
    let lake = lake().await;
    let mut all = targets(&sim);
    all.truncate(10);
    let queue_config = config(Duration::from_millis(300));
    let queue = Queue::connect(&redis_url(), queue_config.clone()).await.unwrap();
    let tasks: Vec<Task> = all.iter().map(|t| Task { platform: t.platform, account_id: t.account_id.clone(), attempt: 0, scope: analisa_ingest::Scope::Full }).collect();
    queue.enqueue(&tasks).await.unwrap();
    let platforms = platforms(&sim, "v24.0");

    // A first worker collects everything once and is then stopped, as a crash would.
    work(queue.clone(), lake.clone(), platforms.clone(), all.clone(), options("first"), std::future::pending()).await.unwrap();

    // A worker that dies holding tasks: it read them and never acknowledged them.
    queue.enqueue(&tasks[..4]).await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP").arg("GROUP").arg("workers").arg("ghost").arg("COUNT").arg(4).arg("STREAMS").arg(format!("{}:tasks", queue_config.prefix)).arg(">").query_async(&mut redis).await.unwrap();
    let (_, pending, _) = queue.depth().await.unwrap();
    assert_eq!(pending, 4, "the ghost holds four tasks");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let done = work(queue.clone(), lake.clone(), platforms, all, options("second"), std::future::pending()).await.unwrap();
    assert_eq!(done, 4, "the second worker takes over the ghost's tasks");
    assert_eq!(queue.depth().await.unwrap(), (0, 0, 0));
    for table in ["bronze.instagram_raw", "bronze.facebook_raw", "bronze.tiktok_business_raw"] {
        let rows = count(&lake, &format!("SELECT count(*) FROM {table}")).await;
        let distinct = count(&lake, &format!("SELECT count(DISTINCT request_fingerprint) FROM {table}")).await;
        assert_eq!(rows, distinct, "{table}: no fingerprint twice");
    }
    sim.stop().await;
}
