//! The notebooks of `notebooks/` run headless against a small demo world: Flight SQL through
//! ADBC, and the Delta tables read directly. A cell that fails fails the test.

use std::process::Command;

use crate::demo_world::DemoWorld;

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
    let demo = DemoWorld::start(dir.path(), "notebooks", &[]);
    let token = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let login: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/auth/login", demo.http))
            .json(&serde_json::json!({"email": "demo@analisa.dev", "password": demo.password}))
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
        .env("ANALISA_FLIGHT_URI", &demo.flight)
        .env("ANALISA_TOKEN", &token)
        .env("ANALISA_LAKE", dir.path().join("demo").join("lake"))
        .output()
        .unwrap();
    demo.stop();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}
