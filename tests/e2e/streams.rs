//! Live feed streams and the sessions and tokens behind them: limits per session, and streams that end
//! when their credential does. (The access matrix of every route × role runs in-process:
//! backend/tests/in_process/access.rs.)

use hermod_console_tests::*;
use hermod_shared::console::{FeedEvent, Role};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_session_may_hold_at_most_five_live_feed_streams() {
    let c = Console::demo().start().await;
    let viewer = c.agent(Role::Viewer).await;
    let open = |http: reqwest::Client| {
        let url = format!("{}/api/events", c.url);
        async move {
            http.get(url)
                .timeout(Duration::from_secs(3600))
                .send()
                .await
                .expect("open /api/events")
        }
    };
    let mut streams = Vec::new();
    for _ in 0..5 {
        let s = open(viewer.http.clone()).await;
        assert_eq!(s.status().as_u16(), 200);
        streams.push(s);
    }
    let sixth = Resp::read_unrecorded(open(viewer.http.clone()).await).await;
    sixth.expect_problem(429, Some("too_many_streams"), None);

    // The limit is per session: the same user's other session, and other users, still get theirs.
    let (name, password) = (
        viewer.user.as_ref().expect("a user").username.clone(),
        viewer.password.clone().expect("a password"),
    );
    let other_session = c.session_client(&c.login(&name, &password).await);
    assert_eq!(open(other_session).await.status().as_u16(), 200);
    assert_eq!(open(c.http.clone()).await.status().as_u16(), 200);

    // Closing a stream frees its place.
    streams.pop();
    wait_until("a closed stream's place to be free", WAIT, || async {
        let s = open(viewer.http.clone()).await;
        (s.status().as_u16() == 200).then_some(s)
    })
    .await;
}

/// Reads `stream` until the server ends it; heartbeats and events on the way are fine.
async fn ends(stream: &mut Sse, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next(left).await {
            Next::End => return,
            Next::Event(_) => {}
            Next::Timeout => panic!("the stream stayed open after {what}"),
        }
    }
}

#[tokio::test]
async fn open_feed_streams_end_with_their_session_or_token() {
    let c = Console::demo().start().await;
    let mut watching = c.subscribe().await;

    // Logging out ends the session's streams, in every tab.
    let viewer = c.agent(Role::Viewer).await;
    let mut tab = c.events_as(&viewer.http, None, None).await;
    viewer.delete("/api/session").await.expect(204);
    ends(&mut tab, "logout").await;

    // Revoking a token ends its streams.
    let token = c.mint_token("streaming", Role::Viewer, 1).await;
    let mut automation = c
        .events_as(&c.bearer_client(&token.token), None, None)
        .await;
    c.delete(&format!("/api/tokens/{}", token.record.id))
        .await
        .expect(200);
    ends(&mut automation, "the token was revoked").await;

    // Removing a user ends theirs.
    let removed = c.agent(Role::Operator).await;
    let mut tab = c.events_as(&removed.http, None, None).await;
    let id = removed.user.as_ref().expect("a user").id;
    c.delete(&format!("/api/users/{id}")).await.expect(204);
    ends(&mut tab, "the user was removed").await;

    // Everyone else's stream goes on, and still carries what happens.
    let record = c.send("ping", ping_body(&unique("still-"), 30)).await;
    let seen = watching
        .feed_until(
            WAIT,
            |e| matches!(e, FeedEvent::Command { command, .. } if command.id == record.id),
        )
        .await;
    assert!(!seen.is_empty());
    // The three the console ended are counted for monitoring.
    c.assert_metric("hermod_console_feed_streams_closed_total{reason=\"access\"} 3")
        .await;
}

#[tokio::test]
async fn an_open_stream_is_not_activity_and_ends_with_the_idle_session() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__SESSION_IDLE_SECS", "2")
        .env("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS", "1")
        .start()
        .await;
    let before_login = Instant::now();
    let viewer = c.agent(Role::Viewer).await;
    let mut tab = c.events_as(&viewer.http, None, None).await;
    ends(&mut tab, "the session's idle time").await;
    assert!(
        before_login.elapsed() >= Duration::from_secs(2),
        "ended {:?} after the login, before the idle time",
        before_login.elapsed()
    );
    viewer
        .get("/api/session")
        .await
        .expect_problem(401, Some("unauthenticated"), None);
}
