//! The record modules on PostgreSQL: the same functions the SQLite store runs, each on a fresh
//! database of the PostgreSQL layout, inside one transaction as a writer's batch would run them.

use super::super::commands::{self, Due};
use super::super::indexer::{self, Doc};
use super::super::writer::Batch;
use super::super::{
    audit, callbacks, chain, feed, retention, select, sessions, states, templates, tokens, users,
};
use super::*;
use crate::clock::now_ms;
use crate::store::conn::{Conn, PgConn};
use crate::store::postgres::{connect, schema, sequence};
use crate::store::{
    AccountError, AuditFilter, Cutoffs, Link, LinkError, NewApiToken, NewPoll, NewSession, Page,
    Pruned, TemplateError,
};
use hermod_console_tests::postgres::cluster;
use hermod_shared::console::{Role, TemplateInput};
use serde_json::json;

const DAY: i64 = 86_400_000;

/// A migrated database of its own.
fn database() -> PgConn {
    let conn = connect(&cluster().database()).expect("connect");
    schema::migrate(&conn).expect("the layout");
    conn
}

/// Runs `f` in one committed transaction on `conn`, as a batch whose events follow the newest.
fn batch<T>(conn: &PgConn, f: impl FnOnce(&mut Batch<'_>) -> T) -> T {
    conn.batch("BEGIN").unwrap();
    let next_seq = select::feed_seq(Conn::from(conn)).unwrap() + 1;
    let out = f(&mut Batch::start(Conn::from(conn), Some(next_seq)));
    conn.batch("COMMIT").unwrap();
    out
}

/// Runs `update`, which dates rows back: the stand-in for the passage of time. The audit log's
/// trigger is lifted for it, as a superuser can.
fn back_in_time(conn: &PgConn, update: &str) {
    conn.batch(&format!(
        "BEGIN; ALTER TABLE audit DISABLE TRIGGER audit_append_only; {update}; \
         ALTER TABLE audit ENABLE TRIGGER audit_append_only; COMMIT"
    ))
    .unwrap();
}

fn entry(action: &'static str) -> AuditEntry {
    AuditEntry {
        actor: "alice".into(),
        actor_kind: "user",
        source: "127.0.0.1".into(),
        action,
        target: None,
        outcome: "ok",
        request_id: None,
        detail: json!({"n": 1}),
    }
}

/// A sign command of `idm`, recorded before its send; `external_id` is in its request.
fn recorded(pg: &PgConn, external_id: &str) -> CommandRecord {
    let command = NewCommand {
        client: "idm".into(),
        command_type: "sign".into(),
        external_id: Some(external_id.into()),
        request: json!({"signCommand": {"externalId": external_id}}),
        reissue_of: None,
        created_by: Some("alice".into()),
    };
    batch(pg, |b| commands::insert(b, &command)).unwrap()
}

/// What came of sending command `id`: `state`, as Hermod's `command_id`, to expire at `expires_at`.
fn outcome(
    id: i64,
    state: CommandState,
    command_id: Option<&str>,
    expires_at: Option<i64>,
) -> SendResult {
    SendResult {
        id,
        state,
        command_id: command_id.map(Into::into),
        destinations: Vec::new(),
        reply: reply(&format!(
            r#"{{"commandId":"{}"}}"#,
            command_id.unwrap_or("")
        )),
        expires_at,
        audit: entry("command_sent"),
    }
}

fn finish(pg: &PgConn, outcome: SendResult) -> CommandRecord {
    batch(pg, |b| commands::finish_send(b, &outcome)).unwrap()
}

/// A sign command Hermod took as `command_id`, to expire at `expires_at`.
fn accepted(pg: &PgConn, command_id: &str, expires_at: Option<i64>) -> CommandRecord {
    let command = recorded(pg, &format!("ext-{command_id}"));
    let state = CommandState::InProgress;
    finish(pg, outcome(command.id, state, Some(command_id), expires_at))
}

/// Stores `c` as the callback endpoint does; its id.
fn stored(pg: &PgConn, c: NewCallback) -> i64 {
    let prepared = callbacks::Prepared::new(c, SUMMARY_BODY_BYTES).unwrap();
    match batch(pg, |b| callbacks::insert(b, &prepared)).unwrap() {
        CallbackSaved::Stored(id) => id,
        CallbackSaved::Duplicate(id) => panic!("a repeat of {id}"),
    }
}

fn poll(pg: &PgConn, command: i64, state: Option<CommandState>) -> (PollRecord, CommandRecord) {
    let p = NewPoll {
        command,
        reply: reply(r#"{"state":"polled"}"#),
        state,
    };
    batch(pg, |b| commands::insert_poll(b, p)).unwrap()
}

fn current(pg: &PgConn, id: i64) -> CommandRecord {
    states::by_id(Conn::from(pg), id)
        .unwrap()
        .expect("the command")
}

fn matched(pg: &PgConn, callback: i64) -> Option<i64> {
    let stored = callbacks::by_id(Conn::from(pg), callback).unwrap();
    stored.expect("the callback").command
}

/// Indexes every queued document, as the indexer does between the writer's batches.
fn index(pg: &PgConn) {
    let docs = indexer::next_documents(Conn::from(pg), 1000).unwrap();
    batch(pg, |b| indexer::write_documents(b, &docs)).unwrap();
    assert_eq!(indexer::waiting(Conn::from(pg)).unwrap(), 0);
}

fn count(pg: &PgConn, sql: &str) -> i64 {
    Conn::from(pg).one(sql, &[]).unwrap()
}

fn text(q: &str) -> Query {
    Query {
        q: Some(q.into()),
        ..Query::default()
    }
}

fn since(at: i64) -> Query {
    Query {
        since: Some(at),
        ..Query::default()
    }
}

/// A page of `limit`, below `before_id`.
fn page(limit: i64, before_id: Option<i64>) -> Query {
    Query {
        page: Page { limit, before_id },
        ..Query::default()
    }
}

fn commands_listed(pg: &PgConn, f: CommandFilter) -> Vec<i64> {
    let page = commands::list(Conn::from(pg), &f).unwrap();
    page.items.iter().map(|c| c.id).collect()
}

fn callbacks_listed(pg: &PgConn, f: CallbackFilter) -> Vec<i64> {
    let page = callbacks::list(Conn::from(pg), &f).unwrap();
    page.items.iter().map(|c| c.id).collect()
}

fn audit_listed(pg: &PgConn, f: AuditFilter) -> Vec<i64> {
    let page = audit::list(Conn::from(pg), &f).unwrap();
    page.items.iter().map(|a| a.id).collect()
}

/// Prunes batch after batch until nothing is left; what went in all.
fn prune_all(pg: &PgConn, cutoffs: Cutoffs, most: usize) -> Pruned {
    let mut total = Pruned::default();
    loop {
        let one = batch(pg, |b| retention::prune(b, &cutoffs, most)).unwrap();
        if one.is_empty() {
            return total;
        }
        total += one;
    }
}

fn replay(pg: &PgConn, after: i64) -> Vec<crate::feed::Published> {
    feed::after(Conn::from(pg), after, 100, 1 << 20, SUMMARY_BODY_BYTES).unwrap()
}

#[test]
fn accounts_sessions_tokens_templates_and_the_audit_chain_run_on_postgres() {
    let pg = database();
    let db = Conn::from(&pg);
    let alice = batch(&pg, |b| users::create(b, "alice", "hash", Role::Admin)).unwrap();
    let again = batch(&pg, |b| users::create(b, "ALICE", "hash", Role::Viewer));
    assert!(matches!(again, Err(AccountError::Exists)), "{again:?}");
    let (found, hash) = users::by_name(db, "Alice")
        .unwrap()
        .expect("found whatever the case");
    assert_eq!((found.id, hash.as_str()), (alice.id, "hash"));
    assert_eq!(users::count(db).unwrap(), 1);

    batch(&pg, |b| {
        sessions::create(
            b,
            NewSession {
                token_hash: "s1".into(),
                user_id: alice.id,
                csrf_token: "c".into(),
                expires_at: i64::MAX,
                source: "127.0.0.1".into(),
            },
        )
    })
    .unwrap();
    let session = sessions::by_hash(db, "s1").unwrap().expect("the session");
    assert_eq!(
        (session.username.as_str(), session.role),
        ("alice", Role::Admin)
    );
    batch(&pg, |b| sessions::revoke(b, "s1")).unwrap();
    assert!(
        sessions::by_hash(db, "s1")
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    let token = batch(&pg, |b| {
        tokens::create(
            b,
            NewApiToken {
                name: "ci".into(),
                token_hash: "t1".into(),
                role: Role::Operator,
                created_by: "alice".into(),
                expires_at: i64::MAX,
            },
        )
    })
    .unwrap();
    batch(&pg, |b| tokens::touch(b, token.id)).unwrap();
    assert!(
        tokens::by_hash(db, "t1")
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    let revoked = batch(&pg, |b| tokens::revoke(b, token.id)).unwrap();
    assert!(revoked.unwrap().revoked_at.is_some());

    let input = |name: &str| TemplateInput {
        name: name.into(),
        client: None,
        command_type: "ping".into(),
        body: json!({}),
    };
    let saved = batch(&pg, |b| templates::save(b, None, &input("Ping"), "alice")).unwrap();
    let clash = batch(&pg, |b| templates::save(b, None, &input("PING"), "alice"));
    assert!(matches!(clash, Err(TemplateError::NameTaken)), "{clash:?}");
    batch(&pg, |b| {
        templates::save(b, Some(saved.id), &input("ping"), "alice")
    })
    .unwrap();
    assert_eq!(templates::all(db).unwrap()[0].name, "ping");

    batch(&pg, |b| {
        audit::append(b, &entry("login"))?;
        audit::append(b, &entry("logout"))
    })
    .unwrap();
    let verified = db.snapshot(chain::verify).unwrap();
    assert!(verified.intact && verified.entries == 2, "{verified:?}");
    assert!(db.execute("DELETE FROM audit", &[]).is_err());
}

#[test]
fn commands_and_their_callbacks_run_on_postgres() {
    let pg = database();
    let command = recorded(&pg, "e1");
    assert_eq!(command.state, CommandState::Sending);
    let c = NewCallback {
        headers: vec![("content-type".into(), "application/json".into())],
        ..callback("h1", "{}".into())
    };
    let prepared = callbacks::Prepared::new(c, SUMMARY_BODY_BYTES).unwrap();
    let first = batch(&pg, |b| callbacks::insert(b, &prepared)).unwrap();
    let CallbackSaved::Stored(id) = first else {
        panic!("stored once")
    };
    let repeat = batch(&pg, |b| callbacks::insert(b, &prepared)).unwrap();
    assert!(matches!(repeat, CallbackSaved::Duplicate(d) if d == id));
    let stored = callbacks::by_id(Conn::from(&pg), id).unwrap();
    assert_eq!(stored.expect("the callback").body, "{}");
    assert_eq!(
        count(&pg, "SELECT COUNT(*) FROM feed"),
        2,
        "the command's event and the callback's"
    );
}

#[test]
fn a_finished_send_is_audited_with_what_came_of_it_on_postgres() {
    let pg = database();
    let command = recorded(&pg, "e1");
    let expires_at = now_ms() + 600_000;
    let state = CommandState::InProgress;
    let sent = finish(
        &pg,
        outcome(command.id, state, Some("h1"), Some(expires_at)),
    );
    assert_eq!(
        (sent.state, sent.command_id.as_deref()),
        (CommandState::InProgress, Some("h1"))
    );
    let audit = audit::about_command(Conn::from(&pg), command.id).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (&audit[0].detail["command_id"], &audit[0].detail["state"]),
        (&json!("h1"), &json!("IN_PROGRESS"))
    );
}

#[test]
fn a_poll_moves_its_command_on_and_is_kept_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None);
    let (kept, moved) = poll(&pg, sent.id, Some(CommandState::Completed));
    assert_eq!(moved.state, CommandState::Completed);
    assert_eq!(current(&pg, sent.id).state, CommandState::Completed);
    assert_eq!(
        commands::poll(Conn::from(&pg), kept.id).unwrap(),
        Some(kept)
    );
}

#[test]
fn a_callback_finds_its_command_by_hermods_id_and_decides_it_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", Some(now_ms() + 600_000));
    let other = accepted(&pg, "h2", None);
    let id = stored(&pg, callback("h1", "{}".into()));
    assert_eq!(matched(&pg, id), Some(sent.id));
    let decided = current(&pg, sent.id);
    assert_eq!(
        (decided.state, decided.expires_at),
        (CommandState::Completed, None)
    );
    assert_eq!(current(&pg, other.id).state, CommandState::InProgress);
}

#[test]
fn a_callback_that_beat_the_answer_is_adopted_when_the_send_finishes_on_postgres() {
    let pg = database();
    let command = recorded(&pg, "e1");
    let early = stored(&pg, callback("h1", "{}".into()));
    assert_eq!(matched(&pg, early), None);
    let state = CommandState::InProgress;
    let sent = finish(&pg, outcome(command.id, state, Some("h1"), None));
    assert_eq!(sent.state, CommandState::Completed);
    assert_eq!(matched(&pg, early), Some(command.id));
}

#[test]
fn an_unknown_send_learns_hermods_id_from_a_callback_naming_its_external_id_on_postgres() {
    let pg = database();
    let unknown = |external_id: &str| {
        let command = recorded(&pg, external_id);
        finish(
            &pg,
            outcome(command.id, CommandState::SendUnknown, None, None),
        )
    };
    let naming = |command_id: &str, external_id: &str| NewCallback {
        external_id: Some(external_id.into()),
        ..callback(command_id, "{}".into())
    };
    // Before the send ended: the send takes the callback's commandId, and the callback.
    let command = recorded(&pg, "e1");
    let early = stored(&pg, naming("h1", "e1"));
    let state = CommandState::SendUnknown;
    let finished = finish(&pg, outcome(command.id, state, None, None));
    assert_eq!(finished.command_id.as_deref(), Some("h1"));
    assert_eq!(matched(&pg, early), Some(command.id));
    // After: the callback finds the command by its externalId, which takes its commandId.
    let later = unknown("e2");
    assert_eq!(later.command_id, None);
    let late = stored(&pg, naming("h2", "e2"));
    assert_eq!(matched(&pg, late), Some(later.id));
    assert_eq!(current(&pg, later.id).command_id.as_deref(), Some("h2"));
}

#[test]
fn an_unknown_send_is_linked_by_hand_to_an_id_no_other_command_has_on_postgres() {
    let pg = database();
    let command = recorded(&pg, "e1");
    let state = CommandState::SendUnknown;
    finish(&pg, outcome(command.id, state, None, None));
    let taken = accepted(&pg, "h2", None);
    let link = |command_id: &str| Link {
        id: command.id,
        command_id: command_id.into(),
        audit: entry("command_linked"),
    };
    let clash = batch(&pg, |b| commands::link(b, link("h2")));
    assert!(
        matches!(clash, Err(LinkError::Taken(t)) if t == taken.id),
        "{clash:?}"
    );
    let linked = batch(&pg, |b| commands::link(b, link("h3"))).unwrap();
    assert_eq!(
        (linked.state, linked.command_id.as_deref()),
        (CommandState::InProgress, Some("h3"))
    );
    let again = batch(&pg, |b| commands::link(b, link("h4")));
    assert!(matches!(again, Err(LinkError::NotUnknown(..))), "{again:?}");
    let audit = audit::about_command(Conn::from(&pg), command.id).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["command_sent", "command_linked"]);
}

#[test]
fn a_command_is_read_whole_with_its_timeline_and_its_evidence_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None);
    for n in 0..2 {
        stored(&pg, callback("h1", format!(r#"{{"n":{n}}}"#)));
    }
    poll(&pg, sent.id, None);
    index(&pg);
    let db = Conn::from(&pg);
    let newest = commands::detail(db, sent.id, Some(1)).unwrap().unwrap();
    assert_eq!(
        (newest.detail.timeline.len(), newest.detail.omitted),
        (4, 1),
        "sent, answer, the newest callback and the poll; one callback left out"
    );
    assert!(newest.undecoded.is_empty(), "{:?}", newest.undecoded);
    let evidence = commands::evidence(db, sent.id).unwrap().unwrap();
    assert_eq!(evidence.detail.detail.timeline.len(), 5);
    assert_eq!(evidence.audit.len(), 1);
    assert!(commands::detail(db, sent.id + 1, None).unwrap().is_none());
}

#[test]
fn commands_are_listed_by_state_client_time_page_and_text_on_postgres() {
    let pg = database();
    let now = now_ms();
    let alpha = accepted(&pg, "alpha", None).id;
    let bravo = accepted(&pg, "bravo", None).id;
    let charlie = recorded(&pg, "charlie").id;
    back_in_time(
        &pg,
        &format!(
            "UPDATE commands SET created_at = {} WHERE id = {alpha}",
            now - DAY
        ),
    );
    index(&pg);
    let listed = |f: CommandFilter| commands_listed(&pg, f);
    let by_state = CommandFilter {
        state: Some("IN_PROGRESS".into()),
        ..CommandFilter::default()
    };
    assert_eq!(listed(by_state), [bravo, alpha]);
    let by_client = CommandFilter {
        client: Some("other".into()),
        ..CommandFilter::default()
    };
    assert!(listed(by_client).is_empty());
    let query = |query| CommandFilter {
        query,
        ..CommandFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [charlie, bravo]);
    let first = commands::list(Conn::from(&pg), &query(page(2, None))).unwrap();
    assert_eq!(first.next_cursor, Some(bravo.to_string()));
    assert_eq!(listed(query(page(2, Some(bravo)))), [alpha]);
    // Through the index, and, too short for it, through the records; either way as typed.
    for q in ["Bravo", "ext-bravo", "av"] {
        assert_eq!(listed(query(text(q))), [bravo], "{q}");
    }
}

#[test]
fn callbacks_are_listed_by_state_client_time_page_and_text_on_postgres() {
    let pg = database();
    let now = now_ms();
    let alpha = stored(
        &pg,
        NewCallback {
            received_at: now - DAY,
            ..callback("h1", r#"{"n":"alpha"}"#.into())
        },
    );
    let bravo = stored(
        &pg,
        NewCallback {
            state: Some("FAILED".into()),
            ..callback("h2", r#"{"n":"bravo"}"#.into())
        },
    );
    let charlie = stored(
        &pg,
        NewCallback {
            client: Some("other".into()),
            ..callback("h3", r#"{"n":"charlie"}"#.into())
        },
    );
    index(&pg);
    let listed = |f: CallbackFilter| callbacks_listed(&pg, f);
    let by_state = CallbackFilter {
        state: Some("FAILED".into()),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(by_state), [bravo]);
    let by_client = CallbackFilter {
        client: Some("other".into()),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(by_client), [charlie]);
    let unmatched = CallbackFilter {
        unmatched: Some(true),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(unmatched), [charlie, bravo, alpha]);
    let query = |query| CallbackFilter {
        query,
        ..CallbackFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [charlie, bravo]);
    assert_eq!(listed(query(page(1, Some(charlie)))), [bravo]);
    for q in ["Bravo", "h2", "av"] {
        assert_eq!(listed(search(q)), [bravo], "{q}");
    }
}

#[test]
fn a_search_text_is_found_as_it_is_not_as_a_pattern_on_postgres() {
    let pg = database();
    let literal = stored(&pg, callback("h1", r#"{"n":"zebra_1%"}"#.into()));
    let lookalike = stored(&pg, callback("h2", r#"{"n":"zebraX1"}"#.into()));
    index(&pg);
    let found = |q: &str| callbacks_listed(&pg, search(q));
    assert_eq!(found("zebra"), [lookalike, literal]);
    for q in ["zebra_1", "a_1%", "_1"] {
        assert_eq!(found(q), [literal], "{q}");
    }
    assert!(found("zebra%").is_empty());
}

#[test]
fn the_audit_log_is_listed_by_actor_action_time_page_and_text_on_postgres() {
    let pg = database();
    batch(&pg, |b| {
        audit::append(b, &entry("login"))?;
        audit::append(b, &entry("logout"))?;
        let bob = AuditEntry {
            actor: "bob".into(),
            ..entry("login")
        };
        audit::append(b, &bob)
    })
    .unwrap();
    let now = now_ms();
    back_in_time(
        &pg,
        &format!("UPDATE audit SET at = {} WHERE id = 1", now - DAY),
    );
    let listed = |f: AuditFilter| audit_listed(&pg, f);
    let by_action = AuditFilter {
        action: Some("login".into()),
        ..AuditFilter::default()
    };
    assert_eq!(listed(by_action), [3, 1]);
    let by_actor = AuditFilter {
        actor: Some("bob".into()),
        ..AuditFilter::default()
    };
    assert_eq!(listed(by_actor), [3]);
    let query = |query| AuditFilter {
        query,
        ..AuditFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [3, 2]);
    assert_eq!(listed(query(page(1, Some(3)))), [2]);
    assert_eq!(listed(query(text("BO"))), [3]);
    assert_eq!(listed(query(text("logout"))), [2]);
}

/// Commands of `idm` Hermod took, each awaiting its callback: expired 40 s, 30 s and 1 s before
/// `now`, one to expire in ten minutes, and one expired 50 s before but called back.
fn awaiting(pg: &PgConn, now: i64) -> [i64; 5] {
    let expiring = |command_id: &str, at: i64| accepted(pg, command_id, Some(at)).id;
    let answered = expiring("h5", now - 50_000);
    stored(pg, callback("h5", "{}".into()));
    [
        expiring("h1", now - 40_000),
        expiring("h2", now - 30_000),
        expiring("h3", now - 1_000),
        expiring("h4", now + 600_000),
        answered,
    ]
}

#[test]
fn follow_ups_are_due_for_the_silent_past_their_expiry_fewer_as_they_are_polled_on_postgres() {
    let pg = database();
    let now = now_ms();
    let [old, late, ..] = awaiting(&pg, now);
    let due = |clients: &[&str], max_polls: u32| {
        let clients: Vec<String> = clients.iter().map(|c| c.to_string()).collect();
        let due = Due {
            now: now_ms(),
            after_ms: 5_000,
            max_polls,
            limit: 10,
        };
        commands::due_follow_ups(Conn::from(&pg), &clients, due).unwrap()
    };
    assert_eq!(due(&["idm"], 2), [old, late]);
    assert_eq!(due(&["other", "idm"], 2), [old, late]);
    assert!(due(&["other"], 2).is_empty());
    assert!(due(&[], 2).is_empty());
    // Polled once: due again only after twice the wait, and never past the most polls.
    poll(&pg, old, None);
    assert_eq!(due(&["idm"], 2), [old, late]);
    assert_eq!(due(&["idm"], 1), [late]);
}

#[test]
fn the_silent_are_marked_overdue_once_and_a_late_callback_clears_the_mark_on_postgres() {
    let pg = database();
    let now = now_ms();
    let [old, late, ..] = awaiting(&pg, now);
    let mark = |after_ms: i64, limit: usize| -> Vec<i64> {
        let marked = batch(&pg, |b| commands::mark_overdue(b, after_ms, limit)).unwrap();
        marked.iter().map(|c| c.id).collect()
    };
    assert!(mark(60_000, 100).is_empty());
    assert_eq!(mark(5_000, 1), [old]);
    assert_eq!(mark(5_000, 100), [late]);
    assert!(mark(5_000, 100).is_empty(), "marked once");
    let overdue = CommandFilter {
        overdue: Some(true),
        ..CommandFilter::default()
    };
    assert_eq!(commands_listed(&pg, overdue.clone()), [late, old]);
    let marks: Vec<i64> = replay(&pg, 0)
        .iter()
        .filter_map(|p| match event(p) {
            FeedEvent::Overdue { command, .. } => Some(command.id),
            _ => None,
        })
        .collect();
    assert_eq!(marks, [old, late]);
    stored(&pg, callback("h2", "{}".into()));
    let cleared = current(&pg, late);
    assert_eq!(
        (cleared.overdue_at, cleared.state),
        (None, CommandState::Completed)
    );
    assert_eq!(commands_listed(&pg, overdue), [old]);
}

#[test]
fn the_feed_replays_each_event_as_it_was_then_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None).id;
    let id = stored(&pg, callback("h1", "{}".into()));
    let shown: Vec<(i64, String)> = replay(&pg, 0)
        .iter()
        .map(|p| match event(p) {
            FeedEvent::Command { seq, command } => {
                (seq, format!("{} {}", command.id, command.state))
            }
            FeedEvent::Callback { seq, callback } => (seq, format!("callback {}", callback.id)),
            FeedEvent::Overdue { seq, .. } => (seq, "overdue".into()),
        })
        .collect();
    let expected = [
        (1, format!("{sent} SENDING")),
        (2, format!("{sent} IN_PROGRESS")),
        (3, format!("callback {id}")),
        (4, format!("{sent} COMPLETED")),
    ];
    assert_eq!(shown, expected);
    let later = feed::after(Conn::from(&pg), 2, 1, 1 << 20, SUMMARY_BODY_BYTES).unwrap();
    assert_eq!(later.iter().map(|p| p.seq).collect::<Vec<_>>(), [3]);
}

/// A command Hermod took as `command_id`, with a callback and a poll.
fn with_callback_and_poll(pg: &PgConn, command_id: &str) -> i64 {
    let sent = accepted(pg, command_id, None);
    stored(pg, callback(command_id, "{}".into()));
    poll(pg, sent.id, None);
    sent.id
}

#[test]
fn old_commands_go_with_their_callbacks_polls_and_search_rows_on_postgres() {
    let pg = database();
    let now = now_ms();
    let old = with_callback_and_poll(&pg, "h1");
    let young = with_callback_and_poll(&pg, "h2");
    index(&pg);
    let old_at = now - 40 * DAY;
    back_in_time(
        &pg,
        &format!(
            "UPDATE commands SET created_at = {old_at}, updated_at = {old_at} WHERE id = {old}; \
             UPDATE callbacks SET received_at = {old_at} WHERE command = {old}; \
             UPDATE polls SET at = {old_at} WHERE command = {old}"
        ),
    );
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM search"), 8);
    let cutoffs = Cutoffs {
        commands: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    let expected = Pruned {
        commands: 1,
        callbacks: 1,
        polls: 1,
        ..Pruned::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 10), expected);
    assert!(states::by_id(Conn::from(&pg), old).unwrap().is_none());
    assert_eq!(current(&pg, young).id, young);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM search"), 4);
    let orphans = "SELECT COUNT(*) FROM search WHERE (doc >> 2) NOT IN \
                   (SELECT id FROM commands UNION SELECT id FROM callbacks UNION SELECT id FROM polls)";
    assert_eq!(count(&pg, orphans), 0);
}

#[test]
fn old_unmatched_callbacks_go_but_the_newest_on_postgres() {
    let pg = database();
    let now = now_ms();
    let stray = |command_id: &str| {
        stored(
            &pg,
            NewCallback {
                received_at: now - 40 * DAY,
                ..callback(command_id, "{}".into())
            },
        )
    };
    let first = stray("h1");
    let newest = stray("h2");
    index(&pg);
    let cutoffs = Cutoffs {
        unmatched_callbacks: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 10).unmatched_callbacks, 1);
    assert!(callbacks::by_id(Conn::from(&pg), first).unwrap().is_none());
    assert_eq!(matched(&pg, newest), None, "kept, unmatched");
}

#[test]
fn the_feed_goes_from_its_oldest_event_on_and_a_replay_from_before_is_reset_on_postgres() {
    let pg = database();
    let now = now_ms();
    for n in 0..5 {
        stored(&pg, callback(&format!("h{n}"), "{}".into()));
    }
    back_in_time(
        &pg,
        &format!(
            "UPDATE feed SET at = {} WHERE seq IN (1, 2, 4)",
            now - 40 * DAY
        ),
    );
    let cutoffs = Cutoffs {
        feed: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 500).feed, 2);
    let replayed = replay(&pg, 0);
    let seqs: Vec<i64> = replayed.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5], "a reset standing at 2, then 3 on");
    let reset = crate::feed::Published::new(2, "reset", "3");
    assert_eq!(replayed[0].frame, reset.frame);
    assert_eq!(replay(&pg, 2)[0].seq, 3, "from a kept position, no reset");
}

#[test]
fn old_audit_entries_go_through_the_pruner_alone_and_the_chain_holds_on_postgres() {
    let pg = database();
    let now = now_ms();
    batch(&pg, |b| {
        (0..4).try_for_each(|_| audit::append(b, &entry("login")))
    })
    .unwrap();
    back_in_time(
        &pg,
        &format!("UPDATE audit SET at = {} WHERE id <= 2", now - 40 * DAY),
    );
    let db = Conn::from(&pg);
    assert!(db.execute("DELETE FROM audit WHERE id = 1", &[]).is_err());
    let cutoffs = Cutoffs {
        audit: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 1).audit, 2);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM audit"), 2);
    let cleared = "SELECT COUNT(*) FROM audit_retention WHERE before IS NULL";
    assert_eq!(count(&pg, cleared), 1);
    let verified = db.snapshot(chain::verify).unwrap();
    assert!(verified.intact && verified.entries == 2, "{verified:?}");
}

#[test]
fn a_body_is_decoded_once_when_indexed_and_read_back_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None);
    // A base64 text data item, as Hermod's results carry them.
    let body = r#"{"commandId":"h1","result":{"tbs":[{"key":"t","content_type":"text/plain",
        "content_encoding":"base64","data":"S2VwdCBkZWNvZGVk"}]}}"#;
    let id = stored(&pg, callback("h1", body.into()));
    let db = Conn::from(&pg);
    let doc = Doc::Callback.key(id);
    assert_eq!(
        indexer::waiting(db).unwrap(),
        3,
        "request, answer, callback"
    );
    assert_eq!(indexer::decoded(db, doc).unwrap(), None);
    let far = Doc::Callback.key(1 << 40);
    assert_eq!(
        indexer::decoded(db, far).unwrap(),
        None,
        "a key past 32 bits"
    );
    index(&pg);
    let items = indexer::decoded(db, doc).unwrap().expect("indexed");
    assert_eq!(items.len(), 1);
    assert_eq!(
        indexer::decoded(db, Doc::Answer.key(sent.id)).unwrap(),
        Some(Vec::new())
    );
    // The decoded words are searched, and exported, with the records.
    assert_eq!(callbacks_listed(&pg, search("kept decoded")), [id]);
    let exported = callbacks::export(db, &CallbackFilter::default()).unwrap();
    assert_eq!(exported.items[0].decoded, "Kept decoded");
    let exported = commands::export(db, &CommandFilter::default()).unwrap();
    assert_eq!(exported.items[0].decoded, "Kept decoded");
}

/// Two replicas taking the same delivery at the same moment store it once: the second waits for the
/// first's commit, then finds it.
#[test]
fn one_delivery_taken_by_two_replicas_at_once_is_stored_once() {
    let url = cluster().database();
    let first = connect(&url).unwrap();
    schema::migrate(&first).unwrap();
    let prepared =
        callbacks::Prepared::new(callback("h1", "{}".into()), SUMMARY_BODY_BYTES).unwrap();
    sequence::prepare(Conn::from(&first)).unwrap();
    first.batch("BEGIN").unwrap();
    let CallbackSaved::Stored(id) =
        callbacks::insert(&mut Batch::start(Conn::from(&first), None), &prepared).unwrap()
    else {
        panic!("the first stores it")
    };
    let second = std::thread::spawn({
        let prepared =
            callbacks::Prepared::new(callback("h1", "{}".into()), SUMMARY_BODY_BYTES).unwrap();
        move || {
            let pg = connect(&url).unwrap();
            sequence::prepare(Conn::from(&pg)).unwrap();
            pg.batch("BEGIN").unwrap();
            let saved = callbacks::insert(&mut Batch::start(Conn::from(&pg), None), &prepared);
            pg.batch("COMMIT").unwrap();
            saved.unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!second.is_finished(), "the second waits for the first");
    assert_eq!(sequence::number(Conn::from(&first)).unwrap(), 1);
    first.batch("COMMIT").unwrap();
    assert!(matches!(second.join().unwrap(), CallbackSaved::Duplicate(d) if d == id));
    let stored: i64 = Conn::from(&first)
        .one("SELECT COUNT(*) FROM callbacks", &[])
        .unwrap();
    assert_eq!(stored, 1);
}
