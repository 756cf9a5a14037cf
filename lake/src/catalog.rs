//! The table catalogue: every bronze, silver and gold table, in one place.
//!
//! Column descriptions travel with the schema (field metadata `comment`, as Spark and the
//! Delta protocol use it), so `docs/lake.md`, `analisa lake info` and any Delta reader see
//! the same words.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::error::LakeError;

/// The three layers of the lake, which are also the SQL schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Bronze,
    Silver,
    Gold,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Bronze, Layer::Silver, Layer::Gold];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Gold => "gold",
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Layer::Bronze => {
                "Every raw answer exactly as the platform sent it, append-only, so that silver can always be rebuilt."
            }
            Layer::Silver => {
                "Typed, deduplicated on natural keys, normalised across platforms, commenter ids pseudonymised."
            }
            Layer::Gold => {
                "The numbers people look at; every row names its formula or model version and its inputs."
            }
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A catalogued table, written `layer.name` (`gold.social_score`). Only names in the
/// catalogue parse, so holding a `TableId` means the table exists in the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId {
    layer: Layer,
    name: &'static str,
}

impl TableId {
    // The tables code names directly (a test checks each is catalogued).
    pub const INSTAGRAM_RAW: TableId = TableId { layer: Layer::Bronze, name: "instagram_raw" };
    pub const FACEBOOK_RAW: TableId = TableId { layer: Layer::Bronze, name: "facebook_raw" };
    pub const TIKTOK_RAW: TableId = TableId { layer: Layer::Bronze, name: "tiktok_raw" };
    pub const TIKTOK_BUSINESS_RAW: TableId = TableId { layer: Layer::Bronze, name: "tiktok_business_raw" };
    pub const GA4_RAW: TableId = TableId { layer: Layer::Bronze, name: "ga4_raw" };
    pub const WEBHOOK_EVENTS: TableId = TableId { layer: Layer::Bronze, name: "webhook_events" };
    pub const ACCOUNTS: TableId = TableId { layer: Layer::Silver, name: "accounts" };
    pub const ACCOUNT_DAILY: TableId = TableId { layer: Layer::Silver, name: "account_daily" };
    pub const POSTS: TableId = TableId { layer: Layer::Silver, name: "posts" };
    pub const POST_METRICS: TableId = TableId { layer: Layer::Silver, name: "post_metrics" };
    pub const COMMENTS: TableId = TableId { layer: Layer::Silver, name: "comments" };
    pub const INSIGHTS: TableId = TableId { layer: Layer::Silver, name: "insights" };
    pub const INFLUENCER_METRICS: TableId = TableId { layer: Layer::Gold, name: "influencer_metrics" };
    pub const INFLUENCER_DAILY: TableId = TableId { layer: Layer::Gold, name: "influencer_daily" };
    pub const BENCHMARKS: TableId = TableId { layer: Layer::Gold, name: "benchmarks" };
    pub const SOCIAL_SCORE: TableId = TableId { layer: Layer::Gold, name: "social_score" };
    pub const ANOMALY_FLAGS: TableId = TableId { layer: Layer::Gold, name: "anomaly_flags" };
    pub const SENTIMENT: TableId = TableId { layer: Layer::Gold, name: "sentiment" };
    pub const COMMENT_SENTIMENT: TableId = TableId { layer: Layer::Gold, name: "comment_sentiment" };
    pub const FORECASTS: TableId = TableId { layer: Layer::Gold, name: "forecasts" };

    pub fn layer(self) -> Layer {
        self.layer
    }

    pub fn name(self) -> &'static str {
        self.name
    }

    /// The table's definition.
    pub fn def(self) -> &'static TableDef {
        CATALOGUE
            .iter()
            .find(|t| t.id == self)
            .expect("a TableId only exists for a catalogued table")
    }

    /// Path of the table under the lake root.
    pub fn path(self) -> String {
        format!("{}/{}", self.layer, self.name)
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.layer, self.name)
    }
}

impl FromStr for TableId {
    type Err = LakeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        CATALOGUE
            .iter()
            .map(|t| t.id)
            .find(|id| id.to_string() == wanted)
            .ok_or_else(|| LakeError::UnknownTable(s.to_owned()))
    }
}

/// What the catalogue knows of a table.
#[derive(Debug)]
pub struct TableDef {
    pub id: TableId,
    pub description: &'static str,
    pub schema: SchemaRef,
    /// Hive-style partition columns of the Delta table.
    pub partition_columns: Vec<&'static str>,
    /// The columns that identify a row; upserts MERGE on them.
    pub natural_key: Vec<&'static str>,
}

impl TableDef {
    /// Rows shaped by hand (a fixture, an import) fitted to the table: each catalogued column
    /// taken by name and cast to its type, an absent nullable column filled with nulls.
    pub fn fit(&self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, LakeError> {
        batches
            .into_iter()
            .map(|batch| {
                let columns = self
                    .schema
                    .fields()
                    .iter()
                    .map(|field| match batch.column_by_name(field.name()) {
                        Some(column) => cast(column, field.data_type()).map_err(|e| format!("column `{}`: {e}", field.name())),
                        None if field.is_nullable() => Ok(new_null_array(field.data_type(), batch.num_rows())),
                        None => Err(format!("missing column `{}`", field.name())),
                    })
                    .collect::<Result<Vec<ArrayRef>, String>>()
                    .map_err(|details| LakeError::SchemaMismatch { table: self.id, details })?;
                RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| LakeError::SchemaMismatch { table: self.id, details: e.to_string() })
            })
            .collect()
    }

    /// The description of a column, from its `comment` metadata.
    pub fn column_comment(field: &Field) -> &str {
        field.metadata().get("comment").map(String::as_str).unwrap_or("")
    }
}

/// Every table of the lake, bronze first.
pub fn tables() -> &'static [TableDef] {
    &CATALOGUE
}

/// Layer-purpose text, for documentation.
pub fn layer_purpose(layer: Layer) -> &'static str {
    layer.purpose()
}

// ---- schema vocabulary ------------------------------------------------------------------

fn utf8() -> DataType {
    DataType::Utf8
}
fn int32() -> DataType {
    DataType::Int32
}
fn int64() -> DataType {
    DataType::Int64
}
fn float64() -> DataType {
    DataType::Float64
}
fn boolean() -> DataType {
    DataType::Boolean
}
fn date() -> DataType {
    DataType::Date32
}
/// Delta's `timestamp` type: microseconds, UTC.
fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}
/// Delta arrays read back with an `element` item field; declaring it so keeps round trips exact.
fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, true)))
}
fn struct_of(fields: Vec<Field>) -> DataType {
    DataType::Struct(Fields::from(fields))
}

fn column(name: &str, data_type: DataType, nullable: bool, comment: &str) -> Field {
    Field::new(name, data_type, nullable).with_metadata(HashMap::from([(
        "comment".to_owned(),
        comment.to_owned(),
    )]))
}
/// A column that always has a value.
fn req(name: &str, data_type: DataType, comment: &str) -> Field {
    column(name, data_type, false, comment)
}
/// A column that may be null (not reported, not applicable, not enough data).
fn opt(name: &str, data_type: DataType, comment: &str) -> Field {
    column(name, data_type, true, comment)
}

fn table(
    layer: Layer,
    name: &'static str,
    description: &'static str,
    partition_columns: &[&'static str],
    natural_key: &[&'static str],
    columns: Vec<Field>,
) -> TableDef {
    TableDef {
        id: TableId { layer, name },
        description,
        schema: Arc::new(Schema::new(columns)),
        partition_columns: partition_columns.to_vec(),
        natural_key: natural_key.to_vec(),
    }
}

/// The columns every raw answer carries, whatever the platform.
fn raw_response_columns() -> Vec<Field> {
    vec![
        req("request_fingerprint", utf8(), "SHA-256 of platform, request path and body: the same page landed twice in a day is recognised"),
        req("ingest_run_id", utf8(), "The ingest run that fetched it"),
        req("platform", utf8(), "instagram, facebook, tiktok, tiktok_business or ga4"),
        req("endpoint", utf8(), "Logical endpoint, e.g. ig_user, media, media_insights, comments, page_posts, video_list, run_report"),
        req("api_version", utf8(), "API version the request used, e.g. v24.0, v1.3, v2, v1beta"),
        req("account_ref", utf8(), "Platform id of the account the request was about"),
        req("request_path", utf8(), "Path and query of the request, with tokens and secrets removed"),
        req("http_status", int32(), "HTTP status of the answer"),
        req("fetched_at", timestamp(), "When the answer arrived (UTC)"),
        req("fetched_date", date(), "UTC date of fetched_at; the partition, so retention drops whole days"),
        opt("rate_limit", utf8(), "Rate-limit headers of the answer as a JSON object (X-App-Usage, X-Business-Use-Case-Usage, Retry-After, …)"),
        req("body", utf8(), "The answer's body, unchanged (JSON text)"),
    ]
}

fn raw_table(name: &'static str, description: &'static str) -> TableDef {
    // One row per page and day: the same answer landed twice in a day is recognised, while an
    // unchanged profile fetched on the next day is that day's snapshot. Keying on the
    // partition column also lets MERGE read only the day's files.
    table(Layer::Bronze, name, description, &["fetched_date"], &["request_fingerprint", "fetched_date"], raw_response_columns())
}

static CATALOGUE: LazyLock<Vec<TableDef>> = LazyLock::new(|| {
    use Layer::*;
    vec![
        // ---- bronze -------------------------------------------------------------------
        raw_table("instagram_raw", "Raw answers of the Instagram Graph API (Facebook Login and Instagram Login): users, business_discovery, media, insights, comments."),
        raw_table("facebook_raw", "Raw answers of the Facebook Graph API for Pages: page fields, posts, page and post insights."),
        raw_table("tiktok_raw", "Raw answers of the TikTok Display API v2: user/info and video/list."),
        raw_table("tiktok_business_raw", "Raw answers of the TikTok API for Business: business/get and business/video/list (errors inside HTTP 200 kept as sent)."),
        raw_table("ga4_raw", "Raw answers of the Google Analytics 4 Data API runReport."),
        table(Bronze, "webhook_events", "Webhook deliveries from Meta and TikTok, stored at once with their signature check.", &["received_date"], &["event_fingerprint"], vec![
            req("event_fingerprint", utf8(), "SHA-256 of platform and raw body: a redelivered event is recognised"),
            req("platform", utf8(), "instagram, facebook or tiktok"),
            opt("object", utf8(), "Meta `object` (instagram, page) or TikTok event name"),
            opt("field", utf8(), "Changed field (comments, mentions, feed, …) when the platform names one"),
            opt("account_ref", utf8(), "Platform id of the account the event is about"),
            req("signature_valid", boolean(), "Whether X-Hub-Signature-256 / TikTok-Signature matched the raw body"),
            req("received_at", timestamp(), "When the delivery arrived (UTC)"),
            req("received_date", date(), "UTC date of received_at; the partition"),
            req("body", utf8(), "The delivery's raw body (JSON text)"),
        ]),
        // ---- silver -------------------------------------------------------------------
        table(Silver, "accounts", "One row per platform account: profile fields as last seen.", &[], &["platform", "account_id"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("handle", utf8(), "Username / page name as shown on the platform"),
            opt("display_name", utf8(), "Display name"),
            opt("biography", utf8(), "Bio / about text"),
            opt("account_type", utf8(), "creator, business or personal"),
            opt("niche", utf8(), "Content niche (fashion, beauty, fitness, …)"),
            opt("country", utf8(), "ISO 3166-1 alpha-2 country of the creator"),
            opt("language", utf8(), "Main language of the content (pt, en, es, …)"),
            opt("website", utf8(), "Link in bio"),
            opt("profile_picture_url", utf8(), "Profile picture URL as last reported"),
            opt("is_verified", boolean(), "Verified badge, where the platform reports it"),
            opt("org_id", utf8(), "Organisation that connected this account (first-party insights), null for public data"),
            req("first_seen_at", timestamp(), "First time Analisa saw the account"),
            req("updated_at", timestamp(), "Time of the raw answer these values come from"),
        ]),
        table(Silver, "account_daily", "Daily snapshot of an account's counters.", &["platform"], &["platform", "account_id", "snapshot_date"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("snapshot_date", date(), "UTC day of the snapshot"),
            req("followers", int64(), "Followers (page fans for Facebook)"),
            opt("follows", int64(), "Accounts it follows, where reported"),
            opt("media_count", int64(), "Posts/videos published so far, where reported"),
            opt("likes_total", int64(), "Total likes received (TikTok reports it)"),
            req("captured_at", timestamp(), "Time of the raw answer the snapshot comes from"),
        ]),
        table(Silver, "posts", "One row per post, normalised across platforms (Instagram media, Facebook posts, TikTok videos).", &["platform"], &["platform", "post_id"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("post_id", utf8(), "The platform's id of the post"),
            req("account_id", utf8(), "Author account"),
            req("media_type", utf8(), "image, carousel, video or story"),
            req("published_at", timestamp(), "Publication time (UTC)"),
            opt("caption", utf8(), "Caption / message text"),
            req("caption_length", int32(), "Caption length in characters (0 when there is none)"),
            req("hashtags", list_of(utf8()), "Hashtags in the caption, lower-case, without #"),
            req("mentions", list_of(utf8()), "Accounts mentioned in the caption, without @"),
            opt("permalink", utf8(), "Public URL of the post"),
            req("is_pinned", boolean(), "Pinned to the profile (excluded from ER windows)"),
            req("is_sponsored", boolean(), "Carries a disclosure (#ad, #publi, paid partnership)"),
            opt("sponsored_signal", utf8(), "Which disclosure was found"),
            opt("followers_at_publish", int64(), "Author's followers on the nearest daily snapshot to publication"),
            req("updated_at", timestamp(), "Time of the raw answer these values come from"),
        ]),
        table(Silver, "post_metrics", "Daily snapshot of a post's counters; public counts and, for connected accounts, first-party insights.", &["platform"], &["platform", "post_id", "snapshot_date"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("post_id", utf8(), "The platform's id of the post"),
            req("account_id", utf8(), "Author account"),
            req("snapshot_date", date(), "UTC day of the snapshot"),
            opt("likes", int64(), "Likes (Facebook: all reactions)"),
            opt("comments", int64(), "Comments"),
            opt("shares", int64(), "Shares, where reported"),
            opt("saves", int64(), "Saves, where reported (insights)"),
            opt("views", int64(), "Video plays / views"),
            opt("reach", int64(), "Unique accounts reached (first-party insights)"),
            opt("impressions", int64(), "Impressions (first-party insights, where still offered)"),
            req("source", utf8(), "public (counts anyone can see) or insights (connected account)"),
            req("captured_at", timestamp(), "Time of the raw answer the snapshot comes from"),
        ]),
        table(Silver, "comments", "Comments on tracked posts; commenters appear only as keyed hashes.", &["platform"], &["platform", "comment_id"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("comment_id", utf8(), "The platform's id of the comment"),
            req("post_id", utf8(), "Post commented on"),
            req("account_id", utf8(), "Author of the post"),
            req("commenter_hash", utf8(), "HMAC-SHA-256 of the commenter's platform id with the lake's pseudonymisation key"),
            req("text", utf8(), "Comment text"),
            req("published_at", timestamp(), "When it was written (UTC)"),
            opt("like_count", int64(), "Likes on the comment"),
            opt("parent_comment_id", utf8(), "The comment it replies to"),
            req("updated_at", timestamp(), "Time of the raw answer these values come from"),
        ]),
        table(Silver, "insights", "First-party insights of connected accounts and GA4 traffic: one value per metric, period, day and breakdown.", &["platform"], &["platform", "object_id", "metric", "period", "end_date", "breakdown", "breakdown_value"], vec![
            req("platform", utf8(), "instagram, facebook, tiktok or ga4"),
            req("org_id", utf8(), "Organisation that connected the account (insights are private to it)"),
            req("account_id", utf8(), "Connected account (GA4: property id)"),
            req("object_id", utf8(), "Account, post or property the value describes"),
            req("object_type", utf8(), "account, post or property"),
            req("metric", utf8(), "Metric name as the API version named it (views, reach, saved, sessions, …)"),
            req("period", utf8(), "day, week, days_28, lifetime"),
            req("end_date", date(), "Last day the value covers"),
            req("breakdown", utf8(), "Breakdown dimension (country, age, gender, city, sessionSource, …) or '' for none"),
            req("breakdown_value", utf8(), "Value of the breakdown dimension, '' for none"),
            req("value", float64(), "The value"),
            req("api_version", utf8(), "API version that reported it"),
            req("captured_at", timestamp(), "Time of the raw answer"),
        ]),
        // ---- gold ---------------------------------------------------------------------
        table(Gold, "influencer_metrics", "Per influencer and day of pipeline run: every metric of metrics.md with its sample size.", &[], &["platform", "account_id", "as_of_date"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("as_of_date", date(), "Day the metrics describe"),
            req("followers", int64(), "Followers on as_of_date"),
            req("tier", utf8(), "emerging, nano, micro, mid, macro or mega"),
            opt("niche", utf8(), "Content niche"),
            opt("country", utf8(), "Country of the creator"),
            opt("language", utf8(), "Main language of the content"),
            opt("er_followers_mean", float64(), "Mean of (likes+comments)/followers_at_publish, posts of 90 days, pinned excluded, ≥5 posts"),
            opt("er_followers_median", float64(), "Median of the same ratio"),
            opt("er_followers_full", float64(), "Mean of (likes+comments+shares+saves)/followers_at_publish"),
            req("er_followers_posts", int64(), "Posts in the er_followers_* window"),
            opt("er_views", float64(), "Mean of (likes+comments+shares)/views over the last 30 videos"),
            req("er_views_posts", int64(), "Videos in the er_views window"),
            opt("er_reach", float64(), "Mean of (likes+comments+shares+saves)/reach (first-party insights)"),
            req("er_reach_posts", int64(), "Posts with reach in the window"),
            opt("avg_likes", float64(), "Mean likes per post (90 days)"),
            opt("median_likes", float64(), "Median likes per post"),
            opt("avg_comments", float64(), "Mean comments per post"),
            opt("median_comments", float64(), "Median comments per post"),
            opt("avg_views", float64(), "Mean views per video"),
            opt("median_views", float64(), "Median views per video"),
            opt("posts_per_week", float64(), "Posts per week over 90 days"),
            opt("growth_pct_7d", float64(), "(followers_t − followers_t−7)/followers_t−7"),
            opt("growth_pct_30d", float64(), "Same over 30 days"),
            opt("growth_pct_90d", float64(), "Same over 90 days"),
            opt("velocity_30d", float64(), "Follower change per day over 30 days"),
            opt("engagement_growth_90d", float64(), "Mean engagements of days 1–90 ÷ those of days 91–180 − 1"),
            opt("reach_rate", float64(), "Reach ÷ followers (first-party only)"),
            opt("est_reach_per_post", float64(), "Mean views for video, else followers × tier reach rate"),
            opt("est_impressions", float64(), "Estimated impressions per post"),
            opt("emv_usd", float64(), "Earned media value per post: CPM × est. impressions ÷ 1000"),
            opt("consistency_13w", float64(), "Share of the last 13 weeks with at least one post"),
            opt("post_gap_stddev_days", float64(), "Standard deviation of the gaps between posts, in days"),
            opt("sponsored_share", float64(), "Share of posts with a disclosure"),
            opt("er_sponsored", float64(), "ER of sponsored posts"),
            opt("er_organic", float64(), "ER of organic posts"),
            opt("null_reasons", utf8(), "JSON object: metric → why it is null (insufficient_posts, no_insights, …)"),
            req("formula_version", utf8(), "Version of the metric formulas, e.g. metrics/v1"),
            req("input_versions", utf8(), "JSON object: silver table → Delta version read"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "influencer_daily", "Daily history per influencer, for charts.", &["platform"], &["platform", "account_id", "date"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("date", date(), "The day"),
            req("followers", int64(), "Followers that day"),
            opt("follows", int64(), "Accounts followed that day"),
            opt("follower_delta", int64(), "Change since the previous snapshot"),
            req("posts", int64(), "Posts published that day"),
            opt("likes", int64(), "Likes on the posts published that day"),
            opt("comments", int64(), "Comments on the posts published that day"),
            opt("views", int64(), "Views of the videos published that day"),
            opt("er_daily", float64(), "Engagement rate of that day's posts"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "benchmarks", "Cohort percentiles per metric, kept per run date so that 'as of' comparisons work.", &[], &["run_date", "platform", "niche", "tier", "metric"], vec![
            req("run_date", date(), "Day of the pipeline run"),
            req("platform", utf8(), "Cohort platform"),
            req("niche", utf8(), "Cohort niche ('*' once widened past niche)"),
            req("tier", utf8(), "Cohort tier (or merged tiers, e.g. micro+mid)"),
            opt("widened_to", utf8(), "What a cohort under 200 members was widened to, null if not"),
            req("metric", utf8(), "Metric id, e.g. er_followers_median"),
            req("members", int64(), "Influencers with a value"),
            opt("p10", float64(), "10th percentile"),
            opt("p25", float64(), "25th percentile"),
            opt("p50", float64(), "Median"),
            opt("p75", float64(), "75th percentile"),
            opt("p90", float64(), "90th percentile"),
            opt("mean", float64(), "Mean"),
            req("formula_version", utf8(), "Version of the metric formulas"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "social_score", "Social Score with its full breakdown, per influencer, formula and day.", &[], &["platform", "account_id", "formula_id", "as_of_date"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("as_of_date", date(), "Day the score describes"),
            req("formula_id", utf8(), "Formula id, e.g. social_score"),
            req("formula_version", utf8(), "Formula version, e.g. social_score/v1"),
            req("score", float64(), "0–100: Σ weight·percentile ÷ Σ weight over components with data"),
            req("confidence", utf8(), "high, medium or low"),
            req("cohort", utf8(), "Cohort compared against: platform/niche/tier"),
            opt("cohort_widened_to", utf8(), "What the cohort was widened to, null if not"),
            req("cohort_size", int64(), "Members of the cohort used"),
            req("components", list_of(struct_of(vec![
                Field::new("name", utf8(), false),
                Field::new("input_metric", utf8(), false),
                Field::new("value", float64(), true),
                Field::new("percentile", float64(), true),
                Field::new("weight", float64(), false),
                Field::new("contribution", float64(), true),
            ])), "Per component: input metric, value, percentile in cohort, weight and contribution to the score"),
            req("missing_components", list_of(utf8()), "Components left out for lack of data"),
            req("strengths", list_of(utf8()), "Up to three plain-language strengths"),
            req("weaknesses", list_of(utf8()), "Up to three plain-language weaknesses"),
            req("input_versions", utf8(), "JSON object: table → Delta version read"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "anomaly_flags", "Authenticity flags with their evidence and plain-language reason.", &[], &["flag_id"], vec![
            req("flag_id", utf8(), "Stable id: hash of platform, account, flag type and day"),
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("flag_type", utf8(), "follower_spike, follower_drop_after_spike, round_number_gain, engagement_outlier, following_churn, comment_duplication, explained_viral"),
            req("day", date(), "Day the anomaly happened"),
            req("penalised", boolean(), "Whether it lowers the authenticity component (explained_viral does not)"),
            req("evidence", utf8(), "JSON object with the numbers behind the flag"),
            req("reason", utf8(), "Plain-language explanation"),
            req("formula_version", utf8(), "Version of the detection rules"),
            req("detected_at", timestamp(), "When the pipeline raised it"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "comment_sentiment", "Sentiment of each comment and each post caption, as scored by a model version.", &["platform"], &["platform", "source", "comment_id", "model_version"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("source", utf8(), "comment, or caption (of the post; comment_id is then the post id)"),
            req("comment_id", utf8(), "Comment scored (the post for a caption)"),
            req("post_id", utf8(), "Post commented on"),
            req("account_id", utf8(), "Author of the post"),
            req("label", utf8(), "negative, neutral or positive"),
            req("probability", float64(), "Probability of the label"),
            req("p_negative", float64(), "Probability of negative"),
            req("p_neutral", float64(), "Probability of neutral"),
            req("p_positive", float64(), "Probability of positive"),
            req("language", utf8(), "pt, en or other"),
            req("model_version", utf8(), "Model registry version that scored it"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "sentiment", "Sentiment aggregates per post and per influencer (90 days).", &[], &["level", "platform", "account_id", "post_id", "as_of_date", "model_version"], vec![
            req("level", utf8(), "post or influencer"),
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("post_id", utf8(), "The post, '' at influencer level"),
            req("as_of_date", date(), "Day the aggregate describes"),
            req("positive", int64(), "Positive comments"),
            req("neutral", int64(), "Neutral comments"),
            req("negative", int64(), "Negative comments"),
            req("total", int64(), "Comments scored"),
            opt("net_sentiment", float64(), "(positive − negative) ÷ total; null under 30 comments"),
            opt("null_reason", utf8(), "insufficient_comments when net_sentiment is null"),
            req("model_version", utf8(), "Model registry version"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "forecasts", "Daily follower forecasts with 80% and 95% intervals.", &[], &["platform", "account_id", "origin_date", "target_date", "model_version"], vec![
            req("platform", utf8(), "instagram, facebook or tiktok"),
            req("account_id", utf8(), "The platform's id of the account"),
            req("origin_date", date(), "Last observed day"),
            req("target_date", date(), "Day forecast"),
            req("horizon_days", int32(), "target_date − origin_date"),
            req("followers", float64(), "Point forecast"),
            req("lo80", float64(), "Lower bound of the 80% interval"),
            req("hi80", float64(), "Upper bound of the 80% interval"),
            req("lo95", float64(), "Lower bound of the 95% interval"),
            req("hi95", float64(), "Upper bound of the 95% interval"),
            req("model", utf8(), "Model that produced it (the burn forecaster, or drift as the labelled fallback)"),
            req("model_version", utf8(), "Model registry version"),
            opt("backtest_mase", float64(), "MASE of the model on the account's own history"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
        table(Gold, "recommendations", "Lookalikes, best posting times, hashtags with lift and content suggestions, each with reasons.", &[], &["kind", "platform", "account_id", "as_of_date", "rank"], vec![
            req("kind", utf8(), "lookalike, best_time, hashtag or content"),
            req("platform", utf8(), "Platform of the influencer the recommendation is for"),
            req("account_id", utf8(), "Influencer the recommendation is for"),
            req("as_of_date", date(), "Day it was computed"),
            req("rank", int32(), "1 = best"),
            req("item", utf8(), "What is recommended: an account (platform:id), a weekday-hour, a hashtag or a suggestion id"),
            req("score", float64(), "Similarity or expected value that ranked it"),
            opt("expected_er_lift", float64(), "Expected relative ER lift, where it applies"),
            opt("confidence", utf8(), "high, medium or low"),
            req("reasons", list_of(utf8()), "Plain-language reasons"),
            req("model_version", utf8(), "Model or rule-set version"),
            req("run_id", utf8(), "Pipeline run that wrote the row"),
        ]),
    ]
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_casts_by_name_fills_optional_columns_and_names_what_is_missing() {
        use arrow::array::{Array, Int32Array, StringArray};
        let def = TableId::ACCOUNT_DAILY.def();
        let batch = |columns: Vec<(&str, ArrayRef)>| RecordBatch::try_from_iter(columns).unwrap();
        let ids: ArrayRef = Arc::new(StringArray::from(vec!["1"]));
        let day: ArrayRef = Arc::new(arrow::array::Date32Array::from(vec![20_000]));
        let followers: ArrayRef = Arc::new(Int32Array::from(vec![42]));
        let at: ArrayRef = Arc::new(arrow::array::TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC"));
        let fitted = def
            .fit(vec![batch(vec![("followers", followers.clone()), ("platform", ids.clone()), ("account_id", ids.clone()), ("snapshot_date", day.clone()), ("captured_at", at)])])
            .unwrap();
        assert_eq!(fitted[0].schema(), def.schema);
        assert_eq!(fitted[0].column_by_name("followers").unwrap().data_type(), &DataType::Int64);
        assert!(fitted[0].column_by_name("follows").unwrap().is_null(0));
        let missing = def.fit(vec![batch(vec![("platform", ids)])]).unwrap_err();
        assert!(missing.to_string().contains("missing column `account_id`"), "{missing}");
    }

    #[test]
    fn every_table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for def in tables() {
            assert!(seen.insert(def.id), "{} is catalogued twice", def.id);
            assert!(!def.natural_key.is_empty(), "{} has no natural key", def.id);
            for key in &def.natural_key {
                let field = def.schema.field_with_name(key).unwrap_or_else(|_| panic!("{}: key {key} is not a column", def.id));
                assert!(!field.is_nullable(), "{}: key column {key} must not be nullable", def.id);
            }
            for part in &def.partition_columns {
                let field = def.schema.field_with_name(part).unwrap_or_else(|_| panic!("{}: partition {part} is not a column", def.id));
                assert!(!field.is_nullable(), "{}: partition column {part} must not be nullable", def.id);
            }
            for field in def.schema.fields() {
                assert!(!TableDef::column_comment(field).is_empty(), "{}.{} is undocumented", def.id, field.name());
            }
            assert_eq!(def.id.to_string().parse::<TableId>().unwrap(), def.id);
        }
    }

    #[test]
    fn named_tables_are_catalogued() {
        for id in [TableId::INSTAGRAM_RAW, TableId::FACEBOOK_RAW, TableId::TIKTOK_RAW, TableId::TIKTOK_BUSINESS_RAW, TableId::GA4_RAW,
                   TableId::ACCOUNTS, TableId::ACCOUNT_DAILY, TableId::POSTS, TableId::POST_METRICS, TableId::COMMENTS, TableId::INSIGHTS,
                   TableId::INFLUENCER_METRICS, TableId::INFLUENCER_DAILY, TableId::BENCHMARKS, TableId::SOCIAL_SCORE, TableId::ANOMALY_FLAGS, TableId::SENTIMENT,
                   TableId::COMMENT_SENTIMENT, TableId::FORECASTS] {
            assert!(tables().iter().any(|t| t.id == id), "{id} is not catalogued");
        }
    }

    #[test]
    fn the_architecture_tables_are_all_there() {
        for name in [
            "silver.accounts", "silver.account_daily", "silver.posts", "silver.post_metrics",
            "silver.comments", "silver.insights", "gold.influencer_metrics", "gold.influencer_daily",
            "gold.benchmarks", "gold.social_score", "gold.anomaly_flags", "gold.sentiment",
            "gold.forecasts", "gold.recommendations", "bronze.instagram_raw", "bronze.facebook_raw",
            "bronze.tiktok_raw", "bronze.tiktok_business_raw", "bronze.ga4_raw",
        ] {
            name.parse::<TableId>().unwrap_or_else(|e| panic!("{e}"));
        }
        let err = "gold.nope".parse::<TableId>().unwrap_err().to_string();
        assert!(err.contains("unknown lake table `gold.nope`"), "{err}");
    }
}

/// The catalogue as Markdown: the source of `docs/lake.md` (a test keeps them equal).
pub fn markdown() -> String {
    use std::fmt::Write;
    let mut out = String::from(
        "# The lake\n\n\
         Generated from the table catalogue (`lake/src/catalog.rs`) by `analisa lake docs`; \
         a test fails when this file and the catalogue disagree.\n\n\
         Every table is a Delta table at `<lake.root>/<layer>/<table>/`. In SQL the layers are \
         schemas of the catalogue `analisa`: `SELECT * FROM gold.social_score`. \
         Types are Arrow types as the lake writes them (strings read back as `Utf8View` in \
         DataFusion 55); `timestamp` means microseconds in UTC.\n",
    );
    for layer in Layer::ALL {
        let _ = write!(out, "\n## {layer}\n\n{}\n", layer.purpose());
        for def in tables().iter().filter(|t| t.id.layer() == layer) {
            let _ = write!(out, "\n### `{}`\n\n{}\n\n", def.id, def.description);
            let _ = writeln!(out, "- natural key: {}", code_list(&def.natural_key));
            let partitions = if def.partition_columns.is_empty() {
                "none".to_owned()
            } else {
                code_list(&def.partition_columns)
            };
            let _ = writeln!(out, "- partitioned by: {partitions}\n");
            out.push_str("| column | type | null | meaning |\n|---|---|---|---|\n");
            for field in def.schema.fields() {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    field.name(),
                    type_name(field.data_type()),
                    if field.is_nullable() { "yes" } else { "no" },
                    TableDef::column_comment(field).replace('|', "\\|"),
                );
            }
        }
    }
    out
}

fn code_list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// Short, reader-friendly type names.
fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 => "string".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::Float64 => "float64".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::List(item) => format!("list<{}>", type_name(item.data_type())),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
