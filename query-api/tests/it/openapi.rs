//! The OpenAPI document validates, and every operation in it answers with a documented status
//! and a body of the documented shape.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// Resolves `#/components/schemas/X`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => resolve(doc, doc.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {reference}"))),
        None => schema,
    }
}

/// Checks `value` against the JSON Schema subset utoipa emits; returns the mismatches.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if !options.iter().any(|option| {
                let mut inner = Vec::new();
                check(doc, option, value, at, &mut inner);
                inner.is_empty()
            }) {
                problems.push(format!("{at}: matches none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, part, value, at, problems);
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        });
        if !fits {
            problems.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} not in {allowed:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema.get("properties").and_then(Value::as_object)) {
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                problems.push(format!("{at}: `{required}` missing"));
            }
        }
        for (name, property) in properties {
            if let Some(inner) = object.get(name) {
                check(doc, property, inner, &format!("{at}.{name}"), problems);
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, schema, item, &format!("{at}[{i}]"), problems);
        }
    }
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let api = TestApi::start().await;
    let (doc, _) = operations(&api).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let file = std::env::temp_dir().join(format!("analisa-openapi-{}.json", std::process::id()));
    std::fs::write(&file, doc.to_string()).unwrap();
    let python = std::env::var("ANALISA_PYTHON").expect("ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares a Python with openapi-spec-validator");
    let output = std::process::Command::new(python)
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')", file.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // The docs page is served and reads this document.
    let page = api.client.get(format!("{}/docs", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/openapi.json"));
    api.stop().await;
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let sim = analisa_sim::server::RunningSim::start(analisa_sim::server::SimOptions {
        world: analisa_sim::WorldSpec::new(7, 20, 30),
        listen: "127.0.0.1:0".parse().unwrap(),
        faults: Default::default(),
        budgets: Default::default(),
    })
    .await
    .unwrap();
    let api = TestApi::start_with_platforms(&sim).await;
    let mut fixture = api.org_fixture("walk").await;
    // A real connection to disconnect, and a consent to finish during the walk.
    let (code, state) = consent(&api, &fixture.owner, "tiktok").await;
    let (status, connected) = api.post(&format!("/v1/orgs/{}/connections/complete", fixture.owner.org_id), Some(&fixture.owner.access), json!({"platform": "tiktok", "state": state, "code": code})).await;
    assert_eq!(status, StatusCode::CREATED, "{connected}");
    fixture.connection_id = connected["id"].as_str().unwrap().to_owned();
    let pending = consent(&api, &fixture.owner, "tiktok").await;
    // Linking Facebook to the owner (walked first: the longer path), then signing in with it.
    let linking = identity_consent(&api, Some(&fixture.owner.access), "facebook").await;
    let signing_in = identity_consent(&api, None, "facebook").await;
    let (doc, mut operations) = operations(&api).await;
    // Destructive operations last, the organisation's own deletion and sign-out very last.
    let rank = |(method, path): &(String, String)| match (method.as_str(), path.as_str()) {
        ("delete", "/v1/orgs/{org_id}") => 3,
        ("post", "/v1/auth/logout") => 4,
        ("delete", _) => 2,
        _ => 1,
    };
    operations.sort_by_key(|op| (rank(op), std::cmp::Reverse(op.1.len()), op.1.clone(), op.0.clone()));
    let invitee = api.account("invitee@walk.example.com", "Invitee's").await;
    let (_, invitation) = api.post(&format!("/v1/orgs/{}/invitations", fixture.owner.org_id), Some(&fixture.owner.access), json!({"email": "invitee@walk.example.com", "role": "viewer"})).await;

    let mut walked = 0;
    for (name, template) in &operations {
        let url = fill(template, &fixture.owner.org_id, &fixture, &fixture.viewer.user_id) + if template == "/v1/compare" { "?ids=instagram:1003,tiktok:1004" } else { "" };
        let (credential, body) = match (name.as_str(), template.as_str()) {
            ("post", "/v1/auth/register") => (None, Some(json!({"email": "new@walk.example.com", "password": PASSWORD, "display_name": "New", "organisation": "New org"}))),
            ("post", "/v1/auth/login") => (None, Some(json!({"email": "owner@walk.example.com", "password": PASSWORD}))),
            ("post", "/v1/auth/refresh") => (None, Some(json!({"refresh_token": fixture.owner.refresh}))),
            ("post", "/v1/invitations/accept") => (Some(invitee.access.as_str()), Some(json!({"token": invitation["token"]}))),
            ("post", "/v1/orgs/{org_id}/flags/{flag_id}/dispute") => (Some(fixture.owner.access.as_str()), Some(json!({"reason": "another one"}))),
            ("post", "/v1/orgs/{org_id}/connections/complete") => (Some(fixture.owner.access.as_str()), Some(json!({"platform": "tiktok", "code": pending.0, "state": pending.1}))),
            ("post", "/v1/me/identities/{platform}/complete") => (Some(fixture.owner.access.as_str()), Some(json!({"code": linking.0, "state": linking.1}))),
            ("post", "/v1/auth/social/{platform}/complete") => (None, Some(json!({"code": signing_in.0, "state": signing_in.1}))),
            ("post", "/v1/sql") => (Some(fixture.owner.access.as_str()), Some(json!({"sql": "SELECT 1 AS one", "org_id": fixture.owner.org_id}))),
            _ => (Some(fixture.owner.access.as_str()), body_for(name, template)),
        };
        // The refresh above rotated the owner's session; later calls use its access token,
        // which stays valid (rotation does not revoke).
        let (status, headers, value) = api.call(method(name), &url, credential, body).await;
        let documented = &doc["paths"][template][name]["responses"];
        let entry = &documented[status.as_str()];
        assert!(!entry.is_null(), "{name} {url}: {status} is not documented ({:?}): {value}", documented.as_object().unwrap().keys().collect::<Vec<_>>());
        assert!(status.is_success(), "{name} {url}: the walk uses valid input, yet {status}: {value}");
        if let Some(schema) = entry.pointer("/content/application~1json/schema") {
            assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"), "{name} {url}");
            let mut problems = Vec::new();
            check(&doc, schema, &value, "body", &mut problems);
            assert!(problems.is_empty(), "{name} {url}: {problems:#?}\n{value}");
        } else {
            assert!(value.is_null() || status == StatusCode::OK, "{name} {url}: undocumented body {value}");
        }
        walked += 1;
    }
    assert_eq!(walked, operations.len());
    assert!(walked >= 40, "{walked} operations");

    // Errors have the problem shape everywhere, including the ones axum raises itself.
    for (method_name, path, body) in [("get", "/v1/nowhere", None), ("delete", "/v1/influencers", None), ("post", "/v1/auth/login", Some("{not json"))] {
        let mut request = api.client.request(method(method_name), format!("{}{path}", api.base)).bearer_auth(&fixture.viewer.access);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{method_name} {path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status.as_u16(), "{method_name} {path}");
        let mut problems = Vec::new();
        check(&doc, &json!({"$ref": "#/components/schemas/Problem"}), &problem, "problem", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }
    // Every operation that takes a body says what a body of another type gets, and gets it.
    for (name, template) in operations.iter().filter(|(name, template)| !doc["paths"][template][name]["requestBody"].is_null()) {
        assert!(!doc["paths"][template][name]["responses"]["415"].is_null(), "{name} {template}: 415 is not documented");
    }
    let response = api.client.post(format!("{}/v1/auth/login", api.base)).header("content-type", "text/plain").body("owner").send().await.unwrap();
    assert_eq!((response.status(), response.headers()["content-type"].to_str().unwrap()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/problem+json"));
    api.stop().await;
    sim.stop().await;
}
