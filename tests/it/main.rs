//! The `analisa` binary as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

mod dashboard;
mod demo_world;
mod lake_import;
mod ml;
mod notebooks;

fn analisa(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analisa"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> (String, String) {
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Starts a long-running command and returns it with the first line it prints (its ready line).
fn spawn_until_ready(command: &mut Command) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line)
}

/// Starts `analisa sim serve` in `dir` and returns it with its ready line.
fn spawn_sim(dir: &Path, args: &[&str]) -> (std::process::Child, serde_json::Value) {
    let (child, line) = spawn_until_ready(Command::new(env!("CARGO_BIN_EXE_analisa")).args(["sim", "serve"]).args(args).current_dir(dir));
    let ready = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    (child, ready)
}

fn terminate(mut child: std::process::Child) -> std::process::ExitStatus {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap()
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let output = analisa(dir.path(), &["--help"]);
    let (stdout, _) = text(&output);
    assert!(output.status.success());
    assert!(stdout.contains("lake") && stdout.contains("--config"), "{stdout}");
}

#[test]
fn lake_init_and_info_with_config_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("custom.toml"), "[lake]\nroot = \"file://./here/lake\"\n").unwrap();

    let output = analisa(dir.path(), &["lake", "init", "--config", "custom.toml"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let all = analisa_lake::catalog::tables().len();
    assert!(stdout.contains(&format!("{all} table(s) created")), "{stdout}");
    assert!(dir.path().join("here/lake/gold/social_score/_delta_log").is_dir());

    let output = analisa(dir.path(), &["--config", "custom.toml", "lake", "info", "--json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), all);
    assert!(lines.iter().any(|l| l["table"] == "gold.social_score" && l["version"] == 0 && l["rows"] == 0));

    let output = analisa(dir.path(), &["lake", "info", "--config", "custom.toml"]);
    let (stdout, _) = text(&output);
    assert!(stdout.contains("silver.posts") && stdout.contains("platform, post_id"), "{stdout}");
}

#[test]
fn environment_overrides_the_lake_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("env-lake");
    let output = Command::new(env!("CARGO_BIN_EXE_analisa"))
        .args(["lake", "init"])
        .current_dir(dir.path())
        .env("ANALISA__LAKE__ROOT", format!("file://{}", root.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(root.join("bronze/instagram_raw/_delta_log").is_dir());
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = analisa(dir.path(), &["lake", "optimize", "--table", "gold.nope"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("unknown lake table `gold.nope`"), "{}", text(&output).1);

    std::fs::write(dir.path().join("analisa.toml"), "[lake]\nroot = 42\n").unwrap();
    let output = analisa(dir.path(), &["lake", "info"]);
    assert!(!output.status.success());
    let (_, stderr) = text(&output);
    assert!(stderr.contains("lake.root") && stderr.contains("analisa.toml"), "{stderr}");

    let output = analisa(dir.path(), &["lake", "info", "--config", "nope.toml"]);
    assert!(text(&output).1.contains("nope.toml does not exist"));
}

#[test]
fn sim_serve_prints_its_servers_and_writes_a_loadable_config() {
    let dir = tempfile::tempdir().unwrap();
    let (child, ready) = spawn_sim(dir.path(), &["--seed", "5", "--influencers", "20", "--days", "30", "--write-config", "sim.toml", "--accounts-file", "accounts.json"]);
    for server in ["instagram", "facebook", "tiktok", "tiktok_business", "ga4"] {
        assert!(ready["servers"][server].as_str().unwrap().starts_with("http://127.0.0.1:"), "{ready}");
    }
    let accounts: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("accounts.json")).unwrap()).unwrap();
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 20);

    // The fragment is a valid configuration: the binary loads it (unknown keys would fail).
    let fragment = std::fs::read_to_string(dir.path().join("sim.toml")).unwrap();
    assert!(fragment.contains("[platforms.tiktok_business]"), "{fragment}");
    let output = analisa(dir.path(), &["lake", "info", "--json", "--config", "sim.toml"]);
    assert!(output.status.success(), "{}", text(&output).1);

    // SIGTERM stops it cleanly.
    let status = terminate(child);
    assert!(status.success(), "{status:?}");
}

#[test]
fn sim_export_refuses_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let output = analisa(dir.path(), &["sim", "export", "--influencers", "0", "--out", "x"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("--influencers must be at least 1"));
    let output = analisa(dir.path(), &["sim", "serve", "--faults", "myspace:storm=1"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("unknown server `myspace`"), "{}", text(&output).1);
}

#[test]
fn ingest_run_collects_a_simulated_world_into_bronze() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = spawn_sim(dir.path(), &["--seed", "8", "--influencers", "12", "--days", "30", "--write-config", "analisa.toml", "--accounts-file", "accounts.json"]);
    // analisa.toml is picked up from the working directory; the lake goes to ./data/lake.
    let output = analisa(dir.path(), &["ingest", "run", "--accounts-file", "accounts.json", "--concurrency", "4"]);
    let (stdout, stderr) = text(&output);
    terminate(sim);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("12 accounts") && stdout.contains("instagram:"), "{stdout}");
    let output = analisa(dir.path(), &["lake", "info", "--json"]);
    let info: Vec<serde_json::Value> = text(&output).0.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rows = |table: &str| info.iter().find(|i| i["table"] == table).unwrap()["rows"].as_u64().unwrap();
    assert!(rows("bronze.instagram_raw") > 0 && rows("bronze.tiktok_business_raw") > 0, "{info:?}");

    let output = analisa(dir.path(), &["ingest", "run", "--accounts-file", "accounts.json", "--platform", "myspace"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("unknown platform `myspace`"));
}

/// Rows and distinct fingerprints of a bronze table.
fn bronze_counts(lake: &Path, table: &str) -> (i64, i64) {
    use arrow::array::AsArray;
    let config = analisa_lake::LakeConfig { root: format!("file://{}", lake.display()), ..Default::default() };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let lake = analisa_lake::Lake::open(&config).unwrap();
        let batches = lake.session().await.unwrap().sql(&format!("SELECT count(*), count(DISTINCT request_fingerprint) FROM {table}")).await.unwrap();
        let column = |i: usize| batches[0].column(i).as_primitive::<arrow::datatypes::Int64Type>().value(0);
        (column(0), column(1))
    })
}

#[test]
fn a_killed_worker_leaves_no_task_behind_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = spawn_sim(dir.path(), &["--seed", "9", "--influencers", "16", "--days", "40", "--faults", "all:latency=15ms", "--write-config", "analisa.toml", "--accounts-file", "accounts.json"]);
    let prefix = format!("analisa-cli-test-{}", std::process::id());
    let with_prefix = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_analisa")).args(args).current_dir(dir.path()).env("ANALISA__INGEST__REDIS_PREFIX", &prefix).env_remove("RUST_LOG").output().unwrap()
    };
    let status = || -> serde_json::Value {
        let mut s: serde_json::Value = serde_json::from_slice(&with_prefix(&["ingest", "status", "--json"]).stdout).unwrap();
        s.as_object_mut().unwrap().remove("budgets");
        s
    };
    let output = with_prefix(&["ingest", "enqueue", "--accounts-file", "accounts.json"]);
    assert!(output.status.success(), "{}", text(&output).1);
    let worker = |extra: &[&str]| {
        let mut args = vec!["worker", "--accounts-file", "accounts.json", "--concurrency", "2", "--reclaim-after", "2s"];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_analisa")).args(&args).current_dir(dir.path()).env("ANALISA__INGEST__REDIS_PREFIX", &prefix).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap()
    };
    let mut first = worker(&[]);
    // Kill it while it holds tasks, after it finished some.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let s = status();
        if s["in_progress"].as_u64().unwrap() > 0 && s["waiting"].as_u64().unwrap() < 14 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the worker never got going: {s}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(status()["in_progress"].as_u64().unwrap() > 0, "the dead worker left tasks behind");

    let mut second = worker(&["--exit-when-idle"]);
    assert!(second.wait().unwrap().success());
    let full: serde_json::Value = serde_json::from_slice(&with_prefix(&["ingest", "status", "--json"]).stdout).unwrap();
    let budgets = full["budgets"].as_array().unwrap();
    assert!(budgets.iter().any(|b| b["key"] == "meta_app" && b["used"].as_u64().unwrap() > 0 && b["used"].as_u64() <= b["budget"].as_u64()), "{full}");
    assert_eq!(status(), serde_json::json!({ "waiting": 0, "in_progress": 0, "dead": 0 }));
    terminate(sim);
    for table in ["bronze.instagram_raw", "bronze.tiktok_business_raw"] {
        let (rows, distinct) = bronze_counts(&dir.path().join("data/lake"), table);
        assert!(rows > 0 && rows == distinct, "{table}: {rows} rows, {distinct} fingerprints");
    }
}

#[test]
fn migrate_is_idempotent_and_a_wrong_database_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("analisa_cli_{}", std::process::id());
    let url = migrated_database(dir.path(), &name);
    let output = Command::new(env!("CARGO_BIN_EXE_analisa")).arg("migrate").current_dir(dir.path()).env("ANALISA__DATABASE__URL", &url).output().unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(text(&output).0.contains("up to date"), "a second run finds nothing to do");
    let output = Command::new(env!("CARGO_BIN_EXE_analisa")).arg("migrate").current_dir(dir.path()).env("ANALISA__DATABASE__URL", "postgres://app:hunter2@127.0.0.1:1/x").output().unwrap();
    assert!(!output.status.success());
    let (_, stderr) = text(&output);
    assert!(stderr.contains("cannot connect to PostgreSQL") && !stderr.contains("hunter2"), "{stderr}");
    drop_database(&name);
}

const ADMIN_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn drop_database(name: &str) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::PgPool::connect(ADMIN_DATABASE).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await.unwrap();
    });
}

/// A database of the test's own, migrated by `analisa migrate`; returns its URL.
fn migrated_database(dir: &Path, name: &str) -> String {
    drop_database(name);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::PgPool::connect(ADMIN_DATABASE).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    });
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let output = Command::new(env!("CARGO_BIN_EXE_analisa")).arg("migrate").current_dir(dir).env("ANALISA__DATABASE__URL", &url).output().unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    url
}

#[test]
fn serve_answers_over_http_and_audit_verify_checks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("analisa_serve_{}", std::process::id());
    let url = migrated_database(dir.path(), &name);
    let lake = format!("file://{}/lake", dir.path().display());
    let command = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_analisa"));
        command
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env("ANALISA__DATABASE__URL", &url)
            .env("ANALISA__LAKE__ROOT", &lake)
            .env("ANALISA__INGEST__REDIS_PREFIX", format!("serve-test-{}", std::process::id()));
        command
    };

    assert!(command(&["lake", "init"]).output().unwrap().status.success());
    let output = command(&["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!output.status.success());
    assert!(text(&output).1.contains("api.jwt_secret"), "a missing secret is named: {}", text(&output).1);

    let (child, line) = spawn_until_ready(command(&["serve", "--listen", "127.0.0.1:0", "--flight-sql-listen", "127.0.0.1:0"]).env("ANALISA__API__JWT_SECRET", "an-end-to-end-secret-of-enough-length!!"));
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_owned();

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let http = reqwest::Client::new();
        let health: serde_json::Value = http.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
        assert_eq!(health["status"], "ok");
        let ready: serde_json::Value = http.get(format!("{base}/ready")).send().await.unwrap().json().await.unwrap();
        assert_eq!((ready["postgres"].as_bool(), ready["lake"].as_bool()), (Some(true), Some(true)), "{ready}");
        let registered = http
            .post(format!("{base}/v1/auth/register"))
            .json(&serde_json::json!({"email": "e2e@example.com", "password": "a long enough password", "display_name": "E2E", "organisation": "E2E Ltda"}))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
        let tokens: serde_json::Value = http.post(format!("{base}/v1/auth/login")).json(&serde_json::json!({"email": "e2e@example.com", "password": "a long enough password"})).send().await.unwrap().json().await.unwrap();
        let token = tokens["access_token"].as_str().unwrap();
        let search = http.get(format!("{base}/v1/influencers")).bearer_auth(token).send().await.unwrap();
        assert_eq!(search.status(), 200);
        assert!(search.headers().contains_key("x-request-id"), "every answer names its request");
        let page: serde_json::Value = search.json().await.unwrap();
        assert_eq!(page["total"], 0, "nothing published yet");
        // A client that leaves decompression to us, so the encoding header stays visible.
        let raw = reqwest::Client::builder().no_gzip().build().unwrap();
        let openapi = raw.get(format!("{base}/openapi.json")).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(openapi.headers()["content-encoding"], "gzip", "large answers are compressed");
        let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("analisa_api_requests_total{method=\"GET\",route=\"/v1/influencers\",status=\"200\"} 1"), "{metrics}");
    });
    assert!(terminate(child).success(), "SIGTERM stops the server gracefully");

    let output = command(&["audit", "verify"]).output().unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    assert!(text(&output).0.contains("audit log intact: 2 rows"), "{}", text(&output).0);
    drop_database(&name);
}

#[test]
fn export_names_what_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("analisa_export_{}", std::process::id());
    let url = migrated_database(dir.path(), &name);
    let lake = format!("file://{}/lake", dir.path().display());
    let export = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_analisa")).arg("export").args(args).current_dir(dir.path()).env("ANALISA__DATABASE__URL", &url).env("ANALISA__LAKE__ROOT", &lake).output().unwrap();
    let missing = "0193a4b2-0000-7000-8000-000000000000";
    let output = export(&["run", "--report", missing]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains(&format!("no report {missing}")), "{}", text(&output).1);
    let output = export(&["rerun", "--run", missing]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains(&format!("no succeeded run {missing}")), "{}", text(&output).1);
    let output = export(&["run", "--report", "not-a-uuid"]);
    assert!(!output.status.success() && text(&output).1.contains("invalid value 'not-a-uuid'"), "{}", text(&output).1);

    // Ad-hoc: a read-only query to a file; anything else refused and no file left behind.
    let init = Command::new(env!("CARGO_BIN_EXE_analisa")).args(["lake", "init"]).current_dir(dir.path()).env("ANALISA__LAKE__ROOT", &lake).output().unwrap();
    assert!(init.status.success(), "{}", text(&init).1);
    let out = dir.path().join("scores.csv");
    let output = export(&["adhoc", "--sql", "SELECT count(*) AS creators FROM gold.social_score", "--format", "csv", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output).1);
    assert_eq!(std::fs::read_to_string(&out).unwrap().split_whitespace().collect::<Vec<_>>(), ["creators", "0"]);
    assert!(text(&output).1.contains("1 rows") && text(&output).1.contains("gold.social_score="), "{}", text(&output).1);
    for (sql, why) in [("DROP TABLE gold.social_score", "DROP"), ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"), ("COPY gold.social_score TO '/tmp/x.csv'", "COPY")] {
        let refused = dir.path().join("refused.csv");
        let output = export(&["adhoc", "--sql", sql, "--format", "csv", "--out", refused.to_str().unwrap()]);
        assert!(!output.status.success(), "{sql} ran");
        assert!(text(&output).1.contains(why), "{sql}: {}", text(&output).1);
        assert!(!refused.exists() && !refused.with_extension("partial").exists(), "{sql} left a file");
    }
    let output = export(&["adhoc", "--sql", "SELECT 1", "--format", "xls", "--out", out.to_str().unwrap()]);
    assert!(!output.status.success() && text(&output).1.contains("unknown format `xls`"), "{}", text(&output).1);
    let audited = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log WHERE action = 'sql.query' AND details::jsonb->>'channel' = 'console' AND actor LIKE 'console:%'").fetch_one(&pool).await.unwrap()
    });
    assert_eq!(audited, 4, "every console query is audited, refused or run");
    drop_database(&name);
}
