//! Publishing gold to the PostgreSQL serving tables the API reads, in one transaction per run,
//! then telling the API's cache that a new publication exists.

use std::collections::{BTreeMap, BTreeSet};

use analisa_lake::{LakeSession, TableId};
use chrono::NaiveDate;
use serde_json::{Map, Value};
use sqlx::PgPool;
use tracing::{info, warn};

use crate::error::{JobsError, Result};

/// The redis side: where the published version is announced and the cache keys live.
#[derive(Debug, Clone)]
pub struct CacheBus {
    pub url: String,
    /// Prefix of the API's keys: `{prefix}:cache:*` are dropped, `{prefix}:published` is set.
    pub prefix: String,
}

/// What one publication copied.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub publication_id: i64,
    pub rows: BTreeMap<&'static str, u64>,
    /// Whether the cache heard of it (a failure is logged; entries carry the publication in
    /// their keys, so stale ones are never served, only kept until they expire).
    pub cache_invalidated: bool,
}

type Row = Map<String, Value>;

/// A serving table and the SQL type of each column copied into it.
struct Target {
    table: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

const INFLUENCERS: Target = Target {
    table: "serving.influencers",
    columns: &[
        ("platform", "text"), ("account_id", "text"), ("handle", "text"), ("display_name", "text"), ("niche", "text"),
        ("country", "text"), ("language", "text"), ("followers", "bigint"), ("tier", "text"), ("engagement_rate", "float8"),
        ("engagement_metric", "text"), ("growth_pct_30d", "float8"), ("score", "float8"), ("confidence", "text"), ("score_formula", "text"),
        ("as_of_date", "date"), ("metrics", "jsonb"), ("scores", "jsonb"), ("sentiment", "jsonb"), ("forecast", "jsonb"), ("publication_id", "bigint"),
    ],
};
const DAILY: Target = Target {
    table: "serving.influencer_daily",
    columns: &[
        ("platform", "text"), ("account_id", "text"), ("date", "date"), ("followers", "bigint"), ("follows", "bigint"),
        ("follower_delta", "bigint"), ("posts", "bigint"), ("likes", "bigint"), ("comments", "bigint"), ("views", "bigint"), ("er_daily", "float8"),
    ],
};
const POSTS: Target = Target {
    table: "serving.posts",
    columns: &[
        ("platform", "text"), ("post_id", "text"), ("account_id", "text"), ("media_type", "text"), ("published_at", "timestamptz"),
        ("caption", "text"), ("permalink", "text"), ("is_sponsored", "boolean"), ("likes", "bigint"), ("comments", "bigint"),
        ("shares", "bigint"), ("saves", "bigint"), ("views", "bigint"), ("er_followers", "float8"), ("er_views", "float8"), ("sentiment", "jsonb"),
    ],
};
const BENCHMARKS: Target = Target {
    table: "serving.benchmarks",
    columns: &[
        ("run_date", "date"), ("platform", "text"), ("niche", "text"), ("tier", "text"), ("widened_to", "text"), ("metric", "text"),
        ("members", "bigint"), ("p10", "float8"), ("p25", "float8"), ("p50", "float8"), ("p75", "float8"), ("p90", "float8"), ("mean", "float8"),
    ],
};
const FLAGS: Target = Target {
    table: "serving.anomaly_flags",
    columns: &[
        ("flag_id", "text"), ("platform", "text"), ("account_id", "text"), ("flag_type", "text"), ("day", "date"),
        ("penalised", "boolean"), ("evidence", "jsonb"), ("reason", "text"), ("detected_at", "timestamptz"),
    ],
};

/// Everything one publication writes, read from the lake before the transaction opens.
pub(crate) struct Snapshot {
    pub influencers: Vec<Row>,
    pub daily: Vec<Row>,
    pub posts: Vec<Row>,
    pub benchmarks: Vec<Row>,
    pub flags: Vec<Row>,
}

/// The publication's queries (rendered from sql/publish).
pub(crate) struct PublishSql {
    pub influencers: String,
    pub posts: String,
    pub sentiment_trend: String,
    /// The sentiment model in use, as an SQL literal.
    pub sentiment_model: String,
}

/// Reads what to publish: `influencers`, `posts` and the sentiment trend from sql/publish, the
/// rest as gold has it. `daily_changes` holds only the history rows gold changed since the last
/// publication.
pub(crate) async fn snapshot(session: &LakeSession, daily_changes: &LakeSession, sql: &PublishSql, as_of: NaiveDate) -> Result<Snapshot> {
    let mut influencers = rows(session, &sql.influencers).await?;
    let metrics = keyed(rows(session, &format!("SELECT * FROM gold.influencer_metrics WHERE as_of_date = DATE '{as_of}'")).await?);
    let mut scores: BTreeMap<(String, String), Map<String, Value>> = BTreeMap::new();
    for score in rows(session, &format!("SELECT * FROM gold.social_score WHERE as_of_date = DATE '{as_of}'")).await? {
        let version = score["formula_version"].as_str().unwrap_or_default().to_owned();
        scores.entry(key(&score)).or_default().insert(version, Value::Object(score));
    }
    let mut sentiment = sentiment_by_influencer(session, &sql.sentiment_trend, as_of).await?;
    let mut forecasts = forecasts(session, as_of).await?;
    for row in &mut influencers {
        let k = key(row);
        row.insert("metrics".into(), metrics.get(&k).cloned().map(Value::Object).unwrap_or(Value::Null));
        row.insert("scores".into(), Value::Object(scores.remove(&k).unwrap_or_default()));
        row.insert("sentiment".into(), sentiment.remove(&k).unwrap_or(Value::Null));
        row.insert("forecast".into(), forecasts.remove(&k).unwrap_or(Value::Null));
    }
    let mut posts = rows(session, &sql.posts).await?;
    let post_sentiment: BTreeMap<(String, String), Row> = rows(session, &format!("SELECT * FROM gold.sentiment WHERE level = 'post' AND as_of_date = DATE '{as_of}'"))
        .await?
        .into_iter()
        .map(|r| ((field(&r, "platform"), field(&r, "post_id")), r))
        .collect();
    let captions: BTreeMap<(String, String), Row> = rows(session, &format!("SELECT platform, comment_id AS post_id, label, probability, language FROM gold.comment_sentiment WHERE source = 'caption' AND model_version = {}", sql.sentiment_model))
        .await?
        .into_iter()
        .map(|r| ((field(&r, "platform"), field(&r, "post_id")), r))
        .collect();
    for post in &mut posts {
        let k = (field(post, "platform"), field(post, "post_id"));
        let mut sentiment = post_sentiment.get(&k).map(sentiment_counts);
        if let Some(caption) = captions.get(&k) {
            let caption = serde_json::json!({"label": caption["label"], "probability": caption["probability"], "language": caption["language"]});
            sentiment.get_or_insert_with(|| serde_json::json!({}))["caption"] = caption;
        }
        post.insert("sentiment".into(), sentiment.unwrap_or(Value::Null));
    }
    Ok(Snapshot {
        influencers,
        daily: rows(daily_changes, &format!("SELECT * FROM gold.influencer_daily WHERE date <= DATE '{as_of}'")).await?,
        posts,
        benchmarks: rows(session, &format!("SELECT * FROM gold.benchmarks WHERE run_date = DATE '{as_of}'")).await?,
        flags: rows(session, &format!("SELECT * FROM gold.anomaly_flags WHERE day <= DATE '{as_of}'")).await?,
    })
}

/// Writes the snapshot in one transaction: a failure anywhere leaves the previous publication
/// whole. Influencers, posts and flags are replaced; history is upserted into its monthly
/// partitions; benchmarks replace their run date.
pub(crate) async fn write(pool: &PgPool, snapshot: &Snapshot, run_id: &str, as_of: NaiveDate, lake_versions: &BTreeMap<String, u64>) -> Result<Published> {
    let mut rows = BTreeMap::new();
    rows.insert("influencers", snapshot.influencers.len() as u64);
    rows.insert("influencer_daily", snapshot.daily.len() as u64);
    rows.insert("posts", snapshot.posts.len() as u64);
    rows.insert("benchmarks", snapshot.benchmarks.len() as u64);
    rows.insert("anomaly_flags", snapshot.flags.len() as u64);

    let mut tx = pool.begin().await?;
    let publication_id: i64 = sqlx::query_scalar(
        "INSERT INTO serving.publications (run_id, as_of_date, lake_versions, row_counts) VALUES ($1, $2, $3, $4) RETURNING publication_id",
    )
    .bind(run_id)
    .bind(as_of)
    .bind(serde_json::to_value(lake_versions).expect("versions serialise"))
    .bind(serde_json::to_value(&rows).expect("counts serialise"))
    .fetch_one(&mut *tx)
    .await?;

    sqlx::query("DELETE FROM serving.influencers").execute(&mut *tx).await?;
    let influencers: Vec<Row> = snapshot
        .influencers
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.insert("publication_id".into(), Value::from(publication_id));
            r
        })
        .collect();
    insert(&mut tx, &INFLUENCERS, &influencers, "").await?;

    for month in months(&snapshot.daily)? {
        let next = month.checked_add_months(chrono::Months::new(1)).expect("dates stay in range");
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS serving.influencer_daily_{} PARTITION OF serving.influencer_daily FOR VALUES FROM ('{month}') TO ('{next}')",
            month.format("%Y_%m")
        ))
        .execute(&mut *tx)
        .await?;
    }
    insert(&mut tx, &DAILY, &snapshot.daily, "ON CONFLICT (platform, account_id, date) DO UPDATE SET followers = EXCLUDED.followers, follows = EXCLUDED.follows,
        follower_delta = EXCLUDED.follower_delta, posts = EXCLUDED.posts, likes = EXCLUDED.likes, comments = EXCLUDED.comments,
        views = EXCLUDED.views, er_daily = EXCLUDED.er_daily").await?;

    sqlx::query("DELETE FROM serving.posts").execute(&mut *tx).await?;
    insert(&mut tx, &POSTS, &snapshot.posts, "").await?;
    sqlx::query("DELETE FROM serving.benchmarks WHERE run_date = $1").bind(as_of).execute(&mut *tx).await?;
    insert(&mut tx, &BENCHMARKS, &snapshot.benchmarks, "").await?;
    sqlx::query("DELETE FROM serving.anomaly_flags").execute(&mut *tx).await?;
    insert(&mut tx, &FLAGS, &snapshot.flags, "").await?;
    tx.commit().await?;
    info!(publication_id, ?rows, "published");
    Ok(Published { publication_id, rows, cache_invalidated: false })
}

/// Announces the publication and drops the API's cached answers. Redis being down does not
/// undo a publication: it is logged, and cached answers (keyed by publication) simply expire.
pub(crate) async fn invalidate(bus: &CacheBus, publication_id: i64) -> bool {
    let result: redis::RedisResult<()> = async {
        let client = redis::Client::open(bus.url.as_str())?;
        let mut redis = tokio::time::timeout(std::time::Duration::from_secs(5), client.get_multiplexed_async_connection())
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out connecting")))??;
        redis::cmd("SET").arg(format!("{}:published", bus.prefix)).arg(publication_id).query_async::<()>(&mut redis).await?;
        // Announced before the sweep: cached answers are keyed by publication, so the old ones
        // are merely garbage from here on.
        redis::cmd("PUBLISH").arg(format!("{}:published", bus.prefix)).arg(publication_id).query_async::<()>(&mut redis).await?;
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(format!("{}:cache:*", bus.prefix)).arg("COUNT").arg(500).query_async(&mut redis).await?;
            if !keys.is_empty() {
                redis::cmd("UNLINK").arg(&keys).query_async::<()>(&mut redis).await?;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => true,
        Err(error) => {
            warn!(%error, publication_id, "published, but the API cache could not be told; cached answers expire on their own");
            false
        }
    }
}

async fn insert(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, target: &Target, rows: &[Row], conflict: &str) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // One statement per chunk, each column bound as a text array and cast in SQL: fast, and one
    // code path for every type.
    for chunk in rows.chunks(20_000) {
        let names: Vec<&str> = target.columns.iter().map(|(c, _)| *c).collect();
        let casts: Vec<String> = target.columns.iter().map(|(c, t)| format!("u.{c}::{t}")).collect();
        let params: Vec<String> = (1..=names.len()).map(|i| format!("${i}::text[]")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM UNNEST({}) AS u({}) {conflict}",
            target.table,
            names.join(", "),
            casts.join(", "),
            params.join(", "),
            names.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (column, _) in target.columns {
            let values: Vec<Option<String>> = chunk.iter().map(|row| text(row.get(*column))).collect();
            query = query.bind(values);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn field(row: &Row, name: &str) -> String {
    row.get(name).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn key(row: &Row) -> (String, String) {
    (field(row, "platform"), field(row, "account_id"))
}

/// The counts and net sentiment of a gold.sentiment row, as the API shows them.
fn sentiment_counts(row: &Row) -> Value {
    let pick = |k: &str| row.get(k).cloned().unwrap_or(Value::Null);
    serde_json::json!({
        "positive": pick("positive"), "neutral": pick("neutral"), "negative": pick("negative"), "sample_size": pick("total"),
        "net_sentiment": pick("net_sentiment"), "null_reason": pick("null_reason"), "model_version": pick("model_version"),
    })
}

/// Each influencer's comment sentiment on `as_of`, with its weekly trend.
async fn sentiment_by_influencer(session: &LakeSession, trend_sql: &str, as_of: NaiveDate) -> Result<BTreeMap<(String, String), Value>> {
    let mut trends: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for week in rows(session, trend_sql).await? {
        trends.entry(key(&week)).or_default().push(serde_json::json!({"date": week["week"], "net_sentiment": week["net_sentiment"], "sample_size": week["total"]}));
    }
    let levels = rows(session, &format!("SELECT * FROM gold.sentiment WHERE level = 'influencer' AND as_of_date = DATE '{as_of}'")).await?;
    Ok(levels
        .into_iter()
        .map(|row| {
            let k = key(&row);
            let mut value = sentiment_counts(&row);
            value["trend"] = Value::Array(trends.remove(&k).unwrap_or_default());
            (k, value)
        })
        .collect())
}

/// Each influencer's forecast made on `as_of`: the model, whether drift stood in, its backtest
/// error, and the daily points with both intervals.
async fn forecasts(session: &LakeSession, as_of: NaiveDate) -> Result<BTreeMap<(String, String), Value>> {
    let mut out: BTreeMap<(String, String), Value> = BTreeMap::new();
    for row in rows(session, &format!("SELECT * FROM gold.forecasts WHERE origin_date = DATE '{as_of}' ORDER BY platform, account_id, horizon_days")).await? {
        let entry = out.entry(key(&row)).or_insert_with(|| {
            let drift = row["model"].as_str() == Some("drift");
            serde_json::json!({
                "model_version": row["model_version"], "model": row["model"], "fallback": if drift { Value::from("drift") } else { Value::Null },
                "origin_date": row["origin_date"], "backtest_mase": row["backtest_mase"], "points": [],
            })
        });
        entry["points"].as_array_mut().expect("points is an array").push(serde_json::json!({
            "date": row["target_date"], "followers": row["followers"], "lower_80": row["lo80"], "upper_80": row["hi80"], "lower_95": row["lo95"], "upper_95": row["hi95"],
        }));
    }
    Ok(out)
}

fn keyed(rows: Vec<Row>) -> BTreeMap<(String, String), Row> {
    rows.into_iter().map(|r| (key(&r), r)).collect()
}

fn months(rows: &[Row]) -> Result<BTreeSet<NaiveDate>> {
    use chrono::Datelike;
    rows.iter()
        .map(|r| {
            let day: NaiveDate = r.get("date").and_then(Value::as_str).and_then(|d| d.parse().ok())
                .ok_or_else(|| JobsError::Config(format!("gold.influencer_daily row without a date: {r:?}")))?;
            Ok(day.with_day(1).expect("every month has a first day"))
        })
        .collect()
}

/// Rows of a query as JSON objects (nulls kept, so every column is there).
pub(crate) async fn rows(session: &LakeSession, sql: &str) -> Result<Vec<Row>> {
    let batches = session.sql(sql).await?;
    let mut writer = arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, arrow::json::writer::JsonArray>(Vec::new());
    for batch in &batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let buffer = writer.into_inner();
    if buffer.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buffer).map_err(|e| JobsError::Config(format!("reading query results: {e}")))
}

/// The gold tables a publication copies (their versions are recorded with it).
pub(crate) const SOURCES: [TableId; 11] = [
    TableId::INFLUENCER_METRICS, TableId::SOCIAL_SCORE, TableId::INFLUENCER_DAILY, TableId::BENCHMARKS, TableId::ANOMALY_FLAGS,
    TableId::ACCOUNTS, TableId::POSTS, TableId::POST_METRICS, TableId::SENTIMENT, TableId::COMMENT_SENTIMENT, TableId::FORECASTS,
];
