//! `GET /api/events`: the live feed over server-sent events (docs/ARCHITECTURE.md, "The live feed").
//!
//! Subscribe to the live channel first, then replay the store after `Last-Event-ID` (or `?after=`), then
//! forward live events whose sequence is past the last one sent: no gap, no duplicate. A subscriber that
//! falls behind the channel is closed, never skipped; the browser reconnects with `Last-Event-ID` and
//! replays what it missed from the store.
//!
//! A stream is one small state machine polled by its connection: no task, channel or copy of the
//! request of its own, so ten thousand idle streams cost little more than their sockets. Events go
//! out as the bytes the writer framed once for everyone; heartbeats come from one shared clock.

use super::EventStream;
use crate::auth::{Auth, Caller, Principal, StreamSlot};
use crate::clock::{now_ms, rfc3339};
use crate::error::{ApiError, ApiQuery, Code};
use crate::feed::Published;
use crate::metrics::{Closed, Metrics};
use crate::state::Live;
use crate::store::Store;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use futures_util::stream;
use hermod_shared::console::Heartbeat;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Stored events read per round trip while replaying…
const REPLAY_EVENTS: usize = 500;
/// …and no more than about this much of them at once, whatever their bodies weigh.
const REPLAY_BYTES: usize = 1 << 20;

#[derive(Deserialize, JsonSchema)]
pub struct EventsQuery {
    /// Replay the stored events after this feed sequence first (a list's `feed_seq`); a
    /// `Last-Event-ID` header wins over it.
    after: Option<String>,
}

pub async fn stream(
    State(store): State<Arc<dyn Store>>,
    State(auth): State<Arc<Auth>>,
    State(metrics): State<Arc<Metrics>>,
    State(live): State<Live>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<EventStream, ApiError> {
    let Some(slot) = auth
        .streams
        .acquire(caller.stream_key(), auth.max_streams)
        .await?
    else {
        return Err(ApiError::new(
            Code::TooManyStreams,
            format!(
                "at most {} live-feed streams per session; close another tab",
                auth.max_streams
            ),
        ));
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string());
    let after = super::int("after", &last_event_id.or(q.after))?;
    // Subscribed before the replay is read, so nothing committed in between is missed.
    let events = live.feed.subscribe();
    let last = after.unwrap_or_else(|| store.current_seq());
    metrics.streams_open.inc();
    let feed = Feed {
        shutdown: live.shutdown,
        access: store.access_changes(),
        beat: live.heartbeat.subscribe(),
        every_secs: live.heartbeat_secs.max(1),
        principal: caller.principal,
        live: events,
        last,
        replay: Some(VecDeque::new()),
        store,
        auth,
        open: Open {
            metrics,
            _slot: slot,
        },
    };
    let mut response = Body::from_stream(stream::unfold(feed, Feed::next)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(EventStream(response))
}

/// Holds a stream's place (per session, and in the open-streams gauge) until it ends.
struct Open {
    metrics: Arc<Metrics>,
    _slot: StreamSlot,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.metrics.streams_open.dec();
    }
}

/// One subscriber's stream.
struct Feed {
    shutdown: watch::Receiver<bool>,
    access: watch::Receiver<u64>,
    beat: watch::Receiver<u64>,
    /// How often heartbeats come, as each says (`feed.heartbeat_secs`).
    every_secs: u64,
    principal: Principal,
    live: broadcast::Receiver<Arc<Published>>,
    /// The sequence of the last event sent (or asked to start after).
    last: i64,
    /// While replaying: stored events read and not yet sent. `None` once live.
    replay: Option<VecDeque<Published>>,
    store: Arc<dyn Store>,
    /// Whether the session or token is still valid, at every heartbeat and access change.
    auth: Arc<Auth>,
    open: Open,
}

type Item = Result<Bytes, Infallible>;

impl Feed {
    /// The next bytes to send, or `None` to end the stream: the subscriber fell behind, its session
    /// or token ended, or the server is shutting down.
    async fn next(mut self) -> Option<(Item, Feed)> {
        match self.step().await {
            Ok(bytes) => Some((Ok(bytes), self)),
            Err(reason) => {
                self.open.metrics.stream_closed(reason);
                None
            }
        }
    }

    /// [`Feed::next`], saying why when it ends the stream.
    async fn step(&mut self) -> Result<Bytes, Closed> {
        if *self.shutdown.borrow_and_update() {
            return Err(Closed::Shutdown);
        }
        if let Some(replay) = &mut self.replay {
            if let Some(event) = replay.pop_front() {
                self.last = event.seq;
                return Ok(event.frame);
            }
            // Read only when there is something to read: a subscriber that starts at the newest
            // event (the usual case) never touches the store. Nothing newer can have been missed:
            // the sequence moves before its events are published, and the subscription came first.
            let page = if self.last >= self.store.current_seq() {
                Ok(Vec::new())
            } else {
                self.store
                    .feed_after(self.last, REPLAY_EVENTS, REPLAY_BYTES)
                    .await
            };
            match page {
                Ok(page) if !page.is_empty() => {
                    let mut page = VecDeque::from(page);
                    let first = page.pop_front().ok_or(Closed::Error)?;
                    self.last = first.seq;
                    self.replay = Some(page);
                    return Ok(first.frame);
                }
                Ok(_) => {
                    // Caught up: say so at once, then go live.
                    self.replay = None;
                    let beat = self.heartbeat();
                    return Ok(beat);
                }
                Err(e) => {
                    tracing::error!(error = %e, "feed replay failed; closing the stream");
                    return Err(Closed::Error);
                }
            }
        }
        loop {
            tokio::select! {
                _ = self.shutdown.changed() => return Err(Closed::Shutdown),
                received = self.live.recv() => match received {
                    Ok(e) if e.seq > self.last => {
                        self.last = e.seq;
                        return Ok(e.frame.clone());
                    }
                    Ok(_) => {}
                    // Lagged: close rather than skip; the browser resumes from its Last-Event-ID.
                    Err(_) => return Err(Closed::Lagged),
                },
                Ok(()) = self.access.changed() => {
                    if !crate::auth::still_valid(self.store.as_ref(), &self.auth, &self.principal).await {
                        return Err(Closed::Access);
                    }
                }
                Ok(()) = self.beat.changed() => {
                    if !crate::auth::still_valid(self.store.as_ref(), &self.auth, &self.principal).await {
                        return Err(Closed::Access);
                    }
                    let beat = self.heartbeat();
                    return Ok(beat);
                }
            }
        }
    }

    /// A `heartbeat` event: no `id:`, so it never moves `Last-Event-ID`; it sets the browser's
    /// reconnection delay too.
    fn heartbeat(&self) -> Bytes {
        let beat = Heartbeat {
            server_time: rfc3339(now_ms()),
            seq: self.last,
            every_secs: self.every_secs,
        };
        let data = serde_json::to_string(&beat).unwrap_or_default();
        Bytes::from(format!("event: heartbeat\ndata: {data}\nretry: 2000\n\n"))
    }
}
