//! The notebooks of `notebooks/` run headless against a small demo world: Flight SQL through
//! ADBC, and the Delta tables read directly. A cell that fails fails the test.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{drop_database, terminate};

/// Runs each notebook given with nbclient; the executed copies go next to `out`.
const RUNNER: &str = r#"
import sys
import nbclient, nbformat
out = sys.argv[1]
for path in sys.argv[2:]:
    notebook = nbformat.read(path, as_version=4)
    try:
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": out}}).execute()
    except nbclient.exceptions.CellExecutionError as error:
        sys.exit(f"{path} failed:\n{error}")
    plots = sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    if plots == 0:
        sys.exit(f"{path} drew no plot")
    nbformat.write(notebook, f"{out}/{path.rsplit('/', 1)[-1]}")
    print(f"{path}: every cell ran, {plots} plots")
"#;

#[test]
fn notebooks_run_against_a_demo_world() {
    let python = std::env::var("ANALISA_PYTHON").expect("ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares a Python with Jupyter's nbclient");
    let dir = tempfile::tempdir().unwrap();
    let name = format!("analisa_notebooks_{}", std::process::id());
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let demo_dir = dir.path().join("demo");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_analisa"))
        .args(["demo", "--influencers", "24", "--days", "90", "--tracked-days", "40", "--listen", "127.0.0.1:0", "--flight-sql-listen", "127.0.0.1:0", "--database-url", &url])
        .arg("--dir")
        .arg(&demo_dir)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env("ANALISA__INGEST__REDIS_PREFIX", format!("notebooks-{}", std::process::id()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (mut password, mut http, mut flight) = (None, None, None);
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    while flight.is_none() {
        let line = lines.next().unwrap_or_else(|| panic!("the demo ended before serving: {:?}", demo.wait())).unwrap();
        if let Some(value) = line.trim().strip_prefix("password ") {
            password = Some(value.trim().to_owned());
        } else if let Some(address) = line.strip_prefix("listening on ") {
            http = Some(address.trim().to_owned());
        } else if let Some(address) = line.strip_prefix("flight sql listening on ") {
            flight = Some(address.trim().to_owned());
        }
    }
    let (password, http, flight) = (password.expect("the demo prints its password"), http.unwrap(), flight.unwrap());
    let token = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let login: serde_json::Value = reqwest::Client::new()
            .post(format!("{http}/v1/auth/login"))
            .json(&serde_json::json!({"email": "demo@analisa.dev", "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["access_token"].as_str().unwrap_or_else(|| panic!("{login}")).to_owned()
    });
    let notebooks = concat!(env!("CARGO_MANIFEST_DIR"), "/notebooks");
    let output = Command::new(python)
        .args(["-c", RUNNER, dir.path().to_str().unwrap(), &format!("{notebooks}/01_flight_sql_explore.ipynb"), &format!("{notebooks}/02_delta_direct.ipynb")])
        .env("ANALISA_FLIGHT_URI", &flight)
        .env("ANALISA_TOKEN", &token)
        .env("ANALISA_LAKE", demo_dir.join("lake"))
        .output()
        .unwrap();
    assert!(terminate(demo).success(), "the demo stops on SIGTERM");
    drop_database(&name);
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}
