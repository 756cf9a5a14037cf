//! A Delta table written by the lake reads the same in an independent implementation
//! (the Python `deltalake` package, on its own Rust/Arrow stack and Delta log parser).

use std::process::Command;
use std::sync::Arc;

use analisa_lake::TableId;
use arrow::array::{ArrayRef, BooleanArray, Int32Array, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondArray};

use crate::support::file_lake;

fn posts_batch() -> RecordBatch {
    let def = "silver.posts".parse::<TableId>().unwrap().def();
    let text = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
    let tags = |rows: &[&[&str]]| {
        let mut builder = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(arrow::datatypes::Field::new("element", arrow::datatypes::DataType::Utf8, true)));
        for row in rows {
            for tag in *row {
                builder.values().append_value(tag);
            }
            builder.append(true);
        }
        Arc::new(builder.finish()) as ArrayRef
    };
    let time = |v: Vec<i64>| Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC")) as ArrayRef;
    RecordBatch::try_new(
        def.schema.clone(),
        vec![
            text(vec![Some("instagram"), Some("tiktok")]),
            text(vec![Some("p1"), Some("v9")]),
            text(vec![Some("17841400000000001"), Some("7000000000000000002")]),
            text(vec![Some("carousel"), Some("video")]),
            time(vec![1_764_374_400_000_000, 1_764_460_800_123_456]),
            text(vec![Some("Treino de hoje 💪 #publi #fitness @marca"), None]),
            Arc::new(Int32Array::from(vec![39, 0])),
            tags(&[&["publi", "fitness"], &[]]),
            tags(&[&["marca"], &[]]),
            text(vec![Some("https://www.instagram.com/p/p1/"), None]),
            Arc::new(BooleanArray::from(vec![false, true])),
            Arc::new(BooleanArray::from(vec![true, false])),
            text(vec![Some("#publi"), None]),
            Arc::new(Int64Array::from(vec![Some(15_300), None])),
            time(vec![1_764_500_000_000_000, 1_764_500_000_000_000]),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn python_deltalake_reads_what_the_lake_wrote() {
    let python = std::env::var("ANALISA_PYTHON").expect(
        "ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares a Python with `deltalake`",
    );
    let (lake, dir) = file_lake();
    let posts: TableId = "silver.posts".parse().unwrap();
    lake.create_if_missing(posts).await.unwrap();
    lake.append(posts, vec![posts_batch()]).await.unwrap();

    let script = r#"
import json, os, sys
from deltalake import DeltaTable
t = DeltaTable(sys.argv[1])
rows = sorted(t.to_pyarrow_table().to_pylist(), key=lambda r: r["post_id"])
for r in rows:
    r["published_at"] = r["published_at"].isoformat()
    r["updated_at"] = r["updated_at"].isoformat()
print(json.dumps({"version": t.version(), "partitions": t.metadata().partition_columns, "rows": rows}, ensure_ascii=False, sort_keys=True))
sys.stdout.flush()
# deltalake's runtime threads and pyarrow's can race at interpreter teardown and abort
# ("terminate called without an active exception", delta-rs issue 2184); the answer is out,
# so leave without the teardown.
os._exit(0)
"#;
    let table_dir = dir.path().join("silver/posts");
    let output = Command::new(&python).arg("-c").arg(script).arg(&table_dir).output().expect("python runs");
    assert!(output.status.success(), "python failed: {}", String::from_utf8_lossy(&output.stderr));
    let got: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected = serde_json::json!({
        "version": 1,
        "partitions": ["platform"],
        "rows": [
            {"platform": "instagram", "post_id": "p1", "account_id": "17841400000000001", "media_type": "carousel",
             "published_at": "2025-11-29T00:00:00+00:00", "caption": "Treino de hoje 💪 #publi #fitness @marca",
             "caption_length": 39, "hashtags": ["publi", "fitness"], "mentions": ["marca"],
             "permalink": "https://www.instagram.com/p/p1/", "is_pinned": false, "is_sponsored": true,
             "sponsored_signal": "#publi", "followers_at_publish": 15300, "updated_at": "2025-11-30T10:53:20+00:00"},
            {"platform": "tiktok", "post_id": "v9", "account_id": "7000000000000000002", "media_type": "video",
             "published_at": "2025-11-30T00:00:00.123456+00:00", "caption": null,
             "caption_length": 0, "hashtags": [], "mentions": [],
             "permalink": null, "is_pinned": true, "is_sponsored": false,
             "sponsored_signal": null, "followers_at_publish": null, "updated_at": "2025-11-30T10:53:20+00:00"}
        ]
    });
    assert_eq!(got, expected);
}
