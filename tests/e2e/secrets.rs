//! Secrets stay in the backend (invariant 1): after a run that logs in and out, sends, fails, receives,
//! polls, lists, exports and manages accounts and tokens, no API key, `X-Api-Key` value, callback
//! password (raw or as a Basic credential), account password (right or mistyped), session cookie,
//! CSRF token or API token appears in any answer (headers included), the page and its script and wasm
//! files, any feed event, any line of the log (stderr and stdout), any audit row or the store's files.
//! The only answers that carry a credential are the ones that hand it out: a login, a minted token.

use hermod_console_tests::*;
use hermod_shared::console::Role;
use serde_json::{Value, json};

/// Where `needle` occurs in `haystack`, with some context, for the failure message.
fn find(haystack: &str, needle: &str) -> Option<String> {
    let at = haystack.find(needle)?;
    let from = haystack[..at]
        .char_indices()
        .rev()
        .nth(120)
        .map_or(0, |(i, _)| i);
    let to = (at + needle.len() + 120).min(haystack.len());
    let to = (to..=haystack.len())
        .find(|&i| haystack.is_char_boundary(i))
        .unwrap_or(haystack.len());
    Some(haystack[from..to].to_string())
}

#[tokio::test]
async fn no_secret_appears_in_answers_pages_the_feed_the_log_the_audit_log_or_the_store() {
    let down_key = unique("SeCrEtDownKey");
    let c = Console::demo()
        .env("RUST_LOG", "debug")
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__COMMAND_URL",
            CLOSED_COMMAND_URL,
        )
        .env("HERMOD_CONSOLE__CLIENTS__DOWN__KEY", down_key.clone())
        .env("HERMOD_CONSOLE__CLIENTS__IDM__REQUEST_TIMEOUT_SECS", "1")
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "1500")
        .start()
        .await;
    let mut feed = c.events(None, Some(0)).await;
    let mut mistyped = Vec::new();

    // People log in (and mistype), a token is minted; each acts within its role.
    let operator = c.agent(Role::Operator).await;
    let viewer = c.agent(Role::Viewer).await;
    for user in [
        "admin",
        operator.user.as_ref().map_or("", |u| u.username.as_str()),
    ] {
        let wrong = unique("SeCrEtMistyped");
        c.try_login(user, &wrong).await.expect(401);
        mistyped.push(wrong);
    }
    let robot = c.mint_token("leak-scan", Role::Operator, 1).await;
    let as_robot = c.agent_with(c.bearer_client(&robot.token));
    operator
        .post_json(
            "/api/commands",
            &json!({"client": "idm", "type": "sign", "body": sign_body(&unique("s-op-"), 30)}),
        )
        .await
        .expect(201);
    as_robot
        .post_json(
            "/api/commands",
            &json!({"client": "da", "type": "ping", "body": ping_body(&unique("s-tok-"), 30)}),
        )
        .await
        .expect(201);
    viewer
        .post_json(
            "/api/commands",
            &json!({"client": "idm", "type": "ping", "body": ping_body(&unique("s-no-"), 30)}),
        )
        .await
        .expect(403);
    viewer.get("/api/users").await.expect(403);
    c.agent_with(c.anonymous())
        .get("/api/commands")
        .await
        .expect(401);
    // Accounts change: a new password, a new role, a removal.
    let (someone, _) = c.create_user(Role::Viewer).await;
    let changed = unique("SeCrEtChangedPw");
    mistyped.push(changed.clone());
    c.put_json(
        &format!("/api/users/{}", someone.id),
        &json!({"password": changed, "role": "operator"}),
    )
    .await
    .expect(200);
    c.delete(&format!("/api/users/{}", someone.id))
        .await
        .expect(204);
    c.get("/api/users").await.expect(200);
    c.get("/api/tokens").await.expect(200);
    c.get("/api/openapi.json").await.expect(200);

    // Sends that work, for both clients and several types.
    let signed = c.send("sign", sign_body(&unique("s-"), 30)).await;
    let pinged = c
        .send_as("da", "ping", ping_body(&unique("s-da-"), 30))
        .await
        .expect(201)
        .json();
    let held = c
        .send("authenticate", authenticate_body(&unique("hold-s-"), 60))
        .await;
    let provisioned = c.send("provision", provision_body(&unique("s-"), 30)).await;
    // Sends that fail in every way.
    c.send_as("down", "ping", ping_body(&unique("s-down-"), 30))
        .await
        .expect(502);
    c.send_as("idm", "sign", sign_body(&unique("crash-"), 30))
        .await
        .expect(502);
    c.send_as("idm", "sign", sign_body(&unique("garbage-"), 30))
        .await
        .expect(502);
    c.send_as("idm", "ping", ping_body(&unique("slow-"), 30))
        .await
        .expect(504);
    let mut refused = sign_body(&unique("s-"), 30);
    refused["signCommand"]["params"]["tbs"] = Value::Array(Vec::new());
    c.send_as("idm", "sign", refused).await.expect(502);
    c.send_as("nobody", "ping", ping_body("x", 30))
        .await
        .expect(422);

    // Callbacks: Hermod's own, right and wrong credentials, a repeat.
    c.wait_for_state(signed.id, "COMPLETED").await;
    c.wait_for_state(provisioned.id, "COMPLETED").await;
    c.wait_for_state(pinged["id"].as_i64().expect("id"), "COMPLETED")
        .await;
    let body = callback_body("777", &unique("s-cb-"), "COMPLETED");
    for _ in 0..2 {
        c.post_callback(
            "/rest/callback/sign",
            Some(c.idm_auth()),
            "application/json",
            body.clone(),
        )
        .await
        .expect(200);
    }
    c.post_callback(
        "/clients/idm/rest/callback/sign",
        Some((IDM_CALLBACK_USER, &c.secrets.da_password)),
        "application/json",
        body.clone(),
    )
    .await
    .expect(401);
    c.post_callback(
        "/rest/callback/sign",
        None,
        "application/json",
        body.clone(),
    )
    .await
    .expect(401);

    // Polls: a held command, a finished one, one whose Hermod is unreachable… and the simulator's view.
    for id in [held.id, signed.id] {
        c.post_json(&format!("/api/commands/{id}/poll"), &Value::Null)
            .await
            .expect(200);
    }
    let hermod_id = held.command_id.clone().expect("commandId");
    c.sim_get(&format!("/sim/commands/{hermod_id}"))
        .await
        .expect(200);
    c.sim_post(&format!("/sim/commands/{hermod_id}/reject"))
        .await
        .expect(200);
    c.wait_for_state(held.id, "REJECTED").await;

    // A callback that (through some proxy) carries a session cookie: stored without it.
    c.read(
        c.anonymous()
            .post(format!("{}/rest/callback/sign", c.url))
            .basic_auth(IDM_CALLBACK_USER, Some(&c.secrets.idm_password))
            .header("cookie", c.admin_session().cookie_header())
            .header("content-type", "application/json")
            .body(callback_body("778", &unique("s-cookie-"), "COMPLETED")),
    )
    .await
    .expect(200);

    // A revoked token, a logged-out session: refused, and still not echoed.
    c.delete(&format!("/api/tokens/{}", robot.record.id))
        .await
        .expect(200);
    as_robot.get("/api/commands").await.expect(401);
    viewer.delete("/api/session").await.expect(204);
    viewer.get("/api/commands").await.expect(401);

    // Exports, command details (with their decoded material and copy-as-curl), the metrics.
    let ids: Vec<i64> = c.commands("").await.items.iter().map(|r| r.id).collect();
    for id in ids {
        c.get(&format!("/api/commands/{id}")).await.expect(200);
    }
    for path in [
        "/api/audit/export?format=csv",
        "/api/audit/export?format=json",
        "/api/commands/export?format=csv",
        "/api/commands/export?format=json",
        "/api/callbacks/export?format=csv",
        "/api/callbacks/export?format=json",
        "/metrics",
    ] {
        c.get(path).await.expect(200);
    }

    // The page and the files it loads, as a browser gets them.
    let stranger = c.anonymous();
    let mut pages = vec![c.read(stranger.get(format!("{}/", c.url))).await.text];
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    let mut fetched = Vec::new();
    for entry in std::fs::read_dir(&dist).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [".html", ".js", ".wasm", ".css"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            let r = c
                .read(stranger.get(format!("{}/{name}", c.url)))
                .await
                .expect(200);
            pages.push(r.text);
            fetched.push(name);
        }
    }
    if dist.join("index.html").is_file() {
        assert!(
            fetched.iter().any(|n| n.ends_with(".wasm"))
                && fetched.iter().any(|n| n.ends_with(".js")),
            "the built page's files were scanned: {fetched:?}"
        );
    }

    // Lists, details, clients, the feed.
    c.get("/api/clients").await.expect(200);
    let commands = c.commands("?limit=500").await;
    for command in &commands.items {
        c.detail(command.id).await;
    }
    c.callbacks("?limit=500").await;
    c.callbacks("?unmatched=true").await;
    c.commands("?q=signCommand").await;
    c.get("/api/nope").await.expect(404);
    let end = c.feed_seq().await;
    feed.feed_to_seq(end, WAIT).await;
    c.assert_healthy().await;

    // The audit log, as an admin reads it.
    let audit = c.get("/api/audit?limit=500").await.expect(200).text;
    assert!(
        audit.contains("login") && audit.contains("token_revoked"),
        "{audit}"
    );

    // The scan: every secret, and every credential handed out during the run.
    let mut secrets: Vec<(String, bool)> =
        c.secrets.forms().into_iter().map(|s| (s, true)).collect();
    secrets.push((down_key.clone(), true));
    secrets.push((b64(format!("down:{down_key}")), true));
    secrets.extend(mistyped.into_iter().map(|s| (s, true)));
    // The store keeps a session's CSRF token (to check it); every other credential only as a hash.
    secrets.extend(
        c.issued()
            .into_iter()
            .map(|(kind, s)| (s, kind != Credential::CsrfToken)),
    );
    let kinds: Vec<Credential> = c.issued().iter().map(|(k, _)| *k).collect();
    for kind in [
        Credential::Password,
        Credential::SessionCookie,
        Credential::CsrfToken,
        Credential::ApiToken,
    ] {
        assert!(kinds.contains(&kind), "the run handed out a {kind:?}");
    }
    let transcript = c.transcript();
    let log = c.log();
    assert!(
        transcript.len() > 10_000,
        "the run produced answers to scan"
    );
    assert!(log.lines().count() > 20, "the run produced a log to scan");
    let mut stored = String::new();
    for entry in std::fs::read_dir(c.data_dir()).expect("the data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
        stored.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(!stored.is_empty(), "the store's files");
    let pages = pages.join("\n");
    for (secret, also_store) in &secrets {
        let mut places = vec![
            ("a response (headers or body) or feed event", &transcript),
            ("the page or its files", &pages),
            ("the log", &log),
            ("the audit log", &audit),
        ];
        if *also_store {
            places.push(("the store's files", &stored));
        }
        for (what, text) in places {
            if let Some(context) = find(text, secret) {
                panic!("a secret ({secret}) appears in {what}: …{context}…");
            }
        }
    }
}
