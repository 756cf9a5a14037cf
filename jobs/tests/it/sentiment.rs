//! Golden test of sql/gold/comment_sentiment.sql and sql/gold/sentiment.sql on a handful of
//! comments: what the model says of clear comments, the 90-day window, the 30-comment minimum,
//! and the arithmetic of net sentiment, worked out by hand.

use serde_json::json;

use crate::support::*;

/// Account a1 has 40 comments in the window (25 clearly positive, 10 clearly negative, 5
/// questions) on two posts, and 3 more from before the window; a2 has 4 comments.
async fn fixture(pipeline: &analisa_jobs::Pipeline) {
    let comments = [
        ("amei demais, perfeito 😍", 25, "p1", "a1", "2026-11-20"),
        ("que lixo, pior publi que já vi", 10, "p2", "a1", "2026-11-01"),
        ("qual o nome desse batom?", 5, "p2", "a1", "2026-09-01"),
        // 2026-08-30 is day 91 before 2026-11-28: outside the window.
        ("que lixo, pior publi que já vi", 3, "p0", "a1", "2026-08-30"),
        ("this is the best video ever, love it", 4, "p9", "a2", "2026-11-27"),
    ];
    let mut values = Vec::new();
    for (text, n, post, account, day) in comments {
        for _ in 0..n {
            values.push(format!("('c{}', '{post}', '{account}', '{}', TIMESTAMP '{day} 12:00:00')", values.len(), text.replace('\'', "''")));
        }
    }
    put(pipeline.lake(), "silver.comments", &format!("SELECT 'instagram' AS platform, id AS comment_id, post AS post_id, account AS account_id,
            'h' AS commenter_hash, text, at AS published_at, CAST(0 AS BIGINT) AS like_count, CAST(NULL AS VARCHAR) AS parent_comment_id, at AS updated_at
        FROM (VALUES {}) AS t(id, post, account, text, at)", values.join(", "))).await;
}

#[tokio::test]
async fn comments_are_scored_then_counted_per_post_and_creator() {
    let pipeline = pipeline(formulas()).await;
    fixture(&pipeline).await;
    run(&pipeline, &["gold.comment_sentiment", "gold.sentiment"]).await;
    let labels = rows(&pipeline, "SELECT post_id, label, language, count(*) AS n FROM gold.comment_sentiment GROUP BY post_id, label, language ORDER BY post_id").await;
    let labels: Vec<_> = labels.iter().map(|r| (r["post_id"].clone(), r["label"].clone(), r["language"].clone(), r["n"].clone())).collect();
    assert_eq!(labels, vec![
        (json!("p0"), json!("negative"), json!("pt"), json!(3)),
        (json!("p1"), json!("positive"), json!("pt"), json!(25)),
        (json!("p2"), json!("negative"), json!("pt"), json!(10)),
        (json!("p2"), json!("neutral"), json!("pt"), json!(5)),
        (json!("p9"), json!("positive"), json!("en"), json!(4)),
    ]);
    let rows = rows(&pipeline, "SELECT level, account_id, post_id, positive, neutral, negative, total, net_sentiment, null_reason FROM gold.sentiment ORDER BY level, account_id, post_id").await;
    let got: Vec<_> = rows.iter().map(|r| [&r["level"], &r["account_id"], &r["post_id"], &r["positive"], &r["neutral"], &r["negative"], &r["total"], &r["net_sentiment"], &r["null_reason"]].map(Clone::clone)).collect();
    let insufficient = json!("insufficient_comments");
    assert_eq!(got, vec![
        // a1 over 90 days: 25 positive, 5 neutral, 10 negative → (25 − 10) ÷ 40; p0 is outside.
        [json!("influencer"), json!("a1"), json!(""), json!(25), json!(5), json!(10), json!(40), json!(0.375), json!(null)],
        // a2: 4 comments, under 30 → null, with the reason.
        [json!("influencer"), json!("a2"), json!(""), json!(4), json!(0), json!(0), json!(4), json!(null), insufficient.clone()],
        [json!("post"), json!("a1"), json!("p1"), json!(25), json!(0), json!(0), json!(25), json!(null), insufficient.clone()],
        [json!("post"), json!("a1"), json!("p2"), json!(0), json!(5), json!(10), json!(15), json!(null), insufficient.clone()],
        [json!("post"), json!("a2"), json!("p9"), json!(4), json!(0), json!(0), json!(4), json!(null), insufficient],
    ]);
}
