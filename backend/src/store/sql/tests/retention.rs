//! Retention through the store's boundary, on a real file, with the clock in the test's hands: the
//! records are made now and then dated back with SQL (the stand-in for the passage of time), and the
//! cutoffs are handed to `prune` as the timer would.

use super::*;
use crate::store::sql::retention::{prunable, prune};
use crate::store::{Cutoffs, NewPoll, Pruned};

const DAY: i64 = 86_400_000;

/// A sign command Hermod took as `command_id`, with a callback and a poll, each holding `marker`
/// (the callback names the device `profile:<marker>-device`); `reissue_of` when it re-issues another.
/// Gives its id and its callback's.
async fn command(
    store: &SqlStore,
    command_id: &str,
    marker: &str,
    reissue_of: Option<i64>,
) -> (i64, i64) {
    let answer = format!(r#"{{"commandId":"{command_id}","n":"{marker}-answer"}}"#);
    let c = sent(
        store,
        command_id,
        &format!("{marker}-request"),
        &answer,
        reissue_of,
        None,
    )
    .await;
    let body = format!(
        r#"{{"commandId":"{command_id}","n":"{marker}-callback","profileId":"{marker}-device"}}"#
    );
    let CallbackSaved::Stored(callback) = store
        .insert_callback(super::callback(command_id, body))
        .await
        .unwrap()
    else {
        panic!("stored");
    };
    store
        .insert_poll(NewPoll {
            command: c.id,
            reply: super::reply(&format!(r#"{{"n":"{marker}-poll"}}"#)),
            state: None,
            reason: None,
        })
        .await
        .unwrap();
    (c.id, callback)
}

/// An unmatched callback holding `marker`, naming the device `card:<marker>`, received at `at`.
async fn stray(store: &SqlStore, marker: &str, at: i64) -> i64 {
    let mut c = super::callback(
        marker,
        format!(r#"{{"n":"{marker}","smartcardid":"{marker}"}}"#),
    );
    c.received_at = at;
    let CallbackSaved::Stored(id) = store.insert_callback(c).await.unwrap() else {
        panic!("stored");
    };
    id
}

/// Dates command `id`, its callbacks and polls back to `at`.
async fn date_back(store: &SqlStore, id: i64, at: i64) {
    exec(
        store,
        format!("UPDATE commands SET created_at = {at}, updated_at = {at} WHERE id = {id}"),
    )
    .await
    .unwrap();
    for (table, column) in [("callbacks", "received_at"), ("polls", "at")] {
        exec(
            store,
            format!("UPDATE {table} SET {column} = {at} WHERE command = {id}"),
        )
        .await
        .unwrap();
    }
}

/// Prunes batch after batch until nothing is left; the batches, and what went in all.
async fn prune_all(store: &SqlStore, cutoffs: Cutoffs, batch: usize) -> (Vec<Pruned>, Pruned) {
    let mut batches = Vec::new();
    let mut total = Pruned::default();
    loop {
        let one = store.prune(cutoffs, batch).await.unwrap();
        if one.is_empty() {
            return (batches, total);
        }
        batches.push(one);
        total += one;
    }
}

/// Documents of the search index holding every piece of `text`.
fn found(store: &SqlStore, text: &str) -> i64 {
    let query = format!(
        "SELECT COUNT(*) FROM search WHERE search MATCH '{}'",
        super::find::pieces(text)
    );
    read(store, &query)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_commands_go_with_their_callbacks_polls_and_search_rows_and_the_rest_stays() {
    let f = Fixture::new("retention");
    let now = crate::clock::now_ms();
    let (old, old_callback) = command(&f.store, "1001", "oldmark", None).await;
    let (reissued, _) = command(&f.store, "1002", "reissuedmark", None).await;
    let (reissue, _) = command(&f.store, "1003", "reissuemark", Some(reissued)).await;
    let (young, _) = command(&f.store, "1004", "youngmark", None).await;
    // An old command whose callback came yesterday goes later, with it.
    let (late, _) = command(&f.store, "1005", "latemark", None).await;
    let old_stray = stray(&f.store, "oldstray", now - 40 * DAY).await;
    let young_stray = stray(&f.store, "youngstray", now).await;
    // Search holds them all once the indexer is done; a record not indexed yet would stay.
    assert_eq!(f.store.searchable().await, 0);
    for id in [old, reissued, late] {
        date_back(&f.store, id, now - 40 * DAY).await;
    }
    exec(
        &f.store,
        format!(
            "UPDATE callbacks SET received_at = {} WHERE command = {late}",
            now - DAY
        ),
    )
    .await
    .unwrap();
    for marker in ["oldmark", "reissuedmark", "oldstray"] {
        assert_eq!(
            found(&f.store, marker),
            if marker == "oldstray" { 1 } else { 4 }
        );
    }
    let decoded_before = read(&f.store, "SELECT COUNT(*) FROM decoded");
    let devices = |keys: &[&str]| {
        let listed: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM devices WHERE key IN ({})",
            listed.join(", ")
        );
        read(&f.store, &sql)
    };
    let went = [
        "profile:oldmark-device",
        "profile:reissuedmark-device",
        "card:oldstray",
    ];
    let stay = [
        "profile:reissuemark-device",
        "profile:youngmark-device",
        "profile:latemark-device",
        "card:youngstray",
    ];
    assert_eq!(devices(&went) + devices(&stay), 7, "every device noted");

    let cutoffs = Cutoffs {
        commands: Some(now - 30 * DAY),
        unmatched_callbacks: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    let counted = prunable(&f.dir, &cutoffs).unwrap();
    // One command a batch: bounded, and the kinds one after the other.
    let (batches, total) = prune_all(&f.store, cutoffs, 1).await;
    let expected = Pruned {
        commands: 2,
        callbacks: 2,
        polls: 2,
        unmatched_callbacks: 1,
        ..Pruned::default()
    };
    assert_eq!(total, expected);
    assert_eq!(counted, expected, "the dry run counts what goes");
    assert_eq!(batches.len(), 3);
    assert!(
        batches
            .iter()
            .all(|b| b.commands + b.unmatched_callbacks == 1)
    );

    for gone in [old, reissued] {
        assert!(f.store.command(gone).await.unwrap().is_none(), "{gone}");
    }
    assert!(f.store.callback(old_callback).await.unwrap().is_none());
    assert!(f.store.callback(old_stray).await.unwrap().is_none());
    for kept in [reissue, young, late] {
        assert!(f.store.command(kept).await.unwrap().is_some(), "{kept}");
    }
    assert!(f.store.callback(young_stray).await.unwrap().is_some());
    // The re-issue stays, its reference to what went cleared.
    let kept = f.store.command(reissue).await.unwrap().unwrap();
    assert_eq!(kept.reissue_of, None);
    let detail = f.store.command_detail(late, None).await.unwrap().unwrap();
    assert_eq!(
        detail.detail.timeline.len(),
        4,
        "sent, answer, callback, poll"
    );
    // What search kept of them went with them; the rest is still found.
    for marker in ["oldmark", "reissuedmark", "oldstray"] {
        assert_eq!(found(&f.store, marker), 0, "{marker}");
    }
    for marker in ["reissuemark", "youngmark", "latemark", "youngstray"] {
        assert!(found(&f.store, marker) > 0, "{marker}");
    }
    assert!(read(&f.store, "SELECT COUNT(*) FROM decoded") <= decoded_before);
    let orphans = "SELECT COUNT(*) FROM decoded WHERE (doc >> 2) NOT IN \
                   (SELECT id FROM commands UNION SELECT id FROM callbacks UNION SELECT id FROM polls)";
    assert_eq!(read(&f.store, orphans), 0);
    // And the devices only they named.
    assert_eq!(devices(&went), 0);
    assert_eq!(devices(&stay), 4);
    let orphans = orphans.replace("decoded", "device_docs");
    assert_eq!(read(&f.store, &orphans), 0);
    // Nothing is left to go, and the count says so.
    assert_eq!(prunable(&f.dir, &cutoffs).unwrap(), Pruned::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_indexer_has_not_reached_and_the_newest_callback_stay() {
    let f = Fixture::new("retention-keep");
    let now = crate::clock::now_ms();
    let first = stray(&f.store, "firststray", now - 50 * DAY).await;
    let newest = stray(&f.store, "neweststray", now - 40 * DAY).await;
    assert_eq!(f.store.searchable().await, 0);
    let cutoffs = Cutoffs {
        unmatched_callbacks: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    // As though the indexer had not reached them, they stay: in one job, or the indexer would catch
    // up in between.
    let pruned = f
        .store
        .writer
        .write(move |b| {
            let unindexed = "UPDATE indexed SET upto = ? WHERE kind = 1";
            b.db().execute(unindexed, &crate::params![0])?;
            let pruned = prune(b, &cutoffs, 10)?;
            b.db().execute(unindexed, &crate::params![newest])?;
            Ok::<_, StoreError>(pruned)
        })
        .await
        .unwrap();
    assert!(pruned.is_empty());
    let (_, total) = prune_all(&f.store, cutoffs, 10).await;
    assert_eq!(total.unmatched_callbacks, 1);
    assert!(f.store.callback(first).await.unwrap().is_none());
    // The newest stays: a new callback then takes the next id, never one that was handed out.
    assert!(f.store.callback(newest).await.unwrap().is_some());
    let next = stray(&f.store, "nextstray", now).await;
    assert_eq!(next, newest + 1);
}

/// The `data:` line of a framed event.
fn data(p: &Published) -> String {
    let frame = String::from_utf8_lossy(&p.frame).into_owned();
    let line = frame.lines().find_map(|l| l.strip_prefix("data: "));
    line.unwrap_or_default().to_string()
}

fn name(p: &Published) -> String {
    let frame = String::from_utf8_lossy(&p.frame).into_owned();
    let line = frame.lines().find_map(|l| l.strip_prefix("event: "));
    line.unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_goes_from_its_oldest_event_on_keeps_its_newest_and_replay_says_reset() {
    let f = Fixture::new("retention-feed");
    let now = crate::clock::now_ms();
    for i in 0..5 {
        stray(&f.store, &format!("feedstray{i}"), now).await;
    }
    assert_eq!(f.store.current_seq(), 5);
    let cutoffs = Cutoffs {
        feed: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    // Events 1, 2 and 4 are old, 3 is not: the feed goes up to 3, never from its middle.
    exec(
        &f.store,
        format!(
            "UPDATE feed SET at = {} WHERE seq IN (1, 2, 4)",
            now - 40 * DAY
        ),
    )
    .await
    .unwrap();
    assert_eq!(prunable(&f.dir, &cutoffs).unwrap().feed, 2);
    let (_, total) = prune_all(&f.store, cutoffs, 500).await;
    assert_eq!(total.feed, 2);
    let replay = f.store.feed_after(0, 100, 1 << 20).await.unwrap();
    let seqs: Vec<i64> = replay.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5], "a reset standing at 2, then 3 on");
    assert_eq!(
        (name(&replay[0]), data(&replay[0])),
        ("reset".into(), "3".into())
    );
    assert_eq!(name(&replay[1]), "callback");
    // From a kept position, no reset: from 2 (where the reset left the stream) on, or later.
    for after in [2, 3] {
        let replay = f.store.feed_after(after, 100, 1 << 20).await.unwrap();
        assert!(
            replay.iter().all(|p| name(p) == "callback"),
            "after {after}"
        );
        assert_eq!(replay[0].seq, after + 1);
    }

    // Everything old: all but the newest go, which a restart numbers on from.
    exec(&f.store, format!("UPDATE feed SET at = {}", now - 40 * DAY))
        .await
        .unwrap();
    let (_, total) = prune_all(&f.store, cutoffs, 1).await;
    assert_eq!(total.feed, 2);
    assert_eq!(read(&f.store, "SELECT COUNT(*) FROM feed"), 1);
    let replay = f.store.feed_after(1, 100, 1 << 20).await.unwrap();
    assert_eq!(replay.iter().map(|p| p.seq).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(data(&replay[0]), "5");
    f.store.close().await.unwrap();
    let store = SqlStore::open(&f.dir, Feed::new(64), SUMMARY_BODY_BYTES).unwrap();
    assert_eq!(store.current_seq(), 5);
    stray(&store, "afterrestart", now).await;
    assert_eq!(store.current_seq(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_loses_old_entries_through_the_pruner_alone() {
    let f = Fixture::new("retention-audit");
    let now = crate::clock::now_ms();
    for at in [now - 50 * DAY, now - 40 * DAY, now - 2 * DAY, now] {
        entry_at(&f.store, at).await;
    }
    let count = || read(&f.store, "SELECT COUNT(*) FROM audit");
    // Refused: a plain delete, of everything or of old entries only; an update.
    for sql in [
        "DELETE FROM audit".to_string(),
        format!("DELETE FROM audit WHERE at < {}", now - 30 * DAY),
        "UPDATE audit SET actor = 'nobody'".to_string(),
    ] {
        let e = exec(&f.store, sql.clone()).await.unwrap_err();
        assert!(e.0.contains("append-only"), "{sql}: {e}");
    }
    // A cutoff set by hand still lets nothing younger than a day go.
    let e = exec(
        &f.store,
        format!(
            "UPDATE audit_retention SET before = {}; DELETE FROM audit WHERE at >= {}",
            now + DAY,
            now - DAY
        ),
    )
    .await
    .unwrap_err();
    assert!(e.0.contains("append-only"), "{e}");
    assert_eq!(count(), 4);

    let cutoffs = Cutoffs {
        audit: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prunable(&f.dir, &cutoffs).unwrap().audit, 2);
    let (batches, total) = prune_all(&f.store, cutoffs, 1).await;
    assert_eq!((batches.len(), total.audit), (2, 2));
    assert_eq!(count(), 2);
    // The cutoff was cleared in the pruner's own transaction: a plain delete is refused again.
    assert_eq!(
        read(
            &f.store,
            "SELECT COUNT(*) FROM audit_retention WHERE before IS NULL"
        ),
        1
    );
    assert!(exec(&f.store, "DELETE FROM audit").await.is_err());
    assert_eq!(count(), 2);
    // The chain still holds, from the oldest entry kept.
    let chain = f.store.audit_chain().await.unwrap();
    assert!(chain.intact, "{chain:?}");
    assert_eq!(chain.entries, 2);
}
