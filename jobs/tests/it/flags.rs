//! Golden test of sql/gold/anomaly_flags.sql: daily histories, posts and comments written here
//! with one anomaly each, the flags worked out by hand.

use serde_json::{Value, json};

use crate::support::*;

/// Daily history of 70 days from 2026-09-01 (day i = 09-01 + i) for accounts whose ordinary
/// day-to-day gain is 10 + (i mod 3): median 11, median absolute deviation 1, robust standard
/// deviation 1.4826. `extra` adds to the gain of given days; `follows` sets follows per day.
fn history(id: &str, start: i64, extra: &str, follows: &str) -> String {
    format!(
        "SELECT 'instagram' AS platform, '{id}' AS account_id, CAST(CAST(CAST(DATE '2026-09-01' AS INT) + CAST(i AS INT) AS INT) AS DATE) AS date,
                {start} + SUM(gain) OVER (ORDER BY i) AS followers, {follows} AS follows, 0 AS posts, 'fixture' AS run_id
         FROM (SELECT i, CASE WHEN i = 0 THEN 0 ELSE 10 + i % 3 END + {extra} AS gain FROM (SELECT unnest(range(0, 70)) AS i) r) g"
    )
}

async fn fixture(pipeline: &analisa_jobs::Pipeline) {
    let lake = pipeline.lake();
    // s1: 5,000 more on day 61 (11-01): a gain of 5,011; then 3,010 fewer on day 63 (11-03).
    // Followers before the spike: 100,000 + 600 + 60 = 100,660, so the bar is
    // max(5 × 1.4826, 2% × 100,660) = 2,013.2.
    put(lake, "gold.influencer_daily", &history("s1", 100_000, "CASE i WHEN 61 THEN 5000 WHEN 63 THEN -3010 ELSE 0 END", "CAST(NULL AS BIGINT)")).await;
    // s2: +3,000 on day 61, the day after a post with 10× the usual engagement.
    put(lake, "gold.influencer_daily", &history("s2", 100_000, "CASE i WHEN 61 THEN 3000 ELSE 0 END", "CAST(NULL AS BIGINT)")).await;
    // s3: follows jump from 1,000 to 1,300 on day 50 (10-21) and back on day 54.
    put(lake, "gold.influencer_daily", &history("s3", 100_000, "0", "CASE WHEN i BETWEEN 50 AND 53 THEN 1300 ELSE 1000 END")).await;
    put(lake, "silver.posts", "SELECT 'instagram' AS platform, post_id, account_id, 'image' AS media_type, CAST(published AS TIMESTAMP) AS published_at,
            0 AS caption_length, string_to_array('', ' ') AS hashtags, string_to_array('', ' ') AS mentions, false AS is_pinned, false AS is_sponsored,
            100000 AS followers_at_publish, now() AS updated_at FROM (VALUES
        ('s2a', 's2', '2026-10-10T12:00:00'), ('s2b', 's2', '2026-10-12T12:00:00'), ('s2c', 's2', '2026-10-14T12:00:00'),
        ('s2d', 's2', '2026-10-16T12:00:00'), ('s2e', 's2', '2026-10-18T12:00:00'), ('s2v', 's2', '2026-10-31T12:00:00'),
        ('s4p', 's4', '2026-11-20T12:00:00'), ('s5p', 's5', '2026-11-20T12:00:00')) AS t(post_id, account_id, published)").await;
    put(lake, "silver.post_metrics", "SELECT 'instagram' AS platform, post_id, account_id, DATE '2026-11-28' AS snapshot_date, likes, 10 AS comments,
            'public' AS source, now() AS captured_at FROM (VALUES
        ('s2a', 's2', 90), ('s2b', 's2', 90), ('s2c', 's2', 90), ('s2d', 's2', 90), ('s2e', 's2', 90), ('s2v', 's2', 990),
        ('s4p', 's4', 90), ('s5p', 's5', 90)) AS t(post_id, account_id, likes)").await;
    // s4: 40 comments on its post: 20 "Amei demais!!" from 20 accounts, 5 emoji-only, 15 unique.
    // s5: 40 different comments.
    put(lake, "silver.comments", "SELECT 'instagram' AS platform, account_id || '-' || CAST(i AS VARCHAR) AS comment_id, post_id, account_id,
            'h' || CAST(i AS VARCHAR) AS commenter_hash,
            CASE WHEN account_id = 's4' AND i < 20 THEN 'Amei demais!!' WHEN account_id = 's4' AND i < 25 THEN '😍🔥'
                 ELSE 'comentário número ' || CAST(i AS VARCHAR) END AS text,
            TIMESTAMP '2026-11-21T10:00:00' AS published_at, now() AS updated_at
        FROM (SELECT unnest(range(0, 40)) AS i) n CROSS JOIN (VALUES ('s4', 's4p'), ('s5', 's5p')) AS a(account_id, post_id)").await;
    // o1–o5 (nano): ER .04 .041 .042 .043 and .001 for o5, which also has the most followers.
    // Tier median .041; absolute deviations 0 .001 .001 .002 .04 → robust sd 1.4826 × .001.
    put(lake, "gold.influencer_metrics", "SELECT 'instagram' AS platform, id AS account_id, DATE '2026-11-28' AS as_of_date, followers, 'nano' AS tier,
            er AS er_followers_median, 10 AS er_followers_posts, 0 AS er_views_posts, 0 AS er_reach_posts,
            'metrics/v1' AS formula_version, '{}' AS input_versions, 'fixture' AS run_id FROM (VALUES
        ('o1', 2000, 0.04), ('o2', 3000, 0.041), ('o3', 4000, 0.042), ('o4', 5000, 0.043), ('o5', 9000, 0.001)) AS t(id, followers, er)").await;
}

#[tokio::test]
async fn anomaly_flags_find_each_planted_anomaly_once() {
    let pipeline = pipeline(formulas()).await;
    fixture(&pipeline).await;
    run(&pipeline, &["gold.anomaly_flags"]).await;
    let flags = rows(&pipeline, "SELECT account_id, flag_type, CAST(day AS VARCHAR) AS day, penalised, evidence, reason, flag_id, detected_at
        FROM gold.anomaly_flags ORDER BY account_id, day, flag_type").await;
    let found: Vec<(Value, Value, Value, Value)> = flags.iter().map(|f| (f["account_id"].clone(), f["flag_type"].clone(), f["day"].clone(), f["penalised"].clone())).collect();
    assert_eq!(found, vec![
        (json!("o5"), json!("engagement_outlier"), json!("2026-11-28"), json!(true)),
        (json!("s1"), json!("follower_spike"), json!("2026-11-01"), json!(true)),
        (json!("s1"), json!("round_number_gain"), json!("2026-11-01"), json!(true)),
        (json!("s1"), json!("follower_drop_after_spike"), json!("2026-11-03"), json!(true)),
        (json!("s2"), json!("explained_viral"), json!("2026-11-01"), json!(false)),
        (json!("s3"), json!("following_churn"), json!("2026-10-21"), json!(true)),
        (json!("s4"), json!("comment_duplication"), json!("2026-11-28"), json!(true)),
    ]);
    let evidence = |i: usize| -> Value { serde_json::from_str(flags[i]["evidence"].as_str().unwrap()).unwrap() };
    assert_eq!(evidence(1), json!({"gain": 5011, "threshold": 2013.2, "robust_sd": 1.5, "followers_before": 100660}));
    assert_eq!(evidence(2), json!({"gain": 5011, "bundle": 5000}), "within 2% of 5,000");
    // After the spike 105,671; day 62 adds 12 (105,683), day 63 loses 3,000 (102,683):
    // 2,988 lost, at least half of 5,011.
    assert_eq!(evidence(3)["lost"], json!(2988));
    assert_eq!(evidence(4)["post_id"], json!("s2v"));
    assert_eq!(evidence(5), json!({"follows_low": 1000, "follows_high": 1300, "days": 7}));
    assert_eq!(evidence(6), json!({"comments": 40, "duplicates": 20, "emoji_only": 5, "share": 0.625}));
    assert_eq!(evidence(0)["tier_p75_followers"], json!(5000.0));
    assert!(flags[1]["reason"].as_str().unwrap().starts_with("Gained 5011 followers in one day"), "{}", flags[1]["reason"]);

    // A second run finds the same flags, keeps their ids and when they were first detected.
    run(&pipeline, &["gold.anomaly_flags"]).await;
    let again = rows(&pipeline, "SELECT account_id, flag_type, CAST(day AS VARCHAR) AS day, penalised, evidence, reason, flag_id, detected_at
        FROM gold.anomaly_flags ORDER BY account_id, day, flag_type").await;
    assert_eq!(again, flags);
}
