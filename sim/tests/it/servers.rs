//! The fake servers against the protocol reference (`shared/spec/platform-apis.md`).

use std::collections::{HashMap, HashSet};

use analisa_sim::WorldSpec;
use analisa_sim::server::{Budgets, RunningSim, SimOptions, hmac_hex, parse_faults};
use serde_json::{Value, json};

/// The simulator's cursor for a list position (opaque to clients; base64 of `pos:N`).
fn analisa_sim_cursor(position: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("pos:{position}"))
}

struct Sim {
    sim: RunningSim,
    accounts: Vec<Value>,
    http: reqwest::Client,
}

impl Sim {
    async fn start(budgets: Budgets, faults: &str) -> Self {
        let options = SimOptions {
            world: WorldSpec::new(99, 60, 60),
            listen: "127.0.0.1:0".parse().unwrap(),
            faults: parse_faults(faults).unwrap(),
            budgets,
        };
        let sim = RunningSim::start(options).await.unwrap();
        let accounts = sim.accounts_json()["accounts"].as_array().unwrap().clone();
        Self { sim, accounts, http: reqwest::Client::new() }
    }

    fn url(&self, server: &str, path: &str) -> String {
        format!("{}{path}", self.sim.urls[server])
    }

    fn account(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        self.accounts.iter().find(|a| wanted(a)).expect("the world has such an account").clone()
    }

    async fn get(&self, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self.http.get(url).send().await.unwrap();
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        (status, headers, response.json().await.unwrap_or(Value::Null))
    }
}

fn token(account: &Value, flavour: &str) -> String {
    account["tokens"][flavour]["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn instagram_nodes_errors_and_headers_match_the_graph_api() {
    let sim = Sim::start(Budgets::default(), "").await;
    let me = sim.account(|a| a["platform"] == "instagram" && a["connected"] == true);
    let (id, fb) = (me["id"].as_str().unwrap(), token(&me, "facebook"));

    let (status, headers, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}?fields=id,username,followers_count,follows_count,media_count,biography&access_token={fb}"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], json!(id));
    assert!(body["followers_count"].is_i64() && body["username"].is_string(), "{body}");
    let usage: Value = serde_json::from_str(headers["x-app-usage"].to_str().unwrap()).unwrap();
    assert!(usage["call_count"].is_u64() && usage["total_time"].is_u64() && usage["total_cputime"].is_u64());
    let buc: Value = serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc[id][0]["type"], "instagram");
    assert!(buc[id][0]["estimated_time_to_regain_access"].is_u64());

    // Unversioned paths work too; IG Login host answers /me with user_id and account_type.
    let ig = token(&me, "instagram");
    let (status, _, body) = sim.get(&sim.url("instagram", &format!("me?fields=user_id,username,account_type&access_token={ig}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], json!(id));

    // Error envelope: message, type, code, subcode, fbtrace_id, with HTTP 400.
    let (status, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}?fields=id&access_token=EAAnot-a-token"))).await;
    assert_eq!(status, 400);
    assert_eq!((body["error"]["code"].clone(), body["error"]["error_subcode"].clone(), body["error"]["type"].clone()), (json!(190), json!(467), json!("OAuthException")));
    assert!(body["error"]["fbtrace_id"].is_string());
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}?fields=nonsense&access_token={fb}"))).await;
    assert_eq!(body["error"]["code"], 100);
    assert!(body["error"]["message"].as_str().unwrap().starts_with("(#100)"));
    // An IG Login token is no good on graph.facebook.com and vice versa.
    let (status, _, _) = sim.get(&sim.url("facebook", &format!("v24.0/{id}?access_token={ig}"))).await;
    assert_eq!(status, 400);

    // business_discovery: public accounts found by handle; personal ones are "Invalid user id".
    let public = sim.account(|a| a["platform"] == "instagram" && a["account_type"] != "personal" && a["id"] != json!(id));
    let url = format!("v24.0/{id}?fields=business_discovery.username({}){{followers_count,media_count,media.limit(3){{id,like_count,comments_count,timestamp}}}}&access_token={fb}", public["handle"].as_str().unwrap());
    let (status, _, body) = sim.get(&sim.url("facebook", &url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["business_discovery"]["id"], public["id"]);
    assert!(body["business_discovery"]["media"]["data"].as_array().unwrap().len() <= 3);
    assert!(body["business_discovery"]["media"]["data"][0]["timestamp"].as_str().unwrap().ends_with("+0000"));
    if let Some(personal) = sim.accounts.iter().find(|a| a["platform"] == "instagram" && a["account_type"] == "personal") {
        let url = format!("v24.0/{id}?fields=business_discovery.username({}){{followers_count}}&access_token={fb}", personal["handle"].as_str().unwrap());
        let (_, _, body) = sim.get(&sim.url("facebook", &url)).await;
        assert_eq!((body["error"]["code"].clone(), body["error"]["error_subcode"].clone()), (json!(110), json!(2207013)));
    }
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}?fields=business_discovery.username(nobody_here_123){{id}}&access_token={fb}"))).await;
    assert_eq!(body["error"]["code"], 110);
    sim.sim.stop().await;
}

/// Follows `paging.next` to the end and returns every id served.
async fn traverse_meta(sim: &Sim, first: String) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first);
    while let Some(url) = next {
        let (status, _, body) = sim.get(&url).await;
        assert_eq!(status, 200, "{body}");
        ids.extend(body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        next = body["paging"]["next"].as_str().map(str::to_owned);
    }
    ids
}

#[tokio::test]
async fn paging_serves_every_item_exactly_once() {
    let sim = Sim::start(Budgets::default(), "").await;
    let world = WorldSpec::new(99, 60, 60);

    // Instagram media, cursor paging.
    let me = sim.account(|a| a["platform"] == "instagram");
    let (id, fb) = (me["id"].as_str().unwrap(), token(&me, "facebook"));
    let ids = traverse_meta(&sim, sim.url("facebook", &format!("v24.0/{id}/media?fields=id,timestamp&limit=7&access_token={fb}"))).await;
    let expected: Vec<String> = {
        let account = world.find_account(analisa_sim::world::Platform::Instagram, id).unwrap();
        let mut posts: Vec<_> = world.timeline(account).posts.into_iter().filter(|p| p.media_type != analisa_sim::world::MediaType::Story).collect();
        posts.sort_by(|a, b| b.published_at.cmp(&a.published_at).then_with(|| b.id.cmp(&a.id)));
        posts.into_iter().map(|p| p.id).collect()
    };
    assert_eq!(ids, expected, "every media once, newest first");

    // Facebook Page posts, time-based paging with __paging_token.
    let page = sim.account(|a| a["platform"] == "facebook");
    let (pid, pt) = (page["id"].as_str().unwrap(), token(&page, "facebook"));
    let ids = traverse_meta(&sim, sim.url("facebook", &format!("v24.0/{pid}/posts?fields=id,created_time,message,shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)&limit=5&access_token={pt}"))).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no post twice");
    let account = world.find_account(analisa_sim::world::Platform::Facebook, pid).unwrap();
    assert_eq!(ids.len(), world.timeline(account).posts.len(), "every post");
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{pid}/posts?fields=id,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)&limit=1&access_token={pt}"))).await;
    assert!(body["data"][0]["reactions"]["summary"]["total_count"].is_i64(), "{body}");
    assert_eq!(body["data"][0]["comments"]["summary"]["order"], "ranked");
    assert!(body["paging"]["next"].as_str().unwrap().contains("__paging_token="));
    assert!(body["paging"]["previous"].as_str().unwrap().contains("__previous=1"));
    // `previous` of the second page gives back the first page.
    let (_, _, first) = sim.get(&sim.url("facebook", &format!("v24.0/{pid}/posts?fields=id&limit=3&access_token={pt}"))).await;
    let (_, _, second) = sim.get(first["paging"]["next"].as_str().unwrap()).await;
    let (_, _, back) = sim.get(second["paging"]["previous"].as_str().unwrap()).await;
    assert_eq!(back["data"], first["data"], "previous returns the newer page");
    // Instagram `before` cursors never run past the cursor.
    let (_, _, page2) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/media?fields=id&limit=2&access_token={fb}&after={}", analisa_sim_cursor(2)))).await;
    let before = page2["paging"]["cursors"]["before"].as_str().unwrap();
    let (_, _, page1) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/media?fields=id&limit=5&access_token={fb}&before={before}"))).await;
    assert_eq!(page1["data"].as_array().unwrap().len(), 2, "{page1}");

    // Comments expanded inside media and Page posts: the first `limit`, then the edge's pages
    // from the `next` link, every comment once.
    for (account, url) in [
        (me.clone(), format!("v24.0/{id}/media?fields=id,comments_count,comments.limit(2){{id,text,replies{{id}}}}&limit=100&access_token={fb}")),
        (page.clone(), format!("v24.0/{pid}/posts?fields=id,comments.summary(true).limit(2){{id,message}}&limit=100&access_token={pt}")),
    ] {
        let (_, _, body) = sim.get(&sim.url("facebook", &url)).await;
        let platform = if account["platform"] == "instagram" { analisa_sim::world::Platform::Instagram } else { analisa_sim::world::Platform::Facebook };
        let owner = world.find_account(platform, account["id"].as_str().unwrap()).unwrap();
        let mut linked = 0;
        for post in body["data"].as_array().unwrap() {
            let expanded = &post["comments"];
            let mut ids: Vec<String> = expanded["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
            assert!(ids.len() <= 2, "{expanded}");
            if let Some(next) = expanded["paging"]["next"].as_str() {
                linked += 1;
                assert!(next.contains("limit=2") && next.contains("after="), "{next}");
                ids.extend(traverse_meta(&sim, next.to_owned()).await);
            }
            let served = world.timeline(owner.clone()).posts.into_iter().find(|p| p.id == post["id"].as_str().unwrap()).unwrap();
            let end = chrono::NaiveDate::from(world.end_date).succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
            let want: HashSet<String> = world.comments(&owner, &served).into_iter().filter(|c| c.published_at < end && (platform == analisa_sim::world::Platform::Facebook || c.parent_id.is_none())).map(|c| c.id).collect();
            assert_eq!(ids.len(), want.len(), "no comment twice on {}", post["id"]);
            assert_eq!(ids.into_iter().collect::<HashSet<_>>(), want, "every top-level comment of {}", post["id"]);
        }
        assert!(linked > 0, "some posts have more than two comments");
    }

    // TikTok Display: cursor in ms, has_more, max_count ≤ 20.
    let tt = sim.account(|a| a["platform"] == "tiktok");
    let bearer = format!("Bearer {}", token(&tt, "tiktok"));
    let (mut cursor, mut ids) = (None::<i64>, Vec::new());
    loop {
        let mut body = json!({ "max_count": 4 });
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        let response: Value = sim.http.post(sim.url("tiktok", "v2/video/list/?fields=id,create_time,view_count")).header("authorization", &bearer).json(&body).send().await.unwrap().json().await.unwrap();
        assert_eq!(response["error"]["code"], "ok", "{response}");
        ids.extend(response["data"]["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()));
        if response["data"]["has_more"] != json!(true) {
            break;
        }
        cursor = response["data"]["cursor"].as_i64();
    }
    let account = world.find_account(analisa_sim::world::Platform::Tiktok, tt["id"].as_str().unwrap()).unwrap();
    let all: HashSet<String> = world.timeline(account).posts.into_iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), all.len());
    assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), all);
    let response = sim.http.post(sim.url("tiktok", "v2/video/list/?fields=id")).header("authorization", &bearer).json(&json!({ "max_count": 21 })).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_params");

    // TikTok Business: same videos through the envelope; fields as a JSON array.
    let access = token(&tt, "tiktok_business");
    let (mut cursor, mut business_ids) = (None::<i64>, Vec::new());
    loop {
        let mut query = vec![("business_id", tt["id"].as_str().unwrap().to_owned()), ("fields", r#"["item_id","create_time","likes","video_views"]"#.to_owned()), ("max_count", "5".to_owned())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        let response = sim.http.get(sim.url("tiktok_business", "open_api/v1.3/business/video/list/")).query(&query).header("access-token", &access).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["code"].clone(), body["message"].clone()), (json!(0), json!("OK")), "{body}");
        assert!(body["request_id"].is_string());
        business_ids.extend(body["data"]["videos"].as_array().unwrap().iter().map(|v| v["item_id"].as_str().unwrap().to_owned()));
        if body["data"]["has_more"] != json!(true) {
            break;
        }
        cursor = body["data"]["cursor"].as_i64();
    }
    assert_eq!(business_ids, ids, "both TikTok APIs serve the same videos in the same order");
    sim.sim.stop().await;
}

#[tokio::test]
async fn tiktok_and_ga4_envelopes_and_errors() {
    let sim = Sim::start(Budgets::default(), "").await;
    let tt = sim.account(|a| a["platform"] == "tiktok");
    // Business API: errors inside HTTP 200; "Bearer " in Access-Token is refused with 40105.
    let response = sim.http.get(sim.url("tiktok_business", "open_api/v1.3/business/get/")).query(&[("business_id", tt["id"].as_str().unwrap())]).header("access-token", format!("Bearer {}", token(&tt, "tiktok_business"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 40105);
    let response = sim.http.get(sim.url("tiktok_business", "open_api/v1.3/business/get/")).query(&[("business_id", tt["id"].as_str().unwrap()), ("start_date", "2026-09-01"), ("end_date", "2026-11-20")]).header("access-token", token(&tt, "tiktok_business")).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 40002, "more than 30 days: {body}");
    let response = sim.http.get(sim.url("tiktok_business", "open_api/v1.3/business/get/")).query(&[("business_id", tt["id"].as_str().unwrap()), ("fields", r#"["display_name","followers_count","metrics"]"#), ("start_date", "2026-11-20"), ("end_date", "2026-11-26")]).header("access-token", token(&tt, "tiktok_business")).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(body["data"]["metrics"].as_array().unwrap().len(), 7);
    assert!(body["data"]["metrics"][0]["followers_count"].is_i64());

    // Display API: bad token → 401 access_token_invalid in the data+error wrapper.
    let response = sim.http.get(sim.url("tiktok", "v2/user/info/?fields=open_id")).header("authorization", "Bearer act.nope").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "access_token_invalid");
    assert!(body["error"]["log_id"].is_string() && body["data"].is_object());

    // GA4: strings everywhere, rowCount independent of limit.
    let connected = sim.account(|a| a["ga4"].is_object());
    let url = sim.url("ga4", &format!("v1beta/properties/{}:runReport", connected["ga4"]["property_id"].as_str().unwrap()));
    let request = json!({ "dateRanges": [{ "startDate": "14daysAgo", "endDate": "yesterday" }], "dimensions": [{ "name": "date" }, { "name": "sessionSource" }], "metrics": [{ "name": "sessions" }, { "name": "activeUsers" }], "limit": "5", "returnPropertyQuota": true });
    let body: Value = sim.http.post(&url).bearer_auth(connected["ga4"]["access_token"].as_str().unwrap()).json(&request).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["kind"], "analyticsData#runReport");
    assert_eq!(body["rows"].as_array().unwrap().len(), 5);
    assert!(body["rowCount"].as_u64().unwrap() > 5);
    assert!(body["rows"][0]["metricValues"][0]["value"].is_string());
    assert_eq!(body["rows"][0]["dimensionValues"][0]["value"].as_str().unwrap().len(), 8, "YYYYMMDD");
    assert!(body["propertyQuota"]["tokensPerHour"]["remaining"].is_u64());
    let response = sim.http.post(&url).bearer_auth("ya29.nope").json(&request).send().await.unwrap();
    assert_eq!(response.status(), 401);
    sim.sim.stop().await;
}

#[tokio::test]
async fn insights_use_current_names_and_refuse_retired_ones() {
    let sim = Sim::start(Budgets::default(), "").await;
    let me = sim.account(|a| a["platform"] == "instagram" && a["connected"] == true);
    let (id, fb) = (me["id"].as_str().unwrap(), token(&me, "facebook"));
    let (status, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/insights?metric=reach,follower_count&period=day&access_token={fb}"))).await;
    assert_eq!(status, 200, "{body}");
    let reach = &body["data"][0];
    assert_eq!(reach["name"], "reach");
    assert_eq!(reach["id"], json!(format!("{id}/insights/reach/day")));
    assert!(reach["values"][0]["end_time"].as_str().unwrap().ends_with("+0000"));
    assert!(body["paging"]["next"].as_str().unwrap().contains("since="));
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/insights?metric=views&metric_type=total_value&period=day&access_token={fb}"))).await;
    assert!(body["data"][0]["total_value"]["value"].is_i64(), "{body}");
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/insights?metric=follower_demographics&metric_type=total_value&period=lifetime&timeframe=this_month&breakdown=country&access_token={fb}"))).await;
    let results = body["data"][0]["total_value"]["breakdowns"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["value"].as_i64().unwrap() >= 100), "buckets under 100 are suppressed");
    // Retired names are refused with code 100 naming the valid ones.
    let (status, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/insights?metric=impressions&period=day&access_token={fb}"))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 100);
    assert!(body["error"]["message"].as_str().unwrap().contains("metric[0] must be one of the following values"), "{body}");
    // Media insights; retired `plays`; `replies` only on stories.
    let (_, _, media) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/media?fields=id,media_product_type&limit=50&access_token={fb}"))).await;
    let post = media["data"].as_array().unwrap().iter().find(|m| m["media_product_type"] == "FEED").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{post}/insights?metric=reach,saved,shares,views,total_interactions&access_token={fb}"))).await;
    if status == 200 {
        assert_eq!(body["data"].as_array().unwrap().len(), 5);
        assert_eq!(body["data"][0]["period"], "lifetime");
        assert!(body["data"][0]["values"][0].get("end_time").is_none());
    } else {
        assert_eq!(body["error"]["code"], 10, "small media: not enough viewers");
    }
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{post}/insights?metric=plays&access_token={fb}"))).await;
    assert_eq!(body["error"]["code"], 100);
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{post}/insights?metric=replies&access_token={fb}"))).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("does not support the replies metric"), "{body}");
    // A token without the insights permission is refused with (#10).
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let apps = sim.sim.apps();
    let (app_id, app_secret) = (apps["facebook"]["client_id"].as_str().unwrap(), apps["facebook"]["client_secret"].as_str().unwrap());
    let response = no_redirects.get(sim.url("facebook", "v24.0/dialog/oauth")).query(&[("client_id", app_id), ("redirect_uri", "http://127.0.0.1:9/cb"), ("scope", "instagram_basic"), ("sim_account", id)]).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let basic: Value = sim.http.get(sim.url("facebook", "v24.0/oauth/access_token")).query(&[("client_id", app_id), ("client_secret", app_secret), ("redirect_uri", "http://127.0.0.1:9/cb"), ("code", code.as_str())]).send().await.unwrap().json().await.unwrap();
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/insights?metric=reach&period=day&access_token={}", basic["access_token"].as_str().unwrap()))).await;
    assert_eq!(body["error"]["code"], 10, "{body}");

    // Insights of an account that never connected are not Analisa's to read.
    let stranger = sim.account(|a| a["platform"] == "instagram" && a["connected"] == false);
    let (_, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{}/insights?metric=reach&period=day&access_token={}", stranger["id"].as_str().unwrap(), token(&stranger, "facebook")))).await;
    assert_eq!(body["error"]["code"], 10);
    sim.sim.stop().await;
}

#[tokio::test]
async fn rate_limits_are_enforced_with_the_real_signals() {
    let budgets = Budgets { meta_object_per_hour: 3, tiktok_display_per_minute: 2, tiktok_business_per_second: 2, ..Budgets::default() };
    let sim = Sim::start(budgets, "").await;
    let me = sim.account(|a| a["platform"] == "instagram");
    let url = sim.url("facebook", &format!("v24.0/{}?fields=id&access_token={}", me["id"].as_str().unwrap(), token(&me, "facebook")));
    for _ in 0..3 {
        assert_eq!(sim.get(&url).await.0, 200);
    }
    let (status, headers, body) = sim.get(&url).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 80002);
    assert_eq!(body["error"]["is_transient"], true);
    let buc: Value = serde_json::from_str(headers["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    let entry = &buc[me["id"].as_str().unwrap()][0];
    assert_eq!(entry["call_count"], 100);
    assert!(entry["estimated_time_to_regain_access"].as_u64().unwrap() >= 1);

    let tt = sim.account(|a| a["platform"] == "tiktok");
    let bearer = format!("Bearer {}", token(&tt, "tiktok"));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = sim.http.get(sim.url("tiktok", "v2/user/info/?fields=open_id")).header("authorization", &bearer).send().await.unwrap();
        statuses.push((response.status().as_u16(), response.headers().get("retry-after").is_some()));
    }
    assert_eq!(statuses, [(200, false), (200, false), (429, true)]);

    let mut codes = Vec::new();
    for _ in 0..3 {
        let body: Value = sim.http.get(sim.url("tiktok_business", "open_api/v1.3/business/get/")).query(&[("business_id", tt["id"].as_str().unwrap())]).header("access-token", token(&tt, "tiktok_business")).send().await.unwrap().json().await.unwrap();
        codes.push(body["code"].as_u64().unwrap());
    }
    assert_eq!(codes, [0, 0, 40100]);

    let stats: Value = sim.http.get(sim.url("ga4", "_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["servers"]["facebook"]["throttled"], 1);
    assert_eq!(stats["servers"]["tiktok"]["throttled"], 1);
    assert_eq!(stats["servers"]["tiktok_business"]["throttled"], 1);
    sim.sim.stop().await;
}

#[tokio::test]
async fn oauth_code_flow_with_state_pkce_refresh_and_rotation() {
    let sim = Sim::start(Budgets::default(), "").await;
    let apps = sim.sim.apps();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let tt = sim.account(|a| a["platform"] == "tiktok");
    let (key, secret) = (apps["tiktok"]["client_id"].as_str().unwrap(), apps["tiktok"]["client_secret"].as_str().unwrap());
    let verifier = "a-long-random-verifier-string-of-at-least-43-characters-0123456789";
    let challenge = analisa_sim::server::pkce_challenge(verifier);
    let response = no_redirects
        .get(sim.url("tiktok", "v2/auth/authorize/"))
        .query(&[("client_key", key), ("scope", "user.info.basic,video.list"), ("response_type", "code"), ("redirect_uri", "http://127.0.0.1:9/callback"), ("state", "xyz"), ("code_challenge", &challenge), ("code_challenge_method", "S256"), ("sim_account", tt["id"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "xyz");
    let exchange = |code: String, verifier: &'static str| {
        let http = sim.http.clone();
        let url = sim.url("tiktok", "v2/oauth/token/");
        let (key, secret) = (key.to_owned(), secret.to_owned());
        async move {
            http.post(url).form(&[("client_key", key.as_str()), ("client_secret", secret.as_str()), ("code", code.as_str()), ("grant_type", "authorization_code"), ("redirect_uri", "http://127.0.0.1:9/callback"), ("code_verifier", verifier)]).send().await.unwrap()
        }
    };
    let wrong = exchange(query["code"].clone(), "not-the-verifier").await;
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "flat OAuth error shape");
    // A code that failed once is spent: ask again.
    let response = no_redirects.get(sim.url("tiktok", "v2/auth/authorize/")).query(&[("client_key", key), ("scope", "user.info.basic,video.list"), ("response_type", "code"), ("redirect_uri", "http://127.0.0.1:9/callback"), ("code_challenge", &challenge), ("sim_account", tt["id"].as_str().unwrap())]).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let tokens: Value = exchange(code, verifier).await.json().await.unwrap();
    assert_eq!(tokens["open_id"], tt["id"]);
    assert_eq!(tokens["token_type"], "Bearer");
    let info: Value = sim.http.get(sim.url("tiktok", "v2/user/info/?fields=open_id")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["data"]["user"]["open_id"], tt["id"]);
    // Scopes matter: the grant had no user.info.stats.
    let response = sim.http.get(sim.url("tiktok", "v2/user/info/?fields=follower_count")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    // Refresh rotates: the old refresh token stops working.
    let refresh = |token: String| {
        let http = sim.http.clone();
        let url = sim.url("tiktok", "v2/oauth/token/");
        let (key, secret) = (key.to_owned(), secret.to_owned());
        async move { http.post(url).form(&[("client_key", key.as_str()), ("client_secret", secret.as_str()), ("grant_type", "refresh_token"), ("refresh_token", token.as_str())]).send().await.unwrap() }
    };
    let first = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(first.status(), 200);
    let again = refresh(tokens["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(again.status(), 400);

    // Meta: code exchange, then the long-lived exchange; debug_token describes the result.
    let fb_app = (apps["facebook"]["client_id"].as_str().unwrap(), apps["facebook"]["client_secret"].as_str().unwrap());
    let me = sim.account(|a| a["platform"] == "instagram" && a["connected"] == true);
    let response = no_redirects.get(sim.url("facebook", "v24.0/dialog/oauth")).query(&[("client_id", fb_app.0), ("redirect_uri", "http://127.0.0.1:9/cb"), ("state", "s1"), ("response_type", "code"), ("sim_account", me["id"].as_str().unwrap())]).send().await.unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let short: Value = sim.http.get(sim.url("facebook", "v24.0/oauth/access_token")).query(&[("client_id", fb_app.0), ("client_secret", fb_app.1), ("redirect_uri", "http://127.0.0.1:9/cb"), ("code", code.as_str())]).send().await.unwrap().json().await.unwrap();
    assert_eq!(short["token_type"], "bearer");
    let long: Value = sim.http.get(sim.url("facebook", "v24.0/oauth/access_token")).query(&[("grant_type", "fb_exchange_token"), ("client_id", fb_app.0), ("client_secret", fb_app.1), ("fb_exchange_token", short["access_token"].as_str().unwrap())]).send().await.unwrap().json().await.unwrap();
    assert_eq!(long["expires_in"], 5_183_944);
    let app_token = format!("{}|{}", fb_app.0, fb_app.1);
    let debug: Value = sim.http.get(sim.url("facebook", "v24.0/debug_token")).query(&[("input_token", long["access_token"].as_str().unwrap()), ("access_token", app_token.as_str())]).send().await.unwrap().json().await.unwrap();
    assert_eq!(debug["data"]["is_valid"], true);
    assert_eq!(debug["data"]["user_id"], me["id"]);
    // The code is single-use.
    let reused: Value = sim.http.get(sim.url("facebook", "v24.0/oauth/access_token")).query(&[("client_id", fb_app.0), ("client_secret", fb_app.1), ("redirect_uri", "http://127.0.0.1:9/cb"), ("code", code.as_str())]).send().await.unwrap().json().await.unwrap();
    assert_eq!(reused["error"]["code"], 100);
    sim.sim.stop().await;
}

#[tokio::test]
async fn publishing_adds_the_post_to_the_account() {
    let sim = Sim::start(Budgets::default(), "").await;
    let me = sim.account(|a| a["platform"] == "instagram");
    let (id, fb) = (me["id"].as_str().unwrap(), token(&me, "facebook"));
    let container: Value = sim.http.post(sim.url("facebook", &format!("v24.0/{id}/media"))).form(&[("image_url", "https://example.org/a.jpg"), ("caption", "Agendado pelo Analisa #publi"), ("access_token", fb.as_str())]).send().await.unwrap().json().await.unwrap();
    let creation = container["id"].as_str().unwrap();
    let (_, _, status) = sim.get(&sim.url("facebook", &format!("v24.0/{creation}?fields=status_code&access_token={fb}"))).await;
    assert_eq!(status["status_code"], "FINISHED");
    let published: Value = sim.http.post(sim.url("facebook", &format!("v24.0/{id}/media_publish"))).form(&[("creation_id", creation), ("access_token", fb.as_str())]).send().await.unwrap().json().await.unwrap();
    let media_id = published["id"].as_str().unwrap();
    let (_, _, media) = sim.get(&sim.url("facebook", &format!("v24.0/{id}/media?fields=id,caption&limit=1&access_token={fb}"))).await;
    assert_eq!(media["data"][0]["id"], json!(media_id));
    assert_eq!(media["data"][0]["caption"], "Agendado pelo Analisa #publi");
    let again: Value = sim.http.post(sim.url("facebook", &format!("v24.0/{id}/media_publish"))).form(&[("creation_id", creation), ("access_token", fb.as_str())]).send().await.unwrap().json().await.unwrap();
    assert!(again["error"].is_object(), "a container publishes once");
    sim.sim.stop().await;
}

#[tokio::test]
async fn faults_are_injected_when_asked() {
    let sim = Sim::start(Budgets::default(), "facebook:error_rate=1").await;
    let me = sim.account(|a| a["platform"] == "instagram");
    let (status, _, body) = sim.get(&sim.url("facebook", &format!("v24.0/{}?access_token={}", me["id"].as_str().unwrap(), token(&me, "facebook")))).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["is_transient"], true);
    sim.sim.stop().await;

    let sim = Sim::start(Budgets::default(), "tiktok:truncated=1").await;
    let tt = sim.account(|a| a["platform"] == "tiktok");
    let text = sim.http.get(sim.url("tiktok", "v2/user/info/?fields=open_id,display_name")).bearer_auth(token(&tt, "tiktok")).send().await.unwrap().text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "a truncated body is not JSON: {text}");
    sim.sim.stop().await;
}

/// A webhook receiver: answers the handshake, records deliveries with their headers.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<(HashMap<String, String>, Vec<u8>)>) {
    use axum::routing::get;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        get(|axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>| async move {
            if q.get("hub.verify_token").map(String::as_str) == Some("let-me-in") { (axum::http::StatusCode::OK, q["hub.challenge"].clone()) } else { (axum::http::StatusCode::FORBIDDEN, String::new()) }
        })
        .post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let headers = headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
                tx.send((headers, body.to_vec())).unwrap();
                "EVENT_RECEIVED"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn webhooks_are_verified_and_signed() {
    let sim = Sim::start(Budgets::default(), "").await;
    let apps = sim.sim.apps();
    let (url, mut deliveries) = receiver().await;
    // The handshake fails with the wrong verify token, succeeds with the right one.
    let refused = sim.http.post(sim.url("ga4", "_sim/webhooks/subscribe")).json(&json!({ "platform": "instagram", "callback_url": url, "verify_token": "wrong" })).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let ok: Value = sim.http.post(sim.url("ga4", "_sim/webhooks/subscribe")).json(&json!({ "platform": "instagram", "callback_url": url, "verify_token": "let-me-in" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(ok["subscribed"], true);
    let emitted: Value = sim.http.post(sim.url("ga4", "_sim/webhooks/emit")).json(&json!({ "platform": "instagram" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(emitted["deliveries"][0]["status"], 200, "{emitted}");
    let (headers, body) = deliveries.recv().await.unwrap();
    let secret = apps["facebook"]["client_secret"].as_str().unwrap();
    let signature = headers["x-hub-signature-256"].strip_prefix("sha256=").unwrap().to_owned();
    assert_eq!(signature, hmac_hex(secret, &body), "HMAC-SHA256 of the raw body with the app secret");
    assert!(body.is_ascii(), "non-ASCII is escaped as \\uXXXX before signing");
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_ne!(signature, hmac_hex(secret, &tampered), "one changed byte breaks the signature");
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["object"], "instagram");
    assert_eq!(event["entry"][0]["changes"][0]["field"], "comments");

    // TikTok: t=…,s=… over "<t>.<body>" with the client secret.
    sim.http.post(sim.url("ga4", "_sim/webhooks/subscribe")).json(&json!({ "platform": "tiktok", "callback_url": url })).send().await.unwrap();
    sim.http.post(sim.url("ga4", "_sim/webhooks/emit")).json(&json!({ "platform": "tiktok" })).send().await.unwrap();
    let (headers, body) = deliveries.recv().await.unwrap();
    let header = &headers["tiktok-signature"];
    let parts: HashMap<&str, &str> = header.split(',').filter_map(|p| p.split_once('=')).collect();
    let mut signed = format!("{}.", parts["t"]).into_bytes();
    signed.extend_from_slice(&body);
    assert_eq!(parts["s"], hmac_hex(apps["tiktok"]["client_secret"].as_str().unwrap(), &signed));
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert!(event["content"].is_string(), "content is a JSON string");
    sim.sim.stop().await;
}
