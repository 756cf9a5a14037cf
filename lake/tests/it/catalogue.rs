//! Every catalogued table is created and queryable through the lake's SQL session.

use analisa_lake::catalog::{self, tables};

use crate::support::{file_lake, lines};

#[tokio::test]
async fn every_table_is_created_and_queryable() {
    let (lake, _dir) = file_lake();
    let created = lake.init().await.unwrap();
    assert_eq!(created.len(), tables().len());
    assert!(lake.init().await.unwrap().is_empty(), "init is idempotent");

    let session = lake.session().await.unwrap();
    for def in tables() {
        let sql = format!("SELECT * FROM {} LIMIT 0", def.id);
        let batches = session.context().sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let schema = batches.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let expected: Vec<&str> = def.schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, expected, "{}", def.id);
        assert_eq!(session.versions()[&def.id], 0);
    }

    // The layers are SQL schemas, visible to clients that browse the catalogue.
    let schemas = lines(
        &session
            .sql("SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_catalog = 'analisa' AND table_schema <> 'information_schema' ORDER BY 1")
            .await
            .unwrap(),
    );
    assert_eq!(schemas, ["bronze", "gold", "silver"]);

    let info = lake.info().await.unwrap();
    assert_eq!(info.len(), tables().len());
    assert!(info.iter().all(|i| i.version == Some(0) && i.rows == 0));
}

#[test]
fn docs_lake_md_matches_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/lake.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == catalog::markdown(),
        "docs/lake.md is out of date: regenerate it with `analisa lake docs > docs/lake.md`"
    );
}
