//! `analisa export adhoc`: one query through the SQL gateway from the console, with every
//! check, limit and audit row of `/v1/sql`.

use analisa_lake::Lake;
use futures::TryStreamExt;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::ApiConfig;
use crate::ids::Role;
use crate::sql::{Caller, Channel, Format, Gateway, encode};

#[derive(Debug, thiserror::Error)]
pub enum AdhocError {
    #[error("unknown format `{0}` (json, ndjson, csv, arrow or parquet)")]
    Format(String),
    #[error("{0}")]
    Query(String),
}

/// An ad-hoc query's result.
pub struct AdhocResult {
    pub bytes: Vec<u8>,
    pub rows: usize,
    pub truncated: bool,
    /// `gold.social_score=12, …`: the lake versions read.
    pub versions: String,
}

/// Runs `sql` as the operator at the console: every layer (an admin's view), the private rows
/// of `org_id` only (none without one), read-only, limited and audited like `/v1/sql`.
pub async fn export_query(lake: Lake, db: PgPool, config: &ApiConfig, org_id: Option<Uuid>, actor: &str, sql: &str, format: &str) -> Result<AdhocResult, AdhocError> {
    let format: Format = serde_json::from_value(serde_json::Value::String(format.to_owned())).map_err(|_| AdhocError::Format(format.to_owned()))?;
    let gateway = std::sync::Arc::new(Gateway::new(lake, db, config.sql.clone()).map_err(|e| AdhocError::Query(e.to_string()))?);
    let caller = Caller { org_id: org_id.unwrap_or(Uuid::nil()), role: Role::Admin, actor: format!("console:{actor}") };
    let query = |e: crate::sql::SqlError| AdhocError::Query(e.to_string());
    let planned = gateway.plan(&caller, sql, None, Channel::Console).await.map_err(query)?;
    let versions = planned.versions_text();
    let mut stream = gateway.execute(planned);
    let schema = stream.schema();
    let batches: Result<Vec<_>, _> = (&mut stream).try_collect().await;
    let truncated = stream.truncated();
    // The console exits once it has its answer: the audit row must be in by then, failed or not.
    stream.audited().await;
    let batches = batches.map_err(query)?;
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let chunks: Vec<bytes::Bytes> = encode(format, schema, batches).try_collect().await.map_err(|e| AdhocError::Query(e.to_string()))?;
    Ok(AdhocResult { bytes: chunks.concat(), rows, truncated, versions })
}
