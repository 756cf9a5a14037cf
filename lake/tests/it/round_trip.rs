//! Write, upsert, delete, time travel, optimize, checkpoint and vacuum, on each store.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use analisa_lake::{AsOf, Lake};
use futures::TryStreamExt;

use crate::support::{account_lines, accounts, accounts_batch, file_lake, lines, memory_lake, s3_lake};

async fn all_objects(lake: &Lake) -> BTreeSet<String> {
    let prefix = match lake.root_url().scheme() {
        "file" => object_store::path::Path::from_filesystem_path(lake.root_url().to_file_path().unwrap()).unwrap(),
        _ => object_store::path::Path::from(lake.root_url().path().trim_matches('/')),
    };
    lake.object_store()
        .list(Some(&prefix))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap()
}

async fn round_trip(lake: Lake) {
    let table = accounts();
    assert!(lake.create_if_missing(table).await.unwrap(), "first call creates");
    assert!(!lake.create_if_missing(table).await.unwrap(), "second call finds it");

    // v1: plain append.
    let v1 = lake
        .append(table, vec![accounts_batch(&[("1", "ana", Some("fitness")), ("2", "bia", None)])])
        .await
        .unwrap();
    assert_eq!((v1.version, v1.rows), (1, 2));

    // v2: upsert with a key repeated inside the input and a key already in the table.
    let v2 = lake
        .upsert(
            table,
            vec![
                accounts_batch(&[("2", "bia_old", Some("food")), ("3", "caio", Some("tech"))]),
                accounts_batch(&[("2", "bia", Some("travel"))]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.rows, 2, "one row per distinct key");
    assert_eq!(account_lines(&lake).await, ["1|ana|fitness", "2|bia|travel", "3|caio|tech"]);

    // The same upsert again changes nothing visible: no duplicates, ever.
    lake.upsert(table, vec![accounts_batch(&[("2", "bia", Some("travel")), ("3", "caio", Some("tech"))])])
        .await
        .unwrap();
    assert_eq!(account_lines(&lake).await, ["1|ana|fitness", "2|bia|travel", "3|caio|tech"]);

    // v4: delete by predicate.
    let deleted = lake.delete(table, "account_id = '1'").await.unwrap();
    assert_eq!((deleted.version, deleted.rows), (4, 1));
    assert_eq!(account_lines(&lake).await, ["2|bia|travel", "3|caio|tech"]);

    // Time travel: each version reads exactly what it held.
    let reader = &lake;
    let at = |version| async move {
        let pins = BTreeMap::from([(table, AsOf::Version(version))]);
        let session = reader.session_as_of(&pins).await.unwrap();
        assert_eq!(session.versions()[&table], version);
        lines(&session.sql("SELECT account_id, handle FROM silver.accounts ORDER BY account_id").await.unwrap())
    };
    assert!(at(0).await.is_empty());
    assert_eq!(at(1).await, ["1|ana", "2|bia"]);
    assert_eq!(at(2).await, ["1|ana", "2|bia", "3|caio"]);
    assert_eq!(at(4).await, ["2|bia", "3|caio"]);
    let v2_time = {
        let table = lake.table_as_of(table, AsOf::Version(2)).await.unwrap();
        let millis = table.snapshot().unwrap().version_timestamp(2).unwrap();
        chrono::DateTime::from_timestamp_millis(millis).unwrap()
    };
    let by_time = lake.table_as_of(table, AsOf::Timestamp(v2_time)).await.unwrap();
    assert_eq!(by_time.version(), Some(2));

    // v5: another small file, so that there is something to compact.
    lake.append(table, vec![accounts_batch(&[("4", "duda", Some("pets"))])]).await.unwrap();
    let expected = ["2|bia|travel", "3|caio|tech", "4|duda|pets"];

    // Optimize compacts the small files into one; the rows stay.
    let files_before = lake.info().await.unwrap().into_iter().find(|i| i.id == table).unwrap().files;
    assert!(files_before > 1, "several writes left several files ({files_before})");
    let (added, removed) = lake.optimize(table).await.unwrap();
    assert_eq!((added, removed), (1, files_before));
    assert_eq!(account_lines(&lake).await, expected);
    let info = lake.info().await.unwrap().into_iter().find(|i| i.id == table).unwrap();
    assert_eq!((info.files, info.rows), (1, 3));

    // Checkpoint, then vacuum with no retention: every file the newest version does not use
    // leaves the store, and the table still reads the same.
    let version = lake.checkpoint(table).await.unwrap();
    assert_eq!(version, info.version.unwrap());
    let before = all_objects(&lake).await;
    assert!(before.iter().any(|p| p.ends_with(".checkpoint.parquet")), "{before:?}");
    let deleted = lake.vacuum(table, Duration::ZERO).await.unwrap();
    assert!(deleted.len() as u64 >= files_before, "at least the compacted files go: {deleted:?}");
    let after = all_objects(&lake).await;
    for path in &deleted {
        assert!(!after.iter().any(|p| path.ends_with(p.rsplit('/').next().unwrap())), "{path} still on the store");
    }
    let data_files: Vec<_> = after.iter().filter(|p| p.ends_with(".parquet") && !p.contains("_delta_log")).collect();
    assert_eq!(data_files.len(), 1, "only the compacted file remains: {data_files:?}");
    assert_eq!(account_lines(&lake).await, expected);
}

#[tokio::test]
async fn round_trip_on_a_local_directory() {
    let (lake, _dir) = file_lake();
    round_trip(lake).await;
}

#[tokio::test]
async fn round_trip_in_memory() {
    round_trip(memory_lake()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_on_s3() {
    round_trip(s3_lake()).await;
}

#[tokio::test]
async fn insert_missing_never_touches_existing_rows() {
    let (lake, _dir) = file_lake();
    let table = accounts();
    lake.create_if_missing(table).await.unwrap();
    lake.append(table, vec![accounts_batch(&[("1", "ana", Some("fitness"))])]).await.unwrap();
    let outcome = lake
        .insert_missing(table, vec![accounts_batch(&[("1", "someone_else", None), ("2", "bia", None), ("2", "bia_again", None)])])
        .await
        .unwrap();
    assert_eq!(outcome.rows, 1, "only key 2 is new, once");
    assert_eq!(account_lines(&lake).await, ["1|ana|fitness", "2|bia_again|-"]);
    let again = lake.insert_missing(table, vec![accounts_batch(&[("2", "bia", None)])]).await.unwrap();
    assert_eq!(again.rows, 0);
    assert_eq!(account_lines(&lake).await, ["1|ana|fitness", "2|bia_again|-"]);
}
