//! Hermod's own failures get a clear answer (invariant 6, docs/ARCHITECTURE.md's table) and lose
//! nothing: refused, unreachable, broken, too slow. (The console's own bad input is checked
//! in-process: backend/tests/in_process/bad_input.rs.)

use hermod_console_tests::*;
use hermod_shared::console::{CommandState, FeedEvent};
use serde_json::{Value, json};

#[tokio::test]
async fn hermod_refusing_or_unreachable_is_502_with_the_kept_record() {
    let c = Console::demo()
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__COMMAND_URL",
            CLOSED_COMMAND_URL,
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
