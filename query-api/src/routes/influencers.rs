//! Public influencer data (shared by every organisation): search, profile, history, posts and
//! comparison, read from the serving copy of gold and cached per publication.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::cache::cached;
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::InfluencerId;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Comma-separated: instagram, facebook, tiktok.
    pub platform: Option<String>,
    /// Comma-separated niches.
    pub niche: Option<String>,
    /// Comma-separated tiers: nano, micro, mid, macro, mega.
    pub tier: Option<String>,
    /// Comma-separated ISO country codes.
    pub country: Option<String>,
    /// Comma-separated language codes.
    pub language: Option<String>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    /// Engagement rate as a fraction (0.035 = 3.5 %).
    pub er_min: Option<f64>,
    pub er_max: Option<f64>,
    /// 30-day follower growth as a fraction (0.05 = 5 %).
    pub growth_min: Option<f64>,
    pub growth_max: Option<f64>,
    /// Text in the handle or display name.
    pub q: Option<String>,
    /// score, followers, engagement_rate, growth_pct_30d or handle; `-` before it sorts
    /// descending (default `-score`).
    pub sort: Option<String>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct InfluencerSummary {
    #[sqlx(skip)]
    #[schema(value_type = String)]
    pub id: String,
    pub platform: String,
    pub account_id: String,
    pub handle: String,
    pub display_name: Option<String>,
    pub niche: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub followers: i64,
    pub tier: String,
    /// The engagement rate the score uses (fraction), named by `engagement_metric`.
    pub engagement_rate: Option<f64>,
    pub engagement_metric: Option<String>,
    /// Follower growth over 30 days as a fraction (0.05 = 5 %).
    pub growth_pct_30d: Option<f64>,
    /// Social Score, 0–100.
    pub score: Option<f64>,
    /// high, medium or low.
    pub confidence: Option<String>,
    pub as_of_date: NaiveDate,
}

const SUMMARY_COLUMNS: &str = "platform, account_id, handle, display_name, niche, country, language, followers, tier, engagement_rate, engagement_metric, growth_pct_30d, score, confidence, as_of_date";

impl InfluencerSummary {
    fn with_id(mut self) -> Self {
        self.id = format!("{}:{}", self.platform, self.account_id);
        self
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<InfluencerSummary>,
    /// Influencers matching the filters in all pages.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Sortable columns: the key expression (NULLs mapped past the end in either direction) and
/// whether it is text.
fn sort_key(name: &str, descending: bool) -> ApiResult<(&'static str, bool)> {
    Ok(match (name, descending) {
        ("handle", _) => ("lower(handle)", true),
        ("followers", _) => ("followers::float8", false),
        ("score", true) => ("coalesce(score, '-Infinity'::float8)", false),
        ("score", false) => ("coalesce(score, 'Infinity'::float8)", false),
        ("engagement_rate", true) => ("coalesce(engagement_rate, '-Infinity'::float8)", false),
        ("engagement_rate", false) => ("coalesce(engagement_rate, 'Infinity'::float8)", false),
        ("growth_pct_30d", true) => ("coalesce(growth_pct_30d, '-Infinity'::float8)", false),
        ("growth_pct_30d", false) => ("coalesce(growth_pct_30d, 'Infinity'::float8)", false),
        (other, _) => return Err(ApiError::BadRequest(format!("cannot sort by `{other}`; use score, followers, engagement_rate, growth_pct_30d or handle"))),
    })
}

/// Where the previous page ended: its last sort key and influencer.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    sort: String,
    /// The sort key as text: floats in Rust's shortest round-trip form, so that the next page
    /// starts exactly after this one.
    key: String,
    platform: String,
    account_id: String,
}

fn decode_cursor(text: &str, sort: &str) -> ApiResult<Cursor> {
    let invalid = || ApiError::BadRequest("the cursor is not one this API issued (or belongs to another sort)".into());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.sort != sort {
        return Err(invalid());
    }
    Ok(cursor)
}

fn list(text: &Option<String>) -> Option<Vec<String>> {
    text.as_deref().map(|t| t.split(',').map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty()).collect::<Vec<_>>()).filter(|v| !v.is_empty())
}

fn range(name: &str, min: Option<f64>, max: Option<f64>) -> ApiResult<()> {
    for value in [min, max].into_iter().flatten() {
        if !value.is_finite() {
            return Err(ApiError::BadRequest(format!("{name} bounds must be finite numbers")));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(ApiError::BadRequest(format!("{name}_min is above {name}_max")));
    }
    Ok(())
}

/// Adds the WHERE clause of the filters (every value bound, never spliced).
fn push_filters(builder: &mut QueryBuilder<'_, Postgres>, query: &SearchQuery) {
    builder.push(" WHERE true");
    for (column, values) in [("platform", list(&query.platform)), ("niche", list(&query.niche)), ("tier", list(&query.tier)), ("lower(country)", list(&query.country)), ("lower(language)", list(&query.language))] {
        if let Some(values) = values {
            builder.push(format!(" AND {column} = ANY(")).push_bind(values).push(")");
        }
    }
    for (column, min, max) in [("score", query.score_min, query.score_max), ("engagement_rate", query.er_min, query.er_max), ("growth_pct_30d", query.growth_min, query.growth_max)] {
        if let Some(min) = min {
            builder.push(format!(" AND {column} >= ")).push_bind(min);
        }
        if let Some(max) = max {
            builder.push(format!(" AND {column} <= ")).push_bind(max);
        }
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        builder.push(" AND (lower(handle) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\' OR lower(coalesce(display_name, '')) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
    }
}

async fn run_search(state: &AppState, query: &SearchQuery) -> ApiResult<SearchPage> {
    range("score", query.score_min, query.score_max)?;
    range("er", query.er_min, query.er_max)?;
    range("growth", query.growth_min, query.growth_max)?;
    if query.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::BadRequest("q has at most 100 characters".into()));
    }
    let limit = query.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest("limit is between 1 and 100".into()));
    }
    let sort = query.sort.clone().unwrap_or_else(|| "-score".into());
    let (name, descending) = match sort.strip_prefix('-') {
        Some(name) => (name, true),
        None => (sort.as_str(), false),
    };
    let (key, text_key) = sort_key(name, descending)?;
    let direction = if descending { "DESC" } else { "ASC" };

    let mut count = QueryBuilder::new("SELECT count(*) FROM serving.influencers");
    push_filters(&mut count, query);
    let total: i64 = count.build_query_scalar().fetch_one(&state.db).await?;

    let mut page = QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS}, {key} AS sort_key_text_or_number FROM serving.influencers"));
    push_filters(&mut page, query);
    if let Some(cursor) = query.cursor.as_deref().map(|c| decode_cursor(c, &sort)).transpose()? {
        let comparison = if descending { "<" } else { ">" };
        page.push(format!(" AND ({key}, platform, account_id) {comparison} ("));
        if text_key {
            page.push_bind(cursor.key);
        } else {
            page.push_bind(cursor.key.parse::<f64>().map_err(|_| ApiError::BadRequest("the cursor does not fit this sort".into()))?);
        }
        page.push(", ").push_bind(cursor.platform).push(", ").push_bind(cursor.account_id).push(")");
    }
    page.push(format!(" ORDER BY {key} {direction}, platform {direction}, account_id {direction} LIMIT ")).push_bind(limit + 1);
    let rows = page.build().fetch_all(&state.db).await?;
    use sqlx::Row;
    let mut items = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for row in &rows {
        let summary = <InfluencerSummary as sqlx::FromRow<_>>::from_row(row)?;
        let key = if text_key { row.try_get::<String, _>("sort_key_text_or_number")? } else { row.try_get::<f64, _>("sort_key_text_or_number")?.to_string() };
        items.push(summary.with_id());
        keys.push(key);
    }
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = &items[items.len() - 1];
        let cursor = Cursor { sort: sort.clone(), key: keys[items.len() - 1].clone(), platform: last.platform.clone(), account_id: last.account_id.clone() };
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).map_err(|e| ApiError::Internal(e.to_string()))?))
    } else {
        None
    };
    Ok(SearchPage { items, total, next_cursor })
}

/// Searches influencers with filters, sorting and cursor paging.
#[utoipa::path(get, path = "/v1/influencers", tag = "influencers", security(("bearer" = []), ("api_key" = [])), params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = 304), (status = 400, body = Problem), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn search(State(state): State<AppState>, _caller: Principal, headers: HeaderMap, Query(query): Query<SearchQuery>) -> ApiResult<Response> {
    // Keyed by the parsed query, so parameters the API ignores cannot mint cache entries.
    let key = format!("search:{}", serde_json::to_string(&query).map_err(|e| ApiError::Internal(e.to_string()))?);
    cached(&state, &headers, &key, run_search(&state, &query)).await
}

/// Where a value sits in its cohort's distribution.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Benchmark {
    pub metric: String,
    pub value: Option<f64>,
    /// The cohort compared with: platform/niche/tier, or its widening (e.g.
    /// `tiktok/*/micro+mid+macro`) when the exact cohort had too few members.
    pub cohort: String,
    /// Set when `cohort` is a widening.
    pub widened_to: Option<String>,
    pub members: i64,
    pub p10: Option<f64>,
    pub p25: Option<f64>,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    /// below_p10, p10_p25, p25_p50, p50_p75, p75_p90 or above_p90.
    pub band: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Flag {
    pub flag_id: String,
    pub flag_type: String,
    pub day: NaiveDate,
    /// Whether the flag lowers the Social Score.
    pub penalised: bool,
    #[schema(value_type = Object)]
    pub evidence: Value,
    pub reason: String,
    pub detected_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub influencer: InfluencerSummary,
    /// Every metric of metrics.md with its sample sizes and reasons for missing values.
    #[schema(value_type = Object)]
    pub metrics: Value,
    /// The default Social Score: components, weights, contributions, cohort, confidence,
    /// strengths and weaknesses.
    #[schema(value_type = Object)]
    pub score: Value,
    /// Every score formula variant by version.
    #[schema(value_type = Object)]
    pub scores: Value,
    pub benchmarks: Vec<Benchmark>,
    pub flags: Vec<Flag>,
    /// Comment sentiment, once the sentiment model has scored this creator.
    #[schema(value_type = Option<Object>)]
    pub sentiment: Option<Value>,
    /// Follower forecast with intervals, once the forecaster has run.
    #[schema(value_type = Option<Object>)]
    pub forecast: Option<Value>,
}

/// What serving.influencers holds of one creator beyond the summary.
struct Details {
    metrics: Value,
    scores: Value,
    score_formula: Option<String>,
    sentiment: Option<Value>,
    forecast: Option<Value>,
}

impl Details {
    /// The default formula's score (null before the first score).
    fn score(&self) -> Value {
        self.score_formula.as_ref().and_then(|f| self.scores.get(f).cloned()).unwrap_or(Value::Null)
    }
}

async fn summary(state: &AppState, id: &InfluencerId) -> ApiResult<(InfluencerSummary, Details)> {
    let row = sqlx::query(&format!("SELECT {SUMMARY_COLUMNS}, metrics, scores, score_formula, sentiment, forecast FROM serving.influencers WHERE platform = $1 AND account_id = $2"))
        .bind(&id.platform)
        .bind(&id.account_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("influencer {id}")))?;
    use sqlx::Row;
    let summary = <InfluencerSummary as sqlx::FromRow<_>>::from_row(&row)?.with_id();
    let details = Details {
        metrics: row.try_get("metrics")?,
        scores: row.try_get("scores")?,
        score_formula: row.try_get("score_formula")?,
        sentiment: row.try_get("sentiment")?,
        forecast: row.try_get("forecast")?,
    };
    Ok((summary, details))
}

fn band(value: f64, b: &Benchmark) -> Option<&'static str> {
    let bounds = [(b.p10?, "below_p10"), (b.p25?, "p10_p25"), (b.p50?, "p25_p50"), (b.p75?, "p50_p75"), (b.p90?, "p75_p90")];
    Some(bounds.iter().find(|(bound, _)| value < *bound).map_or("above_p90", |(_, name)| name))
}

async fn profile_of(state: &AppState, id: &InfluencerId) -> ApiResult<Profile> {
    let (influencer, details) = summary(state, id).await?;
    let score = details.score();
    let Details { metrics, scores, sentiment, forecast, .. } = details;
    // The cohort the score compared the creator with (widened when the exact one was small);
    // without a score yet, the exact cohort.
    let cohort = ["cohort_widened_to", "cohort"].iter().find_map(|k| score.get(*k).and_then(Value::as_str).map(str::to_owned)).unwrap_or_else(|| {
        format!("{}/{}/{}", influencer.platform, influencer.niche.as_deref().unwrap_or("unknown"), influencer.tier)
    });
    type BenchRow = (String, String, Option<String>, i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>);
    let rows: Vec<BenchRow> = sqlx::query_as(
        "SELECT metric, platform || '/' || niche || '/' || tier, widened_to, members, p10, p25, p50, p75, p90, mean FROM serving.benchmarks
         WHERE run_date = (SELECT max(run_date) FROM serving.benchmarks) AND platform || '/' || niche || '/' || tier = $1 ORDER BY metric",
    )
    .bind(&cohort)
    .fetch_all(&state.db)
    .await?;
    let benchmarks = rows
        .into_iter()
        .map(|(metric, cohort, widened_to, members, p10, p25, p50, p75, p90, mean)| {
            let value = metrics.get(&metric).and_then(Value::as_f64);
            let mut b = Benchmark { metric, value, cohort, widened_to, members, p10, p25, p50, p75, p90, mean, band: None };
            b.band = value.and_then(|v| band(v, &b)).map(str::to_owned);
            b
        })
        .collect();
    let flags = flags_of(state, id).await?;
    Ok(Profile { influencer, metrics, score, scores, benchmarks, flags, sentiment, forecast })
}

async fn flags_of(state: &AppState, id: &InfluencerId) -> ApiResult<Vec<Flag>> {
    let rows: Vec<(String, String, NaiveDate, bool, Value, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT flag_id, flag_type, day, penalised, evidence, reason, detected_at FROM serving.anomaly_flags WHERE platform = $1 AND account_id = $2 ORDER BY day DESC, flag_id",
    )
    .bind(&id.platform)
    .bind(&id.account_id)
    .fetch_all(&state.db)
    .await?;
    Ok(rows.into_iter().map(|(flag_id, flag_type, day, penalised, evidence, reason, detected_at)| Flag { flag_id, flag_type, day, penalised, evidence, reason, detected_at }).collect())
}

fn influencer_id(text: &str) -> ApiResult<InfluencerId> {
    text.parse()
}

/// An influencer's profile: metrics, Social Score with its breakdown, cohort benchmarks, flags.
#[utoipa::path(get, path = "/v1/influencers/{id}", tag = "influencers", security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path, description = "platform:account_id")),
    responses((status = 200, body = Profile), (status = 304), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn profile(State(state): State<AppState>, _caller: Principal, headers: HeaderMap, Path(id): Path<String>) -> ApiResult<Response> {
    let id = influencer_id(&id)?;
    cached(&state, &headers, &format!("profile:{id}"), profile_of(&state, &id)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// First day (default: 180 days before the last).
    pub from: Option<NaiveDate>,
    /// Last day (default: the newest).
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct DailyPoint {
    pub date: NaiveDate,
    pub followers: i64,
    pub follows: Option<i64>,
    pub follower_delta: Option<i64>,
    pub posts: i64,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub views: Option<i64>,
    /// Engagement of the day's posts over followers (fraction).
    pub er_daily: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct History {
    #[schema(value_type = String)]
    pub id: String,
    pub points: Vec<DailyPoint>,
}

/// 404 unless the influencer is published (a cheap check, without its JSON columns).
async fn ensure_published(state: &AppState, id: &InfluencerId) -> ApiResult<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM serving.influencers WHERE platform = $1 AND account_id = $2)")
        .bind(&id.platform)
        .bind(&id.account_id)
        .fetch_one(&state.db)
        .await?;
    if exists { Ok(()) } else { Err(ApiError::not_found(format!("influencer {id}"))) }
}

async fn history_of(state: &AppState, id: &InfluencerId, query: &HistoryQuery) -> ApiResult<History> {
    ensure_published(state, id).await?;
    Ok(History { id: id.to_string(), points: daily_points(state, id, query).await? })
}

async fn daily_points(state: &AppState, id: &InfluencerId, query: &HistoryQuery) -> ApiResult<Vec<DailyPoint>> {
    Ok(sqlx::query_as::<_, DailyPoint>(
        "WITH bounds AS (SELECT coalesce($4::date, max(date)) AS last FROM serving.influencer_daily WHERE platform = $1 AND account_id = $2)
         SELECT date, followers, follows, follower_delta, posts, likes, comments, views, er_daily FROM serving.influencer_daily, bounds
         WHERE platform = $1 AND account_id = $2 AND date <= bounds.last AND date >= coalesce($3::date, bounds.last - 180) ORDER BY date",
    )
    .bind(&id.platform)
    .bind(&id.account_id)
    .bind(query.from)
    .bind(query.to)
    .fetch_all(&state.db)
    .await?)
}

/// Daily follower and engagement history.
#[utoipa::path(get, path = "/v1/influencers/{id}/history", tag = "influencers", security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path, description = "platform:account_id"), HistoryQuery),
    responses((status = 200, body = History), (status = 304), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn history(State(state): State<AppState>, _caller: Principal, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<HistoryQuery>) -> ApiResult<Response> {
    let id = influencer_id(&id)?;
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(ApiError::BadRequest("from is after to".into()));
    }
    cached(&state, &headers, &format!("history:{id}:{:?}:{:?}", query.from, query.to), history_of(&state, &id, &query)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostsQuery {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Post {
    pub post_id: String,
    pub media_type: String,
    pub published_at: DateTime<Utc>,
    pub caption: Option<String>,
    pub permalink: Option<String>,
    pub is_sponsored: bool,
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub shares: Option<i64>,
    pub saves: Option<i64>,
    pub views: Option<i64>,
    /// (likes + comments + shares + saves) / followers at publication.
    pub er_followers: Option<f64>,
    pub er_views: Option<f64>,
    /// Sentiment of the post's comments (counts per label, sample size, and net sentiment,
    /// null under 30 comments), once the model has scored them.
    #[schema(value_type = Option<Object>)]
    pub sentiment: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostsPage {
    pub items: Vec<Post>,
    pub next_cursor: Option<String>,
}

async fn posts_of(state: &AppState, id: &InfluencerId, query: &PostsQuery) -> ApiResult<PostsPage> {
    ensure_published(state, id).await?;
    let limit = query.limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadRequest("limit is between 1 and 100".into()));
    }
    let invalid = || ApiError::BadRequest("the cursor is not one this API issued".into());
    let after: Option<(DateTime<Utc>, String)> = query
        .cursor
        .as_deref()
        .map(|c| URL_SAFE_NO_PAD.decode(c).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or_else(invalid))
        .transpose()?;
    let (after_time, after_post) = after.map_or((None, None), |(t, p)| (Some(t), Some(p)));
    let mut items = sqlx::query_as::<_, Post>(
        "SELECT post_id, media_type, published_at, caption, permalink, is_sponsored, likes, comments, shares, saves, views, er_followers, er_views, sentiment
         FROM serving.posts WHERE platform = $1 AND account_id = $2 AND ($3::timestamptz IS NULL OR (published_at, post_id) < ($3, $4))
         ORDER BY published_at DESC, post_id DESC LIMIT $5",
    )
    .bind(&id.platform)
    .bind(&id.account_id)
    .bind(after_time)
    .bind(after_post)
    .bind(limit + 1)
    .fetch_all(&state.db)
    .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = &items[items.len() - 1];
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(last.published_at, &last.post_id)).map_err(|e| ApiError::Internal(e.to_string()))?))
    } else {
        None
    };
    Ok(PostsPage { items, next_cursor })
}

/// The creator's posts, newest first, with their counters and per-post ER.
#[utoipa::path(get, path = "/v1/influencers/{id}/posts", tag = "influencers", security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path, description = "platform:account_id"), PostsQuery),
    responses((status = 200, body = PostsPage), (status = 304), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn posts(State(state): State<AppState>, _caller: Principal, headers: HeaderMap, Path(id): Path<String>, Query(query): Query<PostsQuery>) -> ApiResult<Response> {
    let id = influencer_id(&id)?;
    cached(&state, &headers, &format!("posts:{id}:{}:{:?}", query.limit.unwrap_or(25), query.cursor), posts_of(&state, &id, &query)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// 2–10 comma-separated influencer ids.
    pub ids: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Compared {
    pub influencer: InfluencerSummary,
    #[schema(value_type = Object)]
    pub metrics: Value,
    #[schema(value_type = Object)]
    pub score: Value,
    /// The last 90 days.
    pub history: Vec<DailyPoint>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Comparison {
    pub items: Vec<Compared>,
    /// For each compared metric, the id of the best influencer (highest value).
    #[schema(value_type = Object)]
    pub best: Value,
}

const COMPARED_METRICS: [&str; 8] = ["followers", "er_followers_median", "er_views", "growth_pct_30d", "growth_pct_90d", "posts_per_week", "est_reach_per_post", "emv_usd"];

async fn compare_of(state: &AppState, ids: &[InfluencerId]) -> ApiResult<Comparison> {
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let (influencer, details) = summary(state, id).await?;
        // `summary` has just proved the influencer exists.
        let history = daily_points(state, id, &HistoryQuery { from: None, to: None }).await?;
        let history = history[history.len().saturating_sub(90)..].to_vec();
        items.push(Compared { score: details.score(), influencer, metrics: details.metrics, history });
    }
    let mut best = serde_json::Map::new();
    for metric in COMPARED_METRICS.iter().copied().chain(["score"]) {
        let value = |c: &Compared| if metric == "score" { c.influencer.score } else { c.metrics.get(metric).and_then(Value::as_f64) };
        if let Some(winner) = items.iter().filter(|c| value(c).is_some()).max_by(|a, b| value(a).partial_cmp(&value(b)).unwrap_or(std::cmp::Ordering::Equal)) {
            best.insert(metric.to_owned(), Value::String(winner.influencer.id.clone()));
        }
    }
    Ok(Comparison { items, best: Value::Object(best) })
}

/// Compares 2–10 influencers: metrics side by side, recent history, the best per metric.
#[utoipa::path(get, path = "/v1/compare", tag = "influencers", security(("bearer" = []), ("api_key" = [])), params(CompareQuery),
    responses((status = 200, body = Comparison), (status = 304), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn compare(State(state): State<AppState>, _caller: Principal, headers: HeaderMap, Query(query): Query<CompareQuery>) -> ApiResult<Response> {
    let mut ids = query.ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(influencer_id).collect::<ApiResult<Vec<_>>>()?;
    let mut seen = std::collections::BTreeSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    if !(2..=10).contains(&ids.len()) {
        return Err(ApiError::BadRequest(format!("compare 2 to 10 distinct influencers (got {})", ids.len())));
    }
    let key = format!("compare:{}", ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
    cached(&state, &headers, &key, compare_of(&state, &ids)).await
}
