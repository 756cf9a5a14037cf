//! Two writers racing on one table of an S3-compatible store: no commit lost or half-written.

use std::collections::BTreeSet;

use analisa_lake::Lake;

use crate::support::{accounts, accounts_batch, s3_config, s3_endpoint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_s3_both_land() {
    let prefix = format!("race-{}", uuid::Uuid::new_v4());
    let config = s3_config(&s3_endpoint(), &prefix);
    // Two independent lake handles, as two worker processes would have.
    let writer_a = Lake::open(&config).unwrap();
    let writer_b = Lake::open(&config).unwrap();
    writer_a.create_if_missing(accounts()).await.unwrap();

    let commits = |lake: Lake, name: &'static str| {
        tokio::spawn(async move {
            let mut versions = Vec::new();
            for i in 0..10 {
                let id = format!("{name}-{i}");
                let outcome = lake.append(accounts(), vec![accounts_batch(&[(&id, name, None)])]).await.unwrap();
                versions.push(outcome.version);
            }
            versions
        })
    };
    let (a, b) = tokio::join!(commits(writer_a, "a"), commits(writer_b, "b"));
    let (a, b) = (a.unwrap(), b.unwrap());

    // Every commit got its own version; together they are exactly versions 1..=20.
    let all: BTreeSet<u64> = a.iter().chain(&b).copied().collect();
    assert_eq!(all, (1..=20).collect::<BTreeSet<u64>>(), "a: {a:?}, b: {b:?}");

    let reader = Lake::open(&config).unwrap();
    let session = reader.session().await.unwrap();
    assert_eq!(session.versions()[&accounts()], 20);
    let rows = crate::support::lines(
        &session.sql("SELECT count(*), count(DISTINCT account_id) FROM silver.accounts").await.unwrap(),
    );
    assert_eq!(rows, ["20|20"]);
}
