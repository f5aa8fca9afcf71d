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
        reason: None,
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
        reason: None,
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
    let rejected = NewCallback {
        state: Some("REJECTED".into()),
        reason: Some("USER_REJECTED: no".into()),
        ..callback("h1", "{}".into())
    };
    let early = stored(&pg, rejected);
    assert_eq!(matched(&pg, early), None);
    let state = CommandState::InProgress;
    let sent = finish(&pg, outcome(command.id, state, Some("h1"), None));
    // Its outcome, and why, come with it.
    assert_eq!(sent.state, CommandState::Rejected);
    assert_eq!(sent.reason.as_deref(), Some("USER_REJECTED: no"));
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

mod lists;
mod reconnect;
