//! The record modules on PostgreSQL: the same functions the SQLite store runs, each on a fresh
//! database of the PostgreSQL layout, inside one transaction as a writer's batch would run them.

use super::super::writer::Batch;
use super::super::{audit, callbacks, chain, commands, sessions, templates, tokens, users};
use super::*;
use crate::store::conn::{Conn, PgConn};
use crate::store::postgres::{connect, schema};
use crate::store::{AccountError, NewApiToken, NewSession, TemplateError};
use hermod_console_tests::postgres::cluster;
use hermod_shared::console::{Role, TemplateInput};
use serde_json::json;

/// A migrated database of its own.
fn database() -> PgConn {
    let conn = connect(&cluster().database()).expect("connect");
    schema::migrate(&conn).expect("the layout");
    conn
}

/// Runs `f` in one committed transaction on `conn`, as a batch whose events start at `next_seq`.
fn batch<T>(conn: &PgConn, next_seq: i64, f: impl FnOnce(&mut Batch<'_>) -> T) -> T {
    conn.batch("BEGIN").unwrap();
    let out = f(&mut Batch::start(Conn::from(conn), next_seq));
    conn.batch("COMMIT").unwrap();
    out
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

#[test]
fn accounts_sessions_tokens_templates_and_the_audit_chain_run_on_postgres() {
    let pg = database();
    let db = Conn::from(&pg);
    let alice = batch(&pg, 1, |b| users::create(b, "alice", "hash", Role::Admin)).unwrap();
    let again = batch(&pg, 1, |b| users::create(b, "ALICE", "hash", Role::Viewer));
    assert!(matches!(again, Err(AccountError::Exists)), "{again:?}");
    let (found, hash) = users::by_name(db, "Alice")
        .unwrap()
        .expect("found whatever the case");
    assert_eq!((found.id, hash.as_str()), (alice.id, "hash"));
    assert_eq!(users::count(db).unwrap(), 1);

    batch(&pg, 1, |b| {
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
    batch(&pg, 1, |b| sessions::revoke(b, "s1")).unwrap();
    assert!(
        sessions::by_hash(db, "s1")
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );

    let token = batch(&pg, 1, |b| {
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
    batch(&pg, 1, |b| tokens::touch(b, token.id)).unwrap();
    assert!(
        tokens::by_hash(db, "t1")
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    let revoked = batch(&pg, 1, |b| tokens::revoke(b, token.id)).unwrap();
    assert!(revoked.unwrap().revoked_at.is_some());

    let input = |name: &str| TemplateInput {
        name: name.into(),
        client: None,
        command_type: "ping".into(),
        body: json!({}),
    };
    let saved = batch(&pg, 1, |b| {
        templates::save(b, None, &input("Ping"), "alice")
    })
    .unwrap();
    let clash = batch(&pg, 1, |b| {
        templates::save(b, None, &input("PING"), "alice")
    });
    assert!(matches!(clash, Err(TemplateError::NameTaken)), "{clash:?}");
    batch(&pg, 1, |b| {
        templates::save(b, Some(saved.id), &input("ping"), "alice")
    })
    .unwrap();
    assert_eq!(templates::all(db).unwrap()[0].name, "ping");

    batch(&pg, 1, |b| {
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
    let db = Conn::from(&pg);
    let command = batch(&pg, 1, |b| {
        commands::insert(
            b,
            &NewCommand {
                client: "idm".into(),
                command_type: "ping".into(),
                external_id: Some("e1".into()),
                request: json!({"pingCommand": {}}),
                reissue_of: None,
                created_by: Some("alice".into()),
            },
        )
    })
    .unwrap();
    assert_eq!(command.state, CommandState::Sending);
    let callback = |body: &str| NewCallback {
        received_at: 1,
        client: Some("idm".into()),
        callback_type: "ping".into(),
        command_id: Some("h1".into()),
        state: Some("DONE".into()),
        external_id: None,
        body: body.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        auth: "ok".into(),
        path: "/clients/idm/rest/callback/ping".into(),
    };
    let prepared = callbacks::Prepared::new(callback("{}"), SUMMARY_BODY_BYTES).unwrap();
    let first = batch(&pg, 2, |b| callbacks::insert(b, &prepared)).unwrap();
    let CallbackSaved::Stored(id) = first else {
        panic!("stored once")
    };
    let repeat = batch(&pg, 3, |b| callbacks::insert(b, &prepared)).unwrap();
    assert!(matches!(repeat, CallbackSaved::Duplicate(d) if d == id));
    let stored = callbacks::by_id(db, id).unwrap().expect("the callback");
    assert_eq!(stored.body, "{}");
    let events: i64 = db.one("SELECT COUNT(*) FROM feed", &[]).unwrap();
    assert_eq!(events, 2, "the command's event and the callback's");
}
