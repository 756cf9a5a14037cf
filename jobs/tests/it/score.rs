//! Golden tests of sql/gold/benchmarks.sql, sql/views/cohorts.sql and sql/gold/social_score.sql
//! on gold.influencer_metrics rows written here. The cohort minimum is 3 instead of 200, so
//! five accounts show a cohort kept as it is, one widened by dropping the niche and one widened
//! by merging tiers.

use serde_json::json;

use crate::support::*;

/// Five Instagram accounts on 2026-11-28:
///
/// | id | niche   | tier  | er_followers_median | est_reach_per_post | growth_pct_30d | net sentiment | open flags |
/// |----|---------|-------|---------------------|--------------------|----------------|---------------|------------|
/// | f1 | fitness | micro | 0.02                | 3,000              | 0.10           | 0.5           | explained_viral (no penalty) |
/// | f2 | fitness | micro | 0.02                | 4,000              | 0.05           | 0.2           | follower_spike 25 + round_number_gain 15 (09-01) |
/// | f3 | fitness | micro | 0.04                | 5,000              | 0.05           | —             | — |
/// | b1 | beauty  | micro | 0.03                | 6,000              | 0.02           | 0.1           | — |
/// | m1 | food    | mega  | 0.01                | 100,000            | 0.01           | —             | — |
///
/// Cohorts: fitness/micro has 3 members (kept); beauty/micro has 1, so b1 is compared with
/// instagram/*/micro (4); food/mega and */mega have 1, so m1 goes to instagram/*/macro+mega (1).
async fn fixture(pipeline: &analisa_jobs::Pipeline) {
    let lake = pipeline.lake();
    put(lake, "gold.influencer_metrics", "SELECT 'instagram' AS platform, id AS account_id, DATE '2026-11-28' AS as_of_date, followers, tier, niche,
            er AS er_followers_median, 10 AS er_followers_posts, 0 AS er_views_posts, 0 AS er_reach_posts,
            reach AS est_reach_per_post, growth AS growth_pct_30d,
            'metrics/v1' AS formula_version, '{}' AS input_versions, 'fixture' AS run_id FROM (VALUES
        ('f1', 20000, 'micro', 'fitness', 0.02, 3000.0, 0.10),
        ('f2', 30000, 'micro', 'fitness', 0.02, 4000.0, 0.05),
        ('f3', 40000, 'micro', 'fitness', 0.04, 5000.0, 0.05),
        ('b1', 50000, 'micro', 'beauty', 0.03, 6000.0, 0.02),
        ('m1', 2000000, 'mega', 'food', 0.01, 100000.0, 0.01)) AS t(id, followers, tier, niche, er, reach, growth)").await;
    put(lake, "gold.sentiment", "SELECT 'influencer' AS level, 'instagram' AS platform, id AS account_id, '' AS post_id, DATE '2026-11-28' AS as_of_date,
            0 AS positive, 0 AS neutral, 0 AS negative, 100 AS total, net AS net_sentiment, 'sentiment@1' AS model_version, 'fixture' AS run_id FROM (VALUES
        ('f1', 0.5), ('f2', 0.2), ('b1', 0.1)) AS t(id, net)").await;
    put(lake, "gold.anomaly_flags", "SELECT flag_id, 'instagram' AS platform, id AS account_id, flag_type, DATE '2026-09-01' AS day, penalised,
            '{\"gain\":5000}' AS evidence, 'fixture' AS reason, 'flags/v1' AS formula_version, now() AS detected_at, 'fixture' AS run_id FROM (VALUES
        ('x1', 'f2', 'follower_spike', true), ('x2', 'f2', 'round_number_gain', true), ('x3', 'f1', 'explained_viral', false))
        AS t(flag_id, id, flag_type, penalised)").await;
}

#[tokio::test]
async fn benchmarks_widen_small_cohorts_and_interpolate_percentiles() {
    let pipeline = pipeline(formulas_with_cohort_min(3)).await;
    fixture(&pipeline).await;
    run(&pipeline, &["gold.benchmarks"]).await;
    let rows = rows(&pipeline, "SELECT niche, tier, widened_to, members, p10, p25, p50, p75, p90, mean FROM gold.benchmarks
        WHERE metric = 'er_followers_median' ORDER BY tier, niche").await;
    let cohorts: Vec<_> = rows.iter().map(|r| (r["niche"].clone(), r["tier"].clone(), r["widened_to"].clone(), r["members"].clone())).collect();
    assert_eq!(cohorts, vec![
        (json!("*"), json!("macro+mega"), json!("instagram/*/macro+mega"), json!(1)),
        (json!("*"), json!("micro"), json!("instagram/*/micro"), json!(4)),
        (json!("fitness"), json!("micro"), serde_json::Value::Null, json!(3)),
    ]);
    // instagram/*/micro: .02 .02 .03 .04; the p-th percentile sits at position p·(n−1).
    let wide = &rows[1];
    close(wide, "p10", 0.02); // position 0.3, between .02 and .02
    close(wide, "p25", 0.02); // 0.75
    close(wide, "p50", 0.025); // 1.5
    close(wide, "p75", 0.0325); // 2.25: .03 + .25 × .01
    close(wide, "p90", 0.037); // 2.7
    close(wide, "mean", 0.0275);
    // fitness/micro: .02 .02 .04.
    let kept = &rows[2];
    close(kept, "p50", 0.02);
    close(kept, "p75", 0.03); // 1.5
    close(kept, "p90", 0.036); // 1.8
    close(kept, "mean", 0.08 / 3.0);
    close(&rows[0], "p90", 0.01);
}

#[tokio::test]
async fn social_score_v1_with_breakdown_ties_missing_components_and_reasons() {
    let pipeline = pipeline(formulas_with_cohort_min(3)).await;
    fixture(&pipeline).await;
    run(&pipeline, &["gold.social_score"]).await;
    let rows = rows(&pipeline, "SELECT * FROM gold.social_score ORDER BY account_id").await;
    let by_id = |id: &str| rows.iter().find(|r| r["account_id"] == json!(id)).unwrap_or_else(|| panic!("no score for {id}"));
    let component = |id: &str, name: &str| -> serde_json::Value {
        by_id(id)["components"].as_array().unwrap().iter().find(|c| c["name"] == json!(name)).cloned().unwrap_or(serde_json::Value::Null)
    };
    let pct = |id: &str, name: &str| component(id, name)["percentile"].as_f64().unwrap();
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;

    // Ties: f1 and f2 share ER .02 in fitness/micro (.02 .02 .04): (0 below + ½ × 2 equal) ÷ 3.
    assert!(near(pct("f1", "engagement"), 100.0 / 3.0) && near(pct("f2", "engagement"), 100.0 / 3.0));
    assert!(near(pct("f3", "engagement"), 250.0 / 3.0)); // (2 + ½) ÷ 3
    // Reach within platform × niche (fitness has 3); beauty and food are compared with all 5.
    assert!(near(pct("f1", "reach"), 50.0 / 3.0) && near(pct("b1", "reach"), 70.0) && near(pct("m1", "reach"), 90.0));
    // Authenticity: 100 − 25 − 15 for f2; f1's explained viral spike costs nothing.
    assert!(near(pct("f2", "authenticity"), 60.0) && near(pct("f1", "authenticity"), 100.0));
    assert_eq!(component("f3", "sentiment"), serde_json::Value::Null);

    // f1: .3 × 33.3 + .2 × 16.7 + .2 × 83.3 (growth .10 tops .05 .05) + .15 × 75 + .15 × 100.
    let f1 = by_id("f1");
    close(f1, "score", 56.25);
    assert_eq!((f1["confidence"].clone(), f1["cohort"].clone(), f1["cohort_widened_to"].clone(), f1["cohort_size"].clone()),
        (json!("high"), json!("instagram/fitness/micro"), serde_json::Value::Null, json!(3)));
    assert!(near(component("f1", "engagement")["contribution"].as_f64().unwrap(), 10.0));
    assert_eq!(f1["strengths"], json!(["no open authenticity flags", "growth in the top 17% of micro fitness creators on Instagram",
        "sentiment in the top 25% of micro fitness creators on Instagram"]));
    assert_eq!(f1["weaknesses"], json!(["reach in the bottom 17% of fitness creators on Instagram"]));
    assert_eq!(f1["formula_version"], json!("social_score/v1"));

    // f2: 10 + .2 × 50 + .2 × 33.3 + .15 × 25 + .15 × 60.
    let f2 = by_id("f2");
    close(f2, "score", 10.0 + 10.0 + 20.0 / 3.0 + 3.75 + 9.0);
    assert_eq!(f2["strengths"], json!([]));
    assert_eq!(f2["weaknesses"], json!(["sentiment in the bottom 25% of micro fitness creators on Instagram", "authenticity lowered to 60 of 100 by open flags"]));

    // f3 has no sentiment: left out and named, the other weights renormalised over 0.85.
    let f3 = by_id("f3");
    close(f3, "score", (0.3 * 250.0 / 3.0 + 0.2 * 250.0 / 3.0 + 0.2 * 100.0 / 3.0 + 0.15 * 100.0) / 0.85);
    assert_eq!((f3["missing_components"].clone(), f3["confidence"].clone()), (json!(["sentiment"]), json!("medium")));
    let sum: f64 = f3["components"].as_array().unwrap().iter().map(|c| c["contribution"].as_f64().unwrap()).sum();
    assert!(near(sum, f3["score"].as_f64().unwrap()), "contributions add up to the score");

    // b1, widened to instagram/*/micro: ER .03 among .02 .02 .03 .04 → (2 + ½) ÷ 4; growth .02
    // lowest of .10 .05 .05 .02; sentiment .1 lowest of .5 .2 .1.
    let b1 = by_id("b1");
    close(b1, "score", 0.3 * 62.5 + 0.2 * 70.0 + 0.2 * 12.5 + 0.15 * 50.0 / 3.0 + 0.15 * 100.0);
    assert_eq!((b1["cohort"].clone(), b1["cohort_widened_to"].clone(), b1["cohort_size"].clone(), b1["confidence"].clone()),
        (json!("instagram/beauty/micro"), json!("instagram/*/micro"), json!(4), json!("medium")));

    // m1: alone in macro+mega (percentile 50), no sentiment, widened → low confidence.
    let m1 = by_id("m1");
    close(m1, "score", (0.3 * 50.0 + 0.2 * 90.0 + 0.2 * 50.0 + 0.15 * 100.0) / 0.85);
    assert_eq!((m1["cohort_widened_to"].clone(), m1["confidence"].clone()), (json!("instagram/*/macro+mega"), json!("low")));
}
