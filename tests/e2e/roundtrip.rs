//! A command's whole way: console → Hermod (with the client's key) → callback → store → live feed.

use hermod_console_tests::*;
use hermod_shared::console::{AuditRecord, CommandState, FeedEvent, ListPage, TimelineEntry};
use serde_json::Value;
use std::time::Duration;

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test]
async fn a_sign_command_reaches_hermod_with_the_clients_key_and_its_callback_reaches_the_feed() {
    let c = Console::demo().start().await;
    // Opened before the send, live only (no `after`, no replay): it must see everything that follows.
    let mut feed = c.events(None, None).await;

    let ext = unique("order-");
    let sent = c.send("sign", sign_body(&ext, 30)).await;
    assert_eq!(sent.client, "idm");
    assert_eq!(sent.command_type, "sign");
    assert_eq!(sent.external_id.as_deref(), Some(ext.as_str()));
    let command_id = sent
        .command_id
        .clone()
        .expect("Hermod's commandId in the 201 record");
    assert!(
        !command_id.is_empty() && command_id.bytes().all(|b| b.is_ascii_digit()),
        "commandId {command_id:?}"
    );
    // One destination (`@tmp`, as asked) with the plugout link and location of docs/hermod.md
    // §2.3.
    let [dest] = sent.destinations.as_slice() else {
        panic!("one destination: {:?}", sent.destinations)
    };
    assert_eq!(dest.to.as_deref(), Some("@tmp"));
    let (bid, mid) = (
        dest.bid.clone().expect("bid"),
        dest.mid.clone().expect("mid"),
    );
    for id in [&bid, &mid] {
        assert!(is_uuid(id), "a UUID: {id}");
    }
    assert_ne!(bid, mid);
    let public = format!("{}/hermod/rest/ms", c.sim());
    assert_eq!(
        dest.location.as_deref(),
        Some(format!("{public}/{bid}/{mid}").as_str())
    );
    let uri = dest.uri.as_deref().expect("uri");
    let (url, token) = uri
        .strip_prefix("com.nexusgroup.plugout:///?url=")
        .and_then(|rest| rest.split_once("&token="))
        .unwrap_or_else(|| panic!("a plugout link: {uri}"));
    assert_eq!(
        url,
        format!("{public}/{bid}")
            .replace(':', "%3A")
            .replace('/', "%2F"),
        "the mailbox URL, percent-encoded"
    );
    assert!(is_uuid(token), "a UUID token: {token}");
    let answer = sent.answer.clone().expect("Hermod's answer in the record");
    assert_eq!(answer.status, Some(200));
    assert_eq!(
        sent.request,
        sign_body(&ext, 30),
        "the request is kept as sent"
    );

    // The simulator received it as client `idm`, i.e. with idm's X-Api-Key.
    let at_sim = c
        .sim_get(&format!("/sim/commands/{command_id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(at_sim["client"], "idm", "{at_sim}");
    assert_eq!(
        at_sim["request"]["commandHeader"]["externalId"],
        Value::from(ext.clone())
    );

    // And the simulator does check keys: a wrong or missing one is refused, idm's own accepted.
    let url = format!("{}/hermod/rest/command/ping", c.sim());
    let direct = |key: Option<String>| {
        let mut r = c
            .http
            .post(&url)
            .json(&ping_body(&unique("hold-direct-"), 60));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        c.read(r)
    };
    direct(Some(b64("idm:not-the-key"))).await.expect(401);
    direct(Some(b64(format!("da:{}", c.secrets.idm_key))))
        .await
        .expect(401);
    direct(None).await.expect(401);
    direct(Some(c.secrets.idm_api_key_header()))
        .await
        .expect(200);

    // It completes, with its callback stored and matched.
    let done = c.wait_for_state(sent.id, "COMPLETED").await;
    assert_eq!(done.command_id.as_deref(), Some(command_id.as_str()));
    let callbacks = c.wait_for_callbacks(sent.id, 1).await;
    assert_eq!(callbacks.len(), 1, "exactly one callback: {callbacks:?}");
    let cb = &callbacks[0];
    assert_eq!(cb.command, Some(sent.id));
    assert_eq!(cb.command_id.as_deref(), Some(command_id.as_str()));
    assert_eq!(cb.client.as_deref(), Some("idm"));
    assert_eq!(cb.callback_type, "sign");
    assert_eq!(cb.state.as_deref(), Some("COMPLETED"));
    assert_eq!(cb.external_id.as_deref(), Some(ext.as_str()));
    assert!(cb.auth.contains("basic ok"), "auth verdict {:?}", cb.auth);
    let body: Value = serde_json::from_str(&cb.body).expect("the simulator's callback is JSON");
    assert!(
        body["response"].as_str().is_some_and(|s| !s.is_empty()),
        "a signature in the callback: {body}"
    );

    // The detail shows the whole timeline.
    let detail = c.detail(sent.id).await;
    let kinds: Vec<&str> = detail
        .timeline
        .iter()
        .map(|t| match t {
            TimelineEntry::Sent { .. } => "sent",
            TimelineEntry::Answer { .. } => "answer",
            TimelineEntry::Callback { .. } => "callback",
            TimelineEntry::Poll { .. } => "poll",
        })
        .collect();
    assert_eq!(kinds, ["sent", "answer", "callback"]);

    // The subscriber saw it all, in order: recorded (SENDING), answered, the callback, completed.
    let events = feed
        .feed_until(WAIT, |e| {
            matches!(e, FeedEvent::Callback { callback, .. } if callback.command == Some(sent.id))
        })
        .await;
    let seqs: Vec<i64> = events.iter().map(SseEvent::seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "increasing ids: {seqs:?}"
    );
    let states: Vec<CommandState> = events
        .iter()
        .filter_map(|e| match e.feed() {
            FeedEvent::Command { command, .. } if command.id == sent.id => Some(command.state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states.first(),
        Some(&CommandState::Sending),
        "the command is recorded before it is sent: {states:?}"
    );
    assert!(states.contains(&CommandState::InProgress), "{states:?}");
    let last = events.last().expect("events").feed();
    let FeedEvent::Callback { callback, .. } = last else {
        unreachable!()
    };
    assert_eq!(callback.id, cb.id);
    feed.feed_until(WAIT, |e| {
        matches!(e, FeedEvent::Command { command, .. }
            if command.id == sent.id && command.state == CommandState::Completed)
    })
    .await;

    // The simulator got a 2xx for its callback.
    wait_until("the simulator's callback status", WAIT, || async {
        let s = c
            .sim_get(&format!("/sim/commands/{command_id}"))
            .await
            .json();
        (s["callbackStatus"] == "200").then_some(())
    })
    .await;
    c.assert_healthy().await;
}

#[tokio::test]
async fn every_command_type_is_sent_and_completes() {
    let c = Console::demo().start().await;
    let mut ids = Vec::new();
    for ty in TYPES {
        let r = c.send(ty, body_for(ty, &unique("all-"), 30)).await;
        assert_eq!(r.command_type, ty);
        ids.push((ty, r.id));
    }
    for (ty, id) in ids {
        let done = c.wait_for_state(id, "COMPLETED").await;
        assert_eq!(done.command_type, ty);
        let cbs = c.wait_for_callbacks(id, 1).await;
        assert_eq!(cbs[0].callback_type, ty);
    }
}

#[tokio::test]
async fn steered_outcomes_reach_the_record_and_a_poll_reads_hermods_state() {
    let c = Console::demo().start().await;
    let rejected = c.send("sign", sign_body(&unique("reject-"), 30)).await;
    let failed = c.send("ping", ping_body(&unique("fail-"), 30)).await;
    let expired = c.send("ping", ping_body(&unique("expire-"), 1)).await;
    let held = c.send("sign", sign_body(&unique("hold-"), 30)).await;

    c.wait_for_state(rejected.id, "REJECTED").await;
    c.wait_for_state(failed.id, "FAILED").await;
    c.wait_for_state(expired.id, "EXPIRED").await;

    // A held command stays IN_PROGRESS; a poll shows Hermod's view and is kept in the timeline.
    let poll = c
        .post_json(&format!("/api/commands/{}/poll", held.id), &Value::Null)
        .await
        .expect(200)
        .json();
    assert_eq!(poll["poll"]["reply"]["status"], 200, "{poll}");
    assert_eq!(poll["command"]["state"], "IN_PROGRESS", "{poll}");
    let hermod_id = held.command_id.clone().expect("commandId");
    c.sim_post(&format!("/sim/commands/{hermod_id}/complete"))
        .await
        .expect(200);
    c.wait_for_state(held.id, "COMPLETED").await;
    let poll = c
        .post_json(&format!("/api/commands/{}/poll", held.id), &Value::Null)
        .await
        .expect(200)
        .json();
    assert_eq!(poll["command"]["state"], "COMPLETED", "{poll}");
    let detail = c.detail(held.id).await;
    assert_eq!(
        detail
            .timeline
            .iter()
            .filter(|t| matches!(t, TimelineEntry::Poll { .. }))
            .count(),
        2
    );

    // The control endpoint decides held commands each way, once; each decision makes one callback.
    for (action, state) in [
        ("reject", "REJECTED"),
        ("fail", "FAILED"),
        ("expire", "EXPIRED"),
    ] {
        let held = c.send("ping", ping_body(&unique("hold-"), 60)).await;
        let hermod_id = held.command_id.clone().expect("commandId");
        let decided = c
            .sim_post(&format!("/sim/commands/{hermod_id}/{action}"))
            .await
            .expect(200)
            .json();
        assert_eq!(decided["state"], state, "{decided}");
        c.wait_for_state(held.id, state).await;
        let callbacks = c.wait_for_callbacks(held.id, 1).await;
        assert_eq!(callbacks[0].state.as_deref(), Some(state));
        c.sim_post(&format!("/sim/commands/{hermod_id}/complete"))
            .await
            .expect(409);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(c.wait_for_callbacks(held.id, 1).await.len(), 1);
    }
    c.sim_post("/sim/commands/999999999999/complete")
        .await
        .expect(404);
    c.sim_post(&format!(
        "/sim/commands/{}/explode",
        held.command_id.as_deref().unwrap_or_default()
    ))
    .await
    .expect(404);
}

#[tokio::test]
async fn a_command_whose_callback_never_comes_is_polled_after_its_expiry() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__FOLLOW_UP__AFTER_EXPIRY_SECS", "1")
        .env("HERMOD_CONSOLE__FOLLOW_UP__EVERY_SECS", "1")
        .start()
        .await;
    // The simulator completes the command but its callback is lost; the command expires at 1 s.
    let sent = c.send("ping", ping_body(&unique("silent-"), 1)).await;
    let done = c.wait_for_state(sent.id, "COMPLETED").await;
    assert_eq!(done.expires_at, None);
    assert!(
        c.callbacks(&format!("?command={}", sent.id))
            .await
            .items
            .is_empty()
    );
    // The poll that found it is in the timeline and the audit log, as the console's own.
    let detail = c.detail(sent.id).await;
    assert!(
        detail
            .timeline
            .iter()
            .any(|e| matches!(e, TimelineEntry::Poll { .. })),
        "{:?}",
        detail.timeline
    );
    let audit: ListPage<AuditRecord> = c
        .get("/api/audit?type=poll&limit=10")
        .await
        .expect(200)
        .parse();
    assert!(
        audit
            .items
            .iter()
            .any(|a| a.actor == "follow-up" && a.target.as_deref() == Some(&sent.id.to_string())),
        "{:?}",
        audit.items
    );
    // A command that got its callback is not polled.
    let answered = c.send("ping", ping_body(&unique("expire-"), 1)).await;
    c.wait_for_state(answered.id, "EXPIRED").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let timeline = c.detail(answered.id).await.timeline;
    assert!(
        !timeline
            .iter()
            .any(|e| matches!(e, TimelineEntry::Poll { .. })),
        "{timeline:?}"
    );
}
