//! The one way the ingest side connects to Redis (work queue and rate-limit governor).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A reconnecting connection. Answers may take seconds on a loaded machine (and queue reads
/// block for up to a second on the server), so the response timeout is generous: a slow answer
/// is not a lost Redis.
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new().set_response_timeout(Some(Duration::from_secs(10))).set_connection_timeout(Some(Duration::from_secs(5)));
    tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new_with_config(client, config))
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out connecting")))?
}
