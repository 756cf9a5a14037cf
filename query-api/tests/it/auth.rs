//! Tokens, sessions, roles and throttling, attacked the ways they are attacked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::*;

/// A token over `header` and `claims` signed with HMAC-SHA256 under `key`, whatever the header
/// says: the forger's tool.
fn forge(header: Value, claims: Value, key: &[u8]) -> String {
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let (status, _) = api.get("/v1/me", &ana.access).await;
    assert_eq!(status, StatusCode::OK, "the genuine token works");

    let good = claims_of(&ana.access);
    let now = chrono::Utc::now().timestamp();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let with = |changes: Value| {
        let mut claims = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let mut tampered = ana.access.clone();
    let flip = if tampered.ends_with('A') { 'B' } else { 'A' };
    tampered.pop();
    tampered.push(flip);
    let mut cases: Vec<(&str, String)> = vec![
        ("a re-signed copy proves the forge itself works", forge(hs256.clone(), good.clone(), SECRET.as_bytes())),
        ("expired", forge(hs256.clone(), with(json!({"exp": now - 120, "iat": now - 1000, "nbf": now - 1000})), SECRET.as_bytes())),
        ("not yet valid", forge(hs256.clone(), with(json!({"nbf": now + 600})), SECRET.as_bytes())),
        ("wrong audience", forge(hs256.clone(), with(json!({"aud": "someone-else"})), SECRET.as_bytes())),
        ("wrong issuer", forge(hs256.clone(), with(json!({"iss": "evil"})), SECRET.as_bytes())),
        ("signed with another key", forge(hs256.clone(), good.clone(), b"another-secret-that-is-long-enough-too!!")),
        ("tampered signature", tampered),
        ("alg none", format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()), URL_SAFE_NO_PAD.encode(good.to_string()))),
        ("RS256 header over an HMAC signature (algorithm confusion)", forge(json!({"alg": "RS256", "typ": "JWT"}), good.clone(), SECRET.as_bytes())),
        ("HS512 instead of the pinned HS256", forge(json!({"alg": "HS512", "typ": "JWT"}), good.clone(), SECRET.as_bytes())),
        ("garbage", "not.a.token".into()),
    ];
    let (_, control) = cases.remove(0);
    let (status, _) = api.get("/v1/me", &control).await;
    assert_eq!(status, StatusCode::OK, "a correctly forged token with the real key is accepted, so refusals below are about what changed");
    for (what, token) in cases {
        let (status, headers, body) = api.call(Method::GET, "/v1/me", Some(&token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json", "{what}");
        assert_eq!(body["status"], 401, "{what}");
    }
    // Verified tokens are remembered by the whole token: none of the near copies above got in
    // through the genuine one, and the genuine one still does.
    assert_eq!(api.get("/v1/me", &ana.access).await.0, StatusCode::OK);
    let (status, _, body) = api.call(Method::GET, "/v1/me", None, None).await;
    assert_eq!((status, body["status"].as_u64()), (StatusCode::UNAUTHORIZED, Some(401)));
    api.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_session() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let (status, first) = api.post("/v1/auth/refresh", None, json!({"refresh_token": ana.refresh})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_ne!(first["refresh_token"], Value::String(ana.refresh.clone()), "a new refresh token each time");
    let (status, second) = api.post("/v1/auth/refresh", None, json!({"refresh_token": first["refresh_token"]})).await;
    assert_eq!(status, StatusCode::OK);
    let newest_access = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/v1/me", &newest_access).await.0, StatusCode::OK);

    // The first refresh token, stolen and replayed: the whole family dies.
    let (status, body) = api.post("/v1/auth/refresh", None, json!({"refresh_token": ana.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("revoked"), "{body}");
    let (status, _) = api.post("/v1/auth/refresh", None, json!({"refresh_token": second["refresh_token"]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the legitimate newest refresh token is revoked too");
    assert_eq!(api.get("/v1/me", &newest_access).await.0, StatusCode::UNAUTHORIZED, "and so are the session's access tokens");
    assert_eq!(api.get("/v1/me", &ana.access).await.0, StatusCode::UNAUTHORIZED);

    // Another sign-in is a new session, unaffected.
    let fresh = api.login("ana@example.com").await;
    assert_eq!(api.get("/v1/me", fresh["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
    let reuses: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reuse'").fetch_one(&api.db).await.unwrap();
    assert_eq!(reuses, 1);
    api.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_at_once_even_without_redis() {
    // Redis on a port where nothing listens: revocation is then read from PostgreSQL.
    for redis in [redis_url(), "redis://127.0.0.1:1/0".to_owned()] {
        let api = TestApi::start_with(&redis, config()).await;
        let ana = api.account("ana@example.com", "Agência A").await;
        let (status, _, _) = api.call(Method::POST, "/v1/auth/logout", Some(&ana.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(api.get("/v1/me", &ana.access).await.0, StatusCode::UNAUTHORIZED, "access token dead after logout (redis {redis})");
        let (status, _) = api.post("/v1/auth/refresh", None, json!({"refresh_token": ana.refresh})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "refresh token dead after logout");
        api.stop().await;
    }
}

#[tokio::test]
async fn brute_force_sign_in_is_throttled_per_account() {
    let api = TestApi::start().await;
    api.account("ana@example.com", "Agência A").await;
    for attempt in 1..=5 {
        let (status, body) = api.post("/v1/auth/login", None, json!({"email": "ana@example.com", "password": format!("guess {attempt}")})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}: {body}");
        assert_eq!(body["detail"], "wrong e-mail or password");
    }
    let (status, headers, body) = api.call(Method::POST, "/v1/auth/login", None, Some(json!({"email": "ANA@example.com", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits once the account is under attack: {body}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);
    // Unknown accounts answer exactly like wrong passwords.
    let (status, body) = api.post("/v1/auth/login", None, json!({"email": "nobody@example.com", "password": PASSWORD})).await;
    assert_eq!((status, body["detail"].as_str()), (StatusCode::UNAUTHORIZED, Some("wrong e-mail or password")));
    // Another account is not affected.
    api.account("bia@example.com", "Agência B").await;
    let failures: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'").fetch_one(&api.db).await.unwrap();
    assert_eq!(failures, 6);
    api.stop().await;
}

#[tokio::test]
async fn roles_decide_who_writes_and_api_keys_act_within_their_scope() {
    let api = TestApi::start().await;
    let owner = api.account("owner@example.com", "Agência A").await;
    let viewer = api.member(&owner, "viewer@example.com", "viewer").await;
    let analyst = api.member(&owner, "analyst@example.com", "analyst").await;
    let org = &owner.org_id;

    let list = json!({"name": "Verão"});
    let (status, body) = api.post(&format!("/v1/orgs/{org}/lists"), Some(&viewer.access), list.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot write: {body}");
    assert_eq!(api.get(&format!("/v1/orgs/{org}/lists"), &viewer.access).await.0, StatusCode::OK, "but reads");
    let (status, _) = api.post(&format!("/v1/orgs/{org}/lists"), Some(&analyst.access), list.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "an analyst writes");
    let (status, _) = api.post(&format!("/v1/orgs/{org}/api-keys"), Some(&analyst.access), json!({"name": "ci", "scope": "read"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "keys are an admin's");
    let (status, _, _) = api.call(Method::PATCH, &format!("/v1/orgs/{org}/members/{}", viewer.user_id), Some(&analyst.access), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an analyst cannot promote");

    // The owner promotes the analyst to admin; an admin still cannot make owners.
    let (status, _, _) = api.call(Method::PATCH, &format!("/v1/orgs/{org}/members/{}", analyst.user_id), Some(&owner.access), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = api.call(Method::PATCH, &format!("/v1/orgs/{org}/members/{}", viewer.user_id), Some(&analyst.access), Some(json!({"role": "owner"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The last owner cannot step down.
    let (status, _, body) = api.call(Method::PATCH, &format!("/v1/orgs/{org}/members/{}", owner.user_id), Some(&owner.access), Some(json!({"role": "viewer"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // API keys: shown once, scoped, revocable.
    let (status, read_key) = api.post(&format!("/v1/orgs/{org}/api-keys"), Some(&owner.access), json!({"name": "dashboard", "scope": "read"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let read_key = read_key["key"].as_str().unwrap().to_owned();
    let (_, keys) = api.get(&format!("/v1/orgs/{org}/api-keys"), &owner.access).await;
    assert!(keys[0].get("key").is_none(), "a listed key has no secret");
    assert_eq!(api.get("/v1/influencers?limit=1", &read_key).await.0, StatusCode::OK);
    assert_eq!(api.get(&format!("/v1/orgs/{org}/lists"), &read_key).await.0, StatusCode::OK);
    assert_eq!(api.post(&format!("/v1/orgs/{org}/lists"), Some(&read_key), list.clone()).await.0, StatusCode::FORBIDDEN, "read scope cannot write");
    let (status, write_key) = api.post(&format!("/v1/orgs/{org}/api-keys"), Some(&owner.access), json!({"name": "etl", "scope": "write"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let write_key = write_key["key"].as_str().unwrap();
    assert_eq!(api.post(&format!("/v1/orgs/{org}/lists"), Some(write_key), list.clone()).await.0, StatusCode::CREATED);
    let mut wrong_secret = read_key.clone();
    wrong_secret.push('x');
    assert_eq!(api.get("/v1/influencers", &wrong_secret).await.0, StatusCode::UNAUTHORIZED);
    let key_id = keys[0]["key_id"].as_str().unwrap();
    let (status, _, _) = api.call(Method::DELETE, &format!("/v1/orgs/{org}/api-keys/{key_id}"), Some(&owner.access), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(api.get("/v1/influencers", &read_key).await.0, StatusCode::UNAUTHORIZED, "a revoked key stops at once");

    // Everything above is in the organisation's activity, and the chain holds.
    let (_, activity) = api.get(&format!("/v1/orgs/{org}/activity?limit=100"), &owner.access).await;
    let actions: Vec<&str> = activity.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for expected in ["member.invite", "member.join", "member.role_change", "api_key.create", "api_key.revoke", "list.create"] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert_eq!(api.get(&format!("/v1/orgs/{org}/activity"), &viewer.access).await.0, StatusCode::FORBIDDEN);
    assert!(matches!(analisa_query_api::verify_audit_log(&api.db).await.unwrap(), analisa_query_api::Verdict::Intact { .. }));
    api.stop().await;
}

#[tokio::test]
async fn the_audit_chain_exposes_any_edit() {
    let api = TestApi::start().await;
    api.account("ana@example.com", "Agência A").await;
    api.account("bia@example.com", "Agência B").await;
    let rows = match analisa_query_api::verify_audit_log(&api.db).await.unwrap() {
        analisa_query_api::Verdict::Intact { rows } => rows,
        broken => panic!("{broken:?}"),
    };
    assert!(rows >= 4, "two sign-ups and two sign-ins");
    let refused = sqlx::query("UPDATE audit_log SET actor = 'someone' WHERE seq = 2").execute(&api.db).await;
    assert!(refused.is_err(), "the table refuses edits");
    assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&api.db).await.is_err(), "and deletions");
    // Someone with the power to drop the guard edits a row anyway: verification finds it.
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update").execute(&api.db).await.unwrap();
    sqlx::query("UPDATE audit_log SET details = '{\"email\":\"mallory@example.com\"}' WHERE seq = 3").execute(&api.db).await.unwrap();
    assert_eq!(analisa_query_api::verify_audit_log(&api.db).await.unwrap(), analisa_query_api::Verdict::Broken { seq: 3, reason: "its content does not match its hash".into() });
    api.stop().await;
}
