//! The `[api]` section of `analisa.toml`.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use analisa_lake::config::human_duration;
use serde::Deserialize;

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
    /// Failed sign-ins per e-mail within `login_window` before sign-in is refused.
    pub login_max_failures: u32,
    #[serde(with = "human_duration")]
    pub login_window: Duration,
    /// The built dashboard (served at `/`); absent = API only.
    pub web_root: Option<PathBuf>,
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
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            web_root: None,
        }
    }
}
