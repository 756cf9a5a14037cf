//! Search, profile, history, posts and compare over the published world.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

/// Walks every page of a search; returns the ids in order.
async fn walk(api: &TestApi, token: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = format!("/v1/influencers?{query}&limit=7");
    loop {
        let (status, page) = api.get(&url, token).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        ids.extend(items(&page).iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("/v1/influencers?{query}&limit=7&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn search_filters_sorts_and_pages_without_gaps_or_repeats() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;

    let (_, page) = api.get("/v1/influencers", &ana.access).await;
    assert_eq!(page["total"], INFLUENCERS as u64);
    // Default sort: score descending, creators without a score last.
    let scores: Vec<Option<f64>> = items(&page).iter().map(|i| i["score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    for sort in ["-score", "score", "followers", "-followers", "engagement_rate", "-growth_pct_30d", "handle", "-handle"] {
        let ids = walk(&api, &ana.access, &format!("sort={sort}")).await;
        assert_eq!(ids.len(), INFLUENCERS, "{sort}: every creator once");
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), INFLUENCERS, "{sort}: no repeats across pages");
    }
    let by_score = walk(&api, &ana.access, "sort=score").await;
    let unscored: Vec<&String> = by_score.iter().rev().take(INFLUENCERS.div_ceil(7)).collect();
    for id in unscored {
        let n: usize = id.split(':').nth(1).unwrap().parse::<usize>().unwrap() - 1000;
        assert_eq!(n % 7, 0, "ascending too, creators without a score come last ({id})");
    }

    // Filters, checked against the seed's rules.
    let (_, page) = api.get("/v1/influencers?platform=instagram&tier=nano&limit=100", &ana.access).await;
    assert!(items(&page).iter().all(|i| i["platform"] == "instagram" && i["tier"] == "nano"));
    assert_eq!(page["total"], (0..INFLUENCERS).filter(|i| i % 3 == 0).count() as u64, "instagram ⇔ nano in the seed");
    let (_, page) = api.get("/v1/influencers?niche=beauty,food&country=br&language=pt&limit=100", &ana.access).await;
    assert_eq!(page["total"], (0..INFLUENCERS).filter(|i| i % 2 == 0 && (i % 4 == 0 || i % 4 == 2)).count() as u64);
    let (_, page) = api.get("/v1/influencers?score_min=60&score_max=80&er_min=0.02&growth_min=0&limit=100", &ana.access).await;
    assert!(!items(&page).is_empty());
    for i in items(&page) {
        let (score, er, growth) = (i["score"].as_f64().unwrap(), i["engagement_rate"].as_f64().unwrap(), i["growth_pct_30d"].as_f64().unwrap());
        assert!((60.0..=80.0).contains(&score) && er >= 0.02 && growth >= 0.0, "{i}");
    }
    let (_, page) = api.get("/v1/influencers?q=CREATOR_4", &ana.access).await;
    let handles: BTreeSet<&str> = items(&page).iter().map(|i| i["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, (40..50).map(|n| format!("creator_{n}")).collect::<BTreeSet<_>>().iter().map(String::as_str).collect());
    let (_, page) = api.get("/v1/influencers?q=Criadora%2012", &ana.access).await;
    assert_eq!(page["total"], 1, "display names are searched too");

    // Wrong input: clear errors.
    for (query, expected) in [
        ("sort=password", "cannot sort by"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("score_min=90&score_max=10", "score_min is above score_max"),
        ("cursor=bm9wZQ", "cursor"),
        ("score_min=abc", "score_min"),
    ] {
        let (status, body) = api.get(&format!("/v1/influencers?{query}"), &ana.access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(expected), "{query}: {body}");
    }
    // A cursor of one sort is refused by another.
    let (_, page) = api.get("/v1/influencers?sort=handle&limit=2", &ana.access).await;
    let (status, _) = api.get(&format!("/v1/influencers?sort=followers&cursor={}", page["next_cursor"].as_str().unwrap()), &ana.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    api.stop().await;
}

#[tokio::test]
async fn injection_strings_in_every_filter_are_only_text() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let hostile = ["' OR '1'='1", "'; DROP TABLE users; --", "\" OR 1=1 --", "%' UNION SELECT password_hash FROM users --", "\\", "%_%", "1) OR (1=1"];
    for param in ["platform", "niche", "tier", "country", "language", "q", "sort", "cursor", "score_min", "er_max", "growth_min"] {
        for text in hostile {
            let url = format!("/v1/influencers?{param}={}", urlencoding(text));
            let (status, body) = api.get(&url, &ana.access).await;
            assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{url}: {status} {body}");
            if status == StatusCode::OK {
                assert_eq!(body["total"], 0, "{url}: text matched nothing, it was not run as SQL");
            }
        }
    }
    for path in ["/v1/influencers/instagram:1'%20OR%20'1'='1", "/v1/influencers/x;DROP%20TABLE%20users/history", "/v1/compare?ids=instagram:1000,'%20OR%201=1"] {
        let (status, body) = api.get(path, &ana.access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&api.db).await.unwrap();
    assert_eq!(users, 1, "nothing was dropped or read");
    api.stop().await;
}

fn urlencoding(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn profile_history_posts_and_compare() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let (status, profile) = api.get("/v1/influencers/instagram:1003", &ana.access).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["influencer"]["handle"], "creator_03");
    assert_eq!(profile["score"]["components"][0]["component"], "engagement", "the default formula's breakdown");
    assert!(profile["scores"]["social_score/v1"].is_object());
    let bench = &profile["benchmarks"][0];
    assert_eq!(bench["metric"], "er_followers_median");
    assert_eq!(bench["cohort"], "instagram/*/nano+next", "the widened cohort the score used");
    assert_eq!(bench["widened_to"], "instagram/*/nano+next");
    assert_eq!(bench["band"], "above_p90", "ER 0.013 is above the widened cohort's p90 of 0.005");
    let (_, exact) = api.get("/v1/influencers/instagram:1009", &ana.access).await;
    let bench = &exact["benchmarks"][0];
    assert_eq!((bench["cohort"].as_str(), bench["widened_to"].as_str()), (Some("instagram/fitness/nano"), None), "an exact cohort");
    assert_eq!(bench["band"], "p10_p25", "ER 0.019 lies between p10 0.01 and p25 0.02");
    assert_eq!(profile["flags"][0]["flag_id"], "flag-3");
    assert!(profile["sentiment"].is_null() && profile["forecast"].is_null(), "no model has run in this world");

    let (status, history) = api.get("/v1/influencers/instagram:1003/history?from=2026-11-10&to=2026-11-19", &ana.access).await;
    assert_eq!(status, StatusCode::OK);
    let points = history["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    assert_eq!(points[0]["date"], "2026-11-10");
    let (status, _) = api.get("/v1/influencers/instagram:1003/history?from=2026-11-19&to=2026-11-10", &ana.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, posts) = api.get("/v1/influencers/instagram:1003/posts?limit=2", &ana.access).await;
    assert_eq!(posts["items"].as_array().unwrap().len(), 2);
    assert_eq!(posts["items"][0]["post_id"], "1003_2", "newest first");
    let (_, rest) = api.get(&format!("/v1/influencers/instagram:1003/posts?limit=2&cursor={}", posts["next_cursor"].as_str().unwrap()), &ana.access).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    for missing in ["/v1/influencers/instagram:999999", "/v1/influencers/tiktok:1003/history", "/v1/influencers/facebook:1/posts"] {
        let (status, body) = api.get(missing, &ana.access).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {body}");
    }
    let (status, body) = api.get("/v1/influencers/myspace:1", &ana.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, comparison) = api.get("/v1/compare?ids=instagram:1003,tiktok:1001,facebook:1002", &ana.access).await;
    assert_eq!(status, StatusCode::OK, "{comparison}");
    assert_eq!(comparison["items"].as_array().unwrap().len(), 3);
    assert_eq!(comparison["best"]["followers"], "instagram:1003", "the most followers");
    assert_eq!(comparison["items"][0]["history"].as_array().unwrap().len(), 28);
    for ids in ["instagram:1003", "instagram:1003,instagram:1003", &(0..11).map(|i| format!("instagram:{}", 1000 + 3 * i)).collect::<Vec<_>>().join(",")] {
        let (status, _) = api.get(&format!("/v1/compare?ids={ids}"), &ana.access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ids}");
    }
    api.stop().await;
}
