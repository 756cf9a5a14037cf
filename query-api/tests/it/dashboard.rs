//! `analisa serve` hosting the dashboard build: client routes, cache policy, API paths kept apart.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};

use crate::support::{TestApi, config};

#[tokio::test]
async fn serves_the_dashboard_with_client_routes_and_a_cache_policy() {
    let outside = tempfile::tempdir().unwrap();
    let root = outside.path().join("browser");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><app-root>dashboard index</app-root>").unwrap();
    std::fs::write(root.join("main-7ZQ4XK2M.js"), "console.log('bundle');".repeat(200)).unwrap();
    std::fs::write(root.join("favicon.ico"), [0u8, 0, 1, 0]).unwrap();
    std::fs::write(outside.path().join("secret.txt"), "not for the web").unwrap();
    let api = TestApi::start_with(&crate::support::redis_url(), analisa_query_api::ApiConfig { web_root: Some(root.clone()), ..config() }).await;
    // Without reqwest's transparent decompression, to see what goes over the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let get = |path: &str| raw.get(format!("{}{path}", api.base)).send();

    for path in ["/", "/influencers/instagram:1001?tier=micro", "/compare"] {
        let response = get(path).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{path}: the index is always revalidated");
        assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(response.text().await.unwrap().contains("dashboard index"), "{path} falls back to the index");
    }

    let bundle = raw.get(format!("{}/main-7ZQ4XK2M.js", api.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert_eq!(bundle.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(bundle.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(bundle.headers()["x-content-type-options"], "nosniff");
    assert_eq!(get("/favicon.ico").await.unwrap().headers()[CACHE_CONTROL], "no-cache");

    // Unknown API paths answer as the API does, not with the dashboard's HTML.
    let (status, headers, body) = api.call(reqwest::Method::GET, "/v1/no-such-thing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[CONTENT_TYPE], "application/problem+json");
    assert_eq!(body["status"], 404);

    // Nothing outside the build directory is reachable.
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let response = get(path).await.unwrap();
        let text = response.text().await.unwrap();
        assert!(!text.contains("not for the web"), "{path} escaped the web root");
    }
    api.stop().await;
}
