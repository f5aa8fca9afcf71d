//! Every bad input gets a clear answer (invariant 6, docs/ARCHITECTURE.md's table): the status, a
//! JSON problem body naming the field where there is one, nothing half-written, and no panic (the
//! router still answers afterwards). Hermod's own failures need a misbehaving Hermod process: those
//! stay with the black-box tests in `tests/`.

use crate::harness::{
    CALLBACK_PASSWORD, CALLBACK_USER, Credential, TestApp, page_request, sign_body, unique,
};
use axum::body::Body;
use axum::http::Method;
use hermod_shared::console::{CallbackRecord, CommandRecord, ListPage, Role};
use serde_json::{Value, json};

/// Nothing was stored: no command, no callback, no feed event.
async fn assert_nothing_stored(app: &TestApp, admin: &Credential) {
    let commands: ListPage<CommandRecord> = app
        .call(Method::GET, "/api/commands", admin, None)
        .await
        .expect(200)
        .parse();
    assert!(commands.items.is_empty(), "{:?}", commands.items);
    assert_eq!(commands.feed_seq, 0, "no feed event");
    let callbacks: ListPage<CallbackRecord> = app
        .call(Method::GET, "/api/callbacks", admin, None)
        .await
        .expect(200)
        .parse();
    assert!(callbacks.items.is_empty());
}

#[tokio::test]
async fn bad_command_requests_get_400_415_or_422_naming_the_field() {
    let app = TestApp::with_hermod().await;
    let admin = app.session(Role::Admin).await;
    let post_raw = |content_type: Option<&'static str>, body: Vec<u8>| {
        app.call_raw(Method::POST, "/api/commands", &admin, content_type, body)
    };
    let post_json = |body: Value| app.call(Method::POST, "/api/commands", &admin, Some(body));
    let good = || json!({"client": "idm", "type": "sign", "body": sign_body("bad-input", 30)});

    // Not JSON at all.
    for raw in ["{\"client\": \"idm\",", "", "client=idm&type=sign", "[1, 2"] {
        post_raw(Some("application/json"), raw.into())
            .await
            .expect_problem(400, Some("invalid_json"), None);
    }
    // JSON, but not declared as such.
    let text = good().to_string();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        post_raw(ct, text.clone().into_bytes())
            .await
            .expect_problem(415, None, None);
    }
    // `application/…+json` and parameters are JSON too.
    post_raw(Some("application/json; charset=utf-8"), b"{".to_vec())
        .await
        .expect_problem(400, Some("invalid_json"), None);

    // Wrong types in what the console reads itself, named by a pointer into the request.
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut v = good();
    v["body"]["commandHeader"]["timeout"] = json!("soon");
    cases.push((v, "/body/commandHeader/timeout"));
    let mut v = good();
    v["body"]["commandHeader"]["externalId"] = json!({"an": "object"});
    cases.push((v, "/body/commandHeader/externalId"));
    let mut v = good();
    v["body"]["commandHeader"] = json!("soon");
    cases.push((v, "/body/commandHeader"));
    // Durations near the integer limit would overflow the times computed from them.
    for (field, seconds) in [("timeout", i64::MAX as u64), ("lifespan", u64::MAX)] {
        let mut v = good();
        v["body"]["commandHeader"][field] = json!(seconds);
        cases.push((v, ["/body/commandHeader/", field].concat().leak()));
    }
    let mut v = good();
    v["client"] = json!(5);
    cases.push((v, "/client"));
    let mut v = good();
    v["type"] = json!(["sign"]);
    cases.push((v, "/type"));
    let mut v = good();
    v["body"] = json!([1, 2]);
    cases.push((v, "/body"));
    let mut v = good();
    v["reissue_of"] = json!("twelve");
    cases.push((v, "/reissue_of"));
    // Unknown command type, unknown client, a re-issue of nothing.
    let mut v = good();
    v["type"] = json!("frobnicate");
    cases.push((v, "/type"));
    let mut v = good();
    v["client"] = json!("nobody");
    cases.push((v, "/client"));
    let mut v = good();
    v["reissue_of"] = json!(999_999);
    cases.push((v, "/reissue_of"));
    // Missing fields.
    for missing in ["client", "type", "body"] {
        let mut v = good();
        v.as_object_mut().expect("object").remove(missing);
        cases.push((v, ["/", missing].concat().leak()));
    }
    for (request, field) in cases {
        let r = post_json(request.clone()).await;
        let p = r.expect_problem(422, None, Some(field));
        assert!(p.record.is_none(), "nothing recorded for {request}");
    }
    // A body that is not an object at all.
    post_json(json!([good()]))
        .await
        .expect_problem(422, None, None);
    post_json(json!("sign"))
        .await
        .expect_problem(422, None, None);

    assert_nothing_stored(&app, &admin).await;
    app.assert_healthy().await;
    // And a good one still goes through (`hold-`: the simulator never calls back, as nothing
    // would receive it), its numbers read leniently: seconds as a string of digits, as a Java
    // service would take them.
    let mut body = sign_body(&unique("hold-after-bad-"), 30);
    body["commandHeader"]["timeout"] = json!("45");
    let sent: CommandRecord = post_json(json!({"client": "idm", "type": "sign", "body": body}))
        .await
        .expect(201)
        .parse();
    assert!(
        sent.expires_at.is_some(),
        "the countdown runs from the lenient timeout"
    );

    // The rest of the body is Hermod's to judge: the console sends it as written, and records
    // Hermod's refusal with its reason (docs/hermod.md: the shapes are inferred, not documented).
    for (path, value, named) in [
        ("/commandHeader/to", json!("@tmp"), "/commandHeader/to"),
        (
            "/signCommand/params/tbs/0/visible",
            json!("yes"),
            "/signCommand/params/tbs/0/visible",
        ),
    ] {
        let mut body = sign_body(&unique("passed-"), 30);
        *body.pointer_mut(path).expect("in the example") = value;
        let r = post_json(json!({"client": "idm", "type": "sign", "body": body.clone()})).await;
        let p = r.expect_problem(502, Some("hermod_refused"), None);
        assert_eq!(p.hermod_status, Some(400), "{path}");
        assert!(
            p.hermod_body.unwrap_or_default().contains(named),
            "{path}: Hermod names it"
        );
        let record = p.record.expect("recorded before it was sent");
        assert_eq!(
            (record.state.as_str(), record.request),
            ("SEND_FAILED", body)
        );
    }
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let huge = |n: usize| {
        let mut v = json!({"client": "idm", "type": "sign", "body": sign_body("huge", 30)});
        v["body"]["padding"] = json!("x".repeat(n));
        v.to_string().into_bytes()
    };
    let ten_mb = 10 << 20;
    app.call_raw(
        Method::POST,
        "/api/commands",
        &admin,
        Some("application/json"),
        huge(ten_mb),
    )
    .await
    .expect_problem(413, None, None);
    // Also to the receiver, with the right credential (and without one: refused before it is read).
    let auth = Some((CALLBACK_USER, CALLBACK_PASSWORD));
    let callback = vec![b'x'; ten_mb];
    app.callback(
        "/clients/idm/rest/callback/sign",
        auth,
        "application/json",
        callback.clone(),
    )
    .await
    .expect_problem(413, None, None);
    app.callback(
        "/rest/callback/sign",
        auth,
        "application/octet-stream",
        callback.clone(),
    )
    .await
    .expect_problem(413, None, None);
    app.callback(
        "/clients/idm/rest/callback/sign",
        None,
        "application/json",
        callback,
    )
    .await
    .expect_problem(401, None, None);
    assert_nothing_stored(&app, &admin).await;
    app.assert_healthy().await;
}

/// A body that is not UTF-8 is kept, its bad bytes as U+FFFD: the receiver loses no callback over
/// its encoding, whether it is JSON or not.
#[tokio::test]
async fn a_callback_body_that_is_not_utf8_is_stored_with_its_bad_bytes_replaced() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let body = b"{\"commandId\":\"99\",\"text\":\"caf\xe9 \xff\"}".to_vec();
    let stored: Value = app.sign_callback(body).await.expect(200).parse();
    assert_eq!(stored["status"], "stored", "{stored}");
    let callback: CallbackRecord = app
        .get(&admin, &format!("/api/callbacks/{}", stored["id"]))
        .await;
    assert_eq!(
        callback.body,
        "{\"commandId\":\"99\",\"text\":\"caf\u{fffd} \u{fffd}\"}"
    );
    assert_eq!(callback.command_id.as_deref(), Some("99"));
}

#[tokio::test]
async fn bad_query_parameters_unknown_ids_and_paths() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let get = |path: String| {
        let admin = &admin;
        let app = &app;
        async move { app.call(Method::GET, &path, admin, None).await }
    };
    let cases: [(&str, &str); 17] = [
        ("/api/commands?limit=abc", "limit"),
        ("/api/commands?limit=0", "limit"),
        ("/api/commands?limit=100000", "limit"),
        ("/api/commands?since=yesterday", "since"),
        ("/api/commands?until=2026-13-45", "until"),
        ("/api/commands?cursor=next", "cursor"),
        ("/api/callbacks?limit=abc", "limit"),
        ("/api/callbacks?since=yesterday", "since"),
        ("/api/callbacks?unmatched=maybe", "unmatched"),
        ("/api/callbacks?command=first", "command"),
        ("/api/callbacks?cursor=x", "cursor"),
        ("/api/events?after=abc", "after"),
        ("/api/events?after=1.5", "after"),
        ("/api/commands?since=2026-01-31", "since"),
        ("/api/commands?window=1w", "window"),
        ("/api/callbacks?window=400d", "window"),
        ("/api/audit?window=-1h", "window"),
    ];
    // Text filters are bounded before any work: a search of 257 characters, any other of 129.
    let long = |n: usize| "x".repeat(n);
    let bounded = [
        (format!("/api/commands?q={}", long(257)), "q"),
        (format!("/api/callbacks?q={}", long(257)), "q"),
        (format!("/api/audit?q={}", long(257)), "q"),
        (format!("/api/commands?type={}", long(129)), "type"),
        (format!("/api/callbacks?client={}", long(129)), "client"),
        (format!("/api/commands?state={}", long(129)), "state"),
        (format!("/api/audit?actor={}", long(129)), "actor"),
        (format!("/api/callbacks/export?q={}", long(257)), "q"),
    ];
    for (path, field) in cases
        .iter()
        .map(|(p, f)| (p.to_string(), *f))
        .chain(bounded)
    {
        let r = get(path.clone()).await;
        let p = r.expect_problem(422, None, None);
        let named = p.field.as_deref().unwrap_or_default();
        assert!(
            named.trim_start_matches('/') == field,
            "{path}: field {named:?}, expected {field}"
        );
    }
    // A bad Last-Event-ID header, too.
    let request = page_request(Method::GET, "/api/events", &admin)
        .header("last-event-id", "yesterday")
        .body(Body::empty())
        .expect("a request");
    app.send(request).await.expect_problem(422, None, None);
    // A query string that does not parse at all.
    let r = get("/api/commands?limit=1&limit=2".into()).await;
    assert!(
        matches!(r.status.as_u16(), 400 | 422),
        "{}: {}",
        r.status,
        r.text()
    );
    r.problem();

    // Good filters work.
    get("/api/commands?since=2026-01-31T12:00:00Z&limit=5&type=sign&state=completed&q=x".into())
        .await
        .expect(200);

    // Unknown ids and paths: 404 with a JSON body.
    for path in [
        "/api/commands/999999",
        "/api/commands/abc",
        "/api/commands/-1",
        "/api/nope",
        "/api/commands/1/nope",
        "/api/",
    ] {
        get(path.into()).await.expect_problem(404, None, None);
    }
    for path in [
        "/api/commands/999999/poll",
        "/api/commands/abc/poll",
        "/api/nope",
    ] {
        app.call(Method::POST, path, &admin, Some(Value::Null))
            .await
            .expect_problem(404, None, None);
    }
    // The receiver: a path naming no client, without a credential naming one. (Any other POST
    // there is kept: the receiver's black-box test `no_callback_is_lost_to_a_guess_about_its_path`.)
    app.callback(
        "/clients/nobody/rest/callback/sign",
        None,
        "application/json",
        "{}",
    )
    .await
    .expect_problem(404, None, None);
    assert_nothing_stored(&app, &admin).await;
    app.assert_healthy().await;
}
