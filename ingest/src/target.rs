//! Accounts to collect and the tokens to collect them with.

use std::path::Path;

use serde::Deserialize;

use crate::platforms::Platform;

/// Tokens of one account, per API flavour.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tokens {
    /// graph.facebook.com (Instagram with Facebook Login, Pages).
    pub facebook: Option<TokenPair>,
    /// graph.instagram.com (Instagram Login).
    pub instagram: Option<TokenPair>,
    /// TikTok Display API.
    pub tiktok: Option<TokenPair>,
    /// TikTok API for Business.
    pub tiktok_business: Option<TokenPair>,
}

#[derive(Clone, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Tokens never show in logs or panics.
impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair([REDACTED])")
    }
}

#[derive(Clone, Deserialize)]
pub struct Ga4Property {
    pub property_id: String,
    pub access_token: String,
}

impl std::fmt::Debug for Ga4Property {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ga4Property").field("property_id", &self.property_id).field("access_token", &"[REDACTED]").finish()
    }
}

/// One account to collect.
#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub platform: Platform,
    #[serde(rename = "id")]
    pub account_id: String,
    pub handle: String,
    /// What the registry (the agency tracking the creator) declares about the account: the
    /// platforms do not report niche, country or content language.
    #[serde(flatten)]
    pub declared: Declared,
    /// The creator connected the account: first-party insights may be read.
    #[serde(default)]
    pub connected: bool,
    #[serde(default)]
    pub tokens: Tokens,
    #[serde(default)]
    pub ga4: Option<Ga4Property>,
}

/// Declared attributes of a tracked account; they land in bronze as the `registry` endpoint.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
pub struct Declared {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub niche: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot read the accounts file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the accounts file {path} is not valid: {source}")]
    Parse { path: String, source: serde_json::Error },
}

#[derive(Deserialize)]
struct AccountsFile {
    accounts: Vec<Target>,
}

/// Reads an accounts file (`{"accounts":[{platform,id,handle,connected,tokens,ga4}]}`, the
/// format `analisa sim serve` writes).
pub fn load_targets(path: &Path) -> Result<Vec<Target>, TargetsError> {
    let text = std::fs::read(path).map_err(|source| TargetsError::Read { path: path.display().to_string(), source })?;
    let file: AccountsFile = serde_json::from_slice(&text).map_err(|source| TargetsError::Parse { path: path.display().to_string(), source })?;
    Ok(file.accounts)
}
