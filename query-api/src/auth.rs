//! Who is calling: passwords (argon2id), access tokens (HS256 JWT, algorithm pinned), rotating
//! refresh tokens, API keys, and the middleware that turns a request's credentials into a
//! [`Principal`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::ApiConfig;
use crate::error::{ApiError, ApiResult};
use crate::ids::{Plan, Role};
use crate::state::AppState;

/// Signing material and the rules every presented token must meet.
pub struct TokenKeys {
    /// Tokens already verified, until they expire: a signature is checked once per token, not
    /// once per request (8 % of a cached answer's time in B5's profile). Keyed by the whole
    /// token, so a token differing in one byte is verified afresh.
    verified: RwLock<HashMap<String, Bearer>>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("api.jwt_secret (ANALISA__API__JWT_SECRET) must be set to at least 32 bytes, e.g. `openssl rand -base64 48`")]
pub struct WeakSecret;

impl TokenKeys {
    pub fn new(secret: &SecretString, config: &ApiConfig) -> Result<Self, WeakSecret> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < 32 {
            return Err(WeakSecret);
        }
        // One algorithm only: a token naming `none`, RS256 or anything else is refused before
        // its signature is looked at, which closes algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            verified: RwLock::default(),
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
        })
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn issue(&self, user_id: Uuid, session: Uuid, plan: Plan) -> ApiResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            sid: session,
            jti: Uuid::new_v4(),
            plan,
            iat: now,
            nbf: now,
            exp: now + self.access_ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
    }

    /// The bearer a valid access token names.
    pub fn verify(&self, token: &str) -> ApiResult<Bearer> {
        let now = Utc::now().timestamp();
        if let Some(bearer) = self.verified.read().expect("never poisoned").get(token).filter(|b| b.expires > now) {
            return Ok(*bearer);
        }
        let claims = self.check(token)?;
        let bearer = Bearer { user_id: claims.sub, session: claims.sid, plan: claims.plan, expires: claims.exp };
        let mut verified = self.verified.write().expect("never poisoned");
        if verified.len() >= MAX_VERIFIED_TOKENS {
            verified.retain(|_, b| b.expires > now);
            if verified.len() >= MAX_VERIFIED_TOKENS {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), bearer);
        Ok(bearer)
    }

    fn check(&self, token: &str) -> ApiResult<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            ApiError::Unauthenticated(match e.kind() {
                ErrorKind::ExpiredSignature => "the access token has expired; refresh it".into(),
                ErrorKind::ImmatureSignature => "the access token is not valid yet".into(),
                ErrorKind::InvalidAudience => "the access token is for another audience".into(),
                ErrorKind::InvalidIssuer => "the access token is from another issuer".into(),
                ErrorKind::InvalidAlgorithm => "the access token's algorithm is not accepted".into(),
                _ => "the access token is invalid".into(),
            })
        })
    }
}

/// Verified tokens remembered at most; beyond it, expired ones are dropped and then all.
const MAX_VERIFIED_TOKENS: usize = 100_000;

/// What a verified access token says about its bearer.
#[derive(Debug, Clone, Copy)]
pub struct Bearer {
    pub user_id: Uuid,
    /// The sign-in session: revoking it ends the token too.
    pub session: Uuid,
    pub plan: Plan,
    /// Unix seconds.
    expires: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    /// The sign-in session (refresh family): revoking it ends this token too.
    pub sid: Uuid,
    pub jti: Uuid,
    /// The best plan among the user's organisations, for rate limiting without a query.
    pub plan: Plan,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum).
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Checks a password against a stored hash; with no stored hash it still does the work, so that
/// timing does not tell which e-mails have accounts.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Hmrq0sX8dXmGw5rBlyb6uWl1Nb8S0n1uBIc8cGvOIg";
    tokio::task::spawn_blocking(move || {
        let found = stored.is_some();
        let hash = stored.unwrap_or_else(|| DECOY.to_owned());
        let ok = PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
        found && ok
    })
    .await
    .unwrap_or(false)
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored as SHA-256: they are long random strings, so a slow hash adds nothing.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An API key as shown once to its creator: `ak_{prefix}.{secret}`.
pub struct NewApiKey {
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub plaintext: String,
}

pub fn new_api_key() -> NewApiKey {
    let mut prefix = [0u8; 6];
    rand::rng().fill_bytes(&mut prefix);
    let prefix = hex::encode(prefix);
    let secret = random_token();
    NewApiKey { plaintext: format!("ak_{prefix}.{secret}"), secret_hash: token_hash(&secret), prefix }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    User { user_id: Uuid, session: Uuid, plan: Plan },
    ApiKey { key_id: Uuid, prefix: String, org_id: Uuid, role: Role, plan: Plan },
}

impl Principal {
    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        match self {
            Self::User { user_id, .. } => format!("user:{user_id}"),
            Self::ApiKey { prefix, .. } => format!("api_key:{prefix}"),
        }
    }

    pub fn plan(&self) -> Plan {
        match self {
            Self::User { plan, .. } | Self::ApiKey { plan, .. } => *plan,
        }
    }

    /// The rate-limit bucket of the caller.
    pub fn bucket(&self) -> String {
        match self {
            Self::User { user_id, .. } => format!("user:{user_id}"),
            Self::ApiKey { key_id, .. } => format!("key:{key_id}"),
        }
    }

    pub fn user_id(&self) -> ApiResult<Uuid> {
        match self {
            Self::User { user_id, .. } => Ok(*user_id),
            Self::ApiKey { .. } => Err(ApiError::Forbidden("this action needs a signed-in user, not an API key".into())),
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> ApiResult<Self> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| ApiError::Unauthenticated("sign in or present an API key".into()))
    }
}

/// Authenticates every request of the protected routes; the principal travels in the request's
/// extensions to the extractors.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let credential = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .or_else(|| request.headers().get("x-api-key").and_then(|v| v.to_str().ok()))
        .ok_or_else(|| ApiError::Unauthenticated("sign in (Authorization: Bearer <access token>) or present an API key".into()))?
        .to_owned();
    let principal = principal_for(&state, &credential).await?;
    let limit = crate::ratelimit::take(&state, &principal).await;
    let mut response = match limit.as_ref().map(|l| l.remaining < 0) {
        Some(true) => ApiError::TooManyRequests { detail: format!("rate limit of the {} plan reached", principal.plan().as_str()), retry_after_secs: limit.as_ref().map_or(1, |l| l.retry_after_secs) }.into_response(),
        _ => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
    };
    if let Some(limit) = limit {
        limit.write_headers(response.headers_mut());
    }
    Ok(response)
}

/// The caller a credential names: an API key (`ak_…`) or an access token.
pub async fn principal_for(state: &AppState, credential: &str) -> ApiResult<Principal> {
    match credential.strip_prefix("ak_") {
        Some(key) => api_key_principal(state, key).await,
        None => user_principal(state, credential).await,
    }
}

async fn user_principal(state: &AppState, token: &str) -> ApiResult<Principal> {
    let bearer = state.keys.verify(token)?;
    if session_revoked(state, bearer.session).await? {
        return Err(ApiError::Unauthenticated("this session has been signed out".into()));
    }
    Ok(Principal::User { user_id: bearer.user_id, session: bearer.session, plan: bearer.plan })
}

/// Whether a session is over. The near cache believes a live session for a few seconds (a
/// revocation reaches it at once through pub/sub); Redis remembers each answer briefly
/// (revoked: for as long as an access token lives; alive: 30 s); PostgreSQL, the record,
/// answers when Redis does not know or cannot answer. So a revocation Redis missed (down,
/// restarted, evicted) still takes effect within 30 s, not 15 minutes.
async fn session_revoked(state: &AppState, session: Uuid) -> ApiResult<bool> {
    let mark = state.near.revocation_mark();
    if state.near.session_live(session) {
        return Ok(false);
    }
    let key = state.redis.key(&format!("session:{session}"));
    match state.redis.run::<Option<String>>(redis::cmd("GET").arg(&key)).await.flatten().as_deref() {
        Some("revoked") => return Ok(true),
        Some("alive") => {
            state.near.saw_live_session(session, mark);
            return Ok(false);
        }
        _ => {}
    }
    let revoked: Option<Option<chrono::DateTime<Utc>>> = sqlx::query_scalar("SELECT revoked_at FROM sessions WHERE family_id = $1").bind(session).fetch_optional(&state.db).await?;
    let alive = matches!(revoked, Some(None));
    if alive {
        // NX: a revocation written meanwhile is never overwritten by this older reading.
        let written = state.redis.run::<Option<String>>(redis::cmd("SET").arg(&key).arg("alive").arg("EX").arg(SESSION_ALIVE_SECS).arg("NX")).await;
        // Not written: the key exists, and may be a revocation written after our reading.
        if matches!(written, Some(Some(_))) {
            state.near.saw_live_session(session, mark);
        }
    }
    Ok(!alive)
}

const SESSION_ALIVE_SECS: u64 = 30;

/// Ends a session: PostgreSQL is the record, Redis tells every API instance at once (its key
/// for the next check, its `revoked` channel for their near caches).
pub async fn revoke_session(state: &AppState, executor: impl sqlx::PgExecutor<'_>, session: Uuid, reason: &str) -> ApiResult<()> {
    sqlx::query("UPDATE sessions SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, $2) WHERE family_id = $1")
        .bind(session)
        .bind(reason)
        .execute(executor)
        .await?;
    state.near.forget_session(session);
    let ttl = state.keys.access_ttl().as_secs() + 60;
    state.redis.run::<()>(redis::cmd("SET").arg(state.redis.key(&format!("session:{session}"))).arg("revoked").arg("EX").arg(ttl)).await;
    state.redis.run::<()>(redis::cmd("PUBLISH").arg(state.redis.key("revoked")).arg(session.to_string())).await;
    Ok(())
}

async fn api_key_principal(state: &AppState, key: &str) -> ApiResult<Principal> {
    let invalid = || ApiError::Unauthenticated("the API key is invalid or revoked".into());
    let (prefix, secret) = key.split_once('.').ok_or_else(invalid)?;
    let row: Option<(Uuid, Uuid, Vec<u8>, String, String)> = sqlx::query_as(
        "SELECT k.key_id, k.org_id, k.secret_hash, k.scope, o.plan FROM api_keys k JOIN organisations o USING (org_id)
         WHERE k.prefix = $1 AND k.revoked_at IS NULL",
    )
    .bind(prefix)
    .fetch_optional(&state.db)
    .await?;
    let (key_id, org_id, secret_hash, scope, plan) = row.ok_or_else(invalid)?;
    // Comparing digests: timing reveals at most a prefix of a SHA-256, not of the secret.
    if token_hash(secret) != secret_hash {
        return Err(invalid());
    }
    // At most one write a minute per key, however busy it is.
    sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')").bind(key_id).execute(&state.db).await?;
    let role = if scope == "write" { Role::Analyst } else { Role::Viewer };
    Ok(Principal::ApiKey { key_id, prefix: prefix.to_owned(), org_id, role, plan: plan.parse()? })
}
