//! Social sign-in through platform identities, against the simulator's OAuth servers: a user
//! links Facebook (or Instagram, TikTok) while signed in and then signs in with it; what is not
//! linked, linked twice, begun for another purpose or unlinked signs nobody in.

use analisa_sim::WorldSpec;
use analisa_sim::server::{RunningSim, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn sim() -> RunningSim {
    RunningSim::start(SimOptions { world: WorldSpec::new(7, 20, 30), listen: "127.0.0.1:0".parse().unwrap(), faults: Default::default(), budgets: Default::default() }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_platform_identity_signs_its_user_in() {
    let sim = sim().await;
    let api = TestApi::start_with_platforms(&sim).await;
    let ana = api.account("ana@social.example.com", "Ana's").await;
    let bruno = api.account("bruno@social.example.com", "Bruno's").await;

    // The consent page asks only for the basic profile, not the data scopes of a connection.
    let (status, started) = api.post("/v1/auth/social/facebook", None, json!({"redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let url = url::Url::parse(started["authorize_url"].as_str().unwrap()).unwrap();
    assert!(url.query_pairs().any(|(k, v)| k == "scope" && v == "public_profile"), "{url}");

    // Nobody has linked this Facebook account yet: no session, and the reason says what to do.
    let (code, state) = identity_consent(&api, None, "facebook").await;
    let (status, refused) = api.post("/v1/auth/social/facebook/complete", None, json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("link it under Settings"), "{refused}");

    // Ana links it. A state begun for signing in cannot link, nor one begun by Bruno.
    let (code, state) = identity_consent(&api, None, "facebook").await;
    let (status, _) = api.post("/v1/me/identities/facebook/complete", Some(&ana.access), json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (code, state) = identity_consent(&api, Some(&bruno.access), "facebook").await;
    let (status, _) = api.post("/v1/me/identities/facebook/complete", Some(&ana.access), json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a state is bound to the user who began it");
    let (code, state) = identity_consent(&api, Some(&ana.access), "facebook").await;
    let (status, linked) = api.post("/v1/me/identities/facebook/complete", Some(&ana.access), json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    let subject = linked["subject"].as_str().unwrap().to_owned();
    assert_eq!(linked["platform"], "facebook");
    // A state is single-use, even for its own user.
    let (status, _) = api.post("/v1/me/identities/facebook/complete", Some(&ana.access), json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Bruno cannot take the same Facebook account.
    let (code, state) = identity_consent(&api, Some(&bruno.access), "facebook").await;
    let (status, taken) = api.post("/v1/me/identities/facebook/complete", Some(&bruno.access), json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{taken}");
    assert!(taken["detail"].as_str().unwrap().contains("another Analisa user"), "{taken}");

    // Signing in with Facebook now gives Ana a session of her own.
    let (code, state) = identity_consent(&api, None, "facebook").await;
    let (status, tokens) = api.post("/v1/auth/social/facebook/complete", None, json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, me) = api.get("/v1/me", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ana@social.example.com");
    let (_, identities) = api.get("/v1/me/identities", &ana.access).await;
    assert_eq!(identities.as_array().unwrap().len(), 1, "{identities}");
    assert_eq!(identities[0]["subject"], subject.as_str());
    assert!(identities[0]["last_login_at"].is_string(), "{identities}");
    let (_, none) = api.get("/v1/me/identities", &bruno.access).await;
    assert_eq!(none, json!([]));
    let logins: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND details::jsonb ->> 'method' = 'facebook'").fetch_one(&api.db).await.unwrap();
    assert_eq!(logins, 1);
    // No platform token is kept for a sign-in.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM platform_connections WHERE account_id = $1").bind(&subject).fetch_one(&api.db).await.unwrap();
    assert_eq!(kept, 0);

    // Unlinked, it signs nobody in again.
    let (status, _, _) = api.call(Method::DELETE, "/v1/me/identities/facebook", Some(&ana.access), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = api.call(Method::DELETE, "/v1/me/identities/facebook", Some(&ana.access), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (code, state) = identity_consent(&api, None, "facebook").await;
    let (status, _) = api.post("/v1/auth/social/facebook/complete", None, json!({"state": state, "code": code})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    api.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiktok_and_instagram_identities_and_bad_requests() {
    let sim = sim().await;
    let api = TestApi::start_with_platforms(&sim).await;
    let carla = api.account("carla@social.example.com", "Carla's").await;

    // TikTok (PKCE) and Instagram Login identify too.
    for platform in ["tiktok", "instagram"] {
        let (code, state) = identity_consent(&api, Some(&carla.access), platform).await;
        let (status, linked) = api.post(&format!("/v1/me/identities/{platform}/complete"), Some(&carla.access), json!({"state": state, "code": code})).await;
        assert_eq!(status, StatusCode::CREATED, "{platform}: {linked}");
        let (code, state) = identity_consent(&api, None, platform).await;
        let (status, tokens) = api.post(&format!("/v1/auth/social/{platform}/complete"), None, json!({"state": state, "code": code})).await;
        assert_eq!(status, StatusCode::OK, "{platform}: {tokens}");
    }

    // Platforms without a sign-in, unknown ones, a bad redirect, missing fields, an API key.
    let (status, body) = api.post("/v1/auth/social/ga4", None, json!({"redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("no sign-in identity"), "{body}");
    let (status, body) = api.post("/v1/auth/social/myspace", None, json!({"redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = api.post("/v1/auth/social/facebook", None, json!({"redirect_uri": "javascript:alert(1)"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.post("/v1/auth/social/facebook/complete", None, json!({"state": "", "code": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.post("/v1/auth/social/facebook/complete", None, json!({"state": "never-issued", "code": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = api.call(Method::GET, "/v1/me/identities", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, key) = api.post(&format!("/v1/orgs/{}/api-keys", carla.org_id), Some(&carla.access), json!({"name": "k", "scope": "read"})).await;
    let (status, _) = api.post("/v1/me/identities/facebook", Some(key["key"].as_str().unwrap()), json!({"redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an API key is not a person");
    let identities: i64 = sqlx::query_scalar("SELECT count(*) FROM user_identities").fetch_one(&api.db).await.unwrap();
    assert_eq!(identities, 2, "nothing stored by the refused requests");
    api.stop().await;
    sim.stop().await;
}
