//! The formula registry (`sql/formulas.toml`, overridable by `pipeline.formulas`): thresholds,
//! windows, weights and penalties as data. The gold SQL reads it as the tables `registry.*`
//! and the scalar parameters `${metrics.*}`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::error::{JobsError, Result};

/// The registry shipped with Analisa.
pub const DEFAULT: &str = include_str!("../../sql/formulas.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formulas {
    pub metrics: MetricParams,
    pub tiers: Vec<Tier>,
    pub flags: FlagRules,
    pub score: Vec<ScoreFormula>,
    /// FNV-1a of the registry's text, recorded with gold's inputs.
    #[serde(skip)]
    fingerprint: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricParams {
    pub version: String,
    pub window_days: u32,
    pub min_posts: u32,
    pub video_window: u32,
    pub cpm_usd: f64,
    pub cohort_min_members: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub tier: String,
    pub min_followers: i64,
    /// Exclusive; none for the top tier.
    pub max_followers: Option<i64>,
    pub reach_rate: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRules {
    pub version: String,
    pub viral_explains_up_to: f64,
    pub min_spike_gain: i64,
    pub penalties: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreFormula {
    pub formula_id: String,
    pub version: String,
    pub components: Vec<ScoreComponent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreComponent {
    pub component: String,
    pub weight: f64,
}

/// Components the score SQL knows how to compute.
const COMPONENTS: [&str; 5] = ["engagement", "reach", "growth", "sentiment", "authenticity"];

impl Formulas {
    /// The shipped registry, or the file at `path`.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let (text, origin) = match path {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|e| JobsError::Formulas(format!("cannot read {}: {e}", path.display())))?,
                path.display().to_string(),
            ),
            None => (DEFAULT.to_owned(), "sql/formulas.toml".to_owned()),
        };
        Self::parse(&text).map_err(|e| JobsError::Formulas(format!("{origin}: {e}")))
    }

    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut formulas: Formulas = toml::from_str(text).map_err(|e| e.to_string())?;
        formulas.validate()?;
        formulas.fingerprint = fnv1a(text.as_bytes());
        Ok(formulas)
    }

    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let mut tiers = self.tiers.clone();
        tiers.sort_by_key(|t| t.min_followers);
        for pair in tiers.windows(2) {
            if pair[0].max_followers != Some(pair[1].min_followers) {
                return Err(format!("tier {} must end where {} starts", pair[0].tier, pair[1].tier));
            }
        }
        if tiers.last().is_some_and(|t| t.max_followers.is_some()) {
            return Err("the top tier has no max_followers".into());
        }
        let mut seen = std::collections::HashSet::new();
        for formula in &self.score {
            if !seen.insert((&formula.formula_id, &formula.version)) {
                return Err(format!("score formula {} is defined twice", formula.version));
            }
            for c in &formula.components {
                if !COMPONENTS.contains(&c.component.as_str()) {
                    return Err(format!("{}: unknown component {} (known: {})", formula.version, c.component, COMPONENTS.join(", ")));
                }
                if !(c.weight > 0.0 && c.weight.is_finite()) {
                    return Err(format!("{}: weight of {} must be positive", formula.version, c.component));
                }
            }
        }
        Ok(())
    }

    /// Scalar parameters for the SQL templates, as SQL literals.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let m = &self.metrics;
        BTreeMap::from([
            ("metrics.version".to_owned(), sql_string(&m.version)),
            ("metrics.window_days".to_owned(), m.window_days.to_string()),
            ("metrics.min_posts".to_owned(), m.min_posts.to_string()),
            ("metrics.video_window".to_owned(), m.video_window.to_string()),
            ("metrics.cpm_usd".to_owned(), format!("{:?}", m.cpm_usd)),
            ("metrics.cohort_min_members".to_owned(), m.cohort_min_members.to_string()),
            ("flags.version".to_owned(), sql_string(&self.flags.version)),
            ("flags.viral_explains_up_to".to_owned(), format!("{:?}", self.flags.viral_explains_up_to)),
            ("flags.min_spike_gain".to_owned(), self.flags.min_spike_gain.to_string()),
        ])
    }

    /// The registry tables as SQL statements, with the same rows and columns as `register`
    /// gives the pipeline: the start of a step's script (`analisa jobs sql`).
    pub fn to_sql(&self) -> String {
        let mut tiers = self.tiers.clone();
        tiers.sort_by_key(|t| t.min_followers);
        let tier_rows = tiers
            .iter()
            .enumerate()
            .map(|(ordinal, t)| {
                let max = t.max_followers.map_or_else(|| "CAST(NULL AS BIGINT)".to_owned(), |m| m.to_string());
                format!("({}, {ordinal}, {}, {max}, {})", sql_string(&t.tier), t.min_followers, double(t.reach_rate))
            })
            .collect();
        let weight_rows = self
            .score
            .iter()
            .flat_map(|f| f.components.iter().map(move |c| format!("({}, {}, {}, {})", sql_string(&f.formula_id), sql_string(&f.version), sql_string(&c.component), double(c.weight))))
            .collect();
        let penalty_rows = self.flags.penalties.iter().map(|(flag, penalty)| format!("({}, {})", sql_string(flag), double(*penalty))).collect();
        [
            "CREATE SCHEMA IF NOT EXISTS registry;\n".to_owned(),
            values_table("tiers", &[("tier", "VARCHAR"), ("ordinal", "BIGINT"), ("min_followers", "BIGINT"), ("max_followers", "BIGINT"), ("reach_rate", "DOUBLE")], tier_rows),
            values_table("score_weights", &[("formula_id", "VARCHAR"), ("formula_version", "VARCHAR"), ("component", "VARCHAR"), ("weight", "DOUBLE")], weight_rows),
            values_table("flag_penalties", &[("flag_type", "VARCHAR"), ("penalty", "DOUBLE")], penalty_rows),
        ]
        .join("\n")
            + "\n"
    }

    /// Registers `registry.tiers`, `registry.score_weights` and `registry.flag_penalties`.
    pub fn register(&self, ctx: &SessionContext, catalog: &str) -> Result<()> {
        let schema = Arc::new(MemorySchemaProvider::new());
        let mut tiers = self.tiers.clone();
        tiers.sort_by_key(|t| t.min_followers);
        schema.register_table(
            "tiers".into(),
            table(vec![
                ("tier", strings(tiers.iter().map(|t| t.tier.as_str()))),
                ("ordinal", Arc::new(Int64Array::from_iter_values(0..tiers.len() as i64))),
                ("min_followers", Arc::new(Int64Array::from_iter_values(tiers.iter().map(|t| t.min_followers)))),
                ("max_followers", Arc::new(Int64Array::from_iter(tiers.iter().map(|t| t.max_followers)))),
                ("reach_rate", Arc::new(Float64Array::from_iter_values(tiers.iter().map(|t| t.reach_rate)))),
            ])?,
        )?;
        let weights: Vec<(&ScoreFormula, &ScoreComponent)> = self.score.iter().flat_map(|f| f.components.iter().map(move |c| (f, c))).collect();
        schema.register_table(
            "score_weights".into(),
            table(vec![
                ("formula_id", strings(weights.iter().map(|(f, _)| f.formula_id.as_str()))),
                ("formula_version", strings(weights.iter().map(|(f, _)| f.version.as_str()))),
                ("component", strings(weights.iter().map(|(_, c)| c.component.as_str()))),
                ("weight", Arc::new(Float64Array::from_iter_values(weights.iter().map(|(_, c)| c.weight)))),
            ])?,
        )?;
        schema.register_table(
            "flag_penalties".into(),
            table(vec![
                ("flag_type", strings(self.flags.penalties.keys().map(String::as_str))),
                ("penalty", Arc::new(Float64Array::from_iter_values(self.flags.penalties.values().copied()))),
            ])?,
        )?;
        ctx.catalog(catalog).expect("the lake session has its catalogue").register_schema("registry", schema)?;
        Ok(())
    }
}

/// A float literal typed as DOUBLE (some engines read `0.22` as a decimal).
fn double(value: f64) -> String {
    format!("CAST({value:?} AS DOUBLE)")
}

/// `CREATE TABLE registry.{name} AS VALUES …` with the columns named; an empty table keeps its
/// columns through a row of typed nulls that is filtered out.
fn values_table(name: &str, columns: &[(&str, &str)], rows: Vec<String>) -> String {
    let names = columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
    let (rows, filter) = if rows.is_empty() {
        (format!("({})", columns.iter().map(|(_, t)| format!("CAST(NULL AS {t})")).collect::<Vec<_>>().join(", ")), " WHERE false")
    } else {
        (rows.join(",\n    "), "")
    };
    format!("CREATE TABLE registry.{name} AS SELECT * FROM (VALUES\n    {rows}) AS t({names}){filter};\n")
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn table(columns: Vec<(&str, ArrayRef)>) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let schema = Arc::new(Schema::new(
        columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect())?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// FNV-1a, 64 bits: the same on every machine and release, unlike std's randomised hasher.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3))
}

/// A SQL string literal.
pub fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_registry_is_valid_and_matches_metrics_md() {
        let f = Formulas::parse(DEFAULT).unwrap();
        let weights: Vec<(String, f64)> = f.score[0].components.iter().map(|c| (c.component.clone(), c.weight)).collect();
        assert_eq!(f.score[0].version, "social_score/v1");
        assert_eq!(weights.iter().map(|(_, w)| w).sum::<f64>(), 1.0);
        assert_eq!(f.tiers.iter().find(|t| t.tier == "micro").map(|t| (t.min_followers, t.max_followers)), Some((10_000, Some(100_000))));
        assert_eq!(f.flags.penalties["follower_spike"], 25.0);
    }

    #[test]
    fn bad_registries_are_refused_with_the_reason() {
        let gap = DEFAULT.replace("max_followers = 10000\n", "max_followers = 9000\n");
        assert!(Formulas::parse(&gap).unwrap_err().contains("must end where"), "{}", Formulas::parse(&gap).unwrap_err());
        let unknown = DEFAULT.replace("component = \"reach\"", "component = \"vibes\"");
        assert!(Formulas::parse(&unknown).unwrap_err().contains("unknown component vibes"));
        let negative = DEFAULT.replace("weight = 0.20 },\n    { component = \"growth\"", "weight = -1.0 },\n    { component = \"growth\"");
        assert!(Formulas::parse(&negative).unwrap_err().contains("must be positive"));
    }
}
