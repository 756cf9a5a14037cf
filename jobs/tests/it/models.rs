//! The models in the pipeline: every comment of a simulated world scored (checked against the
//! simulator's ground truth, which the model never saw: the sim's comment templates are not in
//! its training data), the aggregates of metrics.md, the forecasts with their intervals, and
//! both published to the serving tables.

use std::collections::HashMap;

use analisa_jobs::{RunOptions, StepStatus, select};
use analisa_sim::WorldSpec;
use serde_json::Value;

use crate::support::rows;
use crate::world::*;

const SEED: u64 = 77;
const INFLUENCERS: u32 = 24;
const DAYS: u32 = 100;

#[tokio::test]
async fn comments_are_scored_and_followers_forecast_then_published() {
    let sim = start_sim(SEED, INFLUENCERS, DAYS).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    let db = Database::create().await;
    // Half the creators tracked daily for 65 days (history for the network), the others seen
    // once at the end (a single snapshot, or TikTok's 30 days: drift, or no forecast at all).
    let everyone = targets(&sim);
    let end = WorldSpec::new(SEED, INFLUENCERS, DAYS).end_date;
    let tracked: Vec<_> = everyone.iter().step_by(2).cloned().collect();
    track(&lake, &sim, &tracked, end - chrono::Duration::days(64), end).await;
    collect(&lake, &sim, everyone).await;
    let pipeline = pipeline_on(lake.clone());
    let reports = pipeline.run(&db.ledger, &RunOptions::new(select("all").unwrap()), |_| {}).await.unwrap();
    assert!(reports.iter().all(|r| r.status == StepStatus::Succeeded), "{reports:#?}");

    // Ground truth of every stored comment.
    let world = WorldSpec::new(SEED, INFLUENCERS, DAYS);
    let mut truth = HashMap::new();
    for account in world.accounts() {
        let timeline = world.timeline(account.clone());
        for post in &timeline.posts {
            for c in world.comments(&timeline.account, post) {
                // Spanish is `other` to the model; a comment of fewer than three words (emoji,
                // "top!!") says too little to have a language.
                let words = c.text.split(|ch: char| !ch.is_alphabetic()).filter(|w| w.chars().count() >= 2).count();
                let lang = match c.lang.as_str() {
                    _ if words < 3 => None,
                    "es" => Some("other"),
                    other => Some(other),
                };
                truth.insert(c.id.clone(), (c.sentiment.as_str(), lang, c.lang.as_str()));
            }
        }
    }
    let scored = rows(&pipeline, "SELECT comment_id, label, language, model_version, p_negative + p_neutral + p_positive AS p FROM gold.comment_sentiment WHERE source = 'comment'").await;
    assert_eq!(scored.len() as u64, count(&lake, "silver.comments").await, "every comment scored once");
    let captions = rows(&pipeline, "SELECT (SELECT count(*) FROM gold.comment_sentiment WHERE source = 'caption') AS scored,
        (SELECT count(*) FROM silver.posts WHERE caption IS NOT NULL AND trim(caption) <> '') AS posts").await;
    assert!(captions[0]["scored"].as_i64().unwrap() > 0);
    assert_eq!(captions[0]["scored"], captions[0]["posts"], "every caption scored once");
    let (mut right, mut lang_right, mut with_lang) = (0, 0, 0);
    let mut by_language: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for row in &scored {
        let (label, lang, written) = truth[row["comment_id"].as_str().unwrap()];
        right += (row["label"] == label) as usize;
        let tally = by_language.entry(written).or_default();
        *tally = (tally.0 + (row["label"] == label) as usize, tally.1 + 1);
        if let Some(lang) = lang {
            with_lang += 1;
            lang_right += (row["language"] == lang) as usize;
        }
        assert!((row["p"].as_f64().unwrap() - 1.0).abs() < 1e-4);
        assert!(row["model_version"].as_str().unwrap().starts_with("sentiment@"));
    }
    let accuracy = right as f64 / scored.len() as f64;
    // What docs/ml.md quotes (`--no-capture` shows it).
    eprintln!("{} comments: labels right {accuracy:.3}, by language {by_language:?}; language right on {lang_right} of {with_lang}", scored.len());
    assert!(accuracy > 0.75, "sentiment accuracy on the simulated comments {accuracy:.3}");
    assert!(lang_right as f64 / with_lang as f64 > 0.9, "language right on {lang_right} of {with_lang}");

    // Aggregates: net sentiment only from 30 comments up, and its arithmetic.
    let influencers = rows(&pipeline, "SELECT * FROM gold.sentiment WHERE level = 'influencer'").await;
    assert_eq!(influencers.len(), INFLUENCERS as usize);
    for r in &influencers {
        let n = |k: &str| r[k].as_i64().unwrap();
        assert_eq!(n("positive") + n("neutral") + n("negative"), n("total"));
        if n("total") >= 30 {
            let net = r["net_sentiment"].as_f64().unwrap();
            assert!((net - (n("positive") - n("negative")) as f64 / n("total") as f64).abs() < 1e-12);
        } else {
            assert_eq!((r["net_sentiment"].clone(), r["null_reason"].clone()), (Value::Null, Value::from("insufficient_comments")));
        }
    }
    let with_net = influencers.iter().filter(|r| !r["net_sentiment"].is_null()).count();
    assert!(with_net > 0);
    // The Social Score's sentiment component is there for exactly those creators.
    let components = rows(&pipeline, "SELECT count(*) AS n FROM (SELECT unnest(components) AS c FROM gold.social_score WHERE formula_version = 'social_score/v1') WHERE c['name'] = 'sentiment'").await;
    assert_eq!(components[0]["n"].as_u64().unwrap() as usize, with_net);

    // Forecasts: 90 days for each creator with three days of history or more (the connectors
    // give daily history for some accounts, one snapshot for others), by the network from 60
    // days, by drift (labelled) under that; backtested where 91 days allow it.
    let history = rows(&pipeline, "SELECT account_id, count(*) AS days FROM gold.influencer_daily GROUP BY account_id").await;
    let days: HashMap<String, i64> = history.iter().map(|r| (r["account_id"].as_str().unwrap().to_owned(), r["days"].as_i64().unwrap())).collect();
    let forecasts = rows(&pipeline, "SELECT account_id, count(*) AS n, min(horizon_days) AS first, max(horizon_days) AS last,
        sum(CASE WHEN lo95 <= lo80 AND lo80 <= followers AND followers <= hi80 AND hi80 <= hi95 THEN 1 ELSE 0 END) AS nested,
        min(model) AS model, count(backtest_mase) AS mase FROM gold.forecasts GROUP BY account_id").await;
    let forecast_for: HashMap<String, &std::collections::BTreeMap<String, Value>> = forecasts.iter().map(|f| (f["account_id"].as_str().unwrap().to_owned(), f)).collect();
    assert!(days.values().any(|d| *d >= 60) && days.values().any(|d| *d < 60), "the world has both kinds of history: {days:?}");
    for (account, d) in &days {
        let Some(f) = forecast_for.get(account) else {
            assert!(*d < 3, "{account} has {d} days and no forecast");
            continue;
        };
        assert_eq!((f["n"].as_i64(), f["first"].as_i64(), f["last"].as_i64(), f["nested"].as_i64()), (Some(90), Some(1), Some(90), Some(90)), "{f:?}");
        assert_eq!(f["model"], if *d >= 60 { "network" } else { "drift" }, "{account}: {d} days");
        assert_eq!(f["mase"].as_i64(), Some(if *d >= 91 { 90 } else { 0 }), "{account}: {d} days");
    }

    // Published: the profile's sentiment (with its trend) and forecast.
    let pool = db.ledger.pool();
    let published: Vec<(String, Option<Value>, Option<Value>)> = sqlx::query_as("SELECT account_id, sentiment, forecast FROM serving.influencers").fetch_all(pool).await.unwrap();
    assert_eq!(published.len(), INFLUENCERS as usize);
    for (account, sentiment, forecast) in &published {
        let sentiment = sentiment.as_ref().expect("sentiment published");
        assert!(sentiment["sample_size"].as_i64().unwrap() > 0 && !sentiment["trend"].as_array().unwrap().is_empty());
        let Some(forecast) = forecast else {
            assert!(!forecast_for.contains_key(account), "{account}'s forecast was not published");
            continue;
        };
        assert_eq!(forecast["points"].as_array().unwrap().len(), 90);
        assert_eq!(forecast["fallback"], if forecast_for[account]["model"] == "drift" { Value::from("drift") } else { Value::Null });
        assert!(forecast["model_version"].as_str().unwrap().starts_with("forecast@"));
    }
    let posts: i64 = sqlx::query_scalar("SELECT count(*) FROM serving.posts WHERE sentiment->>'sample_size' IS NOT NULL").fetch_one(pool).await.unwrap();
    assert!(posts > 0);
    let captions: i64 = sqlx::query_scalar("SELECT count(*) FROM serving.posts WHERE sentiment->'caption'->>'label' IN ('negative', 'neutral', 'positive')").fetch_one(pool).await.unwrap();
    assert!(captions > 0, "caption sentiment published with the posts");
    db.drop_now().await;
}
