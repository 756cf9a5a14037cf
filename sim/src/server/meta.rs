//! The Graph API as Instagram (both logins) and Facebook Pages speak it: nodes and edges with
//! `fields=` selection, cursor and time-based paging, insights with current and retired metric
//! names, the error envelope and codes, usage headers, OAuth and content publishing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value, json};

use crate::insights::{day_stats, demographics};
use crate::server::common::{cursor, json as respond, meta_time, origin, parse_cursor, with_params};
use crate::server::fields::{FieldSel, parse as parse_fields, to_text};
use crate::server::state::{Container, Flavour, Grant, PendingCode, SimState, all_scopes};
use crate::world::{Account, AccountType, Comment, MediaType, Platform, Post};

/// Which host this router plays.
#[derive(Clone)]
pub struct MetaHost {
    pub state: Arc<SimState>,
    pub flavour: Flavour,
}

impl MetaHost {
    fn server(&self) -> &'static str {
        if self.flavour == Flavour::Instagram { "instagram" } else { "facebook" }
    }
}

/// A Graph API error: `{"error":{message,type,code,error_subcode,fbtrace_id,is_transient}}`.
#[derive(Debug)]
pub struct GraphError {
    status: StatusCode,
    code: u32,
    subcode: Option<u32>,
    message: String,
    kind: &'static str,
    transient: bool,
    headers: Vec<(&'static str, String)>,
}

impl GraphError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        // The Graph API types nearly every error it returns to apps as OAuthException.
        Self { status: StatusCode::BAD_REQUEST, code, subcode: None, message: message.into(), kind: "OAuthException", transient: false, headers: Vec::new() }
    }
    fn sub(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }
    fn transient(mut self) -> Self {
        self.transient = true;
        self
    }
    fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(100, format!("(#100) {}", message.into()))
    }
    pub fn invalid_token() -> Self {
        Self::new(190, "Invalid OAuth access token - Cannot parse access token").sub(467)
    }
    pub fn expired_token() -> Self {
        Self::new(190, "Error validating access token: Session has expired on Saturday, 28-Nov-26 00:00:00 PST. The current time is Sunday, 29-Nov-26 00:00:00 PST.").sub(463)
    }
    pub fn server_error() -> Self {
        Self::new(2, "An unexpected error has occurred. Please retry your request later.").transient().status(StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub fn app_limit() -> Self {
        Self::new(4, "(#4) Application request limit reached").transient()
    }
    fn unsupported(id: &str) -> Self {
        Self::new(100, format!("Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api")).sub(33)
    }
    fn permission() -> Self {
        Self::new(10, "(#10) Application does not have permission for this action")
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message, "type": self.kind, "code": self.code,
            "fbtrace_id": format!("A{}", &hex_id(self.code as u64 * 7919 + self.subcode.unwrap_or(0) as u64)),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        respond(self.status, json!({ "error": error }), self.headers)
    }
}

fn hex_id(n: u64) -> String {
    format!("{:x}{:x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15), n)[..11].to_owned()
}

type Params = HashMap<String, String>;

/// Every Graph API request lands here; the path is parsed the way the real API routes it.
pub async fn handle(State(host): State<MetaHost>, method: Method, uri: Uri, headers: HeaderMap, Query(params): Query<Params>, body: Bytes) -> Response {
    let state = &host.state;
    state.count(host.server()).requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // POST bodies may carry parameters as a form (as the SDKs send them).
    let mut params = params;
    if method == Method::POST {
        for (k, v) in url::form_urlencoded::parse(&body) {
            params.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
    }
    let raw_pairs: Vec<(String, String)> = uri.query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    // Accept `/v24.0/…` and unversioned paths.
    let (version, rest) = match segments.first() {
        Some(v) if v.starts_with('v') && v.ends_with(".0") && v[1..v.len() - 2].chars().all(|c| c.is_ascii_digit()) => {
            (v[1..v.len() - 2].parse::<u32>().unwrap_or(24), &segments[1..])
        }
        _ => (24, &segments[..]),
    };
    let request = Request { host: &host, version, params: &params, raw_pairs: &raw_pairs, headers: &headers, path: uri.path() };
    let result = match (method.clone(), rest) {
        (Method::GET, ["dialog", "oauth"]) | (Method::GET, ["oauth", "authorize"]) => return request.authorize(),
        (Method::GET, ["oauth", "access_token"]) if host.flavour == Flavour::Facebook => request.fb_token_exchange(),
        (Method::POST, ["oauth", "access_token"]) if host.flavour == Flavour::Instagram => request.ig_code_exchange(),
        (Method::GET, ["access_token"]) if host.flavour == Flavour::Instagram => request.ig_long_lived(),
        (Method::GET, ["refresh_access_token"]) if host.flavour == Flavour::Instagram => request.ig_refresh(),
        (Method::GET, ["debug_token"]) => request.debug_token(),
        _ => request.authenticated(&method, rest),
    };
    match result {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

struct Request<'a> {
    host: &'a MetaHost,
    version: u32,
    params: &'a Params,
    raw_pairs: &'a [(String, String)],
    headers: &'a HeaderMap,
    path: &'a str,
}

type Reply = Result<Response, GraphError>;

impl Request<'_> {
    fn state(&self) -> &SimState {
        &self.host.state
    }

    fn app(&self) -> &crate::server::state::App {
        &self.state().apps[&self.host.flavour]
    }

    fn token(&self) -> Option<String> {
        if let Some(t) = self.params.get("access_token") {
            return Some(t.clone());
        }
        let auth = self.headers.get("authorization")?.to_str().ok()?;
        auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("OAuth ")).map(str::to_owned)
    }

    fn grant(&self) -> Result<Grant, GraphError> {
        let token = self.token().ok_or_else(|| GraphError::new(104, "An access token is required to request this resource."))?;
        let grant = self.state().grant(&token).ok_or_else(GraphError::invalid_token)?;
        if grant.flavour != self.host.flavour {
            return Err(GraphError::invalid_token());
        }
        if grant.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(GraphError::expired_token());
        }
        Ok(grant)
    }

    fn ok(&self, body: Value, extra: Vec<(&'static str, String)>) -> Reply {
        Ok(respond(StatusCode::OK, body, extra))
    }

    /// App-level and per-object limits, with the usage headers the real API sends.
    fn limit(&self, object: Option<(&Account, &str)>) -> Result<Vec<(&'static str, String)>, GraphError> {
        let state = self.state();
        let budgets = state.limits.budgets;
        let hour = StdDuration::from_secs(3_600);
        let app = state.limits.take(&format!("meta_app:{:?}", self.host.flavour), budgets.meta_app_per_hour, hour);
        let app_header = json!({ "call_count": app.percent.min(100), "total_time": (app.percent / 2).min(100), "total_cputime": (app.percent / 3).min(100) }).to_string();
        let mut headers = vec![("x-app-usage", app_header)];
        if !app.allowed {
            state.count(self.host.server()).throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut error = GraphError::app_limit();
            error.headers = headers;
            return Err(error);
        }
        if let Some((account, kind)) = object {
            let usage = state.limits.take(&format!("meta_buc:{}", account.id), budgets.meta_object_per_hour, hour);
            let minutes = if usage.allowed { 0 } else { usage.retry_after.as_secs().div_ceil(60).max(1) };
            let buc = json!({ account.id.clone(): [{
                "type": kind, "call_count": usage.percent.min(100), "total_cputime": (usage.percent / 3).min(100),
                "total_time": (usage.percent / 2).min(100), "estimated_time_to_regain_access": minutes,
            }]})
            .to_string();
            headers.push(("x-business-use-case-usage", buc));
            if !usage.allowed {
                state.count(self.host.server()).throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (code, what) = if kind == "instagram" { (80002, "Instagram") } else { (80001, "Page") };
                let mut error = GraphError::new(code, format!("There have been too many calls to this {what} account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.")).transient();
                error.headers = headers;
                return Err(error);
            }
        }
        Ok(headers)
    }

    fn fields(&self, default: &str) -> Result<Vec<FieldSel>, GraphError> {
        let text = self.params.get("fields").map(String::as_str).unwrap_or(default);
        parse_fields(text).map_err(|e| GraphError::param(format!("Syntax error in fields: {e}")))
    }

    fn authenticated(&self, method: &Method, rest: &[&str]) -> Reply {
        let grant = self.grant()?;
        let me = self.state().world.account(grant.account);
        let resolve = |id: &str| if id == "me" { me.id.clone() } else { id.to_owned() };
        match (method.clone(), rest) {
            (Method::GET, [id]) => {
                let id = resolve(id);
                self.node(&me, &id)
            }
            (Method::GET, ["me", "accounts"]) => self.my_pages(&me),
            (Method::GET, [id, edge]) => {
                let id = resolve(id);
                self.edge(&me, &id, edge)
            }
            (Method::POST, [id, "media"]) => self.create_container(&me, &resolve(id)),
            (Method::POST, [id, "media_publish"]) => self.publish(&me, &resolve(id)),
            (Method::POST, [id, "feed"]) => self.page_post(&me, &resolve(id)),
            (Method::POST, [_, "subscribed_apps"]) => {
                let headers = self.limit(None)?;
                self.ok(json!({ "success": true }), headers)
            }
            _ => Err(GraphError::param(format!("Unknown path components: {}", self.path))),
        }
    }

    // ---- nodes ---------------------------------------------------------------------------

    fn node(&self, me: &Account, id: &str) -> Reply {
        let state = self.state();
        if let Some(container) = state.containers.lock().expect("containers").get(id).cloned() {
            let headers = self.limit(None)?;
            let ready = Utc::now() - container.created > Duration::milliseconds(if container.media_type == "REELS" { 1_500 } else { 0 });
            let status = if container.published_id.is_some() { "PUBLISHED" } else if ready { "FINISHED" } else { "IN_PROGRESS" };
            return self.ok(json!({ "status_code": status, "status": status, "id": id }), headers);
        }
        match self.host.flavour {
            Flavour::Instagram => {
                if id == me.id {
                    let headers = self.limit(Some((me, "instagram")))?;
                    return self.ok(self.ig_user(me, &self.fields("id")?, true, false)?, headers);
                }
                if let Some((account, post)) = state.find_post(Platform::Instagram, id).filter(|(a, _)| a.index == me.index) {
                    let headers = self.limit(Some((&account, "instagram")))?;
                    return self.ok(self.ig_media(&account, &post, &self.fields("id")?)?, headers);
                }
                Err(GraphError::unsupported(id))
            }
            _ => {
                if let Some(account) = state.account_by_id(Platform::Instagram, id) {
                    if account.index != me.index {
                        return Err(GraphError::unsupported(id));
                    }
                    let headers = self.limit(Some((&account, "instagram")))?;
                    return self.ok(self.ig_user(&account, &self.fields("id")?, false, true)?, headers);
                }
                if let Some(account) = state.account_by_id(Platform::Facebook, id) {
                    let headers = self.limit(Some((&account, "pages")))?;
                    return self.ok(self.page(&account, &self.fields("name,id")?)?, headers);
                }
                if let Some((account, post)) = state.find_post(Platform::Instagram, id).filter(|(a, _)| a.index == me.index) {
                    let headers = self.limit(Some((&account, "instagram")))?;
                    return self.ok(self.ig_media(&account, &post, &self.fields("id")?)?, headers);
                }
                if let Some((account, post)) = state.find_post(Platform::Facebook, id) {
                    let headers = self.limit(Some((&account, "pages")))?;
                    return self.ok(self.page_post_node(&account, &post, &self.fields("created_time,message,id")?)?, headers);
                }
                Err(GraphError::unsupported(id))
            }
        }
    }

    fn followers_now(&self, account: &Account) -> i64 {
        self.state().day_now(account.index).followers
    }

    fn day_now(&self, account: &Account) -> crate::world::Day {
        self.state().day_now(account.index)
    }

    fn ig_user(&self, account: &Account, fields: &[FieldSel], ig_login: bool, allow_discovery: bool) -> Result<Value, GraphError> {
        let mut out = Map::new();
        let day = self.day_now(account);
        for field in fields {
            let value = match field.name.as_str() {
                "id" => json!(account.id),
                "ig_id" => json!(account.index as u64 + 1_000_000),
                "user_id" if ig_login => json!(account.id),
                "account_type" if ig_login => json!(match account.account_type { AccountType::Business => "BUSINESS", _ => "MEDIA_CREATOR" }),
                "username" => json!(account.handle),
                "name" => json!(account.name),
                "biography" => json!(account.bio),
                "followers_count" => json!(day.followers),
                "follows_count" => json!(day.follows),
                "media_count" => json!(day.media_count),
                "profile_picture_url" => json!(format!("https://scontent.cdninstagram.example/v/{}/avatar.jpg", account.id)),
                "website" => json!(format!("https://linktr.ee/{}", account.handle)),
                "media" => self.media_expansion(account, field)?,
                "business_discovery" if allow_discovery => self.business_discovery(field)?,
                "business_discovery" => return Err(GraphError::param("Tried accessing nonexisting field (business_discovery) on node type (IGUser)")),
                other => return Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (IGUser)"))),
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn business_discovery(&self, field: &FieldSel) -> Result<Value, GraphError> {
        let handle = field.modifier("username").ok_or_else(|| GraphError::param("business_discovery needs .username(…)"))?;
        let account = self
            .state()
            .account_by_handle(Platform::Instagram, handle)
            .filter(|a| a.account_type != AccountType::Personal)
            .ok_or_else(|| GraphError::new(110, "Invalid user id").sub(2207013))?;
        // The target's BUC budget is spent too, as on the real API.
        let _ = self.state().limits.take(&format!("meta_buc:{}", account.id), self.state().limits.budgets.meta_object_per_hour, StdDuration::from_secs(3600));
        let mut children = field.children.clone();
        if children.is_empty() {
            children.push(FieldSel { name: "id".into(), modifiers: vec![], children: vec![] });
        }
        for child in &children {
            if matches!(child.name.as_str(), "stories" | "insights") {
                return Err(GraphError::permission());
            }
            if child.name == "live_media" {
                return Err(GraphError::new(36104, "(#36104) Cannot access live media from business discovery"));
            }
        }
        let mut value = self.ig_user(&account, &children, false, false)?;
        value["id"] = json!(account.id);
        Ok(value)
    }

    /// `media{…}` inside a node: paged with `.limit(n).after(cursor)`.
    fn media_expansion(&self, account: &Account, field: &FieldSel) -> Result<Value, GraphError> {
        let posts: Vec<Post> = self.state().visible_posts(account.index).into_iter().filter(|p| p.media_type != MediaType::Story).collect();
        let limit = field.modifier("limit").and_then(|l| l.parse().ok()).unwrap_or(25usize).clamp(1, 100);
        let start = field.modifier("after").and_then(parse_cursor).unwrap_or(0);
        let children = if field.children.is_empty() { vec![FieldSel { name: "id".into(), modifiers: vec![], children: vec![] }] } else { field.children.clone() };
        let page: Vec<Value> = posts.iter().skip(start).take(limit).map(|p| self.ig_media(account, p, &children)).collect::<Result<_, _>>()?;
        let end = start + page.len();
        let mut cursors = Map::new();
        if !page.is_empty() {
            cursors.insert("before".into(), json!(cursor(start)));
        }
        if end < posts.len() {
            cursors.insert("after".into(), json!(cursor(end)));
        }
        Ok(json!({ "data": page, "paging": { "cursors": cursors } }))
    }

    fn ig_media(&self, account: &Account, post: &Post, fields: &[FieldSel]) -> Result<Value, GraphError> {
        let m = post.served_at(self.state().now(), Platform::Instagram);
        let mut out = Map::new();
        let (media_type, product) = match post.media_type {
            MediaType::Image => ("IMAGE", "FEED"),
            MediaType::Carousel => ("CAROUSEL_ALBUM", "FEED"),
            MediaType::Video => ("VIDEO", "REELS"),
            MediaType::Story => (if post.duration_secs > 0 { "VIDEO" } else { "IMAGE" }, "STORY"),
        };
        let shortcode = &crate::server::common::cursor(post.id.len() + post.id.bytes().map(|b| b as usize).sum::<usize>())[..8];
        for field in fields {
            let value = match field.name.as_str() {
                "id" => json!(post.id),
                "caption" => json!(post.caption),
                "media_type" => json!(media_type),
                "media_product_type" => json!(product),
                "media_url" => json!(format!("https://scontent.cdninstagram.example/v/{}.jpg", post.id)),
                "thumbnail_url" if post.media_type == MediaType::Video => json!(format!("https://scontent.cdninstagram.example/v/{}_thumb.jpg", post.id)),
                "thumbnail_url" => continue,
                "permalink" => json!(format!("https://www.instagram.com/{}/{}/", if product == "REELS" { "reel" } else { "p" }, post.id)),
                "shortcode" => json!(shortcode),
                "timestamp" => json!(meta_time(post.published_at)),
                "like_count" => json!(m.likes),
                "comments_count" => json!(self.state().comments_count(account, post, m.comments)),
                "username" => json!(account.handle),
                "owner" => json!({ "id": account.id }),
                "is_comment_enabled" => json!(true),
                "is_shared_to_feed" if product == "REELS" => json!(true),
                "children" if post.media_type == MediaType::Carousel => json!({ "data": (0..3).map(|i| json!({ "id": format!("{}{}", post.id, i), "media_type": "IMAGE" })).collect::<Vec<_>>() }),
                "children" | "is_shared_to_feed" => continue,
                "comments" => {
                    let all = self.visible_comments(account, post);
                    let top: Vec<&Comment> = all.iter().filter(|c| c.parent_id.is_none()).collect();
                    let limit = nested_limit(field)?;
                    let data = top.iter().take(limit).map(|c| self.ig_comment(c, &all, &field.children)).collect::<Result<Vec<_>, _>>()?;
                    self.nested_edge(&post.id, "comments", field, data, top.len())
                }
                other => return Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (IGMedia)"))),
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn visible_comments(&self, account: &Account, post: &Post) -> Vec<Comment> {
        let now = self.state().now();
        self.state().world.comments(account, post).into_iter().filter(|c| c.published_at < now).collect()
    }

    /// A comment node; `all` are the post's comments, where its replies are found.
    fn ig_comment(&self, comment: &Comment, all: &[Comment], fields: &[FieldSel]) -> Result<Value, GraphError> {
        let default = [FieldSel { name: "timestamp".into(), modifiers: vec![], children: vec![] }, FieldSel { name: "text".into(), modifiers: vec![], children: vec![] }, FieldSel { name: "id".into(), modifiers: vec![], children: vec![] }];
        let fields = if fields.is_empty() { &default[..] } else { fields };
        let mut out = Map::new();
        for field in fields {
            let value = match field.name.as_str() {
                "id" => json!(comment.id),
                "text" => json!(comment.text),
                "timestamp" => json!(meta_time(comment.published_at)),
                "username" => json!(comment.username),
                "like_count" => json!(comment.like_count),
                "from" => json!({ "id": comment.commenter_id, "username": comment.username }),
                "parent_id" => match &comment.parent_id { Some(p) => json!(p), None => continue },
                "hidden" => json!(false),
                "media" => json!({ "id": comment.post_id }),
                "replies" => {
                    let replies: Vec<Value> = all.iter().filter(|c| c.parent_id.as_deref() == Some(comment.id.as_str())).map(|c| self.ig_comment(c, all, &field.children)).collect::<Result<_, _>>()?;
                    json!({ "data": replies })
                }
                other => return Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (IGComment)"))),
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn page(&self, account: &Account, fields: &[FieldSel]) -> Result<Value, GraphError> {
        let day = self.day_now(account);
        let mut out = Map::new();
        for field in fields {
            let value = match field.name.as_str() {
                "id" => json!(account.id),
                "name" => json!(account.name),
                "username" => json!(account.handle),
                "fan_count" => json!((day.followers as f64 * 0.93) as i64),
                "followers_count" => json!(day.followers),
                "link" => json!(format!("https://www.facebook.com/{}", account.handle)),
                "category" => json!(match account.niche { "food" => "Chef", "music" => "Musician/Band", "gaming" => "Gaming Video Creator", _ => "Digital creator" }),
                "about" => json!(account.bio),
                "picture" => json!({ "data": { "url": format!("https://scontent.xx.fbcdn.example/{}.jpg", account.id), "is_silhouette": false } }),
                "verification_status" => json!(if account.verified { "blue_verified" } else { "not_verified" }),
                other => return Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (Page)"))),
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn page_post_node(&self, account: &Account, post: &Post, fields: &[FieldSel]) -> Result<Value, GraphError> {
        let m = post.served_at(self.state().now(), Platform::Facebook);
        let mut out = Map::new();
        for field in fields {
            let value = match field.name.as_str() {
                "id" => json!(post.id),
                "message" => json!(post.caption),
                "created_time" => json!(meta_time(post.published_at)),
                "permalink_url" => json!(format!("https://www.facebook.com/{}/posts/{}", account.id, post.id.split('_').nth(1).unwrap_or(""))),
                "full_picture" => json!(format!("https://scontent.xx.fbcdn.example/{}.jpg", post.id)),
                "status_type" => json!(if post.media_type == MediaType::Video { "added_video" } else { "added_photos" }),
                "is_published" => json!(true),
                "shares" => json!({ "count": m.shares }),
                "from" => json!({ "id": account.id, "name": account.name }),
                "reactions" | "likes" => summary_edge(field, json!({ "total_count": m.likes, "viewer_reaction": "NONE" })),
                "comments" => {
                    let all = self.visible_comments(account, post);
                    let limit = nested_limit(field)?;
                    let data: Vec<Value> = all.iter().take(limit).map(page_comment).collect();
                    let mut value = self.nested_edge(&post.id, "comments", field, data, all.len());
                    if field.modifier("summary").is_some() {
                        value["summary"] = json!({ "order": "ranked", "total_count": self.state().comments_count(account, post, m.comments), "can_comment": true });
                    }
                    value
                }
                other => return Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (PagePost)"))),
            };
            out.insert(field.name.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn my_pages(&self, me: &Account) -> Reply {
        let headers = self.limit(None)?;
        let token = self.token().unwrap_or_default();
        let page = match me.platform {
            Platform::Facebook => json!({ "id": me.id, "name": me.name, "access_token": token, "category": "Digital creator", "tasks": ["ANALYZE", "CREATE_CONTENT"] }),
            _ => json!({ "id": format!("1{:014}", 90_000_000_000_000u64 + me.index as u64), "name": me.name, "access_token": token,
                         "instagram_business_account": { "id": me.id, "username": me.handle }, "tasks": ["ANALYZE", "CREATE_CONTENT"] }),
        };
        self.ok(json!({ "data": [page], "paging": { "cursors": { "before": cursor(0), "after": cursor(1) } } }), headers)
    }

    // ---- edges ---------------------------------------------------------------------------

    fn edge(&self, me: &Account, id: &str, edge: &str) -> Reply {
        let state = self.state();
        let own_ig = (id == me.id && me.platform == Platform::Instagram).then_some(me);
        if let Some(account) = own_ig {
            return match edge {
                "media" => {
                    let headers = self.limit(Some((account, "instagram")))?;
                    let posts: Vec<Post> = state.visible_posts(account.index).into_iter().filter(|p| p.media_type != MediaType::Story).collect();
                    let posts = self.time_filter(posts)?;
                    let fields = self.fields("id")?;
                    self.list(posts, |p| self.ig_media(account, p, &fields), headers)
                }
                "stories" => {
                    let headers = self.limit(Some((account, "instagram")))?;
                    let since = state.now() - Duration::hours(24);
                    let posts: Vec<Post> = state.visible_posts(account.index).into_iter().filter(|p| p.media_type == MediaType::Story && p.published_at >= since).collect();
                    let fields = self.fields("id")?;
                    self.list(posts, |p| self.ig_media(account, p, &fields), headers)
                }
                "insights" => {
                    let headers = self.limit(Some((account, "instagram")))?;
                    self.account_insights(account, headers)
                }
                "content_publishing_limit" => {
                    let headers = self.limit(Some((account, "instagram")))?;
                    let used = state.published.lock().expect("published").get(&account.index).map_or(0, Vec::len);
                    self.ok(json!({ "data": [{ "quota_usage": used, "config": { "quota_total": 100, "quota_duration": 86400 } }] }), headers)
                }
                "tags" | "mentioned_media" => {
                    let headers = self.limit(Some((account, "instagram")))?;
                    self.ok(json!({ "data": [] }), headers)
                }
                other => Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (IGUser)"))),
            };
        }
        if let Some((account, post)) = state.find_post(Platform::Instagram, id).filter(|(a, _)| a.index == me.index) {
            let headers = self.limit(Some((&account, "instagram")))?;
            return match edge {
                "comments" => {
                    let fields = self.fields("")?;
                    let all = self.visible_comments(&account, &post);
                    let comments: Vec<Comment> = all.iter().filter(|c| c.parent_id.is_none()).cloned().collect();
                    self.list(comments, |c| self.ig_comment(c, &all, &fields), headers)
                }
                "insights" => self.media_insights(&account, &post, headers),
                "children" => self.ok(json!({ "data": [] }), headers),
                other => Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (IGMedia)"))),
            };
        }
        if self.host.flavour == Flavour::Facebook {
            if let Some(account) = state.account_by_id(Platform::Facebook, id) {
                let headers = self.limit(Some((&account, "pages")))?;
                return match edge {
                    "posts" | "published_posts" | "feed" => self.page_posts(&account, headers),
                    "insights" if account.index == me.index => self.page_insights(&account, headers),
                    "insights" => Err(GraphError::permission()),
                    other => Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (Page)"))),
                };
            }
            if let Some((account, post)) = state.find_post(Platform::Facebook, id) {
                let headers = self.limit(Some((&account, "pages")))?;
                return match edge {
                    "insights" if account.index == me.index => self.post_insights(&account, &post, headers),
                    "insights" => Err(GraphError::permission()),
                    "comments" => {
                        let comments = self.visible_comments(&account, &post);
                        self.list(comments, |c| Ok(page_comment(c)), headers)
                    }
                    other => Err(GraphError::param(format!("Tried accessing nonexisting field ({other}) on node type (PagePost)"))),
                };
            }
        }
        Err(GraphError::unsupported(id))
    }

    /// `since`/`until` (Unix seconds) on list edges.
    fn time_filter(&self, posts: Vec<Post>) -> Result<Vec<Post>, GraphError> {
        let bound = |key: &str| -> Result<Option<i64>, GraphError> {
            self.params.get(key).map(|v| v.parse::<i64>().map_err(|_| GraphError::param(format!("The parameter {key} must be a Unix timestamp")))).transpose()
        };
        let (since, until) = (bound("since")?, bound("until")?);
        Ok(posts
            .into_iter()
            .filter(|p| since.is_none_or(|s| p.published_at.timestamp() >= s) && until.is_none_or(|u| p.published_at.timestamp() <= u))
            .collect())
    }

    /// An edge expanded inside its node (`comments.limit(25){…}` on a medium): its first items,
    /// and when there are more, the cursors and the `next` page on the edge itself, with the
    /// same fields and limit, as the real API links them.
    fn nested_edge(&self, object_id: &str, edge: &str, field: &FieldSel, data: Vec<Value>, total: usize) -> Value {
        let shown = data.len();
        let mut value = json!({ "data": data });
        if shown > 0 {
            let mut paging = json!({ "cursors": { "before": cursor(0), "after": cursor(shown) } });
            if shown < total {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("fields", &to_text(&field.children)).append_pair("limit", &shown.to_string()).append_pair("after", &cursor(shown));
                if let Some(token) = self.token() {
                    query.append_pair("access_token", &token);
                }
                paging["next"] = json!(format!("{}/v{}.0/{object_id}/{edge}?{}", origin(self.headers), self.version, query.finish()));
            }
            value["paging"] = paging;
        }
        value
    }

    /// Cursor paging over a list: `{data, paging:{cursors:{before,after}, previous, next}}`.
    fn list<T>(&self, items: Vec<T>, render: impl Fn(&T) -> Result<Value, GraphError>, headers: Vec<(&'static str, String)>) -> Reply {
        let limit = match self.params.get("limit") {
            Some(l) => l.parse::<usize>().map_err(|_| GraphError::param("Param limit must be a number"))?.clamp(1, 100),
            None => 25,
        };
        let start = match (self.params.get("after"), self.params.get("before")) {
            (Some(after), _) => parse_cursor(after).ok_or_else(|| GraphError::param("Invalid cursor"))?,
            (None, Some(before)) => parse_cursor(before).ok_or_else(|| GraphError::param("Invalid cursor"))?.saturating_sub(limit),
            _ => 0,
        };
        // A `before` page ends where the cursor points, never past it.
        let take = match (self.params.get("after"), self.params.get("before").and_then(|b| parse_cursor(b))) {
            (None, Some(before)) => limit.min(before),
            _ => limit,
        };
        let data: Vec<Value> = items.iter().skip(start).take(take).map(render).collect::<Result<_, _>>()?;
        let end = start + data.len();
        let mut paging = Map::new();
        if !data.is_empty() {
            paging.insert("cursors".into(), json!({ "before": cursor(start), "after": cursor(end) }));
        }
        let base = format!("{}{}", origin(self.headers), self.path);
        if end < items.len() {
            paging.insert("next".into(), json!(format!("{base}?{}", with_params(self.raw_pairs, &[("after", Some(cursor(end))), ("before", None)]))));
        }
        if start > 0 {
            paging.insert("previous".into(), json!(format!("{base}?{}", with_params(self.raw_pairs, &[("before", Some(cursor(start))), ("after", None)]))));
        }
        let mut body = json!({ "data": data });
        if !paging.is_empty() {
            body["paging"] = Value::Object(paging);
        }
        self.ok(body, headers)
    }

    /// Page posts: newest first, time-based paging with `until` and `__paging_token`.
    fn page_posts(&self, account: &Account, headers: Vec<(&'static str, String)>) -> Reply {
        let posts = self.time_filter(self.state().visible_posts(account.index))?;
        let limit = self.params.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(25).clamp(1, 100);
        // The paging token names a post served before: `next` continues right after it (older
        // posts), `previous` (`__previous=1`) returns the posts just before it (newer ones).
        let position = match self.params.get("__paging_token") {
            Some(token) => {
                let id = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| GraphError::param("Invalid paging token"))?;
                Some(posts.iter().position(|p| p.id == id).ok_or_else(|| GraphError::param("Invalid paging token"))?)
            }
            None => None,
        };
        let previous = self.params.get("__previous").is_some_and(|p| p == "1");
        let (start, limit) = match (position, previous) {
            (Some(at), true) => (at.saturating_sub(limit), limit.min(at)),
            (Some(at), false) => (at + 1, limit),
            (None, _) => (0, limit),
        };
        let fields = self.fields("created_time,message,id")?;
        let page: Vec<&Post> = posts.iter().skip(start).take(limit).collect();
        let data: Vec<Value> = page.iter().map(|p| self.page_post_node(account, p, &fields)).collect::<Result<_, _>>()?;
        let mut body = json!({ "data": data });
        if let (Some(first), Some(last)) = (page.first(), page.last()) {
            let base = format!("{}{}", origin(self.headers), self.path);
            let token = |p: &Post| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &p.id);
            let mut paging = json!({
                "previous": format!("{base}?{}", with_params(self.raw_pairs, &[("since", Some(first.published_at.timestamp().to_string())), ("until", None), ("__paging_token", Some(token(first))), ("__previous", Some("1".into()))])),
            });
            if start + page.len() < posts.len() {
                paging["next"] = json!(format!("{base}?{}", with_params(self.raw_pairs, &[("until", Some(last.published_at.timestamp().to_string())), ("since", None), ("__paging_token", Some(token(last))), ("__previous", None)])));
            }
            body["paging"] = paging;
        }
        self.ok(body, headers)
    }

    // ---- insights ------------------------------------------------------------------------

    fn requested_metrics(&self, missing: GraphError) -> Result<Vec<String>, GraphError> {
        let metrics: Vec<String> = self.params.get("metric").map(|m| m.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        if metrics.is_empty() {
            return Err(missing);
        }
        Ok(metrics)
    }

    /// A retired metric is refused the way the real API refuses it, naming the valid ones.
    fn check_metrics(&self, metrics: &[String], valid: &[&str], retired: &[(&str, u32, NaiveDate)], wording: &str) -> Result<(), GraphError> {
        for (i, metric) in metrics.iter().enumerate() {
            if valid.contains(&metric.as_str()) {
                continue;
            }
            let retired_here = retired.iter().find(|(m, _, _)| m == metric).is_some_and(|(_, from_version, all_versions)| {
                self.version >= *from_version || self.state().today() >= *all_versions
            });
            if retired_here || !retired.iter().any(|(m, _, _)| m == metric) {
                return Err(match wording {
                    "page" => GraphError::param("The value must be a valid insights metric"),
                    _ => GraphError::param(format!("metric[{i}] must be one of the following values: {}", valid.join(", "))),
                });
            }
        }
        Ok(())
    }

    fn window(&self, max_days: i64) -> Result<(NaiveDate, NaiveDate), GraphError> {
        let today = self.state().today();
        let day_of = |key: &str| -> Result<Option<NaiveDate>, GraphError> {
            self.params
                .get(key)
                .map(|v| v.parse::<i64>().ok().and_then(|s| Utc.timestamp_opt(s, 0).single()).map(|t| t.date_naive()).ok_or_else(|| GraphError::param(format!("The parameter {key} must be a Unix timestamp"))))
                .transpose()
        };
        let until = day_of("until")?.unwrap_or(today).min(today);
        let since = match day_of("since")? {
            Some(since) => since,
            None => until.checked_sub_signed(Duration::days(1)).ok_or_else(|| GraphError::param("until is out of range"))?,
        };
        if since > until {
            return Err(GraphError::param("since must be before until"));
        }
        if (until - since).num_days() > max_days {
            return Err(GraphError::param(format!("There cannot be more than {max_days} days ({} s) between since and until", max_days * 86_400)));
        }
        Ok((since, until))
    }

    /// Insights need the insights permission of the login the token came from.
    fn require_scope(&self, wanted: &[&str]) -> Result<(), GraphError> {
        let grant = self.grant()?;
        if grant.scopes.iter().any(|s| wanted.contains(&s.as_str())) {
            Ok(())
        } else {
            Err(GraphError::new(10, format!("(#10) Application does not have permission for this action: needs {}", wanted.join(" or "))))
        }
    }

    fn account_insights(&self, account: &Account, headers: Vec<(&'static str, String)>) -> Reply {
        if !account.connected {
            return Err(GraphError::permission());
        }
        self.require_scope(&["instagram_manage_insights", "instagram_business_manage_insights"])?;
        let metrics = self.requested_metrics(GraphError::param("The parameter metric is required"))?;
        const VALID: [&str; 15] = ["reach", "views", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves", "replies", "follows_and_unfollows", "profile_links_taps", "follower_count", "online_followers", "follower_demographics", "engaged_audience_demographics"];
        let v21 = NaiveDate::from_ymd_opt(2025, 1, 8).expect("date");
        let v22 = NaiveDate::from_ymd_opt(2025, 4, 21).expect("date");
        let v18 = NaiveDate::from_ymd_opt(2023, 12, 11).expect("date");
        let retired = [
            ("impressions", 22, v22), ("profile_views", 21, v21), ("website_clicks", 21, v21), ("email_contacts", 21, v21),
            ("phone_call_clicks", 21, v21), ("text_message_clicks", 21, v21), ("get_directions_clicks", 21, v21),
            ("audience_city", 18, v18), ("audience_country", 18, v18), ("audience_gender_age", 18, v18), ("audience_locale", 18, v18),
        ];
        self.check_metrics(&metrics, &VALID, &retired, "ig")?;
        let timeline = self.state().timeline(account.index);
        let period = self.params.get("period").map(String::as_str).unwrap_or("day");
        let metric_type = self.params.get("metric_type").map(String::as_str).unwrap_or("time_series");
        let (since, until) = self.window(30)?;
        let followers = self.followers_now(account);
        let mut data = Vec::new();
        for metric in &metrics {
            let id = format!("{}/insights/{metric}/{period}", account.id);
            let title = metric.replace('_', " ");
            if metric.ends_with("_demographics") {
                let breakdown = self.params.get("breakdown").map(String::as_str).unwrap_or("country");
                let audience = if metric == "engaged_audience_demographics" { followers / 5 } else { followers };
                let rows = demographics(account, audience, breakdown).ok_or_else(|| GraphError::param(format!("breakdown must be one of age, city, country, gender, not {breakdown}")))?;
                let results: Vec<Value> = rows.iter().map(|(k, v)| json!({ "dimension_values": [k], "value": v })).collect();
                data.push(json!({ "name": metric, "period": "lifetime", "title": title, "description": title, "total_value": { "breakdowns": [{ "dimension_keys": [breakdown], "results": results }] }, "id": format!("{}/insights/{metric}/lifetime", account.id) }));
                continue;
            }
            if metric == "online_followers" {
                let hours: Map<String, Value> = (0..24).map(|h| (h.to_string(), json!((followers as f64 * (0.05 + 0.1 * (((h as f64 - 20.0) / 24.0 * std::f64::consts::TAU).cos() + 1.0) / 2.0)) as i64))).collect();
                data.push(json!({ "name": metric, "period": "lifetime", "values": [{ "value": hours, "end_time": meta_time(end_time(until)) }], "title": title, "description": title, "id": format!("{}/insights/{metric}/lifetime", account.id) }));
                continue;
            }
            if metric == "follower_count" && followers < 100 {
                continue; // unavailable below 100 followers: left out, never 0
            }
            let value_of = |date: NaiveDate| {
                let s = day_stats(&timeline, date);
                match metric.as_str() {
                    "reach" => s.reach,
                    "views" => s.views,
                    "accounts_engaged" => s.accounts_engaged,
                    "total_interactions" => s.total_interactions,
                    "likes" => s.likes,
                    "comments" => s.comments,
                    "shares" => s.shares,
                    "saves" => s.saves,
                    "replies" => s.comments / 10,
                    "follows_and_unfollows" => s.new_followers + s.unfollows,
                    "profile_links_taps" => s.profile_links_taps,
                    _ => s.new_followers,
                }
            };
            let days: Vec<NaiveDate> = since.iter_days().take_while(|d| *d <= until).collect();
            if metric_type == "total_value" {
                let total: i64 = days.iter().map(|d| value_of(*d)).sum();
                let mut total_value = json!({ "value": total });
                if metric == "follows_and_unfollows" {
                    let follows: i64 = days.iter().map(|d| day_stats(&timeline, *d).new_followers).sum();
                    total_value["breakdowns"] = json!([{ "dimension_keys": ["follow_type"], "results": [{ "dimension_values": ["FOLLOWER"], "value": follows }, { "dimension_values": ["NON_FOLLOWER"], "value": total - follows }] }]);
                }
                data.push(json!({ "name": metric, "period": period, "title": title, "description": title, "total_value": total_value, "id": id }));
            } else {
                let values: Vec<Value> = days.iter().map(|d| json!({ "value": value_of(*d), "end_time": meta_time(end_time(*d)) })).collect();
                data.push(json!({ "name": metric, "period": period, "values": values, "title": title, "description": title, "id": id }));
            }
        }
        let mut body = json!({ "data": data });
        let span = (until - since).num_days() + 1;
        let base = format!("{}{}", origin(self.headers), self.path);
        let shift = |days: i64| {
            with_params(self.raw_pairs, &[("since", Some(unix(since + Duration::days(days)).to_string())), ("until", Some(unix(until + Duration::days(days)).to_string()))])
        };
        body["paging"] = json!({ "previous": format!("{base}?{}", shift(-span)), "next": format!("{base}?{}", shift(span)) });
        self.ok(body, headers)
    }

    fn media_insights(&self, account: &Account, post: &Post, headers: Vec<(&'static str, String)>) -> Reply {
        if !account.connected {
            return Err(GraphError::permission());
        }
        self.require_scope(&["instagram_manage_insights", "instagram_business_manage_insights"])?;
        let metrics = self.requested_metrics(GraphError::param("The parameter metric is required"))?;
        let is_story = post.media_type == MediaType::Story;
        let is_reel = post.media_type == MediaType::Video;
        let mut valid = vec!["reach", "views", "saved", "shares", "likes", "comments", "total_interactions", "profile_visits", "follows", "profile_activity"];
        if is_reel {
            valid.extend(["ig_reels_avg_watch_time", "ig_reels_video_view_total_time"]);
        }
        if is_story {
            valid = vec!["reach", "views", "replies", "navigation", "shares", "follows", "profile_visits", "profile_activity", "total_interactions"];
        }
        let v22 = NaiveDate::from_ymd_opt(2025, 4, 21).expect("date");
        let v18 = NaiveDate::from_ymd_opt(2023, 12, 11).expect("date");
        // Impressions survive on v21 and older only for media created before 2 July 2024.
        let old_media = post.published_at.date_naive() <= NaiveDate::from_ymd_opt(2024, 7, 1).expect("date");
        let impressions_ok = self.version <= 21 && old_media;
        // A current metric that does not apply to this kind of media is refused as such, not
        // as a retired name.
        const ANY_MEDIA: [&str; 14] = ["reach", "views", "saved", "shares", "likes", "comments", "total_interactions", "profile_visits", "follows", "profile_activity", "ig_reels_avg_watch_time", "ig_reels_video_view_total_time", "replies", "navigation"];
        for metric in &metrics {
            if metric == "impressions" && impressions_ok {
                continue;
            }
            if ANY_MEDIA.contains(&metric.as_str()) && !valid.contains(&metric.as_str()) {
                return Err(GraphError::param(format!("The Media Insights API does not support the {metric} metric for this media product type.")));
            }
        }
        let retired = [("impressions", 22, v22), ("plays", 22, v22), ("video_views", 22, v22), ("clips_replays_count", 22, v22), ("ig_reels_aggregated_all_plays_count", 22, v22), ("engagement", 18, v18)];
        // Indexes in the error refer to the metrics as the client sent them.
        let mut valid_here = valid.clone();
        if impressions_ok {
            valid_here.push("impressions");
        }
        self.check_metrics(&metrics, &valid_here, &retired, "ig")?;
        let m = post.served_at(self.state().now(), Platform::Instagram);
        if m.reach < 5 {
            return Err(GraphError::new(10, "(#10) Not enough viewers for the media to show insights"));
        }
        let data: Vec<Value> = metrics
            .iter()
            .map(|metric| {
                let value = match metric.as_str() {
                    "reach" => m.reach,
                    "views" => m.views.max(m.impressions),
                    "impressions" => m.impressions,
                    "saved" => m.saves,
                    "shares" => m.shares,
                    "likes" => m.likes,
                    "comments" => m.comments,
                    "total_interactions" => m.likes + m.comments + m.shares + m.saves,
                    "profile_visits" => m.reach / 40,
                    "follows" => m.reach / 400,
                    "profile_activity" => m.reach / 60,
                    "ig_reels_avg_watch_time" => post.duration_secs as i64 * 550,
                    "ig_reels_video_view_total_time" => m.views * post.duration_secs as i64 * 550,
                    "replies" => m.reach / 200,
                    _ => m.reach / 3,
                };
                json!({ "name": metric, "period": "lifetime", "values": [{ "value": value }], "title": metric.replace('_', " "), "description": metric.replace('_', " "), "id": format!("{}/insights/{metric}/lifetime", post.id) })
            })
            .collect();
        self.ok(json!({ "data": data }), headers)
    }

    fn page_insights(&self, account: &Account, headers: Vec<(&'static str, String)>) -> Reply {
        self.require_scope(&["read_insights"])?;
        let missing = GraphError::new(3001, "Invalid query").sub(1504028);
        let mut missing = missing;
        missing.message = "Invalid query".into();
        let metrics = self.requested_metrics(missing)?;
        const VALID: [&str; 12] = ["page_post_engagements", "page_views_total", "page_follows", "page_daily_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_media_view", "page_total_media_view_unique", "page_video_views", "page_actions_post_reactions_total", "page_follows_country", "page_follows_city"];
        let mar24 = NaiveDate::from_ymd_opt(2024, 3, 14).expect("date");
        let jun25 = NaiveDate::from_ymd_opt(2025, 6, 15).expect("date");
        let nov25 = NaiveDate::from_ymd_opt(2025, 11, 15).expect("date");
        let retired = [
            ("page_engaged_users", 19, mar24), ("page_consumptions", 19, mar24), ("page_fans_gender_age", 19, mar24),
            ("page_impressions_unique", 23, jun25), ("page_impressions_paid_unique", 23, jun25), ("page_impressions_viral_unique", 23, jun25),
            ("page_impressions_nonviral_unique", 23, jun25), ("page_posts_impressions", 23, jun25),
            ("page_impressions", 24, nov25), ("page_fans", 24, nov25), ("page_fans_locale", 24, nov25), ("page_fans_city", 24, nov25),
            ("page_fans_country", 24, nov25), ("page_fan_adds", 24, nov25), ("page_fan_adds_unique", 24, nov25), ("page_fan_removes", 24, nov25),
        ];
        self.check_metrics(&metrics, &VALID, &retired, "page")?;
        let (since, until) = self.window(90)?;
        let followers = self.followers_now(account);
        if followers < 100 {
            return self.ok(json!({ "data": [] }), headers);
        }
        let period = self.params.get("period").map(String::as_str).unwrap_or("day");
        let timeline = self.state().timeline(account.index);
        let data: Vec<Value> = metrics
            .iter()
            .map(|metric| {
                let values: Vec<Value> = since
                    .iter_days()
                    .skip(1)
                    .take_while(|d| *d <= until + Duration::days(1))
                    .map(|end| {
                        let date = end - Duration::days(1);
                        let s = day_stats(&timeline, date);
                        let value = match metric.as_str() {
                            "page_follows_country" | "page_follows_city" => {
                                let dimension = if metric.ends_with("country") { "country" } else { "city" };
                                let rows = demographics(account, followers, dimension).unwrap_or_default();
                                let value: Map<String, Value> = rows.into_iter().map(|(k, v)| (k, json!(v))).collect();
                                return json!({ "value": value, "end_time": meta_time(end_time(date)) });
                            }
                            "page_post_engagements" => json!(s.total_interactions),
                            "page_views_total" => json!(s.profile_views),
                            "page_follows" => json!(timeline.days.iter().find(|d| d.date == date).map_or(0, |d| d.followers)),
                            "page_daily_follows" | "page_daily_follows_unique" => json!(s.new_followers),
                            "page_daily_unfollows_unique" => json!(s.unfollows),
                            "page_media_view" => json!(s.views),
                            "page_total_media_view_unique" => json!(s.reach),
                            "page_video_views" => json!(s.video_views),
                            _ => json!(s.likes),
                        };
                        json!({ "value": value, "end_time": meta_time(end_time(date)) })
                    })
                    .collect();
                json!({ "name": metric, "period": period, "values": values, "title": metric, "description": metric, "id": format!("{}/insights/{metric}/{period}", account.id) })
            })
            .collect();
        self.ok(json!({ "data": data }), headers)
    }

    fn post_insights(&self, account: &Account, post: &Post, headers: Vec<(&'static str, String)>) -> Reply {
        self.require_scope(&["read_insights"])?;
        let metrics = self.requested_metrics(GraphError::new(3001, "Invalid query").sub(1504028))?;
        const VALID: [&str; 5] = ["post_reactions_by_type_total", "post_clicks", "post_media_view", "post_total_media_view_unique", "post_video_views"];
        let jun25 = NaiveDate::from_ymd_opt(2025, 6, 15).expect("date");
        let retired = [("post_impressions_unique", 23, jun25), ("post_impressions_paid_unique", 23, jun25), ("post_impressions_fan_unique", 23, jun25), ("post_impressions_organic_unique", 23, jun25), ("post_impressions_viral_unique", 23, jun25), ("post_impressions", 24, jun25), ("post_engaged_users", 19, jun25)];
        self.check_metrics(&metrics, &VALID, &retired, "page")?;
        let m = post.served_at(self.state().now(), Platform::Facebook);
        let _ = account;
        let data: Vec<Value> = metrics
            .iter()
            .map(|metric| {
                let value = match metric.as_str() {
                    "post_reactions_by_type_total" => json!({ "like": m.likes * 7 / 10, "love": m.likes / 5, "haha": m.likes / 20, "wow": m.likes / 40, "sad": m.likes / 100, "angry": m.likes / 200 }),
                    "post_clicks" => json!(m.reach / 25),
                    "post_media_view" => json!(m.impressions),
                    "post_total_media_view_unique" => json!(m.reach),
                    _ => json!(m.views),
                };
                json!({ "name": metric, "period": "lifetime", "values": [{ "value": value }], "title": metric, "description": metric, "id": format!("{}/insights/{metric}/lifetime", post.id) })
            })
            .collect();
        self.ok(json!({ "data": data }), headers)
    }

    // ---- publishing ----------------------------------------------------------------------

    fn create_container(&self, me: &Account, id: &str) -> Reply {
        if id != me.id || me.platform != Platform::Instagram {
            return Err(GraphError::permission());
        }
        let headers = self.limit(Some((me, "instagram")))?;
        let media_type = self.params.get("media_type").cloned().unwrap_or_else(|| "IMAGE".into());
        if !["IMAGE", "REELS", "STORIES", "CAROUSEL", "VIDEO"].contains(&media_type.as_str()) {
            return Err(GraphError::param("Param media_type must be one of {IMAGE, REELS, STORIES, CAROUSEL, VIDEO}"));
        }
        if media_type == "IMAGE" && !self.params.contains_key("image_url") {
            return Err(GraphError::param("The parameter image_url is required"));
        }
        if media_type == "REELS" && !self.params.contains_key("video_url") {
            return Err(GraphError::param("The parameter video_url is required"));
        }
        let container_id = format!("178{:014}", self.state().serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 90_000_000_000_000);
        self.state().containers.lock().expect("containers").insert(
            container_id.clone(),
            Container { account: me.index, caption: self.params.get("caption").cloned().unwrap_or_default(), media_type, created: Utc::now(), published_id: None },
        );
        self.ok(json!({ "id": container_id }), headers)
    }

    fn publish(&self, me: &Account, id: &str) -> Reply {
        if id != me.id || me.platform != Platform::Instagram {
            return Err(GraphError::permission());
        }
        let headers = self.limit(Some((me, "instagram")))?;
        let creation_id = self.params.get("creation_id").ok_or_else(|| GraphError::param("The parameter creation_id is required"))?;
        let mut containers = self.state().containers.lock().expect("containers");
        let container = containers.get_mut(creation_id).filter(|c| c.account == me.index).ok_or_else(|| GraphError::unsupported(creation_id))?;
        if container.published_id.is_some() {
            return Err(GraphError::new(9004, "The media has already been published").sub(2207008));
        }
        if Utc::now() - container.created < Duration::milliseconds(if container.media_type == "REELS" { 1_500 } else { 0 }) {
            return Err(GraphError::new(9007, "Media ID is not available").sub(2207027));
        }
        let media_type = match container.media_type.as_str() { "REELS" | "VIDEO" => MediaType::Video, "STORIES" => MediaType::Story, "CAROUSEL" => MediaType::Carousel, _ => MediaType::Image };
        let post = self.new_post(me, container.caption.clone(), media_type, self.state().now() - Duration::seconds(1));
        container.published_id = Some(post.id.clone());
        let id = post.id.clone();
        self.state().published.lock().expect("published").entry(me.index).or_default().push(post);
        self.ok(json!({ "id": id }), headers)
    }

    fn page_post(&self, me: &Account, id: &str) -> Reply {
        if id != me.id || me.platform != Platform::Facebook {
            return Err(GraphError::new(200, "(#200) The user hasn't authorized the application to perform this action"));
        }
        let headers = self.limit(Some((me, "pages")))?;
        let message = self.params.get("message").cloned().unwrap_or_default();
        if message.is_empty() && !self.params.contains_key("link") {
            return Err(GraphError::param("The parameter message or link is required"));
        }
        let published = self.params.get("published").is_none_or(|p| p != "false");
        let at = if published {
            self.state().now() - Duration::seconds(1)
        } else {
            let ts: i64 = self.params.get("scheduled_publish_time").and_then(|t| t.parse().ok()).ok_or_else(|| GraphError::param("scheduled_publish_time is required for unpublished posts"))?;
            let at = Utc.timestamp_opt(ts, 0).single().ok_or_else(|| GraphError::param("Invalid scheduled_publish_time"))?;
            if at < self.state().now() + Duration::minutes(10) {
                return Err(GraphError::param("The specified scheduled publish time is invalid."));
            }
            at
        };
        let post = self.new_post(me, message, MediaType::Image, at);
        let id = post.id.clone();
        self.state().published.lock().expect("published").entry(me.index).or_default().push(post);
        self.ok(json!({ "id": id }), headers)
    }

    fn new_post(&self, me: &Account, caption: String, media_type: MediaType, at: DateTime<Utc>) -> Post {
        let n = self.state().published.lock().expect("published").get(&me.index).map_or(0, Vec::len) as u64;
        let id = match me.platform {
            Platform::Instagram => format!("179{:014}", me.index as u64 * 100_000 + 90_000 + n),
            _ => format!("{}_{}", me.id, 19_000_000 + n),
        };
        let hashtags = caption.split_whitespace().filter_map(|w| w.strip_prefix('#')).map(|h| h.to_lowercase()).collect();
        let mentions = caption.split_whitespace().filter_map(|w| w.strip_prefix('@')).map(str::to_owned).collect();
        Post {
            id,
            account_index: me.index,
            published_at: at,
            media_type,
            caption,
            hashtags,
            mentions,
            disclosure: None,
            pinned: false,
            viral: false,
            followers_at_publish: self.followers_now(me),
            metrics: Default::default(),
            duration_secs: if media_type == MediaType::Video { 30 } else { 0 },
        }
    }

    // ---- OAuth ---------------------------------------------------------------------------

    /// The consent dialog, approved at once: redirects back with a code (and the state).
    /// `sim_account` picks who logs in; otherwise the first connected account of the host.
    fn authorize(&self) -> Response {
        let app = self.app();
        let bad = |message: &str| (StatusCode::BAD_REQUEST, message.to_owned()).into_response();
        if self.params.get("client_id") != Some(&app.client_id) {
            return bad("Invalid App ID: the client_id is not an app of this simulator");
        }
        let Some(redirect) = self.params.get("redirect_uri") else { return bad("redirect_uri is required") };
        if self.params.get("response_type").is_some_and(|r| r != "code") {
            return bad("response_type must be code");
        }
        // Instagram Login signs in Instagram accounts; Facebook Login signs in Page owners and
        // Instagram accounts reached through their Page.
        let account = match self.params.get("sim_account") {
            Some(id) => self.state().account_by_id(Platform::Instagram, id).or_else(|| self.state().account_by_id(Platform::Facebook, id).filter(|_| self.host.flavour == Flavour::Facebook)),
            None => {
                let platform = if self.host.flavour == Flavour::Instagram { Platform::Instagram } else { Platform::Facebook };
                self.state().world.accounts().find(|a| a.connected && a.platform == platform)
            }
        };
        let Some(account) = account else { return bad("no such account in the simulated world") };
        let code = self.state().nonce("code");
        let scopes = self.params.get("scope").map(|s| s.split(',').map(|x| x.trim().to_owned()).collect()).unwrap_or_else(|| all_scopes(self.host.flavour));
        self.state().codes.lock().expect("codes").insert(
            code.clone(),
            PendingCode { flavour: self.host.flavour, account: account.index, redirect_uri: redirect.clone(), scopes, code_challenge: None, issued: Utc::now() },
        );
        let mut target = match url::Url::parse(redirect) {
            Ok(url) => url,
            Err(_) => return bad("redirect_uri is not a URL"),
        };
        target.query_pairs_mut().append_pair("code", &code);
        if let Some(state) = self.params.get("state") {
            target.query_pairs_mut().append_pair("state", state);
        }
        let mut location = target.to_string();
        if self.host.flavour == Flavour::Instagram {
            location.push_str("#_"); // Instagram appends it; clients must strip it
        }
        Redirect::to(&location).into_response()
    }

    fn take_code(&self) -> Result<PendingCode, GraphError> {
        let app = self.app();
        if self.params.get("client_id") != Some(&app.client_id) || self.params.get("client_secret") != Some(&app.client_secret) {
            return Err(GraphError::new(101, "Error validating client secret.").sub(1));
        }
        let code = self.params.get("code").ok_or_else(|| GraphError::param("Missing code parameter"))?;
        let pending = self.state().codes.lock().expect("codes").remove(code).filter(|p| p.flavour == self.host.flavour).ok_or_else(|| GraphError::new(100, "This authorization code has been used.").sub(36009))?;
        if Utc::now() - pending.issued > Duration::hours(1) {
            return Err(GraphError::new(100, "This authorization code has expired.").sub(36007));
        }
        if self.params.get("redirect_uri") != Some(&pending.redirect_uri) {
            return Err(GraphError::new(100, "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request").sub(36008));
        }
        Ok(pending)
    }

    fn fb_token_exchange(&self) -> Reply {
        let app = self.app();
        match self.params.get("grant_type").map(String::as_str) {
            Some("fb_exchange_token") => {
                if self.params.get("client_id") != Some(&app.client_id) || self.params.get("client_secret") != Some(&app.client_secret) {
                    return Err(GraphError::new(101, "Error validating client secret.").sub(1));
                }
                let short = self.params.get("fb_exchange_token").ok_or_else(|| GraphError::param("Missing fb_exchange_token"))?;
                let grant = self.state().grant(short).filter(|g| g.flavour == Flavour::Facebook).ok_or_else(GraphError::invalid_token)?;
                if grant.expires_at.is_some_and(|at| at <= Utc::now()) {
                    return Err(GraphError::expired_token());
                }
                let token = self.state().issue(Grant { expires_at: Some(Utc::now() + Duration::days(60)), long_lived: true, ..grant });
                self.ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": 5_183_944 }), vec![])
            }
            _ => {
                let pending = self.take_code()?;
                let token = self.state().issue(Grant { flavour: Flavour::Facebook, account: pending.account, scopes: pending.scopes, expires_at: Some(Utc::now() + Duration::hours(2)), long_lived: false });
                self.ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": 7_200 }), vec![])
            }
        }
    }

    fn ig_code_exchange(&self) -> Reply {
        if self.params.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return Err(GraphError::param("grant_type must be authorization_code"));
        }
        let pending = self.take_code()?;
        let account = self.state().world.account(pending.account);
        let permissions = pending.scopes.join(",");
        let token = self.state().issue(Grant { flavour: Flavour::Instagram, account: pending.account, scopes: pending.scopes, expires_at: Some(Utc::now() + Duration::hours(1)), long_lived: false });
        self.ok(json!({ "data": [{ "access_token": token, "user_id": account.id, "permissions": permissions }] }), vec![])
    }

    fn ig_long_lived(&self) -> Reply {
        if self.params.get("grant_type").map(String::as_str) != Some("ig_exchange_token") {
            return Err(GraphError::param("grant_type must be ig_exchange_token"));
        }
        if self.params.get("client_secret") != Some(&self.app().client_secret) {
            return Err(GraphError::new(101, "Error validating client secret.").sub(1));
        }
        let grant = self.grant()?;
        let token = self.state().issue(Grant { expires_at: Some(Utc::now() + Duration::days(60)), long_lived: true, ..grant });
        self.ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": 5_183_944 }), vec![])
    }

    fn ig_refresh(&self) -> Reply {
        if self.params.get("grant_type").map(String::as_str) != Some("ig_refresh_token") {
            return Err(GraphError::param("grant_type must be ig_refresh_token"));
        }
        let grant = self.grant()?;
        if !grant.long_lived {
            return Err(GraphError::param("Only long-lived tokens can be refreshed"));
        }
        let permissions = grant.scopes.join(",");
        let token = self.state().issue(Grant { expires_at: Some(Utc::now() + Duration::days(60)), ..grant });
        self.ok(json!({ "access_token": token, "token_type": "bearer", "expires_in": 5_183_944, "permissions": permissions }), vec![])
    }

    fn debug_token(&self) -> Reply {
        let app = self.app();
        let app_token = format!("{}|{}", app.client_id, app.client_secret);
        if self.token().as_deref() != Some(app_token.as_str()) && self.token().and_then(|t| self.state().grant(&t)).is_none() {
            return Err(GraphError::invalid_token());
        }
        let input = self.params.get("input_token").ok_or_else(|| GraphError::param("The parameter input_token is required"))?;
        let now = Utc::now().timestamp();
        let body = match self.state().grant(input) {
            Some(grant) => {
                let account = self.state().world.account(grant.account);
                let expires = grant.expires_at.map_or(0, |t| t.timestamp());
                json!({ "data": {
                    "app_id": app.client_id, "type": if account.platform == Platform::Facebook { "PAGE" } else { "USER" },
                    "application": "Analisa (simulated)", "data_access_expires_at": now + 90 * 86_400, "expires_at": expires,
                    "is_valid": grant.expires_at.is_none_or(|t| t > Utc::now()), "issued_at": now - 3_600, "scopes": grant.scopes,
                    "granular_scopes": grant.scopes.iter().map(|s| json!({ "scope": s, "target_ids": [account.id] })).collect::<Vec<_>>(),
                    "user_id": account.id,
                }})
            }
            None => json!({ "data": { "app_id": app.client_id, "is_valid": false, "error": { "code": 190, "message": "Invalid OAuth access token." }, "scopes": [] } }),
        };
        self.ok(body, vec![])
    }
}

/// `reactions.summary(total_count).limit(0)` → `{"data":[],"summary":{…}}`.
/// How many items an expanded edge shows: `.limit(n)` (at most 100), else 25.
fn nested_limit(field: &FieldSel) -> Result<usize, GraphError> {
    match field.modifier("limit") {
        Some(limit) => limit.parse::<usize>().map(|l| l.min(100)).map_err(|_| GraphError::param("Param limit must be a number")),
        None => Ok(25),
    }
}

/// A Page post's comment node.
fn page_comment(comment: &Comment) -> Value {
    json!({ "id": comment.id, "message": comment.text, "created_time": meta_time(comment.published_at), "from": { "id": comment.commenter_id, "name": comment.username } })
}

fn summary_edge(field: &FieldSel, summary: Value) -> Value {
    if field.modifier("summary").is_some() { json!({ "data": [], "summary": summary }) } else { json!({ "data": [] }) }
}

/// Insights days end at midnight Pacific time, written in UTC.
fn end_time(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(date + Duration::days(1)).and_hms_opt(8, 0, 0).expect("valid time"))
}

fn unix(date: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight")).timestamp()
}
