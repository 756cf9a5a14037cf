//! Report definitions and their runs, per organisation: analysts define and run them, viewers
//! list runs and download files through signed, expiring links (every download audited).

use analisa_jobs::reports::{Delivery, Exporter, ReportSpec, RunTrigger, definition};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use object_store::ObjectStoreExt;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, Problem};
use crate::rbac::{Analyst, OrgAccess, Viewer};
use crate::routes::auth::non_empty;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportInput {
    pub name: String,
    /// Scope, sections, metrics, period, format and language (see the README).
    #[schema(value_type = Object)]
    pub spec: Value,
    /// A cron expression (seconds first, as in `0 0 8 * * Mon`), read in `time_zone`.
    pub schedule: Option<String>,
    /// An IANA time zone (default America/Sao_Paulo).
    pub time_zone: Option<String>,
    /// `{"webhook": {"url": "https://…", "secret": "…"}}`: each succeeded run's manifest is
    /// POSTed there, signed (`X-Analisa-Signature`); the secret is never shown again.
    #[schema(value_type = Option<Object>)]
    pub delivery: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub report_id: Uuid,
    pub name: String,
    pub version: i32,
    #[schema(value_type = Object)]
    pub spec: Value,
    pub schedule: Option<String>,
    pub time_zone: String,
    /// The delivery, its secrets left out.
    #[schema(value_type = Object)]
    pub delivery: Value,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRun {
    pub run_id: Uuid,
    pub definition_version: i32,
    /// schedule, manual or rerun.
    pub trigger: String,
    /// running, succeeded or failed.
    pub status: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the webhook delivery did (attempts, HTTP status, error), when there is one.
    #[schema(value_type = Option<Object>)]
    pub delivery: Option<Value>,
    /// Signed download links of the run's files (and manifest), valid for an hour.
    pub files: Vec<DownloadLink>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadLink {
    pub name: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

fn check_input(input: &ReportInput) -> ApiResult<(String, ReportSpec, String, Value)> {
    let name = non_empty("name", &input.name, 120)?;
    let spec = ReportSpec::parse(&input.spec).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let zone = input.time_zone.clone().unwrap_or_else(|| "America/Sao_Paulo".into());
    zone.parse::<chrono_tz::Tz>().map_err(|_| ApiError::BadRequest(format!("`{zone}` is not an IANA time zone")))?;
    if let Some(schedule) = &input.schedule {
        schedule.parse::<cron::Schedule>().map_err(|e| ApiError::BadRequest(format!("schedule: {e}")))?;
    }
    let delivery = input.delivery.clone().unwrap_or_else(|| json!({}));
    Delivery::parse(&delivery).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((name, spec, zone, delivery))
}

const REPORT_COLUMNS: &str = "report_id, name, version, spec, schedule, time_zone, delivery, updated_at";
type ReportRow = (Uuid, String, i32, Value, Option<String>, String, Value, DateTime<Utc>);

fn report((report_id, name, version, spec, schedule, time_zone, delivery, updated_at): ReportRow) -> Report {
    Report { report_id, name, version, spec, schedule, time_zone, delivery: Delivery::redacted(&delivery), updated_at }
}

/// The organisation's report definitions.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/reports", tag = "reports", operation_id = "list_reports", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)),
    responses((status = 200, body = [Report]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list(State(state): State<AppState>, access: OrgAccess<Viewer>) -> ApiResult<Json<Vec<Report>>> {
    let rows: Vec<ReportRow> = sqlx::query_as(&format!("SELECT {REPORT_COLUMNS} FROM report_definitions WHERE org_id = $1 ORDER BY name, report_id"))
        .bind(access.org_id)
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(report).collect()))
}

/// Defines a report (analyst); the caller owns it and sees its failures.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/reports", tag = "reports", operation_id = "create_report", security(("bearer" = []), ("api_key" = [])), params(("org_id" = Uuid, Path)), request_body = ReportInput,
    responses((status = 201, body = Report), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create(State(state): State<AppState>, access: OrgAccess<Analyst>, Json(input): Json<ReportInput>) -> ApiResult<(StatusCode, Json<Report>)> {
    let (name, spec, zone, delivery) = check_input(&input)?;
    let spec = serde_json::to_value(&spec).map_err(|e| ApiError::Internal(e.to_string()))?;
    let report_id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    let row: ReportRow = sqlx::query_as(&format!(
        "INSERT INTO report_definitions (report_id, org_id, owner_id, name, spec, schedule, time_zone, delivery) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {REPORT_COLUMNS}"
    ))
    .bind(report_id)
    .bind(access.org_id)
    .bind(access.principal.user_id().ok())
    .bind(&name)
    .bind(&spec)
    .bind(&input.schedule)
    .bind(&zone)
    .bind(&delivery)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO report_definition_versions (report_id, version, name, spec) VALUES ($1, 1, $2, $3)").bind(report_id).bind(&name).bind(&spec).execute(&mut *tx).await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "report.create", target: &format!("report:{report_id}"), details: json!({"name": name}) }).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(report(row))))
}

/// Changes a definition (analyst): a new version; past runs keep naming the one they used.
#[utoipa::path(put, path = "/v1/orgs/{org_id}/reports/{report_id}", tag = "reports", operation_id = "update_report", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("report_id" = Uuid, Path)), request_body = ReportInput,
    responses((status = 200, body = Report), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn update(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>, Json(input): Json<ReportInput>) -> ApiResult<Json<Report>> {
    let report_id = path.1;
    let (name, spec, zone, delivery) = check_input(&input)?;
    let spec = serde_json::to_value(&spec).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    let row: ReportRow = sqlx::query_as(&format!(
        "UPDATE report_definitions SET name = $3, spec = $4, schedule = $5, time_zone = $6, delivery = $7, version = version + 1, updated_at = now()
         WHERE org_id = $1 AND report_id = $2 RETURNING {REPORT_COLUMNS}"
    ))
    .bind(access.org_id)
    .bind(report_id)
    .bind(&name)
    .bind(&spec)
    .bind(&input.schedule)
    .bind(&zone)
    .bind(&delivery)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("report {report_id}")))?;
    sqlx::query("INSERT INTO report_definition_versions (report_id, version, name, spec) VALUES ($1, $2, $3, $4)").bind(report_id).bind(row.2).bind(&name).bind(&spec).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Json(report(row)))
}

/// Deletes a definition and its runs' records (analyst); the exported files stay on the store.
#[utoipa::path(delete, path = "/v1/orgs/{org_id}/reports/{report_id}", tag = "reports", operation_id = "delete_report", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("report_id" = Uuid, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<StatusCode> {
    let report_id = path.1;
    let done = sqlx::query("DELETE FROM report_definitions WHERE org_id = $1 AND report_id = $2").bind(access.org_id).bind(report_id).execute(&state.db).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("report {report_id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Runs a report now (analyst). The run proceeds in the background; its status is in the
/// runs list.
#[utoipa::path(post, path = "/v1/orgs/{org_id}/reports/{report_id}/runs", tag = "reports", operation_id = "run_report", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("report_id" = Uuid, Path)),
    responses((status = 202, body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
pub async fn run_now(State(state): State<AppState>, access: OrgAccess<Analyst>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<(StatusCode, Json<Value>)> {
    let report_id = path.1;
    let lake = state.lake.clone().ok_or_else(|| ApiError::Unavailable("this server has no lake to export from".into()))?;
    let owned: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM report_definitions WHERE org_id = $1 AND report_id = $2)").bind(access.org_id).bind(report_id).fetch_one(&state.db).await?;
    if !owned {
        return Err(ApiError::not_found(format!("report {report_id}")));
    }
    let definition = definition(&state.db, report_id).await.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let db = state.db.clone();
    let smtp = state.config.report_smtp.clone();
    let requested_by = access.principal.user_id().ok();
    tokio::spawn(async move {
        // The outcome (and a failure's reason) is recorded on the run; nobody awaits it here.
        if let Err(error) = Exporter::new(lake).with_smtp(smtp).run_recorded(&db, &definition, RunTrigger::Manual, None, requested_by).await {
            tracing::warn!(report = %definition.report_id, %error, "report run failed");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({"report_id": report_id, "status": "running"}))))
}

/// The definition's runs, newest first, with signed links to the files of succeeded ones.
#[utoipa::path(get, path = "/v1/orgs/{org_id}/reports/{report_id}/runs", tag = "reports", operation_id = "report_runs", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("report_id" = Uuid, Path)),
    responses((status = 200, body = [ReportRun]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn runs(State(state): State<AppState>, access: OrgAccess<Viewer>, Path(path): Path<(Uuid, Uuid)>) -> ApiResult<Json<Vec<ReportRun>>> {
    let report_id = path.1;
    type Row = (Uuid, i32, String, String, i32, Option<String>, DateTime<Utc>, Option<DateTime<Utc>>, Option<Value>, Option<Value>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT run_id, definition_version, trigger, status, attempts, error, started_at, finished_at, manifest, delivery FROM report_runs
         WHERE org_id = $1 AND report_id = $2 ORDER BY started_at DESC, run_id DESC LIMIT 100",
    )
    .bind(access.org_id)
    .bind(report_id)
    .fetch_all(&state.db)
    .await?;
    let expires = Utc::now() + chrono::Duration::hours(1);
    let key = link_key(&state)?;
    let runs = rows
        .into_iter()
        .map(|(run_id, definition_version, trigger, status, attempts, error, started_at, finished_at, manifest, delivery)| {
            let mut names: Vec<String> = manifest
                .as_ref()
                .and_then(|m| m.get("files"))
                .and_then(Value::as_array)
                .map(|files| files.iter().filter_map(|f| f.get("path").and_then(Value::as_str)).filter_map(|p| p.rsplit('/').next()).map(str::to_owned).collect())
                .unwrap_or_default();
            if manifest.is_some() {
                names.push("manifest.json".into());
            }
            let files = names
                .into_iter()
                .map(|name| {
                    let path = format!("/v1/orgs/{}/reports/{report_id}/runs/{run_id}/files/{name}", access.org_id);
                    let url = format!("{path}?expires={}&signature={}", expires.timestamp(), sign(&key, &path, expires.timestamp()));
                    DownloadLink { name, url, expires_at: expires }
                })
                .collect();
            ReportRun { run_id, definition_version, trigger, status, attempts, error, started_at, finished_at, delivery, files }
        })
        .collect();
    Ok(Json(runs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Unix time after which the link is refused.
    pub expires: i64,
    /// HMAC-SHA256 of the path and `expires`, hex.
    pub signature: String,
}

/// Downloads a file of a run through a signed link from the runs list (viewer of the
/// organisation; a tampered, expired or foreign link is refused).
#[utoipa::path(get, path = "/v1/orgs/{org_id}/reports/{report_id}/runs/{run_id}/files/{name}", tag = "reports", operation_id = "download_report_file", security(("bearer" = []), ("api_key" = [])),
    params(("org_id" = Uuid, Path), ("report_id" = Uuid, Path), ("run_id" = Uuid, Path), ("name" = String, Path), LinkQuery),
    responses((status = 200, content_type = "application/octet-stream"), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn download(
    State(state): State<AppState>,
    access: OrgAccess<Viewer>,
    Path(path): Path<(Uuid, Uuid, Uuid, String)>,
    Query(link): Query<LinkQuery>,
) -> ApiResult<Response> {
    let (_, report_id, run_id, name) = path;
    let path = format!("/v1/orgs/{}/reports/{report_id}/runs/{run_id}/files/{name}", access.org_id);
    if !verify(&link_key(&state)?, &path, link.expires, &link.signature) {
        return Err(ApiError::Forbidden("this download link was not issued by this server or was altered".into()));
    }
    if link.expires < Utc::now().timestamp() {
        return Err(ApiError::Gone("this download link has expired; list the runs again for a fresh one".into()));
    }
    let manifest: Option<Value> = sqlx::query_scalar("SELECT manifest FROM report_runs WHERE org_id = $1 AND report_id = $2 AND run_id = $3 AND status = 'succeeded'")
        .bind(access.org_id)
        .bind(report_id)
        .bind(run_id)
        .fetch_optional(&state.db)
        .await?
        .flatten();
    let manifest = manifest.ok_or_else(|| ApiError::not_found(format!("run {run_id}")))?;
    let relative = if name == "manifest.json" {
        format!("exports/{}/{report_id}/{run_id}/manifest.json", access.org_id)
    } else {
        let files = manifest.get("files").and_then(Value::as_array).cloned().unwrap_or_default();
        files
            .iter()
            .filter_map(|f| f.get("path").and_then(Value::as_str))
            .find(|p| p.rsplit('/').next() == Some(name.as_str()))
            .map(str::to_owned)
            .ok_or_else(|| ApiError::not_found(format!("file {name}")))?
    };
    let lake = state.lake.as_ref().ok_or_else(|| ApiError::Unavailable("this server has no lake".into()))?;
    let bytes = lake.object_store().get(&lake.object_path(&relative)).await.map_err(|e| ApiError::Internal(format!("reading {relative}: {e}")))?.bytes().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    audit::append(&mut tx, Entry { org_id: Some(access.org_id), actor: &access.principal.actor(), action: "report.download", target: &format!("run:{run_id}/{name}"), details: json!({"bytes": bytes.len()}) }).await?;
    tx.commit().await?;
    let content_type = match name.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("parquet") => "application/vnd.apache.parquet",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(Body::from(bytes))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The link-signing key, derived from the token secret so a deployment has one secret to keep.
fn link_key(state: &AppState) -> ApiResult<Vec<u8>> {
    let secret = state.config.jwt_secret.as_ref().ok_or_else(|| ApiError::Internal("api.jwt_secret is not set".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(b"analisa report download links");
    Ok(mac.finalize().into_bytes().to_vec())
}

fn mac(key: &[u8], path: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(path.as_bytes());
    mac.update(b"\n");
    mac.update(expires.to_string().as_bytes());
    mac
}

fn sign(key: &[u8], path: &str, expires: i64) -> String {
    hex::encode(mac(key, path, expires).finalize().into_bytes())
}

/// Constant-time comparison of the signature (through the MAC's own verification).
fn verify(key: &[u8], path: &str, expires: i64, signature: &str) -> bool {
    hex::decode(signature).is_ok_and(|bytes| mac(key, path, expires).verify_slice(&bytes).is_ok())
}

#[cfg(test)]
mod tests {
    use super::{sign, verify};

    #[test]
    fn links_verify_only_unaltered() {
        let key = b"key";
        let signature = sign(key, "/v1/orgs/a/reports/b/runs/c/files/summary.csv", 100);
        assert!(verify(key, "/v1/orgs/a/reports/b/runs/c/files/summary.csv", 100, &signature));
        assert!(!verify(key, "/v1/orgs/a/reports/b/runs/c/files/history.csv", 100, &signature));
        assert!(!verify(key, "/v1/orgs/a/reports/b/runs/c/files/summary.csv", 101, &signature));
        assert!(!verify(b"other", "/v1/orgs/a/reports/b/runs/c/files/summary.csv", 100, &signature));
        assert!(!verify(key, "/v1/orgs/a/reports/b/runs/c/files/summary.csv", 100, "zz"));
    }
}
