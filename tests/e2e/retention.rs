//! Retention (README, "Retention"): `prune --dry-run` beside a serving console counts what would go
//! and removes nothing; `prune` wants the console stopped and then removes exactly that; a console
//! prunes by itself on its timer and counts it in `/metrics`; and a replay from a pruned position
//! starts with a `reset` instead of skipping. Records are dated back with SQL, the tests' stand-in
//! for the passage of time.

use hermod_console_tests::*;
use std::ffi::OsString;
use std::process::ExitStatus;
use std::time::Duration;

const FORTY_DAYS_MS: i64 = 40 * 86_400_000;

/// Commands and unmatched callbacks kept 30 days (and so the feed); pruned every second.
fn retention() -> Vec<(String, String)> {
    [
        ("COMMANDS_DAYS", "30"),
        ("UNMATCHED_CALLBACKS_DAYS", "30"),
        ("EVERY_SECS", "1"),
    ]
    .map(|(k, v)| (format!("HERMOD_CONSOLE__RETENTION__{k}"), v.to_string()))
    .to_vec()
}

/// A completed ping with its callback, then a stray callback, dated back 40 days with every feed
/// event so far; then a ping that stays. Gives the old command's id and the last old event's number.
async fn some_of_it_old(c: &Console) -> (i64, i64) {
    let old = c.send("ping", ping_body(&unique("old-"), 30)).await;
    c.wait_for_state(old.id, "COMPLETED").await;
    c.wait_for_callbacks(old.id, 1).await;
    c.post_callback(
        "/clients/idm/rest/callback/frobnicate",
        Some(c.idm_auth()),
        "text/plain",
        unique("stray-"),
    )
    .await
    .expect(200);
    let last_old = c.feed_seq().await;
    let kept = c.send("ping", ping_body(&unique("kept-"), 30)).await;
    c.wait_for_callbacks(kept.id, 1).await;
    // A search waits for the indexer: only what it has reached may go.
    c.callbacks("?q=stray-").await;
    let back =
        |table: &str, set: &str, whose: String| format!("UPDATE {table} SET {set} WHERE {whose}");
    for statement in [
        back(
            "commands",
            &format!(
                "created_at = created_at - {FORTY_DAYS_MS}, updated_at = updated_at - {FORTY_DAYS_MS}"
            ),
            format!("id = {}", old.id),
        ),
        back(
            "callbacks",
            &format!("received_at = received_at - {FORTY_DAYS_MS}"),
            format!("command = {} OR command IS NULL", old.id),
        ),
        back(
            "feed",
            &format!("at = at - {FORTY_DAYS_MS}"),
            format!("seq <= {last_old}"),
        ),
    ] {
        c.sql(&statement).await.expect("date records back");
    }
    (old.id, last_old)
}

/// `hermod-console prune --data-dir <c's> <extra>` with the retention settings in the environment.
async fn prune(c: &Console, extra: &[&str]) -> (ExitStatus, String, String) {
    let mut arguments: Vec<OsString> = args(["prune", "--data-dir"]);
    arguments.push(c.data_dir().into_os_string());
    arguments.extend(args(extra.iter().copied()));
    run_to_exit(&arguments, &retention(), Duration::from_secs(30)).await
}

/// The report's counts (`kind: n`), without its heading or the cutoffs (taken anew by each run).
fn counts(stdout: &str) -> Vec<String> {
    let lines = stdout.lines().skip(1);
    lines
        .map(|l| l.split(" (").next().unwrap_or(l).to_string())
        .collect()
}

/// The first event of a replay from `after` is a `reset` standing just before the oldest kept event,
/// and the events go on from there.
async fn replay_starts_over(c: &Console, after: i64, oldest: i64) {
    let mut sse = c.events(None, Some(after)).await;
    let reset = match sse.next(WAIT).await {
        Next::Event(e) => e,
        other => panic!("expected a reset, got {other:?}"),
    };
    assert_eq!(reset.event, "reset", "{reset:?}");
    assert_eq!(reset.seq(), oldest - 1, "{reset:?}");
    assert_eq!(reset.data, oldest.to_string(), "{reset:?}");
    assert_eq!(sse.next_feed(WAIT).await.seq(), oldest);
}

#[tokio::test]
async fn a_dry_run_counts_beside_the_console_and_prune_removes_that_once_it_is_stopped() {
    // The console itself keeps everything: only the command line is told to prune.
    let mut c = Console::demo().start().await;
    let (old, last_old) = some_of_it_old(&c).await;

    let (status, stdout, stderr) = prune(&c, &["--dry-run"]).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("would remove"), "{stdout}");
    for line in [
        "commands: 1 (older than",
        "callbacks: 1 (older than",
        "polls: 0 (older than",
        "unmatched_callbacks: 1 (older than",
        &format!("feed: {last_old} (older than"),
        "audit: 0 (kept)",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "{line}: {stdout}"
        );
    }
    let would = counts(&stdout);
    // Nothing went.
    c.get(&format!("/api/commands/{old}")).await.expect(200);
    assert_eq!(c.callbacks("?unmatched=true").await.items.len(), 1);

    // Not while the console runs: it prunes by itself.
    let (status, stdout, stderr) = prune(&c, &[]).await;
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("in use"), "{stderr}");

    assert!(c.stop().await.success());
    let (status, stdout, stderr) = prune(&c, &[]).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("removed"), "{stdout}");
    assert_eq!(
        counts(&stdout),
        would,
        "it removed what the dry run counted"
    );
    let (_, again, _) = prune(&c, &["--dry-run"]).await;
    assert!(counts(&again).iter().all(|l| l.ends_with(": 0")), "{again}");

    c.start_again().await;
    c.get(&format!("/api/commands/{old}")).await.expect(404);
    assert!(c.callbacks("?unmatched=true").await.items.is_empty());
    assert_eq!(c.commands("").await.items.len(), 1);
    replay_starts_over(&c, 0, last_old + 1).await;
    // From a position that is kept, no reset.
    let mut sse = c.events(Some(&last_old.to_string()), None).await;
    assert_eq!(sse.next_feed(WAIT).await.seq(), last_old + 1);
}

#[tokio::test]
async fn the_console_prunes_on_its_timer_and_counts_it_in_the_metrics() {
    let mut console = Console::demo();
    for (name, value) in retention() {
        console = console.env(name, value);
    }
    let c = console.start().await;
    let (old, last_old) = some_of_it_old(&c).await;
    let expected = [
        "hermod_console_pruned_total{kind=\"commands\"} 1".to_string(),
        "hermod_console_pruned_total{kind=\"callbacks\"} 1".to_string(),
        "hermod_console_pruned_total{kind=\"unmatched_callbacks\"} 1".to_string(),
        format!("hermod_console_pruned_total{{kind=\"feed\"}} {last_old}"),
    ];
    let metrics = wait_until("the timer to prune", WAIT, || async {
        let text = c.get("/metrics").await.expect(200).text;
        expected
            .iter()
            .all(|line| text.lines().any(|l| l == line))
            .then_some(text)
    })
    .await;
    assert!(metrics.contains("hermod_console_pruned_total{kind=\"audit\"} 0"));
    c.get(&format!("/api/commands/{old}")).await.expect(404);
    // A browser that was away since before it: told to start over, by Last-Event-ID as by ?after.
    replay_starts_over(&c, 1, last_old + 1).await;
    let mut sse = c.events(Some("1"), None).await;
    match sse.next(WAIT).await {
        Next::Event(e) => assert_eq!((e.event.as_str(), e.seq()), ("reset", last_old)),
        other => panic!("expected a reset, got {other:?}"),
    }
    // Ingest goes on.
    let next = c.send("ping", ping_body(&unique("after-"), 30)).await;
    c.wait_for_state(next.id, "COMPLETED").await;
    c.assert_healthy().await;
}
