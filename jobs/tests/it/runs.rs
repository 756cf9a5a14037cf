//! Runs of the whole pipeline on a simulated world collected by the real connectors: the
//! ledger, incremental runs, idempotency, a killed run, publishing and the scheduler.

use std::time::Duration;

use analisa_jobs::{RunOptions, Schedule, ScheduleConfig, Scheduler, StepStatus, select};
use chrono::{DateTime, Utc};

use crate::world::*;

fn options(step: &str) -> RunOptions {
    let mut options = RunOptions::new(select(step).unwrap());
    options.attempts = 1;
    options
}

#[tokio::test]
async fn incremental_runs_read_only_new_bronze_and_match_a_full_rebuild() {
    let sim = start_sim(31, 40, 60).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    let db = Database::create().await;
    let pipeline = pipeline_on(lake.clone());
    let mut targets = targets(&sim);
    let later = targets.split_off(targets.len() / 2);

    collect(&lake, &sim, targets).await;
    let first = pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    assert!(first.iter().all(|r| r.status == StepStatus::Succeeded), "{first:#?}");
    assert_eq!(first.len(), 15, "fourteen steps and the publication");

    // Nothing new: every step (and the publication) sees unchanged inputs and writes nothing.
    let before = gold(&lake).await;
    let again = pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    assert!(again.iter().all(|r| r.status == StepStatus::Unchanged), "{again:#?}");
    assert_same_gold(&gold(&lake).await, &before);

    // The other half of the accounts: silver steps read exactly the rows bronze gained.
    let landed = collect(&lake, &sim, later).await;
    let incremental = pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    for report in incremental.iter().filter(|r| r.step.starts_with("silver.")) {
        assert_eq!((report.step, report.rows_in), (report.step, landed), "a silver step read more than the new bronze rows");
    }
    assert!(incremental.iter().all(|r| r.status == StepStatus::Succeeded), "{incremental:#?}");
    // Comments and captions are scored once: the model reads only what silver gained.
    let scored = |runs: &[analisa_jobs::StepReport]| runs.iter().find(|r| r.step == "gold.comment_sentiment").map(|r| r.rows_in).unwrap();
    let texts = count(&lake, "silver.comments").await + count(&lake, "silver.posts").await;
    assert!(scored(&first) > 0 && scored(&incremental) > 0);
    assert_eq!(scored(&first) + scored(&incremental), texts, "every comment and post read exactly once");
    let after_incremental = gold(&lake).await;
    assert!(after_incremental["gold.influencer_metrics"].len() > before["gold.influencer_metrics"].len());

    // A full rebuild from all of bronze gives the same gold.
    let mut full = options("all");
    full.full = true;
    pipeline.run(&db.ledger, &full, |_| {}).await.unwrap();
    assert_same_gold(&gold(&lake).await, &after_incremental);

    let runs = db.ledger.recent(100).await.unwrap();
    assert_eq!(runs.len(), 60, "four runs of fifteen steps");
    assert!(runs.iter().all(|r| r.finished_at.is_some() && r.error.is_none()));
    db.drop_now().await;
}

#[tokio::test]
async fn a_new_day_of_tracking_is_read_alone_and_matches_a_full_rebuild() {
    let sim = start_sim(33, 30, 60).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    let db = Database::create().await;
    let pipeline = pipeline_on(lake.clone());
    let targets = targets(&sim);
    let today = sim.state.world.end_date;
    let yesterday = today - chrono::Duration::days(1);

    // A week of daily snapshots up to yesterday, and yesterday's full collection.
    track(&lake, &sim, &targets, yesterday - chrono::Duration::days(6), yesterday).await;
    let retry = analisa_ingest::RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50), ..Default::default() };
    let full_day = analisa_ingest::RunOptions { clock: at_end_of(yesterday), retry, ..Default::default() };
    let summary = analisa_ingest::run(&lake, &platforms(&sim), targets.clone(), full_day, |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let first = pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    assert!(first.iter().all(|r| r.status == StepStatus::Succeeded), "{first:#?}");
    let before = gold(&lake).await;

    // Today's snapshots: silver reads only them, and yesterday's history stays as it was.
    let landed = track(&lake, &sim, &targets, today, today).await;
    assert!(landed > 0);
    let incremental = pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    assert!(incremental.iter().all(|r| matches!(r.status, StepStatus::Succeeded | StepStatus::Unchanged)), "{incremental:#?}");
    for report in incremental.iter().filter(|r| r.step.starts_with("silver.") && r.status == StepStatus::Succeeded) {
        assert_eq!((report.step, report.rows_in), (report.step, landed), "a silver step read more than the new day's bronze rows");
    }
    let after = gold(&lake).await;
    let (old_days, new_days) = (&before["gold.influencer_daily"], &after["gold.influencer_daily"]);
    let today_marker = format!("\"date\":\"{today}\"");
    assert!(old_days.iter().all(|row| new_days.contains(row)), "a past day of the history changed");
    let added: Vec<&String> = new_days.iter().filter(|row| !old_days.contains(row)).collect();
    assert!(!added.is_empty() && added.iter().all(|row| row.contains(&today_marker)), "only today's rows are new: {:?}", added.iter().take(2).collect::<Vec<_>>());

    // A full rebuild from all of bronze gives the same gold.
    let mut full = options("all");
    full.full = true;
    pipeline.run(&db.ledger, &full, |_| {}).await.unwrap();
    assert_same_gold(&gold(&lake).await, &after);
    db.drop_now().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_run_killed_midway_reruns_to_the_tables_of_a_clean_run() {
    let sim = start_sim(32, 30, 60).await;
    let (crashed_dir, clean_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let crashed = file_lake(crashed_dir.path());
    crashed.init().await.unwrap();
    collect(&crashed, &sim, targets(&sim)).await;
    copy_dir(crashed_dir.path(), clean_dir.path());
    let clean = file_lake(clean_dir.path());
    let (crashed_db, clean_db) = (Database::create().await, Database::create().await);

    // Kill the run once three steps have finished: somewhere inside the fourth (dropping the
    // future stops it where it is, as a killed process would; its locks go with its sessions).
    {
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        let (pipeline, all) = (pipeline_on(crashed.clone()), options("all"));
        let run = pipeline.run(&crashed_db.ledger, &all, move |r| {
            let _ = done.send(r.step);
        });
        tokio::pin!(run);
        let mut steps_done = 0;
        while steps_done < 3 {
            tokio::select! {
                _ = &mut run => panic!("the run ended before it was killed"),
                Some(_) = finished.recv() => steps_done += 1,
            }
        }
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut run).await.is_err(), "still running when killed");
    }

    pipeline_on(crashed.clone()).run(&crashed_db.ledger, &options("all"), |_| {}).await.unwrap();
    pipeline_on(clean.clone()).run(&clean_db.ledger, &options("all"), |_| {}).await.unwrap();
    assert_same_gold(&gold(&crashed).await, &gold(&clean).await);
    crashed_db.drop_now().await;
    clean_db.drop_now().await;
}

#[tokio::test]
async fn a_failed_publication_leaves_the_previous_one_whole() {
    let sim = start_sim(33, 20, 40).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    collect(&lake, &sim, targets(&sim)).await;
    let db = Database::create().await;
    // The API's cache: one answer cached under the prefix before the publication.
    let prefix = format!("analisa-test:{}", std::process::id());
    let redis_url = std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    let mut redis = redis::Client::open(redis_url.as_str()).unwrap().get_multiplexed_async_connection().await.expect("Redis on 127.0.0.1:6379 (scripts/test starts it)");
    redis::cmd("SET").arg(format!("{prefix}:cache:/v1/influencers")).arg("stale").query_async::<()>(&mut redis).await.unwrap();
    let pipeline = pipeline_on(lake.clone()).with_cache(analisa_jobs::CacheBus { url: redis_url.clone(), prefix: prefix.clone() });
    pipeline.run(&db.ledger, &options("all"), |_| {}).await.unwrap();
    let announced: Option<i64> = redis::cmd("GET").arg(format!("{prefix}:published")).query_async(&mut redis).await.unwrap();
    let cached: Option<String> = redis::cmd("GET").arg(format!("{prefix}:cache:/v1/influencers")).query_async(&mut redis).await.unwrap();
    assert_eq!((announced, cached), (Some(1), None), "the publication is announced and cached answers dropped");
    let pool = db.ledger.pool();
    let published: Vec<(String, String, Option<f64>)> = sqlx::query_as("SELECT platform, account_id, score FROM serving.influencers ORDER BY 1, 2").fetch_all(pool).await.unwrap();
    assert_eq!(published.len(), 20);

    // Gold gains a second score row with a score of 150 (as a broken formula would write):
    // the serving table refuses it halfway through the publication's transaction.
    crate::support::put_from_lake(&lake, "gold.social_score", "SELECT platform, account_id, as_of_date, formula_id, formula_version, 150.0 AS score,
            confidence, cohort, cohort_widened_to, cohort_size, components, missing_components, strengths, weaknesses, input_versions, 'broken' AS run_id
        FROM gold.social_score ORDER BY platform, account_id LIMIT 1").await;
    let reports = pipeline.run(&db.ledger, &options("publish"), |_| {}).await.unwrap();
    assert!(matches!(&reports[0].status, StepStatus::Failed(_)), "{reports:#?}");
    let still: Vec<(String, String, Option<f64>)> = sqlx::query_as("SELECT platform, account_id, score FROM serving.influencers ORDER BY 1, 2").fetch_all(pool).await.unwrap();
    assert_eq!(still, published, "readers still see the previous publication, whole");
    let publications: i64 = sqlx::query_scalar("SELECT count(*) FROM serving.publications").fetch_one(pool).await.unwrap();
    assert_eq!(publications, 1);
    let announced: Option<i64> = redis::cmd("GET").arg(format!("{prefix}:published")).query_async(&mut redis).await.unwrap();
    assert_eq!(announced, Some(1), "a failed publication announces nothing");
    redis::cmd("DEL").arg(format!("{prefix}:published")).query_async::<()>(&mut redis).await.unwrap();
    db.drop_now().await;
}

#[tokio::test]
async fn two_schedulers_run_each_occurrence_once_and_never_early() {
    let db = Database::create().await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    let schedule = || Schedule::parse(&ScheduleConfig { name: "accounts".into(), cron: "*/10 * * * * *".into(), timezone: None, step: "silver.accounts".into() }).unwrap();
    let a = Scheduler::new(pipeline_on(lake.clone()), db.ledger.clone(), vec![schedule()]);
    let mut b = Scheduler::new(pipeline_on(lake.clone()), db.ledger.clone(), vec![schedule()]);
    b.identity = "other".into();
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();

    // Nothing is due before 12:00:10.
    assert!(a.tick(t("2026-11-28T12:00:00Z"), t("2026-11-28T12:00:09Z")).await.unwrap().is_empty());
    // Both wake for 12:00:10, 12:00:20 and 12:00:30 at once.
    let (from_a, from_b) = tokio::join!(a.tick(t("2026-11-28T12:00:09Z"), t("2026-11-28T12:00:30Z")), b.tick(t("2026-11-28T12:00:09Z"), t("2026-11-28T12:00:30Z")));
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    assert_eq!((from_a.len(), from_b.len()), (3, 3));
    for (x, y) in from_a.iter().zip(&from_b) {
        assert_eq!(x.due_at, y.due_at);
        assert!(x.reports.is_some() != y.reports.is_some(), "exactly one scheduler ran {}", x.due_at);
    }
    let runs: Vec<(String, String)> = sqlx::query_as("SELECT run_id, step FROM job_runs ORDER BY run_id").fetch_all(db.ledger.pool()).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), vec!["accounts-20261128T120010Z", "accounts-20261128T120020Z", "accounts-20261128T120030Z"]);

    // A step whose lock another process keeps holding is left to it.
    let lock = db.ledger.try_lock("silver.accounts").await.unwrap().unwrap();
    let mut impatient = options("silver.accounts");
    impatient.lock_wait = Duration::from_millis(300);
    let reports = pipeline_on(lake.clone()).run(&db.ledger, &impatient, |_| {}).await.unwrap();
    assert_eq!(reports[0].status, StepStatus::Locked);
    lock.release().await.unwrap();
    db.drop_now().await;
}
