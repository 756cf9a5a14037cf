//! The fake platform servers: one process, one loopback listener per platform.

mod common;
mod faults;
mod fields;
mod ga4;
mod limits;
mod meta;
mod state;
mod tiktok;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use faults::{Faults, parse as parse_faults};
pub use limits::Budgets;
pub use state::{Flavour, SERVERS, SimState};
pub use tiktok::pkce_challenge;
pub use webhooks::{hmac_hex, meta_signature, tiktok_signature};

use crate::rng::Rng;
use crate::world::{Platform, WorldSpec};
use faults::Fault;
use meta::{GraphError, MetaHost};

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub world: WorldSpec,
    /// Address to bind; port 0 gives every server a free port, port N gives N, N+1, …
    pub listen: SocketAddr,
    pub faults: HashMap<&'static str, Faults>,
    pub budgets: Budgets,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// Where one platform's connector must point (the `[platforms.<key>]` values).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub key: &'static str,
    pub base_url: String,
    pub api_version: String,
    pub auth_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A running simulator.
pub struct RunningSim {
    pub state: Arc<SimState>,
    /// Base URL of each server, keyed by server name (`instagram`, `facebook`, …).
    pub urls: BTreeMap<&'static str, String>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    pub async fn start(options: SimOptions) -> Result<Self, SimError> {
        let state = Arc::new(SimState::new(options.world, limits::Limits::new(options.budgets), options.faults));
        let (shutdown, receiver) = watch::channel(false);
        let mut urls = BTreeMap::new();
        let mut tasks = Vec::new();
        for (n, server) in SERVERS.into_iter().enumerate() {
            let port = if options.listen.port() == 0 { 0 } else { options.listen.port() + n as u16 };
            let addr = SocketAddr::new(options.listen.ip(), port);
            let listener = TcpListener::bind(addr).await.map_err(|source| SimError::Bind { addr, source })?;
            let local = listener.local_addr().map_err(|source| SimError::Bind { addr, source })?;
            urls.insert(server, format!("http://{}/", display_addr(local)));
            let app = router(server, state.clone());
            let mut stop = receiver.clone();
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
            }));
        }
        Ok(Self { state, urls, shutdown, tasks })
    }

    /// Stops every server and waits for them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// App credentials of each API flavour.
    pub fn apps(&self) -> Value {
        let apps: serde_json::Map<String, Value> = Flavour::ALL
            .iter()
            .map(|f| (flavour_key(*f).to_owned(), json!({ "client_id": self.state.apps[f].client_id, "client_secret": self.state.apps[f].client_secret })))
            .collect();
        Value::Object(apps)
    }

    /// Every account with the tokens a connector needs to read it, as JSON.
    pub fn accounts_json(&self) -> Value {
        let world = &self.state.world;
        let accounts: Vec<Value> = world
            .accounts()
            .map(|a| {
                let mut tokens = serde_json::Map::new();
                for flavour in Flavour::ALL.into_iter().filter(|f| f.serves(a.platform) && *f != Flavour::Google) {
                    let mut token = json!({ "access_token": state::preissued_token(world.seed, flavour, a.index) });
                    if matches!(flavour, Flavour::TiktokDisplay | Flavour::TiktokBusiness) {
                        token["refresh_token"] = json!(tiktok::preissue_refresh(&self.state, flavour, a.index));
                    }
                    tokens.insert(flavour_key(flavour).to_owned(), token);
                }
                let mut entry = json!({
                    "platform": a.platform.as_str(), "id": a.id, "handle": a.handle, "name": a.name, "niche": a.niche,
                    "country": a.country, "language": a.lang.as_str(), "account_type": a.account_type.as_str(),
                    "connected": a.connected, "tokens": tokens,
                });
                if a.connected {
                    entry["ga4"] = json!({ "property_id": ga4::property_id(a.index), "access_token": state::preissued_token(world.seed, Flavour::Google, a.index) });
                }
                entry
            })
            .collect();
        json!({ "seed": world.seed, "influencers": world.influencers, "days": world.days, "start_date": world.start_date().to_string(), "end_date": world.end_date.to_string(), "accounts": accounts })
    }

    /// Where each connector must point to use this simulator, keyed like `[platforms.*]`.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let sections: [(&'static str, Flavour, &str, &str, &str); 5] = [
            ("instagram", Flavour::Instagram, "v24.0", "oauth/authorize", "oauth/access_token"),
            ("facebook", Flavour::Facebook, "v24.0", "v24.0/dialog/oauth", "v24.0/oauth/access_token"),
            ("tiktok", Flavour::TiktokDisplay, "v2", "v2/auth/authorize/", "v2/oauth/token/"),
            ("tiktok_business", Flavour::TiktokBusiness, "v1.3", "portal/auth", "open_api/v1.3/tt_user/oauth2/token/"),
            ("ga4", Flavour::Google, "v1beta", "o/oauth2/v2/auth", "token"),
        ];
        sections
            .into_iter()
            .map(|(key, flavour, version, auth, token)| {
                let base = &self.urls[key];
                let app = &self.state.apps[&flavour];
                Endpoint {
                    key,
                    base_url: if key == "tiktok_business" { format!("{base}open_api/") } else { base.clone() },
                    api_version: version.to_owned(),
                    auth_url: format!("{base}{auth}"),
                    token_url: format!("{base}{token}"),
                    client_id: app.client_id.clone(),
                    client_secret: app.client_secret.clone(),
                }
            })
            .collect()
    }

    /// An `analisa.toml` fragment pointing every connector at this simulator.
    pub fn config_fragment(&self) -> String {
        let operator = self.state.world.accounts().find(|a| a.platform == Platform::Instagram && a.account_type != crate::world::AccountType::Personal);
        let mut out = String::from("# Written by `analisa sim serve`: every platform connector points at the simulator.\n");
        for e in self.endpoints() {
            out.push_str(&format!(
                "\n[platforms.{}]\nbase_url = \"{}\"\napi_version = \"{}\"\nauth_url = \"{}\"\ntoken_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
                e.key, e.base_url, e.api_version, e.auth_url, e.token_url, e.client_id, e.client_secret
            ));
            if e.key == "facebook" {
                if let Some(account) = &operator {
                    out.push_str(&format!("# token of the operator's own Instagram business account (@{}), for business_discovery\naccess_token = \"{}\"\n", account.handle, state::preissued_token(self.state.world.seed, Flavour::Facebook, account.index)));
                }
            }
        }
        out
    }

    /// The line `sim serve` prints when it is ready.
    pub fn ready_line(&self, accounts_file: &str) -> Value {
        json!({
            "ready": true, "servers": self.urls, "apps": self.apps(), "accounts_file": accounts_file,
            "seed": self.state.world.seed, "influencers": self.state.world.influencers, "days": self.state.world.days,
            "now": self.state.now().to_rfc3339(),
        })
    }
}

fn display_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
    }
}

fn flavour_key(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Facebook => "facebook",
        Flavour::Instagram => "instagram",
        Flavour::TiktokDisplay => "tiktok",
        Flavour::TiktokBusiness => "tiktok_business",
        Flavour::Google => "ga4",
    }
}

fn router(server: &'static str, state: Arc<SimState>) -> Router {
    let api: Router = match server {
        "instagram" | "facebook" => {
            let flavour = if server == "instagram" { Flavour::Instagram } else { Flavour::Facebook };
            Router::new().fallback(meta::handle).with_state(MetaHost { state: state.clone(), flavour })
        }
        "tiktok" => Router::new().fallback(tiktok::display).with_state(state.clone()),
        "tiktok_business" => Router::new().fallback(tiktok::business).with_state(state.clone()),
        _ => Router::new()
            .route("/v1beta/properties/{property}", post(ga4::run_report))
            .route("/o/oauth2/v2/auth", get(ga4::authorize_route))
            .route("/token", post(ga4::token))
            .with_state(state.clone()),
    };
    let admin = Router::new()
        .route("/_sim/health", get(|| async { "ok" }))
        .route("/_sim/stats", get(stats))
        .route("/_sim/clock", get(clock).post(set_clock))
        .route("/_sim/webhooks/subscribe", post(subscribe))
        .route("/_sim/webhooks/emit", post(emit))
        .with_state(state.clone());
    api.merge(admin).layer(middleware::from_fn_with_state((state, server), inject_faults))
}

// ---- faults --------------------------------------------------------------------------------

async fn inject_faults(State((state, server)): State<(Arc<SimState>, &'static str)>, request: Request, next: Next) -> Response {
    let faults = state.faults.get(server).copied().unwrap_or_default();
    if request.uri().path().starts_with("/_sim/") || !faults.any() {
        return next.run(request).await;
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let n = state.serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let draw = Rng::for_entity(state.world.seed, server, n).f64();
    let Some(fault) = faults.pick(draw) else {
        return next.run(request).await;
    };
    let meta = matches!(server, "instagram" | "facebook");
    match fault {
        Fault::Truncated => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut response = Response::from_parts(parts, Body::from(cut.clone()));
            response.headers_mut().insert("content-length", cut.len().into());
            response
        }
        Fault::Malformed => ([("content-type", "application/json")], "{\"data\": [{\"id\": \"17841<html>upstream garbage").into_response(),
        Fault::ServerError => match server {
            _ if meta => GraphError::server_error().into_response(),
            "tiktok" => common::json(StatusCode::INTERNAL_SERVER_ERROR, json!({ "data": {}, "error": { "code": "internal_error", "message": "Something went wrong. Please try again later.", "log_id": "sim" } }), vec![]),
            "ga4" => common::json(StatusCode::SERVICE_UNAVAILABLE, json!({ "error": { "code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE" } }), vec![]),
            _ => (StatusCode::BAD_GATEWAY, "upstream connect error or disconnect/reset before headers").into_response(),
        },
        Fault::Storm => {
            state.count(server).throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match server {
                _ if meta => GraphError::app_limit().into_response(),
                "tiktok" => common::json(StatusCode::TOO_MANY_REQUESTS, json!({ "data": {}, "error": { "code": "rate_limit_exceeded", "message": "Your request has exceeded the rate limit.", "log_id": "sim" } }), vec![("retry-after", "2".into())]),
                "ga4" => common::json(StatusCode::TOO_MANY_REQUESTS, json!({ "error": { "code": 429, "message": "Exhausted concurrent requests quota.", "status": "RESOURCE_EXHAUSTED" } }), vec![]),
                _ => tiktok::business_envelope(&state, 40100, "Due to too many requests, requests from App are temporarily restricted.", json!({})),
            }
        }
        Fault::ExpiredToken => match server {
            _ if meta => GraphError::expired_token().into_response(),
            "tiktok" => common::json(StatusCode::UNAUTHORIZED, json!({ "data": {}, "error": { "code": "access_token_invalid", "message": "The access token is invalid or not found in the request.", "log_id": "sim" } }), vec![]),
            "ga4" => common::json(StatusCode::UNAUTHORIZED, json!({ "error": { "code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED" } }), vec![]),
            _ => tiktok::business_envelope(&state, 40105, "Access token is incorrect or has been revoked.", json!({})),
        },
    }
}

// ---- admin ---------------------------------------------------------------------------------

async fn stats(State(state): State<Arc<SimState>>) -> axum::Json<Value> {
    let servers: serde_json::Map<String, Value> = SERVERS
        .iter()
        .map(|s| {
            let c = state.count(s);
            (s.to_string(), json!({ "requests": c.requests.load(std::sync::atomic::Ordering::Relaxed), "throttled": c.throttled.load(std::sync::atomic::Ordering::Relaxed) }))
        })
        .collect();
    axum::Json(json!({ "servers": servers, "now": state.now().to_rfc3339() }))
}

async fn clock(State(state): State<Arc<SimState>>) -> axum::Json<Value> {
    axum::Json(json!({ "now": state.now().to_rfc3339(), "today": state.today().to_string(), "start_date": state.world.start_date().to_string(), "end_date": state.world.end_date.to_string() }))
}

#[derive(Deserialize)]
struct ClockBody {
    date: NaiveDate,
}

/// Moves the world's clock to the end of a day; webhook subscribers hear of the comments
/// written in between.
async fn set_clock(State(state): State<Arc<SimState>>, axum::Json(body): axum::Json<ClockBody>) -> Response {
    match state.set_day(body.date) {
        Ok(previous) => {
            let delivered = deliver_new_comments(&state, previous, state.now()).await;
            common::json(StatusCode::OK, json!({ "now": state.now().to_rfc3339(), "webhooks_delivered": delivered }), vec![])
        }
        Err(message) => common::json(StatusCode::BAD_REQUEST, json!({ "error": message }), vec![]),
    }
}

#[derive(Deserialize)]
struct SubscribeBody {
    platform: String,
    callback_url: String,
    #[serde(default)]
    verify_token: String,
}

/// Registers a receiver. For Meta platforms the simulator first performs the verification
/// handshake, as Meta does when a callback URL is saved: the receiver must echo the challenge.
async fn subscribe(State(state): State<Arc<SimState>>, axum::Json(body): axum::Json<SubscribeBody>) -> Response {
    if !["instagram", "facebook", "tiktok"].contains(&body.platform.as_str()) {
        return common::json(StatusCode::BAD_REQUEST, json!({ "error": "platform must be instagram, facebook or tiktok" }), vec![]);
    }
    if body.platform != "tiktok" {
        let challenge = (state.serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 7_919 + 1_158_201_444).to_string();
        let Ok(mut url) = url::Url::parse(&body.callback_url) else {
            return common::json(StatusCode::BAD_REQUEST, json!({ "error": "callback_url is not a URL" }), vec![]);
        };
        url.query_pairs_mut().append_pair("hub.mode", "subscribe").append_pair("hub.challenge", &challenge).append_pair("hub.verify_token", &body.verify_token);
        let answer = reqwest::Client::new().get(url).timeout(std::time::Duration::from_secs(5)).send().await;
        let verified = match answer {
            Ok(r) if r.status().is_success() => r.text().await.is_ok_and(|t| t == challenge),
            _ => false,
        };
        if !verified {
            return common::json(StatusCode::BAD_REQUEST, json!({ "subscribed": false, "error": "The URL couldn't be validated. Response does not match challenge." }), vec![]);
        }
    }
    let mut subs = state.webhooks.lock().expect("subscriptions");
    let sub = webhooks::Subscription { platform: body.platform, callback_url: body.callback_url };
    if !subs.contains(&sub) {
        subs.push(sub);
    }
    common::json(StatusCode::OK, json!({ "subscribed": true }), vec![])
}

#[derive(Deserialize)]
struct EmitBody {
    platform: String,
    /// comment (default) or mention; TikTok sends authorization.removed.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
}

/// Sends one event now, about the newest comment of an account (the first connected one of
/// the platform unless named), to every subscriber of that platform.
async fn emit(State(state): State<Arc<SimState>>, axum::Json(body): axum::Json<EmitBody>) -> Response {
    let platform = match body.platform.as_str() {
        "instagram" => Platform::Instagram,
        "facebook" => Platform::Facebook,
        "tiktok" => Platform::Tiktok,
        _ => return common::json(StatusCode::BAD_REQUEST, json!({ "error": "platform must be instagram, facebook or tiktok" }), vec![]),
    };
    let account = match &body.account_id {
        Some(id) => state.account_by_id(platform, id),
        None => state.world.accounts().find(|a| a.platform == platform && a.connected),
    };
    let Some(account) = account else { return common::json(StatusCode::NOT_FOUND, json!({ "error": "no such account" }), vec![]) };
    let time = state.now().timestamp();
    let payload = if platform == Platform::Tiktok {
        webhooks::tiktok_event(&state.apps[&Flavour::TiktokDisplay].client_id, "authorization.removed", &account.id, &json!({ "reason": 1 }), time)
    } else {
        let now = state.now();
        let latest = state.visible_posts(account.index).into_iter().find_map(|p| state.world.comments(&account, &p).into_iter().filter(|c| c.published_at < now).next_back().map(|c| (p, c)));
        let Some((post, comment)) = latest else { return common::json(StatusCode::NOT_FOUND, json!({ "error": "the account has no comments yet" }), vec![]) };
        match body.kind.as_deref() {
            Some("mention") => webhooks::meta_mention_event(&account.id, &post.id, &comment.id, time),
            _ => webhooks::meta_comment_event(&account.id, &post, platform == Platform::Facebook, &comment, time),
        }
    };
    let results = deliver(&state, platform, &payload).await;
    common::json(StatusCode::OK, json!({ "payload": payload, "deliveries": results }), vec![])
}

async fn deliver(state: &SimState, platform: Platform, payload: &Value) -> Vec<Value> {
    let subscribers: Vec<webhooks::Subscription> = state.webhooks.lock().expect("subscriptions").iter().filter(|s| s.platform == platform.as_str()).cloned().collect();
    let client = reqwest::Client::new();
    let mut results = Vec::new();
    for sub in subscribers {
        let (body, header, value) = if platform == Platform::Tiktok {
            let body = payload.to_string().into_bytes();
            let signature = webhooks::tiktok_signature(&state.apps[&Flavour::TiktokDisplay].client_secret, chrono::Utc::now().timestamp(), &body);
            (body, "TikTok-Signature", signature)
        } else {
            let body = webhooks::meta_body(payload);
            let signature = webhooks::meta_signature(&state.apps[&Flavour::Facebook].client_secret, &body);
            (body, "X-Hub-Signature-256", signature)
        };
        let status = client
            .post(&sub.callback_url)
            .header("content-type", "application/json")
            .header(header, value)
            .body(body)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        results.push(json!({ "callback_url": sub.callback_url, "status": status }));
    }
    results
}

/// On a clock move, every comment written in (from, to] on a connected account's media is
/// delivered to the platform's subscribers.
async fn deliver_new_comments(state: &SimState, from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> usize {
    if to <= from || state.webhooks.lock().expect("subscriptions").is_empty() {
        return 0;
    }
    let mut delivered = 0;
    let connected: Vec<_> = state.world.accounts().filter(|a| a.connected && a.platform != Platform::Tiktok).collect();
    for account in connected {
        for post in state.timeline(account.index).posts.iter().filter(|p| p.published_at < to && p.published_at > from - chrono::Duration::days(5)) {
            for comment in state.world.comments(&account, post).into_iter().filter(|c| c.published_at > from && c.published_at <= to) {
                let payload = webhooks::meta_comment_event(&account.id, post, account.platform == Platform::Facebook, &comment, comment.published_at.timestamp());
                delivered += deliver(state, account.platform, &payload).await.len();
            }
        }
    }
    delivered
}
