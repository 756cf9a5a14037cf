//! Analisa's platform simulator: a seeded synthetic world of creators, posts, comments and
//! follower histories, served by fake Instagram, Facebook, TikTok and GA4 servers that speak
//! the real protocols. The demo's data source and every connector test's peer.

pub mod export;
pub mod insights;
mod rng;
mod vocab;
pub mod world;

pub use export::{ExportError, ExportSummary, export};
pub use world::WorldSpec;
pub mod server;
