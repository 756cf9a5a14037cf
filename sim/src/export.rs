//! `sim export`: the whole world, ground truth included, as Parquet, streamed account by
//! account so memory stays bounded whatever the size.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{NaiveDate, TimeZone, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::world::{Timeline, WorldSpec, tier};

/// Rows buffered per table before they are written as a row group.
const FLUSH_ROWS: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Parquet { path: PathBuf, source: parquet::errors::ParquetError },
    #[error("cannot build rows for {table}: {source}")]
    Arrow { table: &'static str, source: arrow::error::ArrowError },
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub accounts: u64,
    pub account_days: u64,
    pub posts: u64,
    pub comments: u64,
    pub events: u64,
}

fn text() -> DataType {
    DataType::Utf8
}
fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}
fn tags() -> DataType {
    DataType::List(Arc::new(Field::new("element", DataType::Utf8, true)))
}
fn f(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

/// The exported tables and their columns, with the README text of each column.
pub fn tables() -> Vec<(&'static str, SchemaRef, Vec<(&'static str, &'static str)>)> {
    vec![
        ("accounts", Arc::new(Schema::new(vec![
            f("account_index", DataType::UInt32, false), f("platform", text(), false), f("account_id", text(), false),
            f("creator_index", DataType::UInt32, false), f("handle", text(), false), f("name", text(), false),
            f("biography", text(), false), f("niche", text(), false), f("country", text(), false), f("language", text(), false),
            f("account_type", text(), false), f("verified", DataType::Boolean, false), f("connected", DataType::Boolean, false),
            f("followers_start", DataType::Int64, false), f("followers_end", DataType::Int64, false), f("tier_end", text(), false),
            f("fraud_bought_followers", DataType::Boolean, false), f("fraud_follow_churn", DataType::Boolean, false), f("fraud_comment_pod", DataType::Boolean, false),
        ])), vec![
            ("account_index", "position of the account in the world (0-based)"),
            ("platform", "instagram, facebook or tiktok"),
            ("account_id", "the id the fake API serves (IG user id, Page id, TikTok open_id/business_id)"),
            ("creator_index", "the person behind it; equal for one creator's accounts on several platforms"),
            ("handle", "username"), ("name", "display name"), ("biography", "bio text"),
            ("niche", "content niche"), ("country", "ISO country"), ("language", "pt, en or es"),
            ("account_type", "creator, business or personal (personal: invisible to business_discovery)"),
            ("verified", "verified badge"), ("connected", "connected to Analisa: first-party insights and GA4 exist"),
            ("followers_start", "followers on the first day"), ("followers_end", "followers on the last day"),
            ("tier_end", "tier on the last day"),
            ("fraud_bought_followers", "ground truth: bought followers (spike, maybe a purge)"),
            ("fraud_follow_churn", "ground truth: follow/unfollow churn"),
            ("fraud_comment_pod", "ground truth: comments from a pod"),
        ]),
        ("account_daily", Arc::new(Schema::new(vec![
            f("platform", text(), false), f("account_id", text(), false), f("date", DataType::Date32, false),
            f("followers", DataType::Int64, false), f("follows", DataType::Int64, false), f("media_count", DataType::Int64, false),
        ])), vec![
            ("platform", "platform"), ("account_id", "account"), ("date", "the day"),
            ("followers", "followers at the end of the day"), ("follows", "accounts followed"), ("media_count", "posts so far (stories excluded)"),
        ]),
        ("posts", Arc::new(Schema::new(vec![
            f("platform", text(), false), f("post_id", text(), false), f("account_id", text(), false),
            f("published_at", timestamp(), false), f("media_type", text(), false), f("caption", text(), false),
            f("hashtags", tags(), false), f("mentions", tags(), false), f("disclosure", text(), true),
            f("pinned", DataType::Boolean, false), f("viral", DataType::Boolean, false), f("followers_at_publish", DataType::Int64, false),
            f("likes", DataType::Int64, false), f("comments", DataType::Int64, false), f("shares", DataType::Int64, false),
            f("saves", DataType::Int64, false), f("views", DataType::Int64, false), f("reach", DataType::Int64, false),
            f("impressions", DataType::Int64, false), f("duration_secs", DataType::UInt32, false),
            f("likes_served", DataType::Int64, false), f("comments_served", DataType::Int64, false),
            f("shares_served", DataType::Int64, false), f("views_served", DataType::Int64, false),
        ])), vec![
            ("platform", "platform"), ("post_id", "the id the fake API serves"), ("account_id", "author"),
            ("published_at", "publication time (UTC)"), ("media_type", "image, carousel, video or story"),
            ("caption", "caption text"), ("hashtags", "hashtags without #"), ("mentions", "mentions without @"),
            ("disclosure", "sponsorship disclosure in the caption (#publi, #ad, paid partnership …), null if organic"),
            ("pinned", "pinned to the profile"), ("viral", "ground truth: far above the account's usual engagement"),
            ("followers_at_publish", "author's followers that day"),
            ("likes", "final likes"), ("comments", "final comments count (the stored comments are a sample of at most 12)"),
            ("shares", "final shares"), ("saves", "final saves"), ("views", "final views (videos)"),
            ("reach", "final reach"), ("impressions", "final impressions"), ("duration_secs", "video length"),
            ("likes_served", "likes as the fake APIs serve them at the end of the last day (counters still grow with a post's age)"),
            ("comments_served", "comments count as served at the end of the last day"),
            ("shares_served", "shares as served at the end of the last day"), ("views_served", "views as served at the end of the last day"),
        ]),
        ("comments", Arc::new(Schema::new(vec![
            f("platform", text(), false), f("comment_id", text(), false), f("post_id", text(), false), f("account_id", text(), false),
            f("commenter_id", text(), false), f("username", text(), false), f("text", text(), false), f("language", text(), false),
            f("sentiment", text(), false), f("published_at", timestamp(), false), f("like_count", DataType::Int64, false),
            f("parent_id", text(), true), f("from_pod", DataType::Boolean, false),
        ])), vec![
            ("platform", "platform"), ("comment_id", "comment id"), ("post_id", "post commented on"), ("account_id", "author of the post"),
            ("commenter_id", "who wrote it (platform-scoped id)"), ("username", "commenter's username"), ("text", "comment text"),
            ("language", "ground truth: pt, en or es"), ("sentiment", "ground truth: negative, neutral or positive"),
            ("published_at", "when it was written"), ("like_count", "likes on the comment"),
            ("parent_id", "comment it replies to"), ("from_pod", "ground truth: written by a comment pod"),
        ]),
        ("events", Arc::new(Schema::new(vec![
            f("platform", text(), false), f("account_id", text(), false), f("date", DataType::Date32, false),
            f("kind", text(), false), f("magnitude", DataType::Int64, false),
        ])), vec![
            ("platform", "platform"), ("account_id", "account"), ("date", "day of the event"),
            ("kind", "ground truth: bought_followers, purge, follow_churn, comment_pod, viral_post"),
            ("magnitude", "followers added or removed, follows swing, or 1"),
        ]),
    ]
}

struct TableWriter {
    name: &'static str,
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    pending: Vec<Vec<ArrayRef>>,
    pending_rows: usize,
}

impl TableWriter {
    fn create(dir: &Path, name: &'static str, schema: SchemaRef) -> Result<Self, ExportError> {
        let path = dir.join(format!("{name}.parquet"));
        let file = File::create(&path).map_err(|source| ExportError::Io { path: path.clone(), source })?;
        let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by("analisa sim".into()).build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
            .map_err(|source| ExportError::Parquet { path: path.clone(), source })?;
        Ok(Self { name, path, schema, writer, pending: Vec::new(), pending_rows: 0 })
    }

    fn push(&mut self, columns: Vec<ArrayRef>) -> Result<(), ExportError> {
        self.pending_rows += columns.first().map_or(0, |c| c.len());
        self.pending.push(columns);
        if self.pending_rows >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        for columns in self.pending.drain(..) {
            let batch = RecordBatch::try_new(self.schema.clone(), columns)
                .map_err(|source| ExportError::Arrow { table: self.name, source })?;
            self.writer.write(&batch).map_err(|source| ExportError::Parquet { path: self.path.clone(), source })?;
        }
        self.pending_rows = 0;
        Ok(())
    }

    fn close(mut self) -> Result<(), ExportError> {
        self.flush()?;
        self.writer.close().map_err(|source| ExportError::Parquet { path: self.path.clone(), source })?;
        Ok(())
    }
}

fn strings<'a>(values: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}
fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}
fn list(rows: impl Iterator<Item = Vec<String>>) -> ArrayRef {
    let mut builder = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new("element", DataType::Utf8, true)));
    for row in rows {
        for item in row {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

/// Writes the world to `dir` (created if missing): one Parquet file per table and a README.
/// `progress` is called after each account with the number done.
pub fn export(world: &WorldSpec, dir: &Path, mut progress: impl FnMut(u32)) -> Result<ExportSummary, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io { path: dir.to_path_buf(), source })?;
    let mut writers = Vec::new();
    for (name, schema, _) in tables() {
        writers.push(TableWriter::create(dir, name, schema)?);
    }
    let mut summary = ExportSummary::default();
    for account in world.accounts() {
        let index = account.index;
        let timeline = world.timeline(account);
        write_account(world, &timeline, &mut writers, &mut summary)?;
        progress(index + 1);
    }
    for writer in writers {
        writer.close()?;
    }
    let readme = dir.join("README.md");
    std::fs::write(&readme, readme_text(world, &summary)).map_err(|source| ExportError::Io { path: readme, source })?;
    Ok(summary)
}

fn write_account(world: &WorldSpec, t: &Timeline, writers: &mut [TableWriter], summary: &mut ExportSummary) -> Result<(), ExportError> {
    let a = &t.account;
    let platform = a.platform.as_str();
    let last = t.days.last().map_or(a.start_followers as i64, |d| d.followers);
    let bool1 = |v: bool| Arc::new(BooleanArray::from(vec![v])) as ArrayRef;
    writers[0].push(vec![
        Arc::new(UInt32Array::from(vec![a.index])), strings([platform]), strings([a.id.as_str()]),
        Arc::new(UInt32Array::from(vec![a.creator])), strings([a.handle.as_str()]), strings([a.name.as_str()]),
        strings([a.bio.as_str()]), strings([a.niche]), strings([a.country]), strings([a.lang.as_str()]),
        strings([a.account_type.as_str()]), bool1(a.verified), bool1(a.connected),
        Arc::new(Int64Array::from(vec![a.start_followers.round() as i64])), Arc::new(Int64Array::from(vec![last])), strings([tier(last)]),
        bool1(a.fraud.bought_followers), bool1(a.fraud.follow_churn), bool1(a.fraud.comment_pod),
    ])?;
    summary.accounts += 1;

    let n = t.days.len();
    writers[1].push(vec![
        strings(std::iter::repeat_n(platform, n)), strings(std::iter::repeat_n(a.id.as_str(), n)),
        Arc::new(Date32Array::from_iter_values(t.days.iter().map(|d| days_since_epoch(d.date)))),
        Arc::new(Int64Array::from_iter_values(t.days.iter().map(|d| d.followers))),
        Arc::new(Int64Array::from_iter_values(t.days.iter().map(|d| d.follows))),
        Arc::new(Int64Array::from_iter_values(t.days.iter().map(|d| d.media_count))),
    ])?;
    summary.account_days += n as u64;

    let p = &t.posts;
    // Each post's written comments, once: the comments table and the served counts use them.
    let per_post: Vec<Vec<crate::world::Comment>> = p.iter().map(|post| world.comments(a, post)).collect();
    let n = p.len();
    if n > 0 {
        let metric = |get: fn(&crate::world::Post) -> i64| Arc::new(Int64Array::from_iter_values(p.iter().map(get))) as ArrayRef;
        // The servers' clock stands at the end of the last day once the world is fully served.
        let served_until = Utc.from_utc_datetime(&(world.end_date + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight"));
        let served_now: Vec<crate::world::Metrics> = p
            .iter()
            .zip(&per_post)
            .map(|(x, written)| {
                let mut m = x.served_at(served_until, a.platform);
                m.comments = crate::world::comments_served(m.comments, written, served_until);
                m
            })
            .collect();
        let served = |get: &dyn Fn(&crate::world::Metrics) -> i64| Arc::new(Int64Array::from_iter_values(served_now.iter().map(get))) as ArrayRef;
        writers[2].push(vec![
            strings(std::iter::repeat_n(platform, n)), strings(p.iter().map(|x| x.id.as_str())), strings(std::iter::repeat_n(a.id.as_str(), n)),
            Arc::new(TimestampMicrosecondArray::from_iter_values(p.iter().map(|x| x.published_at.timestamp_micros())).with_timezone("UTC")),
            strings(p.iter().map(|x| x.media_type.as_str())), strings(p.iter().map(|x| x.caption.as_str())),
            list(p.iter().map(|x| x.hashtags.clone())), list(p.iter().map(|x| x.mentions.clone())),
            Arc::new(StringArray::from(p.iter().map(|x| x.disclosure).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(p.iter().map(|x| x.pinned).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(p.iter().map(|x| x.viral).collect::<Vec<_>>())),
            metric(|x| x.followers_at_publish), metric(|x| x.metrics.likes), metric(|x| x.metrics.comments),
            metric(|x| x.metrics.shares), metric(|x| x.metrics.saves), metric(|x| x.metrics.views),
            metric(|x| x.metrics.reach), metric(|x| x.metrics.impressions),
            Arc::new(UInt32Array::from_iter_values(p.iter().map(|x| x.duration_secs))),
            served(&|m| m.likes), served(&|m| m.comments), served(&|m| m.shares), served(&|m| m.views),
        ])?;
        summary.posts += n as u64;
    }

    let comments: Vec<_> = per_post.into_iter().flatten().collect();
    let n = comments.len();
    if n > 0 {
        let c = &comments;
        writers[3].push(vec![
            strings(std::iter::repeat_n(platform, n)), strings(c.iter().map(|x| x.id.as_str())), strings(c.iter().map(|x| x.post_id.as_str())),
            strings(std::iter::repeat_n(a.id.as_str(), n)), strings(c.iter().map(|x| x.commenter_id.as_str())),
            strings(c.iter().map(|x| x.username.as_str())), strings(c.iter().map(|x| x.text.as_str())),
            strings(c.iter().map(|x| x.lang.as_str())), strings(c.iter().map(|x| x.sentiment.as_str())),
            Arc::new(TimestampMicrosecondArray::from_iter_values(c.iter().map(|x| x.published_at.timestamp_micros())).with_timezone("UTC")),
            Arc::new(Int64Array::from_iter_values(c.iter().map(|x| x.like_count))),
            Arc::new(StringArray::from(c.iter().map(|x| x.parent_id.as_deref()).collect::<Vec<_>>())),
            Arc::new(BooleanArray::from(c.iter().map(|x| x.from_pod).collect::<Vec<_>>())),
        ])?;
        summary.comments += n as u64;
    }

    let e = &t.events;
    let n = e.len();
    if n > 0 {
        writers[4].push(vec![
            strings(std::iter::repeat_n(platform, n)), strings(std::iter::repeat_n(a.id.as_str(), n)),
            Arc::new(Date32Array::from_iter_values(e.iter().map(|x| days_since_epoch(x.date)))),
            strings(e.iter().map(|x| x.kind)), Arc::new(Int64Array::from_iter_values(e.iter().map(|x| x.magnitude))),
        ])?;
        summary.events += n as u64;
    }
    Ok(())
}

fn readme_text(world: &WorldSpec, summary: &ExportSummary) -> String {
    let mut out = format!(
        "# Simulated world\n\nWritten by `analisa sim export --seed {} --influencers {} --days {}`: days {} to {}. \
         The same arguments always write identical files.\n\n\
         Rows: {} accounts, {} account-days, {} posts, {} comments, {} ground-truth events.\n",
        world.seed, world.influencers, world.days, world.start_date(), world.end_date,
        summary.accounts, summary.account_days, summary.posts, summary.comments, summary.events
    );
    for (name, _, columns) in tables() {
        out.push_str(&format!("\n## {name}.parquet\n\n| column | meaning |\n|---|---|\n"));
        for (column, meaning) in columns {
            out.push_str(&format!("| `{column}` | {meaning} |\n"));
        }
    }
    out
}
