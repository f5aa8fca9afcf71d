//! The store through its boundary, on a real file: search and its indexer, matching that does not
//! grow with history, and opening a database of the first layout.

use super::*;
use crate::store::{
    AuditEntry, CallbackSaved, NewCallback, NewCommand, Page, Query, SendResult, StoredDetail,
};
use hermod_shared::console::{
    CommandDetail, CommandState, FeedEvent, HermodReply, SUMMARY_BODY_BYTES, TimelineEntry,
};
use hermod_shared::decoded::{Decoded, DecodedItem};
use std::path::PathBuf;

struct Fixture {
    dir: PathBuf,
    store: SqlStore,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!(
            "hermod-store-{tag}-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let store =
            SqlStore::open(&dir, Feed::new(64), SUMMARY_BODY_BYTES).expect("open the store");
        Fixture { dir, store }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn callback(command_id: &str, body: String) -> NewCallback {
    NewCallback {
        received_at: crate::clock::now_ms(),
        client: Some("idm".into()),
        callback_type: "sign".into(),
        command_id: Some(command_id.into()),
        state: Some("COMPLETED".into()),
        reason: None,
        external_id: None,
        body,
        headers: Vec::new(),
        auth: "basic ok (idm-callback)".into(),
        path: "/clients/idm/rest/callback/sign".into(),
    }
}

fn search(q: &str) -> CallbackFilter {
    CallbackFilter {
        query: Query {
            q: Some(q.into()),
            ..Query::default()
        },
        ..CallbackFilter::default()
    }
}

/// The event a published frame carries (its `data:` line).
fn event(p: &crate::feed::Published) -> FeedEvent {
    let data = p.frame.split(|b| *b == b'\n').nth(2).unwrap();
    serde_json::from_slice(data.strip_prefix(b"data: ").unwrap()).unwrap()
}

/// Holds the writer until the returned sender is dropped.
async fn hold(store: &SqlStore) -> std::sync::mpsc::Sender<()> {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (taken, started) = tokio::sync::oneshot::channel();
    let busy = store.writer.write(move |_| {
        let _ = taken.send(());
        let _ = held.recv();
        Ok::<_, StoreError>(())
    });
    tokio::spawn(busy);
    started.await.expect("the writer took the holding job");
    release
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_waits_for_the_indexer_and_says_what_it_could_not_search_yet() {
    let f = Fixture::new("lag");
    for i in 0..3 {
        let body = format!(r#"{{"commandId":"{i}","note":"zebra-{i}"}}"#);
        f.store
            .insert_callback(callback(&i.to_string(), body))
            .await
            .unwrap();
    }
    // Stored moments ago: the search waits for the indexer rather than miss them.
    let page = f.store.list_callbacks(search("zebra")).await.unwrap();
    assert_eq!((page.items.len(), page.unindexed), (3, 0));

    // With the writer busy the indexer cannot write: the newest are not searchable, and the page
    // says how many it could not look at. The indexer may take one or both new ones in the moment
    // between their commits and the hold (a loaded machine): then two more are stored, until it is
    // behind; what it found and what it could not look at make up every callback stored.
    let mut stored = 3;
    let release = loop {
        for i in stored..stored + 2 {
            let body = format!(r#"{{"commandId":"{i}","note":"zebra-{i}"}}"#);
            f.store
                .insert_callback(callback(&i.to_string(), body))
                .await
                .unwrap();
        }
        stored += 2;
        let release = hold(&f.store).await;
        let page = f.store.list_callbacks(search("zebra")).await.unwrap();
        if page.unindexed > 0 {
            assert!(
                page.unindexed <= 2,
                "only the newest wait: {}",
                page.unindexed
            );
            assert_eq!(page.items.len() as u64 + page.unindexed, stored as u64);
            break release;
        }
        assert!(stored < 40, "the indexer was never behind a held writer");
    };
    drop(release);
    let page = f.store.list_callbacks(search("zebra")).await.unwrap();
    assert_eq!((page.items.len(), page.unindexed), (stored, 0));
    // Substrings, as before the index moved: the middle of a word, across punctuation.
    let page = f.store.list_callbacks(search("ebra-4")).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let page = f
        .store
        .list_callbacks(search("\"note\":\"zebra-2"))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_counts_its_whole_view_on_every_page_up_to_a_cap() {
    let f = Fixture::new("count");
    for i in 0..5 {
        let body = format!(r#"{{"commandId":"{i}","note":"count-{i}"}}"#);
        f.store
            .insert_callback(callback(&i.to_string(), body))
            .await
            .unwrap();
    }
    // Up to the cap, exactly; past it, the cap and that there are more.
    let all = select::Sql::new("SELECT 1 FROM callbacks WHERE 1 = 1");
    let counted = |cap| f.store.readers.blocking(|c| all.count(c, cap)).unwrap();
    assert_eq!(counted(3), (3, true));
    assert_eq!(counted(4), (4, true));
    assert_eq!(counted(5), (5, false));
    assert_eq!(counted(hermod_shared::console::TOTAL_CAP), (5, false));
    // A page counts the whole view, not what is left below its cursor; a search what it finds.
    let paged = |q: Option<&str>, before_id| CallbackFilter {
        query: Query {
            q: q.map(Into::into),
            page: Page {
                limit: 2,
                before_id,
            },
            ..Query::default()
        },
        ..CallbackFilter::default()
    };
    let first = f.store.list_callbacks(paged(None, None)).await.unwrap();
    let cursor = first.next_cursor.as_deref().map(|c| c.parse().unwrap());
    let second = f.store.list_callbacks(paged(None, cursor)).await.unwrap();
    assert_eq!(
        [
            (first.items.len(), first.total),
            (second.items.len(), second.total)
        ],
        [(2, 5), (2, 5)]
    );
    assert!(!first.total_capped);
    let found = f
        .store
        .list_callbacks(paged(Some("count-3"), None))
        .await
        .unwrap();
    assert_eq!((found.items.len(), found.total), (1, 1));
    // An export walks its pages without counting them.
    let export = f.store.export_callbacks(paged(None, None)).await.unwrap();
    assert_eq!((export.items.len(), export.total), (2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_is_decoded_once_after_it_is_stored_and_its_page_reads_what_was_kept() {
    let f = Fixture::new("decoded");
    let command = sent(
        &f.store,
        "1011",
        "decoded",
        r#"{"commandId":"1011"}"#,
        None,
        None,
    )
    .await;
    // A base64 text data item, as Hermod's results carry them.
    let body = r#"{"commandId":"1011","result":{"tbs":[{"key":"t","content_type":"text/plain",
        "content_encoding":"base64","data":"S2VwdCBkZWNvZGVk"}]}}"#;
    f.store
        .insert_callback(callback("1011", body.into()))
        .await
        .unwrap();
    let callback_at = |d: &CommandDetail| {
        d.timeline
            .iter()
            .position(|e| matches!(e, TimelineEntry::Callback { .. }))
            .expect("the callback is in the timeline")
    };

    // Not indexed yet: the store says so, and leaves its decoding to whoever shows it.
    let release = hold(&f.store).await;
    let stored = f
        .store
        .command_detail(command.id, None)
        .await
        .unwrap()
        .unwrap();
    let at = callback_at(&stored.detail);
    assert!(stored.undecoded.contains(&at), "{:?}", stored.undecoded);
    let mut stored = stored;
    assert!(stored.detail.timeline[at].decoded_mut().is_empty());
    drop(release);

    // Indexed: what was decoded is kept, and every step comes with it.
    assert_eq!(f.store.searchable().await, 0);
    let mut stored = f
        .store
        .command_detail(command.id, None)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.undecoded.is_empty(), "{:?}", stored.undecoded);
    let at = callback_at(&stored.detail);
    assert_eq!(
        stored.detail.timeline[at].decoded_mut().as_slice(),
        [DecodedItem {
            pointer: "/result/tbs/0/data".into(),
            label: "tbs data item 't'".into(),
            decoded: Decoded::Text {
                content_type: "text/plain".into(),
                text: "Kept decoded".into(),
            },
            raw: None,
        }]
    );
    let kept = f
        .store
        .readers
        .blocking(|c| c.one::<i64>("SELECT count(*) FROM decoded WHERE items IS NOT NULL", &[]))
        .unwrap();
    assert_eq!(kept, 1, "only the callback held anything to decode");
}

/// Runs `sql` (statements) in the writer, as a job of its own: all of it, or nothing.
async fn exec(store: &SqlStore, sql: impl Into<String>) -> Result<(), StoreError> {
    let sql = sql.into();
    store.writer.write(move |b| b.db().batch(&sql)).await
}

/// The one number `sql` reads.
fn read(store: &SqlStore, sql: &str) -> i64 {
    store.readers.blocking(|c| c.one(sql, &[])).unwrap()
}

/// An audit entry dated `at`, chained as the console chains its own.
async fn entry_at(store: &SqlStore, at: i64) -> i64 {
    store
        .writer
        .write(move |b| {
            let conn = b.db();
            let entry = super::chain::Entry {
                at,
                actor: "test",
                actor_kind: "system",
                source: "local",
                action: "login",
                target: None,
                outcome: "ok",
                request_id: None,
                detail: "{}",
            };
            let prev = super::chain::head(conn)?;
            let hash = super::chain::digest(&prev, &entry);
            conn.one(
                "INSERT INTO audit (at, actor, actor_kind, source, action, outcome, prev, hash) \
                 VALUES (?, 'test', 'system', 'local', 'login', 'ok', ?, ?) RETURNING id",
                &crate::params![at, &prev, &hash],
            )
        })
        .await
        .unwrap()
}

/// Hermod's answer, with `body`.
fn reply(body: &str) -> HermodReply {
    HermodReply {
        at: crate::clock::rfc3339(0),
        status: Some(200),
        body: Some(body.into()),
        error: None,
        duration_ms: 1,
    }
}

/// A sign command of `idm`, recorded, then taken by Hermod as `command_id` with the answer `answer`,
/// to expire at `expires_at`.
async fn sent(
    store: &SqlStore,
    command_id: &str,
    external_id: &str,
    answer: &str,
    reissue_of: Option<i64>,
    expires_at: Option<i64>,
) -> CommandRecord {
    let command = store
        .insert_command(NewCommand {
            client: "idm".into(),
            command_type: "sign".into(),
            external_id: Some(external_id.into()),
            request: serde_json::json!({"signCommand": {}}),
            reissue_of,
            created_by: None,
        })
        .await
        .unwrap();
    store
        .finish_send(SendResult {
            id: command.id,
            state: CommandState::InProgress,
            reason: None,
            command_id: Some(command_id.into()),
            destinations: Vec::new(),
            reply: reply(answer),
            expires_at,
            audit: AuditEntry {
                actor: "test".into(),
                actor_kind: "system",
                source: "test".into(),
                action: "command_sent",
                target: None,
                outcome: "ok",
                request_id: None,
                detail: serde_json::json!({}),
            },
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storing_a_callback_costs_the_same_however_many_its_command_has() {
    let f = Fixture::new("history");
    let command = sent(
        &f.store,
        "1011",
        "long-history",
        r#"{"commandId":"1011"}"#,
        None,
        None,
    )
    .await;
    // The first layout rebuilt the command's search text from all its bodies on every one of them:
    // 300 of 64 KiB each made that quadratic (and, with bigger bodies, past SQLite's length limit).
    let padding = "word ".repeat(64 << 10 >> 3);
    for i in 0..300 {
        let body = format!(r#"{{"commandId":"1011","n":"marker-{i:03}","padding":"{padding}"}}"#);
        let saved = f
            .store
            .insert_callback(callback("1011", body))
            .await
            .unwrap();
        assert!(matches!(saved, CallbackSaved::Stored(_)), "callback {i}");
    }
    let detail = f
        .store
        .command_detail(command.id, None)
        .await
        .unwrap()
        .unwrap()
        .detail;
    assert_eq!(detail.command.state, CommandState::Completed);
    assert_eq!(detail.timeline.len(), 2 + 300);
    let found = f
        .store
        .list_commands(CommandFilter {
            query: Query {
                q: Some("marker-299".into()),
                ..Query::default()
            },
            ..CommandFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [command.id]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_first_layout_opens_with_everything_in_it() {
    let dir = std::env::temp_dir().join(format!(
        "hermod-store-upgrade-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/store/sqlite/testdata/first-layout.sqlite3"
        ),
        dir.join(DB_FILE),
    )
    .unwrap();
    let f = Fixture {
        store: SqlStore::open(&dir, Feed::new(64), SUMMARY_BODY_BYTES)
            .expect("the old layout opens"),
        dir,
    };
    // Made by the console before the store was rebuilt: a sign, a ping, a rejected ping and a held
    // ping, with their callbacks, a poll, a template, two users and a token.
    let commands = f
        .store
        .list_commands(CommandFilter::default())
        .await
        .unwrap();
    let states: Vec<String> = commands.items.iter().map(|c| c.state.to_string()).collect();
    assert_eq!(
        states,
        ["IN_PROGRESS", "REJECTED", "COMPLETED", "COMPLETED"]
    );
    assert_eq!(commands.feed_seq, 14);
    // Every body is decoded again after the upgrade, and kept.
    assert_eq!(f.store.searchable().await, 0);
    let StoredDetail {
        detail: sign,
        undecoded,
    } = f.store.command_detail(1, None).await.unwrap().unwrap();
    assert!(undecoded.is_empty(), "{undecoded:?}");
    assert!(
        sign.timeline
            .iter()
            .any(|e| matches!(e, TimelineEntry::Callback { decoded, .. } if !decoded.is_empty())),
        "the sign's callback has its decoded signature"
    );
    assert_eq!(sign.command.external_id.as_deref(), Some("fixture-sign"));
    assert!(
        matches!(&sign.timeline[2], TimelineEntry::Callback { callback, .. } if callback.command == Some(1))
    );
    let held = f.store.command_detail(4, None).await.unwrap().unwrap();
    assert!(
        held.detail
            .timeline
            .iter()
            .any(|e| matches!(e, TimelineEntry::Poll { .. }))
    );
    // The audit entries from before the chain were linked by the upgrade.
    let chain = f.store.audit_chain().await.unwrap();
    assert!(chain.intact && chain.entries > 0, "{chain:?}");
    assert_eq!(f.store.users().await.unwrap().len(), 2);
    assert_eq!(f.store.tokens().await.unwrap().len(), 1);
    assert_eq!(f.store.templates().await.unwrap().len(), 1);

    // The feed's history replays from the records it now points at.
    let replay = f.store.feed_after(0, 100, 1 << 20).await.unwrap();
    assert_eq!(
        replay.iter().map(|p| p.seq).collect::<Vec<_>>(),
        (1..=14).collect::<Vec<_>>()
    );
    assert!(
        matches!(event(&replay[0]), FeedEvent::Command { command, .. } if command.state == CommandState::Sending)
    );

    // Every old body was queued again: search finds them, decoded material included.
    let found = f
        .store
        .list_callbacks(search("fixture-ping"))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let signer = f
        .store
        .list_commands(CommandFilter {
            query: Query {
                q: Some("Hermod Simulator Device".into()),
                ..Query::default()
            },
            ..CommandFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(signer.items.iter().map(|c| c.id).collect::<Vec<_>>(), [1]);

    // A repeat of an old delivery is still recognised (the digest was carried over).
    let old = &f
        .store
        .list_callbacks(search("fixture-ping"))
        .await
        .unwrap()
        .items[0];
    let again = f
        .store
        .insert_callback(NewCallback {
            received_at: crate::clock::now_ms(),
            client: old.client.clone(),
            callback_type: old.callback_type.clone(),
            command_id: old.command_id.clone(),
            state: old.state.clone(),
            reason: None,
            external_id: old.external_id.clone(),
            body: old.body.clone(),
            headers: Vec::new(),
            auth: old.auth.clone(),
            path: old.path.clone().unwrap_or_default(),
        })
        .await
        .unwrap();
    assert!(matches!(again, CallbackSaved::Duplicate(id) if id == old.id));
    // New records go on after the old ones.
    let next = f
        .store
        .insert_callback(callback("1", "{}".into()))
        .await
        .unwrap();
    assert!(matches!(next, CallbackSaved::Stored(4)));
}

mod chain;
mod on_postgres;
mod overdue;
mod retention;
