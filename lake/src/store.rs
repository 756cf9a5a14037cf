//! The object-store factory: one place that turns the configured lake root into a store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use deltalake::logstore::{
    LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig, default_logstore, logstore_factories,
};
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::LakeConfig;
use crate::error::{LakeError, Result};

/// Where the lake lives, parsed once from `lake.root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LakeRoot {
    /// An absolute directory on the local file system.
    File(PathBuf),
    /// A bucket and key prefix on an S3-compatible store.
    S3 { bucket: String, prefix: String },
    /// A process-private in-memory store (tests).
    Memory,
}

impl LakeRoot {
    /// Accepts `file://./relative`, `file:///absolute`, a bare path, `s3://bucket/prefix`
    /// and `memory://`.
    pub fn parse(root: &str) -> Result<Self> {
        let invalid = |reason: &str| LakeError::InvalidRoot {
            root: root.to_owned(),
            reason: reason.to_owned(),
        };
        let root = root.trim();
        if root.is_empty() {
            return Err(invalid("it is empty"));
        }
        if let Some(rest) = root.strip_prefix("file://") {
            // `file://./data/lake` is not a valid URL (its host would be "."), yet it is the
            // most natural way to write a relative lake root, so it is read as a path.
            return Self::local(Path::new(rest)).map_err(|e| invalid(&e));
        }
        if let Some(rest) = root.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("an s3:// root needs a bucket: s3://bucket/prefix"));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if root == "memory://" || root == "memory:///" {
            return Ok(Self::Memory);
        }
        if let Some((scheme, _)) = root.split_once("://") {
            return Err(invalid(&format!(
                "unsupported scheme `{scheme}`; use file://, s3:// or memory://"
            )));
        }
        Self::local(Path::new(root)).map_err(|e| invalid(&e))
    }

    fn local(path: &Path) -> std::result::Result<Self, String> {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| format!("cannot resolve a relative path: {e}"))?
                .join(path)
        };
        // Normalise `.` and `..` without touching the disk: the directory may not exist yet.
        let mut normal = PathBuf::new();
        for part in absolute.components() {
            match part {
                std::path::Component::CurDir => {}
                std::path::Component::ParentDir => {
                    normal.pop();
                }
                other => normal.push(other),
            }
        }
        Ok(Self::File(normal))
    }

    /// The URL of the lake root, ending in `/` so that table paths join under it.
    pub fn url(&self) -> Url {
        match self {
            Self::File(path) => Url::from_directory_path(path).expect("an absolute path"),
            Self::S3 { bucket, prefix } if prefix.is_empty() => {
                Url::parse(&format!("s3://{bucket}/")).expect("a valid bucket URL")
            }
            Self::S3 { bucket, prefix } => {
                Url::parse(&format!("s3://{bucket}/{prefix}/")).expect("a valid bucket URL")
            }
            Self::Memory => Url::parse("memory:///").expect("a valid URL"),
        }
    }
}

/// Builds the store that holds the lake: rooted at the file system root, the bucket or the
/// memory store, which is how deltalake expects a "root store" to be handed to it.
pub fn object_store(root: &LakeRoot, config: &LakeConfig) -> Result<Arc<dyn ObjectStore>> {
    register_s3_log_store();
    match root {
        LakeRoot::File(path) => {
            std::fs::create_dir_all(path).map_err(|e| LakeError::InvalidRoot {
                root: path.display().to_string(),
                reason: format!("cannot create the directory: {e}"),
            })?;
            Ok(Arc::new(LocalFileSystem::new()))
        }
        LakeRoot::Memory => Ok(Arc::new(InMemory::new())),
        LakeRoot::S3 { bucket, .. } => {
            let s3 = &config.s3;
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region(&s3.region)
                .with_allow_http(s3.allow_http)
                .with_virtual_hosted_style_request(s3.virtual_hosted_style)
                // Delta commits are `put if absent`; with this, two writers racing for one
                // version cannot both win (S3, MinIO, R2 and moto honour If-None-Match).
                .with_conditional_put(S3ConditionalPut::ETagMatch)
                .with_retry(RetryConfig {
                    max_retries: s3.max_retries,
                    retry_timeout: s3.retry_timeout,
                    ..RetryConfig::default()
                })
                .with_client_options(
                    ClientOptions::new()
                        .with_allow_http(s3.allow_http)
                        .with_connect_timeout(s3.connect_timeout),
                );
            if let Some(endpoint) = &s3.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(key) = &s3.access_key_id {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = &s3.secret_access_key {
                builder = builder.with_secret_access_key(secret.expose_secret());
            }
            let store = builder.build().map_err(|source| LakeError::ObjectStore {
                location: format!("s3://{bucket}"),
                source,
            })?;
            Ok(Arc::new(store))
        }
    }
}

/// deltalake ships a log store for `s3://` only with its AWS SDK feature, which we leave out
/// (it doubles the build). The default log store commits with conditional puts, which is
/// exactly what an S3 store with `If-None-Match` support needs, so it is registered for s3.
fn register_s3_log_store() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let scheme = Url::parse("s3://").expect("a valid scheme URL");
        logstore_factories().insert(scheme, Arc::new(ConditionalPutLogStore));
    });
}

struct ConditionalPutLogStore;

impl LogStoreFactory for ConditionalPutLogStore {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> deltalake::DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(prefixed_store, root_store, location, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_parse() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            LakeRoot::parse("file://./data/lake").unwrap(),
            LakeRoot::File(cwd.join("data/lake"))
        );
        assert_eq!(
            LakeRoot::parse("file:///srv/lake").unwrap(),
            LakeRoot::File("/srv/lake".into())
        );
        assert_eq!(LakeRoot::parse("/srv/../srv/lake/").unwrap().url().as_str(), "file:///srv/lake/");
        assert_eq!(
            LakeRoot::parse("s3://analytics/lake/prod/").unwrap(),
            LakeRoot::S3 { bucket: "analytics".into(), prefix: "lake/prod".into() }
        );
        assert_eq!(
            LakeRoot::parse("s3://analytics").unwrap().url().as_str(),
            "s3://analytics/"
        );
        assert_eq!(LakeRoot::parse("memory://").unwrap(), LakeRoot::Memory);
    }

    #[test]
    fn bad_roots_say_why() {
        let err = LakeRoot::parse("gs://bucket").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme `gs`"), "{err}");
        let err = LakeRoot::parse("s3:///prefix").unwrap_err().to_string();
        assert!(err.contains("needs a bucket"), "{err}");
        assert!(LakeRoot::parse("  ").is_err());
    }
}
