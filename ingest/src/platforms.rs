//! The `[platforms.*]` configuration sections: where each platform's API lives and the app
//! credentials Analisa uses there. Every URL is configurable so that the `sim` servers (and
//! any proxy) can stand in for the real hosts.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// The platform APIs Analisa talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Instagram API with Instagram Login (`graph.instagram.com`). Instagram accounts reached
    /// through Facebook Login use the Facebook app and host.
    Instagram,
    /// Facebook Graph API (`graph.facebook.com`): Pages, and Instagram with Facebook Login.
    Facebook,
    /// TikTok Display API v2 / Login Kit (`open.tiktokapis.com/v2`).
    Tiktok,
    /// TikTok API for Business (`business-api.tiktok.com/open_api/v1.3`).
    TiktokBusiness,
    /// Google Analytics 4 Data API (`analyticsdata.googleapis.com/v1beta`).
    Ga4,
}

impl Platform {
    pub const ALL: [Platform; 5] =
        [Platform::Instagram, Platform::Facebook, Platform::Tiktok, Platform::TiktokBusiness, Platform::Ga4];

    /// The configuration key and the `platform` value in bronze.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::Tiktok => "tiktok",
            Platform::TiktokBusiness => "tiktok_business",
            Platform::Ga4 => "ga4",
        }
    }
}

/// A name that is not a platform's.
#[derive(Debug, thiserror::Error)]
#[error("unknown platform `{0}` (instagram, facebook, tiktok, tiktok_business, ga4)")]
pub struct UnknownPlatform(pub String);

impl std::str::FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Platform::ALL.into_iter().find(|p| p.as_str() == text).ok_or_else(|| UnknownPlatform(text.to_owned()))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One platform's API location and app credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Base URL of the API calls (without the version segment for Meta).
    pub base_url: Url,
    /// Version segment or prefix the connector requests, e.g. `v24.0`, `v1.3`, `v2`, `v1beta`.
    pub api_version: String,
    /// Where a user is sent to grant access (the OAuth authorisation endpoint).
    pub auth_url: Url,
    /// Where codes and refresh tokens are exchanged.
    pub token_url: Url,
    /// App id / client key.
    #[serde(default)]
    pub client_id: Option<String>,
    /// App secret; never logged.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Redirect URI registered with the platform for the OAuth callback.
    #[serde(default)]
    pub redirect_uri: Option<Url>,
    /// Scopes asked for when connecting an account.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Token of the operator's own account (a system-user or own business-account token),
    /// used for public lookups such as Instagram `business_discovery`. Tokens of connected
    /// creators live in the connection store, never here.
    #[serde(default)]
    pub access_token: Option<SecretString>,
}

impl PlatformConfig {
    fn public(base_url: &str, api_version: &str, auth_url: &str, token_url: &str, scopes: &[&str]) -> Self {
        Self {
            base_url: Url::parse(base_url).expect("valid default URL"),
            api_version: api_version.to_owned(),
            auth_url: Url::parse(auth_url).expect("valid default URL"),
            token_url: Url::parse(token_url).expect("valid default URL"),
            client_id: None,
            client_secret: None,
            redirect_uri: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            access_token: None,
        }
    }

    /// Whether app credentials are configured (without them only the simulator can be used).
    pub fn has_credentials(&self) -> bool {
        self.client_id.is_some() && self.client_secret.is_some()
    }
}

/// All platform sections; each defaults to the real production hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformsConfig {
    pub instagram: PlatformConfig,
    pub facebook: PlatformConfig,
    pub tiktok: PlatformConfig,
    pub tiktok_business: PlatformConfig,
    pub ga4: PlatformConfig,
}

impl PlatformsConfig {
    pub fn get(&self, platform: Platform) -> &PlatformConfig {
        match platform {
            Platform::Instagram => &self.instagram,
            Platform::Facebook => &self.facebook,
            Platform::Tiktok => &self.tiktok,
            Platform::TiktokBusiness => &self.tiktok_business,
            Platform::Ga4 => &self.ga4,
        }
    }
}

/// The Graph API version Analisa is written against; Meta keeps each version two years.
const META_VERSION: &str = "v24.0";

impl Default for PlatformsConfig {
    fn default() -> Self {
        Self {
            instagram: PlatformConfig::public(
                "https://graph.instagram.com/",
                META_VERSION,
                "https://www.instagram.com/oauth/authorize",
                "https://api.instagram.com/oauth/access_token",
                &["instagram_business_basic", "instagram_business_manage_insights", "instagram_business_manage_comments"],
            ),
            facebook: PlatformConfig::public(
                "https://graph.facebook.com/",
                META_VERSION,
                "https://www.facebook.com/v24.0/dialog/oauth",
                "https://graph.facebook.com/v24.0/oauth/access_token",
                &["instagram_basic", "instagram_manage_insights", "pages_show_list", "pages_read_engagement", "read_insights"],
            ),
            tiktok: PlatformConfig::public(
                "https://open.tiktokapis.com/",
                "v2",
                "https://www.tiktok.com/v2/auth/authorize/",
                "https://open.tiktokapis.com/v2/oauth/token/",
                &["user.info.basic", "user.info.profile", "user.info.stats", "video.list"],
            ),
            tiktok_business: PlatformConfig::public(
                "https://business-api.tiktok.com/open_api/",
                "v1.3",
                // App-specific in production (the portal shows it); set it in analisa.toml.
                "https://business-api.tiktok.com/portal/auth",
                "https://business-api.tiktok.com/open_api/v1.3/tt_user/oauth2/token/",
                &["user.info.basic", "user.info.stats", "video.list", "video.insights", "user.insights", "comment.list"],
            ),
            ga4: PlatformConfig::public(
                "https://analyticsdata.googleapis.com/",
                "v1beta",
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                &["https://www.googleapis.com/auth/analytics.readonly"],
            ),
        }
    }
}
