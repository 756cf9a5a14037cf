//! Identifiers, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// An influencer across the API: `{platform}:{account_id}`, e.g. `instagram:17841400000000001`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InfluencerId {
    pub platform: String,
    pub account_id: String,
}

pub const PLATFORMS: [&str; 3] = ["instagram", "facebook", "tiktok"];

impl FromStr for InfluencerId {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::BadRequest(format!("`{text}` is not an influencer id like instagram:17841400000000001"));
        let (platform, account_id) = text.split_once(':').ok_or_else(invalid)?;
        let valid_account = !account_id.is_empty() && account_id.len() <= 64 && account_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !PLATFORMS.contains(&platform) || !valid_account {
            return Err(invalid());
        }
        Ok(Self { platform: platform.to_owned(), account_id: account_id.to_owned() })
    }
}

impl TryFrom<String> for InfluencerId {
    type Error = ApiError;

    fn try_from(text: String) -> Result<Self, ApiError> {
        text.parse()
    }
}

impl From<InfluencerId> for String {
    fn from(id: InfluencerId) -> String {
        id.to_string()
    }
}

impl fmt::Display for InfluencerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.account_id)
    }
}

/// Roles within an organisation, weakest first (the order is the permission order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Analyst => "analyst",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

impl FromStr for Role {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| ApiError::BadRequest(format!("`{text}` is not a role (owner, admin, analyst, viewer)")))
    }
}

/// Commercial plans and what they allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[default]
    Free,
    Pro,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Enterprise => "enterprise",
        }
    }
}

impl FromStr for Plan {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| ApiError::BadRequest(format!("`{text}` is not a plan (free, pro, enterprise)")))
    }
}
