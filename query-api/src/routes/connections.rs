//! Platform accounts an organisation connects: the OAuth authorisation-code flow begun and
//! finished through the API (the dashboard's Settings page drives it), the list, and
//! disconnection. Tokens stay sealed in `ingest`'s store and never leave it.

use analisa_ingest::Platform;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rbac::{Admin, OrgAccess};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub id: Uuid,
    pub platform: String,
    pub account_id: String,
    /// `active`, `needs_reauth` (the platform refused the token: connect it again) or `revoked`.
    pub status: String,
    pub scopes: Vec<String>,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, platform, account_id, status, scopes, access_expires_at, last_error, updated_at";

type ConnectionRow = (Uuid, String, String, String, Vec<String>, Option<DateTime<Utc>>, Option<String>, DateTime<Utc>);

impl From<ConnectionRow> for Connection {
    fn from((id, platform, account_id, status, scopes, access_expires_at, last_error, updated_at): ConnectionRow) -> Self {
        Self { id, platform, account_id, status, scopes, access_expires_at, last_error, updated_at }
    }
}

/// Platform accounts connected by the organisation (never their tokens).
#[utoipa::path(get, path = "/v1/orgs/{org_id}/connections", tag = "connections", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Connection]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(State(state): State<AppState>, access: OrgAccess<Admin>) -> ApiResult<Json<Vec<Connection>>> {
    let rows: Vec<ConnectionRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM platform_connections WHERE org_id = $1 AND status <> 'revoked' ORDER BY platform, account_id"))
        .bind(access.org_id.to_string())
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(Connection::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectRequest {
    /// `instagram` (Instagram Login), `facebook` (Facebook Login: Pages and their Instagram
    /// accounts), `tiktok` (Login Kit), `tiktok_business` or `ga4`.
    #[schema(value_type = String, example = "tiktok")]
    pub platform: Platform,
    /// Where the platform sends the user back with `code` and `state` (the dashboard's
    /// `/settings/connections/callback/{platform}`); it must be registered with the platform app.
    pub redirect_uri: String,
    /// GA4 only: the property the connection reads (the token does not name it).
    pub property_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectStarted {
    /// The platform's consent page; send the user there.
    pub authorize_url: String,
    /// Seconds left to finish the authorisation.
    pub expires_in: i64,
}

/// Begins connecting a platform account (admin): the answer is the consent page to send the
/// user to, bound to this organisation by a single-use `state` (with PKCE where the platform
/// takes it).
#[utoipa::path(post, path = "/v1/orgs/{org_id}/connections", tag = "connections", security(("bearer" = [])), params(("org_id" = Uuid, Path)), request_body = ConnectRequest,
    responses((status = 201, body = ConnectStarted), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn begin(State(state): State<AppState>, access: OrgAccess<Admin>, Json(body): Json<ConnectRequest>) -> ApiResult<(StatusCode, Json<ConnectStarted>)> {
    let connections = state.connections()?;
    let redirect = redirect_uri(&body.redirect_uri)?;
    let property = match (body.platform, body.property_id.as_deref().map(str::trim)) {
        (Platform::Ga4, Some(p)) if !p.is_empty() && p.len() <= 32 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p),
        (Platform::Ga4, _) => return Err(ApiError::BadRequest("a GA4 connection needs property_id, the property's number".into())),
        (_, _) => None,
    };
    let url = connections.begin(body.platform, &redirect, Some(&access.org_id.to_string()), property).await?;
    Ok((StatusCode::CREATED, Json(ConnectStarted { authorize_url: url.to_string(), expires_in: analisa_ingest::oauth::STATE_TTL_MINUTES * 60 })))
}

/// The redirect URI of a request: an absolute http(s) URL without credentials or fragment.
pub(crate) fn redirect_uri(text: &str) -> ApiResult<url::Url> {
    let bad = || ApiError::BadRequest("redirect_uri must be an absolute http(s) URL without user info or fragment".into());
    let url = url::Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() || text.len() > 2048 {
        return Err(bad());
    }
    Ok(url)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteRequest {
    #[schema(value_type = String, example = "tiktok")]
    pub platform: Platform,
    /// The `state` the platform redirected with.
    pub state: String,
    /// The `code` the platform redirected with (`auth_code` on TikTok for Business).
    pub code: String,
}

/// Finishes connecting (admin) with the `code` and `state` the platform redirected with: the
/// code is exchanged (for a long-lived token on Meta), the tokens are sealed and stored, and the
/// connection is answered. A state begun by another organisation, used once already or older
/// than 15 minutes is refused.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/connections/complete", tag = "connections", security(("bearer" = [])), params(("org_id" = Uuid, Path)), request_body = CompleteRequest,
    responses((status = 201, body = Connection), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)))]
pub async fn complete(State(state): State<AppState>, access: OrgAccess<Admin>, Json(body): Json<CompleteRequest>) -> ApiResult<(StatusCode, Json<Connection>)> {
    let connections = state.connections()?;
    if body.state.is_empty() || body.state.len() > 256 || body.code.is_empty() || body.code.len() > 2048 {
        return Err(ApiError::BadRequest("state and code are required, as the platform sent them".into()));
    }
    let org = access.org_id.to_string();
    let connected = connections.complete(body.platform, &body.state, &body.code, Some(&org)).await?;
    let mut tx = state.db.begin().await?;
    let row: ConnectionRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM platform_connections WHERE platform = $1 AND account_id = $2 AND org_id = $3"))
        .bind(connected.platform.as_str())
        .bind(&connected.account_id)
        .bind(&org)
        .fetch_one(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "connection.create", target: &format!("{}:{}", connected.platform, connected.account_id), details: json!({"scopes": connected.scopes}) },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Disconnects an account (admin): the token is revoked at the platform where it offers that,
/// and forgotten here.
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/connections/{connection_id}", tag = "connections", security(("bearer" = [])), params(("org_id" = Uuid, Path), ("connection_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)))]
pub async fn disconnect(State(state): State<AppState>, access: OrgAccess<Admin>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let connection_id = path.1;
    let (platform, account): (String, String) = sqlx::query_as("SELECT platform, account_id FROM platform_connections WHERE id = $1 AND org_id = $2 AND status <> 'revoked'")
        .bind(connection_id)
        .bind(access.org_id.to_string())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("connection {connection_id}")))?;
    let platform: Platform = platform.parse().map_err(|e: analisa_ingest::UnknownPlatform| ApiError::Internal(format!("stored connection: {e}")))?;
    state.connections()?.revoke(platform, &account).await?;
    let mut tx = state.db.begin().await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "connection.revoke", target: &format!("{platform}:{account}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
