//! A subscriber that falls behind the live channel is closed, never silently skipped (invariant 3,
//! docs/ARCHITECTURE.md): what it got has no gap, and it resumes from its last id.

use futures_util::StreamExt;
use hermod_console_tests::*;
use std::time::Duration;

/// Callbacks posted while the subscriber does not read; each one a feed event of about this size.
const CALLBACKS: usize = 600;
const PADDING: usize = 32 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_closed_not_skipped_and_resumes() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__FEED__CHANNEL_CAPACITY", "8")
        .start()
        .await;
    let start = c.feed_seq().await;
    // Opened, then not read while the events pile up.
    let mut slow = c.events(None, Some(start)).await;

    let padding = "x".repeat(PADDING);
    let (user, password) = c.idm_auth();
    let results: Vec<u16> = futures_util::stream::iter(0..CALLBACKS)
        .map(|i| {
            let body = serde_json::json!({
                "commandId": format!("{}", 9_000_000 + i),
                "state": "COMPLETED",
                "n": i,
                "padding": padding,
            })
            .to_string();
            let request = c
                .http
                .post(format!("{}/clients/idm/rest/callback/ping", c.url))
                .basic_auth(user, Some(password))
                .header("content-type", "application/json")
                .body(body);
            async move {
                request
                    .send()
                    .await
                    .expect("post a callback")
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(results.iter().all(|&s| s == 200), "every callback stored");
    let end = c.feed_seq().await;
    assert_eq!(end, start + CALLBACKS as i64, "one feed event per callback");

    // Now read: the stream must end, and what came before the end has no gap.
    let mut got: Vec<i64> = Vec::new();
    loop {
        let wait = if got.last() == Some(&end) {
            Duration::from_secs(3)
        } else {
            WAIT
        };
        match slow.next(wait).await {
            Next::Event(e) if e.is_heartbeat() => {}
            Next::Event(e) => got.push(e.seq()),
            Next::End => break,
            Next::Timeout => panic!(
                "the lagging stream was not closed: {} of {} events read, last {:?}",
                got.len(),
                CALLBACKS,
                got.last()
            ),
        }
    }
    eprintln!(
        "lagging subscriber read {} of {} events before the end",
        got.len(),
        CALLBACKS
    );
    let expected: Vec<i64> = (start + 1..=start + got.len() as i64).collect();
    assert_eq!(
        got, expected,
        "consecutive ids up to the close: no event skipped"
    );
    let last = got.last().copied().unwrap_or(start);
    assert!(
        last < end,
        "the subscriber must have fallen behind for this test to mean anything"
    );

    // It resumes with its last id and gets exactly the rest.
    let mut resumed = c.events(Some(&last.to_string()), None).await;
    let rest: Vec<i64> = resumed
        .feed_to_seq(end, WAIT)
        .await
        .iter()
        .map(SseEvent::seq)
        .collect();
    assert_eq!(rest, (last + 1..=end).collect::<Vec<_>>());
    // Counted for monitoring, as the console's doing (README.md, "Monitoring").
    c.assert_metric("hermod_console_feed_streams_closed_total{reason=\"lagged\"} 1")
        .await;
    c.assert_healthy().await;
}
