//! The audit log's hash chain (chain.rs), on a real file: it holds for what the console wrote, and
//! names the first entry changed, removed or added behind the console's back, triggers dropped.

use super::*;

/// A store with four entries written as the console writes them.
async fn four_entries(tag: &str) -> Fixture {
    let f = Fixture::new(tag);
    for i in 0..4 {
        f.store
            .audit(AuditEntry {
                actor: "admin".into(),
                actor_kind: "user",
                source: "127.0.0.1".into(),
                action: "login",
                target: Some(format!("entry-{i}")),
                outcome: "ok",
                request_id: None,
                detail: serde_json::json!({"n": i}),
            })
            .await
            .unwrap();
    }
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_holds_for_what_the_console_wrote_and_names_what_was_done_behind_its_back() {
    let f = four_entries("chain").await;
    let chain = f.store.audit_chain().await.unwrap();
    assert!(chain.intact, "{chain:?}");
    assert_eq!(chain.entries, 4);
    let head = chain.head.expect("a head");
    assert_eq!(head.len(), 64);
    // One more entry moves the head.
    entry_at(&f.store, crate::clock::now_ms()).await;
    let chain = f.store.audit_chain().await.unwrap();
    assert_eq!((chain.intact, chain.entries), (true, 5));
    assert_ne!(chain.head.as_deref(), Some(head.as_str()));

    // Each tampering on a store of its own, triggers dropped first.
    let cases = [
        (
            "DROP TRIGGER audit_no_update; UPDATE audit SET target = 'edited' WHERE id = 2",
            2,
            "changed",
        ),
        (
            "DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"n\": 9}' WHERE id = 4",
            4,
            "changed",
        ),
        (
            "DROP TRIGGER audit_no_update; UPDATE audit SET hash = prev WHERE id = 2",
            2,
            "changed",
        ),
        (
            "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 3",
            4,
            "does not follow",
        ),
        (
            "INSERT INTO audit (at, actor, actor_kind, source, action, outcome) \
             VALUES (0, 'intruder', 'user', 'local', 'login', 'ok')",
            5,
            "not in the chain",
        ),
    ];
    for (i, (sql, id, reason)) in cases.into_iter().enumerate() {
        let f = four_entries(&format!("chain-{i}")).await;
        exec(&f.store, sql).await.unwrap();
        let chain = f.store.audit_chain().await.unwrap();
        assert!(!chain.intact, "{sql}");
        assert_eq!(chain.broken_at, Some(id), "{sql}: {chain:?}");
        let why = chain.reason.unwrap_or_default();
        assert!(why.contains(reason), "{sql}: {why}");
    }
}
