//! The dashboard in a real browser: web/e2e/dashboard.mjs (playwright-core driving Debian's
//! Chromium) against `analisa serve` on a demo world. It also writes the screenshots of
//! docs/screenshots/.

use std::path::Path;
use std::process::Command;

use crate::demo_world::DemoWorld;

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let build = repo.join("web/dist/browser");
    assert!(build.join("index.html").exists(), "the dashboard is not built: run the tests through scripts/test, which builds web/");
    assert!(repo.join("web/node_modules/playwright-core").exists(), "web/node_modules is missing: scripts/test runs `npm ci` in web/");
    let dir = tempfile::tempdir().unwrap();
    let demo = DemoWorld::start(dir.path(), "dashboard", &[("ANALISA__API__WEB_ROOT", build.to_str().unwrap())]);
    let output = Command::new("node")
        .arg("e2e/dashboard.mjs")
        .current_dir(repo.join("web"))
        .env("ANALISA_URL", &demo.http)
        .env("ANALISA_PASSWORD", &demo.password)
        .env("ANALISA_SCREENSHOTS", repo.join("docs/screenshots"))
        // A failure's screenshot outlives the temporary directory.
        .env("ANALISA_ARTIFACTS", std::env::temp_dir())
        .output()
        .expect("node runs");
    demo.stop();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}
