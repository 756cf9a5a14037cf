//! Organisations, their members and roles, invitations, API keys and activity history. Every
//! query names the organisation proven by `OrgAccess`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{self, Activity, Entry};
use crate::auth::{Principal, new_api_key, random_token, token_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{Plan, Role};
use crate::rbac::{Admin, OrgAccess, Owner, Viewer};
use crate::routes::auth::{Membership, create_organisation, non_empty};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOrganisation {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    pub org_id: Uuid,
    pub name: String,
    pub plan: Plan,
    pub created_at: DateTime<Utc>,
    /// Distinct influencers in the organisation's lists and campaigns, and the plan's limit.
    pub tracked_influencers: i64,
    pub tracked_influencers_limit: Option<i64>,
    pub requests_per_minute: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrganisationChange {
    pub name: Option<String>,
    /// Only an owner changes the plan.
    pub plan: Option<Plan>,
}

/// Creates an organisation with the caller as owner.
#[utoipa::path(post, path = "/v1/orgs", tag = "organisations", security(("bearer" = [])), request_body = NewOrganisation,
    responses((status = 201, body = Membership), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn create(State(state): State<AppState>, principal: Principal, Json(body): Json<NewOrganisation>) -> ApiResult<(StatusCode, Json<Membership>)> {
    let user_id = principal.user_id()?;
    let name = non_empty("name", &body.name, 120)?;
    let org_id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    create_organisation(&mut tx, org_id, &name, Plan::Free, user_id).await?;
    audit::append(&mut tx, Entry { org_id: Some(org_id), actor: &principal.actor(), action: "org.create", target: &format!("org:{org_id}"), details: json!({"name": name}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Membership { org_id, name, role: Role::Owner, plan: Plan::Free })))
}

pub async fn tracked_count(db: impl sqlx::PgExecutor<'_>, org_id: Uuid) -> ApiResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM (
            SELECT platform, account_id FROM tracked_list_members JOIN tracked_lists USING (list_id) WHERE org_id = $1
            UNION
            SELECT platform, account_id FROM campaign_members JOIN campaigns USING (campaign_id) WHERE org_id = $1) t",
    )
    .bind(org_id)
    .fetch_one(db)
    .await?)
}

async fn load(state: &AppState, org_id: Uuid) -> ApiResult<Organisation> {
    let (name, plan, created_at): (String, String, DateTime<Utc>) =
        sqlx::query_as("SELECT name, plan, created_at FROM organisations WHERE org_id = $1").bind(org_id).fetch_one(&state.db).await?;
    let plan: Plan = plan.parse()?;
    let limits = state.config.plans.limits(plan);
    Ok(Organisation { org_id, name, plan, created_at, tracked_influencers: tracked_count(&state.db, org_id).await?, tracked_influencers_limit: limits.tracked_influencers, requests_per_minute: limits.requests_per_minute })
}

/// An organisation, its plan and quota use.
#[utoipa::path(get, path = "/v1/orgs/{org_id}", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = Organisation), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Organisation>> {
    Ok(Json(load(&state, access.org_id).await?))
}

/// Renames an organisation (admin) or changes its plan (owner).
#[utoipa::path(patch, path = "/v1/orgs/{org_id}", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)), request_body = OrganisationChange,
    responses((status = 200, body = Organisation), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update(State(state): State<AppState>, access: OrgAccess<Admin>, Json(body): Json<OrganisationChange>) -> ApiResult<Json<Organisation>> {
    if body.plan.is_some() && access.role < Role::Owner {
        return Err(ApiError::Forbidden("only an owner changes the plan".into()));
    }
    let name = body.name.as_deref().map(|n| non_empty("name", n, 120)).transpose()?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE organisations SET name = coalesce($2, name), plan = coalesce($3, plan) WHERE org_id = $1")
        .bind(access.org_id)
        .bind(&name)
        .bind(body.plan.map(Plan::as_str))
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "org.update", target: &format!("org:{}", access.org_id), details: json!({"name": name, "plan": body.plan}) }).await?;
    tx.commit().await?;
    Ok(Json(load(&state, access.org_id).await?))
}

/// Deletes an organisation (owner): its members, invitations, API keys, lists, campaigns and
/// disputes are erased with it, and its connected accounts are disconnected.
#[utoipa::path(delete, path = "/v1/orgs/{org_id}", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(State(state): State<AppState>, access: OrgAccess<Owner>) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    // Members, invitations, keys, lists, campaigns and disputes go with it (ON DELETE
    // CASCADE); its audit rows stay, as the record that it existed and was deleted.
    sqlx::query("DELETE FROM organisations WHERE org_id = $1").bind(access.org_id).execute(&mut *tx).await?;
    sqlx::query("UPDATE platform_connections SET org_id = NULL, status = 'revoked' WHERE org_id = $1").bind(access.org_id.to_string()).execute(&mut *tx).await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "org.delete", target: &format!("org:{}", access.org_id), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The organisation's members.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/members", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Member]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn members(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Vec<Member>>> {
    let rows: Vec<(Uuid, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT u.user_id, u.email, u.display_name, m.role, m.created_at FROM memberships m JOIN users u USING (user_id) WHERE m.org_id = $1 ORDER BY m.created_at",
    )
    .bind(access.org_id)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter().map(|(user_id, email, display_name, role, joined_at)| Ok(Member { user_id, email, display_name, role: role.parse()?, joined_at })).collect::<ApiResult<_>>().map(Json)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: Role,
}

/// Serialises membership changes of one organisation, so that two owners demoting each other
/// at once cannot leave it without an owner.
async fn lock_organisation(tx: &mut sqlx::PgConnection, org_id: Uuid) -> ApiResult<()> {
    sqlx::query("SELECT 1 FROM organisations WHERE org_id = $1 FOR UPDATE").bind(org_id).execute(&mut *tx).await?;
    Ok(())
}

/// Changes a member's role (admin; only an owner grants or takes away ownership, and the last
/// owner stays).
#[utoipa::path(patch, path = "/v1/orgs/{org_id}/members/{user_id}", tag = "organisations", security(("bearer" = [])),
    params(("org_id" = Uuid, Path), ("user_id" = Uuid, Path)), request_body = RoleChange,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_role(State(state): State<AppState>, access: OrgAccess<Admin>, Path(path): Path<(Uuid, Uuid)>, Json(body): Json<RoleChange>) -> ApiResult<StatusCode> {
    let (_, user_id) = path;
    let mut tx = state.db.begin().await?;
    lock_organisation(&mut tx, access.org_id).await?;
    let current: Option<String> = sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE").bind(access.org_id).bind(user_id).fetch_optional(&mut *tx).await?;
    let current: Role = current.ok_or_else(|| ApiError::not_found(format!("member {user_id}")))?.parse()?;
    if (current == Role::Owner || body.role == Role::Owner) && access.role < Role::Owner {
        return Err(ApiError::Forbidden("only an owner grants or takes away the owner role".into()));
    }
    if current == Role::Owner && body.role != Role::Owner {
        ensure_another_owner(&mut tx, access.org_id, user_id).await?;
    }
    sqlx::query("UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2").bind(access.org_id).bind(user_id).bind(body.role.as_str()).execute(&mut *tx).await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "member.role_change", target: &format!("user:{user_id}"), details: json!({"from": current, "to": body.role}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ensure_another_owner(tx: &mut sqlx::PgConnection, org_id: Uuid, leaving: Uuid) -> ApiResult<()> {
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'owner' AND user_id <> $2").bind(org_id).bind(leaving).fetch_one(&mut *tx).await?;
    if owners == 0 {
        return Err(ApiError::Conflict("an organisation keeps at least one owner; make someone else owner first".into()));
    }
    Ok(())
}

/// Removes a member (admin; owners only by an owner).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/members/{user_id}", tag = "organisations", security(("bearer" = [])),
    params(("org_id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove_member(State(state): State<AppState>, access: OrgAccess<Admin>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let (_, user_id) = path;
    let mut tx = state.db.begin().await?;
    lock_organisation(&mut tx, access.org_id).await?;
    let current: Option<String> = sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE").bind(access.org_id).bind(user_id).fetch_optional(&mut *tx).await?;
    let current: Role = current.ok_or_else(|| ApiError::not_found(format!("member {user_id}")))?.parse()?;
    if current == Role::Owner {
        if access.role < Role::Owner {
            return Err(ApiError::Forbidden("only an owner removes an owner".into()));
        }
        ensure_another_owner(&mut tx, access.org_id, user_id).await?;
    }
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2").bind(access.org_id).bind(user_id).execute(&mut *tx).await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "member.remove", target: &format!("user:{user_id}"), details: json!({"role": current}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInvitation {
    pub email: String,
    /// admin, analyst or viewer.
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub invitation_id: Uuid,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Only in the answer that creates it: give it to the invitee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Invites someone by e-mail (admin). The token in the answer is shown once.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/invitations", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)), request_body = NewInvitation,
    responses((status = 201, body = Invitation), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn invite(State(state): State<AppState>, access: OrgAccess<Admin>, Json(body): Json<NewInvitation>) -> ApiResult<(StatusCode, Json<Invitation>)> {
    if body.role == Role::Owner {
        return Err(ApiError::BadRequest("invite as admin, analyst or viewer; ownership is given by an owner afterwards".into()));
    }
    let email = body.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::BadRequest(format!("`{email}` is not an e-mail address")));
    }
    let token = random_token();
    let invitation_id = Uuid::now_v7();
    let expires_at = Utc::now() + chrono::Duration::from_std(state.config.invitation_ttl).map_err(|e| ApiError::Internal(e.to_string()))?;
    let user_id = access.principal.user_id()?;
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO invitations (invitation_id, org_id, email, role, token_hash, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(invitation_id)
        .bind(access.org_id)
        .bind(&email)
        .bind(body.role.as_str())
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "member.invite", target: &format!("invitation:{invitation_id}"), details: json!({"email": email, "role": body.role}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Invitation { invitation_id, email, role: body.role, expires_at, accepted_at: None, token: Some(token) })))
}

/// Pending and accepted invitations (admin).
#[utoipa::path(get, path = "/v1/orgs/{org_id}/invitations", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Invitation]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn invitations(State(state): State<AppState>, access: OrgAccess<Admin>) -> ApiResult<Json<Vec<Invitation>>> {
    let rows: Vec<(Uuid, String, String, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT invitation_id, email, role, expires_at, accepted_at FROM invitations WHERE org_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC",
    )
    .bind(access.org_id)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(|(invitation_id, email, role, expires_at, accepted_at)| Ok(Invitation { invitation_id, email, role: role.parse()?, expires_at, accepted_at, token: None }))
        .collect::<ApiResult<_>>()
        .map(Json)
}

/// Withdraws an invitation (admin).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/invitations/{invitation_id}", tag = "organisations", security(("bearer" = [])),
    params(("org_id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_invitation(State(state): State<AppState>, access: OrgAccess<Admin>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let (_, invitation_id) = path;
    let mut tx = state.db.begin().await?;
    let done = sqlx::query("UPDATE invitations SET revoked_at = now() WHERE org_id = $1 AND invitation_id = $2 AND revoked_at IS NULL AND accepted_at IS NULL")
        .bind(access.org_id)
        .bind(invitation_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("pending invitation {invitation_id}")));
    }
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "member.invitation_revoke", target: &format!("invitation:{invitation_id}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptInvitation {
    pub token: String,
}

/// Joins the organisation of an invitation addressed to the signed-in user's e-mail.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "organisations", security(("bearer" = [])), request_body = AcceptInvitation,
    responses((status = 200, body = Membership), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn accept(State(state): State<AppState>, principal: Principal, Json(body): Json<AcceptInvitation>) -> ApiResult<Json<Membership>> {
    let user_id = principal.user_id()?;
    let mut tx = state.db.begin().await?;
    let row: Option<(Uuid, Uuid, String, String, String, String)> = sqlx::query_as(
        "SELECT i.invitation_id, i.org_id, i.email, i.role, o.name, o.plan FROM invitations i JOIN organisations o USING (org_id)
         WHERE i.token_hash = $1 AND i.revoked_at IS NULL AND i.accepted_at IS NULL AND i.expires_at > now() FOR UPDATE OF i",
    )
    .bind(token_hash(&body.token))
    .fetch_optional(&mut *tx)
    .await?;
    let (invitation_id, org_id, email, role, name, plan) = row.ok_or_else(|| ApiError::NotFound("the invitation is unknown, expired, withdrawn or already used".into()))?;
    let own_email: String = sqlx::query_scalar("SELECT lower(email) FROM users WHERE user_id = $1").bind(user_id).fetch_one(&mut *tx).await?;
    if own_email != email {
        return Err(ApiError::Forbidden("this invitation is for another e-mail address".into()));
    }
    sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)").bind(org_id).bind(user_id).bind(&role).execute(&mut *tx).await.map_err(ApiError::conflict_means("you are already a member"))?;
    sqlx::query("UPDATE invitations SET accepted_at = now() WHERE invitation_id = $1").bind(invitation_id).execute(&mut *tx).await?;
    audit::append(&mut tx, Entry { org_id: Some(org_id), actor: &principal.actor(), action: "member.join", target: &format!("invitation:{invitation_id}"), details: json!({"role": role}) }).await?;
    tx.commit().await?;
    Ok(Json(Membership { org_id, name, role: role.parse()?, plan: plan.parse()? }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApiKey {
    pub name: String,
    /// `read` (viewer rights) or `write` (analyst rights).
    pub scope: KeyScope,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyScope {
    Read,
    Write,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub key_id: Uuid,
    pub name: String,
    /// Identifies the key in lists and logs (`ak_{prefix}.…`).
    pub prefix: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The whole key, only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Creates an API key (admin); the key is shown once.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/api-keys", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)), request_body = NewApiKey,
    responses((status = 201, body = ApiKey), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create_key(State(state): State<AppState>, access: OrgAccess<Admin>, Json(body): Json<NewApiKey>) -> ApiResult<(StatusCode, Json<ApiKey>)> {
    let name = non_empty("name", &body.name, 80)?;
    let user_id = access.principal.user_id()?;
    let key = new_api_key();
    let key_id = Uuid::now_v7();
    let scope = match body.scope {
        KeyScope::Read => "read",
        KeyScope::Write => "write",
    };
    let mut tx = state.db.begin().await?;
    let created_at: DateTime<Utc> = sqlx::query_scalar("INSERT INTO api_keys (key_id, org_id, name, prefix, secret_hash, scope, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at")
        .bind(key_id)
        .bind(access.org_id)
        .bind(&name)
        .bind(&key.prefix)
        .bind(&key.secret_hash)
        .bind(scope)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "api_key.create", target: &format!("api_key:{}", key.prefix), details: json!({"name": name, "scope": scope}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ApiKey { key_id, name, prefix: key.prefix, scope: scope.into(), created_at, last_used_at: None, revoked_at: None, key: Some(key.plaintext) })))
}

/// The organisation's API keys (admin), without their secrets.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/api-keys", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [ApiKey]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn keys(State(state): State<AppState>, access: OrgAccess<Admin>) -> ApiResult<Json<Vec<ApiKey>>> {
    let rows: Vec<(Uuid, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT key_id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC",
    )
    .bind(access.org_id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows.into_iter().map(|(key_id, name, prefix, scope, created_at, last_used_at, revoked_at)| ApiKey { key_id, name, prefix, scope, created_at, last_used_at, revoked_at, key: None }).collect()))
}

/// Revokes an API key (admin); it stops working at once.
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/api-keys/{key_id}", tag = "organisations", security(("bearer" = [])),
    params(("org_id" = Uuid, Path), ("key_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_key(State(state): State<AppState>, access: OrgAccess<Admin>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let (_, key_id) = path;
    let mut tx = state.db.begin().await?;
    let prefix: Option<String> = sqlx::query_scalar("UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND key_id = $2 AND revoked_at IS NULL RETURNING prefix")
        .bind(access.org_id)
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?;
    let prefix = prefix.ok_or_else(|| ApiError::not_found(format!("active API key {key_id}")))?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "api_key.revoke", target: &format!("api_key:{prefix}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActivityQuery {
    /// Entries older than this sequence number (for paging back).
    pub before: Option<i64>,
    /// At most this many entries (1–200, default 50).
    pub limit: Option<i64>,
}

/// The organisation's activity history, newest first (admin).
#[utoipa::path(get, path = "/v1/orgs/{org_id}/activity", tag = "organisations", security(("bearer" = [])), params(("org_id" = Uuid, Path), ActivityQuery),
    responses((status = 200, body = [Activity]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn activity(State(state): State<AppState>, access: OrgAccess<Admin>, Query(query): Query<ActivityQuery>) -> ApiResult<Json<Vec<Activity>>> {
    let rows = sqlx::query_as::<_, Activity>(
        "SELECT seq, at, actor, action, target, details::jsonb AS details FROM audit_log WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(access.org_id)
    .bind(query.before.unwrap_or(i64::MAX))
    .bind(query.limit.unwrap_or(50).clamp(1, 200))
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows))
}
