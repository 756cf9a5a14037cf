//! Typed configuration: defaults → `analisa.toml` → `ANALISA__SECTION__KEY` environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use analisa_ingest::PlatformsConfig;
use analisa_lake::LakeConfig;
use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;

/// The file read when `--config` is not given (absent is fine).
pub const DEFAULT_FILE: &str = "analisa.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    pub lake: LakeConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub http: ListenConfig<8080>,
    pub flight_sql: ListenConfig<50051>,
    pub platforms: PlatformsConfig,
    pub ingest: IngestConfig,
    pub pipeline: PipelineConfig,
    pub api: analisa_query_api::ApiConfig,
    pub reports: ReportsConfig,
    pub log: LogConfig,
}

/// The `[reports]` section.
#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// The server report e-mails go through (`[reports.smtp]`: host, port, security, username,
    /// password, from); without it, definitions that deliver by e-mail say so on each run.
    pub smtp: Option<analisa_jobs::reports::SmtpConfig>,
}

/// The `[pipeline]` section.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Key of the keyed hash that pseudonymises commenter ids in silver (any long random
    /// string; changing it unlinks every commenter from their earlier comments).
    pub pseudonym_key: Option<SecretString>,
    /// A formula registry replacing the shipped `sql/formulas.toml` (to add a score variant).
    pub formulas: Option<PathBuf>,
    /// When `analisa jobs schedule` runs what (`[[pipeline.schedules]]`).
    pub schedules: Vec<analisa_jobs::ScheduleConfig>,
    /// The sentiment model the pipeline scores comments with: `default` (built in), `latest`
    /// (newest in the lake's registry) or `sentiment@<version>`.
    pub sentiment_model: String,
    /// The forecaster: `default`, `latest` or `forecast@<version>`.
    pub forecast_model: String,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self { pseudonym_key: None, formulas: None, schedules: Vec::new(), sentiment_model: "default".into(), forecast_model: "default".into() }
    }
}

/// The `[ingest]` section.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Outbound call budgets shared by every worker through Redis (`[ingest.budgets]`).
    pub budgets: analisa_ingest::Budgets,
    /// Prefix of every Redis key of the governor and the work queue (one per deployment).
    pub redis_prefix: String,
    /// The token Meta echoes in its webhook verification handshake.
    pub webhook_verify_token: Option<SecretString>,
    /// 32 random bytes in base64 that seal OAuth tokens at rest (AES-256-GCM).
    pub token_key: Option<SecretString>,
    /// When tracked and campaign accounts are enqueued (`analisa ingest schedule`).
    pub freshness: analisa_ingest::freshness::FreshnessConfig,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { budgets: analisa_ingest::Budgets::default(), redis_prefix: "analisa".into(), webhook_verify_token: None, token_key: None, freshness: Default::default() }
    }
}

impl IngestConfig {
    pub fn queue(&self) -> analisa_ingest::QueueConfig {
        analisa_ingest::QueueConfig { prefix: format!("{}:ingest", self.redis_prefix), ..Default::default() }
    }

    pub fn governor_prefix(&self) -> String {
        format!("{}:governor", self.redis_prefix)
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL; may hold a password, so it is a secret.
    pub url: SecretString,
    /// Optional read replica for read-only queries.
    pub read_replica_url: Option<SecretString>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: "postgres://postgres@127.0.0.1:5432/analisa".into(), read_replica_url: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    pub url: SecretString,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: "redis://127.0.0.1:6379/0".into() }
    }
}

/// A listening socket; the default port is part of the type so each section keeps its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig<const PORT: u16> {
    pub listen: SocketAddr,
}

impl<const PORT: u16> Default for ListenConfig<PORT> {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], PORT)) }
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `analisa_lake=debug,info`; `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        // The Delta kernel narrates every snapshot at info level, and MERGE warns of a metric
        // it derives itself on every run: their warnings and errors are what matter.
        Self { format: LogFormat::Text, filter: "info,buoyant_kernel=warn,deltalake_core=warn,deltalake_core::operations::merge=error".into() }
    }
}

impl AppConfig {
    /// Loads the configuration. An explicitly named file must exist; the default one may not.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let file: PathBuf = match explicit {
            Some(path) if !path.is_file() => bail!("config file {} does not exist", path.display()),
            Some(path) => path.to_path_buf(),
            None => PathBuf::from(DEFAULT_FILE),
        };
        Self::from_figment(Figment::new().merge(Toml::file(&file)).merge(Env::prefixed("ANALISA__").split("__")))
            .with_context(|| format!("invalid configuration (file {}, environment ANALISA__*)", file.display()))
    }

    fn from_figment(figment: Figment) -> anyhow::Result<Self> {
        let config: Self = figment.extract()?;
        if config.http.listen == config.flight_sql.listen {
            bail!("http.listen and flight_sql.listen are both {}; they need ports of their own", config.http.listen);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use figment::Jail;
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_then_file_then_environment() {
        Jail::expect_with(|jail| {
            jail.create_file(
                DEFAULT_FILE,
                r#"
                [lake]
                root = "file:///from/file"
                memory_pool = "1GiB"
                [http]
                listen = "0.0.0.0:9090"
                [platforms.tiktok_business]
                base_url = "http://127.0.0.1:7001/open_api/"
                api_version = "v1.3"
                auth_url = "http://127.0.0.1:7001/portal/auth"
                token_url = "http://127.0.0.1:7001/open_api/v1.3/tt_user/oauth2/token/"
                client_id = "app-1"
                client_secret = "very-secret-value"
                "#,
            )?;
            jail.set_env("ANALISA__LAKE__ROOT", "file:///srv/lake");
            jail.set_env("ANALISA__FLIGHT_SQL__LISTEN", "127.0.0.1:6000");
            jail.set_env("ANALISA__REDIS__URL", "redis://10.0.0.1:6379/2");
            let config = AppConfig::load(None).expect("loads");
            assert_eq!(config.lake.root, "file:///srv/lake", "environment beats the file");
            assert_eq!(config.lake.memory_pool, 1 << 30, "the file beats the defaults");
            assert_eq!(config.http.listen.to_string(), "0.0.0.0:9090");
            assert_eq!(config.flight_sql.listen.to_string(), "127.0.0.1:6000");
            assert_eq!(config.redis.url.expose_secret(), "redis://10.0.0.1:6379/2");
            assert_eq!(config.database.url.expose_secret(), "postgres://postgres@127.0.0.1:5432/analisa");
            let tiktok = &config.platforms.tiktok_business;
            assert_eq!(tiktok.base_url.as_str(), "http://127.0.0.1:7001/open_api/");
            assert!(tiktok.has_credentials());
            assert_eq!(config.platforms.ga4.base_url.as_str(), "https://analyticsdata.googleapis.com/");
            let printed = format!("{config:?}");
            assert!(!printed.contains("very-secret-value"), "secrets must never be printed");
            assert!(!printed.contains("10.0.0.1"), "URLs that may carry passwords are secrets too");
            Ok(())
        });
    }

    #[test]
    fn malformed_configuration_names_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file(DEFAULT_FILE, "[lake]\nmemory_pool = \"lots\"\n")?;
            let err = format!("{:#}", AppConfig::load(None).unwrap_err());
            assert!(err.contains("lake.memory_pool") && err.contains("lots"), "{err}");

            jail.create_file(DEFAULT_FILE, "[lake]\nrooot = \"x\"\n")?;
            let err = format!("{:#}", AppConfig::load(None).unwrap_err());
            assert!(err.contains("rooot"), "{err}");

            jail.create_file(DEFAULT_FILE, "[lake\nroot = \n")?;
            let err = format!("{:#}", AppConfig::load(None).unwrap_err());
            assert!(err.contains(DEFAULT_FILE), "{err}");

            jail.create_file(DEFAULT_FILE, "[http]\nlisten = \"127.0.0.1:7000\"\n[flight_sql]\nlisten = \"127.0.0.1:7000\"\n")?;
            let err = format!("{:#}", AppConfig::load(None).unwrap_err());
            assert!(err.contains("need ports of their own"), "{err}");

            let err = format!("{:#}", AppConfig::load(Some(Path::new("missing.toml"))).unwrap_err());
            assert!(err.contains("missing.toml does not exist"), "{err}");
            Ok(())
        });
    }
}
