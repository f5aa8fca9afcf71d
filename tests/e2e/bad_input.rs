//! Every bad input gets a clear answer (invariant 6, docs/ARCHITECTURE.md's table): the status, a
//! JSON problem body naming the field where there is one, nothing half-written, and no panic (the
//! process still answers afterwards). Also Hermod's own failures: refused, unreachable, broken, too
//! slow.

use hermod_console_tests::*;
use hermod_shared::console::{CommandState, FeedEvent};
use serde_json::{Value, json};

/// Nothing was stored: no command, no callback, no feed event.
async fn assert_nothing_stored(c: &Console) {
    let commands = c.commands("").await;
    assert!(commands.items.is_empty(), "{:?}", commands.items);
    assert_eq!(commands.feed_seq, 0, "no feed event");
    assert!(c.callbacks("").await.items.is_empty());
}

#[tokio::test]
async fn bad_command_requests_get_400_415_or_422_naming_the_field() {
    let c = Console::demo().start().await;
    let good = || json!({"client": "idm", "type": "sign", "body": sign_body("bad-input", 30)});

    // Not JSON at all.
    for raw in ["{\"client\": \"idm\",", "", "client=idm&type=sign", "[1, 2"] {
        c.post_raw("/api/commands", Some("application/json"), raw.into())
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
        c.post_raw("/api/commands", ct, text.clone().into_bytes())
            .await
            .expect_problem(415, None, None);
    }
    // `application/…+json` and parameters are JSON too.
    c.post_raw(
        "/api/commands",
        Some("application/json; charset=utf-8"),
        b"{".to_vec(),
    )
    .await
    .expect_problem(400, Some("invalid_json"), None);

    // Wrong types, named by a pointer into the request.
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut v = good();
    v["body"]["commandHeader"]["timeout"] = json!("soon");
    cases.push((v, "/body/commandHeader/timeout"));
    let mut v = good();
    v["body"]["commandHeader"]["to"] = json!("@tmp");
    cases.push((v, "/body/commandHeader/to"));
    // Durations near the integer limit would overflow the times computed from them.
    for (field, seconds) in [("timeout", i64::MAX as u64), ("lifespan", u64::MAX)] {
        let mut v = good();
        v["body"]["commandHeader"][field] = json!(seconds);
        cases.push((v, ["/body/commandHeader/", field].concat().leak()));
    }
    let mut v = good();
    v["body"]["signCommand"]["params"]["tbs"][0]["visible"] = json!("yes");
    cases.push((v, "/body/signCommand/params/tbs/0/visible"));
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
        let r = c.post_json("/api/commands", &request).await;
        let p = r.expect_problem(422, None, Some(field));
        assert!(p.record.is_none(), "nothing recorded for {request}");
    }
    // A body that is not an object at all.
    c.post_json("/api/commands", &json!([good()]))
        .await
        .expect_problem(422, None, None);
    c.post_json("/api/commands", &json!("sign"))
        .await
        .expect_problem(422, None, None);

    assert_nothing_stored(&c).await;
    c.assert_healthy().await;
    // And a good one still goes through.
    c.send("sign", sign_body(&unique("after-bad-"), 30)).await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let c = Console::demo().start().await;
    let huge = |n: usize| {
        let mut v = json!({"client": "idm", "type": "sign", "body": sign_body("huge", 30)});
        v["body"]["padding"] = json!("x".repeat(n));
        v.to_string().into_bytes()
    };
    let ten_mb = 10 << 20;
    c.post_raw("/api/commands", Some("application/json"), huge(ten_mb))
        .await
        .expect_problem(413, None, None);
    // Also to the receiver, with the right credential (and without one: refused before it is read).
    let (user, password) = c.idm_auth();
    let callback = vec![b'x'; ten_mb];
    c.post_callback(
        "/clients/idm/rest/callback/sign",
        Some((user, password)),
        "application/json",
        callback.clone(),
    )
    .await
    .expect_problem(413, None, None);
    c.post_callback(
        "/rest/callback/sign",
        Some((user, password)),
        "application/octet-stream",
        callback.clone(),
    )
    .await
    .expect_problem(413, None, None);
    c.post_callback(
        "/clients/idm/rest/callback/sign",
        None,
        "application/json",
        callback,
    )
    .await
    .expect_problem(401, None, None);
    assert_nothing_stored(&c).await;
    c.assert_healthy().await;
}

#[tokio::test]
async fn bad_query_parameters_unknown_ids_and_paths() {
    let c = Console::demo().start().await;
    let cases: [(&str, &str); 14] = [
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
        let path = path.as_str();
        let r = c.get(path).await;
        let p = r.expect_problem(422, None, None);
        let named = p.field.as_deref().unwrap_or_default();
        assert!(
            named.trim_start_matches('/') == field,
            "{path}: field {named:?}, expected {field}"
        );
    }
    // A bad Last-Event-ID header, too.
    let r = c
        .read(
            c.http
                .get(format!("{}/api/events", c.url))
                .header("last-event-id", "yesterday"),
        )
        .await;
    r.expect_problem(422, None, None);
    // A query string that does not parse at all.
    let r = c.get("/api/commands?limit=1&limit=2").await;
    assert!(matches!(r.status.as_u16(), 400 | 422), "{r:?}");
    r.problem();

    // Good filters work.
    c.get("/api/commands?since=2026-01-31T12:00:00Z&limit=5&type=sign&state=completed&q=x")
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
        c.get(path).await.expect_problem(404, None, None);
    }
    for path in [
        "/api/commands/999999/poll",
        "/api/commands/abc/poll",
        "/api/nope",
    ] {
        c.post_json(path, &Value::Null)
            .await
            .expect_problem(404, None, None);
    }
    // The receiver: a path naming no client, without a credential naming one. (Any other POST
    // there is kept: receiver.rs, `no_callback_is_lost_to_a_guess_about_its_path`.)
    c.post_callback(
        "/clients/nobody/rest/callback/sign",
        None,
        "application/json",
        "{}",
    )
    .await
    .expect_problem(404, None, None);
    assert_nothing_stored(&c).await;
    c.assert_healthy().await;
}

#[tokio::test]
async fn hermod_refusing_or_unreachable_is_502_with_the_kept_record() {
    let closed = free_port();
    let c = Console::demo()
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__COMMAND_URL",
            format!("http://127.0.0.1:{closed}/hermod/rest/command"),
        )
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__KEY",
            unique("SeCrEtDownKey"),
        )
        .start()
        .await;

    // Unreachable: nothing was created.
    let r = c
        .send_as("down", "ping", ping_body(&unique("down-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_unreachable"), None);
    let record = p.record.expect("the kept record");
    assert_eq!(record.state, CommandState::SendFailed);
    assert_eq!(record.client, "down");
    assert_eq!(
        c.detail(record.id).await.command.state,
        CommandState::SendFailed
    );

    // Hermod answers 500: it may have created the command before it failed.
    let r = c
        .send_as("idm", "sign", sign_body(&unique("crash-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_server_error"), None);
    assert_eq!(p.hermod_status, Some(500), "{}", r.text);
    assert!(
        p.hermod_body
            .as_deref()
            .unwrap_or_default()
            .contains("simulated internal error"),
        "Hermod's body is passed on: {}",
        r.text
    );
    let crashed = p.record.expect("the kept record");
    assert_eq!(crashed.state, CommandState::SendUnknown);

    // Hermod answers 200 with an HTML page: no commandId, so the outcome is unknown.
    let r = c
        .send_as("idm", "sign", sign_body(&unique("garbage-"), 30))
        .await;
    let p = r.expect_problem(502, None, None);
    assert!(
        p.hermod_body
            .as_deref()
            .unwrap_or_default()
            .contains("<html>"),
        "{}",
        r.text
    );
    let garbage = p.record.expect("the kept record");
    assert!(
        matches!(
            garbage.state,
            CommandState::SendUnknown | CommandState::SendFailed
        ),
        "{:?}",
        garbage.state
    );

    // Hermod refuses the request itself (400 naming its field): 502 with its status and body.
    let mut body = sign_body(&unique("refused-"), 30);
    body["signCommand"]["params"]["tbs"] = json!([]);
    let r = c.send_as("idm", "sign", body).await;
    let p = r.expect_problem(502, Some("hermod_refused"), None);
    assert_eq!(p.hermod_status, Some(400));
    assert!(
        p.hermod_body.unwrap_or_default().contains("tbs"),
        "{}",
        r.text
    );

    // Every one of them is listed, with its answer kept.
    let listed = c.commands("").await.items;
    assert_eq!(listed.len(), 4, "{listed:?}");
    let crashed_detail = c.detail(crashed.id).await.command;
    assert_eq!(
        crashed_detail.answer.and_then(|a| a.status),
        Some(500),
        "Hermod's answer is kept"
    );
    // Nothing to poll for a command Hermod never created.
    c.post_json(&format!("/api/commands/{}/poll", record.id), &Value::Null)
        .await
        .expect_problem(409, None, None);
    c.assert_healthy().await;
}

#[tokio::test]
async fn hermod_not_answering_in_time_is_504_send_unknown_and_its_callback_is_matched_later() {
    // Hermod takes 4 s to answer; the console gives it 1 s; the command completes after 2 s.
    let c = Console::demo()
        .env("HERMOD_CONSOLE__CLIENTS__IDM__REQUEST_TIMEOUT_SECS", "1")
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "4000")
        .env("HERMOD_SIMULATOR__COMPLETE_AFTER_MS", "2000")
        .start()
        .await;
    let mut feed = c.subscribe().await;
    let ext = unique("slow-timeout-");
    let query = format!("?q={ext}");

    let send = c.send_as("idm", "ping", ping_body(&ext, 30));
    let watch = async {
        // Recorded before it is sent: listed as SENDING while the console waits for Hermod.
        wait_until("the command to be listed as SENDING", WAIT, || async {
            let items = c.commands(&query).await.items;
            items
                .first()
                .filter(|r| r.state == CommandState::Sending)
                .cloned()
        })
        .await
    };
    let (r, sending) = tokio::join!(send, watch);
    let p = r.expect_problem(504, Some("hermod_timeout"), None);
    let record = p.record.expect("the kept record");
    assert_eq!(record.id, sending.id);
    assert_eq!(record.state, CommandState::SendUnknown);
    assert_eq!(record.command_id, None);
    assert_eq!(
        c.detail(record.id).await.command.state,
        CommandState::SendUnknown
    );

    // Hermod did create it: its callback arrives later and is matched by externalId.
    let callbacks = c.wait_for_callbacks(record.id, 1).await;
    assert_eq!(callbacks[0].command, Some(record.id));
    let done = c.wait_for_state(record.id, "COMPLETED").await;
    assert_eq!(
        done.command_id, callbacks[0].command_id,
        "the commandId is learnt"
    );

    // On the feed: SENDING first, then SEND_UNKNOWN, then COMPLETED.
    let events = feed
        .feed_until(WAIT, |e| {
            matches!(e, FeedEvent::Command { command, .. }
                if command.id == record.id && command.state == CommandState::Completed)
        })
        .await;
    let states: Vec<CommandState> = events
        .iter()
        .filter_map(|e| match e.feed() {
            FeedEvent::Command { command, .. } if command.id == record.id => Some(command.state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            CommandState::Sending,
            CommandState::SendUnknown,
            CommandState::Completed
        ]
    );
    c.assert_healthy().await;
}

#[tokio::test]
async fn a_callback_that_comes_while_the_send_is_still_waiting_is_matched_when_it_ends_unknown() {
    // Hermod takes 4 s to answer; the console gives it 1 s; the command completes after 200 ms, so
    // its callback arrives while the console still waits (no commandId known yet), and the send then
    // ends SEND_UNKNOWN. The callback names the externalId: it must not stay unmatched.
    let c = Console::demo()
        .env("HERMOD_CONSOLE__CLIENTS__IDM__REQUEST_TIMEOUT_SECS", "1")
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "4000")
        .start()
        .await;
    let ext = unique("slow-race-");
    let query = format!("?q={ext}");
    let send = c.send_as("idm", "ping", ping_body(&ext, 30));
    let watch = async {
        wait_until("the early callback", WAIT, || async {
            c.callbacks(&query).await.items.into_iter().next()
        })
        .await
    };
    let (r, early) = tokio::join!(send, watch);
    let record = r
        .expect_problem(504, Some("hermod_timeout"), None)
        .record
        .expect("record");
    assert_eq!(
        early.command, None,
        "it came before anything could match it"
    );
    let callbacks = c.wait_for_callbacks(record.id, 1).await;
    assert_eq!(callbacks[0].id, early.id);
    let done = c.wait_for_state(record.id, "COMPLETED").await;
    assert_eq!(
        done.command_id, early.command_id,
        "the commandId is learnt from it"
    );
    assert!(c.callbacks("?unmatched=true").await.items.is_empty());
}

#[tokio::test]
async fn a_create_answer_is_read_tolerantly_and_a_gateway_error_leaves_the_outcome_open() {
    let c = Console::demo().start().await;

    // The commandId as a JSON number: still created, with its destinations, then completed.
    let sent = c.send("sign", sign_body(&unique("numericid-"), 30)).await;
    assert_eq!(sent.state, CommandState::InProgress);
    let id = sent.command_id.clone().expect("the commandId, as text");
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    assert!(!sent.destinations.is_empty(), "the destinations are kept");
    c.wait_for_state(sent.id, "COMPLETED").await;

    // A 502 from a proxy in front, after Hermod created the command: unknown, not failed, and the
    // callback that follows is matched by externalId.
    let r = c
        .send_as("idm", "sign", sign_body(&unique("gateway-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_server_error"), None);
    assert_eq!(p.hermod_status, Some(502));
    assert!(
        p.hermod_body
            .as_deref()
            .unwrap_or_default()
            .contains("Bad Gateway"),
        "the proxy's page is kept: {}",
        r.text
    );
    let record = p.record.expect("the kept record");
    assert_eq!(record.state, CommandState::SendUnknown);
    let callbacks = c.wait_for_callbacks(record.id, 1).await;
    assert_eq!(callbacks[0].command, Some(record.id));
    c.wait_for_state(record.id, "COMPLETED").await;
}
