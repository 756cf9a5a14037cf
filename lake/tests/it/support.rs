//! Fixtures: lakes on each kind of store and rows for `silver.accounts`.

use std::sync::Arc;
use std::time::Duration;

use analisa_lake::{Lake, LakeConfig, S3Config, TableId};
use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::util::pretty::pretty_format_batches;

pub fn accounts() -> TableId {
    "silver.accounts".parse().unwrap()
}

/// A lake in a fresh temporary directory (kept alive by the returned guard).
pub fn file_lake() -> (Lake, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = LakeConfig { root: format!("file://{}", dir.path().display()), ..LakeConfig::default() };
    (Lake::open(&config).unwrap(), dir)
}

pub fn memory_lake() -> Lake {
    Lake::open(&LakeConfig { root: "memory://".into(), ..LakeConfig::default() }).unwrap()
}

/// The S3-compatible server `scripts/test` starts; these tests are part of the suite and
/// fail, rather than skip, without it.
pub fn s3_endpoint() -> String {
    std::env::var("ANALISA_TEST_S3_ENDPOINT").expect(
        "ANALISA_TEST_S3_ENDPOINT is not set: run the tests through scripts/test, which starts an S3-compatible server",
    )
}

pub fn s3_config(endpoint: &str, prefix: &str) -> LakeConfig {
    let bucket = std::env::var("ANALISA_TEST_S3_BUCKET").unwrap_or_else(|_| "analisa-test".into());
    LakeConfig {
        root: format!("s3://{bucket}/{prefix}"),
        s3: S3Config {
            endpoint: Some(endpoint.to_owned()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".to_owned().into()),
            allow_http: true,
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
            ..S3Config::default()
        },
        ..LakeConfig::default()
    }
}

/// A lake under a prefix of its own in the test bucket.
pub fn s3_lake() -> Lake {
    let prefix = format!("it-{}", uuid::Uuid::new_v4());
    Lake::open(&s3_config(&s3_endpoint(), &prefix)).unwrap()
}

/// One `silver.accounts` row: (account_id, handle, niche).
pub type Account<'a> = (&'a str, &'a str, Option<&'a str>);

pub fn accounts_batch(rows: &[Account<'_>]) -> RecordBatch {
    let n = rows.len();
    let text = |values: Vec<Option<&str>>| Arc::new(StringArray::from(values)) as ArrayRef;
    let time = |micros: i64| {
        Arc::new(TimestampMicrosecondArray::from(vec![micros; n]).with_timezone("UTC")) as ArrayRef
    };
    let def = accounts().def();
    RecordBatch::try_new(
        def.schema.clone(),
        vec![
            text(vec![Some("instagram"); n]),
            text(rows.iter().map(|r| Some(r.0)).collect()),
            text(rows.iter().map(|r| Some(r.1)).collect()),
            text(rows.iter().map(|r| Some(r.1)).collect()),
            text(vec![None; n]),
            text(vec![Some("creator"); n]),
            text(rows.iter().map(|r| r.2).collect()),
            text(vec![Some("BR"); n]),
            text(vec![Some("pt"); n]),
            text(vec![None; n]),
            text(vec![None; n]),
            Arc::new(BooleanArray::from(vec![Some(false); n])),
            text(vec![None; n]),
            time(1_764_000_000_000_000),
            time(1_764_400_000_000_000),
        ],
    )
    .unwrap()
}

/// `account_id|handle|niche` lines of the table, ordered, as the lake's own SQL sees them.
pub async fn account_lines(lake: &Lake) -> Vec<String> {
    let session = lake.session().await.unwrap();
    let batches = session
        .sql("SELECT account_id, handle, coalesce(niche, '-') AS niche FROM silver.accounts ORDER BY account_id")
        .await
        .unwrap();
    lines(&batches)
}

/// Renders rows as `a|b|c` strings (header and borders dropped).
pub fn lines(batches: &[RecordBatch]) -> Vec<String> {
    pretty_format_batches(batches)
        .unwrap()
        .to_string()
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect::<Vec<_>>().join("|"))
        .collect()
}
