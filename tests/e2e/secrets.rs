//! Secrets stay in the backend (invariant 1): after a run that sends, fails, receives, polls and lists,
//! no API key, `X-Api-Key` value or callback password (raw or as a Basic credential) appears in any
//! answer, any feed event, any line of the log, or the store's files.

use hermod_console_tests::*;
use serde_json::Value;

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
async fn no_secret_appears_in_answers_the_feed_the_log_or_the_store() {
    let closed = free_port();
    let down_key = unique("SeCrEtDownKey");
    let c = Console::demo()
        .env("RUST_LOG", "debug")
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__COMMAND_URL",
            format!("http://127.0.0.1:{closed}/hermod/rest/command"),
        )
        .env("HERMOD_CONSOLE__CLIENTS__DOWN__KEY", down_key.clone())
        .env("HERMOD_CONSOLE__CLIENTS__IDM__REQUEST_TIMEOUT_SECS", "1")
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "1500")
        .start()
        .await;
    let mut feed = c.events(None, Some(0)).await;

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

    // The scan.
    let mut secrets = c.secrets.forms();
    secrets.push(down_key.clone());
    secrets.push(b64(format!("down:{down_key}")));
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
    for secret in &secrets {
        for (what, text) in [
            ("a response body or feed event", &transcript),
            ("the log", &log),
            ("the store's files", &stored),
        ] {
            if let Some(context) = find(text, secret) {
                panic!("a secret ({secret}) appears in {what}: …{context}…");
            }
        }
    }
}
