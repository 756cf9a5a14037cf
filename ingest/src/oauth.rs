//! Connecting creators' and brands' accounts: the OAuth 2.0 authorisation-code flow (with
//! `state`, and PKCE where the platform takes it) for every platform, long-lived exchange
//! (Meta), refresh with rotation (TikTok), revocation; tokens sealed with AES-256-GCM in
//! PostgreSQL, refreshed before they expire, and a refused token marks the connection as
//! needing re-authorisation instead of being retried forever.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use tracing::{info, warn};
use url::Url;
use uuid::Uuid;

use crate::platforms::{Platform, PlatformConfig, PlatformsConfig};

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("ingest.token_key must be 32 bytes in base64 (e.g. `openssl rand -base64 32`): {0}")]
    BadKey(String),
    #[error("a sealed token could not be opened (wrong ingest.token_key, or tampered data)")]
    Unseal,
    #[error("unknown or expired OAuth state: the authorisation must be started again")]
    BadState,
    #[error("{platform} is not set up for OAuth: {what} is missing in [platforms.{platform}]")]
    NotConfigured { platform: Platform, what: &'static str },
    #[error("{platform} sends users back to {registered} only (platforms.{platform}.redirect_uri)")]
    RedirectMismatch { platform: Platform, registered: String },
    #[error("{platform} refused the authorisation: {message}")]
    Refused { platform: Platform, message: String },
    #[error("{platform} offers no sign-in identity (Facebook, Instagram and TikTok do)")]
    NoIdentity { platform: Platform },
    #[error("no connection for {platform} account {account}")]
    NotConnected { platform: Platform, account: String },
    #[error("the {platform} connection of {account} needs to be authorised again ({reason})")]
    NeedsReauth { platform: Platform, account: String, reason: String },
    #[error("cannot reach {platform}: {message}")]
    Http { platform: Platform, message: String },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl OAuthError {
    fn http(platform: Platform, error: reqwest::Error) -> Self {
        OAuthError::Http { platform, message: error.without_url().to_string() }
    }
}

/// Seals tokens with AES-256-GCM; the platform and account are authenticated with them, so a
/// sealed token copied onto another row does not open.
pub struct TokenCipher(Aes256Gcm);

/// The key never shows.
impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([REDACTED])")
    }
}

impl TokenCipher {
    /// A fresh random key, for a store whose tokens need not outlive the process (the demo).
    pub fn generate() -> Self {
        Self(Aes256Gcm::new(&Aes256Gcm::generate_key(&mut OsRng)))
    }

    pub fn from_base64(key: &SecretString) -> Result<Self, OAuthError> {
        let bytes = STANDARD.decode(key.expose_secret().trim()).map_err(|e| OAuthError::BadKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(OAuthError::BadKey(format!("it decodes to {} bytes", bytes.len())));
        }
        Ok(Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))))
    }

    pub fn seal(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.0.encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() }).expect("AES-GCM encryption does not fail");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<SecretString, OAuthError> {
        if sealed.len() < 12 {
            return Err(OAuthError::Unseal);
        }
        let (nonce, body) = sealed.split_at(12);
        let plain = self.0.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context.as_bytes() }).map_err(|_| OAuthError::Unseal)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| OAuthError::Unseal)
    }
}

/// What the store knows of a connection (never the tokens in clear).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub platform: Platform,
    pub account_id: String,
    pub status: String,
    pub scopes: Vec<String>,
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// Tokens as a platform hands them out.
struct Grant {
    account_id: String,
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    refresh_expires_in: Option<i64>,
    scopes: Vec<String>,
}

/// Refresh a token when it has less than this left.
const REFRESH_MARGIN_MINUTES: i64 = 10;
/// How long an authorisation may take between `begin` and `complete`.
pub const STATE_TTL_MINUTES: i64 = 15;

pub struct Connections {
    pool: PgPool,
    cipher: TokenCipher,
    platforms: PlatformsConfig,
    http: reqwest::Client,
}

/// The store holds the cipher and app secrets: nothing of it shows.
impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

fn context(platform: Platform, account: &str) -> String {
    format!("{platform}:{account}")
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(Aes256Gcm::generate_nonce(&mut OsRng).as_slice().iter().chain(Aes256Gcm::generate_nonce(&mut OsRng).as_slice()).chain(Aes256Gcm::generate_nonce(&mut OsRng).as_slice()).copied().collect::<Vec<u8>>())
}

/// What an authorisation is for.
#[derive(Debug, Clone, Copy)]
enum Purpose<'a> {
    /// Collecting the account's data, for an organisation (none when begun from the CLI).
    Connect { org_id: Option<&'a str>, account_hint: Option<&'a str> },
    /// Knowing who the person is: a sign-in, or linking to the signed-in user.
    Identity { user_id: Option<Uuid> },
}

/// The scope that identifies a person on platforms that offer sign-in: the id comes from the
/// token answer (Instagram `user_id`, TikTok `open_id`) or from Facebook's `/me`.
fn identity_scope(platform: Platform) -> Result<&'static str, OAuthError> {
    match platform {
        Platform::Facebook => Ok("public_profile"),
        Platform::Instagram => Ok("instagram_business_basic"),
        Platform::Tiktok => Ok("user.info.basic"),
        Platform::TiktokBusiness | Platform::Ga4 => Err(OAuthError::NoIdentity { platform }),
    }
}

/// PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Connections {
    pub fn new(pool: PgPool, cipher: TokenCipher, platforms: PlatformsConfig) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().expect("a TLS backend is compiled in");
        Self { pool, cipher, platforms, http }
    }

    fn app(&self, platform: Platform) -> Result<(&PlatformConfig, &str, &str), OAuthError> {
        let config = self.platforms.get(platform);
        let id = config.client_id.as_deref().ok_or(OAuthError::NotConfigured { platform, what: "client_id" })?;
        let secret = config.client_secret.as_ref().ok_or(OAuthError::NotConfigured { platform, what: "client_secret" })?.expose_secret();
        Ok((config, id, secret))
    }

    /// Starts an authorisation: returns the URL to send the user to. `account_hint` names what
    /// the connection is for when the platform will not say (a GA4 property id).
    pub async fn begin(&self, platform: Platform, redirect_uri: &Url, org_id: Option<&str>, account_hint: Option<&str>) -> Result<Url, OAuthError> {
        self.authorize_url(platform, redirect_uri, Purpose::Connect { org_id, account_hint }).await
    }

    /// Starts an authorisation that only identifies the person: signing in to Analisa with the
    /// platform account (`user_id` None), or linking it to the signed-in user. It asks for the
    /// platform's basic profile scope, not for the data scopes of a connection.
    pub async fn begin_identity(&self, platform: Platform, redirect_uri: &Url, user_id: Option<Uuid>) -> Result<Url, OAuthError> {
        identity_scope(platform)?;
        self.authorize_url(platform, redirect_uri, Purpose::Identity { user_id }).await
    }

    async fn authorize_url(&self, platform: Platform, redirect_uri: &Url, purpose: Purpose<'_>) -> Result<Url, OAuthError> {
        let (config, client_id, _) = self.app(platform)?;
        if let Some(registered) = &config.redirect_uri
            && registered != redirect_uri
        {
            return Err(OAuthError::RedirectMismatch { platform, registered: registered.to_string() });
        }
        let state = random_token();
        let pkce = matches!(platform, Platform::Tiktok | Platform::Ga4);
        let verifier = pkce.then(|| format!("{}{}", random_token(), random_token()));
        let (org_id, account_hint, user_id, purpose_name, scopes) = match purpose {
            Purpose::Connect { org_id, account_hint } => (org_id, account_hint, None, "connect", config.scopes.clone()),
            Purpose::Identity { user_id } => (None, None, user_id, if user_id.is_some() { "link" } else { "login" }, vec![identity_scope(platform)?.to_owned()]),
        };
        // Abandoned authorisations go as new ones begin, so the table holds minutes of them.
        sqlx::query("DELETE FROM oauth_states WHERE expires_at <= now()").execute(&self.pool).await?;
        sqlx::query("INSERT INTO oauth_states (state, platform, redirect_uri, code_verifier, account_hint, org_id, purpose, user_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&state)
            .bind(platform.as_str())
            .bind(redirect_uri.as_str())
            .bind(verifier.as_ref().map(|v| self.cipher.seal(v, &format!("state:{state}"))))
            .bind(account_hint)
            .bind(org_id)
            .bind(purpose_name)
            .bind(user_id)
            .bind(Utc::now() + Duration::minutes(STATE_TTL_MINUTES))
            .execute(&self.pool)
            .await?;
        let mut url = config.auth_url.clone();
        {
            let mut query = url.query_pairs_mut();
            let (client_param, separator) = match platform {
                Platform::Tiktok | Platform::TiktokBusiness => ("client_key", ","),
                Platform::Ga4 => ("client_id", " "),
                _ => ("client_id", ","),
            };
            query.append_pair(client_param, client_id).append_pair("redirect_uri", redirect_uri.as_str()).append_pair("response_type", "code").append_pair("state", &state);
            if !scopes.is_empty() {
                query.append_pair("scope", &scopes.join(separator));
            }
            if let Some(verifier) = &verifier {
                query.append_pair("code_challenge", &pkce_challenge(verifier)).append_pair("code_challenge_method", "S256");
            }
            if platform == Platform::Ga4 {
                query.append_pair("access_type", "offline");
            }
        }
        Ok(url)
    }

    /// Finishes an authorisation with the `code` and `state` the platform redirected with; only
    /// the organisation that began it (or nobody, for one begun without) may finish it.
    pub async fn complete(&self, platform: Platform, state: &str, code: &str, org_id: Option<&str>) -> Result<Connection, OAuthError> {
        let grant = self.redeem(platform, state, code, "connect", org_id, None).await?;
        self.save(platform, org_id, &grant).await?;
        info!(%platform, account = %grant.account_id, "account connected");
        self.connection(platform, &grant.account_id).await
    }

    /// Finishes an identity authorisation begun with [`Connections::begin_identity`] by the
    /// same `user_id` (None: a sign-in): the platform's id of the person who consented. The
    /// tokens are not kept: signing in connects nothing.
    pub async fn identify(&self, platform: Platform, state: &str, code: &str, user_id: Option<Uuid>) -> Result<String, OAuthError> {
        identity_scope(platform)?;
        let purpose = if user_id.is_some() { "link" } else { "login" };
        let grant = self.redeem(platform, state, code, purpose, None, user_id).await?;
        info!(%platform, purpose, "identity confirmed");
        Ok(grant.account_id)
    }

    /// Takes the single-use `state` out as it is checked against what may finish it, and
    /// exchanges the code.
    async fn redeem(&self, platform: Platform, state: &str, code: &str, purpose: &str, org_id: Option<&str>, user_id: Option<Uuid>) -> Result<Grant, OAuthError> {
        let row = sqlx::query(
            "DELETE FROM oauth_states WHERE state = $1 AND platform = $2 AND purpose = $3 AND org_id IS NOT DISTINCT FROM $4 AND user_id IS NOT DISTINCT FROM $5
               AND expires_at > now() RETURNING redirect_uri, code_verifier, account_hint",
        )
        .bind(state)
        .bind(platform.as_str())
        .bind(purpose)
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(OAuthError::BadState)?;
        let redirect_uri: String = row.get("redirect_uri");
        let verifier = row.get::<Option<Vec<u8>>, _>("code_verifier").map(|v| self.cipher.open(&v, &format!("state:{state}"))).transpose()?;
        let hint: Option<String> = row.get("account_hint");
        self.exchange_code(platform, code, &redirect_uri, verifier.as_ref().map(|v| v.expose_secret()), hint.as_deref()).await
    }

    async fn post_form(&self, platform: Platform, url: &Url, form: &[(&str, &str)]) -> Result<Value, OAuthError> {
        let response = self.http.post(url.clone()).form(form).send().await.map_err(|e| OAuthError::http(platform, e))?;
        response_json(platform, response).await
    }

    async fn get(&self, platform: Platform, mut url: Url, query: &[(&str, &str)]) -> Result<Value, OAuthError> {
        url.query_pairs_mut().extend_pairs(query.iter().copied());
        let response = self.http.get(url).send().await.map_err(|e| OAuthError::http(platform, e))?;
        response_json(platform, response).await
    }

    async fn exchange_code(&self, platform: Platform, code: &str, redirect_uri: &str, verifier: Option<&str>, hint: Option<&str>) -> Result<Grant, OAuthError> {
        let (config, client_id, secret) = self.app(platform)?;
        match platform {
            Platform::Facebook => {
                let short = self.get(platform, config.token_url.clone(), &[("client_id", client_id), ("client_secret", secret), ("redirect_uri", redirect_uri), ("code", code)]).await?;
                let short_token = text(&short, "access_token", platform)?;
                // Short-lived user tokens last hours; the long-lived one about 60 days.
                let long = self.get(platform, config.token_url.clone(), &[("grant_type", "fb_exchange_token"), ("client_id", client_id), ("client_secret", secret), ("fb_exchange_token", &short_token)]).await?;
                let access_token = text(&long, "access_token", platform)?;
                let me = self.get(platform, graph_url(config, "me")?, &[("fields", "id"), ("access_token", &access_token)]).await?;
                Ok(Grant { account_id: text(&me, "id", platform)?, access_token, refresh_token: None, expires_in: long["expires_in"].as_i64(), refresh_expires_in: None, scopes: config.scopes.clone() })
            }
            Platform::Instagram => {
                let short = self.post_form(platform, &config.token_url, &[("client_id", client_id), ("client_secret", secret), ("grant_type", "authorization_code"), ("redirect_uri", redirect_uri), ("code", code)]).await?;
                // Some answers wrap the token in `data[0]`, others are flat.
                let short = if short["data"].is_array() { short["data"][0].clone() } else { short };
                let account_id = short["user_id"].as_str().map(str::to_owned).or_else(|| short["user_id"].as_i64().map(|n| n.to_string())).ok_or_else(|| refused(platform, "no user_id in the token answer"))?;
                let short_token = text(&short, "access_token", platform)?;
                let long = self.get(platform, config.base_url.join("access_token").expect("valid path"), &[("grant_type", "ig_exchange_token"), ("client_secret", secret), ("access_token", &short_token)]).await?;
                let scopes = short["permissions"].as_str().map(|p| p.split(',').map(str::to_owned).collect()).unwrap_or_else(|| config.scopes.clone());
                Ok(Grant { account_id, access_token: text(&long, "access_token", platform)?, refresh_token: None, expires_in: long["expires_in"].as_i64(), refresh_expires_in: None, scopes })
            }
            Platform::Tiktok => {
                let mut form = vec![("client_key", client_id), ("client_secret", secret), ("code", code), ("grant_type", "authorization_code"), ("redirect_uri", redirect_uri)];
                if let Some(v) = verifier {
                    form.push(("code_verifier", v));
                }
                let answer = self.post_form(platform, &config.token_url, &form).await?;
                tiktok_grant(&answer, platform, text(&answer, "open_id", platform)?)
            }
            Platform::TiktokBusiness => {
                let answer = self.tiktok_business(config.token_url.clone(), json!({ "client_id": client_id, "client_secret": secret, "grant_type": "authorization_code", "auth_code": code, "redirect_uri": redirect_uri })).await?;
                tiktok_grant(&answer, platform, text(&answer, "open_id", platform)?)
            }
            Platform::Ga4 => {
                let mut form = vec![("client_id", client_id), ("client_secret", secret), ("code", code), ("grant_type", "authorization_code"), ("redirect_uri", redirect_uri)];
                if let Some(v) = verifier {
                    form.push(("code_verifier", v));
                }
                let answer = self.post_form(platform, &config.token_url, &form).await?;
                let property = hint.ok_or_else(|| refused(platform, "a GA4 connection needs the property id"))?.to_owned();
                let scopes = answer["scope"].as_str().map(|s| s.split(' ').map(str::to_owned).collect()).unwrap_or_default();
                Ok(Grant { account_id: property, access_token: text(&answer, "access_token", platform)?, refresh_token: answer["refresh_token"].as_str().map(str::to_owned), expires_in: answer["expires_in"].as_i64(), refresh_expires_in: None, scopes })
            }
        }
    }

    async fn tiktok_business(&self, url: Url, body: Value) -> Result<Value, OAuthError> {
        let platform = Platform::TiktokBusiness;
        let response = self.http.post(url).json(&body).send().await.map_err(|e| OAuthError::http(platform, e))?;
        let envelope = response_json(platform, response).await?;
        if envelope["code"].as_i64() != Some(0) {
            return Err(refused(platform, &format!("({}) {}", envelope["code"], envelope["message"].as_str().unwrap_or(""))));
        }
        Ok(envelope["data"].clone())
    }

    async fn save(&self, platform: Platform, org_id: Option<&str>, grant: &Grant) -> Result<(), OAuthError> {
        let ctx = context(platform, &grant.account_id);
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO platform_connections (id, org_id, platform, account_id, scopes, status, access_token, refresh_token, access_expires_at, refresh_expires_at, last_error)
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, NULL)
             ON CONFLICT (platform, account_id) DO UPDATE SET org_id = COALESCE(EXCLUDED.org_id, platform_connections.org_id), scopes = EXCLUDED.scopes, status = 'active',
               access_token = EXCLUDED.access_token, refresh_token = COALESCE(EXCLUDED.refresh_token, platform_connections.refresh_token),
               access_expires_at = EXCLUDED.access_expires_at, refresh_expires_at = COALESCE(EXCLUDED.refresh_expires_at, platform_connections.refresh_expires_at),
               last_error = NULL, updated_at = now()",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(org_id)
        .bind(platform.as_str())
        .bind(&grant.account_id)
        .bind(&grant.scopes)
        .bind(self.cipher.seal(&grant.access_token, &ctx))
        .bind(grant.refresh_token.as_ref().map(|r| self.cipher.seal(r, &ctx)))
        .bind(grant.expires_in.map(|s| now + Duration::seconds(s)))
        .bind(grant.refresh_expires_in.map(|s| now + Duration::seconds(s)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The columns of one connection's row.
    async fn row(&self, platform: Platform, account: &str, columns: &str) -> Result<sqlx::postgres::PgRow, OAuthError> {
        sqlx::query(&format!("SELECT {columns} FROM platform_connections WHERE platform = $1 AND account_id = $2"))
            .bind(platform.as_str())
            .bind(account)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| OAuthError::NotConnected { platform, account: account.to_owned() })
    }

    pub async fn connection(&self, platform: Platform, account: &str) -> Result<Connection, OAuthError> {
        let row = self.row(platform, account, "status, scopes, access_expires_at").await?;
        Ok(Connection { platform, account_id: account.to_owned(), status: row.get("status"), scopes: row.get("scopes"), access_expires_at: row.get("access_expires_at") })
    }

    /// A usable access token: refreshed first when it expires soon. A refusal marks the
    /// connection `needs_reauth`, and later calls fail fast instead of hammering the platform.
    pub async fn access_token(&self, platform: Platform, account: &str) -> Result<SecretString, OAuthError> {
        let row = self.row(platform, account, "status, access_token, refresh_token, access_expires_at, last_error").await?;
        let status: String = row.get("status");
        if status != "active" {
            return Err(OAuthError::NeedsReauth { platform, account: account.to_owned(), reason: row.get::<Option<String>, _>("last_error").unwrap_or(status) });
        }
        let ctx = context(platform, account);
        let expires: Option<DateTime<Utc>> = row.get("access_expires_at");
        if expires.is_none_or(|at| at > Utc::now() + Duration::minutes(REFRESH_MARGIN_MINUTES)) {
            return self.cipher.open(&row.get::<Vec<u8>, _>("access_token"), &ctx);
        }
        let access = self.cipher.open(&row.get::<Vec<u8>, _>("access_token"), &ctx)?;
        let refresh = row.get::<Option<Vec<u8>>, _>("refresh_token").map(|r| self.cipher.open(&r, &ctx)).transpose()?;
        match self.refresh(platform, account, access.expose_secret(), refresh.as_ref().map(|r| r.expose_secret())).await {
            Ok(grant) => {
                self.save(platform, None, &grant).await?;
                info!(%platform, account, "access token refreshed");
                Ok(SecretString::from(grant.access_token))
            }
            Err(OAuthError::Refused { message, .. }) => {
                self.mark_needs_reauth(platform, account, &message).await?;
                Err(OAuthError::NeedsReauth { platform, account: account.to_owned(), reason: message })
            }
            Err(other) => Err(other),
        }
    }

    async fn refresh(&self, platform: Platform, account: &str, access: &str, refresh: Option<&str>) -> Result<Grant, OAuthError> {
        let (config, client_id, secret) = self.app(platform)?;
        match platform {
            Platform::Instagram => {
                let answer = self.get(platform, config.base_url.join("refresh_access_token").expect("valid path"), &[("grant_type", "ig_refresh_token"), ("access_token", access)]).await?;
                Ok(Grant { account_id: account.to_owned(), access_token: text(&answer, "access_token", platform)?, refresh_token: None, expires_in: answer["expires_in"].as_i64(), refresh_expires_in: None, scopes: config.scopes.clone() })
            }
            // Meta user tokens are not refreshable: the user authorises again.
            Platform::Facebook => Err(refused(platform, "the long-lived token is expiring and Facebook tokens cannot be refreshed")),
            Platform::Tiktok => {
                let refresh = refresh.ok_or_else(|| refused(platform, "no refresh token"))?;
                let answer = self.post_form(platform, &config.token_url, &[("client_key", client_id), ("client_secret", secret), ("grant_type", "refresh_token"), ("refresh_token", refresh)]).await?;
                tiktok_grant(&answer, platform, account.to_owned())
            }
            Platform::TiktokBusiness => {
                let refresh = refresh.ok_or_else(|| refused(platform, "no refresh token"))?;
                let url = config.token_url.join("../refresh_token/").expect("valid path");
                let answer = self.tiktok_business(url, json!({ "client_id": client_id, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": refresh })).await?;
                tiktok_grant(&answer, platform, account.to_owned())
            }
            Platform::Ga4 => {
                let refresh = refresh.ok_or_else(|| refused(platform, "no refresh token"))?;
                let answer = self.post_form(platform, &config.token_url, &[("client_id", client_id), ("client_secret", secret), ("grant_type", "refresh_token"), ("refresh_token", refresh)]).await?;
                Ok(Grant { account_id: account.to_owned(), access_token: text(&answer, "access_token", platform)?, refresh_token: answer["refresh_token"].as_str().map(str::to_owned), expires_in: answer["expires_in"].as_i64(), refresh_expires_in: None, scopes: vec![] })
            }
        }
    }

    /// A token the platform refused: the connection waits for the user to authorise again.
    pub async fn mark_needs_reauth(&self, platform: Platform, account: &str, reason: &str) -> Result<(), OAuthError> {
        warn!(%platform, account, reason, "connection needs re-authorisation");
        sqlx::query("UPDATE platform_connections SET status = 'needs_reauth', last_error = $3, updated_at = now() WHERE platform = $1 AND account_id = $2")
            .bind(platform.as_str())
            .bind(account)
            .bind(reason)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes the token at the platform (where it offers that) and forgets it here. A token
    /// the platform refuses to revoke is dead already and is forgotten too; an unreachable
    /// platform leaves the connection as it was, to be tried again.
    pub async fn revoke(&self, platform: Platform, account: &str) -> Result<(), OAuthError> {
        match self.revoke_at_platform(platform, account).await {
            Err(OAuthError::Refused { message, .. }) => warn!(%platform, account, %message, "the platform refused the revocation; forgetting the token"),
            other => other?,
        }
        sqlx::query("UPDATE platform_connections SET status = 'revoked', access_token = '\\x'::bytea, refresh_token = NULL, updated_at = now() WHERE platform = $1 AND account_id = $2")
            .bind(platform.as_str())
            .bind(account)
            .execute(&self.pool)
            .await?;
        info!(%platform, account, "connection revoked");
        Ok(())
    }

    async fn revoke_at_platform(&self, platform: Platform, account: &str) -> Result<(), OAuthError> {
        let token = self.access_token_raw(platform, account).await?;
        let (config, client_id, secret) = self.app(platform)?;
        match platform {
            Platform::Tiktok => {
                let url = config.token_url.join("../revoke/").expect("valid path");
                self.post_form(platform, &url, &[("client_key", client_id), ("client_secret", secret), ("token", token.expose_secret())]).await?;
            }
            Platform::TiktokBusiness => {
                let url = config.token_url.join("../revoke/").expect("valid path");
                self.tiktok_business(url, json!({ "client_id": client_id, "client_secret": secret, "access_token": token.expose_secret() })).await?;
            }
            // Meta and Google tokens are dropped here; the user can remove the app on the platform.
            _ => {}
        }
        Ok(())
    }

    async fn access_token_raw(&self, platform: Platform, account: &str) -> Result<SecretString, OAuthError> {
        let row = self.row(platform, account, "access_token").await?;
        self.cipher.open(&row.get::<Vec<u8>, _>("access_token"), &context(platform, account))
    }
}

fn graph_url(config: &PlatformConfig, path: &str) -> Result<Url, OAuthError> {
    Ok(config.base_url.join(&format!("{}/{path}", config.api_version)).expect("valid path"))
}

fn refused(platform: Platform, message: &str) -> OAuthError {
    OAuthError::Refused { platform, message: message.to_owned() }
}

fn text(value: &Value, key: &str, platform: Platform) -> Result<String, OAuthError> {
    value[key].as_str().map(str::to_owned).ok_or_else(|| refused(platform, &format!("the answer has no {key}")))
}

fn tiktok_grant(answer: &Value, platform: Platform, account_id: String) -> Result<Grant, OAuthError> {
    Ok(Grant {
        account_id,
        access_token: text(answer, "access_token", platform)?,
        refresh_token: answer["refresh_token"].as_str().map(str::to_owned),
        expires_in: answer["expires_in"].as_i64(),
        refresh_expires_in: answer["refresh_expires_in"].as_i64().or_else(|| answer["refresh_token_expires_in"].as_i64()),
        scopes: answer["scope"].as_str().map(|s| s.split(',').map(str::to_owned).collect()).unwrap_or_default(),
    })
}

/// The JSON of an answer; OAuth and Graph errors become `Refused` with the platform's words.
async fn response_json(platform: Platform, response: reqwest::Response) -> Result<Value, OAuthError> {
    let status = response.status();
    // A failing platform is not a refusal: nothing is concluded about the token.
    if status.is_server_error() {
        return Err(OAuthError::Http { platform, message: format!("HTTP {status}") });
    }
    let value: Value = response.json().await.map_err(|e| OAuthError::http(platform, e))?;
    if status.is_success() && value.get("error").is_none_or(|e| e.is_null() || e["code"] == "ok") {
        return Ok(value);
    }
    let message = match &value["error"] {
        Value::String(code) => format!("{code}: {}", value["error_description"].as_str().unwrap_or("")),
        Value::Object(e) => format!("({}) {}", e.get("code").cloned().unwrap_or_default(), e.get("message").and_then(Value::as_str).unwrap_or("")),
        _ => format!("HTTP {status}"),
    };
    Err(refused(platform, &message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_in_their_context() {
        let key = SecretString::from(STANDARD.encode([7u8; 32]));
        let cipher = TokenCipher::from_base64(&key).unwrap();
        let sealed = cipher.seal("EAA-secret", "instagram:1");
        assert!(!sealed.windows(10).any(|w| w == b"EAA-secret"));
        assert_eq!(cipher.open(&sealed, "instagram:1").unwrap().expose_secret(), "EAA-secret");
        assert!(cipher.open(&sealed, "instagram:2").is_err(), "moved to another account");
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(cipher.open(&tampered, "instagram:1").is_err());
        let other = TokenCipher::from_base64(&SecretString::from(STANDARD.encode([8u8; 32]))).unwrap();
        assert!(other.open(&sealed, "instagram:1").is_err(), "another key");
        assert!(TokenCipher::from_base64(&SecretString::from("c2hvcnQ=".to_owned())).unwrap_err().to_string().contains("32 bytes"));
    }
}
