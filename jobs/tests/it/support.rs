//! Fixtures for the pipeline tests: a lake in memory, rows written with SQL, steps run as the
//! pipeline runs them, and results read back as JSON values for exact comparison.

use std::collections::BTreeMap;

use analisa_jobs::{Formulas, Pipeline, STEPS, Step};
use analisa_lake::{Lake, LakeConfig, TableId};
use arrow::array::RecordBatch;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use serde_json::Value;

pub const AS_OF: &str = "2026-11-28";

pub fn as_of() -> NaiveDate {
    AS_OF.parse().unwrap()
}

/// A pipeline over a fresh in-memory lake with every table created.
pub async fn pipeline(formulas: Formulas) -> Pipeline {
    let lake = Lake::open(&LakeConfig { root: "memory://".into(), ..LakeConfig::default() }).unwrap();
    lake.init().await.unwrap();
    Pipeline::new(lake, formulas, "golden-test-key".to_owned().into()).expect("the built-in models load")
}

pub fn formulas() -> Formulas {
    Formulas::load(None).unwrap()
}

/// The shipped registry with a smaller cohort minimum, so a handful of accounts can show
/// cohorts that are and are not widened.
pub fn formulas_with_cohort_min(members: u32) -> Formulas {
    let text = analisa_jobs::formulas_toml().replace("cohort_min_members = 200", &format!("cohort_min_members = {members}"));
    Formulas::parse(&text).unwrap()
}

/// Appends rows given as a SELECT naming some of the table's columns; the others are null
/// (and must be nullable).
pub async fn put(lake: &Lake, table: &str, select: &str) {
    let batches = SessionContext::new().sql(select).await.unwrap().collect().await.unwrap();
    append(lake, table, batches).await;
}

/// Appends the result of a query over the lake itself.
pub async fn put_from_lake(lake: &Lake, table: &str, select: &str) {
    let batches = lake.session().await.unwrap().sql(select).await.unwrap();
    append(lake, table, batches).await;
}

async fn append(lake: &Lake, table: &str, batches: Vec<RecordBatch>) {
    let id: TableId = table.parse().unwrap();
    lake.append(id, id.def().fit(batches).unwrap_or_else(|e| panic!("{table}: {e}"))).await.unwrap();
}

pub fn step(name: &str) -> &'static Step {
    STEPS.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name}"))
}

/// Runs steps in order as a full run for AS_OF.
pub async fn run(pipeline: &Pipeline, steps: &[&str]) {
    for name in steps {
        let step = step(name);
        let as_of = (step.layer() == analisa_lake::Layer::Gold).then(as_of);
        pipeline.execute(step, None, as_of, "golden").await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Rows of a query as JSON objects (column → value), in the query's order.
pub async fn rows(pipeline: &Pipeline, sql: &str) -> Vec<BTreeMap<String, Value>> {
    let session = pipeline.lake().session().await.unwrap();
    json_rows(session.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")))
}

/// Rows as JSON objects (column → value).
pub fn json_rows(batches: Vec<RecordBatch>) -> Vec<BTreeMap<String, Value>> {
    let mut out = Vec::new();
    for batch in batches {
        let mut writer = arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, arrow::json::writer::JsonArray>(Vec::new());
        writer.write_batches(&[&batch]).unwrap();
        writer.finish().unwrap();
        let buffer = writer.into_inner();
        if buffer.is_empty() {
            continue;
        }
        let parsed: Vec<BTreeMap<String, Value>> = serde_json::from_slice(&buffer).unwrap();
        out.extend(parsed);
    }
    out
}

/// Asserts a float column equals the hand-computed value (to the last few bits: SQL may add in
/// another order than the comment's arithmetic).
#[track_caller]
pub fn close(row: &BTreeMap<String, Value>, column: &str, expected: f64) {
    let got = row.get(column).and_then(Value::as_f64).unwrap_or_else(|| panic!("{column} is {:?}, expected {expected}", row.get(column)));
    assert!((got - expected).abs() <= 1e-12 * expected.abs().max(1.0), "{column}: got {got}, expected {expected}");
}

#[track_caller]
pub fn null(row: &BTreeMap<String, Value>, column: &str) {
    assert!(row.get(column).is_none_or(Value::is_null), "{column} should be null, is {:?}", row.get(column));
}

