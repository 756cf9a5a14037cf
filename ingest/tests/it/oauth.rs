//! Connecting accounts against the simulator's OAuth endpoints, tokens sealed in PostgreSQL.

use analisa_ingest::oauth::{Connections, OAuthError, TokenCipher};
use analisa_ingest::Platform;
use analisa_sim::server::RunningSim;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use url::Url;

use crate::collection::{platforms, start_sim};

/// A fresh database with the migrations applied, and its name (for `drop_database`).
pub async fn database() -> (sqlx::PgPool, String) {
    let admin_url = std::env::var("ANALISA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
    let name = format!("analisa_test_{}_{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let pool = PgPoolOptions::new().max_connections(4).connect(&url).await.unwrap();
    sqlx::migrate!("../migrations").run(&pool).await.unwrap();
    (pool, name)
}

pub async fn drop_database(pool: sqlx::PgPool, name: &str) {
    pool.close().await;
    let admin_url = std::env::var("ANALISA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url).await.unwrap();
    // FORCE: the backend of a connection closed a moment ago may still be exiting.
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
}

fn cipher() -> TokenCipher {
    TokenCipher::from_base64(&SecretString::from(base64::engine::general_purpose::STANDARD.encode([42u8; 32]))).unwrap()
}

/// Follows the authorisation URL the way a browser would, as `account` (the simulator
/// approves at once), and returns the (code, state) of the redirect.
async fn consent(url: &Url, account: &str) -> (String, String) {
    let mut url = url.clone();
    url.query_pairs_mut().append_pair("sim_account", account);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.get(url).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().trim_end_matches("#_").to_owned();
    let location = Url::parse(&location).unwrap();
    let get = |k: &str| location.query_pairs().find(|(key, _)| key == k).map(|(_, v)| v.into_owned()).unwrap();
    (get("code"), get("state"))
}

fn account(sim: &RunningSim, platform: &str, connected: bool) -> String {
    sim.accounts_json()["accounts"].as_array().unwrap().iter().find(|a| a["platform"] == platform && (!connected || a["connected"] == true)).unwrap()["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_code_round_trips_and_tokens_stay_sealed() {
    let sim = start_sim("").await;
    let (pool, name) = database().await;
    let mut platforms = platforms(&sim, "v24.0");
    platforms.tiktok.scopes = vec!["user.info.basic".into(), "video.list".into()];
    let connections = Connections::new(pool.clone(), cipher(), platforms);
    let redirect = Url::parse("https://analisa.example/oauth/callback").unwrap();

    // TikTok (Login Kit): state + PKCE, refresh rotation. An abandoned, expired authorisation
    // is cleared as a new one begins.
    let tiktok = account(&sim, "tiktok", false);
    sqlx::query("INSERT INTO oauth_states (state, platform, redirect_uri, org_id, expires_at) VALUES ('abandoned', 'tiktok', 'https://x.example/', 'org-1', now() - interval '1 minute')").execute(&pool).await.unwrap();
    let url = connections.begin(Platform::Tiktok, &redirect, Some("org-1"), None).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_states WHERE state = 'abandoned'").fetch_one(&pool).await.unwrap();
    assert_eq!(left, 0);
    assert!(url.query_pairs().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
    let (code, state) = consent(&url, &tiktok).await;
    // A state that was never issued is refused, and does not spend the real one.
    assert!(matches!(connections.complete(Platform::Tiktok, "forged-state", &code, Some("org-1")).await, Err(OAuthError::BadState)));
    // Another organisation cannot finish what org-1 began, nor spend its state.
    assert!(matches!(connections.complete(Platform::Tiktok, &state, &code, Some("org-2")).await, Err(OAuthError::BadState)));
    assert!(matches!(connections.complete(Platform::Tiktok, &state, &code, None).await, Err(OAuthError::BadState)));
    let connection = connections.complete(Platform::Tiktok, &state, &code, Some("org-1")).await.unwrap();
    assert_eq!((connection.account_id.as_str(), connection.status.as_str()), (tiktok.as_str(), "active"));
    assert!(matches!(connections.complete(Platform::Tiktok, &state, &code, Some("org-1")).await, Err(OAuthError::BadState)), "a state is single-use");
    let token = connections.access_token(Platform::Tiktok, &tiktok).await.unwrap();
    let info: serde_json::Value = reqwest::Client::new().get(format!("{}v2/user/info/?fields=open_id", sim.urls["tiktok"])).bearer_auth(token.expose_secret()).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["data"]["user"]["open_id"], serde_json::json!(tiktok), "the stored token works");

    // Nothing readable at rest.
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT access_token FROM platform_connections").fetch_all(&pool).await.unwrap();
    assert!(rows.iter().all(|(sealed,)| !sealed.windows(8).any(|w| token.expose_secret().as_bytes().windows(8).any(|t| t == w))));

    // An expiring token is refreshed before use (the rotated refresh token is stored).
    sqlx::query("UPDATE platform_connections SET access_expires_at = now() + interval '1 minute' WHERE account_id = $1").bind(&tiktok).execute(&pool).await.unwrap();
    let refreshed = connections.access_token(Platform::Tiktok, &tiktok).await.unwrap();
    assert_ne!(refreshed.expose_secret(), token.expose_secret());
    sqlx::query("UPDATE platform_connections SET access_expires_at = now() + interval '1 minute' WHERE account_id = $1").bind(&tiktok).execute(&pool).await.unwrap();
    let again = connections.access_token(Platform::Tiktok, &tiktok).await.unwrap();
    assert_ne!(again.expose_secret(), refreshed.expose_secret(), "the rotated refresh token was kept and works");

    // Revoked: the platform forgets the token, the connection says so, no call is retried.
    connections.revoke(Platform::Tiktok, &tiktok).await.unwrap();
    let response = reqwest::Client::new().get(format!("{}v2/user/info/?fields=open_id", sim.urls["tiktok"])).bearer_auth(again.expose_secret()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(connections.connection(Platform::Tiktok, &tiktok).await.unwrap().status, "revoked");
    assert!(matches!(connections.access_token(Platform::Tiktok, &tiktok).await, Err(OAuthError::NeedsReauth { .. })));

    // Meta (Facebook Login): code, then the long-lived exchange.
    let instagram = account(&sim, "instagram", true);
    let url = connections.begin(Platform::Facebook, &redirect, None, None).await.unwrap();
    let (code, state) = consent(&url, &instagram).await;
    let connection = connections.complete(Platform::Facebook, &state, &code, None).await.unwrap();
    assert_eq!(connection.account_id, instagram);
    let expires = connection.access_expires_at.unwrap() - chrono::Utc::now();
    assert!(expires > chrono::Duration::days(59), "long-lived token ({expires})");

    // A refused refresh marks the connection for re-authorisation instead of retrying.
    sqlx::query("UPDATE platform_connections SET access_expires_at = now() WHERE account_id = $1").bind(&instagram).execute(&pool).await.unwrap();
    let err = connections.access_token(Platform::Facebook, &instagram).await.unwrap_err();
    assert!(matches!(err, OAuthError::NeedsReauth { .. }), "{err}");
    assert_eq!(connections.connection(Platform::Facebook, &instagram).await.unwrap().status, "needs_reauth");

    // Instagram Login: `data[]`-wrapped code exchange, then ig_exchange_token.
    let url = connections.begin(Platform::Instagram, &redirect, None, None).await.unwrap();
    let (code, state) = consent(&url, &instagram).await;
    let connection = connections.complete(Platform::Instagram, &state, &code, None).await.unwrap();
    assert_eq!((connection.account_id.as_str(), connection.status.as_str()), (instagram.as_str(), "active"));
    sim.stop().await;
    drop(connections);
    drop_database(pool, &name).await;
}

#[tokio::test]
async fn a_wrong_key_cannot_open_stored_tokens() {
    let key = SecretString::from(base64::engine::general_purpose::STANDARD.encode([1u8; 32]));
    let sealed = TokenCipher::from_base64(&key).unwrap().seal("token", "tiktok:1");
    let other = TokenCipher::from_base64(&SecretString::from(base64::engine::general_purpose::STANDARD.encode([2u8; 32]))).unwrap();
    assert!(matches!(other.open(&sealed, "tiktok:1"), Err(OAuthError::Unseal)));
}

/// Connects `account` with `platform`'s consent flow and returns nothing: the tokens are in the store.
async fn connect(connections: &Connections, platform: Platform, account: &str) {
    let redirect = Url::parse("https://analisa.example/oauth/callback").unwrap();
    let url = connections.begin(platform, &redirect, None, None).await.unwrap();
    let (code, state) = consent(&url, account).await;
    connections.complete(platform, &state, &code, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_use_stored_tokens_and_flag_the_ones_refused() {
    use analisa_ingest::{RunOptions, run};
    use std::sync::Arc;

    use crate::collection::{bronze, lake, quick_retries, targets};

    let sim = start_sim("").await;
    let (pool, name) = database().await;
    let platforms = platforms(&sim, "v24.0");
    let connections = Arc::new(Connections::new(pool.clone(), cipher(), platforms.clone()));
    // Two accounts the accounts file knows without any token.
    let all = targets(&sim);
    let mut instagram = all.iter().find(|t| t.platform == Platform::Instagram && t.connected).unwrap().clone();
    let mut tiktok = all.iter().find(|t| t.platform == Platform::Tiktok).unwrap().clone();
    for target in [&mut instagram, &mut tiktok] {
        target.tokens = Default::default();
        target.connected = false;
    }
    let options = |connections: Option<Arc<Connections>>| RunOptions { concurrency: 2, retry: quick_retries(3), connections, ..RunOptions::default() };
    let insights = |rows: &[(String, serde_json::Value)]| rows.iter().filter(|(endpoint, _)| endpoint == "account_insights").count();

    // Without a connection: public data only (business discovery), no insights.
    let public = lake().await;
    let summary = run(&public, &platforms, vec![instagram.clone()], options(Some(connections.clone())), |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!(insights(&bronze(&public, "bronze.instagram_raw").await), 0);

    // Connected through Facebook Login: the stored token reads its insights.
    connect(&connections, Platform::Facebook, &instagram.account_id).await;
    connect(&connections, Platform::Tiktok, &tiktok.account_id).await;
    let own = lake().await;
    let summary = run(&own, &platforms, vec![instagram.clone(), tiktok.clone()], options(Some(connections.clone())), |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert!(insights(&bronze(&own, "bronze.instagram_raw").await) > 0, "account insights with the stored token");
    assert!(bronze(&own, "bronze.tiktok_raw").await.iter().any(|(endpoint, _)| endpoint == "user_info"), "TikTok Display with the stored token");

    // The platform revokes the TikTok token behind our back: the collection reports it and the
    // connection waits for re-authorisation instead of being tried again.
    let token = connections.access_token(Platform::Tiktok, &tiktok.account_id).await.unwrap();
    let app = &platforms.tiktok;
    let revoked = reqwest::Client::new()
        .post(app.token_url.join("../revoke/").unwrap())
        .form(&[("client_key", app.client_id.clone().unwrap()), ("client_secret", app.client_secret.as_ref().unwrap().expose_secret().to_owned()), ("token", token.expose_secret().to_owned())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    let summary = run(&own, &platforms, vec![tiktok.clone()], options(Some(connections.clone())), |_| {}).await.unwrap();
    assert_eq!(summary.failures.len(), 1, "{:?}", summary.failures);
    assert!(summary.failures[0].1.contains("refused the access token"), "{:?}", summary.failures);
    assert_eq!(connections.connection(Platform::Tiktok, &tiktok.account_id).await.unwrap().status, "needs_reauth");
    let summary = run(&own, &platforms, vec![tiktok.clone()], options(Some(connections.clone())), |_| {}).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert!(summary.notes.iter().any(|(_, note)| note.contains("needs to be authorised again")), "{:?}", summary.notes);
    sim.stop().await;
    drop(connections);
    drop_database(pool, &name).await;
}
