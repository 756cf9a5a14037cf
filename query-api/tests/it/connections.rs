//! Connecting platform accounts through the API: the OAuth flow against the simulator's
//! servers, bound to the organisation that began it, and what bad input and an unreachable
//! platform get.

use analisa_sim::WorldSpec;
use analisa_sim::server::{RunningSim, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn sim() -> RunningSim {
    RunningSim::start(SimOptions { world: WorldSpec::new(11, 20, 30), listen: "127.0.0.1:0".parse().unwrap(), faults: Default::default(), budgets: Default::default() }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_connects_an_account_and_disconnects_it() {
    let sim = sim().await;
    let api = TestApi::start_with_platforms(&sim).await;
    let fixture = api.org_fixture("conn").await;
    let other = api.account("owner@other.example.com", "Other").await;
    let org = &fixture.owner.org_id;
    let complete = format!("/v1/orgs/{org}/connections/complete");

    // The consent page asks for PKCE on TikTok and carries the state.
    let (status, started) = api.post(&format!("/v1/orgs/{org}/connections"), Some(&fixture.owner.access), json!({"platform": "tiktok", "redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let url = url::Url::parse(started["authorize_url"].as_str().unwrap()).unwrap();
    assert!(url.as_str().starts_with(sim.urls["tiktok"].as_str()), "{url}");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!((query["code_challenge_method"].as_str(), query["redirect_uri"].as_str()), ("S256", CALLBACK));
    assert_eq!(started["expires_in"], 900);

    let (code, state) = consent(&api, &fixture.owner, "tiktok").await;
    let body = json!({"platform": "tiktok", "state": state, "code": code});
    // A viewer may not finish it; another organisation cannot, even in its own name.
    let (status, _) = api.post(&complete, Some(&fixture.viewer.access), body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, refused) = api.post(&format!("/v1/orgs/{}/connections/complete", other.org_id), Some(&other.access), body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("OAuth state"), "{refused}");

    let (status, connection) = api.post(&complete, Some(&fixture.owner.access), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    assert_eq!((connection["platform"].as_str(), connection["status"].as_str()), (Some("tiktok"), Some("active")));
    let account = connection["account_id"].as_str().unwrap().to_owned();
    let (status, _) = api.post(&complete, Some(&fixture.owner.access), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a state is single-use");

    // Listed for its organisation only, tokens never shown; the activity says who did it.
    let (_, listed) = api.get(&format!("/v1/orgs/{org}/connections"), &fixture.owner.access).await;
    let mine: Vec<_> = listed.as_array().unwrap().iter().filter(|c| c["account_id"] == account.as_str()).collect();
    assert_eq!(mine.len(), 1, "{listed}");
    assert!(!listed.to_string().contains("token\""), "{listed}");
    let (_, theirs) = api.get(&format!("/v1/orgs/{}/connections", other.org_id), &other.access).await;
    assert_eq!(theirs, json!([]));
    let (_, activity) = api.get(&format!("/v1/orgs/{org}/activity"), &fixture.owner.access).await;
    assert!(activity.as_array().unwrap().iter().any(|a| a["action"] == "connection.create" && a["target"] == format!("tiktok:{account}")), "{activity}");

    // The stored token works at the platform until the connection is disconnected.
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT access_token FROM platform_connections WHERE account_id = $1").bind(&account).fetch_one(&api.db).await.unwrap();
    assert!(sealed.len() > 28, "sealed, never empty");
    let id = mine[0]["id"].as_str().unwrap();
    let (status, _, _) = api.call(Method::DELETE, &format!("/v1/orgs/{org}/connections/{id}"), Some(&fixture.viewer.access), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = api.call(Method::DELETE, &format!("/v1/orgs/{org}/connections/{id}"), Some(&fixture.owner.access), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, listed) = api.get(&format!("/v1/orgs/{org}/connections"), &fixture.owner.access).await;
    assert!(!listed.to_string().contains(&account), "{listed}");
    let (status, _, _) = api.call(Method::DELETE, &format!("/v1/orgs/{org}/connections/{id}"), Some(&fixture.owner.access), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone once disconnected");
    let (_, activity) = api.get(&format!("/v1/orgs/{org}/activity"), &fixture.owner.access).await;
    assert!(activity.as_array().unwrap().iter().any(|a| a["action"] == "connection.revoke"), "{activity}");
    api.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_nothing_is_stored() {
    let sim = sim().await;
    let api = TestApi::start_with_platforms(&sim).await;
    let owner = api.account("owner@bad.example.com", "Bad").await;
    let begin = format!("/v1/orgs/{}/connections", owner.org_id);
    for (body, expected) in [
        (json!({"platform": "myspace", "redirect_uri": CALLBACK}), StatusCode::BAD_REQUEST),
        (json!({"platform": "tiktok", "redirect_uri": "javascript:alert(1)"}), StatusCode::BAD_REQUEST),
        (json!({"platform": "tiktok", "redirect_uri": "https://user:pw@analisa.example/cb"}), StatusCode::BAD_REQUEST),
        (json!({"platform": "tiktok", "redirect_uri": "/relative"}), StatusCode::BAD_REQUEST),
        (json!({"platform": "ga4", "redirect_uri": CALLBACK}), StatusCode::BAD_REQUEST),
        (json!({"platform": "ga4", "redirect_uri": CALLBACK, "property_id": "12; DROP TABLE"}), StatusCode::BAD_REQUEST),
    ] {
        let (status, _, problem) = api.call(Method::POST, &begin, Some(&owner.access), Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {problem}");
        assert_eq!(problem["status"], expected.as_u16(), "{problem}");
    }
    let complete = format!("/v1/orgs/{}/connections/complete", owner.org_id);
    for body in [json!({"platform": "tiktok", "state": "", "code": "c"}), json!({"platform": "tiktok", "state": "s", "code": ""}), json!({"platform": "tiktok", "state": "forged", "code": "c"})] {
        let (status, problem) = api.post(&complete, Some(&owner.access), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
    }
    // A code the platform never issued: the platform refuses, nothing is stored.
    let (_, state) = consent(&api, &owner, "tiktok").await;
    let (status, problem) = api.post(&complete, Some(&owner.access), json!({"platform": "tiktok", "state": state, "code": "forged-code"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("refused"), "{problem}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM platform_connections").fetch_one(&api.db).await.unwrap();
    assert_eq!(stored, 0);
    api.stop().await;

    // A server without a token key says connecting is not set up.
    let bare = TestApi::start().await;
    let owner = bare.account("owner@bare.example.com", "Bare").await;
    let (status, problem) = bare.post(&format!("/v1/orgs/{}/connections", owner.org_id), Some(&owner.access), json!({"platform": "tiktok", "redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("token_key"), "{problem}");
    bare.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_platform_leaves_connections_as_they_were() {
    let sim = sim().await;
    let api = TestApi::start_with_platforms(&sim).await;
    let owner = api.account("owner@down.example.com", "Down").await;
    let org = &owner.org_id;
    let (code, state) = consent(&api, &owner, "tiktok").await;
    let (status, connection) = api.post(&format!("/v1/orgs/{org}/connections/complete"), Some(&owner.access), json!({"platform": "tiktok", "state": state, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let (code, state) = consent(&api, &owner, "tiktok_business").await;
    sim.stop().await;

    let (status, problem) = api.post(&format!("/v1/orgs/{org}/connections/complete"), Some(&owner.access), json!({"platform": "tiktok_business", "state": state, "code": code})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
    assert!(problem["detail"].as_str().unwrap().starts_with("cannot reach tiktok_business"), "{problem}");
    let (status, _, problem) = api.call(Method::DELETE, &format!("/v1/orgs/{org}/connections/{}", connection["id"].as_str().unwrap()), Some(&owner.access), None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
    let (_, listed) = api.get(&format!("/v1/orgs/{org}/connections"), &owner.access).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["status"], "active", "a platform that cannot be reached is not a revocation");
    api.stop().await;
}
