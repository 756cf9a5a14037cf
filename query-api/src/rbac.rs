//! Role checks in one place: a handler of an organisation's route takes `OrgAccess<R>`, and
//! the extractor proves the caller holds at least role `R` in the organisation of the path
//! before the handler runs. Handlers never check roles themselves.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::{Plan, Role};
use crate::state::AppState;

/// The least role a route needs, as a type.
pub trait MinRole: Send + Sync + 'static {
    const ROLE: Role;
}

pub struct Viewer;
pub struct Analyst;
pub struct Admin;
pub struct Owner;

impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl MinRole for Analyst {
    const ROLE: Role = Role::Analyst;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}
impl MinRole for Owner {
    const ROLE: Role = Role::Owner;
}

/// Proof that the caller may act in `org_id` with at least role `R`.
pub struct OrgAccess<R: MinRole> {
    pub org_id: Uuid,
    pub role: Role,
    pub plan: Plan,
    pub principal: Principal,
    _role: PhantomData<R>,
}

impl<R: MinRole> FromRequestParts<AppState> for OrgAccess<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let org_text = params.iter().find(|(name, _)| *name == "org_id").map(|(_, value)| value.to_owned()).ok_or_else(|| ApiError::Internal("an organisation route without {org_id}".into()))?;
        // Unknown, malformed and foreign organisations all look the same: not found.
        let not_found = || ApiError::not_found(format!("organisation {org_text}"));
        let org_id: Uuid = org_text.parse().map_err(|_| not_found())?;
        let (role, plan) = role_in(state, &principal, org_id).await?.ok_or_else(not_found)?;
        if role < R::ROLE {
            return Err(ApiError::Forbidden(format!("this needs the {} role or higher; you are {}", R::ROLE.as_str(), role.as_str())));
        }
        Ok(Self { org_id, role, plan, principal, _role: PhantomData })
    }
}

/// The caller's role and the plan of `org_id`, or None when the organisation is not theirs.
async fn role_in(state: &AppState, principal: &Principal, org_id: Uuid) -> ApiResult<Option<(Role, Plan)>> {
    match principal {
        Principal::User { user_id, .. } => {
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT m.role, o.plan FROM memberships m JOIN organisations o USING (org_id)
                 WHERE m.org_id = $1 AND m.user_id = $2",
            )
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&state.db)
            .await?;
            row.map(|(role, plan)| Ok((role.parse::<Role>()?, plan.parse::<Plan>()?))).transpose()
        }
        Principal::ApiKey { org_id: key_org, role, plan, .. } if *key_org == org_id => Ok(Some((*role, *plan))),
        Principal::ApiKey { .. } => Ok(None),
    }
}

/// Who a SQL query runs as: an API key acts for its organisation; a user for the organisation
/// named, or for their only one. One lookup at most: it is paid on every query.
pub async fn sql_caller(state: &AppState, principal: &Principal, org_id: Option<Uuid>) -> ApiResult<crate::sql::Caller> {
    let (org_id, role) = match principal {
        Principal::ApiKey { org_id: key_org, role, .. } => match org_id {
            Some(asked) if asked != *key_org => return Err(ApiError::not_found(format!("organisation {asked}"))),
            _ => (*key_org, *role),
        },
        Principal::User { user_id, .. } => {
            let memberships: Vec<(Uuid, String)> = sqlx::query_as("SELECT org_id, role FROM memberships WHERE user_id = $1 AND ($2::uuid IS NULL OR org_id = $2) LIMIT 2")
                .bind(user_id)
                .bind(org_id)
                .fetch_all(&state.db)
                .await?;
            match (memberships.as_slice(), org_id) {
                ([(org_id, role)], _) => (*org_id, role.parse::<Role>()?),
                ([], Some(asked)) => return Err(ApiError::not_found(format!("organisation {asked}"))),
                ([], None) => return Err(ApiError::Forbidden("you belong to no organisation".into())),
                (_, _) => return Err(ApiError::BadRequest("you belong to several organisations: say which one (org_id)".into())),
            }
        }
    };
    Ok(crate::sql::Caller { org_id, role, actor: principal.actor() })
}
