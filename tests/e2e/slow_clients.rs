//! Slow and idle clients cannot hold the console's connections: a request's head must arrive within
//! `limits.header_read_timeout_secs` (of the connection's start, or of the answer before it), and a
//! listener holds at most `limits.max_connections` connections, the rest waiting their turn.

use hermod_console_tests::*;
use hermod_shared::console::Role;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(c: &Console) -> String {
    c.url.trim_start_matches("http://").to_string()
}

/// Waits until the server closes `tcp` (whatever it sent first); how long that took.
async fn closed_by_server(mut tcp: TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), tcp.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

/// A plain HTTP/1.1 client that does not keep connections: each probe is a connection of its own.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_and_idle_connections_are_cut_off_while_requests_are_answered() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__LIMITS__HEADER_READ_TIMEOUT_SECS", "2")
        .start()
        .await;
    let address = addr(&c);
    let mut slow = Vec::new();
    for i in 0..200 {
        let mut tcp = TcpStream::connect(&address).await.expect("connect");
        // Half a request line; a tenth send nothing at all; a few open the feed, half-way.
        match i % 10 {
            0 => {}
            1 => tcp.write_all(b"GET /api/events HT").await.expect("write"),
            _ => tcp.write_all(b"GET /healthz HT").await.expect("write"),
        }
        slow.push(tcp);
    }
    // An idle kept-alive connection: one answered request, then silence.
    let mut idle = TcpStream::connect(&address).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 256];
    let n = idle.read(&mut head).await.expect("the answer");
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &head[..n]);

    let cut = tokio::spawn(async move {
        let waits = slow
            .into_iter()
            .chain([idle])
            .map(|tcp| closed_by_server(tcp, Duration::from_secs(6)));
        futures_util::future::join_all(waits).await
    });
    // Meanwhile the console answers others as usual.
    let http = fresh_client();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let asked = Instant::now();
        let r = http
            .get(format!("{}/healthz", c.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .expect("healthz answered while slow clients hang on");
        assert_eq!(r.status().as_u16(), 200);
        assert!(asked.elapsed() < Duration::from_secs(1), "answered at once");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let closed = cut.await.expect("the waits");
    let open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        open,
        0,
        "{open} of {} slow connections still open after 6 s",
        closed.len()
    );
    let latest = closed.iter().flatten().max().copied().unwrap_or_default();
    assert!(
        latest >= Duration::from_millis(1500),
        "cut at the timeout, not before: {latest:?}"
    );
    c.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_for_a_place() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__LIMITS__MAX_CONNECTIONS", "3")
        .env("HERMOD_CONSOLE__LIMITS__HEADER_READ_TIMEOUT_SECS", "1")
        .start()
        .await;
    let token = c.mint_token("cap", Role::Viewer, 1).await.token;
    // The harness's own kept-alive connections end by the header timeout.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Three feed streams take the three places.
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(addr(&c)).await.expect("connect");
        tcp.write_all(
            format!(
                "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
        let mut head = [0u8; 64];
        let n = tcp.read(&mut head).await.expect("the stream's head");
        assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &head[..n]);
        streams.push(tcp);
    }
    // A fourth connection waits: the console does not take it.
    let http = fresh_client();
    let waiting = http
        .get(format!("{}/healthz", c.url))
        .timeout(Duration::from_millis(1500))
        .send()
        .await;
    assert!(waiting.is_err(), "answered past the cap: {waiting:?}");
    // A place frees up, and the next request is answered at once.
    drop(streams.pop());
    let r = http
        .get(format!("{}/healthz", c.url))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("answered once a place is free");
    assert_eq!(r.status().as_u16(), 200);
}
