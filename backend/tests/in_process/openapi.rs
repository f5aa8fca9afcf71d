//! `GET /api/openapi.json` (README.md, "Console API"): every route of the route table is described,
//! with the least role it needs, what it reads and what it answers, and every schema it names is in
//! the document.

use crate::harness::{Credential, TestApp};
use axum::http::Method;
use hermod_shared::console::{Role, RouteInfo};
use serde_json::Value;

/// Every `$ref` under `v`.
fn refs<'a>(v: &'a Value, found: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found.push(r);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

async fn document(app: &TestApp, who: &Credential) -> Value {
    app.call(Method::GET, "/api/openapi.json", who, None)
        .await
        .expect(200)
        .json()
}

#[tokio::test]
async fn every_route_is_described_with_its_role_what_it_reads_and_what_it_answers() {
    let app = TestApp::start().await;
    let viewer = app.session(Role::Viewer).await;
    let doc = document(&app, &viewer).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let table: Vec<RouteInfo> = app
        .call(Method::GET, "/api/routes", &viewer, None)
        .await
        .expect(200)
        .parse();
    let mut described = 0;
    for route in &table {
        let op = &doc["paths"][&route.path][route.method.to_ascii_lowercase()];
        let name = format!("{} {}", route.method, route.path);
        assert!(op.is_object(), "{name} is not in the document");
        let role = route.role.map_or("public", Role::as_str);
        assert_eq!(op["x-role"], role, "{name}");
        assert_eq!(
            op["security"].as_array().map(Vec::len),
            Some(if route.role.is_some() { 2 } else { 0 }),
            "{name}"
        );
        let answers = op["responses"].as_object().expect("responses");
        assert!(
            answers.keys().any(|status| status.starts_with('2')),
            "{name} says nothing of its answer: {answers:?}"
        );
        for param in route.path.split('/').filter(|s| s.starts_with('{')) {
            let param = param.trim_matches(['{', '}']);
            let declared = op["parameters"].as_array().into_iter().flatten();
            assert!(
                declared
                    .into_iter()
                    .any(|p| p["name"] == param && p["in"] == "path"),
                "{name}: path parameter {param}"
            );
        }
        described += 1;
    }
    // Nothing described that the console does not serve.
    let operations: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(operations, described);

    // Every schema named is in the document.
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} points outside the components"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is missing"
        );
    }

    // What the handlers' types say, on a few: the body a send takes and the record it answers,
    // a list's filters, a removal's empty answer, the feed's events.
    let send = &doc["paths"]["/api/commands"]["post"];
    assert_eq!(
        send["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SendCommand"
    );
    assert_eq!(
        send["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CommandRecord"
    );
    assert_eq!(
        send["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let sent = &doc["components"]["schemas"]["SendCommand"];
    assert_eq!(
        sent["required"],
        serde_json::json!(["client", "type", "body"])
    );
    let list = &doc["paths"]["/api/commands"]["get"]["parameters"];
    let filters: Vec<&str> = list
        .as_array()
        .expect("a list's parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for filter in [
        "type", "state", "client", "since", "until", "q", "limit", "cursor",
    ] {
        assert!(filters.contains(&filter), "{filter} in {filters:?}");
    }
    assert!(doc["paths"]["/api/users/{id}"]["delete"]["responses"]["204"].is_object());
    assert_eq!(
        doc["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"]
            ["$ref"],
        "#/components/schemas/FeedEvent"
    );
    assert_eq!(doc["paths"]["/api/session"]["post"]["x-role"], "public");
}

#[tokio::test]
async fn the_description_needs_a_login() {
    let app = TestApp::start().await;
    app.call(Method::GET, "/api/openapi.json", &Credential::Nobody, None)
        .await
        .expect_problem(401, Some("unauthenticated"), None);
}
