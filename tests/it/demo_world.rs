//! A small `analisa demo` world served on free loopback ports, for the tests that drive it
//! with outside clients (notebooks, a browser).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{drop_database, terminate};

pub struct DemoWorld {
    child: Option<Child>,
    database: String,
    pub password: String,
    /// `http://…` of the API (and the dashboard, when built).
    pub http: String,
    /// `grpc://…` of Flight SQL.
    pub flight: String,
}

impl DemoWorld {
    /// Starts the demo (24 creators, 90 days) in `dir` with extra environment and waits until it serves.
    pub fn start(dir: &Path, label: &str, env: &[(&str, &str)]) -> Self {
        let database = format!("analisa_{label}_{}", std::process::id());
        let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_analisa"));
        command
            .args(["demo", "--influencers", "24", "--days", "90", "--tracked-days", "40", "--listen", "127.0.0.1:0", "--flight-sql-listen", "127.0.0.1:0", "--database-url", &url])
            .arg("--dir")
            .arg(dir.join("demo"))
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env("ANALISA__INGEST__REDIS_PREFIX", format!("{label}-{}", std::process::id()))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap();
        let (mut password, mut http, mut flight) = (None, None, None);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while flight.is_none() {
            let line = lines.next().unwrap_or_else(|| panic!("the demo ended before serving: {:?}", child.wait())).unwrap();
            if let Some(value) = line.trim().strip_prefix("password ") {
                password = Some(value.trim().to_owned());
            } else if let Some(address) = line.strip_prefix("listening on ") {
                http = Some(address.trim().to_owned());
            } else if let Some(address) = line.strip_prefix("flight sql listening on ") {
                flight = Some(address.trim().to_owned());
            }
        }
        Self { child: Some(child), database, password: password.expect("the demo prints its password"), http: http.unwrap(), flight: flight.unwrap() }
    }

    /// Stops the demo (it must exit cleanly on SIGTERM) and drops its database.
    pub fn stop(mut self) {
        let child = self.child.take().expect("stopped once");
        assert!(terminate(child).success(), "the demo stops on SIGTERM");
        drop_database(&self.database);
    }
}
