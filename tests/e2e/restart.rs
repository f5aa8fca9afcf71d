//! The database survives a restart (invariant 2): the same records under the same ids, the same feed
//! history, and sequences that go on rather than start again. Open streams end on shutdown.

use hermod_console_tests::*;
use hermod_shared::console::CommandState;
use std::time::Duration;

#[tokio::test]
async fn everything_is_still_there_after_a_restart_on_the_same_data_dir() {
    let mut c = Console::demo().start().await;
    let ok = c.send("sign", sign_body(&unique("keep-"), 30)).await;
    let rejected = c.send("ping", ping_body(&unique("reject-keep-"), 30)).await;
    let held = c
        .send("authenticate", authenticate_body(&unique("hold-keep-"), 60))
        .await;
    c.wait_for_state(ok.id, "COMPLETED").await;
    c.wait_for_state(rejected.id, "REJECTED").await;
    c.wait_for_callbacks(ok.id, 1).await;
    c.wait_for_callbacks(rejected.id, 1).await;
    let unmatched = c
        .post_callback(
            "/clients/idm/rest/callback/frobnicate",
            Some(c.idm_auth()),
            "text/plain",
            unique("stray-"),
        )
        .await
        .expect(200)
        .json();
    let commands = c.commands("").await;
    let callbacks = c.callbacks("").await;
    assert_eq!(commands.items.len(), 3);
    assert_eq!(callbacks.items.len(), 3);
    let end = commands.feed_seq;
    let mut history = c.events(None, Some(0)).await;
    let before: Vec<SseEvent> = history.feed_to_seq(end, WAIT).await;
    let details = [
        c.detail(ok.id).await,
        c.detail(rejected.id).await,
        c.detail(held.id).await,
    ];

    // A stream open during shutdown ends (and does not hold the shutdown up: `restart` allows 10 s).
    let mut open = c.subscribe().await;
    c.restart().await;
    match open.next(Duration::from_secs(5)).await {
        Next::End => {}
        Next::Event(e) if e.is_heartbeat() => match open.next(Duration::from_secs(5)).await {
            Next::End => {}
            other => panic!("the stream did not end on shutdown: {other:?}"),
        },
        other => panic!("the stream did not end on shutdown: {other:?}"),
    }

    // The file is in WAL mode, as the store sets it: the header's format versions (bytes 18 and 19)
    // are 2 for WAL, 1 for a rollback journal.
    let db = std::fs::read(c.data_dir().join("hermod-console.sqlite3")).expect("the database file");
    assert_eq!(&db[..16], b"SQLite format 3\0");
    assert_eq!((db[18], db[19]), (2, 2), "the database is in WAL mode");

    let commands_after = c.commands("").await;
    assert_eq!(
        commands_after.items, commands.items,
        "the same commands, the same ids"
    );
    assert_eq!(commands_after.feed_seq, end);
    assert_eq!(
        c.callbacks("").await.items,
        callbacks.items,
        "the same callbacks"
    );
    for d in &details {
        // The curl names the command URL as configured now: demo's simulator moved to a new port.
        let mut after = c.detail(d.command.id).await;
        after.curl = d.curl.clone();
        assert_eq!(&after, d, "the same detail and timeline");
    }
    assert!(
        c.callbacks("?unmatched=true")
            .await
            .items
            .iter()
            .any(|cb| cb.id == unmatched["id"].as_i64().unwrap_or_default())
    );
    let mut replay = c.events(None, Some(0)).await;
    let after: Vec<SseEvent> = replay.feed_to_seq(end, WAIT).await;
    assert_eq!(
        after, before,
        "the feed replays the same history from after=0"
    );

    // New work gets new ids and sequences after the old ones.
    let new = c.send("ping", ping_body(&unique("after-"), 30)).await;
    assert!(
        new.id > held.id,
        "ids are not reused: {} after {}",
        new.id,
        held.id
    );
    // Hermod's commandIds never come round again, though the simulator forgot everything.
    let number = |r: &hermod_shared::console::CommandRecord| -> u64 {
        r.command_id
            .as_deref()
            .expect("a commandId")
            .parse()
            .expect("a commandId is digits")
    };
    for old in [&ok, &rejected, &held] {
        assert!(
            number(&new) > number(old),
            "commandId {:?} after {:?}",
            new.command_id,
            old.command_id
        );
    }
    let next = replay.next_feed(WAIT).await;
    assert_eq!(next.seq(), end + 1, "the feed continues where it was");
    c.wait_for_state(new.id, "COMPLETED").await;
    // The held command is still IN_PROGRESS as stored (Hermod's simulator restarted and forgot it).
    assert_eq!(
        c.detail(held.id).await.command.state,
        CommandState::InProgress
    );
}

#[tokio::test]
async fn a_second_console_on_the_same_data_directory_refuses_to_start() {
    let c = Console::demo().start().await;
    let dir = c.data_dir().into_os_string();
    let (status, _, stderr) = run_with_input(
        &args([
            "demo".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            dir.clone(),
        ]),
        &[],
        None,
        WAIT,
    )
    .await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("in use by another hermod-console (pid "),
        "{stderr}"
    );
    // The first one is untouched.
    c.assert_healthy().await;

    // The user command works beside a running console, but never makes a database by mistake.
    let empty = tempfile_dir("no-db");
    let (status, _, stderr) = run_with_input(
        &args([
            "user".into(),
            "list".into(),
            "--data-dir".into(),
            empty.clone().into_os_string(),
        ]),
        &[],
        None,
        WAIT,
    )
    .await;
    assert!(!status.success());
    assert!(
        stderr.contains("no database at") && stderr.contains("--init"),
        "{stderr}"
    );
    assert!(!empty.join("hermod-console.sqlite3").exists());
    let _ = std::fs::remove_dir_all(&empty);
    let (status, _, stderr) = run_with_input(
        &args(["user".into(), "list".into(), "--data-dir".into(), dir]),
        &[],
        None,
        WAIT,
    )
    .await;
    assert!(status.success(), "{stderr}");
}

/// A fresh directory of this test's own under the system's temporary directory.
fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique(&format!("hermod-console-{tag}-")));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_callback_acknowledged_before_it() {
    let mut c = Console::demo().start().await;
    let dir = c.data_dir();
    async fn post(c: &Console, n: usize) -> i64 {
        let body = callback_body(&format!("{n}"), &unique("backup-"), "COMPLETED");
        c.post_callback(
            "/clients/idm/rest/callback/sign",
            Some(c.idm_auth()),
            "application/json",
            body,
        )
        .await
        .expect(200)
        .json()["id"]
            .as_i64()
            .expect("an id")
    }
    let mut acknowledged = Vec::new();
    for n in 0..200 {
        acknowledged.push(post(&c, n).await);
    }
    // The backup runs while callbacks keep coming.
    let file = std::env::temp_dir().join(unique("hermod-console-backup-"));
    let backup_args = args([
        "backup".into(),
        "--to".into(),
        file.clone().into_os_string(),
        "--data-dir".into(),
        dir.clone().into_os_string(),
    ]);
    let backup = run_with_input(&backup_args, &[], None, WAIT);
    let burst = async {
        for n in 200..400 {
            post(&c, n).await;
        }
    };
    let ((status, out, err), ()) = tokio::join!(backup, burst);
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("backed up"), "{out}");

    let restore = |replace: bool| {
        let mut words = vec![
            "restore".into(),
            "--from".into(),
            file.clone().into_os_string(),
            "--data-dir".into(),
            dir.clone().into_os_string(),
        ];
        if replace {
            words.push("--replace".into());
        }
        async move { run_with_input(&args(words), &[], None, WAIT).await }
    };
    // Not while the console holds the directory.
    let (status, _, err) = restore(true).await;
    assert!(!status.success());
    assert!(err.contains("in use by another hermod-console"), "{err}");
    assert!(c.stop().await.success());
    // Not over a database without --replace.
    let (status, _, err) = restore(false).await;
    assert!(!status.success() && err.contains("--replace"), "{err}");
    let (status, out, err) = restore(true).await;
    assert!(status.success(), "{out}{err}");

    c.start_again().await;
    let kept: std::collections::HashSet<i64> = c
        .callbacks("?limit=500")
        .await
        .items
        .iter()
        .map(|k| k.id)
        .collect();
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|id| !kept.contains(id))
        .collect();
    assert!(missing.is_empty(), "lost in the backup: {missing:?}");
    let _ = std::fs::remove_file(&file);
}
