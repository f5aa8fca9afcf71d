//! The live feed (docs/ARCHITECTURE.md, invariant 3): replay after `Last-Event-ID` / `?after=`, no
//! gap, no duplicate; heartbeats without ids; the stream's headers.

use hermod_console_tests::*;
use std::time::{Duration, Instant};

/// Sends a ping and waits until it is completed with its callback stored (so its events are all in).
async fn complete_one(c: &Console) {
    let r = c.send("ping", ping_body(&unique("feed-"), 30)).await;
    c.wait_for_state(r.id, "COMPLETED").await;
    c.wait_for_callbacks(r.id, 1).await;
}

#[tokio::test]
async fn a_reconnecting_subscriber_gets_exactly_the_events_it_missed() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS", "1")
        .start()
        .await;
    let start = c.feed_seq().await;
    let mut first = c.events(None, Some(start)).await;
    complete_one(&c).await;

    // Take two events, then go away.
    let a = first.next_feed(WAIT).await;
    let b = first.next_feed(WAIT).await;
    assert_eq!(
        (a.seq(), b.seq()),
        (start + 1, start + 2),
        "from the first event on"
    );
    let last = b.seq();
    drop(first);

    // More happens while away.
    for _ in 0..3 {
        complete_one(&c).await;
    }
    let end = c.feed_seq().await;
    assert!(end >= last + 12, "enough was missed: {last}..{end}");
    let missed: Vec<i64> = (last + 1..=end).collect();

    let mut replays = Vec::new();
    for (how, header, after) in [
        ("Last-Event-ID", Some(last.to_string()), None),
        ("?after", None, Some(last)),
        ("Last-Event-ID over ?after", Some(last.to_string()), Some(0)),
    ] {
        let mut sse = c.events(header.as_deref(), after).await;
        let events = sse.feed_to_seq(end, WAIT).await;
        let seqs: Vec<i64> = events.iter().map(SseEvent::seq).collect();
        assert_eq!(seqs, missed, "{how}: exactly the missed events, in order");
        // Nothing more (no duplicate) before the next heartbeat.
        match sse.next(Duration::from_secs(5)).await {
            Next::Event(e) if e.is_heartbeat() => {}
            other => panic!("{how}: after the replay expected a heartbeat, got {other:?}"),
        }
        replays.push(events);
    }
    assert_eq!(replays[0], replays[1], "both ways replay the same events");

    // What was replayed is what was stored: the events match the records.
    for e in &replays[0] {
        e.feed();
    }
    c.assert_healthy().await;
}

#[tokio::test]
async fn live_events_follow_the_replay_without_a_gap() {
    let c = Console::demo().start().await;
    complete_one(&c).await;
    // Subscribe from the beginning while new events keep coming.
    let sends = async {
        for _ in 0..3 {
            complete_one(&c).await;
        }
    };
    let (mut sse, ()) = tokio::join!(c.events(None, Some(0)), sends);
    let end = c.feed_seq().await;
    let seqs: Vec<i64> = sse
        .feed_to_seq(end, WAIT)
        .await
        .iter()
        .map(SseEvent::seq)
        .collect();
    assert_eq!(seqs, (1..=end).collect::<Vec<_>>());
}

#[tokio::test]
async fn heartbeats_arrive_without_an_id_and_carry_the_sequence() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS", "1")
        .start()
        .await;
    complete_one(&c).await;
    let seq = c.feed_seq().await;
    // Asking for compression, as browsers do: the stream must still come uncompressed.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "accept-encoding",
        reqwest::header::HeaderValue::from_static("gzip, deflate, br, zstd"),
    );
    let cookie = c.admin_session().cookie_header();
    headers.insert("cookie", cookie.parse().unwrap());
    let http = client_builder(None, headers).build().unwrap();
    let mut sse = c.events_as(&http, None, None).await;
    let headers = sse.headers().clone();
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    assert_eq!(
        headers
            .get("x-accel-buffering")
            .and_then(|v| v.to_str().ok()),
        Some("no")
    );
    assert!(
        headers.get("content-encoding").is_none(),
        "SSE is never compressed"
    );

    let started = Instant::now();
    let mut beats = Vec::new();
    while beats.len() < 3 {
        match sse.next(Duration::from_secs(3)).await {
            Next::Event(e) => {
                assert!(e.is_heartbeat(), "nothing but heartbeats expected: {e:?}");
                assert_eq!(e.id, None, "a heartbeat never carries an id: {e:?}");
                let hb = e.heartbeat();
                assert_eq!(hb.seq, seq, "the heartbeat carries the current sequence");
                assert!(!hb.server_time.is_empty());
                beats.push(Instant::now());
            }
            other => panic!("expected heartbeats every second, got {other:?}"),
        }
    }
    // One clock ticks for every stream, so the first beat comes at any point of its second; the
    // ones after it come a second apart, give or take how late this reader was scheduled for each
    // (on a loaded CI machine, 0.8 s late for one and on time for the next: 0.2 s apart), but
    // never two at once.
    assert!(started.elapsed() < Duration::from_secs(5));
    for pair in beats.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(100) && gap < Duration::from_millis(2500),
            "heartbeats every second, got one {gap:?} after the last"
        );
    }

    // After new events, the next heartbeat carries the new sequence.
    complete_one(&c).await;
    let now = c.feed_seq().await;
    sse.feed_to_seq(now, WAIT).await;
    loop {
        match sse.next(Duration::from_secs(3)).await {
            Next::Event(e) if e.is_heartbeat() => {
                assert_eq!(e.heartbeat().seq, now);
                break;
            }
            Next::Event(e) => assert!(e.seq() <= now, "unexpected event {e:?}"),
            other => panic!("expected a heartbeat, got {other:?}"),
        }
    }
}
