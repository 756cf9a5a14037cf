//! The answer cache, ETags, publication invalidation, rate limits, and life without Redis or
//! PostgreSQL.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::support::*;

async fn get_with(api: &TestApi, path: &str, token: &str, etag: Option<&str>) -> (StatusCode, String, String, String) {
    let mut request = api.client.get(format!("{}{path}", api.base)).bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, cache, tag) = (response.status(), header("x-cache"), header("etag"));
    (status, cache, tag, response.text().await.unwrap())
}

/// What `analisa jobs run --step publish` does, in miniature: new serving rows and a new
/// publication in one transaction, then the announcement and the cache drop in Redis. Returns
/// once the API has heard of it (the announcement travels to it through Redis pub/sub).
async fn publish_new_run(api: &TestApi, token: &str) {
    let mut tx = api.db.begin().await.unwrap();
    sqlx::query("INSERT INTO serving.publications (publication_id, run_id, as_of_date, lake_versions, row_counts) VALUES (2, 'second', '2026-11-29', '{}', '{}')").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE serving.influencers SET followers = followers + 1, publication_id = 2").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("SET").arg(format!("{}:published", api.prefix)).arg(2).query_async::<()>(&mut redis).await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{}:cache:*", api.prefix)).query_async(&mut redis).await.unwrap();
    if !keys.is_empty() {
        redis::cmd("UNLINK").arg(keys).query_async::<()>(&mut redis).await.unwrap();
    }
    redis::cmd("PUBLISH").arg(format!("{}:published", api.prefix)).arg(2).query_async::<()>(&mut redis).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = api.client.get(format!("{}/v1/influencers?limit=1", api.base)).bearer_auth(token).send().await.unwrap();
        if response.headers()["x-publication"] == "2" {
            return;
        }
        assert!(Instant::now() < deadline, "the API never heard of publication 2");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn answers_are_cached_per_publication_with_etags() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let path = "/v1/influencers/instagram:1003";
    let (status, cache, etag, first) = get_with(&api, path, &ana.access, None).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"));
    let (status, cache, again, second) = get_with(&api, path, &ana.access, None).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "hit"), "the second request comes from Redis");
    assert_eq!((etag.as_str(), first.as_str()), (again.as_str(), second.as_str()), "the same answer and tag");
    let (status, _, _, body) = get_with(&api, path, &ana.access, Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    publish_new_run(&api, &ana.access).await;
    let (status, cache, new_etag, body) = get_with(&api, path, &ana.access, Some(&etag)).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"), "a publication invalidates: the old tag no longer matches");
    assert_ne!(new_etag, etag);
    let followers = serde_json::from_str::<serde_json::Value>(&body).unwrap()["influencer"]["followers"].as_i64().unwrap();
    assert_eq!(followers, 5_000 + 3 * 1_000 + 1, "the new run's numbers");
    api.stop().await;
}

#[tokio::test]
async fn cached_answers_go_gzipped_to_clients_that_take_gzip() {
    use std::io::Read;
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    // Without reqwest's transparent decompression, to see what goes over the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = format!("{}/v1/influencers/instagram:1003", api.base);
    let get = |encoding: Option<&'static str>, etag: Option<String>| {
        let mut request = raw.get(&url).bearer_auth(&ana.access);
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let plain = get(None, None).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    let strong = plain.headers()["etag"].to_str().unwrap().to_owned();
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1024, "a profile is long enough to be kept gzipped ({} bytes)", plain.len());

    for _ in 0..2 {
        // The first from the answer just kept, the second from the near cache.
        let gzipped = get(Some("br;q=1, gzip;q=0.8"), None).await.unwrap();
        assert_eq!(gzipped.status(), StatusCode::OK);
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        assert_eq!(gzipped.headers()["content-type"], "application/json");
        let weak = gzipped.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(weak, format!("W/{strong}"), "the same content in another encoding");
        let body = gzipped.bytes().await.unwrap();
        assert!(body.len() < plain.len() / 2);
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, plain, "the same answer once unpacked");
        for tag in [weak.clone(), strong.clone()] {
            assert_eq!(get(Some("gzip"), Some(tag)).await.unwrap().status(), StatusCode::NOT_MODIFIED, "either tag revalidates");
        }
    }
    let refused = get(Some("gzip;q=0, identity"), None).await.unwrap();
    assert!(refused.headers().get("content-encoding").is_none(), "gzip;q=0 refuses gzip");
    assert_eq!(refused.bytes().await.unwrap(), plain);
    assert_eq!(get(None, Some(strong)).await.unwrap().status(), StatusCode::NOT_MODIFIED);
    api.stop().await;
}

#[tokio::test]
async fn rate_limits_follow_the_plan_with_headers() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let (status, headers, _) = api.call(Method::GET, "/v1/influencers?limit=1", Some(&ana.access), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["ratelimit-limit"], "120", "the free plan");
    let mut refused = None;
    for n in 0..200 {
        let (status, headers, body) = api.call(Method::GET, "/v1/influencers?limit=1", Some(&ana.access), None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["status"], 429);
            assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            assert_eq!(headers["ratelimit-remaining"], "0");
            refused = Some(n);
            break;
        }
    }
    let refused = refused.expect("the bucket runs dry");
    assert!((110..=125).contains(&refused), "about 120 requests pass in the first minute, then 429 ({refused})");
    // Another caller has a bucket of its own.
    let bia = api.account("bia@example.com", "Agência B").await;
    assert_eq!(api.get("/v1/influencers?limit=1", &bia.access).await.0, StatusCode::OK);
    api.stop().await;
}

#[tokio::test]
async fn leased_tokens_never_let_a_busy_caller_over_its_limit() {
    // 400 a minute: the API takes 4 tokens from Redis at a time and spends them in process.
    let mut config = config();
    config.plans.free.requests_per_minute = 400;
    let api = TestApi::start_with(&redis_url(), config).await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let started = Instant::now();
    let mut passed = 0u64;
    let mut last_remaining = i64::MAX;
    loop {
        let (status, headers, _) = api.call(Method::GET, "/v1/influencers?limit=1", Some(&ana.access), None).await;
        let remaining: i64 = headers["ratelimit-remaining"].to_str().unwrap().parse().unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(remaining, 0);
            break;
        }
        assert_eq!(status, StatusCode::OK);
        passed += 1;
        assert!(passed <= 1_000, "the bucket never ran dry");
        // Refills may raise it by a token or two between leases, never by a lease's worth.
        assert!(remaining <= last_remaining.saturating_add(8), "remaining went from {last_remaining} to {remaining}");
        last_remaining = remaining;
    }
    let refilled = (started.elapsed().as_secs_f64() * 400.0 / 60.0).ceil() as u64;
    assert!(passed >= 400, "every token of the full bucket was usable ({passed})");
    assert!(passed <= 400 + refilled + 1, "{passed} requests passed; the limit allows {} in {:?}", 400 + refilled, started.elapsed());
    api.stop().await;
}

struct OwnRedis {
    child: Child,
    url: String,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs Redis)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, url: format!("redis://127.0.0.1:{port}/0") }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test]
async fn redis_killed_mid_test_the_answers_go_on() {
    let mut redis = OwnRedis::start();
    let api = TestApi::start_with(&redis.url, config()).await;
    let ana = api.account("ana@example.com", "Agência A").await;
    let path = "/v1/influencers?platform=tiktok&sort=-followers&limit=5";
    let (_, cache, etag, before) = get_with(&api, path, &ana.access, None).await;
    assert_eq!(cache, "miss");
    assert_eq!(get_with(&api, path, &ana.access, None).await.1, "hit");

    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    for _ in 0..5 {
        let (status, cache, tag, body) = get_with(&api, path, &ana.access, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(cache, "hit", "kept in the API's own memory under the publication PostgreSQL names");
        assert_eq!((tag.as_str(), body.as_str()), (etag.as_str(), before.as_str()), "the same answer");
    }
    let (status, _, _, _) = get_with(&api, path, &ana.access, Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED, "ETags work without Redis");
    let other = "/v1/influencers?platform=tiktok&sort=-followers&limit=3";
    let (status, cache, _, body) = get_with(&api, other, &ana.access, None).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "bypass"), "a new question is answered from PostgreSQL: {body}");
    let top3: serde_json::Value = serde_json::from_str(&body).unwrap();
    let top5: serde_json::Value = serde_json::from_str(&before).unwrap();
    assert_eq!(top3["items"].as_array().unwrap()[..], top5["items"].as_array().unwrap()[..3], "the same ranking as before Redis died");
    assert_eq!(api.get("/v1/influencers/instagram:1003", &ana.access).await.0, StatusCode::OK);
    let bia = api.account("bia@example.com", "Agência B").await;
    assert_eq!(api.get("/v1/me", &bia.access).await.0, StatusCode::OK, "sign-up and sign-in too");
    let (_, ready) = api.get("/ready", &bia.access).await;
    assert_eq!((ready["status"].as_str(), ready["redis"].as_bool()), (Some("ready"), Some(false)));
    api.stop().await;
}

#[tokio::test]
async fn postgres_unreachable_gives_503_problems_not_hangs() {
    let api = TestApi::start().await;
    let ana = api.account("ana@example.com", "Agência A").await;
    // Every connection of the API's pool is cut, and new ones are refused.
    let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&api.db).await.unwrap();
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()").bind(&name).execute(&admin).await.unwrap();

    let started = Instant::now();
    let (status, headers, body) = api.call(Method::GET, "/v1/influencers/instagram:1003", Some(&ana.access), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(started.elapsed() < Duration::from_secs(15), "bounded by the pool's acquire timeout, never a hang");
    let (status, _, ready) = api.call(Method::GET, "/ready", None, None).await;
    assert_eq!((status, ready["postgres"].as_bool()), (StatusCode::SERVICE_UNAVAILABLE, Some(false)));

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&admin).await.unwrap();
    let (status, _, _) = api.call(Method::GET, "/v1/influencers/instagram:1003", Some(&ana.access), None).await;
    assert_eq!(status, StatusCode::OK, "and recovers when PostgreSQL is back");
    api.stop().await;
}
