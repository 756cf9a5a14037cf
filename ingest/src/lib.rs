//! Analisa's collection side: connectors to the platform APIs and the raw landing into bronze.
//!
//! - [`platforms`]: where each API lives and the app credentials (`[platforms.*]`);
//! - [`fetch`]: one request, classified the way each platform signals success, limits and
//!   failures, with retries (exponential backoff, full jitter);
//! - collectors (Instagram with either login, Facebook Pages, TikTok for Business and Display,
//!   GA4) that page through everything about an account, with a metric catalogue that drops
//!   retired metric names instead of failing;
//! - [`oauth`]: connecting accounts (authorisation code, state, PKCE, long-lived exchange,
//!   refresh with rotation, revocation) with tokens sealed in PostgreSQL;
//! - [`Governor`]: budgets per app, token and account shared by every worker through Redis;
//! - [`webhooks`]: Meta and TikTok receivers that verify signatures on the raw body, land
//!   the event and ask for a targeted refresh;
//! - [`raw`] and [`run`]: every answer lands in bronze unchanged, fingerprinted, once;
//! - [`freshness`]: tracked accounts enqueued daily, running campaigns' accounts hourly.

mod collect;
pub mod fetch;
pub mod freshness;
mod governor;
pub mod oauth;
mod platforms;
mod queue;
mod redis_link;
pub mod raw;
pub mod run;
mod target;
pub mod webhooks;

pub use collect::Scope;
pub use fetch::{Clock, RetryPolicy};
pub use governor::{Budgets, Governor, GovernorError};
pub use platforms::{Platform, PlatformConfig, PlatformsConfig, UnknownPlatform};
pub use queue::{Queue, QueueConfig, QueueError, Task, WorkerOptions, work};
pub use run::{IngestError, RunOptions, RunSummary, run};
pub use target::{Ga4Property, Target, TargetsError, TokenPair, Tokens, load_targets};
