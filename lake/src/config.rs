//! The `[lake]` section of the configuration.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::error::{LakeError, Result};

/// Where the lake lives and how its engine is bounded.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LakeConfig {
    /// `file://./data/lake` (default), `file:///abs/path`, `s3://bucket/prefix` or `memory://`.
    pub root: String,
    /// Options for `s3://` roots (any S3-compatible store: MinIO, AWS S3, R2, moto).
    pub s3: S3Config,
    /// Memory the query engine may hold before operators spill to disk, e.g. "2GiB".
    #[serde(deserialize_with = "deserialize_bytes")]
    pub memory_pool: u64,
    /// Where spill files go; the system temporary directory when unset.
    pub spill_dir: Option<PathBuf>,
    /// How long files removed from a table stay on the store before `vacuum` deletes them,
    /// so that readers pinned to recent versions keep working ("7d", "168h").
    #[serde(with = "human_duration")]
    pub vacuum_retention: Duration,
    /// Target size of data files written by `optimize`, e.g. "128MiB".
    #[serde(deserialize_with = "deserialize_bytes")]
    pub target_file_size: u64,
}

impl Default for LakeConfig {
    fn default() -> Self {
        Self {
            root: "file://./data/lake".into(),
            s3: S3Config::default(),
            memory_pool: 2 * 1024 * 1024 * 1024,
            spill_dir: None,
            vacuum_retention: Duration::from_secs(7 * 24 * 3600),
            target_file_size: 128 * 1024 * 1024,
        }
    }
}

/// Connection options for an S3-compatible object store.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint of a non-AWS store, e.g. `http://127.0.0.1:9000`; AWS when unset.
    pub endpoint: Option<String>,
    pub region: String,
    /// Credentials; when unset the usual `AWS_*` environment variables are used.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// Needed for plain-http endpoints such as a local MinIO.
    pub allow_http: bool,
    /// Bucket in the host name (AWS style) instead of the path (MinIO style).
    pub virtual_hosted_style: bool,
    /// Retries of a failed request before the error reaches the caller.
    pub max_retries: usize,
    /// Give up retrying a request after this long.
    #[serde(with = "human_duration")]
    pub retry_timeout: Duration,
    #[serde(with = "human_duration")]
    pub connect_timeout: Duration,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            virtual_hosted_style: false,
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl LakeConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.memory_pool < 64 * 1024 * 1024 {
            return Err(LakeError::InvalidConfig(format!(
                "lake.memory_pool is {} bytes; at least 64MiB is needed",
                self.memory_pool
            )));
        }
        if self.target_file_size < 1024 * 1024 {
            return Err(LakeError::InvalidConfig(
                "lake.target_file_size must be at least 1MiB".into(),
            ));
        }
        Ok(())
    }
}

/// Parses "2GiB", "512MiB", "64MB", "1048576": humans write sizes with units.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 2GiB or 512MiB"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        other => return Err(format!("unknown size unit `{other}` in `{text}`")),
    };
    Ok((number * multiplier as f64) as u64)
}

/// Sizes are written the way people say them: "256MiB", "2GiB", or a number of bytes.
pub fn deserialize_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(deserializer)? {
        Size::Number(n) => Ok(n),
        Size::Text(t) => parse_bytes(&t).map_err(serde::de::Error::custom),
    }
}

/// Durations are written the way people say them: "7d", "30s", "1h 30m".
pub mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not a duration like 30s or 7d: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_bytes("512 MiB").unwrap(), 512 * 1024 * 1024);
        assert_eq!(parse_bytes("64MB").unwrap(), 64_000_000);
        assert_eq!(parse_bytes("1048576").unwrap(), 1_048_576);
        assert!(parse_bytes("lots").unwrap_err().contains("lots"));
        assert!(parse_bytes("3 parsecs").unwrap_err().contains("parsecs"));
    }

    #[test]
    fn too_small_pool_is_rejected() {
        let config = LakeConfig { memory_pool: 1024, ..LakeConfig::default() };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("lake.memory_pool"), "{err}");
    }
}
