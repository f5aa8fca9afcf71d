//! Several replicas on one PostgreSQL database (README, "Running several replicas"): one feed
//! across them, and nothing acknowledged lost when one dies. Two `demo` consoles share a database of
//! a throw-away cluster (tests/src/postgres.rs); a page's stream is open on the first while callbacks
//! are posted to both, and the second is killed (`kill -9`) in the middle of the burst. What it left
//! unanswered is posted again to the first, as Hermod retries through the load balancer.

use futures_util::future::join_all;
use hermod_console_tests::postgres::cluster;
use hermod_console_tests::*;
use hermod_shared::console::FeedEvent;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Senders per replica.
const SENDERS: u64 = 4;
/// The burst runs this long before the kill.
const BEFORE_KILL: Duration = Duration::from_millis(600);

async fn replica(database: &str, secrets: &Secrets) -> Console {
    Console::demo_with(secrets.clone())
        .env("HERMOD_CONSOLE__DATABASE_URL", database)
        .start()
        .await
}

/// Each sender posts its own callbacks one after another to `c`, until one gets no answer (or,
/// on a replica left alive, until `stop` says the other has died and the burst is over).
async fn burst(
    c: &Console,
    first: u64,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<(u64, Option<u16>)> {
    let http = reqwest::Client::new();
    let senders = (0..SENDERS).map(|s| {
        let http = http.clone();
        async move {
            let mut outcomes = Vec::new();
            for i in 0.. {
                let n = first + s * 100_000 + i;
                let answer = c.deliver(&http, n).await;
                outcomes.push((n, answer));
                if answer.is_none() || *stop.borrow() {
                    break;
                }
            }
            outcomes
        }
    });
    join_all(senders).await.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_on_either_replica_reaches_every_page_and_none_is_lost_when_one_dies() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let database = cluster().database();
        let secrets = Secrets::random();
        let a = replica(&database, &secrets).await;
        let b = replica(&database, &secrets).await;
        let mut page = a.subscribe().await;

        let (stop, stopped) = tokio::sync::watch::channel(false);
        let on_a = burst(&a, 0, &stopped);
        let on_b = burst(&b, 10_000_000, &stopped);
        let kill = async {
            tokio::time::sleep(BEFORE_KILL).await;
            // The senders are mid-request: some callbacks are in a transaction, some answered.
            let pid = b.pid().expect("running");
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .expect("kill -9");
            // The senders to the first finish their callback in flight and stop.
            stop.send_replace(true);
        };
        let (on_a, on_b, ()) = tokio::join!(on_a, on_b, kill);
        let outcomes: HashMap<u64, Option<u16>> = on_a.into_iter().chain(on_b).collect();
        let answered_by_b = outcomes
            .iter()
            .filter(|(n, a)| **n >= 10_000_000 && **a == Some(200))
            .count();
        assert!(
            answered_by_b > 0,
            "the second replica took callbacks before it died"
        );
        let unanswered = outcomes.values().filter(|a| **a != Some(200)).count();
        eprintln!(
            "{} callbacks posted, {answered_by_b} answered by the replica killed, {unanswered} \
             unanswered",
            outcomes.len()
        );

        // Hermod retries what got no 2xx, through the load balancer: to the replica still up. Every
        // callback is then stored exactly once.
        a.assert_burst_stored_once(&outcomes).await;

        // The page on the first replica saw every one of them, those the second stored included,
        // in one sequence without a gap.
        let last = a.feed_seq().await;
        let events = page.feed_to_seq(last, Duration::from_secs(20)).await;
        let seqs: Vec<i64> = events.iter().map(SseEvent::seq).collect();
        let first = seqs[0];
        assert_eq!(
            seqs,
            (first..=last).collect::<Vec<_>>(),
            "one sequence, no gap"
        );
        let seen: HashSet<String> = events
            .iter()
            .filter_map(|e| match e.feed() {
                FeedEvent::Callback { callback, .. } => callback.command_id,
                _ => None,
            })
            .collect();
        for n in outcomes.keys() {
            assert!(seen.contains(&burst_id(*n)), "the page saw callback {n}");
        }
        a.assert_healthy().await;
    })
    .await
    .expect("the replicas test ran within its time bound");
}

/// The commands that work on the database directly find it as `serve` does, in the environment's
/// `HERMOD_CONSOLE__DATABASE_URL`: an account added on the command line logs in on a replica, and
/// `backup` says what to use instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_works_on_the_replicas_database() {
    let database = cluster().database();
    let c = replica(&database, &Secrets::random()).await;
    let env = [("HERMOD_CONSOLE__DATABASE_URL".to_string(), database)];
    let password = unique("SeCrEtCliPw");
    let add = args([
        "user",
        "add",
        "carol",
        "--role",
        "viewer",
        "--password-stdin",
    ]);
    let wait = Duration::from_secs(30);
    let (status, _, err) = run_with_input(&add, &env, Some(format!("{password}\n")), wait).await;
    assert!(status.success(), "user add: {err}");
    c.login("carol", &password).await;

    let backup = args(["backup", "--to", "/nonexistent/console.sqlite3"]);
    let (status, _, err) = run_with_input(&backup, &env, None, wait).await;
    assert!(!status.success());
    assert!(err.contains("pg_dump"), "backup says what to use: {err}");
    assert!(
        !err.contains("postgres://"),
        "the URL, which may hold a password, is not shown: {err}"
    );
}
