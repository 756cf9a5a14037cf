//! The pipeline's steps: which SQL file makes which table, what it reads, and how its result is
//! written. The SQL files are embedded at build time, so the binary runs exactly the SQL that
//! `sql/` shows.

use std::collections::BTreeMap;

use analisa_lake::{Layer, TableId};
use analisa_ml::ModelName;

use crate::error::{JobsError, Result};

/// How a step's result reaches its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// MERGE on the natural key: silver steps, which see only new bronze rows, and histories
    /// (a run for an earlier day rewrites that part and never cuts off later days).
    Upsert,
    /// Replace the rows of the day computed (`as_of_date` / `run_date` column) in one commit.
    ReplaceDay(&'static str),
    /// Replace the whole table in one commit: derived tables recomputed from all of silver.
    ReplaceAll,
}

#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub name: &'static str,
    pub target: TableId,
    pub sql: &'static str,
    pub write: Write,
    /// Tables read.
    pub inputs: &'static [TableId],
    /// Reads only the rows its inputs gained since its last successful run (silver steps, and
    /// scoring each new comment once), instead of all of them.
    pub incremental: bool,
    /// Models its SQL calls: a new version of one makes the step's output stale.
    pub models: &'static [ModelName],
}

impl Step {
    pub fn layer(&self) -> Layer {
        self.target.layer()
    }

    /// The step's SQL with `${name}` parameters replaced by SQL literals.
    pub fn render(&self, parameters: &BTreeMap<String, String>) -> Result<String> {
        render(self.name, self.sql, parameters)
    }
}

pub(crate) fn render(step: &'static str, sql: &str, parameters: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| JobsError::Parameter { step, name: after.chars().take(20).collect() })?;
        let name = &after[..end];
        let value = parameters.get(name).ok_or_else(|| JobsError::Parameter { step, name: name.to_owned() })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

const BRONZE: &[TableId] = &[TableId::INSTAGRAM_RAW, TableId::FACEBOOK_RAW, TableId::TIKTOK_RAW, TableId::TIKTOK_BUSINESS_RAW, TableId::GA4_RAW];

/// Views that several steps of a layer read, registered in the session of each step of that
/// layer (with the same parameters as the step; over the same incremental inputs).
const VIEWS: &[(Layer, &str, &str)] = &[
    (Layer::Silver, "bronze.post_items", include_str!("../../sql/views/post_items.sql")),
    (Layer::Gold, "silver.post_engagement", include_str!("../../sql/views/post_engagement.sql")),
    (Layer::Gold, "gold.cohort_members", include_str!("../../sql/views/cohorts.sql")),
];

/// The shared views of `layer` that any of `queries` names (views read only tables, not other
/// views). Only these are made: the others would be planned for nothing, and may read tables
/// the step itself makes.
pub fn views_read_by<'a>(layer: Layer, queries: &'a [&'a str]) -> impl Iterator<Item = (&'static str, &'static str)> + 'a {
    VIEWS.iter().filter(move |(l, name, _)| *l == layer && queries.iter().any(|q| q.contains(name))).map(|(_, name, sql)| (*name, *sql))
}

/// Every step, in the order a full run takes them (later steps read what earlier ones wrote).
pub const STEPS: &[Step] = &[
    Step { name: "silver.accounts", target: TableId::ACCOUNTS, sql: include_str!("../../sql/silver/accounts.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "silver.account_daily", target: TableId::ACCOUNT_DAILY, sql: include_str!("../../sql/silver/account_daily.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "silver.posts", target: TableId::POSTS, sql: include_str!("../../sql/silver/posts.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "silver.post_metrics", target: TableId::POST_METRICS, sql: include_str!("../../sql/silver/post_metrics.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "silver.comments", target: TableId::COMMENTS, sql: include_str!("../../sql/silver/comments.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "silver.insights", target: TableId::INSIGHTS, sql: include_str!("../../sql/silver/insights.sql"), write: Write::Upsert, inputs: BRONZE, incremental: true, models: &[] },
    Step { name: "gold.influencer_daily", target: TableId::INFLUENCER_DAILY, sql: include_str!("../../sql/gold/influencer_daily.sql"), write: Write::Upsert, inputs: &[TableId::ACCOUNT_DAILY, TableId::POSTS, TableId::POST_METRICS], incremental: false, models: &[] },
    Step { name: "gold.influencer_metrics", target: TableId::INFLUENCER_METRICS, sql: include_str!("../../sql/gold/influencer_metrics.sql"), write: Write::ReplaceDay("as_of_date"), inputs: &[TableId::ACCOUNTS, TableId::ACCOUNT_DAILY, TableId::POSTS, TableId::POST_METRICS], incremental: false, models: &[] },
    Step { name: "gold.anomaly_flags", target: TableId::ANOMALY_FLAGS, sql: include_str!("../../sql/gold/anomaly_flags.sql"), write: Write::ReplaceAll, inputs: &[TableId::INFLUENCER_DAILY, TableId::INFLUENCER_METRICS, TableId::POSTS, TableId::POST_METRICS, TableId::COMMENTS], incremental: false, models: &[] },
    Step { name: "gold.benchmarks", target: TableId::BENCHMARKS, sql: include_str!("../../sql/gold/benchmarks.sql"), write: Write::ReplaceDay("run_date"), inputs: &[TableId::INFLUENCER_METRICS], incremental: false, models: &[] },
    Step { name: "gold.comment_sentiment", target: TableId::COMMENT_SENTIMENT, sql: include_str!("../../sql/gold/comment_sentiment.sql"), write: Write::Upsert, inputs: &[TableId::COMMENTS, TableId::POSTS], incremental: true, models: &[ModelName::Sentiment] },
    Step { name: "gold.sentiment", target: TableId::SENTIMENT, sql: include_str!("../../sql/gold/sentiment.sql"), write: Write::ReplaceDay("as_of_date"), inputs: &[TableId::COMMENT_SENTIMENT, TableId::COMMENTS], incremental: false, models: &[ModelName::Sentiment] },
    Step { name: "gold.social_score", target: TableId::SOCIAL_SCORE, sql: include_str!("../../sql/gold/social_score.sql"), write: Write::ReplaceDay("as_of_date"), inputs: &[TableId::INFLUENCER_METRICS, TableId::ANOMALY_FLAGS, TableId::SENTIMENT, TableId::INFLUENCER_DAILY], incremental: false, models: &[] },
    Step { name: "gold.forecasts", target: TableId::FORECASTS, sql: include_str!("../../sql/gold/forecasts.sql"), write: Write::ReplaceDay("origin_date"), inputs: &[TableId::INFLUENCER_DAILY], incremental: false, models: &[ModelName::Forecast] },
];

/// What a run does: SQL steps in order, then (maybe) the publication.
#[derive(Debug, Clone)]
pub struct Selection {
    pub steps: Vec<&'static Step>,
    pub publish: bool,
}

/// What `--step` may name: all, silver, gold, publish or one step (with or without its layer).
pub fn select(name: &str) -> Result<Selection> {
    let (steps, publish): (Vec<&Step>, bool) = match name {
        "all" => (STEPS.iter().collect(), true),
        "silver" => (STEPS.iter().filter(|s| s.layer() == Layer::Silver).collect(), false),
        "gold" => (STEPS.iter().filter(|s| s.layer() == Layer::Gold).collect(), false),
        "publish" => (Vec::new(), true),
        one => (STEPS.iter().filter(|s| s.name == one || s.name.split_once('.').is_some_and(|(_, n)| n == one)).collect(), false),
    };
    if steps.is_empty() && !publish {
        return Err(JobsError::UnknownStep(name.to_owned(), STEPS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")));
    }
    Ok(Selection { steps, publish })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_replaced_and_unknown_ones_refused() {
        let params = BTreeMap::from([("as_of_date".to_owned(), "DATE '2026-11-28'".to_owned())]);
        assert_eq!(render("t", "SELECT ${as_of_date} AS d", &params).unwrap(), "SELECT DATE '2026-11-28' AS d");
        assert!(matches!(render("t", "SELECT ${nope}", &params), Err(JobsError::Parameter { name, .. }) if name == "nope"));
    }

    #[test]
    fn steps_are_selected_by_layer_or_name() {
        assert_eq!(select("silver").unwrap().steps.len(), 6);
        assert_eq!(select("social_score").unwrap().steps[0].name, "gold.social_score");
        assert_eq!(select("gold.benchmarks").unwrap().steps.len(), 1);
        let publish = select("publish").unwrap();
        assert!(publish.publish && publish.steps.is_empty());
        assert!(select("all").unwrap().publish && !select("gold").unwrap().publish);
        assert!(select("nonsense").unwrap_err().to_string().contains("gold.social_score"));
    }

    #[test]
    fn every_step_writes_a_table_of_its_layer_after_its_inputs() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.name, format!("{}.{}", step.layer().as_str(), step.target.name()));
            for input in step.inputs {
                if let Some(producer) = STEPS.iter().position(|s| s.target == *input) {
                    assert!(producer < i, "{} reads {} before it is made", step.name, input);
                }
            }
        }
    }
}
