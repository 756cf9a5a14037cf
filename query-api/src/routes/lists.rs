//! An organisation's tracked lists, campaigns and flag disputes (private to it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Entry};
use crate::config::PlanLimits;
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{InfluencerId, Plan};
use crate::rbac::{Analyst, OrgAccess, Viewer};
use crate::routes::auth::non_empty;
use crate::routes::orgs::tracked_count;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListInput {
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrackedList {
    pub list_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Influencer ids (platform:account_id).
    #[schema(value_type = Vec<String>)]
    pub influencers: Vec<String>,
    /// The same influencers with what a list shows of them.
    pub members: Vec<TrackedInfluencer>,
}

/// An influencer of a list or campaign; handle and numbers are absent while it is not (or no
/// longer) published.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrackedInfluencer {
    pub id: String,
    pub platform: String,
    pub handle: Option<String>,
    pub display_name: Option<String>,
    pub followers: Option<i64>,
    pub score: Option<f64>,
}

/// The members of a list or campaign (`table` names the membership table and its key column,
/// both ours), joined with what is published of them.
async fn members(db: &sqlx::PgPool, table: &str, key: &str, id: Uuid, order: &str) -> ApiResult<(Vec<String>, Vec<TrackedInfluencer>)> {
    type Row = (String, String, Option<String>, Option<String>, Option<i64>, Option<f64>);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT m.platform, m.account_id, i.handle, i.display_name, i.followers, i.score FROM {table} m
         LEFT JOIN serving.influencers i ON i.platform = m.platform AND i.account_id = m.account_id
         WHERE m.{key} = $1 ORDER BY {order}"
    ))
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(platform, account_id, handle, display_name, followers, score)| {
            let id = format!("{platform}:{account_id}");
            (id.clone(), TrackedInfluencer { id, platform, handle, display_name, followers, score })
        })
        .unzip())
}

async fn load_list(db: &sqlx::PgPool, org_id: Uuid, list_id: Uuid) -> ApiResult<TrackedList> {
    let (name, created_at): (String, DateTime<Utc>) = sqlx::query_as("SELECT name, created_at FROM tracked_lists WHERE org_id = $1 AND list_id = $2")
        .bind(org_id)
        .bind(list_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("list {list_id}")))?;
    let (influencers, members) = members(db, "tracked_list_members", "list_id", list_id, "m.added_at, m.platform, m.account_id").await?;
    Ok(TrackedList { list_id, name, created_at, influencers, members })
}

/// The organisation's tracked lists.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/lists", tag = "lists", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [TrackedList]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn lists(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Vec<TrackedList>>> {
    let list_ids: Vec<Uuid> = sqlx::query_scalar("SELECT list_id FROM tracked_lists WHERE org_id = $1 ORDER BY created_at").bind(access.org_id).fetch_all(&state.db).await?;
    let mut lists = Vec::with_capacity(list_ids.len());
    for list_id in list_ids {
        lists.push(load_list(&state.db, access.org_id, list_id).await?);
    }
    Ok(Json(lists))
}

/// Creates a tracked list (analyst).
#[utoipa::path(post, path = "/v1/orgs/{org_id}/lists", tag = "lists", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)), request_body = ListInput,
    responses((status = 201, body = TrackedList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create_list(State(state): State<AppState>, access: OrgAccess<Analyst>, Json(body): Json<ListInput>) -> ApiResult<(StatusCode, Json<TrackedList>)> {
    let name = non_empty("name", &body.name, 120)?;
    let list_id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO tracked_lists (list_id, org_id, name, created_by) VALUES ($1, $2, $3, $4)")
        .bind(list_id)
        .bind(access.org_id)
        .bind(&name)
        .bind(access.principal.user_id().ok())
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "list.create", target: &format!("list:{list_id}"), details: json!({"name": name}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(load_list(&state.db, access.org_id, list_id).await?)))
}

/// A tracked list.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/lists/{list_id}", tag = "lists", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("list_id" = Uuid, Path)),
    responses((status = 200, body = TrackedList), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_list(State(state): State<AppState>, access: OrgAccess<Viewer>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<Json<TrackedList>> {
    let (_, list_id) = path;
    Ok(Json(load_list(&state.db, access.org_id, list_id).await?))
}

/// Renames a tracked list (analyst).
#[utoipa::path(patch, path = "/v1/orgs/{org_id}/lists/{list_id}", tag = "lists", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("list_id" = Uuid, Path)), request_body = ListInput,
    responses((status = 200, body = TrackedList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn rename_list(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>, Json(body): Json<ListInput>) -> ApiResult<Json<TrackedList>> {
    let (_, list_id) = path;
    let name = non_empty("name", &body.name, 120)?;
    let done = sqlx::query("UPDATE tracked_lists SET name = $3 WHERE org_id = $1 AND list_id = $2").bind(access.org_id).bind(list_id).bind(&name).execute(&state.db).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("list {list_id}")));
    }
    Ok(Json(load_list(&state.db, access.org_id, list_id).await?))
}

/// Deletes a tracked list (analyst).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/lists/{list_id}", tag = "lists", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("list_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_list(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let (_, list_id) = path;
    let mut tx = state.db.begin().await?;
    let done = sqlx::query("DELETE FROM tracked_lists WHERE org_id = $1 AND list_id = $2").bind(access.org_id).bind(list_id).execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("list {list_id}")));
    }
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "list.delete", target: &format!("list:{list_id}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks that the influencer exists and that adding it keeps the organisation in its plan.
async fn admit(tx: &mut PgConnection, org_id: Uuid, plan: Plan, limits: PlanLimits, id: &InfluencerId) -> ApiResult<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM serving.influencers WHERE platform = $1 AND account_id = $2)")
        .bind(&id.platform)
        .bind(&id.account_id)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!("influencer {id}")));
    }
    // Serialise quota checks of one organisation, so two concurrent adds cannot both pass.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(format!("quota:{org_id}")).execute(&mut *tx).await?;
    let already: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tracked_list_members JOIN tracked_lists USING (list_id) WHERE org_id = $1 AND platform = $2 AND account_id = $3
                 UNION ALL SELECT 1 FROM campaign_members JOIN campaigns USING (campaign_id) WHERE org_id = $1 AND platform = $2 AND account_id = $3)",
    )
    .bind(org_id)
    .bind(&id.platform)
    .bind(&id.account_id)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(limit) = limits.tracked_influencers
        && !already
        && tracked_count(&mut *tx, org_id).await? >= limit
    {
        return Err(ApiError::Conflict(format!("the {} plan tracks at most {limit} influencers; remove some or upgrade", plan.as_str())));
    }
    Ok(())
}

/// Adds an influencer to a list (analyst; counts against the plan's tracked influencers).
#[utoipa::path(put, path = "/v1/orgs/{org_id}/lists/{list_id}/influencers/{id}", tag = "lists", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("list_id" = Uuid, Path), ("id" = String, Path, description = "platform:account_id")),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_to_list(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid, String)>) -> ApiResult<StatusCode> {
    let (_, list_id, id) = path;
    add_member(&state, &access, Holder::List, list_id, &id).await
}

/// Removes an influencer from a list (analyst).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/lists/{list_id}/influencers/{id}", tag = "lists", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("list_id" = Uuid, Path), ("id" = String, Path, description = "platform:account_id")),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_from_list(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid, String)>) -> ApiResult<StatusCode> {
    let (_, list_id, id) = path;
    remove_member(&state, &access, Holder::List, list_id, &id).await
}

/// Lists and campaigns both hold influencers: one implementation serves both.
#[derive(Clone, Copy)]
enum Holder {
    List,
    Campaign,
}

impl Holder {
    /// (parent table, its id column, member table, what it is called).
    fn tables(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::List => ("tracked_lists", "list_id", "tracked_list_members", "list"),
            Self::Campaign => ("campaigns", "campaign_id", "campaign_members", "campaign"),
        }
    }
}

/// Adds an influencer to an organisation's list or campaign, within the plan's quota.
async fn add_member(state: &AppState, access: &OrgAccess<Analyst>, holder: Holder, parent: Uuid, id: &str) -> ApiResult<StatusCode> {
    let id: InfluencerId = id.parse()?;
    let (table, key, members, noun) = holder.tables();
    let mut tx = state.db.begin().await?;
    let owned: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE org_id = $1 AND {key} = $2)")).bind(access.org_id).bind(parent).fetch_one(&mut *tx).await?;
    if !owned {
        return Err(ApiError::not_found(format!("{noun} {parent}")));
    }
    admit(&mut tx, access.org_id, access.plan, state.config.plans.limits(access.plan), &id).await?;
    sqlx::query(&format!("INSERT INTO {members} ({key}, platform, account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"))
        .bind(parent)
        .bind(&id.platform)
        .bind(&id.account_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an influencer from an organisation's list or campaign.
async fn remove_member(state: &AppState, access: &OrgAccess<Analyst>, holder: Holder, parent: Uuid, id: &str) -> ApiResult<StatusCode> {
    let id: InfluencerId = id.parse()?;
    let (table, key, members, noun) = holder.tables();
    let done = sqlx::query(&format!(
        "DELETE FROM {members} m USING {table} p WHERE m.{key} = p.{key} AND p.org_id = $1 AND m.{key} = $2 AND m.platform = $3 AND m.account_id = $4"
    ))
    .bind(access.org_id)
    .bind(parent)
    .bind(&id.platform)
    .bind(&id.account_id)
    .execute(&state.db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("{id} in {noun} {parent}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignInput {
    pub name: String,
    pub brand: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    #[serde(default)]
    pub hashtags: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub campaign_id: Uuid,
    pub name: String,
    pub brand: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub hashtags: Vec<String>,
    /// planned, active or finished (from the dates).
    pub status: String,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Vec<String>)]
    pub influencers: Vec<String>,
    pub members: Vec<TrackedInfluencer>,
}

fn check_campaign(body: &CampaignInput) -> ApiResult<(String, Vec<String>)> {
    let name = non_empty("name", &body.name, 120)?;
    if body.ends_on < body.starts_on {
        return Err(ApiError::BadRequest("ends_on is before starts_on".into()));
    }
    if body.hashtags.len() > 30 {
        return Err(ApiError::BadRequest("at most 30 hashtags".into()));
    }
    let hashtags = body.hashtags.iter().map(|h| h.trim().trim_start_matches('#').to_lowercase()).filter(|h| !h.is_empty()).collect();
    Ok((name, hashtags))
}

async fn load_campaign(db: &sqlx::PgPool, org_id: Uuid, campaign_id: Uuid) -> ApiResult<Campaign> {
    type Row = (String, Option<String>, NaiveDate, NaiveDate, Vec<String>, String, DateTime<Utc>);
    let (name, brand, starts_on, ends_on, hashtags, status, created_at): Row = sqlx::query_as(
        "SELECT name, brand, starts_on, ends_on, hashtags,
                CASE WHEN current_date < starts_on THEN 'planned' WHEN current_date > ends_on THEN 'finished' ELSE 'active' END, created_at
         FROM campaigns WHERE org_id = $1 AND campaign_id = $2",
    )
    .bind(org_id)
    .bind(campaign_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("campaign {campaign_id}")))?;
    let (influencers, members) = members(db, "campaign_members", "campaign_id", campaign_id, "m.platform, m.account_id").await?;
    Ok(Campaign { campaign_id, name, brand, starts_on, ends_on, hashtags, status, created_at, influencers, members })
}

/// The organisation's campaigns.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/campaigns", tag = "campaigns", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Campaign]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn campaigns(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Vec<Campaign>>> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT campaign_id FROM campaigns WHERE org_id = $1 ORDER BY starts_on DESC, created_at").bind(access.org_id).fetch_all(&state.db).await?;
    let mut campaigns = Vec::with_capacity(ids.len());
    for id in ids {
        campaigns.push(load_campaign(&state.db, access.org_id, id).await?);
    }
    Ok(Json(campaigns))
}

/// Creates a campaign (analyst).
#[utoipa::path(post, path = "/v1/orgs/{org_id}/campaigns", tag = "campaigns", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)), request_body = CampaignInput,
    responses((status = 201, body = Campaign), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create_campaign(State(state): State<AppState>, access: OrgAccess<Analyst>, Json(body): Json<CampaignInput>) -> ApiResult<(StatusCode, Json<Campaign>)> {
    let (name, hashtags) = check_campaign(&body)?;
    let campaign_id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO campaigns (campaign_id, org_id, name, brand, starts_on, ends_on, hashtags, status, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', $8)")
        .bind(campaign_id)
        .bind(access.org_id)
        .bind(&name)
        .bind(&body.brand)
        .bind(body.starts_on)
        .bind(body.ends_on)
        .bind(&hashtags)
        .bind(access.principal.user_id().ok())
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "campaign.create", target: &format!("campaign:{campaign_id}"), details: json!({"name": name}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(load_campaign(&state.db, access.org_id, campaign_id).await?)))
}

/// A campaign.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("campaign_id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_campaign(State(state): State<AppState>, access: OrgAccess<Viewer>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<Json<Campaign>> {
    let (_, campaign_id) = path;
    Ok(Json(load_campaign(&state.db, access.org_id, campaign_id).await?))
}

/// Replaces a campaign's name, brand, dates and hashtags (analyst).
#[utoipa::path(put, path = "/v1/orgs/{org_id}/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("campaign_id" = Uuid, Path)), request_body = CampaignInput,
    responses((status = 200, body = Campaign), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update_campaign(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>, Json(body): Json<CampaignInput>) -> ApiResult<Json<Campaign>> {
    let (_, campaign_id) = path;
    let (name, hashtags) = check_campaign(&body)?;
    let done = sqlx::query("UPDATE campaigns SET name = $3, brand = $4, starts_on = $5, ends_on = $6, hashtags = $7 WHERE org_id = $1 AND campaign_id = $2")
        .bind(access.org_id)
        .bind(campaign_id)
        .bind(&name)
        .bind(&body.brand)
        .bind(body.starts_on)
        .bind(body.ends_on)
        .bind(&hashtags)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("campaign {campaign_id}")));
    }
    Ok(Json(load_campaign(&state.db, access.org_id, campaign_id).await?))
}

/// Deletes a campaign (analyst).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/campaigns/{campaign_id}", tag = "campaigns", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("campaign_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_campaign(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let (_, campaign_id) = path;
    let mut tx = state.db.begin().await?;
    let done = sqlx::query("DELETE FROM campaigns WHERE org_id = $1 AND campaign_id = $2").bind(access.org_id).bind(campaign_id).execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("campaign {campaign_id}")));
    }
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "campaign.delete", target: &format!("campaign:{campaign_id}"), details: json!({}) }).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an influencer to a campaign (analyst; counts against the plan's tracked influencers).
#[utoipa::path(put, path = "/v1/orgs/{org_id}/campaigns/{campaign_id}/influencers/{id}", tag = "campaigns", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("campaign_id" = Uuid, Path), ("id" = String, Path, description = "platform:account_id")),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_to_campaign(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid, String)>) -> ApiResult<StatusCode> {
    let (_, campaign_id, id) = path;
    add_member(&state, &access, Holder::Campaign, campaign_id, &id).await
}

/// Removes an influencer from a campaign (analyst).
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/campaigns/{campaign_id}/influencers/{id}", tag = "campaigns", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("campaign_id" = Uuid, Path), ("id" = String, Path, description = "platform:account_id")),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_from_campaign(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid, String)>) -> ApiResult<StatusCode> {
    let (_, campaign_id, id) = path;
    remove_member(&state, &access, Holder::Campaign, campaign_id, &id).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DisputeInput {
    /// Why the flag is wrong (for example: a giveaway explains the follower spike).
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Dispute {
    pub dispute_id: Uuid,
    pub flag_id: String,
    pub reason: String,
    /// open, accepted or rejected.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Disputes an anomaly flag on behalf of the organisation (analyst).
#[utoipa::path(post, path = "/v1/orgs/{org_id}/flags/{flag_id}/dispute", tag = "influencers", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("flag_id" = String, Path)), request_body = DisputeInput,
    responses((status = 201, body = Dispute), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn dispute(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, String)>, Json(body): Json<DisputeInput>) -> ApiResult<(StatusCode, Json<Dispute>)> {
    let (_, flag_id) = path;
    let reason = non_empty("reason", &body.reason, 2000)?;
    let mut tx = state.db.begin().await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM serving.anomaly_flags WHERE flag_id = $1)").bind(&flag_id).fetch_one(&mut *tx).await?;
    if !exists {
        return Err(ApiError::not_found(format!("flag {flag_id}")));
    }
    let dispute_id = Uuid::now_v7();
    let created_at: DateTime<Utc> = sqlx::query_scalar("INSERT INTO flag_disputes (dispute_id, org_id, flag_id, reason, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING created_at")
        .bind(dispute_id)
        .bind(access.org_id)
        .bind(&flag_id)
        .bind(&reason)
        .bind(access.principal.user_id().ok())
        .fetch_one(&mut *tx)
        .await
        .map_err(ApiError::conflict_means("your organisation already disputes this flag"))?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "flag.dispute", target: &format!("flag:{flag_id}"), details: json!({"reason": reason}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Dispute { dispute_id, flag_id, reason, status: "open".into(), created_at })))
}

/// The organisation's flag disputes.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/disputes", tag = "influencers", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Dispute]), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn disputes(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Vec<Dispute>>> {
    let rows: Vec<(Uuid, String, String, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT dispute_id, flag_id, reason, status, created_at FROM flag_disputes WHERE org_id = $1 ORDER BY created_at DESC").bind(access.org_id).fetch_all(&state.db).await?;
    Ok(Json(rows.into_iter().map(|(dispute_id, flag_id, reason, status, created_at)| Dispute { dispute_id, flag_id, reason, status, created_at }).collect()))
}
