//! Golden test of sql/gold/influencer_metrics.sql (and the post_engagement view under it): a
//! handful of accounts and posts written here, every expected value worked out by hand.

use serde_json::json;

use crate::support::*;

/// as_of_date is 2026-11-28. ig_a (Instagram, 2,200 followers: nano) has six feed posts in the
/// 90-day window, all with 2,000 followers at publication:
///
/// | post | day   | likes | comments | likes+comments | ER   |
/// |------|-------|-------|----------|----------------|------|
/// | p1   | 11-27 | 18    | 2        | 20             | 0.01 |
/// | p2   | 11-20 | 36    | 4        | 40             | 0.02 (sponsored: #publi) |
/// | p3   | 11-10 | 55    | 5        | 60             | 0.03 |
/// | p4   | 10-30 | 72    | 8        | 80             | 0.04 |
/// | p5   | 10-01 | 90    | 10       | 100            | 0.05 |
/// | p6   | 09-15 | 900   | 100      | 1000           | 0.50 |
///
/// plus a pinned post (11-01, left out of the ER window), a story (11-27, never in ER) and an
/// old post (08-01, 119 days back: outside the window, inside days 91–180).
async fn fixture(pipeline: &analisa_jobs::Pipeline) {
    let lake = pipeline.lake();
    put(lake, "silver.accounts", "SELECT * FROM (VALUES
        ('instagram', 'ig_a', 'ana.fit', 'fitness', 'BR', 'pt'),
        ('instagram', 'ig_b', 'bia.fit', 'fitness', 'BR', 'pt'),
        ('tiktok', 'tt_c', 'caio.tt', 'comedy', 'BR', 'pt'))
        AS t(platform, account_id, handle, niche, country, language), (SELECT now() AS first_seen_at, now() AS updated_at)").await;
    // ig_a: 2,200 today, 2,100 a week ago, 2,000 thirty days ago; nothing 90 days ago but
    // 1,600 two days before that (within the 3 days a growth base may be older).
    put(lake, "silver.account_daily", "SELECT platform, account_id, CAST(d AS DATE) AS snapshot_date, followers, now() AS captured_at FROM (VALUES
        ('instagram', 'ig_a', '2026-11-28', 2200), ('instagram', 'ig_a', '2026-11-21', 2100),
        ('instagram', 'ig_a', '2026-10-29', 2000), ('instagram', 'ig_a', '2026-08-28', 1600),
        ('instagram', 'ig_b', '2026-11-28', 50000),
        ('tiktok', 'tt_c', '2026-11-28', 8000)) AS t(platform, account_id, d, followers)").await;
    put(lake, "silver.posts", "SELECT platform, post_id, account_id, media_type, CAST(published AS TIMESTAMP) AS published_at,
            0 AS caption_length, string_to_array('', ' ') AS hashtags, string_to_array('', ' ') AS mentions,
            pinned AS is_pinned, sponsored AS is_sponsored, followers AS followers_at_publish, now() AS updated_at FROM (VALUES
        ('instagram', 'p1', 'ig_a', 'image', '2026-11-27T12:00:00', false, false, 2000),
        ('instagram', 'p2', 'ig_a', 'image', '2026-11-20T12:00:00', false, true, 2000),
        ('instagram', 'p3', 'ig_a', 'carousel', '2026-11-10T12:00:00', false, false, 2000),
        ('instagram', 'p4', 'ig_a', 'image', '2026-10-30T12:00:00', false, false, 2000),
        ('instagram', 'p5', 'ig_a', 'image', '2026-10-01T12:00:00', false, false, 2000),
        ('instagram', 'p6', 'ig_a', 'image', '2026-09-15T12:00:00', false, false, 2000),
        ('instagram', 'p7', 'ig_a', 'image', '2026-11-01T12:00:00', true, false, 2000),
        ('instagram', 'p8', 'ig_a', 'story', '2026-11-27T18:00:00', false, false, 2000),
        ('instagram', 'p9', 'ig_a', 'image', '2026-08-01T12:00:00', false, false, 1500),
        ('instagram', 'b1', 'ig_b', 'image', '2026-11-25T12:00:00', false, false, 50000),
        ('instagram', 'b2', 'ig_b', 'image', '2026-11-15T12:00:00', false, false, 50000),
        ('instagram', 'b3', 'ig_b', 'image', '2026-11-05T12:00:00', false, false, 50000),
        ('instagram', 'b4', 'ig_b', 'image', '2026-10-25T12:00:00', false, false, 50000),
        ('tiktok', 'v1', 'tt_c', 'video', '2026-11-27T12:00:00', false, false, 8000),
        ('tiktok', 'v2', 'tt_c', 'video', '2026-11-26T12:00:00', false, false, 8000),
        ('tiktok', 'v3', 'tt_c', 'video', '2026-11-25T12:00:00', false, false, 8000),
        ('tiktok', 'v4', 'tt_c', 'video', '2026-11-24T12:00:00', false, false, 8000),
        ('tiktok', 'v5', 'tt_c', 'video', '2026-11-23T12:00:00', false, false, 8000))
        AS t(platform, post_id, account_id, media_type, published, pinned, sponsored, followers)").await;
    // Counters: an older snapshot of p1 (ignored: the newest on or before as_of wins) and a
    // snapshot after as_of (ignored too).
    put(lake, "silver.post_metrics", "SELECT platform, post_id, account_id, CAST(d AS DATE) AS snapshot_date,
            likes, comments, shares, views, 'public' AS source, now() AS captured_at FROM (VALUES
        ('instagram', 'p1', 'ig_a', '2026-11-27', 1, 0, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)),
        ('instagram', 'p1', 'ig_a', '2026-11-28', 18, 2, NULL, NULL),
        ('instagram', 'p1', 'ig_a', '2026-11-29', 500, 50, NULL, NULL),
        ('instagram', 'p2', 'ig_a', '2026-11-28', 36, 4, NULL, NULL),
        ('instagram', 'p3', 'ig_a', '2026-11-28', 55, 5, NULL, NULL),
        ('instagram', 'p4', 'ig_a', '2026-11-28', 72, 8, NULL, NULL),
        ('instagram', 'p5', 'ig_a', '2026-11-28', 90, 10, NULL, NULL),
        ('instagram', 'p6', 'ig_a', '2026-11-28', 900, 100, NULL, NULL),
        ('instagram', 'p7', 'ig_a', '2026-11-28', 5000, 500, NULL, NULL),
        ('instagram', 'p8', 'ig_a', '2026-11-28', 0, 0, NULL, NULL),
        ('instagram', 'p9', 'ig_a', '2026-11-28', 9, 1, NULL, NULL),
        ('instagram', 'b1', 'ig_b', '2026-11-28', 500, 20, NULL, NULL),
        ('instagram', 'b2', 'ig_b', '2026-11-28', 500, 20, NULL, NULL),
        ('instagram', 'b3', 'ig_b', '2026-11-28', 500, 20, NULL, NULL),
        ('instagram', 'b4', 'ig_b', '2026-11-28', 500, 20, NULL, NULL),
        ('tiktok', 'v1', 'tt_c', '2026-11-28', 90, 5, 5, 1000),
        ('tiktok', 'v2', 'tt_c', '2026-11-28', 50, 5, 5, 1000),
        ('tiktok', 'v3', 'tt_c', '2026-11-28', 50, 5, 5, 1000),
        ('tiktok', 'v4', 'tt_c', '2026-11-28', 30, 5, 5, 1000),
        ('tiktok', 'v5', 'tt_c', '2026-11-28', 10, 5, 5, 1000))
        AS t(platform, post_id, account_id, d, likes, comments, shares, views)").await;
}

#[tokio::test]
async fn influencer_metrics_follow_metrics_md() {
    let pipeline = pipeline(formulas()).await;
    fixture(&pipeline).await;
    run(&pipeline, &["gold.influencer_metrics"]).await;
    let rows = rows(&pipeline, "SELECT * FROM gold.influencer_metrics ORDER BY platform, account_id").await;
    assert_eq!(rows.len(), 3);
    let (a, b, c) = (&rows[0], &rows[1], &rows[2]);

    assert_eq!((a["account_id"].clone(), a["tier"].clone(), a["followers"].clone()), (json!("ig_a"), json!("nano"), json!(2200)));
    assert_eq!(a["er_followers_posts"], json!(6), "pinned, story and the 119-day-old post are out of the window");
    // Mean vs median: the viral p6 pulls the mean up, not the median.
    close(a, "er_followers_mean", (0.01 + 0.02 + 0.03 + 0.04 + 0.05 + 0.5) / 6.0); // 0.1083…
    close(a, "er_followers_median", (0.03 + 0.04) / 2.0); // 0.035
    null(a, "er_followers_full");
    null(a, "er_views");
    null(a, "er_reach");
    close(a, "avg_likes", 1171.0 / 6.0);
    close(a, "median_likes", (55.0 + 72.0) / 2.0);
    close(a, "avg_comments", 129.0 / 6.0);
    close(a, "median_comments", (5.0 + 8.0) / 2.0);
    close(a, "posts_per_week", 6.0 / (90.0 / 7.0));
    close(a, "growth_pct_7d", 100.0 / 2100.0);
    close(a, "growth_pct_30d", 0.1);
    close(a, "velocity_30d", 200.0 / 30.0);
    close(a, "growth_pct_90d", 600.0 / 1600.0); // base from 08-28, 92 days back
    // Mean engagements 1300/6 over days 1–90 against 10 (p9) over days 91–180.
    close(a, "engagement_growth_90d", 1300.0 / 6.0 / 10.0 - 1.0);
    // Not video-first: followers × the nano reach rate 0.22; EMV at CPM 6.50.
    close(a, "est_reach_per_post", 2200.0 * 0.22);
    close(a, "est_impressions", 2200.0 * 0.22);
    close(a, "emv_usd", 6.5 * 2200.0 * 0.22 / 1000.0);
    // Weeks back (0 = the 7 days ending 11-28) with a post: p1 0, p2 1, p3 2, p7 3, p4 4, p5 8,
    // p6 10 → 7 of 13.
    close(a, "consistency_13w", 7.0 / 13.0);
    // Gaps between the window posts: 16, 29, 11, 10, 7 days; mean 14.6; sample variance 75.3.
    close(a, "post_gap_stddev_days", 75.3f64.sqrt());
    close(a, "sponsored_share", 1.0 / 6.0);
    close(a, "er_sponsored", 0.02);
    close(a, "er_organic", (0.65 - 0.02) / 5.0);
    let reasons: serde_json::Value = serde_json::from_str(a["null_reasons"].as_str().unwrap()).unwrap();
    assert_eq!(reasons, json!({"er_followers_full": "no_shares_saves", "er_views": "no_videos", "er_reach": "no_insights"}));
    assert_eq!(a["formula_version"], json!("metrics/v1"));

    // ig_b: four posts, one short of the minimum: null with the reason, never 0.
    assert_eq!((b["tier"].clone(), b["er_followers_posts"].clone()), (json!("micro"), json!(4)));
    null(b, "er_followers_mean");
    null(b, "er_followers_median");
    null(b, "avg_likes");
    null(b, "growth_pct_30d");
    let reasons: serde_json::Value = serde_json::from_str(b["null_reasons"].as_str().unwrap()).unwrap();
    assert_eq!(reasons["er_followers_mean"], json!("insufficient_posts"));
    assert_eq!(reasons["growth_pct_30d"], json!("no_history"));

    // tt_c: five videos, ER on views (likes+comments+shares)/views = .1, .06, .06, .04, .02.
    assert_eq!(c["er_views_posts"], json!(5));
    close(c, "er_views", (0.1 + 0.06 + 0.06 + 0.04 + 0.02) / 5.0);
    close(c, "avg_views", 1000.0);
    close(c, "est_reach_per_post", 1000.0); // video-first: mean views
}

/// `analisa jobs sql` prints a script (registry tables, views, the query) that computes exactly
/// what the step writes, so the formula can be read, or run in another engine, as it runs here.
#[tokio::test]
async fn the_printed_script_computes_what_the_step_writes() {
    let pipeline = pipeline(formulas()).await;
    fixture(&pipeline).await;
    let script = pipeline.script(step("gold.influencer_metrics"), Some(as_of()), "golden").await.unwrap();
    assert!(script.starts_with("CREATE SCHEMA IF NOT EXISTS registry;") && script.contains("CREATE VIEW silver.post_engagement AS"), "{script}");
    assert!(!script.contains("${"), "every parameter is filled in: {script}");

    run(&pipeline, &["gold.influencer_metrics"]).await;
    let written = rows(&pipeline, "SELECT * FROM gold.influencer_metrics ORDER BY platform, account_id").await;

    // A session without the registry the pipeline registers: the script brings its own.
    let session = pipeline.lake().session().await.unwrap();
    let statements: Vec<&str> = script.split(";\n").map(str::trim).filter(|s| !s.is_empty()).collect();
    let (query, setup) = statements.split_last().unwrap();
    for statement in setup {
        session.sql(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let computed = json_rows(session.sql(&format!("SELECT * FROM ({query}) ORDER BY platform, account_id")).await.unwrap());
    assert_eq!(computed.len(), 3);
    assert_eq!(computed, written);
}

#[tokio::test]
async fn explain_shows_the_plan_and_with_analyze_what_each_operator_did() {
    let pipeline = pipeline(formulas()).await;
    fixture(&pipeline).await;
    let plan = pipeline.explain(step("gold.influencer_metrics"), Some(as_of()), false).await.unwrap();
    assert!(plan.contains("physical_plan") && plan.contains("AggregateExec"), "{plan}");
    assert!(!plan.contains("output_rows"), "nothing ran: {plan}");
    let analyzed = pipeline.explain(step("gold.influencer_metrics"), Some(as_of()), true).await.unwrap();
    assert!(analyzed.contains("output_rows=3"), "the three influencers came out: {analyzed}");
    assert!(analyzed.contains("elapsed_compute"), "{analyzed}");
    let written = rows(&pipeline, "SELECT count(*) AS n FROM gold.influencer_metrics").await;
    assert_eq!(written[0]["n"], 0, "explain writes nothing");
}
