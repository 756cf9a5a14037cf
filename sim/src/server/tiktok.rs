//! TikTok API for Business v1.3 (`Access-Token` header, `{code,message,request_id,data}`
//! envelope with errors inside HTTP 200) and TikTok Display API v2 (`Authorization: Bearer`,
//! `{data,error}` with string codes and HTTP statuses), with their OAuth endpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use crate::insights::{day_stats, demographics};
use crate::server::common::json as respond;
use crate::server::state::{Flavour, Grant, PendingCode, RefreshGrant, SimState, all_scopes};
use crate::world::{Account, Platform, Post};

type Params = HashMap<String, String>;

fn count(state: &SimState, server: &str, throttled: bool) {
    let c = state.count(server);
    c.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if throttled {
        c.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

// ---- API for Business --------------------------------------------------------------------

/// The Business API envelope. Errors travel inside HTTP 200, as the real API sends them.
pub fn business_envelope(state: &SimState, code: u32, message: &str, data: Value) -> Response {
    let request_id = format!("{}{}", Utc::now().format("%Y%m%d%H%M%S"), &state.nonce("request")[..18].to_uppercase());
    respond(StatusCode::OK, json!({ "code": code, "message": message, "request_id": request_id, "data": data }), vec![])
}

pub async fn business(State(state): State<Arc<SimState>>, method: Method, uri: Uri, headers: HeaderMap, Query(params): Query<Params>, body: Bytes) -> Response {
    let path = uri.path().trim_end_matches('/').to_owned() + "/";
    let fail = |code: u32, message: &str| business_envelope(&state, code, message, json!({}));
    let json_body: Value = if method == Method::POST && !body.is_empty() {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return fail(40002, &format!("Invalid JSON body: {e}")),
        }
    } else {
        Value::Null
    };
    match (method.clone(), path.as_str()) {
        (Method::GET, "/portal/auth/") => return authorize(&state, Flavour::TiktokBusiness, &params, "client_key"),
        (Method::POST, "/open_api/v1.3/tt_user/oauth2/token/") => return business_token(&state, &json_body, false),
        (Method::POST, "/open_api/v1.3/tt_user/oauth2/refresh_token/") => return business_token(&state, &json_body, true),
        (Method::POST, "/open_api/v1.3/tt_user/oauth2/revoke/") => {
            let app = &state.apps[&Flavour::TiktokBusiness];
            if json_body["client_id"] != json!(app.client_id) || json_body["client_secret"] != json!(app.client_secret) {
                return fail(40001, "Invalid client credentials");
            }
            let revoked = json_body["access_token"].as_str().is_some_and(|t| state.revoke(t));
            return if revoked { business_envelope(&state, 0, "OK", json!({})) } else { fail(40105, "Access token is incorrect or has been revoked.") };
        }
        _ => {}
    }
    let token = match headers.get("access-token").and_then(|h| h.to_str().ok()) {
        Some(t) => t.to_owned(),
        None => {
            count(&state, "tiktok_business", false);
            return fail(40105, "Access token is incorrect or has been revoked.");
        }
    };
    // "Bearer " is not part of this API's header: the real one rejects it the same way.
    let grant = match state.grant(&token).filter(|g| g.flavour == Flavour::TiktokBusiness) {
        Some(g) if g.expires_at.is_none_or(|t| t > Utc::now()) => g,
        _ => {
            count(&state, "tiktok_business", false);
            return fail(40105, "Access token is incorrect or has been revoked.");
        }
    };
    let usage = state.limits.take("tiktok_business", state.limits.budgets.tiktok_business_per_second, StdDuration::from_secs(1));
    count(&state, "tiktok_business", !usage.allowed);
    if !usage.allowed {
        return fail(40100, "App reaches the QPS limit.");
    }
    let account = state.world.account(grant.account);
    let business_id = params.get("business_id").cloned().unwrap_or_default();
    if business_id != account.id {
        return fail(40001, "No permission to operate the account. Please check the business_id and the authorization.");
    }
    let fields = match parse_json_list(params.get("fields")) {
        Ok(f) => f,
        Err(e) => return fail(40002, &e),
    };
    match (method, path.as_str()) {
        (Method::GET, "/open_api/v1.3/business/get/") => business_get(&state, &account, &params, fields),
        (Method::GET, "/open_api/v1.3/business/video/list/") => business_videos(&state, &account, &params, fields),
        (Method::GET, "/open_api/v1.3/business/comment/list/") => business_comments(&state, &account, &params),
        _ => fail(40007, "The requested URL doesn't exist."),
    }
}

fn parse_json_list(raw: Option<&String>) -> Result<Option<Vec<String>>, String> {
    raw.map(|r| serde_json::from_str::<Vec<String>>(r).map_err(|_| format!("fields: `{r}` is not a JSON array of strings"))).transpose()
}

fn business_token(state: &SimState, body: &Value, refresh: bool) -> Response {
    let app = &state.apps[&Flavour::TiktokBusiness];
    let fail = |code: u32, message: &str| business_envelope(state, code, message, json!({}));
    if body["client_id"] != json!(app.client_id) || body["client_secret"] != json!(app.client_secret) {
        return fail(40001, "Invalid client credentials");
    }
    let (account, scopes) = if refresh {
        let Some(old) = body["refresh_token"].as_str() else { return fail(40002, "refresh_token is required") };
        match take_refresh(state, old, Flavour::TiktokBusiness) {
            Some(r) => (r.account, r.scopes),
            None => return fail(40002, "refresh_token is invalid or expired"),
        }
    } else {
        let Some(code) = body["auth_code"].as_str() else { return fail(40002, "auth_code is required") };
        match state.codes.lock().expect("codes").remove(code).filter(|p| p.flavour == Flavour::TiktokBusiness) {
            Some(p) if body["redirect_uri"].as_str() == Some(p.redirect_uri.as_str()) => (p.account, p.scopes),
            _ => return fail(40002, "auth_code invalid"),
        }
    };
    let (token, refresh_token, expires_in) = issue_pair(state, Flavour::TiktokBusiness, account, scopes.clone());
    let open_id = state.world.account(account).id;
    business_envelope(state, 0, "OK", json!({
        "access_token": token, "expires_in": expires_in, "open_id": open_id, "refresh_token": refresh_token,
        "refresh_token_expires_in": refresh_lifetime(Flavour::TiktokBusiness).num_seconds(), "scope": scopes.join(","), "token_type": "Bearer",
    }))
}

fn business_get(state: &SimState, account: &Account, params: &Params, fields: Option<Vec<String>>) -> Response {
    let fields = fields.unwrap_or_else(|| vec!["display_name".into(), "profile_image".into()]);
    let today = state.today();
    let date = |key: &str| params.get(key).map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| format!("{key} must be YYYY-MM-DD"))).transpose();
    let (start, end) = match (date("start_date"), date("end_date")) {
        (Ok(s), Ok(e)) => (s.unwrap_or(today - Duration::days(6)), e.unwrap_or(today)),
        (Err(e), _) | (_, Err(e)) => return business_envelope(state, 40002, &e, json!({})),
    };
    if start > end || (end - start).num_days() >= 30 {
        return business_envelope(state, 40002, "max time span is 30 days and start_date must not be after end_date", json!({}));
    }
    let timeline = state.timeline(account.index);
    let day = state.day_now(account.index);
    let mut data = Map::new();
    for field in &fields {
        let value = match field.as_str() {
            "is_business_account" => json!(account.account_type == crate::world::AccountType::Business),
            "username" => json!(account.handle),
            "display_name" => json!(account.name),
            "profile_image" => json!(format!("https://p16-sign-va.tiktokcdn.example/{}.jpeg", account.id)),
            "bio_description" => json!(account.bio),
            "is_verified" => json!(account.verified),
            "followers_count" => json!(day.followers),
            "following_count" => json!(day.follows),
            "videos_count" => json!(day.media_count),
            "total_likes" => json!(timeline.posts.iter().filter(|p| p.published_at < state.now()).map(|p| p.metrics.likes).sum::<i64>()),
            "audience_countries" => json!(demographics(account, day.followers, "country").unwrap_or_default().iter().map(|(c, n)| json!({ "country": c, "percentage": (*n as f64 / day.followers.max(1) as f64 * 1e4).round() / 1e4 })).collect::<Vec<_>>()),
            "audience_genders" => json!(demographics(account, day.followers, "gender").unwrap_or_default().iter().map(|(g, n)| json!({ "gender": match g.as_str() { "F" => "Female", "M" => "Male", _ => "Other" }, "percentage": (*n as f64 / day.followers.max(1) as f64 * 1e4).round() / 1e4 })).collect::<Vec<_>>()),
            "metrics" => json!(start.iter_days().take_while(|d| *d <= end).filter_map(|d| {
                let snapshot = timeline.days.iter().find(|x| x.date == d)?;
                let s = day_stats(&timeline, d);
                Some(json!({ "date": d.to_string(), "followers_count": snapshot.followers, "profile_views": s.profile_views, "video_views": s.video_views, "likes": s.likes, "comments": s.comments, "shares": s.shares,
                             "audience_activity": (0..24).map(|h| json!({ "hour": h.to_string(), "count": (snapshot.followers as f64 * 0.01 * (1.0 + ((h as f64 - 20.0) / 24.0 * std::f64::consts::TAU).cos())) as i64 })).collect::<Vec<_>>() }))
            }).collect::<Vec<_>>()),
            other => return business_envelope(state, 40002, &format!("Invalid field: {other}"), json!({})),
        };
        data.insert(field.clone(), value);
    }
    business_envelope(state, 0, "OK", Value::Object(data))
}

fn business_videos(state: &SimState, account: &Account, params: &Params, fields: Option<Vec<String>>) -> Response {
    let fields = fields.unwrap_or_else(|| vec!["item_id".into()]);
    let max_count: usize = match params.get("max_count").map(|m| m.parse::<usize>()) {
        None => 20,
        Some(Ok(n)) if (1..=20).contains(&n) => n,
        _ => return business_envelope(state, 40002, "max_count must be between 1 and 20", json!({})),
    };
    let filters: Value = match params.get("filters").map(|f| serde_json::from_str::<Value>(f)) {
        None => Value::Null,
        Some(Ok(v)) => v,
        Some(Err(_)) => return business_envelope(state, 40002, "filters must be a JSON object", json!({})),
    };
    let mut videos = state.visible_posts(account.index);
    if let Some(ids) = filters.get("video_ids").and_then(Value::as_array) {
        videos.retain(|v| ids.iter().any(|id| id.as_str() == Some(v.id.as_str())));
    }
    // The cursor is the creation time (ms) of the last video served: newer first, then older.
    let cursor: Option<i64> = params.get("cursor").and_then(|c| c.parse().ok());
    let page: Vec<&Post> = videos.iter().filter(|v| cursor.is_none_or(|c| v.published_at.timestamp_millis() < c)).take(max_count).collect();
    let remaining = videos.iter().filter(|v| cursor.is_none_or(|c| v.published_at.timestamp_millis() < c)).count();
    let items: Result<Vec<Value>, String> = page.iter().map(|v| business_video(state, account, v, &fields)).collect();
    let items = match items {
        Ok(i) => i,
        Err(e) => return business_envelope(state, 40002, &e, json!({})),
    };
    let next_cursor = page.last().map_or(cursor.unwrap_or(0), |v| v.published_at.timestamp_millis());
    business_envelope(state, 0, "OK", json!({ "videos": items, "cursor": next_cursor, "has_more": remaining > page.len() }))
}

fn business_video(state: &SimState, account: &Account, video: &Post, fields: &[String]) -> Result<Value, String> {
    let m = video.served_at(state.now(), Platform::Tiktok);
    let mut out = Map::new();
    for field in fields {
        let value = match field.as_str() {
            "item_id" => json!(video.id),
            "create_time" => json!(video.published_at.timestamp()),
            "thumbnail_url" => json!(format!("https://p16-sign.tiktokcdn.example/{}.jpeg", video.id)),
            "share_url" => json!(format!("https://www.tiktok.com/@user/video/{}", video.id)),
            "embed_url" => json!(format!("https://www.tiktok.com/embed/v2/{}", video.id)),
            "caption" => json!(video.caption),
            "video_views" => json!(m.views),
            "video_duration" => json!(video.duration_secs as f64),
            "likes" => json!(m.likes),
            "comments" => json!(state.comments_count(account, video, m.comments)),
            "shares" => json!(m.shares),
            "reach" => json!(m.reach),
            "full_video_watched_rate" => json!(0.25),
            "total_time_watched" => json!(m.views * video.duration_secs as i64 / 2),
            "average_time_watched" => json!(video.duration_secs as f64 / 2.0),
            "impression_sources" => json!([{ "impression_source": "For You", "percentage": 0.72 }, { "impression_source": "Follow", "percentage": 0.18 }, { "impression_source": "Personal Profile", "percentage": 0.1 }]),
            "audience_countries" => json!([]),
            other => return Err(format!("Invalid field: {other}")),
        };
        out.insert(field.clone(), value);
    }
    Ok(Value::Object(out))
}

fn business_comments(state: &SimState, account: &Account, params: &Params) -> Response {
    let Some(video_id) = params.get("video_id") else { return business_envelope(state, 40002, "video_id is required", json!({})) };
    let Some((_, video)) = state.find_post(Platform::Tiktok, video_id).filter(|(a, _)| a.index == account.index) else {
        return business_envelope(state, 40007, "Video not found", json!({}));
    };
    let max_count: usize = params.get("max_count").and_then(|m| m.parse().ok()).unwrap_or(20).clamp(1, 30);
    let start: usize = params.get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let comments: Vec<_> = state.world.comments(account, &video).into_iter().filter(|c| c.published_at < state.now()).collect();
    let page: Vec<Value> = comments
        .iter()
        .skip(start)
        .take(max_count)
        .map(|c| json!({ "comment_id": c.id, "video_id": video.id, "user_id": c.commenter_id, "unique_identifier": c.username, "create_time": c.published_at.timestamp(), "text": c.text, "likes": c.like_count, "replies": 0, "parent_comment_id": c.parent_id.clone().unwrap_or_else(|| video.id.clone()), "status": "PUBLIC" }))
        .collect();
    let end = start + page.len();
    business_envelope(state, 0, "OK", json!({ "comments": page, "cursor": end, "has_more": end < comments.len() }))
}

// ---- Display API v2 ----------------------------------------------------------------------

fn display_error(status: StatusCode, code: &str, message: &str, extra: Vec<(&'static str, String)>) -> Response {
    respond(status, json!({ "data": {}, "error": { "code": code, "message": message, "log_id": format!("{}", Utc::now().format("%Y%m%d%H%M%S%6f")) } }), extra)
}

fn display_ok(data: Value) -> Response {
    respond(StatusCode::OK, json!({ "data": data, "error": { "code": "ok", "message": "", "log_id": format!("{}", Utc::now().format("%Y%m%d%H%M%S%6f")) } }), vec![])
}

/// The flat OAuth error of `/v2/oauth/token/`.
fn oauth_error(error: &str, description: &str) -> Response {
    respond(StatusCode::BAD_REQUEST, json!({ "error": error, "error_description": description, "log_id": format!("{}", Utc::now().format("%Y%m%d%H%M%S%6f")) }), vec![])
}

pub async fn display(State(state): State<Arc<SimState>>, method: Method, uri: Uri, headers: HeaderMap, Query(params): Query<Params>, body: Bytes) -> Response {
    let path = uri.path().trim_end_matches('/').to_owned() + "/";
    match (method.clone(), path.as_str()) {
        (Method::GET, "/v2/auth/authorize/") => return authorize(&state, Flavour::TiktokDisplay, &params, "client_key"),
        (Method::POST, "/v2/oauth/token/") => return display_token(&state, &body),
        (Method::POST, "/v2/oauth/revoke/") => {
            let form: Params = url::form_urlencoded::parse(&body).into_owned().collect();
            let app = &state.apps[&Flavour::TiktokDisplay];
            if form.get("client_key") != Some(&app.client_id) || form.get("client_secret") != Some(&app.client_secret) {
                return oauth_error("invalid_client", "Client key or secret is incorrect.");
            }
            form.get("token").map(|t| state.revoke(t));
            return respond(StatusCode::OK, json!({}), vec![]);
        }
        _ => {}
    }
    let token = headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer ")).map(str::to_owned);
    let grant = match token.and_then(|t| state.grant(&t)).filter(|g| g.flavour == Flavour::TiktokDisplay) {
        Some(g) if g.expires_at.is_none_or(|t| t > Utc::now()) => g,
        _ => {
            count(&state, "tiktok", false);
            return display_error(StatusCode::UNAUTHORIZED, "access_token_invalid", "Access token is invalid, please refresh token and retry", vec![]);
        }
    };
    let usage = state.limits.take(&format!("tiktok_display:{path}"), state.limits.budgets.tiktok_display_per_minute, StdDuration::from_secs(60));
    count(&state, "tiktok", !usage.allowed);
    if !usage.allowed {
        return display_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Your request has exceeded the rate limit.", vec![("retry-after", usage.retry_after.as_secs().max(1).to_string())]);
    }
    let account = state.world.account(grant.account);
    let fields: Vec<String> = params.get("fields").map(|f| f.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    let json_body: Value = if body.is_empty() { json!({}) } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return display_error(StatusCode::BAD_REQUEST, "invalid_params", "The request body is not valid JSON.", vec![]),
        }
    };
    match (method, path.as_str()) {
        (Method::GET, "/v2/user/info/") => user_info(&state, &account, &grant, &fields),
        (Method::POST, "/v2/video/list/") => video_list(&state, &account, &grant, &fields, &json_body),
        (Method::POST, "/v2/video/query/") => video_query(&state, &account, &grant, &fields, &json_body),
        _ => display_error(StatusCode::NOT_FOUND, "invalid_params", "The requested endpoint does not exist.", vec![]),
    }
}

fn user_info(state: &SimState, account: &Account, grant: &Grant, fields: &[String]) -> Response {
    if fields.is_empty() {
        return display_error(StatusCode::BAD_REQUEST, "invalid_params", "fields is required", vec![]);
    }
    let timeline = state.timeline(account.index);
    let day = state.day_now(account.index);
    let mut user = Map::new();
    for field in fields {
        let (scope, value) = match field.as_str() {
            "open_id" => ("user.info.basic", json!(account.id)),
            "union_id" => ("user.info.basic", json!(format!("u{}", account.id))),
            "avatar_url" | "avatar_url_100" | "avatar_large_url" => ("user.info.basic", json!(format!("https://p16-sign-va.tiktokcdn.example/{}/{field}.jpeg", account.id))),
            "display_name" => ("user.info.basic", json!(account.name)),
            "bio_description" => ("user.info.profile", json!(account.bio)),
            "profile_deep_link" => ("user.info.profile", json!(format!("https://vm.tiktok.com/{}", account.handle))),
            "is_verified" => ("user.info.profile", json!(account.verified)),
            "username" => ("user.info.profile", json!(account.handle)),
            "follower_count" => ("user.info.stats", json!(day.followers)),
            "following_count" => ("user.info.stats", json!(day.follows)),
            "likes_count" => ("user.info.stats", json!(timeline.posts.iter().filter(|p| p.published_at < state.now()).map(|p| p.metrics.likes).sum::<i64>())),
            "video_count" => ("user.info.stats", json!(day.media_count)),
            other => return display_error(StatusCode::BAD_REQUEST, "invalid_params", &format!("Invalid field: {other}"), vec![]),
        };
        if !grant.scopes.iter().any(|s| s == scope) {
            return display_error(StatusCode::UNAUTHORIZED, "scope_not_authorized", &format!("The user did not authorize the scope required for field {field}: {scope}"), vec![]);
        }
        user.insert(field.clone(), value);
    }
    display_ok(json!({ "user": user }))
}

fn display_video(state: &SimState, account: &Account, video: &Post, fields: &[String]) -> Result<Value, Response> {
    let m = video.served_at(state.now(), Platform::Tiktok);
    let mut out = Map::new();
    for field in fields {
        let value = match field.as_str() {
            "id" => json!(video.id),
            "create_time" => json!(video.published_at.timestamp()),
            "cover_image_url" => json!(format!("https://p16-sign.tiktokcdn.example/{}.jpeg?x-expires={}", video.id, Utc::now().timestamp() + 21_600)),
            "share_url" => json!(format!("https://www.tiktok.com/@{}/video/{}", account.handle, video.id)),
            "video_description" => json!(video.caption),
            "duration" => json!(video.duration_secs),
            "height" => json!(1920),
            "width" => json!(1080),
            "title" => json!(video.caption.split(" #").next().unwrap_or("")),
            "embed_html" => json!(format!("<blockquote class=\"tiktok-embed\" cite=\"https://www.tiktok.com/@{}/video/{}\"></blockquote>", account.handle, video.id)),
            "embed_link" => json!(format!("https://www.tiktok.com/player/v1/{}", video.id)),
            "like_count" => json!(m.likes),
            "comment_count" => json!(state.comments_count(account, video, m.comments)),
            "share_count" => json!(m.shares),
            "view_count" => json!(m.views),
            other => return Err(display_error(StatusCode::BAD_REQUEST, "invalid_params", &format!("Invalid field: {other}"), vec![])),
        };
        out.insert(field.clone(), value);
    }
    Ok(Value::Object(out))
}

fn video_list(state: &SimState, account: &Account, grant: &Grant, fields: &[String], body: &Value) -> Response {
    if !grant.scopes.iter().any(|s| s == "video.list") {
        return display_error(StatusCode::UNAUTHORIZED, "scope_not_authorized", "The user did not authorize the scope required: video.list", vec![]);
    }
    let max_count = match body.get("max_count") {
        None => 10,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=20).contains(&n) => n as usize,
            _ => return display_error(StatusCode::BAD_REQUEST, "invalid_params", "max_count must be between 1 and 20", vec![]),
        },
    };
    let cursor = body.get("cursor").and_then(Value::as_i64);
    let videos: Vec<Post> = state.visible_posts(account.index).into_iter().filter(|v| cursor.is_none_or(|c| v.published_at.timestamp_millis() < c)).collect();
    let page = &videos[..videos.len().min(max_count)];
    let items: Result<Vec<Value>, Response> = page.iter().map(|v| display_video(state, account, v, fields)).collect();
    let items = match items {
        Ok(i) => i,
        Err(response) => return response,
    };
    let next = page.last().map_or(cursor.unwrap_or(0), |v| v.published_at.timestamp_millis());
    display_ok(json!({ "videos": items, "cursor": next, "has_more": videos.len() > page.len() }))
}

fn video_query(state: &SimState, account: &Account, grant: &Grant, fields: &[String], body: &Value) -> Response {
    if !grant.scopes.iter().any(|s| s == "video.list") {
        return display_error(StatusCode::UNAUTHORIZED, "scope_not_authorized", "The user did not authorize the scope required: video.list", vec![]);
    }
    let Some(ids) = body.pointer("/filters/video_ids").and_then(Value::as_array) else {
        return display_error(StatusCode::BAD_REQUEST, "invalid_params", "filters.video_ids is required", vec![]);
    };
    if ids.len() > 20 {
        return display_error(StatusCode::BAD_REQUEST, "invalid_params", "at most 20 video_ids", vec![]);
    }
    let videos = state.visible_posts(account.index);
    let items: Result<Vec<Value>, Response> = videos.iter().filter(|v| ids.iter().any(|id| id.as_str() == Some(&v.id))).map(|v| display_video(state, account, v, fields)).collect();
    match items {
        Ok(items) => display_ok(json!({ "videos": items })),
        Err(response) => response,
    }
}

fn display_token(state: &SimState, body: &Bytes) -> Response {
    let form: Params = url::form_urlencoded::parse(body).into_owned().collect();
    let app = &state.apps[&Flavour::TiktokDisplay];
    if form.get("client_key") != Some(&app.client_id) || form.get("client_secret") != Some(&app.client_secret) {
        return oauth_error("invalid_client", "Client key or secret is incorrect.");
    }
    let (account, scopes) = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = form.get("code") else { return oauth_error("invalid_request", "code is required") };
            let Some(pending) = state.codes.lock().expect("codes").remove(code).filter(|p| p.flavour == Flavour::TiktokDisplay) else {
                return oauth_error("invalid_grant", "Authorization code is expired or has been used.");
            };
            if form.get("redirect_uri") != Some(&pending.redirect_uri) {
                return oauth_error("invalid_grant", "redirect_uri does not match the authorization request.");
            }
            if let Some(challenge) = &pending.code_challenge {
                let Some(verifier) = form.get("code_verifier") else { return oauth_error("invalid_grant", "code_verifier is required") };
                if &pkce_challenge(verifier) != challenge {
                    return oauth_error("invalid_grant", "code_verifier does not match the code_challenge.");
                }
            }
            (pending.account, pending.scopes)
        }
        Some("refresh_token") => {
            let Some(old) = form.get("refresh_token") else { return oauth_error("invalid_request", "refresh_token is required") };
            match take_refresh(state, old, Flavour::TiktokDisplay) {
                Some(r) => (r.account, r.scopes),
                None => return oauth_error("invalid_grant", "Refresh token is invalid or expired."),
            }
        }
        _ => return oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token"),
    };
    let (token, refresh_token, expires_in) = issue_pair(state, Flavour::TiktokDisplay, account, scopes.clone());
    respond(StatusCode::OK, json!({
        "open_id": state.world.account(account).id, "scope": scopes.join(","), "access_token": token, "expires_in": expires_in,
        "refresh_token": refresh_token, "refresh_expires_in": refresh_lifetime(Flavour::TiktokDisplay).num_seconds(), "token_type": "Bearer",
    }), vec![])
}

// ---- shared OAuth helpers ----------------------------------------------------------------

/// S256 code challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Consent, approved at once: redirect back with a code. `sim_account` picks the account.
pub fn authorize(state: &SimState, flavour: Flavour, params: &Params, client_param: &str) -> Response {
    let app = &state.apps[&flavour];
    let bad = |message: &str| (StatusCode::BAD_REQUEST, message.to_owned()).into_response();
    if params.get(client_param) != Some(&app.client_id) {
        return bad("unknown client");
    }
    let Some(redirect) = params.get("redirect_uri") else { return bad("redirect_uri is required") };
    let platform_ok = |a: &Account| flavour.serves(a.platform) && (flavour == Flavour::Google || a.platform != Platform::Instagram || flavour != Flavour::TiktokDisplay);
    let account = match params.get("sim_account") {
        Some(id) => [Platform::Tiktok, Platform::Instagram, Platform::Facebook].into_iter().find_map(|p| state.account_by_id(p, id)).filter(platform_ok),
        None => state.world.accounts().find(|a| a.connected && platform_ok(a)),
    };
    let Some(account) = account else { return bad("no such account in the simulated world") };
    let challenge = match (params.get("code_challenge"), params.get("code_challenge_method").map(String::as_str)) {
        (Some(c), Some("S256") | None) => Some(c.clone()),
        (Some(_), Some(_)) => return bad("code_challenge_method must be S256"),
        (None, _) => None,
    };
    let scopes: Vec<String> = params.get("scope").map(|s| s.split([',', ' ']).filter(|x| !x.is_empty()).map(str::to_owned).collect()).unwrap_or_else(|| all_scopes(flavour));
    let code = state.nonce("code");
    state.codes.lock().expect("codes").insert(code.clone(), PendingCode { flavour, account: account.index, redirect_uri: redirect.clone(), scopes, code_challenge: challenge, issued: Utc::now() });
    let Ok(mut target) = url::Url::parse(redirect) else { return bad("redirect_uri is not a URL") };
    target.query_pairs_mut().append_pair("code", &code);
    if flavour == Flavour::TiktokBusiness {
        target.query_pairs_mut().append_pair("auth_code", &code);
    }
    if let Some(s) = params.get("state") {
        target.query_pairs_mut().append_pair("state", s);
    }
    Redirect::to(target.as_str()).into_response()
}

/// A new access token and refresh token for an account.
pub fn issue_pair(state: &SimState, flavour: Flavour, account: u32, scopes: Vec<String>) -> (String, String, i64) {
    let ttl = state.tiktok_access_ttl;
    let token = state.issue(Grant { flavour, account, scopes: scopes.clone(), expires_at: Some(Utc::now() + ttl), long_lived: false });
    let refresh = format!("rft.{}", state.nonce("refresh"));
    state.refresh.lock().expect("refresh").insert(refresh.clone(), RefreshGrant { flavour, account, scopes, expires_at: Utc::now() + refresh_lifetime(flavour) });
    (token, refresh, ttl.num_seconds())
}

/// Refresh-token lifetimes as each API advertises them: 365 days for the API for Business,
/// 180 days for Login Kit (the 2026 revision of its docs).
pub fn refresh_lifetime(flavour: Flavour) -> Duration {
    if flavour == Flavour::TiktokBusiness { Duration::days(365) } else { Duration::days(180) }
}

/// Uses a refresh token; with rotation on, it stops working once used.
pub fn take_refresh(state: &SimState, token: &str, flavour: Flavour) -> Option<RefreshGrant> {
    let mut refresh = state.refresh.lock().expect("refresh");
    let grant = refresh.get(token).filter(|r| r.flavour == flavour && r.expires_at > Utc::now()).cloned()?;
    if state.rotate_refresh_tokens {
        refresh.remove(token);
    }
    Some(grant)
}

/// Refresh tokens handed out at start for the pre-issued TikTok tokens.
pub fn preissue_refresh(state: &SimState, flavour: Flavour, account: u32) -> String {
    let refresh = format!("rft.{}", crate::server::state::preissued_token(state.world.seed, flavour, account).split_at(8).1);
    state.refresh.lock().expect("refresh").entry(refresh.clone()).or_insert(RefreshGrant { flavour, account, scopes: all_scopes(flavour), expires_at: Utc::now() + refresh_lifetime(flavour) });
    refresh
}
