//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use analisa_ingest::oauth::Connections;
use analisa_lake::Lake;
use sqlx::PgPool;

use crate::auth::TokenKeys;
use crate::config::ApiConfig;
use crate::metrics::Metrics;
use crate::redis::RedisHandle;

/// The shared parts behind one `Arc`: every layer and extractor clones the state per request,
/// and one reference count is far cheaper than a dozen (a profile of B5 found 10 % of a cached
/// answer's time in cloning and dropping the fields one by one).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub db: PgPool,
    pub redis: RedisHandle,
    /// In-process copies of the hot Redis reads, kept current by Redis pub/sub.
    pub near: Arc<crate::near_cache::NearCache>,
    /// Rate-limit tokens taken from Redis in batches for the busiest callers.
    pub leases: Arc<crate::ratelimit::Leases>,
    /// Checked by `/ready` only: the API reads the serving copy in PostgreSQL.
    pub lake: Option<Lake>,
    /// The SQL gateway over the lake (`/v1/sql`, Flight SQL); absent without a lake.
    pub sql: Option<Arc<crate::sql::Gateway>>,
    pub config: Arc<ApiConfig>,
    pub keys: Arc<TokenKeys>,
    pub metrics: Arc<Metrics>,
    /// Platform accounts' OAuth flow and sealed tokens; absent without `ingest.token_key`.
    pub connections: Option<Arc<Connections>>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// Changes the shared parts while setting up (copies them if a clone of the state is out).
    pub fn configure(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    pub fn connections(&self) -> Result<&Connections, crate::error::ApiError> {
        self.connections.as_deref().ok_or_else(|| crate::error::ApiError::Unavailable("connecting platform accounts is not set up on this server (ingest.token_key and the platforms' apps)".into()))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
