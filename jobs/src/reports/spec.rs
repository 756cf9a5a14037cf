//! What a report definition says: who is in it, which sections and metrics, which period,
//! which format and language. Parsed once into these types; everything after trusts them.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{JobsError, Result};

/// The creators a report covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Influencer ids (`platform:account_id`).
    Influencers(Vec<String>),
    /// A tracked list of the organisation.
    List(Uuid),
    /// A campaign of the organisation.
    Campaign(Uuid),
    /// Every published creator matching the filters (empty filter = any).
    Cohort(CohortFilter),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortFilter {
    #[serde(default)]
    pub platform: Vec<String>,
    #[serde(default)]
    pub niche: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub country: Vec<String>,
}

/// A part of the report: one table (a CSV/Parquet file, an XLSX sheet, a PDF section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// One row per creator: identity, Social Score and the chosen metrics.
    Summary,
    /// Daily followers and engagement over the period.
    History,
    /// The Social Score's components per creator.
    Score,
    /// Anomaly flags raised in the period.
    Flags,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::History => "history",
            Self::Score => "score",
            Self::Flags => "flags",
        }
    }

    pub(crate) fn sql(self) -> &'static str {
        match self {
            Self::Summary => include_str!("../../../sql/reports/summary.sql"),
            Self::History => include_str!("../../../sql/reports/history.sql"),
            Self::Score => include_str!("../../../sql/reports/score.sql"),
            Self::Flags => include_str!("../../../sql/reports/flags.sql"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
    Parquet,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Parquet => "parquet",
            Self::Pdf => "pdf",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "en")]
    En,
}

/// The days a report covers: `{"last_days": 30}` (ending on the newest published day) or
/// `{"from": "2026-11-01", "to": "2026-11-30"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Period {
    LastDays { last_days: u32 },
    Between { from: NaiveDate, to: NaiveDate },
}

impl Period {
    /// The first and last day, given the newest day with data.
    pub fn resolve(self, newest: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Self::LastDays { last_days } => (newest - Duration::days(i64::from(last_days) - 1), newest),
            Self::Between { from, to } => (from, to),
        }
    }
}

/// The metrics a summary may carry: the numeric columns of gold.influencer_metrics, by their
/// metrics.md ids. A name outside this set never reaches SQL.
pub const SUMMARY_METRICS: &[&str] = &[
    "er_followers_mean", "er_followers_median", "er_followers_full", "er_views", "er_reach", "avg_likes", "median_likes", "avg_comments",
    "median_comments", "avg_views", "median_views", "posts_per_week", "growth_pct_7d", "growth_pct_30d", "growth_pct_90d", "velocity_30d",
    "engagement_growth_90d", "reach_rate", "est_reach_per_post", "est_impressions", "emv_usd", "consistency_13w", "post_gap_stddev_days",
    "sponsored_share", "er_sponsored", "er_organic",
];

/// A report definition's content (what PostgreSQL keeps as JSON, versioned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    pub scope: Scope,
    pub sections: Vec<Section>,
    /// Summary metrics, from [`SUMMARY_METRICS`].
    #[serde(default = "default_metrics")]
    pub metrics: Vec<String>,
    pub period: Period,
    pub format: Format,
    #[serde(default)]
    pub language: Language,
    /// The Social Score formula version shown (default: the registry's default, social_score/v1).
    #[serde(default = "default_formula")]
    pub score_formula: String,
}

fn default_metrics() -> Vec<String> {
    ["er_followers_median", "er_views", "growth_pct_30d", "posts_per_week", "est_reach_per_post", "emv_usd"].map(str::to_owned).to_vec()
}

fn default_formula() -> String {
    "social_score/v1".to_owned()
}

impl ReportSpec {
    /// Parses and checks a definition; the error names what is wrong.
    pub fn parse(json: &serde_json::Value) -> Result<Self> {
        let spec: Self = serde_json::from_value(json.clone()).map_err(|e| JobsError::InvalidReport(e.to_string()))?;
        spec.check()?;
        Ok(spec)
    }

    pub fn check(&self) -> Result<()> {
        let invalid = |why: String| Err(JobsError::InvalidReport(why));
        if self.sections.is_empty() {
            return invalid("a report needs at least one section".into());
        }
        if self.sections.iter().collect::<BTreeSet<_>>().len() != self.sections.len() {
            return invalid("a section appears twice".into());
        }
        if let Some(unknown) = self.metrics.iter().find(|m| !SUMMARY_METRICS.contains(&m.as_str())) {
            return invalid(format!("unknown metric `{unknown}` (one of: {})", SUMMARY_METRICS.join(", ")));
        }
        match self.period {
            Period::LastDays { last_days } if !(1..=366).contains(&last_days) => return invalid("last_days is between 1 and 366".into()),
            Period::Between { from, to } if from > to => return invalid("the period starts after it ends".into()),
            _ => {}
        }
        if let Scope::Influencers(ids) = &self.scope {
            if ids.is_empty() || ids.len() > 1000 {
                return invalid("a list of influencers holds 1 to 1000 ids".into());
            }
            if let Some(bad) = ids.iter().find(|id| split_id(id).is_none()) {
                return invalid(format!("`{bad}` is not an influencer id (platform:account_id)"));
            }
        }
        if let Scope::Cohort(filter) = &self.scope {
            let word = |v: &String| !v.is_empty() && v.len() <= 40 && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '*'));
            if let Some(bad) = [&filter.platform, &filter.niche, &filter.tier, &filter.country].into_iter().flatten().find(|v| !word(v)) {
                return invalid(format!("`{bad}` is not a platform, niche, tier or country"));
            }
        }
        if !self.score_formula.starts_with("social_score/") {
            return invalid(format!("`{}` is not a Social Score formula version", self.score_formula));
        }
        Ok(())
    }
}

/// `platform:account_id` → its parts, for the platforms Analisa knows.
pub fn split_id(id: &str) -> Option<(&str, &str)> {
    let (platform, account) = id.split_once(':')?;
    (matches!(platform, "instagram" | "facebook" | "tiktok") && !account.is_empty() && account.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .then_some((platform, account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_definition_and_refuses_what_it_cannot_run() {
        let ok = json!({"scope": {"influencers": ["instagram:1", "tiktok:2"]}, "sections": ["summary", "history"], "period": {"last_days": 30}, "format": "csv"});
        let spec = ReportSpec::parse(&ok).unwrap();
        assert_eq!(spec.language, Language::PtBr);
        assert_eq!(spec.period.resolve(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()).0, NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
        for (bad, why) in [
            (json!({"scope": {"influencers": ["instagram:1"]}, "sections": [], "period": {"last_days": 30}, "format": "csv"}), "at least one section"),
            (json!({"scope": {"influencers": ["instagram:1"]}, "sections": ["summary"], "metrics": ["er_views; DROP"], "period": {"last_days": 30}, "format": "csv"}), "unknown metric"),
            (json!({"scope": {"influencers": ["myspace:1"]}, "sections": ["summary"], "period": {"last_days": 30}, "format": "csv"}), "not an influencer id"),
            (json!({"scope": {"influencers": ["instagram:1' OR 1=1"]}, "sections": ["summary"], "period": {"last_days": 30}, "format": "csv"}), "not an influencer id"),
            (json!({"scope": {"list": "x"}, "sections": ["summary"], "period": {"last_days": 30}, "format": "csv"}), "UUID"),
            (json!({"scope": {"cohort": {}}, "sections": ["summary"], "period": {"from": "2026-11-02", "to": "2026-11-01"}, "format": "csv"}), "starts after"),
            (json!({"scope": {"cohort": {}}, "sections": ["summary"], "period": {"last_days": 0}, "format": "csv"}), "between 1 and 366"),
            (json!({"scope": {"cohort": {}}, "sections": ["summary"], "period": {"last_days": 7}, "format": "docx"}), "unknown variant"),
            (json!({"scope": {"cohort": {}}, "sections": ["summary"], "period": {"last_weeks": 7}, "format": "csv"}), "did not match any variant"),
            (json!({"scope": {"cohort": {"niche": ["x') OR ('1'='1"]}}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"}), "is not a platform"),
        ] {
            let error = ReportSpec::parse(&bad).unwrap_err().to_string();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
