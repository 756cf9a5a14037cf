//! SQL over the lake: `/v1/sql` and Flight SQL (through Python's ADBC driver) on a small lake
//! with public rows and two organisations' private ones.

use std::time::Duration;

use analisa_lake::{Lake, LakeConfig, TableId};
use analisa_query_api::ApiConfig;
use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Account, TestApi, config, redis_url};

pub(crate) struct World {
    pub(crate) api: TestApi,
    lake: Lake,
    _dir: tempfile::TempDir,
    /// Org A: owner (admin rights), analyst, viewer, a read key; org B: its owner.
    pub(crate) a_owner: Account,
    a_analyst: Account,
    pub(crate) a_viewer: Account,
    a_key: String,
    pub(crate) b_owner: Account,
}

#[derive(Clone, Copy)]
enum Who<'a> {
    User(&'a Account),
    Key(&'a str),
}

pub(crate) fn sql_config() -> ApiConfig {
    let mut config = config();
    // Every query sees the newest versions (the tests write between queries).
    config.sql.refresh_interval = Duration::ZERO;
    config
}

impl World {
    pub(crate) async fn new(config: ApiConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&LakeConfig { root: format!("file://{}/lake", dir.path().display()), ..LakeConfig::default() }).unwrap();
        lake.init().await.unwrap();
        let api = TestApi::start_full(&redis_url(), config, lake.clone()).await;
        let a_owner = api.account("owner@a.example.com", "A").await;
        let a_analyst = api.member(&a_owner, "analyst@a.example.com", "analyst").await;
        let a_viewer = api.member(&a_owner, "viewer@a.example.com", "viewer").await;
        let (_, key) = api.post(&format!("/v1/orgs/{}/api-keys", a_owner.org_id), Some(&a_owner.access), json!({"name": "notebooks", "scope": "read"})).await;
        let b_owner = api.account("owner@b.example.com", "B").await;
        let world = Self { api, lake, _dir: dir, a_key: key["key"].as_str().unwrap().to_owned(), a_owner, a_analyst, a_viewer, b_owner };
        world.seed().await;
        world
    }

    async fn seed(&self) {
        let (a, b) = (&self.a_owner.org_id, &self.b_owner.org_id);
        put(&self.lake, "silver.accounts", &format!(
            "SELECT * FROM (VALUES ('instagram', '1001', 'ana', NULL), ('instagram', '1002', 'bia', NULL), ('instagram', '2001', 'conectada_a', '{a}'), ('instagram', '3001', 'conectada_b', '{b}'))
             AS t(platform, account_id, handle, org_id), (SELECT now() AS first_seen_at, now() AS updated_at)"
        )).await;
        put(&self.lake, "silver.insights", &format!(
            "SELECT platform, org AS org_id, account_id, account_id AS object_id, 'account' AS object_type, 'reach' AS metric, 'day' AS period, DATE '2026-11-28' AS end_date,
                    '' AS breakdown, '' AS breakdown_value, v AS value, 'v24.0' AS api_version, now() AS captured_at
             FROM (VALUES ('instagram', '{a}', '2001', 10.0), ('instagram', '{a}', '2001', 11.0), ('instagram', '{b}', '3001', 99.0)) AS t(platform, org, account_id, v)"
        )).await;
        put(&self.lake, "bronze.instagram_raw",
            "SELECT 'fp-' || account_ref AS request_fingerprint, 'run-1' AS ingest_run_id, 'instagram' AS platform, 'ig_user' AS endpoint, 'v24.0' AS api_version,
                    account_ref, '/' || account_ref AS request_path, 200 AS http_status, now() AS fetched_at, DATE '2026-11-28' AS fetched_date, '{}' AS body
             FROM (VALUES ('1001'), ('2001'), ('3001')) AS t(account_ref)").await;
        put(&self.lake, "gold.influencer_metrics",
            "SELECT 'instagram' AS platform, account_id, DATE '2026-11-28' AS as_of_date, followers, tier, 0.05 AS er_followers_median,
                    12 AS er_followers_posts, 0 AS er_views_posts, 0 AS er_reach_posts, 'metrics/v1' AS formula_version, '{}' AS input_versions, 'run-1' AS run_id
             FROM (VALUES ('1001', 12000, 'micro'), ('1002', 5000, 'nano')) AS t(account_id, followers, tier)").await;
        // Partitioned by platform: its partition column is dictionary-encoded when read.
        put(&self.lake, "gold.influencer_daily",
            "SELECT 'instagram' AS platform, '1001' AS account_id, d AS date, 12000 + n AS followers, 0 AS posts, 'run-1' AS run_id
             FROM (VALUES (DATE '2026-11-27', 0), (DATE '2026-11-28', 5)) AS t(d, n)").await;
        self.scores("('1001', 71.5), ('1002', 40.0)").await;
    }

    /// Appends Social Scores `(account_id, score)`: one commit.
    async fn scores(&self, rows: &str) {
        put(&self.lake, "gold.social_score", &format!(
            "SELECT 'instagram' AS platform, account_id, DATE '2026-11-28' AS as_of_date, 'social_score' AS formula_id, 'social_score/v1' AS formula_version,
                    score, 'high' AS confidence, 'instagram/beauty/micro' AS cohort, 250 AS cohort_size,
                    [named_struct('name', 'engagement', 'input_metric', 'er_followers_median', 'value', 0.05, 'percentile', 80.0, 'weight', 0.3, 'contribution', 24.0)] AS components,
                    arrow_cast(make_array(), 'List(Utf8)') AS missing_components, ['engaged audience'] AS strengths, arrow_cast(make_array(), 'List(Utf8)') AS weaknesses,
                    '{{}}' AS input_versions, 'run-1' AS run_id
             FROM (VALUES {rows}) AS t(account_id, score)"
        )).await;
    }

    /// Queries as `who`; a user acts in their organisation of the fixture (they also have one
    /// of their own) unless the body names one.
    async fn sql(&self, who: Who<'_>, mut body: Value) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let credential = match who {
            Who::User(account) => {
                if body.get("org_id").is_none() {
                    body["org_id"] = json!(account.org_id);
                }
                account.access.as_str()
            }
            Who::Key(key) => key,
        };
        self.api.call(reqwest::Method::POST, "/v1/sql", Some(credential), Some(body)).await
    }

    async fn rows(&self, who: Who<'_>, sql: &str) -> Value {
        let (status, _, body) = self.sql(who, json!({"sql": sql})).await;
        assert_eq!(status, StatusCode::OK, "{sql}: {body}");
        body
    }

    /// Asserts that the audit log holds `expected` SQL queries. A query's row is written just
    /// after its answer ends, so the last one may still be on its way: wait for it a while.
    async fn assert_audited_queries(&self, expected: i64) {
        let mut audited = 0;
        for _ in 0..100 {
            audited = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'sql.query'").fetch_one(&self.api.db).await.unwrap();
            if audited >= expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(audited, expected, "SQL queries in the audit log");
    }
}

/// Appends the rows of a query to a lake table, fitted to its schema.
async fn put(lake: &Lake, table: &str, select: &str) {
    let id: TableId = table.parse().unwrap();
    let batches = SessionContext::new().sql(select).await.unwrap_or_else(|e| panic!("{table}: {e}")).collect().await.unwrap();
    lake.append(id, id.def().fit(batches).unwrap_or_else(|e| panic!("{table}: {e}"))).await.unwrap();
}

#[tokio::test]
async fn queries_answer_in_every_format_with_the_versions_read() {
    let world = World::new(sql_config()).await;
    let sql = "SELECT account_id, score FROM gold.social_score ORDER BY account_id";
    let (status, headers, body) = world.sql(Who::User(&world.a_viewer), json!({"sql": sql})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([{"account_id": "1001", "score": 71.5}, {"account_id": "1002", "score": 40.0}]));
    assert_eq!(headers["x-analisa-row-count"], "2");
    assert_eq!(headers["x-analisa-truncated"], "false");
    assert_eq!(headers["x-analisa-lake-versions"], "gold.social_score=1");

    let fetch = |format: &'static str, accept: Option<&'static str>| {
        let mut request = world.api.client.post(format!("{}/v1/sql", world.api.base)).bearer_auth(&world.a_viewer.access);
        let org = &world.a_viewer.org_id;
        request = match accept {
            Some(accept) => request.header("accept", accept).json(&json!({"sql": sql, "org_id": org})),
            None => request.json(&json!({"sql": sql, "format": format, "org_id": org})),
        };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{format}");
            let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
            (content_type, response.bytes().await.unwrap())
        }
    };
    let (content_type, csv) = fetch("csv", Some("text/csv")).await;
    assert!(content_type.starts_with("text/csv"));
    assert_eq!(std::str::from_utf8(&csv).unwrap(), "account_id,score\n1001,71.5\n1002,40.0\n");
    let (_, ndjson) = fetch("ndjson", None).await;
    assert_eq!(std::str::from_utf8(&ndjson).unwrap().lines().count(), 2);
    let (content_type, ipc) = fetch("arrow", Some("application/vnd.apache.arrow.stream")).await;
    assert_eq!(content_type, "application/vnd.apache.arrow.stream");
    let batches: Vec<RecordBatch> = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(ipc.to_vec()), None).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    assert_eq!(batches[0].schema().field(0).data_type(), &arrow::datatypes::DataType::Utf8, "strings come as plain UTF-8, not views");
    let (_, parquet) = fetch("parquet", None).await;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(parquet, 1024).unwrap();
    assert_eq!(reader.map(|b| b.unwrap().num_rows()).sum::<usize>(), 2);
    let (status, _, problem) = world.api.call(reqwest::Method::POST, "/v1/sql", Some(&world.a_viewer.access), None).await;
    assert!(status.is_client_error(), "{problem}");
    let response = world.api.client.post(format!("{}/v1/sql", world.api.base)).bearer_auth(&world.a_viewer.access).header("accept", "image/png").json(&json!({"sql": sql, "org_id": world.a_viewer.org_id})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);

    // A row limit truncates and says so; nested values survive as JSON.
    let (status, headers, body) = world.sql(Who::Key(&world.a_key), json!({"sql": "SELECT account_id, components, strengths FROM gold.social_score ORDER BY account_id", "max_rows": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["x-analisa-truncated"], "true");
    assert_eq!(body[0]["components"][0]["name"], "engagement");
    assert_eq!(body[0]["strengths"], json!(["engaged audience"]));
    assert_eq!(body.as_array().unwrap().len(), 1);

    // The views answer common questions, and report the tables behind them.
    let (status, headers, board) = world.sql(Who::User(&world.a_viewer), json!({"sql": "SELECT handle, rank_in_cohort, followers FROM gold.leaderboard ORDER BY rank_in_cohort"})).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    assert_eq!(board, json!([{"handle": "ana", "rank_in_cohort": 1, "followers": 12000}, {"handle": "bia", "rank_in_cohort": 2, "followers": 5000}]));
    let versions = headers["x-analisa-lake-versions"].to_str().unwrap();
    assert!(versions.contains("gold.social_score=1") && versions.contains("silver.accounts=1"), "{versions}");

    // Every query, by user or key, is in the audit log.
    world.assert_audited_queries(7).await;
    world.api.stop().await;
}

#[tokio::test]
async fn time_travel_reads_what_a_table_held() {
    let world = World::new(sql_config()).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    world.scores("('1003', 55.0)").await;
    let count = |sql: &'static str| {
        let world = &world;
        async move { world.rows(Who::User(&world.a_viewer), sql).await[0]["n"].clone() }
    };
    assert_eq!(count("SELECT count(*) AS n FROM gold.social_score").await, 3);
    assert_eq!(count("SELECT count(*) AS n FROM gold.social_score VERSION AS OF 1").await, 2);
    assert_eq!(count("SELECT count(*) AS n FROM social_score VERSION AS OF 0").await, 0);
    let sql = format!("SELECT count(*) AS n FROM gold.social_score TIMESTAMP AS OF '{}'", between.to_rfc3339());
    assert_eq!(world.rows(Who::User(&world.a_viewer), &sql).await[0]["n"], 2);
    // Then and now side by side, with both versions reported.
    let (status, headers, body) = world.sql(Who::User(&world.a_viewer), json!({"sql": "SELECT n.account_id FROM gold.social_score n LEFT JOIN gold.social_score VERSION AS OF 1 o USING (account_id) WHERE o.account_id IS NULL"})).await;
    assert_eq!((status, body), (StatusCode::OK, json!([{"account_id": "1003"}])));
    assert_eq!(headers["x-analisa-lake-versions"], "gold.social_score=2, gold.social_score@v1=1");
    for (sql, says) in [
        ("SELECT * FROM gold.social_score VERSION AS OF 99", "version 99"),
        ("SELECT * FROM gold.social_score TIMESTAMP AS OF '2001-01-01'", "no version"),
        ("SELECT * FROM gold.social_score TIMESTAMP AS OF 'yesterday'", "not a time"),
    ] {
        let (status, _, problem) = world.sql(Who::User(&world.a_viewer), json!({"sql": sql})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sql}");
        assert!(problem["detail"].as_str().unwrap().contains(says), "{sql}: {problem}");
    }
    // The caller's session is kept between queries, but not past a new version of a table.
    world.scores("('1004', 60.0)").await;
    assert_eq!(count("SELECT count(*) AS n FROM gold.social_score").await, 4);
    world.api.stop().await;
}

#[tokio::test]
async fn hostile_sql_is_refused_and_nothing_changes() {
    let world = World::new(sql_config()).await;
    let before = world.lake.info().await.unwrap();
    let outside = std::env::temp_dir().join(format!("analisa-sql-escape-{}.csv", std::process::id()));
    let hostile = [
        ("DROP TABLE gold.social_score".to_owned(), "DROP TABLE"),
        ("DELETE FROM gold.social_score".into(), "DELETE FROM"),
        ("INSERT INTO gold.social_score SELECT * FROM gold.social_score".into(), "INSERT INTO"),
        ("UPDATE gold.social_score SET score = 100".into(), "UPDATE"),
        ("CREATE TABLE t AS SELECT 1".into(), "CREATE TABLE"),
        ("CREATE VIEW gold.v AS SELECT 1".into(), "CREATE VIEW"),
        (format!("COPY (SELECT * FROM gold.social_score) TO '{}'", outside.display()), "COPY"),
        ("CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'".into(), "CREATE EXTERNAL TABLE"),
        ("SET datafusion.execution.batch_size = 1".into(), "SET"),
        ("SELECT 1; DROP TABLE gold.social_score".into(), "one statement"),
        ("SELECT * FROM '/etc/passwd'".into(), "/etc/passwd"),
        ("SELECT * FROM read_csv('/etc/passwd')".into(), "read_csv"),
        ("SELECT * FROM read_parquet('/etc')".into(), "read_parquet"),
        ("SELECT * FROM other.gold.social_score".into(), "unknown table"),
        ("SELECT * FROM information_schema.df_settings".into(), "unknown table"),
        ("SELEC * FROM gold.social_score".into(), "SELEC"),
    ];
    for (sql, says) in &hostile {
        let (status, _, problem) = world.sql(Who::User(&world.a_owner), json!({"sql": sql})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sql}: {problem}");
        assert_eq!(problem["status"], 400);
        assert!(problem["detail"].as_str().unwrap().contains(says), "{sql}: {problem}");
    }
    assert!(!outside.exists(), "COPY wrote nothing");
    assert_eq!(world.lake.info().await.unwrap(), before, "no table changed");
    assert_eq!(world.rows(Who::User(&world.a_owner), "SELECT count(*) AS n FROM gold.social_score").await[0]["n"], 2);
    // Refusals are audited too.
    world.assert_audited_queries(hostile.len() as i64 + 1).await;
    world.api.stop().await;
}

#[tokio::test]
async fn roles_see_their_layers_and_organisations_their_own_rows() {
    let world = World::new(sql_config()).await;
    // Viewers read gold (and the views over it); silver and bronze are refused by name.
    for (sql, needs) in [("SELECT * FROM silver.accounts", "analyst"), ("SELECT * FROM bronze.instagram_raw", "admin"), ("SELECT * FROM silver.posts VERSION AS OF 0", "analyst")] {
        let (status, _, problem) = world.sql(Who::User(&world.a_viewer), json!({"sql": sql})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{sql}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(needs), "{problem}");
    }
    let tables = world.rows(Who::User(&world.a_viewer), "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_catalog = 'analisa' AND table_schema <> 'information_schema' ORDER BY 1").await;
    assert_eq!(tables, json!([{"table_schema": "gold"}]), "a viewer's catalogue lists gold only");
    assert_eq!(world.rows(Who::Key(&world.a_key), "SELECT count(*) AS n FROM gold.leaderboard").await[0]["n"], 2, "a read key is a viewer");

    // Analysts read silver: public rows and their organisation's, never another's.
    let a = &world.a_owner.org_id;
    let handles = world.rows(Who::User(&world.a_analyst), "SELECT handle FROM silver.accounts ORDER BY handle").await;
    assert_eq!(handles, json!([{"handle": "ana"}, {"handle": "bia"}, {"handle": "conectada_a"}]));
    let insights = world.rows(Who::User(&world.a_analyst), "SELECT org_id, sum(value) AS total FROM silver.insights GROUP BY org_id").await;
    assert_eq!(insights, json!([{"org_id": a, "total": 21.0}]));
    let asked = format!("SELECT count(*) AS n FROM silver.insights WHERE org_id = '{}'", world.b_owner.org_id);
    assert_eq!(world.rows(Who::User(&world.a_analyst), &asked).await[0]["n"], 0, "org A asking for B's private rows gets none");
    let (status, _, _) = world.sql(Who::User(&world.a_analyst), json!({"sql": "SELECT * FROM bronze.instagram_raw"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Owners read bronze, without the raw answers about accounts another organisation connected.
    let refs = world.rows(Who::User(&world.a_owner), "SELECT account_ref FROM bronze.instagram_raw ORDER BY 1").await;
    assert_eq!(refs, json!([{"account_ref": "1001"}, {"account_ref": "2001"}]));
    let theirs = world.rows(Who::User(&world.b_owner), "SELECT account_ref FROM bronze.instagram_raw ORDER BY 1").await;
    assert_eq!(theirs, json!([{"account_ref": "1001"}, {"account_ref": "3001"}]));
    assert_eq!(world.rows(Who::User(&world.b_owner), "SELECT sum(value) AS total FROM silver.insights").await[0]["total"], 99.0);

    // An organisation that is not yours is not found; a key cannot act for another.
    let (status, _, _) = world.sql(Who::User(&world.a_analyst), json!({"sql": "SELECT 1", "org_id": world.b_owner.org_id})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = world.sql(Who::Key(&world.a_key), json!({"sql": "SELECT 1", "org_id": world.b_owner.org_id})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The analyst also has an organisation of their own: there a plain SELECT 1 is fine, but
    // without naming one the query is ambiguous.
    let (status, _, problem) = world.api.call(reqwest::Method::POST, "/v1/sql", Some(&world.a_analyst.access), Some(json!({"sql": "SELECT 1"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("several organisations"), "{problem}");
    let (status, _, _) = world.api.call(reqwest::Method::POST, "/v1/sql", None, Some(json!({"sql": "SELECT 1"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    world.api.stop().await;
}

#[tokio::test]
async fn runaway_queries_are_cancelled_and_the_server_stays_healthy() {
    let mut config = sql_config();
    config.sql.time_limit = Duration::from_secs(2);
    config.sql.memory_limit = 16 * 1024 * 1024;
    let world = World::new(config).await;
    // A trillion numbers, made lazily: little memory, endless work.
    let endless = "SELECT sum(value % 7) AS s FROM generate_series(1, 1000000000000)";
    let started = std::time::Instant::now();
    let health = world.api.client.get(format!("{}/health", world.api.base));
    let (query, health) = tokio::join!(world.sql(Who::User(&world.a_viewer), json!({"sql": endless})), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        health.send().await.unwrap().status()
    });
    let (status, _, problem) = query;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("time limit"), "{problem}");
    assert_eq!(health, StatusCode::OK, "the API answers while a query runs");
    assert!(started.elapsed() < Duration::from_secs(60), "the query was cancelled, not run to its end");

    let grouping = "SELECT value % 5000000 AS k, count(*) AS n FROM generate_series(1, 50000000) GROUP BY k";
    let (status, _, problem) = world.sql(Who::User(&world.a_viewer), json!({"sql": grouping})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("memory"), "{problem}");

    // A huge cross join stops at whichever limit it meets first.
    let cross_join = "SELECT sum(a.x * b.y) AS s FROM (SELECT unnest(range(1, 200000)) AS x) a, (SELECT unnest(range(1, 200000)) AS y) b";
    let (status, _, problem) = world.sql(Who::User(&world.a_viewer), json!({"sql": cross_join})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["type"], "https://analisa.dev/problems/query-limit");

    // Nothing is left running: the next query answers at once.
    assert_eq!(world.rows(Who::User(&world.a_viewer), "SELECT count(*) AS n FROM gold.social_score").await[0]["n"], 2);
    world.api.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flight_sql_serves_a_real_adbc_client() {
    let world = World::new(sql_config()).await;
    let python = std::env::var("ANALISA_PYTHON").expect("ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares a Python with adbc-driver-flightsql");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/adbc_client.py");
    let run = |credential: &str, org: &str| {
        std::process::Command::new(&python).args([script, &world.api.flight, credential, org]).output().unwrap()
    };
    let output = tokio::task::block_in_place(|| run(&world.a_key, ""));
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["scores"], json!({"account_id": ["1001", "1002"], "score": [71.5, 40.0]}));
    assert_eq!(report["prepared"], json!([2]));
    assert_eq!(report["time_travel"], json!([0]));
    assert_eq!(report["history"], json!({"platform": ["instagram", "instagram"], "followers": [12000, 12005]}), "partition columns arrive as announced");
    assert_eq!(report["schemas"], json!(["gold"]), "a read key browses gold only");
    let tables: Vec<String> = serde_json::from_value(report["tables"].clone()).unwrap();
    assert!(tables.contains(&"social_score".to_owned()) && tables.contains(&"leaderboard".to_owned()) && !tables.contains(&"accounts".to_owned()), "{tables:?}");
    assert_eq!(report["table_schema"], json!(["platform", "account_id", "as_of_date", "formula_id"]));
    assert!(report["refused_write"].as_str().unwrap().contains("read-only"), "{report}");
    assert!(report["refused_silver"].as_str().unwrap().contains("analyst"), "{report}");

    // The organisation's owner, a user in one organisation, sees the silver layer too.
    let output = tokio::task::block_in_place(|| run(&world.a_owner.access, &world.a_owner.org_id));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schemas"], json!(["bronze", "gold", "silver"]));

    // Wrong and missing credentials are refused.
    for credential in ["ak_deadbeef.not-a-key", "not-a-token", ""] {
        let output = tokio::task::block_in_place(|| run(credential, ""));
        assert!(!output.status.success(), "{credential:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.to_lowercase().contains("unauthenticated"), "{credential:?}: {stderr}");
    }
    world.api.stop().await;
}
