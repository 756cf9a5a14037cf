//! Analisa's collection side: the platform connectors and their configuration.
//!
//! This crate starts with the `[platforms.*]` configuration sections the connectors read;
//! the connectors, OAuth flows, rate-limit governor and work queue build on it.

mod platforms;

pub use platforms::{Platform, PlatformConfig, PlatformsConfig};
