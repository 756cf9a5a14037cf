//! The tamper-evident audit log (G4). Each row's hash covers the previous row's hash and the
//! row itself; rows are appended inside the transaction of the action they record, so an
//! action and its audit row commit together or not at all.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

const GENESIS: [u8; 32] = [0; 32];

/// What is recorded.
pub struct Entry<'a> {
    pub org_id: Option<Uuid>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: Value,
}

fn digest(prev: &[u8], seq: i64, at: DateTime<Utc>, org_id: Option<Uuid>, actor: &str, action: &str, target: &str, details: &str) -> Vec<u8> {
    // A JSON array is an unambiguous encoding of the fields (no separator can be forged).
    let canonical = json!([seq, at.timestamp_micros(), org_id, actor, action, target, details]).to_string();
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(canonical.as_bytes());
    hasher.finalize().to_vec()
}

/// Appends one entry; call it on the transaction of the action.
pub async fn append(tx: &mut PgConnection, entry: Entry<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('analisa.audit_log'))").execute(&mut *tx).await?;
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let (seq, prev) = last.map_or((1, GENESIS.to_vec()), |(seq, hash)| (seq + 1, hash));
    // PostgreSQL keeps microseconds: hash what will be read back.
    let at = Utc::now().trunc_subsecs(6);
    let details = entry.details.to_string();
    let hash = digest(&prev, seq, at, entry.org_id, entry.actor, entry.action, entry.target, &details);
    sqlx::query("INSERT INTO audit_log (seq, at, org_id, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(seq)
        .bind(at)
        .bind(entry.org_id)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(&details)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    Ok(seq)
}

/// Appends one entry in a transaction of its own.
pub async fn record(pool: &PgPool, entry: Entry<'_>) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let seq = append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(seq)
}

/// The outcome of checking the whole chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { rows: u64 },
    /// The first row whose hash, link or sequence does not hold, and why.
    Broken { seq: i64, reason: String },
}

pub async fn verify(pool: &PgPool) -> Result<Verdict, sqlx::Error> {
    use futures::TryStreamExt;
    type Row = (i64, DateTime<Utc>, Option<Uuid>, String, String, String, String, Vec<u8>, Vec<u8>);
    let mut rows = sqlx::query_as::<_, Row>("SELECT seq, at, org_id, actor, action, target, details, prev_hash, hash FROM audit_log ORDER BY seq").fetch(pool);
    let mut expected_prev = GENESIS.to_vec();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some((seq, at, org_id, actor, action, target, details, prev, hash)) = rows.try_next().await? {
        if seq != expected_seq {
            return Ok(Verdict::Broken { seq, reason: format!("row {expected_seq} is missing") });
        }
        if prev != expected_prev {
            return Ok(Verdict::Broken { seq, reason: "its link to the previous row does not match".into() });
        }
        if digest(&prev, seq, at, org_id, &actor, &action, &target, &details) != hash {
            return Ok(Verdict::Broken { seq, reason: "its content does not match its hash".into() });
        }
        expected_prev = hash;
        expected_seq += 1;
        count += 1;
    }
    Ok(Verdict::Intact { rows: count })
}

/// An audit row as the activity history shows it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Activity {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub details: sqlx::types::Json<Value>,
}
