//! GA4 Data API `runReport`: string values, `rowCount` independent of `limit`, property quota,
//! and Google's OAuth endpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::insights::site_sessions;
use crate::server::common::json as respond;
use crate::server::state::{Flavour, SimState};
use crate::server::tiktok::{authorize, issue_pair, take_refresh};

fn error(status: StatusCode, code_name: &str, message: &str) -> Response {
    respond(status, json!({ "error": { "code": status.as_u16(), "message": message, "status": code_name } }), vec![])
}

/// Property id of a connected account's site.
pub fn property_id(account_index: u32) -> String {
    format!("{}", 300_000_000 + account_index as u64)
}

pub async fn authorize_route(State(state): State<Arc<SimState>>, Query(params): Query<HashMap<String, String>>) -> Response {
    authorize(&state, Flavour::Google, &params, "client_id")
}

pub async fn token(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let app = &state.apps[&Flavour::Google];
    let fail = |e: &str, d: &str| respond(StatusCode::BAD_REQUEST, json!({ "error": e, "error_description": d }), vec![]);
    if form.get("client_id") != Some(&app.client_id) || form.get("client_secret") != Some(&app.client_secret) {
        return fail("invalid_client", "The OAuth client was not found.");
    }
    let (account, scopes) = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let pending = form.get("code").and_then(|c| state.codes.lock().expect("codes").remove(c)).filter(|p| p.flavour == Flavour::Google);
            match pending {
                Some(p) if form.get("redirect_uri") == Some(&p.redirect_uri) => (p.account, p.scopes),
                _ => return fail("invalid_grant", "Bad Request"),
            }
        }
        Some("refresh_token") => match form.get("refresh_token").and_then(|r| take_refresh(&state, r, Flavour::Google)) {
            Some(r) => (r.account, r.scopes),
            None => return fail("invalid_grant", "Token has been expired or revoked."),
        },
        _ => return fail("unsupported_grant_type", "Invalid grant_type"),
    };
    let (access, refresh, expires_in) = issue_pair(&state, Flavour::Google, account, scopes.clone());
    respond(StatusCode::OK, json!({ "access_token": access, "expires_in": expires_in, "refresh_token": refresh, "scope": scopes.join(" "), "token_type": "Bearer" }), vec![])
}

/// `POST /v1beta/properties/{id}:runReport`.
pub async fn run_report(State(state): State<Arc<SimState>>, Path(property): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let counters = state.count("ga4");
    counters.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let Some(id) = property.strip_suffix(":runReport") else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "Method not found.");
    };
    let token = headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer "));
    let Some(grant) = token.and_then(|t| state.grant(t)).filter(|g| g.flavour == Flavour::Google && g.expires_at.is_none_or(|t| t > Utc::now())) else {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
    };
    let account = state.world.account(grant.account);
    if !account.connected || property_id(account.index) != id {
        return error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", &format!("User does not have sufficient permissions for this property: properties/{id}."));
    }
    let usage = state.limits.take(&format!("ga4:{id}"), state.limits.budgets.ga4_per_hour, StdDuration::from_secs(3_600));
    if !usage.allowed {
        counters.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return error(StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED", "Exhausted property tokens per hour for a property.");
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &format!("Invalid JSON payload received. {e}")),
    };
    match report(&state, grant.account, &request) {
        Ok(mut body) => {
            if request["returnPropertyQuota"] == json!(true) {
                let used = usage.percent * state.limits.budgets.ga4_per_hour / 100 * 10;
                body["propertyQuota"] = json!({
                    "tokensPerDay": { "consumed": 10, "remaining": 200_000 - used.min(200_000) },
                    "tokensPerHour": { "consumed": 10, "remaining": (state.limits.budgets.ga4_per_hour * 10).saturating_sub(used) },
                    "concurrentRequests": { "consumed": 0, "remaining": 10 },
                    "serverErrorsPerProjectPerHour": { "consumed": 0, "remaining": 10 },
                    "potentiallyThresholdedRequestsPerHour": { "consumed": 0, "remaining": 120 },
                });
            }
            respond(StatusCode::OK, body, vec![])
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &message),
    }
}

fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let days_ago = |n: i64| Duration::try_days(n).and_then(|d| today.checked_sub_signed(d)).ok_or_else(|| format!("Invalid date: {text}"));
    let date = match text {
        "today" => today,
        "yesterday" => days_ago(1)?,
        t if t.ends_with("daysAgo") => days_ago(t.trim_end_matches("daysAgo").parse::<i64>().map_err(|_| format!("Invalid date: {t}"))?)?,
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| format!("Invalid date: {t}. Use YYYY-MM-DD, today, yesterday or NdaysAgo."))?,
    };
    // GA4 has no data before this day and refuses to look.
    let first = NaiveDate::from_ymd_opt(2015, 8, 14).expect("valid date");
    if date < first {
        return Err(format!("Date {date} is before 2015-08-14, the earliest date GA4 reports on."));
    }
    Ok(date)
}

fn report(state: &SimState, account: u32, request: &Value) -> Result<Value, String> {
    const DIMENSIONS: [&str; 4] = ["date", "sessionSource", "sessionMedium", "sessionSourceMedium"];
    const METRICS: [&str; 4] = ["sessions", "activeUsers", "totalUsers", "newUsers"];
    let names = |key: &str| -> Vec<String> { request[key].as_array().map(|a| a.iter().filter_map(|d| d["name"].as_str().map(str::to_owned)).collect()).unwrap_or_default() };
    let (dimensions, metrics) = (names("dimensions"), names("metrics"));
    if metrics.is_empty() {
        return Err("At least one metric is required.".into());
    }
    if dimensions.len() > 9 || metrics.len() > 10 {
        return Err("Requests are limited to 9 dimensions and 10 metrics.".into());
    }
    for d in &dimensions {
        if !DIMENSIONS.contains(&d.as_str()) {
            return Err(format!("Field {d} is not a valid dimension."));
        }
    }
    for m in &metrics {
        if !METRICS.contains(&m.as_str()) {
            return Err(format!("Field {m} is not a valid metric."));
        }
    }
    let today = state.today();
    let range = request["dateRanges"].get(0).ok_or("dateRanges is required.")?;
    let start = parse_date(range["startDate"].as_str().ok_or("dateRanges[0].startDate is required.")?, today)?;
    let end = parse_date(range["endDate"].as_str().unwrap_or("today"), today)?.min(today);
    let filter = &request["dimensionFilter"]["filter"];
    let timeline = state.timeline(account);
    let mut rows: Vec<(Vec<String>, [i64; 2])> = Vec::new();
    let mut row_of: HashMap<Vec<String>, usize> = HashMap::new();
    for date in start.iter_days().take_while(|d| *d <= end) {
        for (source, medium, sessions, users) in site_sessions(&timeline, date) {
            let dims: Vec<String> = dimensions
                .iter()
                .map(|d| match d.as_str() {
                    "date" => date.format("%Y%m%d").to_string(),
                    "sessionSource" => source.to_owned(),
                    "sessionMedium" => medium.to_owned(),
                    _ => format!("{source} / {medium}"),
                })
                .collect();
            if let Some(field) = filter["fieldName"].as_str() {
                let value = match field {
                    "sessionSource" => source.to_owned(),
                    "sessionMedium" => medium.to_owned(),
                    other => return Err(format!("Filtering on {other} is not supported.")),
                };
                let wanted = filter["stringFilter"]["value"].as_str().unwrap_or("");
                let keep = match filter["stringFilter"]["matchType"].as_str().unwrap_or("EXACT") {
                    "CONTAINS" => value.contains(wanted),
                    "BEGINS_WITH" => value.starts_with(wanted),
                    _ => value == wanted,
                };
                if !keep {
                    continue;
                }
            }
            match row_of.get(&dims) {
                Some(&i) => {
                    rows[i].1[0] += sessions;
                    rows[i].1[1] += users;
                }
                None => {
                    row_of.insert(dims.clone(), rows.len());
                    rows.push((dims, [sessions, users]));
                }
            }
        }
    }
    let row_count = rows.len();
    let number = |v: &Value| v.as_str().and_then(|s| s.parse::<usize>().ok()).or_else(|| v.as_u64().map(|n| n as usize));
    let offset = number(&request["offset"]).unwrap_or(0);
    let limit = number(&request["limit"]).unwrap_or(10_000).min(250_000);
    let out_rows: Vec<Value> = rows
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(dims, [sessions, users])| {
            json!({
                "dimensionValues": dims.iter().map(|d| json!({ "value": d })).collect::<Vec<_>>(),
                "metricValues": metrics.iter().map(|m| json!({ "value": match m.as_str() { "sessions" => sessions.to_string(), "newUsers" => (users / 3).to_string(), _ => users.to_string() } })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut body = json!({
        "dimensionHeaders": dimensions.iter().map(|d| json!({ "name": d })).collect::<Vec<_>>(),
        "metricHeaders": metrics.iter().map(|m| json!({ "name": m, "type": "TYPE_INTEGER" })).collect::<Vec<_>>(),
        "rowCount": row_count,
        "metadata": { "currencyCode": "USD", "timeZone": "America/Sao_Paulo" },
        "kind": "analyticsData#runReport",
    });
    if !out_rows.is_empty() {
        body["rows"] = json!(out_rows);
    }
    Ok(body)
}
