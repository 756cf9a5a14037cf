//! Sign-up, sign-in, token refresh with rotation, sign-out, and who am I.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Entry};
use crate::auth::{Principal, hash_password, random_token, revoke_session, token_hash, verify_password};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{Plan, Role};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ana@agencia.com.br")]
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: String,
    /// The organisation created with the account (the user becomes its owner).
    pub organisation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user_id: Uuid,
    pub org_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A signed-in session's credentials.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use: each refresh returns the next one.
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Membership {
    pub org_id: Uuid,
    pub name: String,
    pub role: Role,
    pub plan: Plan,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub organisations: Vec<Membership>,
}

fn normalise_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254 && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')) && !email.contains(char::is_whitespace);
    if valid { Ok(email) } else { Err(ApiError::BadRequest(format!("`{email}` is not an e-mail address"))) }
}

pub fn non_empty(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::BadRequest(format!("{field} must have 1 to {max} characters")));
    }
    Ok(value.to_owned())
}

/// Creates an account and its first organisation.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = RegisterResponse), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn register(State(state): State<AppState>, Json(body): Json<RegisterRequest>) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let account = NewAccount { email: body.email, password: body.password, display_name: body.display_name, organisation: body.organisation, plan: Plan::Free };
    Ok((StatusCode::CREATED, Json(provision(&state.db, account).await?)))
}

/// An account to create with its first organisation.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub organisation: String,
    pub plan: Plan,
}

/// Creates a user and an organisation they own, audited (sign-up, and `analisa demo`).
pub async fn provision(db: &sqlx::PgPool, account: NewAccount) -> ApiResult<RegisterResponse> {
    let email = normalise_email(&account.email)?;
    if account.password.chars().count() < 10 || account.password.len() > 1024 {
        return Err(ApiError::BadRequest("the password must have at least 10 characters".into()));
    }
    let display_name = non_empty("display_name", &account.display_name, 120)?;
    let organisation = non_empty("organisation", &account.organisation, 120)?;
    let hash = hash_password(account.password).await?;
    let (user_id, org_id) = (Uuid::now_v7(), Uuid::now_v7());
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO users (user_id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(&email)
        .bind(&display_name)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(ApiError::conflict_means("an account with this e-mail exists; sign in instead"))?;
    create_organisation(&mut tx, org_id, &organisation, account.plan, user_id).await?;
    audit::append(&mut tx, Entry { org_id: Some(org_id), actor: &format!("user:{user_id}"), action: "user.register", target: &format!("user:{user_id}"), details: json!({"email": email}) }).await?;
    tx.commit().await?;
    Ok(RegisterResponse { user_id, org_id })
}

pub async fn create_organisation(tx: &mut PgConnection, org_id: Uuid, name: &str, plan: Plan, owner: Uuid) -> ApiResult<()> {
    sqlx::query("INSERT INTO organisations (org_id, name, plan) VALUES ($1, $2, $3)").bind(org_id).bind(name).bind(plan.as_str()).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')").bind(org_id).bind(owner).execute(&mut *tx).await?;
    Ok(())
}

/// Signs in with e-mail and password. Repeated failures for one e-mail are throttled.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = Problem), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(State(state): State<AppState>, Json(body): Json<LoginRequest>) -> ApiResult<Json<TokenResponse>> {
    let email = normalise_email(&body.email)?;
    let window = chrono::Duration::from_std(state.config.login_window).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    // Sign-ins of one account take turns, so parallel guesses each see the failures before them.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(format!("login:{email}")).execute(&mut *tx).await?;
    let (failures, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as("SELECT count(*), min(failed_at) FROM login_failures WHERE lower(email) = $1 AND failed_at > now() - $2::interval")
        .bind(&email)
        .bind(format!("{} seconds", window.num_seconds()))
        .fetch_one(&mut *tx)
        .await?;
    if failures >= i64::from(state.config.login_max_failures) {
        let retry = oldest.map_or(window.num_seconds(), |t| (t + window - Utc::now()).num_seconds()).max(1);
        return Err(ApiError::TooManyRequests { detail: "too many failed sign-ins for this account; wait and try again".into(), retry_after_secs: retry as u64 });
    }
    let user: Option<(Uuid, String)> = sqlx::query_as("SELECT user_id, password_hash FROM users WHERE lower(email) = $1").bind(&email).fetch_optional(&mut *tx).await?;
    let Some((user_id, stored)) = user else {
        verify_password(body.password, None).await;
        return Err(failed_login(tx, &email, None).await);
    };
    if !verify_password(body.password, Some(stored)).await {
        return Err(failed_login(tx, &email, Some(user_id)).await);
    }
    sqlx::query("DELETE FROM login_failures WHERE lower(email) = $1").bind(&email).execute(&mut *tx).await?;
    let tokens = start_session(&state, &mut tx, user_id, "password").await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

/// A new session for a user who proved who they are (`method`: password or a platform), with
/// its first tokens, in the audit log.
pub(crate) async fn start_session(state: &AppState, tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, user_id: Uuid, method: &str) -> ApiResult<TokenResponse> {
    let session = Uuid::now_v7();
    sqlx::query("INSERT INTO sessions (family_id, user_id) VALUES ($1, $2)").bind(session).bind(user_id).execute(&mut **tx).await?;
    let tokens = issue_tokens(state, tx, user_id, session).await?;
    audit::append(tx, Entry { org_id: None, actor: &format!("user:{user_id}"), action: "auth.login", target: &format!("session:{session}"), details: json!({"method": method}) }).await?;
    Ok(tokens)
}

async fn failed_login(mut tx: sqlx::Transaction<'_, sqlx::Postgres>, email: &str, user_id: Option<Uuid>) -> ApiError {
    let recorded = async {
        sqlx::query("INSERT INTO login_failures (email) VALUES ($1)").bind(email).execute(&mut *tx).await?;
        let actor = user_id.map_or_else(|| "anonymous".to_owned(), |id| format!("user:{id}"));
        audit::append(&mut tx, Entry { org_id: None, actor: &actor, action: "auth.login_failed", target: &format!("email:{email}"), details: json!({}) }).await?;
        tx.commit().await
    }
    .await;
    match recorded {
        Ok(()) => ApiError::Unauthenticated("wrong e-mail or password".into()),
        Err(e) => e.into(),
    }
}

/// A new refresh token in `session`'s family, and an access token.
async fn issue_tokens(state: &AppState, tx: &mut PgConnection, user_id: Uuid, session: Uuid) -> ApiResult<TokenResponse> {
    let refresh = random_token();
    let expires = Utc::now() + chrono::Duration::from_std(state.config.refresh_ttl).map_err(|e| ApiError::Internal(e.to_string()))?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&refresh))
        .bind(session)
        .bind(user_id)
        .bind(expires)
        .execute(&mut *tx)
        .await?;
    let plan: Option<String> = sqlx::query_scalar(
        "SELECT o.plan FROM memberships m JOIN organisations o USING (org_id) WHERE m.user_id = $1
         ORDER BY CASE o.plan WHEN 'enterprise' THEN 0 WHEN 'pro' THEN 1 ELSE 2 END LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let plan = plan.map_or(Ok(Plan::Free), |p| p.parse())?;
    Ok(TokenResponse { access_token: state.keys.issue(user_id, session, plan)?, token_type: "Bearer".into(), expires_in: state.keys.access_ttl().as_secs(), refresh_token: refresh })
}

/// Exchanges a refresh token for new tokens. Each refresh token works once: presenting a used
/// one again revokes its whole session (it was copied).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
pub async fn refresh(State(state): State<AppState>, Json(body): Json<RefreshRequest>) -> ApiResult<Json<TokenResponse>> {
    let mut tx = state.db.begin().await?;
    let row: Option<(Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT r.family_id, r.user_id, r.expires_at, r.used_at, s.revoked_at FROM refresh_tokens r JOIN sessions s USING (family_id)
         WHERE r.token_hash = $1 FOR UPDATE OF r",
    )
    .bind(token_hash(&body.refresh_token))
    .fetch_optional(&mut *tx)
    .await?;
    let invalid = || ApiError::Unauthenticated("the refresh token is invalid, expired or revoked; sign in again".into());
    let (session, user_id, expires_at, used_at, revoked_at) = row.ok_or_else(invalid)?;
    if used_at.is_some() {
        revoke_session(&state, &mut *tx, session, "refresh token reuse").await?;
        audit::append(&mut tx, Entry { org_id: None, actor: &format!("user:{user_id}"), action: "auth.refresh_reuse", target: &format!("session:{session}"), details: json!({"revoked": true}) }).await?;
        tx.commit().await?;
        return Err(ApiError::Unauthenticated("this refresh token was already used, so the session has been revoked; sign in again".into()));
    }
    if revoked_at.is_some() || expires_at <= Utc::now() {
        return Err(invalid());
    }
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1").bind(token_hash(&body.refresh_token)).execute(&mut *tx).await?;
    let tokens = issue_tokens(&state, &mut tx, user_id, session).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

/// Signs out: the session's access and refresh tokens stop working at once.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<StatusCode> {
    let Principal::User { user_id, session, .. } = principal else {
        return Err(ApiError::Forbidden("API keys do not sign out; revoke the key instead".into()));
    };
    let mut tx = state.db.begin().await?;
    revoke_session(&state, &mut *tx, session, "signed out").await?;
    audit::append(&mut tx, Entry { org_id: None, actor: &format!("user:{user_id}"), action: "auth.logout", target: &format!("session:{session}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and their organisations.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn me(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Me>> {
    let user_id = principal.user_id()?;
    let (email, display_name): (String, String) = sqlx::query_as("SELECT email, display_name FROM users WHERE user_id = $1").bind(user_id).fetch_one(&state.db).await?;
    let organisations = sqlx::query_as::<_, (Uuid, String, String, String)>(
        "SELECT o.org_id, o.name, m.role, o.plan FROM memberships m JOIN organisations o USING (org_id) WHERE m.user_id = $1 ORDER BY o.name",
    )
    .bind(user_id)
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|(org_id, name, role, plan)| Ok(Membership { org_id, name, role: role.parse()?, plan: plan.parse()? }))
    .collect::<ApiResult<_>>()?;
    Ok(Json(Me { user_id, email, display_name, organisations }))
}
