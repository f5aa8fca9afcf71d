//! The callback receiver (docs/ARCHITECTURE.md, invariants 2, 4 and 5): Basic credentials per
//! client, repeats stored once, unknown types and non-JSON bodies kept, and a callback that beats
//! Hermod's create answer matched once the answer is stored.

use hermod_console_tests::*;
use hermod_shared::console::{CommandState, FeedEvent};
use std::time::Duration;

#[tokio::test]
async fn callbacks_need_the_clients_basic_credential() {
    let c = Console::demo().start().await;
    let mut feed = c.subscribe().await;
    let before = c.callbacks("").await;
    let body = callback_body("424242", &unique("auth-"), "COMPLETED");
    let idm_password = c.secrets.idm_password.clone();
    let da_password = c.secrets.da_password.clone();

    let refused: [(&str, Option<(&str, &str)>); 6] = [
        ("/clients/idm/rest/callback/sign", None),
        (
            "/clients/idm/rest/callback/sign",
            Some((IDM_CALLBACK_USER, "wrong")),
        ),
        (
            "/clients/idm/rest/callback/sign",
            Some(("someone", &idm_password)),
        ),
        // Another client's valid credential does not open idm's path.
        (
            "/clients/idm/rest/callback/sign",
            Some((DA_CALLBACK_USER, &da_password)),
        ),
        ("/rest/callback/sign", None),
        ("/rest/callback/sign", Some((IDM_CALLBACK_USER, "wrong"))),
    ];
    for (path, auth) in refused {
        let r = c
            .post_callback(path, auth, "application/json", body.clone())
            .await;
        r.expect_problem(401, None, None);
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.to_ascii_lowercase().starts_with("basic"),
            "{path} {auth:?}: WWW-Authenticate {challenge:?}"
        );
    }
    // A malformed Authorization header is refused the same way.
    let r = c
        .read(
            c.http
                .post(format!("{}/rest/callback/sign", c.url))
                .header("authorization", "Basic !!!not-base64")
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    r.expect_problem(401, None, None);

    // Each refusal is counted, for the operator's monitoring.
    c.assert_metric("hermod_console_callbacks_rejected_total 7")
        .await;

    // Nothing of that was stored or announced.
    assert_eq!(c.callbacks("").await.items, before.items);

    // The right credential is accepted, on both paths, and names the client.
    let r = c
        .post_callback(
            "/clients/idm/rest/callback/sign",
            Some(c.idm_auth()),
            "application/json",
            body.clone(),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["status"], "stored", "{r}");
    let da_body = callback_body("434343", &unique("auth-da-"), "COMPLETED");
    let r = c
        .post_callback(
            "/rest/callback/sign",
            Some((DA_CALLBACK_USER, &da_password)),
            "application/json",
            da_body.clone(),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["status"], "stored", "{r}");

    let items = c.callbacks("").await.items;
    assert_eq!(items.len(), before.items.len() + 2, "{items:?}");
    let da = items
        .iter()
        .find(|i| i.body == da_body)
        .expect("da's callback");
    assert_eq!(
        da.client.as_deref(),
        Some("da"),
        "the client is the one whose credential matched"
    );
    let idm = items
        .iter()
        .find(|i| i.body == body)
        .expect("idm's callback");
    assert_eq!(idm.client.as_deref(), Some("idm"));
    assert_eq!(idm.command, None, "matches no command we sent");
    // Unmatched callbacks are listed as such.
    let unmatched = c.callbacks("?unmatched=true").await.items;
    assert!(unmatched.iter().any(|i| i.id == idm.id));
    // The stored headers keep the verdict, not the credential.
    let auth_header = idm
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert_eq!(
        auth_header, idm.auth,
        "Authorization is replaced by the verdict"
    );
    assert!(
        idm.auth.contains(IDM_CALLBACK_USER) && !idm.auth.contains(&idm_password),
        "the verdict names the user, not the password: {:?}",
        idm.auth
    );

    // The first events after subscribing are the two accepted callbacks: the refused ones made none.
    let a = feed.next_feed(WAIT).await.feed();
    let b = feed.next_feed(WAIT).await.feed();
    for (e, want) in [(a, idm.id), (b, da.id)] {
        match e {
            FeedEvent::Callback { callback, .. } => assert_eq!(callback.id, want),
            other => panic!("expected a callback event, got {other:?}"),
        }
    }
    c.assert_healthy().await;
}

#[tokio::test]
async fn a_repeated_callback_is_acknowledged_and_stored_once() {
    let c = Console::demo().start().await;
    let ext = unique("dup-");
    let body = callback_body("515151", &ext, "COMPLETED");
    let post = || {
        c.post_callback(
            "/clients/idm/rest/callback/sign",
            Some(c.idm_auth()),
            "application/json",
            body.clone(),
        )
    };
    let first = post().await.expect(200).json();
    let second = post().await.expect(200).json();
    assert_eq!(first["status"], "stored", "{first}");
    assert_eq!(second["status"], "duplicate", "{second}");
    assert_eq!(first["id"], second["id"], "the repeat names the stored one");
    let listed = c.callbacks(&format!("?q={ext}")).await.items;
    assert_eq!(listed.len(), 1, "stored once: {listed:?}");

    // The same body for another type, or from another client, is a different callback.
    c.post_callback(
        "/clients/idm/rest/callback/ping",
        Some(c.idm_auth()),
        "application/json",
        body.clone(),
    )
    .await
    .expect(200);
    c.post_callback(
        "/clients/da/rest/callback/sign",
        Some((DA_CALLBACK_USER, &c.secrets.da_password)),
        "application/json",
        body.clone(),
    )
    .await
    .expect(200);
    assert_eq!(c.callbacks(&format!("?q={ext}")).await.items.len(), 3);
}

#[tokio::test]
async fn unknown_types_and_bodies_that_are_not_json_are_stored_as_received() {
    let c = Console::demo().start().await;
    let tag = unique("odd-");
    let odd_type =
        serde_json::json!({"commandId": "616161", "state": "DONE", "note": tag}).to_string();
    let r = c
        .post_callback(
            "/clients/idm/rest/callback/frobnicate",
            Some(c.idm_auth()),
            "application/json",
            odd_type.clone(),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["status"], "stored");
    let not_json = format!("<result>{tag} is not JSON</result>\r\n\t\u{e9}");
    c.post_callback(
        "/rest/callback/sign",
        Some(c.idm_auth()),
        "text/xml",
        not_json.clone(),
    )
    .await
    .expect(200);
    let empty_tag = unique("empty-");
    // An empty body with an unknown type: stored too (found by its type).
    c.post_callback(
        &format!(
            "/clients/idm/rest/callback/{}",
            empty_tag.replace(|ch: char| !ch.is_ascii_lowercase(), "")
        ),
        Some(c.idm_auth()),
        "application/json",
        Vec::new(),
    )
    .await
    .expect(200);

    let items = c.callbacks("").await.items;
    let frob = items
        .iter()
        .find(|i| i.callback_type == "frobnicate")
        .expect("the unknown type is stored");
    assert_eq!(frob.body, odd_type, "kept exactly as received");
    assert_eq!(
        frob.command_id.as_deref(),
        Some("616161"),
        "known fields are extracted"
    );
    assert_eq!(
        frob.state.as_deref(),
        Some("DONE"),
        "unknown states are kept"
    );
    let xml = items
        .iter()
        .find(|i| i.body.contains(&tag) && i.callback_type == "sign")
        .expect("the non-JSON body is stored");
    assert_eq!(xml.body, not_json, "kept exactly as received");
    assert_eq!(xml.command_id, None);
    assert_eq!(items.len(), 3, "{items:?}");
    // The type filter finds the odd one.
    let only = c.callbacks("?type=frobnicate").await.items;
    assert_eq!(only.len(), 1);
}

#[tokio::test]
async fn a_callback_that_beats_the_create_answer_is_matched_when_the_answer_arrives() {
    // Hermod accepts `slow-` commands at once but answers after 1.5 s; the command completes (and its
    // callback is posted) after 200 ms: the callback arrives first.
    let c = Console::demo()
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "1500")
        .start()
        .await;
    let mut feed = c.subscribe().await;
    let ext = unique("slow-early-");
    let query = format!("?q={ext}");

    let send = c.send("sign", sign_body(&ext, 30));
    let watch = async {
        let early = wait_until("the early callback", WAIT, || async {
            c.callbacks(&query).await.items.into_iter().next()
        })
        .await;
        // At this point the console is still waiting for Hermod's answer.
        let pending = c.commands(&query).await.items;
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(
            pending[0].state,
            CommandState::Sending,
            "the answer is not in yet"
        );
        assert_eq!(pending[0].command_id, None);
        assert_eq!(early.command, None, "nothing to match yet");
        early
    };
    let (record, early) = tokio::join!(send, watch);

    assert_eq!(record.command_id, early.command_id, "the same command");
    assert_eq!(
        record.state,
        CommandState::Completed,
        "the early callback's state is applied once the answer is stored"
    );
    let now = c.callbacks(&query).await.items;
    assert_eq!(now.len(), 1, "still one callback: {now:?}");
    assert_eq!(now[0].id, early.id);
    assert_eq!(now[0].command, Some(record.id), "matched to the command");
    assert!(c.callbacks("?unmatched=true").await.items.is_empty());
    assert_eq!(
        c.detail(record.id).await.command.state,
        CommandState::Completed
    );

    // The feed told it: the callback unmatched, then again matched, and the command completed.
    let events = feed
        .feed_until(WAIT, |e| {
            matches!(e, FeedEvent::Command { command, .. }
                if command.id == record.id && command.state == CommandState::Completed)
        })
        .await;
    let callback_matches: Vec<Option<i64>> = events
        .iter()
        .filter_map(|e| match e.feed() {
            FeedEvent::Callback { callback, .. } if callback.id == early.id => {
                Some(callback.command)
            }
            _ => None,
        })
        .collect();
    assert_eq!(callback_matches, [None, Some(record.id)]);
    // Nothing further arrives for it (exactly one callback per command).
    match feed.next(Duration::from_millis(500)).await {
        Next::Timeout => {}
        Next::Event(e) if e.is_heartbeat() => {}
        other => panic!("unexpected after the match: {other:?}"),
    }
}

#[tokio::test]
async fn a_callback_the_store_cannot_take_gets_503_and_is_taken_on_the_retry() {
    let c = Console::demo().start().await;
    let record = c.send("sign", sign_body(&unique("hold-"), 300)).await;
    let body = serde_json::json!({
        "commandId": record.command_id,
        "state": "COMPLETED",
        "externalId": record.external_id,
    })
    .to_string();
    let deliver = || {
        c.post_callback(
            "/rest/callback/sign",
            Some(c.idm_auth()),
            "application/json",
            body.clone(),
        )
    };

    // Another program holds the database's write lock: no 2xx, so Hermod keeps the callback.
    let lock = c.hold_write_lock();
    deliver()
        .await
        .expect_problem(503, Some("store_unavailable"), None);
    drop(lock);
    assert!(
        c.callbacks(&format!("?command={}", record.id))
            .await
            .items
            .is_empty()
    );

    // Hermod's retry is taken, once; the console was never down.
    deliver().await.expect(200);
    deliver().await.expect(200);
    let stored = c.wait_for_callbacks(record.id, 1).await;
    assert_eq!(stored.len(), 1);
    c.wait_for_state(record.id, "COMPLETED").await;
    c.assert_healthy().await;
}

#[tokio::test]
async fn no_callback_is_lost_to_a_guess_about_its_path() {
    let c = Console::demo().start().await;
    // A command the simulator holds open, so the only callback for it is the one posted here.
    let sent = c.send("ping", ping_body(&unique("hold-path-"), 60)).await;
    let command_id = sent.command_id.clone().expect("a commandId");
    let body = |tag: &str| callback_body(&command_id, tag, "COMPLETED");

    // `…/callback/<type>` in any case, wherever it ends, is a callback of that type.
    for (path, kind) in [
        ("/clients/idm/rest/rest/callback/sign", "sign"),
        ("/clients/idm/rest/callback/SIGN", "sign"),
        ("/rest/callback/Ping", "ping"),
    ] {
        let r = c
            .post_callback(path, Some(c.idm_auth()), "application/json", body(path))
            .await
            .expect(200);
        let id = r.json()["id"].as_i64().expect("the stored id");
        let listed = c.callbacks("?limit=500").await.items;
        let stored = listed.iter().find(|k| k.id == id).expect("listed");
        assert_eq!(
            (stored.callback_type.as_str(), stored.path.as_deref()),
            (kind, Some(path))
        );
    }
    // Anywhere else under a client's URL, or under /rest/ with a client's credential: kept as
    // misrouted, with the path it came to, matched to its command all the same.
    let misrouted = [
        "/clients/idm/rest",
        "/clients/idm/hooks/hermod",
        "/rest/notify",
        "/clients/nobody/rest/callback/sign",
    ];
    for path in misrouted {
        c.post_callback(path, Some(c.idm_auth()), "application/json", body(path))
            .await
            .expect(200);
    }
    let kept = c.callbacks("?type=misrouted").await.items;
    let mut paths: Vec<_> = kept
        .iter()
        .map(|k| k.path.clone().unwrap_or_default())
        .collect();
    paths.sort();
    let mut expected = misrouted.map(String::from).to_vec();
    expected.sort();
    assert_eq!(paths, expected);
    assert!(
        kept.iter()
            .all(|k| k.command == Some(sent.id) && k.client.as_deref() == Some("idm"))
    );
    c.wait_for_state(sent.id, "COMPLETED").await;
    c.assert_metric("hermod_console_callbacks_misrouted_total 4")
        .await;
    // Without a credential that names a client, a path naming none is still refused.
    c.post_callback("/clients/nobody/rest", None, "application/json", body("x"))
        .await
        .expect_problem(404, Some("not_found"), None);
    c.post_callback(
        "/rest/notify",
        Some(("idm-callback", "wrong")),
        "application/json",
        body("y"),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn a_callback_decides_its_command_even_without_a_state_and_a_poll_cannot_undo_it() {
    let c = Console::demo().start().await;
    let state_of = |id: i64| {
        let c = &c;
        async move { c.detail(id).await.command.state }
    };
    // No state in the callback: the command has ended all the same, its countdown too.
    let held = c
        .send("ping", ping_body(&unique("hold-nostate-"), 60))
        .await;
    assert!(held.expires_at.is_some());
    let body =
        serde_json::json!({"commandId": held.command_id, "result": {"ok": true}}).to_string();
    c.post_callback(
        "/clients/idm/rest/callback/ping",
        Some(c.idm_auth()),
        "application/json",
        body,
    )
    .await
    .expect(200);
    let decided = c.wait_for_state(held.id, "CALLBACK_RECEIVED").await;
    assert_eq!(decided.expires_at, None, "no countdown after the callback");
    // Hermod's poll still says IN_PROGRESS (the simulator holds the command): it is kept, not applied.
    let poll = c
        .post_json(
            &format!("/api/commands/{}/poll", held.id),
            &serde_json::Value::Null,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(poll["command"]["state"], "CALLBACK_RECEIVED", "{poll}");
    assert_eq!(state_of(held.id).await.as_str(), "CALLBACK_RECEIVED");

    // A state the console does not know, from a callback: shown as sent, the countdown ended, and a
    // poll cannot move it either.
    let odd = c.send("ping", ping_body(&unique("hold-odd-"), 60)).await;
    let body = callback_body(
        odd.command_id.as_deref().expect("an id"),
        "x",
        "DELIVERED_TO_VAULT",
    );
    c.post_callback(
        "/clients/idm/rest/callback/ping",
        Some(c.idm_auth()),
        "application/json",
        body,
    )
    .await
    .expect(200);
    let shown = c.wait_for_state(odd.id, "DELIVERED_TO_VAULT").await;
    assert_eq!(shown.expires_at, None);
    c.post_json(
        &format!("/api/commands/{}/poll", odd.id),
        &serde_json::Value::Null,
    )
    .await
    .expect(200);
    assert_eq!(state_of(odd.id).await.as_str(), "DELIVERED_TO_VAULT");
}

#[tokio::test]
async fn lists_and_the_feed_carry_summaries_of_the_configured_size_whole_bodies_by_id() {
    // 4 KiB instead of the default 16 KiB: lists, the live feed and its replay all follow it.
    let c = Console::demo()
        .env("HERMOD_CONSOLE__LIMITS__SUMMARY_BODY_BYTES", "4096")
        .start()
        .await;
    let mut feed = c.subscribe().await;
    let tag = unique("big-");
    let body =
        serde_json::json!({"commandId": "77", "note": tag, "blob": "é".repeat(60_000)}).to_string();
    c.post_callback(
        "/clients/idm/rest/callback/sign",
        Some(c.idm_auth()),
        "application/json",
        body.clone(),
    )
    .await
    .expect(200);
    let is_summary = |k: &hermod_shared::console::CallbackRecord| {
        // Cut at a character boundary: "é" is two bytes.
        k.body_truncated && (4095..=4096).contains(&k.body.len()) && body.starts_with(&k.body)
    };
    // The live event.
    let event = loop {
        match feed.next(WAIT).await {
            Next::Event(e) if e.event == "callback" => break e.feed(),
            Next::Event(_) => continue,
            other => panic!("no callback event: {other:?}"),
        }
    };
    let FeedEvent::Callback { callback: live, .. } = event else {
        unreachable!()
    };
    assert!(is_summary(&live), "{} bytes", live.body.len());
    // The list, and a replay.
    let listed = c.callbacks("?limit=5").await.items;
    assert!(is_summary(
        listed.iter().find(|k| k.id == live.id).expect("listed")
    ));
    let mut replay = c.events(None, Some(0)).await;
    let replayed = loop {
        match replay.next(WAIT).await {
            Next::Event(e) if e.event == "callback" => break e.feed(),
            Next::Event(_) => continue,
            other => panic!("no replayed callback: {other:?}"),
        }
    };
    let FeedEvent::Callback {
        callback: replayed, ..
    } = replayed
    else {
        unreachable!()
    };
    assert!(is_summary(&replayed));
    // The whole body, by id.
    let whole: hermod_shared::console::CallbackRecord = c
        .get(&format!("/api/callbacks/{}", live.id))
        .await
        .expect(200)
        .parse();
    assert_eq!(whole.body, body);
    assert!(!whole.body_truncated);
    c.get("/api/callbacks/999999")
        .await
        .expect_problem(404, Some("not_found"), None);
    // Over the default 1 MiB a callback is refused, not cut.
    c.post_callback(
        "/clients/idm/rest/callback/sign",
        Some(c.idm_auth()),
        "application/json",
        vec![b' '; (1 << 20) + 1],
    )
    .await
    .expect(413);
}
