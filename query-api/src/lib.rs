//! Analisa's HTTP API: accounts and organisations with roles, public influencer data from the
//! serving tables, each organisation's private lists and campaigns, the audit log, and the
//! dashboard's files.

mod adhoc;
mod audit;
mod auth;
mod cache;
mod config;
mod error;
mod ids;
mod metrics;
mod near_cache;
mod openapi;
mod ratelimit;
mod rbac;
mod redis;
mod routes;
mod sql;
mod state;
mod flight;
mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use analisa_lake::Lake;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use secrecy::SecretString;
use sqlx::PgPool;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use crate::adhoc::{AdhocError, AdhocResult, export_query};
pub use crate::audit::{Entry as AuditEntry, Verdict, record as audit_record, verify as verify_audit_log};
pub use crate::auth::{WeakSecret, random_token};
pub use crate::error::ApiError;
pub use crate::ids::Plan;
pub use crate::routes::auth::{NewAccount, RegisterResponse as Provisioned, provision};
pub use crate::config::ApiConfig;
pub use crate::error::Problem;
pub use crate::openapi::{document as openapi_document, document_json as openapi_json};
use crate::error::{PROBLEM_JSON, problem};
use crate::state::AppState;

/// Why the API cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    WeakSecret(#[from] WeakSecret),
    #[error("the SQL query threads cannot be started: {0}")]
    QueryThreads(std::io::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum FlightSqlError {
    #[error("Flight SQL needs a lake to query")]
    NoLake,
    #[error("Flight SQL server failed: {0}")]
    Transport(tonic::transport::Error),
}

/// The running API's shared parts.
#[derive(Clone)]
pub struct Api {
    state: AppState,
}

impl Api {
    /// `redis_prefix` must be the one `jobs` publishes under (its cache keys and announcements).
    pub fn new(db: PgPool, redis_url: &str, redis_prefix: &str, lake: Option<Lake>, config: ApiConfig) -> Result<Self, SetupError> {
        let secret: SecretString = config.jwt_secret.clone().ok_or(WeakSecret)?;
        let keys = auth::TokenKeys::new(&secret, &config)?;
        let sql = match &lake {
            Some(lake) => Some(Arc::new(sql::Gateway::new(lake.clone(), db.clone(), config.sql.clone()).map_err(SetupError::QueryThreads)?)),
            None => None,
        };
        let redis = redis::RedisHandle::new(redis_url, redis_prefix);
        let near = near_cache::NearCache::new(config.near_cache_bytes, config.cache_ttl);
        near.follow(redis.clone());
        Ok(Self {
            state: AppState::new(state::Shared {
                db,
                redis,
                near,
                leases: Arc::default(),
                lake,
                sql,
                config: Arc::new(config),
                keys: Arc::new(keys),
                metrics: Arc::default(),
                connections: None,
            }),
        })
    }

    /// Lets organisations connect platform accounts through the API.
    pub fn with_connections(mut self, connections: analisa_ingest::oauth::Connections) -> Self {
        self.state.configure().connections = Some(Arc::new(connections));
        self
    }

    /// Every route, with request ids, tracing, metrics, problem+json errors, compression, CORS.
    pub fn router(&self) -> Router {
        use routes::{auth as a, connections as c, influencers as i, lists as l, ops, orgs as o};
        let state = self.state.clone();
        let protected = Router::new()
            .route("/v1/auth/logout", post(a::logout))
            .route("/v1/me", get(a::me))
            .route("/v1/me/identities", get(routes::identities::list_identities))
            .route("/v1/me/identities/{platform}", post(routes::identities::begin_link_identity).delete(routes::identities::unlink_identity))
            .route("/v1/me/identities/{platform}/complete", post(routes::identities::link_identity))
            .route("/v1/orgs", post(o::create))
            .route("/v1/orgs/{org_id}", get(o::get).patch(o::update).delete(o::delete))
            .route("/v1/orgs/{org_id}/members", get(o::members))
            .route("/v1/orgs/{org_id}/members/{user_id}", axum::routing::patch(o::change_role).delete(o::remove_member))
            .route("/v1/orgs/{org_id}/invitations", get(o::invitations).post(o::invite))
            .route("/v1/orgs/{org_id}/invitations/{invitation_id}", axum::routing::delete(o::revoke_invitation))
            .route("/v1/invitations/accept", post(o::accept))
            .route("/v1/orgs/{org_id}/api-keys", get(o::keys).post(o::create_key))
            .route("/v1/orgs/{org_id}/api-keys/{key_id}", axum::routing::delete(o::revoke_key))
            .route("/v1/orgs/{org_id}/connections", get(c::list).post(c::begin))
            .route("/v1/orgs/{org_id}/connections/complete", post(c::complete))
            .route("/v1/orgs/{org_id}/connections/{connection_id}", axum::routing::delete(c::disconnect))
            .route("/v1/orgs/{org_id}/activity", get(o::activity))
            .route("/v1/orgs/{org_id}/lists", get(l::lists).post(l::create_list))
            .route("/v1/orgs/{org_id}/lists/{list_id}", get(l::get_list).patch(l::rename_list).delete(l::delete_list))
            .route("/v1/orgs/{org_id}/lists/{list_id}/influencers/{id}", put(l::add_to_list).delete(l::remove_from_list))
            .route("/v1/orgs/{org_id}/campaigns", get(l::campaigns).post(l::create_campaign))
            .route("/v1/orgs/{org_id}/campaigns/{campaign_id}", get(l::get_campaign).put(l::update_campaign).delete(l::delete_campaign))
            .route("/v1/orgs/{org_id}/campaigns/{campaign_id}/influencers/{id}", put(l::add_to_campaign).delete(l::remove_from_campaign))
            .route("/v1/orgs/{org_id}/flags/{flag_id}/dispute", post(l::dispute))
            .route("/v1/orgs/{org_id}/disputes", get(l::disputes))
            .route("/v1/influencers", get(i::search))
            .route("/v1/influencers/{id}", get(i::profile))
            .route("/v1/influencers/{id}/history", get(i::history))
            .route("/v1/influencers/{id}/posts", get(i::posts))
            .route("/v1/compare", get(i::compare))
            .route("/v1/sql", post(routes::sql::query))
            .route("/v1/orgs/{org_id}/reports", get(routes::reports::list).post(routes::reports::create))
            .route("/v1/orgs/{org_id}/reports/{report_id}", put(routes::reports::update).delete(routes::reports::delete))
            .route("/v1/orgs/{org_id}/reports/{report_id}/runs", get(routes::reports::runs).post(routes::reports::run_now))
            .route("/v1/orgs/{org_id}/reports/{report_id}/runs/{run_id}/files/{name}", get(routes::reports::download))
            .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate));
        let public = Router::new()
            .route("/health", get(ops::health))
            .route("/ready", get(ops::ready))
            .route("/metrics", get(ops::metrics))
            .route("/openapi.json", get(ops::openapi))
            .route("/docs", get(ops::docs))
            .route("/v1/auth/register", post(a::register))
            .route("/v1/auth/login", post(a::login))
            .route("/v1/auth/refresh", post(a::refresh))
            .route("/v1/auth/social/{platform}", post(routes::identities::begin_social_sign_in))
            .route("/v1/auth/social/{platform}/complete", post(routes::identities::social_sign_in));
        let mut router = public.merge(protected).with_state(state.clone());
        router = match &state.config.web_root {
            Some(root) => router.fallback_service(web::dashboard(root)),
            None => router.fallback(|| async { problem(StatusCode::NOT_FOUND, "not-found", "no such route".into()) }),
        };
        let request_id = HeaderName::from_static("x-request-id");
        router
            .layer(middleware::from_fn(problem_for_plain_errors))
            .layer(middleware::from_fn_with_state(state.clone(), metrics::observe))
            .layer(CompressionLayer::new())
            .layer(cors(&state.config.cors_origins))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
    }

    /// Serves Arrow Flight SQL (same credentials, same SQL gateway as `/v1/sql`) until
    /// `shutdown` resolves.
    pub async fn serve_flight_sql(&self, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()> + Send) -> Result<(), FlightSqlError> {
        let service = flight::server(&self.state).ok_or(FlightSqlError::NoLake)?;
        tonic::transport::Server::builder()
            .add_service(service)
            // Without TCP_NODELAY every small answer waits out the peer's delayed ACK (~40 ms).
            .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)), shutdown)
            .await
            .map_err(FlightSqlError::Transport)
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn serve(&self, listener: tokio::net::TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            // Small answers go out at once instead of waiting for the peer's delayed ACK.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_NONE_MATCH, HeaderName::from_static("x-api-key")])
        .expose_headers([header::ETAG, HeaderName::from_static("x-request-id"), HeaderName::from_static("ratelimit-remaining"), HeaderName::from_static("ratelimit-reset")])
        .max_age(Duration::from_secs(600))
}

/// Errors raised by axum itself (a malformed JSON body, a bad path or query, a wrong method)
/// come as plain text: they are turned into problem+json here, so that every error has one
/// shape.
/// Request ids are random UUIDs drawn from the thread's generator (seeded from the operating
/// system, then in process): tower-http's `MakeRequestUuid` asks the operating system for every
/// id, 7 % of a cached answer's time in B5's profile. Ids need to be unique, not secret.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        Some(RequestId::new(HeaderValue::from_str(id.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer())).expect("a UUID is ASCII")))
    }
}

async fn problem_for_plain_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let detail = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let slug = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::NOT_FOUND => "not-found",
        s if s.is_server_error() => "internal",
        _ => "bad-request",
    };
    // A JSON body of the wrong shape is bad input like any other (axum says 422).
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    let mut converted = problem(status, slug, detail);
    for (name, value) in parts.headers.iter().filter(|(name, _)| *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH) {
        converted.headers_mut().insert(name.clone(), value.clone());
    }
    converted
}
