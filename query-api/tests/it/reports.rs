//! Report definitions, runs and signed downloads through the API: RBAC, tenant isolation,
//! tampered, expired and foreign links refused, downloads audited.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sql::{World, sql_config};
use crate::support::signature;

#[tokio::test]
async fn reports_run_and_download_only_inside_their_organisation() {
    let world = World::new(sql_config()).await;
    let api = &world.api;
    let (owner, viewer, stranger) = (&world.a_owner, &world.a_viewer, &world.b_owner);
    let base = format!("/v1/orgs/{}/reports", owner.org_id);
    let spec = json!({"scope": {"influencers": ["instagram:1001", "instagram:1002"]}, "sections": ["summary", "history"], "period": {"last_days": 7}, "format": "csv"});

    let (status, _) = api.post(&base, Some(&viewer.access), json!({"name": "Semanal", "spec": spec})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer does not define reports");
    let (status, body) = api.post(&base, Some(&owner.access), json!({"name": "Semanal", "spec": {"scope": {"influencers": ["instagram:1001"]}, "sections": ["summary"], "period": {"last_days": 7}, "format": "docx"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = api.post(&base, Some(&owner.access), json!({"name": "Semanal", "spec": spec, "schedule": "every monday"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = api.post(&base, Some(&owner.access), json!({"name": "Semanal", "spec": spec, "delivery": {"webhook": {"url": "file:///etc/passwd", "secret": "0123456789abcdef"}}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let delivery = json!({"webhook": {"url": "http://127.0.0.1:9/nowhere", "secret": "0123456789abcdef"}});
    let (status, report) = api.post(&base, Some(&owner.access), json!({"name": "Semanal", "spec": spec, "schedule": "0 0 8 * * Mon", "time_zone": "America/Sao_Paulo", "delivery": delivery})).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["delivery"], json!({"webhook": {"url": "http://127.0.0.1:9/nowhere"}}), "the secret is never shown");
    let report_id = report["report_id"].as_str().unwrap().to_owned();
    let (status, list) = api.get(&base, &viewer.access).await;
    assert_eq!((status, list.as_array().unwrap().len()), (StatusCode::OK, 1));
    let (status, _) = api.get(&format!("/v1/orgs/{}/reports", owner.org_id), &stranger.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organisation's reports are invisible");

    let runs = format!("{base}/{report_id}/runs");
    let (status, _) = api.post(&runs, Some(&viewer.access), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer does not run reports");
    let (status, body) = api.post(&runs, Some(&owner.access), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mut run = Value::Null;
    for _ in 0..100 {
        let (_, listed) = api.get(&runs, &viewer.access).await;
        run = listed[0].clone();
        // The webhook is tried (three times, the receiver being unreachable) after the files.
        if run["status"] != "running" && !run["delivery"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["delivery"]["webhook"]["delivered"], json!(false), "an unreachable receiver is noted on the run: {run}");
    let names: Vec<&str> = run["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["summary.csv", "history.csv", "manifest.json"]);
    let summary_url = run["files"][0]["url"].as_str().unwrap().to_owned();

    let download = |url: String, token: String| async move {
        let response = api.client.get(format!("{}{url}", api.base)).bearer_auth(token).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    };
    let (status, csv) = download(summary_url.clone(), viewer.access.clone()).await;
    assert_eq!(status, StatusCode::OK, "a viewer downloads");
    assert!(csv.starts_with("platform,account_id,handle,") && csv.contains("instagram,1001,ana,") && csv.contains("71.5"), "{csv}");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'report.download'").fetch_one(&api.db).await.unwrap();
    assert_eq!(audited, 1, "every download is audited");

    let tampered = summary_url.replace("summary.csv", "history.csv");
    assert_eq!(download(tampered, viewer.access.clone()).await.0, StatusCode::FORBIDDEN, "a link for another file");
    let forged = summary_url.replace("signature=", "signature=00");
    assert_eq!(download(forged, viewer.access.clone()).await.0, StatusCode::FORBIDDEN);
    let path = summary_url.split('?').next().unwrap();
    assert_eq!(download(format!("{path}{}", signature(path, chrono::Utc::now().timestamp() - 1)), viewer.access.clone()).await.0, StatusCode::GONE, "an expired link");
    assert_eq!(download(summary_url.clone(), stranger.access.clone()).await.0, StatusCode::NOT_FOUND, "another organisation's link");
    let (status, _, _) = api.call(Method::GET, &summary_url, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "links need a signed-in viewer too");

    let (status, _, updated) = api.call(Method::PUT, &format!("{base}/{report_id}"), Some(&owner.access), Some(json!({"name": "Semanal v2", "spec": spec}))).await;
    assert_eq!((status, updated["version"].clone()), (StatusCode::OK, json!(2)));
    let (status, _, _) = api.call(Method::DELETE, &format!("{base}/{report_id}"), Some(&stranger.access), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = api.call(Method::DELETE, &format!("{base}/{report_id}"), Some(&owner.access), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    world.api.stop().await;
}
