//! Webhook receivers fed by the simulator's signed deliveries.

use analisa_ingest::webhooks::{WebhookSecrets, router};
use analisa_ingest::{Queue, QueueConfig};
use analisa_sim::server::{hmac_hex, tiktok_signature};
use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use serde_json::{Value, json};

use crate::collection::{lake, start_sim};

async fn stored(lake: &analisa_lake::Lake, platform: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM bronze.webhook_events WHERE platform = '{platform}'");
    lake.session().await.unwrap().sql(&sql).await.unwrap()[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_events_land_and_tampered_ones_are_refused() {
    let sim = start_sim("").await;
    let lake = lake().await;
    let apps = sim.apps();
    let (meta_secret, tiktok_secret) = (apps["facebook"]["client_secret"].as_str().unwrap().to_owned(), apps["tiktok"]["client_secret"].as_str().unwrap().to_owned());
    let prefix = format!("analisa-test:webhooks:{}:{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let queue = Queue::connect("redis://127.0.0.1:6379/", QueueConfig { prefix, ..QueueConfig::default() }).await.unwrap();
    let secrets = WebhookSecrets { meta_app_secret: meta_secret.clone().into(), meta_verify_token: "vt-123".to_owned().into(), tiktok_client_secret: tiktok_secret.clone().into(), tiktok_max_age_secs: 300 };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, router(lake.clone(), Some(queue.clone()), secrets)).into_future());
    let http = reqwest::Client::new();
    let admin = |path: &str| format!("{}_sim/webhooks/{path}", sim.urls["ga4"]);

    // The handshake: a wrong verify token is refused, the right one subscribes.
    let refused = http.post(admin("subscribe")).json(&json!({ "platform": "instagram", "callback_url": format!("{base}/webhooks/meta"), "verify_token": "guess" })).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let ok: Value = http.post(admin("subscribe")).json(&json!({ "platform": "instagram", "callback_url": format!("{base}/webhooks/meta"), "verify_token": "vt-123" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(ok["subscribed"], true);

    // A signed comment event lands and asks for a refresh of that account; a redelivery lands once.
    let emitted: Value = http.post(admin("emit")).json(&json!({ "platform": "instagram" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(emitted["deliveries"][0]["status"], 200, "{emitted}");
    http.post(admin("emit")).json(&json!({ "platform": "instagram" })).send().await.unwrap();
    assert_eq!(stored(&lake, "instagram").await, 1);
    assert_eq!(queue.depth().await.unwrap().0 + queue.depth().await.unwrap().1, 2, "one refresh per delivery");

    // Tampering: one changed byte, a wrong secret, no header. Each is refused, nothing stored.
    let body = serde_json::to_vec(&emitted["payload"]).unwrap();
    let good = format!("sha256={}", hmac_hex(&meta_secret, &body));
    let mut tampered = body.clone();
    tampered[12] ^= 1;
    for (payload, signature) in [(tampered, Some(good.clone())), (body.clone(), Some(format!("sha256={}", hmac_hex("not-the-secret", &body)))), (body.clone(), None)] {
        let mut request = http.post(format!("{base}/webhooks/meta")).header("content-type", "application/json").body(payload);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        assert_eq!(request.send().await.unwrap().status(), 401);
    }
    assert_eq!(stored(&lake, "instagram").await, 1);

    // TikTok: signed with the client secret over "<t>.<body>"; stale timestamps are replays.
    http.post(admin("subscribe")).json(&json!({ "platform": "tiktok", "callback_url": format!("{base}/webhooks/tiktok") })).send().await.unwrap();
    let emitted: Value = http.post(admin("emit")).json(&json!({ "platform": "tiktok" })).send().await.unwrap().json().await.unwrap();
    assert_eq!(emitted["deliveries"][0]["status"], 200, "{emitted}");
    assert_eq!(stored(&lake, "tiktok").await, 1);
    let body = serde_json::to_vec(&json!({ "client_key": "x", "event": "video.publish.completed", "create_time": 1, "user_openid": "7", "content": "{}" })).unwrap();
    let stale = chrono::Utc::now().timestamp() - 3_600;
    let response = http.post(format!("{base}/webhooks/tiktok")).header("tiktok-signature", tiktok_signature(&tiktok_secret, stale, &body)).body(body.clone()).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let fresh = chrono::Utc::now().timestamp();
    let response = http.post(format!("{base}/webhooks/tiktok")).header("tiktok-signature", tiktok_signature("wrong", fresh, &body)).body(body).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(stored(&lake, "tiktok").await, 1);
    sim.stop().await;
}
