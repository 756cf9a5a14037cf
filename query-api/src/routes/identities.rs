//! Social sign-in: a user links their Facebook, Instagram or TikTok identity while signed in,
//! and afterwards signs in with it. The identity is the platform's id of the person who
//! consented (OAuth authorisation-code flow with a single-use `state`, PKCE on TikTok); no
//! platform token is kept, and an identity nobody linked signs nobody in.

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
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use crate::routes::auth::{TokenResponse, start_session};
use crate::routes::connections::{ConnectStarted, redirect_uri};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityStart {
    /// Where the platform sends the person back with `code` and `state` (the dashboard's
    /// `/login/callback/{platform}` or `/settings/identities/callback/{platform}`); it must be
    /// registered with the platform app.
    pub redirect_uri: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityFinish {
    /// The `state` the platform redirected with.
    pub state: String,
    /// The `code` the platform redirected with.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    /// `facebook`, `instagram` or `tiktok`.
    pub platform: String,
    /// The platform's id of the person (Facebook user id, Instagram user id, TikTok open_id).
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

type IdentityRow = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);

impl From<IdentityRow> for Identity {
    fn from((platform, subject, created_at, last_login_at): IdentityRow) -> Self {
        Self { platform, subject, created_at, last_login_at }
    }
}

fn platform(name: &str) -> ApiResult<Platform> {
    name.parse().map_err(|e: analisa_ingest::UnknownPlatform| ApiError::BadRequest(e.to_string()))
}

fn checked(finish: &IdentityFinish) -> ApiResult<()> {
    if finish.state.is_empty() || finish.state.len() > 256 || finish.code.is_empty() || finish.code.len() > 2048 {
        return Err(ApiError::BadRequest("state and code are required, as the platform sent them".into()));
    }
    Ok(())
}

async fn started(state: &AppState, platform: Platform, body: &IdentityStart, user_id: Option<Uuid>) -> ApiResult<(StatusCode, Json<ConnectStarted>)> {
    let url = state.connections()?.begin_identity(platform, &redirect_uri(&body.redirect_uri)?, user_id).await?;
    Ok((StatusCode::CREATED, Json(ConnectStarted { authorize_url: url.to_string(), expires_in: analisa_ingest::oauth::STATE_TTL_MINUTES * 60 })))
}

/// Begins signing in with a platform account: the answer is the platform's consent page.
#[utoipa::path(post, path = "/v1/auth/social/{platform}", tag = "auth", params(("platform" = String, Path, description = "facebook, instagram or tiktok")), request_body = IdentityStart,
    responses((status = 201, body = ConnectStarted), (status = 400, body = Problem), (status = 503, body = Problem)))]
pub async fn begin_social_sign_in(State(state): State<AppState>, Path(name): Path<String>, Json(body): Json<IdentityStart>) -> ApiResult<(StatusCode, Json<ConnectStarted>)> {
    started(&state, platform(&name)?, &body, None).await
}

/// Finishes signing in with the `code` and `state` the platform redirected with: the user who
/// linked this platform identity gets a new session. An identity nobody linked is refused
/// (link it under Settings after signing in with e-mail and password).
#[utoipa::path(post, path = "/v1/auth/social/{platform}/complete", tag = "auth", params(("platform" = String, Path, description = "facebook, instagram or tiktok")), request_body = IdentityFinish,
    responses((status = 200, body = TokenResponse), (status = 400, body = Problem), (status = 401, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)))]
pub async fn social_sign_in(State(state): State<AppState>, Path(name): Path<String>, Json(body): Json<IdentityFinish>) -> ApiResult<Json<TokenResponse>> {
    let platform = platform(&name)?;
    checked(&body)?;
    let subject = state.connections()?.identify(platform, &body.state, &body.code, None).await?;
    let mut tx = state.db.begin().await?;
    let user: Option<Uuid> = sqlx::query_scalar("UPDATE user_identities SET last_login_at = now() WHERE platform = $1 AND subject = $2 RETURNING user_id")
        .bind(platform.as_str())
        .bind(&subject)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(user_id) = user else {
        audit::append(&mut tx, Entry { org_id: None, actor: "anonymous", action: "auth.login_failed", target: &format!("{platform}:{subject}"), details: json!({"method": platform.as_str()}) }).await?;
        tx.commit().await?;
        return Err(ApiError::Unauthenticated(format!("no Analisa user has linked this {platform} account: sign in with e-mail and password and link it under Settings")));
    };
    let tokens = start_session(&state, &mut tx, user_id, platform.as_str()).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

/// The platform identities the signed-in user can sign in with.
#[utoipa::path(get, path = "/v1/me/identities", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [Identity]), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_identities(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<Identity>>> {
    let rows: Vec<IdentityRow> = sqlx::query_as("SELECT platform, subject, created_at, last_login_at FROM user_identities WHERE user_id = $1 ORDER BY platform")
        .bind(principal.user_id()?)
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(Identity::from).collect()))
}

/// Begins linking a platform identity to the signed-in user: the answer is the platform's
/// consent page, bound to this user by a single-use `state`.
#[utoipa::path(post, path = "/v1/me/identities/{platform}", tag = "auth", security(("bearer" = [])), params(("platform" = String, Path, description = "facebook, instagram or tiktok")), request_body = IdentityStart,
    responses((status = 201, body = ConnectStarted), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 503, body = Problem)))]
pub async fn begin_link_identity(State(state): State<AppState>, principal: Principal, Path(name): Path<String>, Json(body): Json<IdentityStart>) -> ApiResult<(StatusCode, Json<ConnectStarted>)> {
    let user_id = principal.user_id()?;
    started(&state, platform(&name)?, &body, Some(user_id)).await
}

/// Finishes linking: from now on the user can sign in with this platform account. An identity
/// linked to another user, or a second identity on one platform, is refused.
#[utoipa::path(post, path = "/v1/me/identities/{platform}/complete", tag = "auth", security(("bearer" = [])), params(("platform" = String, Path, description = "facebook, instagram or tiktok")), request_body = IdentityFinish,
    responses((status = 201, body = Identity), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)))]
pub async fn link_identity(State(state): State<AppState>, principal: Principal, Path(name): Path<String>, Json(body): Json<IdentityFinish>) -> ApiResult<(StatusCode, Json<Identity>)> {
    let user_id = principal.user_id()?;
    let platform = platform(&name)?;
    checked(&body)?;
    let subject = state.connections()?.identify(platform, &body.state, &body.code, Some(user_id)).await?;
    let mut tx = state.db.begin().await?;
    let inserted: Option<IdentityRow> = sqlx::query_as(
        "INSERT INTO user_identities (platform, subject, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING platform, subject, created_at, last_login_at",
    )
    .bind(platform.as_str())
    .bind(&subject)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        let owner: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM user_identities WHERE platform = $1 AND subject = $2").bind(platform.as_str()).bind(&subject).fetch_optional(&mut *tx).await?;
        return Err(ApiError::Conflict(match owner {
            Some(owner) if owner == user_id => format!("this {platform} account is already linked to you"),
            Some(_) => format!("this {platform} account is linked to another Analisa user"),
            None => format!("you already sign in with another {platform} account: unlink it first"),
        }));
    };
    audit::append(&mut tx, Entry { org_id: None, actor: &format!("user:{user_id}"), action: "identity.link", target: &format!("{platform}:{subject}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Unlinks the user's identity on a platform: it no longer signs anyone in.
#[utoipa::path(delete, path = "/v1/me/identities/{platform}", tag = "auth", security(("bearer" = [])), params(("platform" = String, Path, description = "facebook, instagram or tiktok")),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlink_identity(State(state): State<AppState>, principal: Principal, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let user_id = principal.user_id()?;
    let platform = platform(&name)?;
    let mut tx = state.db.begin().await?;
    let subject: Option<String> = sqlx::query_scalar("DELETE FROM user_identities WHERE user_id = $1 AND platform = $2 RETURNING subject")
        .bind(user_id)
        .bind(platform.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let subject = subject.ok_or_else(|| ApiError::NotFound(format!("you have no linked {platform} account")))?;
    audit::append(&mut tx, Entry { org_id: None, actor: &format!("user:{user_id}"), action: "identity.unlink", target: &format!("{platform}:{subject}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
