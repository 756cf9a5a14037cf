//! The `[api]` section of `analisa.toml`.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use analisa_lake::config::human_duration;
use serde::Deserialize;

use crate::ids::Plan;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// HS256 key of the access tokens (at least 32 bytes). Required by `analisa serve`.
    pub jwt_secret: Option<SecretString>,
    /// `iss` of issued tokens, and the only one accepted.
    pub issuer: String,
    /// `aud` of issued tokens, and the only one accepted.
    pub audience: String,
    #[serde(with = "human_duration")]
    pub access_ttl: Duration,
    #[serde(with = "human_duration")]
    pub refresh_ttl: Duration,
    #[serde(with = "human_duration")]
    pub invitation_ttl: Duration,
    /// Origins allowed by CORS (exact matches; empty = same origin only).
    pub cors_origins: Vec<String>,
    /// How long a cached answer lives when no publication replaces it sooner.
    #[serde(with = "human_duration")]
    pub cache_ttl: Duration,
    /// Bytes of cached answers each API process also keeps in its own memory (0: none).
    #[serde(deserialize_with = "analisa_lake::config::deserialize_bytes")]
    pub near_cache_bytes: u64,
    /// Failed sign-ins per e-mail within `login_window` before sign-in is refused.
    pub login_max_failures: u32,
    #[serde(with = "human_duration")]
    pub login_window: Duration,
    /// The built dashboard (served at `/`); absent = API only.
    pub web_root: Option<PathBuf>,
    /// What each plan allows (`[api.plans.free]`, `.pro`, `.enterprise`).
    pub plans: Plans,
    /// Limits of SQL queries (`[api.sql]`).
    pub sql: crate::sql::SqlConfig,
    /// The SMTP server of report e-mails: the top-level `[reports.smtp]`, handed over by the
    /// binary (one setting for the API's "run now" and the scheduler).
    #[serde(skip)]
    pub report_smtp: Option<analisa_jobs::reports::SmtpConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Plans {
    pub free: PlanLimits,
    pub pro: PlanLimits,
    pub enterprise: PlanLimits,
}

/// The limits of one plan.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    /// API requests per minute of each user or key (a token bucket of this size, refilled
    /// over a minute).
    pub requests_per_minute: i64,
    /// Distinct influencers an organisation may track in its lists and campaigns (none =
    /// unlimited).
    pub tracked_influencers: Option<i64>,
}

impl Default for Plans {
    fn default() -> Self {
        Self {
            free: PlanLimits { requests_per_minute: 120, tracked_influencers: Some(25) },
            pro: PlanLimits { requests_per_minute: 1_200, tracked_influencers: Some(1_000) },
            enterprise: PlanLimits { requests_per_minute: 12_000, tracked_influencers: None },
        }
    }
}

impl Plans {
    pub fn limits(&self, plan: Plan) -> PlanLimits {
        match plan {
            Plan::Free => self.free,
            Plan::Pro => self.pro,
            Plan::Enterprise => self.enterprise,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            issuer: "analisa".into(),
            audience: "analisa-api".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
            cors_origins: Vec::new(),
            cache_ttl: Duration::from_secs(3600),
            near_cache_bytes: 64 * 1024 * 1024,
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            web_root: None,
            plans: Plans::default(),
            sql: crate::sql::SqlConfig::default(),
            report_smtp: None,
        }
    }
}
