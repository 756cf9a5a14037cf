//! G7: an organisation cannot read or change anything private of another, through any route
//! of the OpenAPI document, with a user token or an API key.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn no_route_lets_one_organisation_into_another() {
    let api = TestApi::start().await;
    let a = api.org_fixture("alfa").await;
    let b = api.org_fixture("beta").await;
    let before = api.private_state(&b.owner.org_id).await;
    let (_, operations) = operations(&api).await;
    let private: Vec<_> = operations.iter().filter(|(_, path)| path.contains("{org_id}")).collect();
    assert!(private.len() >= 25, "every organisation route is walked ({})", private.len());

    for (name, path) in &private {
        // A's credentials, B's organisation and B's things; then A's organisation with B's
        // things (a foreign id smuggled under one's own organisation).
        let attempts = [
            (fill(path, &b.owner.org_id, &b, &b.viewer.user_id), a.owner.access.as_str(), "A's owner in B"),
            (fill(path, &b.owner.org_id, &b, &b.viewer.user_id), a.write_key.as_str(), "A's API key in B"),
            (fill(path, &a.owner.org_id, &b, &b.viewer.user_id), a.owner.access.as_str(), "B's ids under A"),
        ];
        for (url, credential, how) in attempts {
            let smuggled_only = how == "B's ids under A";
            let has_foreign_child = ["{list_id}", "{campaign_id}", "{invitation_id}", "{key_id}", "{user_id}", "{connection_id}"].iter().any(|p| path.contains(p));
            if smuggled_only && !has_foreign_child {
                continue;
            }
            let (status, _, body) = api.call(method(name), &url, Some(credential), body_for(name, path)).await;
            assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{how}: {name} {url} answered {status}: {body}");
        }
    }
    assert_eq!(api.private_state(&b.owner.org_id).await, before, "B's private data is exactly as it was");

    // What A may see of itself never includes B.
    let (_, me) = api.get("/v1/me", &a.owner.access).await;
    assert_eq!(me["organisations"].as_array().unwrap().len(), 1);
    let (_, lists) = api.get(&format!("/v1/orgs/{}/lists", a.owner.org_id), &a.owner.access).await;
    assert_eq!(lists.as_array().unwrap().len(), 1);
    assert_eq!(lists[0]["name"], "alfa list");
    api.stop().await;
}

#[tokio::test]
async fn the_plan_caps_tracked_influencers_across_lists_and_campaigns() {
    let api = TestApi::start().await;
    let owner = api.account("owner@quota.example.com", "Quota").await;
    let org = &owner.org_id;
    let (_, list) = api.post(&format!("/v1/orgs/{org}/lists"), Some(&owner.access), serde_json::json!({"name": "L"})).await;
    let (_, campaign) = api.post(&format!("/v1/orgs/{org}/campaigns"), Some(&owner.access), serde_json::json!({"name": "C", "starts_on": "2026-12-01", "ends_on": "2026-12-02"})).await;
    let id = |n: usize| format!("{}:{}", PLATFORMS[n % 3], 1000 + n);
    let add = |target: String| {
        let api = &api;
        let token = owner.access.clone();
        async move { api.call(reqwest::Method::PUT, &target, Some(&token), None).await.0 }
    };
    let list_url = |n: usize| format!("/v1/orgs/{org}/lists/{}/influencers/{}", list["list_id"].as_str().unwrap(), id(n));
    let campaign_url = |n: usize| format!("/v1/orgs/{org}/campaigns/{}/influencers/{}", campaign["campaign_id"].as_str().unwrap(), id(n));
    for n in 0..25 {
        // Half in the list, half in the campaign: the quota counts distinct creators in both.
        let url = if n % 2 == 0 { list_url(n) } else { campaign_url(n) };
        assert_eq!(add(url).await, StatusCode::NO_CONTENT, "creator {n}");
    }
    assert_eq!(add(list_url(25)).await, StatusCode::CONFLICT, "the free plan tracks 25");
    assert_eq!(add(list_url(1)).await, StatusCode::NO_CONTENT, "one already tracked (in the campaign) costs nothing more");
    let (_, organisation) = api.get(&format!("/v1/orgs/{org}"), &owner.access).await;
    assert_eq!((organisation["tracked_influencers"].as_i64(), organisation["tracked_influencers_limit"].as_i64()), (Some(25), Some(25)));
    let (status, _, _) = api.call(reqwest::Method::PATCH, &format!("/v1/orgs/{org}"), Some(&owner.access), Some(serde_json::json!({"plan": "pro"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(add(list_url(25)).await, StatusCode::NO_CONTENT, "the pro plan has room");
    assert_eq!(add(list_url(59).replace("1059", "99999")).await, StatusCode::NOT_FOUND, "an unknown creator cannot be tracked");
    api.stop().await;
}
