//! `analisa lake import` loads Parquet files into a catalogued table; `analisa jobs sql` prints
//! the SQL a step runs.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::{analisa, text};

/// A Parquet file of daily snapshots as another tool might export them: the columns Analisa
/// needs by name, in another order and with narrower or different types, one optional column
/// absent and one column Analisa does not know.
fn write_snapshots(path: &Path, followers: &[i64], with_captured_at: bool) {
    let n = followers.len();
    let mut fields = vec![
        Field::new("followers", DataType::Int64, false),
        Field::new("account_id", DataType::Utf8, false),
        Field::new("platform", DataType::Utf8, false),
        Field::new("snapshot_date", DataType::Date32, false),
        Field::new("source_tool", DataType::Utf8, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(followers.to_vec())),
        Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("acct{i}")))),
        Arc::new(StringArray::from_iter_values((0..n).map(|_| "instagram"))),
        Arc::new(Date32Array::from_iter_values((0..n).map(|_| 20_785))), // 2026-11-28
        Arc::new(StringArray::from_iter_values((0..n).map(|_| "another tool"))),
    ];
    if with_captured_at {
        fields.push(Field::new("captured_at", DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from_iter_values((0..n).map(|_| "2026-11-28T23:59:00Z"))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn table_info(dir: &Path, table: &str) -> serde_json::Value {
    let output = analisa(dir, &["lake", "info", "--json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    stdout.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).find(|l| l["table"] == table).unwrap()
}

#[test]
fn parquet_files_are_fitted_to_the_table_and_merged_on_its_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("analisa.toml"), "[lake]\nroot = \"file://./lake\"\n").unwrap();
    write_snapshots(&dir.path().join("day.parquet"), &[1200, 5400, 88_000], true);

    let output = analisa(dir.path(), &["lake", "import", "--table", "silver.account_daily", "day.parquet"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("silver.account_daily: 3 row(s) from 1 file(s) merged"), "{stdout}");
    // The same day again with new counts replaces the rows (natural key), never duplicates them.
    write_snapshots(&dir.path().join("again.parquet"), &[1300, 5400, 88_100], true);
    assert!(analisa(dir.path(), &["lake", "import", "--table", "silver.account_daily", "again.parquet"]).status.success());
    let info = table_info(dir.path(), "silver.account_daily");
    assert_eq!(info["rows"], 3, "{info}");
    let version = info["version"].clone();

    // A required column missing, a file that is not Parquet, a table that does not exist: each
    // refused with the reason, and nothing is written (every file is checked before the commit).
    write_snapshots(&dir.path().join("no-time.parquet"), &[1], false);
    let output = analisa(dir.path(), &["lake", "import", "--table", "silver.account_daily", "again.parquet", "no-time.parquet"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("missing column `captured_at`"), "{}", text(&output).1);
    std::fs::write(dir.path().join("notes.parquet"), "not parquet at all").unwrap();
    let output = analisa(dir.path(), &["lake", "import", "--table", "silver.account_daily", "notes.parquet"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("notes.parquet is not a Parquet file"), "{}", text(&output).1);
    let output = analisa(dir.path(), &["lake", "import", "--table", "silver.nope", "day.parquet"]);
    assert!(text(&output).1.contains("unknown lake table `silver.nope`"), "{}", text(&output).1);
    let info = table_info(dir.path(), "silver.account_daily");
    assert_eq!((info["rows"].clone(), info["version"].clone()), (serde_json::json!(3), version), "{info}");
}

#[test]
fn jobs_sql_prints_the_script_of_one_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("analisa.toml"), "[lake]\nroot = \"file://./lake\"\n[pipeline]\npseudonym_key = \"cli-test-key\"\n").unwrap();
    let output = analisa(dir.path(), &["jobs", "sql", "influencer_metrics", "--as-of", "2026-11-28"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.starts_with("CREATE SCHEMA IF NOT EXISTS registry;"), "{stdout}");
    assert!(stdout.contains("CREATE TABLE registry.tiers AS SELECT * FROM (VALUES"), "{stdout}");
    assert!(stdout.contains("CREATE VIEW silver.post_engagement AS") && stdout.contains("DATE '2026-11-28'") && !stdout.contains("${"), "{stdout}");

    let output = analisa(dir.path(), &["jobs", "sql", "gold"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("takes one step"), "{}", text(&output).1);
}
