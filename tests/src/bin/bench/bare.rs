//! The limit: the console's receiver and feed endpoints with no store behind them. A callback is read
//! whole, answered `{"status":"stored"}`, and broadcast to every open `/api/events` stream. It runs as
//! a child process of the bench (`bench --bare-axum-server`) so its memory is its own.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use futures_util::Stream;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// As the console's `feed.channel_capacity`: how far a subscriber may fall behind.
const CAPACITY: usize = 1024;

struct Feed {
    tx: broadcast::Sender<Arc<(u64, String)>>,
    /// Taken while sending, so ids reach every subscriber in order.
    last_id: Mutex<u64>,
}

pub async fn serve() -> std::io::Result<()> {
    let feed = Arc::new(Feed {
        tx: broadcast::channel(CAPACITY).0,
        last_id: Mutex::new(0),
    });
    let app = Router::new()
        .route("/clients/{client}/rest/callback/{kind}", post(receive))
        .route("/api/events", get(events))
        .with_state(feed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    // As the console does: without it, Nagle holds each small event back until the last is acked.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn receive(State(feed): State<Arc<Feed>>, body: Bytes) -> Json<Value> {
    let text = String::from_utf8_lossy(&body).into_owned();
    {
        let mut last = feed.last_id.lock().expect("feed lock");
        *last += 1;
        // No subscriber is not an error.
        let _ = feed.tx.send(Arc::new((*last, text)));
    }
    Json(json!({"status": "stored"}))
}

async fn events(
    State(feed): State<Arc<Feed>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = feed.tx.subscribe();
    // A subscriber that lagged is closed, as the console does (it has no store to replay from).
    Sse::new(futures_util::stream::unfold(rx, |mut rx| async move {
        let e = rx.recv().await.ok()?;
        let event = Event::default()
            .event("callback")
            .id(e.0.to_string())
            .data(&e.1);
        Some((Ok(event), rx))
    }))
}

/// The bare server running as a child process; killed on drop.
pub struct BareServer {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl BareServer {
    pub async fn start() -> std::io::Result<BareServer> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--bare-axum-server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let line = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map(|_| line)
            }),
        )
        .await;
        let addr = match line {
            Ok(Ok(Ok(line))) => line
                .trim()
                .strip_prefix("listening on http://")
                .map(str::to_string),
            _ => None,
        };
        let mut server = BareServer {
            child,
            addr: String::new(),
        };
        match addr {
            Some(a) => {
                server.addr = a;
                Ok(server)
            }
            None => {
                let _ = server.child.kill();
                Err(std::io::Error::other(
                    "the bare axum server did not say where it listens",
                ))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
