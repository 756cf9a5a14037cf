//! A running API on a fresh database, with a small published world in its serving tables.

use std::time::Duration;

use analisa_ingest::PlatformsConfig;
use analisa_ingest::oauth::{Connections, TokenCipher};
use analisa_lake::{Lake, LakeConfig};
use analisa_sim::server::RunningSim;
use analisa_query_api::{Api, ApiConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";
pub const PASSWORD: &str = "correct horse battery";
/// The dashboard's callback page, as a redirect URI.
pub const CALLBACK: &str = "https://analisa.example/settings/connections/callback/tiktok";

fn admin_url() -> String {
    std::env::var("ANALISA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("ANALISA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

pub struct TestApi {
    pub base: String,
    /// `grpc://…` of the Flight SQL endpoint.
    pub flight: String,
    pub db: PgPool,
    pub prefix: String,
    pub client: reqwest::Client,
    /// The lake the API reads (in memory unless the test gave one).
    pub lake: Lake,
    name: String,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
}

pub fn config() -> ApiConfig {
    ApiConfig { jwt_secret: Some(SECRET.to_owned().into()), ..ApiConfig::default() }
}

impl TestApi {
    pub async fn start() -> Self {
        Self::start_with(&redis_url(), config()).await
    }

    pub async fn start_with(redis_url: &str, config: ApiConfig) -> Self {
        let lake = Lake::open(&LakeConfig { root: "memory://".into(), ..LakeConfig::default() }).unwrap();
        Self::start_full(redis_url, config, lake).await
    }

    /// An API over `lake`, with its Flight SQL endpoint.
    pub async fn start_full(redis_url: &str, config: ApiConfig, lake: Lake) -> Self {
        Self::start_inner(redis_url, config, lake, None).await
    }

    /// An API whose organisations connect accounts through the simulator's OAuth servers.
    pub async fn start_with_platforms(sim: &RunningSim) -> Self {
        #[derive(serde::Deserialize)]
        struct Fragment {
            platforms: PlatformsConfig,
        }
        let platforms = toml::from_str::<Fragment>(&sim.config_fragment()).unwrap().platforms;
        let lake = Lake::open(&LakeConfig { root: "memory://".into(), ..LakeConfig::default() }).unwrap();
        Self::start_inner(&redis_url(), config(), lake, Some(platforms)).await
    }

    async fn start_inner(redis_url: &str, config: ApiConfig, lake: Lake, platforms: Option<PlatformsConfig>) -> Self {
        let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url()).await.expect("PostgreSQL on 127.0.0.1:5432 (scripts/test starts it)");
        let name = unique("analisa_api");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
        let url = format!("{}/{name}", admin_url().rsplit_once('/').unwrap().0);
        let db = PgPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(3)).connect(&url).await.unwrap();
        sqlx::migrate!("../migrations").run(&db).await.unwrap();
        seed(&db).await;
        let prefix = unique("apitest");
        let mut api = Api::new(db.clone(), redis_url, &prefix, Some(lake.clone()), config).unwrap();
        if let Some(platforms) = platforms {
            api = api.with_connections(Connections::new(db.clone(), TokenCipher::generate(), platforms));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let flight_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let flight = format!("grpc://{}", flight_listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = rx.clone();
            async move {
                rx.wait_for(|stop| *stop).await.ok();
            }
        };
        let flight_api = api.clone();
        let flight_stopped = stopped();
        tokio::spawn(async move { flight_api.serve_flight_sql(flight_listener, flight_stopped).await.unwrap() });
        tokio::spawn(async move { api.serve(listener, stopped()).await.unwrap() });
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Self { base, flight, db, prefix, client, lake, name, shutdown: Some(tx) }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(true).ok();
        }
        self.db.close().await;
        let admin = PgPoolOptions::new().max_connections(1).connect(&admin_url()).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&admin).await.unwrap();
    }

    /// Sends a request; `auth` is an access token or an API key.
    pub async fn call(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(auth) = auth {
            request = if auth.starts_with("ak_") { request.header("x-api-key", auth) } else { request.bearer_auth(auth) };
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, headers, value)
    }

    pub async fn get(&self, path: &str, auth: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::GET, path, Some(auth), None).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, auth: Option<&str>, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::POST, path, auth, Some(body)).await;
        (status, body)
    }

    /// Registers `email` with an organisation and signs in.
    pub async fn account(&self, email: &str, organisation: &str) -> Account {
        let (status, body) = self.post("/v1/auth/register", None, json!({"email": email, "password": PASSWORD, "display_name": email, "organisation": organisation})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let tokens = self.login(email).await;
        Account { user_id: body["user_id"].as_str().unwrap().to_owned(), org_id: body["org_id"].as_str().unwrap().to_owned(), access: tokens["access_token"].as_str().unwrap().to_owned(), refresh: tokens["refresh_token"].as_str().unwrap().to_owned() }
    }

    pub async fn login(&self, email: &str) -> Value {
        let (status, tokens) = self.post("/v1/auth/login", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    /// Invites `email` into `org` with `role`, registers them and accepts; returns their login.
    pub async fn member(&self, owner: &Account, email: &str, role: &str) -> Account {
        let (status, invitation) = self.post(&format!("/v1/orgs/{}/invitations", owner.org_id), Some(&owner.access), json!({"email": email, "role": role})).await;
        assert_eq!(status, StatusCode::CREATED, "{invitation}");
        let mut account = self.account(email, &format!("{email}'s own")).await;
        let (status, body) = self.post("/v1/invitations/accept", Some(&account.access), json!({"token": invitation["token"]})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        account.org_id = owner.org_id.clone();
        account
    }
}

pub struct Account {
    pub user_id: String,
    pub org_id: String,
    pub access: String,
    pub refresh: String,
}

pub const PLATFORMS: [&str; 3] = ["instagram", "tiktok", "facebook"];
pub const NICHES: [&str; 4] = ["beauty", "fitness", "food", "gaming"];
pub const TIERS: [&str; 3] = ["nano", "micro", "mid"];
pub const INFLUENCERS: usize = 60;

/// A published world of `INFLUENCERS` creators: metrics, scores, 30 days of history, posts,
/// benchmarks and one flag each for a few, the way `jobs` publishes them.
pub async fn seed(db: &PgPool) {
    sqlx::query("INSERT INTO serving.publications (publication_id, run_id, as_of_date, lake_versions, row_counts) VALUES (1, 'seed', '2026-11-28', '{}', '{}')").execute(db).await.unwrap();
    sqlx::query("CREATE TABLE serving.influencer_daily_2026_11 PARTITION OF serving.influencer_daily FOR VALUES FROM ('2026-11-01') TO ('2026-12-01')").execute(db).await.unwrap();
    for i in 0..INFLUENCERS {
        let platform = PLATFORMS[i % 3];
        let account_id = format!("{}", 1000 + i);
        let niche = NICHES[i % 4];
        let tier = TIERS[i % 3];
        let followers = 5_000 + (i as i64) * 1_000;
        let er = 0.01 + (i as f64) * 0.001;
        let growth = (i as f64) - 20.0;
        // Every seventh has no score yet (too little data), to exercise NULL ordering.
        let score = (i % 7 != 0).then_some(40.0 + (i as f64) * 0.9);
        let metrics = json!({"followers": followers, "er_followers_median": er, "er_views": er * 2.0, "growth_pct_30d": growth, "posts_per_week": 3.5});
        // The first creators were compared with a widened cohort, as small cohorts are.
        let cohort = format!("{platform}/{niche}/{tier}");
        let widened = (i < 6).then(|| format!("{platform}/*/{tier}+next"));
        let scores = json!({"social_score/v1": {"score": score, "cohort": cohort, "cohort_widened_to": widened, "components": [{"component": "engagement", "weight": 0.3, "percentile": 50.0, "contribution": 15.0}], "strengths": ["engagement"], "weaknesses": []}});
        sqlx::query(
            "INSERT INTO serving.influencers (platform, account_id, handle, display_name, niche, country, language, followers, tier, engagement_rate, engagement_metric, growth_pct_30d, score, confidence, as_of_date, metrics, scores, publication_id, score_formula)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'er_followers_median', $11, $12, 'high', '2026-11-28', $13, $14, 1, 'social_score/v1')",
        )
        .bind(platform)
        .bind(&account_id)
        .bind(format!("creator_{i:02}"))
        .bind(format!("Criadora {i}"))
        .bind(niche)
        .bind(if i % 2 == 0 { "BR" } else { "US" })
        .bind(if i % 2 == 0 { "pt" } else { "en" })
        .bind(followers)
        .bind(tier)
        .bind(er)
        .bind(growth)
        .bind(score)
        .bind(&metrics)
        .bind(&scores)
        .execute(db)
        .await
        .unwrap();
        for day in 0..28 {
            sqlx::query("INSERT INTO serving.influencer_daily (platform, account_id, date, followers, posts, er_daily) VALUES ($1, $2, DATE '2026-11-01' + $3::int, $4, $5, $6)")
                .bind(platform)
                .bind(&account_id)
                .bind(day)
                .bind(followers - 28 * 10 + i64::from(day) * 10)
                .bind(i64::from(day % 3 == 0))
                .bind(er)
                .execute(db)
                .await
                .unwrap();
        }
        for post in 0..3 {
            sqlx::query(
                "INSERT INTO serving.posts (platform, post_id, account_id, media_type, published_at, caption, is_sponsored, likes, comments, er_followers)
                 VALUES ($1, $2, $3, 'IMAGE', TIMESTAMPTZ '2026-11-20 12:00:00+00' + make_interval(days => $4), 'post', false, 100, 10, 0.02)",
            )
            .bind(platform)
            .bind(format!("{account_id}_{post}"))
            .bind(&account_id)
            .bind(post)
            .execute(db)
            .await
            .unwrap();
        }
        if i % 10 == 3 {
            sqlx::query("INSERT INTO serving.anomaly_flags (flag_id, platform, account_id, flag_type, day, penalised, evidence, reason, detected_at) VALUES ($1, $2, $3, 'follower_spike', '2026-11-10', true, '{\"gain\": 5000}', 'unexplained spike', now())")
                .bind(format!("flag-{i}"))
                .bind(platform)
                .bind(&account_id)
                .execute(db)
                .await
                .unwrap();
        }
    }
    for (platform, tier) in PLATFORMS.iter().zip(TIERS) {
        sqlx::query("INSERT INTO serving.benchmarks (run_date, platform, niche, tier, widened_to, metric, members, p10, p25, p50, p75, p90, mean) VALUES ('2026-11-28', $1, '*', $2, $3, 'er_followers_median', 40, 0.001, 0.002, 0.003, 0.004, 0.005, 0.003)")
            .bind(platform)
            .bind(format!("{tier}+next"))
            .bind(format!("{platform}/*/{tier}+next"))
            .execute(db)
            .await
            .unwrap();
    }
    for platform in PLATFORMS {
        for niche in NICHES {
            for tier in TIERS {
                sqlx::query("INSERT INTO serving.benchmarks (run_date, platform, niche, tier, metric, members, p10, p25, p50, p75, p90, mean) VALUES ('2026-11-28', $1, $2, $3, 'er_followers_median', 5, 0.01, 0.02, 0.03, 0.04, 0.05, 0.03)")
                    .bind(platform)
                    .bind(niche)
                    .bind(tier)
                    .execute(db)
                    .await
                    .unwrap();
            }
        }
    }
}

/// An organisation with one of every private thing: a member, a list with an influencer, a
/// campaign, a pending invitation, an API key and a dispute.
pub struct OrgFixture {
    pub owner: Account,
    pub viewer: Account,
    pub connection_id: String,
    pub list_id: String,
    pub campaign_id: String,
    pub invitation_id: String,
    pub key_id: String,
    pub write_key: String,
    pub report_id: String,
    /// A succeeded run of the report whose `summary.csv` is on the lake's store.
    pub run_id: String,
}

impl TestApi {
    pub async fn org_fixture(&self, name: &str) -> OrgFixture {
        let owner = self.account(&format!("owner@{name}.example.com"), name).await;
        let viewer = self.member(&owner, &format!("viewer@{name}.example.com"), "viewer").await;
        let org = owner.org_id.clone();
        let (_, list) = self.post(&format!("/v1/orgs/{org}/lists"), Some(&owner.access), json!({"name": format!("{name} list")})).await;
        let list_id = list["list_id"].as_str().unwrap().to_owned();
        let (status, _, _) = self.call(Method::PUT, &format!("/v1/orgs/{org}/lists/{list_id}/influencers/instagram:1003"), Some(&owner.access), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, campaign) = self.post(&format!("/v1/orgs/{org}/campaigns"), Some(&owner.access), json!({"name": format!("{name} campaign"), "starts_on": "2026-12-01", "ends_on": "2026-12-31", "hashtags": ["#Verao"]})).await;
        let campaign_id = campaign["campaign_id"].as_str().unwrap().to_owned();
        let (_, invitation) = self.post(&format!("/v1/orgs/{org}/invitations"), Some(&owner.access), json!({"email": format!("later@{name}.example.com"), "role": "analyst"})).await;
        let (_, key) = self.post(&format!("/v1/orgs/{org}/api-keys"), Some(&owner.access), json!({"name": "etl", "scope": "write"})).await;
        let (status, _) = self.post(&format!("/v1/orgs/{org}/flags/flag-13/dispute"), Some(&owner.access), json!({"reason": "a giveaway"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, report) = self.post(&format!("/v1/orgs/{org}/reports"), Some(&owner.access), body_for("post", "/v1/orgs/{org_id}/reports").unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{report}");
        let report_id = report["report_id"].as_str().unwrap().to_owned();
        let run_id = uuid::Uuid::now_v7().to_string();
        let file = format!("exports/{org}/{report_id}/{run_id}/summary.csv");
        use object_store::ObjectStoreExt;
        self.lake.object_store().put(&self.lake.object_path(&file), "platform,account_id\r\n".into()).await.unwrap();
        sqlx::query(
            "INSERT INTO report_runs (run_id, report_id, org_id, definition_version, trigger, status, manifest, finished_at)
             VALUES ($1::uuid, $2::uuid, $3::uuid, 1, 'manual', 'succeeded', $4, now())",
        )
        .bind(&run_id)
        .bind(&report_id)
        .bind(&org)
        .bind(json!({"files": [{"path": file, "sections": {"summary": 0}, "bytes": 21, "sha256": ""}]}))
        .execute(&self.db)
        .await
        .unwrap();
        // A connected account (its token unreadable: only routes that refuse before using it
        // reach it; the walk connects a real one).
        let connection_id = uuid::Uuid::new_v4();
        sqlx::query("INSERT INTO platform_connections (id, org_id, platform, account_id, status, access_token) VALUES ($1, $2, 'tiktok', $3, 'active', '\\x00')")
            .bind(connection_id)
            .bind(&org)
            .bind(format!("open-{name}"))
            .execute(&self.db)
            .await
            .unwrap();
        OrgFixture {
            owner,
            viewer,
            connection_id: connection_id.to_string(),
            list_id,
            campaign_id,
            invitation_id: invitation["invitation_id"].as_str().unwrap().to_owned(),
            key_id: key["key_id"].as_str().unwrap().to_owned(),
            write_key: key["key"].as_str().unwrap().to_owned(),
            report_id,
            run_id,
        }
    }

    /// Everything private of the organisation, as one value (to prove nothing changed).
    pub async fn private_state(&self, org_id: &str) -> String {
        let org: uuid::Uuid = org_id.parse().unwrap();
        let mut state = Vec::new();
        for sql in [
            "SELECT name || plan FROM organisations WHERE org_id = $1",
            "SELECT user_id::text || role FROM memberships WHERE org_id = $1 ORDER BY 1",
            "SELECT l.name || coalesce(string_agg(m.platform || m.account_id, ',' ORDER BY m.platform, m.account_id), '') FROM tracked_lists l LEFT JOIN tracked_list_members m USING (list_id) WHERE org_id = $1 GROUP BY l.list_id, l.name ORDER BY 1",
            "SELECT c.name || c.starts_on || c.ends_on || coalesce(string_agg(m.platform || m.account_id, ','), '') FROM campaigns c LEFT JOIN campaign_members m USING (campaign_id) WHERE org_id = $1 GROUP BY c.campaign_id ORDER BY 1",
            "SELECT email || role || coalesce(revoked_at::text, '') || coalesce(accepted_at::text, '') FROM invitations WHERE org_id = $1 ORDER BY 1",
            "SELECT name || scope || coalesce(revoked_at::text, '') FROM api_keys WHERE org_id = $1 ORDER BY 1",
            "SELECT flag_id || reason || status FROM flag_disputes WHERE org_id = $1 ORDER BY 1",
            "SELECT platform || account_id || status FROM platform_connections WHERE org_id = $1::text ORDER BY 1",
            "SELECT platform || redirect_uri FROM oauth_states WHERE org_id = $1::text ORDER BY 1",
        ] {
            let rows: Vec<String> = sqlx::query_scalar(sql).bind(org).fetch_all(&self.db).await.unwrap();
            state.push(rows.join("|"));
        }
        state.join("\n")
    }
}

/// A valid body for each operation that takes one.
pub fn body_for(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("post", "/v1/orgs") => json!({"name": "Nova"}),
        ("patch", "/v1/orgs/{org_id}") => json!({"name": "Renomeada"}),
        ("patch", "/v1/orgs/{org_id}/members/{user_id}") => json!({"role": "analyst"}),
        ("post", "/v1/orgs/{org_id}/invitations") => json!({"email": "someone@example.com", "role": "viewer"}),
        ("post", "/v1/orgs/{org_id}/api-keys") => json!({"name": "k", "scope": "read"}),
        ("post", "/v1/orgs/{org_id}/lists") | ("patch", "/v1/orgs/{org_id}/lists/{list_id}") => json!({"name": "L"}),
        ("post", "/v1/orgs/{org_id}/campaigns") | ("put", "/v1/orgs/{org_id}/campaigns/{campaign_id}") => json!({"name": "C", "starts_on": "2027-01-01", "ends_on": "2027-01-31"}),
        ("post", "/v1/orgs/{org_id}/flags/{flag_id}/dispute") => json!({"reason": "wrong"}),
        ("post", "/v1/orgs/{org_id}/connections") => json!({"platform": "tiktok", "redirect_uri": CALLBACK}),
        // A state of nobody's: refused (400) where it is not refused earlier as not yours.
        ("post", "/v1/orgs/{org_id}/connections/complete") => json!({"platform": "tiktok", "state": "not-issued", "code": "c"}),
        ("post", "/v1/auth/social/{platform}") | ("post", "/v1/me/identities/{platform}") => json!({"redirect_uri": CALLBACK}),
        ("post", "/v1/auth/social/{platform}/complete") | ("post", "/v1/me/identities/{platform}/complete") => json!({"state": "not-issued", "code": "c"}),
        ("post", "/v1/orgs/{org_id}/reports") | ("put", "/v1/orgs/{org_id}/reports/{report_id}") => json!({
            "name": "Semanal",
            "spec": {"scope": {"influencers": ["instagram:1003"]}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"},
        }),
        _ => return None,
    })
}

pub fn fill(path: &str, org_id: &str, fixture: &OrgFixture, member_id: &str) -> String {
    path.replace("{org_id}", org_id)
        .replace("{list_id}", &fixture.list_id)
        .replace("{campaign_id}", &fixture.campaign_id)
        .replace("{invitation_id}", &fixture.invitation_id)
        .replace("{key_id}", &fixture.key_id)
        .replace("{connection_id}", &fixture.connection_id)
        .replace("{user_id}", member_id)
        .replace("{flag_id}", "flag-23")
        .replace("{id}", "tiktok:1004")
        .replace("{report_id}", &fixture.report_id)
        .replace("{run_id}", &fixture.run_id)
        .replace("{platform}", "facebook")
        .replace("{name}", "summary.csv")
        + &if path.ends_with("/files/{name}") { signature(&path.replace("{org_id}", org_id).replace("{report_id}", &fixture.report_id).replace("{run_id}", &fixture.run_id).replace("{name}", "summary.csv"), chrono::Utc::now().timestamp() + 3600) } else { String::new() }
}

/// The query of a download link for `path` as the server signs them (key derived from the
/// token secret), for any expiry.
pub fn signature(path: &str, expires: i64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut key = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    key.update(b"analisa report download links");
    let key = key.finalize().into_bytes();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{path}\n{expires}").as_bytes());
    format!("?expires={expires}&signature={}", hex::encode(mac.finalize().into_bytes()))
}

/// Every operation of the OpenAPI document: (method, path template).
pub async fn operations(api: &TestApi) -> (Value, Vec<(String, String)>) {
    let doc: Value = api.client.get(format!("{}/openapi.json", api.base)).send().await.unwrap().json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.clone(), path.clone()));
        }
    }
    (doc, ops)
}

pub fn method(name: &str) -> Method {
    name.to_uppercase().parse().unwrap()
}

/// Begins connecting `platform` for `account`'s organisation through the API and follows the
/// consent page as a browser would (the simulator approves at once): the (code, state) the
/// platform sends back.
pub async fn consent(api: &TestApi, account: &Account, platform: &str) -> (String, String) {
    let (status, started) = api.post(&format!("/v1/orgs/{}/connections", account.org_id), Some(&account.access), json!({"platform": platform, "redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    follow_consent(&started).await
}

/// Begins a sign-in with `platform` (no credential) or linking it to the signed-in user, and
/// follows the consent page: the (code, state) the platform sends back.
pub async fn identity_consent(api: &TestApi, access: Option<&str>, platform: &str) -> (String, String) {
    let path = if access.is_some() { format!("/v1/me/identities/{platform}") } else { format!("/v1/auth/social/{platform}") };
    let (status, started) = api.post(&path, access, json!({"redirect_uri": CALLBACK})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    follow_consent(&started).await
}

/// Follows a consent page as a browser would (the simulator approves at once).
async fn follow_consent(started: &Value) -> (String, String) {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = browser.get(started["authorize_url"].as_str().unwrap()).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.text().await.unwrap());
    let back = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(CALLBACK), "{back}");
    let get = |k: &str| back.query_pairs().find(|(key, _)| key == k).map(|(_, v)| v.into_owned()).unwrap();
    (get("code"), get("state"))
}
