//! Bad input gets a clear error naming what is wrong, and the table is left as it was.

use std::sync::Arc;
use std::time::Duration;

use analisa_lake::{AsOf, Lake, LakeConfig, LakeError, TableId};
use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::support::{account_lines, accounts, accounts_batch, file_lake, s3_config};

#[test]
fn unknown_table_is_named() {
    let err = "gold.socialscore".parse::<TableId>().unwrap_err();
    assert!(matches!(err, LakeError::UnknownTable(_)));
    assert_eq!(err.to_string(), "unknown lake table `gold.socialscore` (see `analisa lake info` for the catalogue)");
}

#[tokio::test]
async fn wrong_rows_are_refused_and_nothing_changes() {
    let (lake, _dir) = file_lake();
    let table = accounts();
    lake.create_if_missing(table).await.unwrap();
    lake.append(table, vec![accounts_batch(&[("1", "ana", Some("fitness"))])]).await.unwrap();
    let version = lake.table(table).await.unwrap().version();

    // Missing and foreign columns.
    let foreign = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("platform", DataType::Utf8, false), Field::new("followers", DataType::Int64, false)])),
        vec![Arc::new(StringArray::from(vec!["instagram"])) as ArrayRef, Arc::new(Int64Array::from(vec![10]))],
    )
    .unwrap();
    let err = lake.append(table, vec![foreign]).await.unwrap_err().to_string();
    assert!(err.contains("silver.accounts"), "{err}");
    assert!(err.contains("missing column `account_id`"), "{err}");
    assert!(err.contains("unexpected column `followers`"), "{err}");

    // A column of the wrong type.
    let good = accounts_batch(&[("2", "bia", None)]);
    let mut columns = good.columns().to_vec();
    columns[2] = Arc::new(Int64Array::from(vec![7]));
    let mut fields: Vec<Field> = good.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[2] = Field::new("handle", DataType::Int64, false);
    let typed = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let err = lake.upsert(table, vec![typed]).await.unwrap_err().to_string();
    assert!(err.contains("column `handle` is Int64 but must be Utf8"), "{err}");

    // A null where the catalogue requires a value.
    let mut columns = good.columns().to_vec();
    columns[2] = Arc::new(StringArray::from(vec![None::<&str>]));
    let mut fields: Vec<Field> = good.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[2] = Field::new("handle", DataType::Utf8, true);
    let nulls = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let err = lake.append(table, vec![nulls]).await.unwrap_err().to_string();
    assert!(err.contains("column `handle` is required but has 1 null value(s)"), "{err}");

    // A predicate that is not SQL.
    let err = lake.delete(table, "account_id = = '1'").await.unwrap_err().to_string();
    assert!(err.contains("delete") && err.contains("silver.accounts"), "{err}");

    assert_eq!(lake.table(table).await.unwrap().version(), version, "no commit was made");
    assert_eq!(account_lines(&lake).await, ["1|ana|fitness"]);
}

#[tokio::test]
async fn time_travel_outside_the_history_is_explained() {
    let (lake, _dir) = file_lake();
    let table = accounts();
    lake.create_if_missing(table).await.unwrap();
    let err = lake.table_as_of(table, AsOf::Version(7)).await.unwrap_err();
    assert_eq!(err.to_string(), "version 7 of silver.accounts does not exist (latest is 0)");
    let long_ago = chrono::DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z").unwrap().to_utc();
    let err = lake.table_as_of(table, AsOf::Timestamp(long_ago)).await.unwrap_err().to_string();
    assert!(err.contains("no version of silver.accounts existed at 2001-01-01"), "{err}");
}

#[tokio::test]
async fn a_table_never_created_points_to_init() {
    let (lake, _dir) = file_lake();
    let err = lake.append(accounts(), vec![accounts_batch(&[("1", "ana", None)])]).await.unwrap_err();
    assert!(matches!(err, LakeError::NotInitialised { .. }), "{err}");
    assert!(err.to_string().contains("run `analisa lake init`"), "{err}");
    let session = lake.session().await.unwrap();
    assert!(session.versions().is_empty());
    let err = session.sql("SELECT * FROM silver.accounts").await.unwrap_err().to_string();
    assert!(err.contains("silver.accounts") && err.contains("not found"), "{err}");
    let pinned = std::collections::BTreeMap::from([(accounts(), AsOf::Version(0))]);
    let err = lake.session_as_of(&pinned).await.err().expect("a pinned table must exist");
    assert!(matches!(err, LakeError::NotInitialised { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_s3_endpoint_is_named() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let mut config = s3_config("http://127.0.0.1:1", "nowhere");
    config.s3.max_retries = 1;
    config.s3.retry_timeout = Duration::from_secs(2);
    let lake = Lake::open(&config).unwrap();
    let err = lake.create_if_missing(accounts()).await.unwrap_err();
    assert!(!matches!(err, LakeError::NotInitialised { .. }), "an outage must not look like an empty lake: {err}");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.contains("s3://analisa-test/nowhere/silver/accounts"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
}

#[test]
fn malformed_lake_configuration_is_refused() {
    let err = Lake::open(&LakeConfig { root: "ftp://files/lake".into(), ..LakeConfig::default() }).unwrap_err();
    assert_eq!(err.to_string(), "invalid lake root `ftp://files/lake`: unsupported scheme `ftp`; use file://, s3:// or memory://");
    let err = Lake::open(&LakeConfig { root: "memory://".into(), memory_pool: 10, ..LakeConfig::default() }).unwrap_err();
    assert!(err.to_string().contains("lake.memory_pool"), "{err}");
}
