//! `GET /api/events`: the live feed over server-sent events (DESIGN.md §4).
//!
//! Subscribe to the live channel first, then replay the store after `Last-Event-ID` (or `?after=`), then
//! forward live events whose sequence is past the last one sent: no gap, no duplicate. A subscriber that
//! falls behind the channel is closed, never skipped; the browser reconnects with `Last-Event-ID` and
//! replays what it missed from the store.

use crate::app::AppState;
use crate::auth::Caller;
use crate::clock::{now_ms, rfc3339};
use crate::error::{ApiError, ApiQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use hermod_shared::console::Heartbeat;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Stored events read per round trip while replaying.
const REPLAY_PAGE: i64 = 500;

#[derive(Deserialize)]
pub struct EventsQuery {
    after: Option<String>,
}

pub async fn stream(
    axum::extract::State(app): axum::extract::State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let Some(slot) = app
        .auth
        .streams
        .acquire(caller.stream_key(), app.auth.max_streams)
    else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!(
                "at most {} live-feed streams per session; close another tab",
                app.auth.max_streams
            ),
        ));
    };
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string());
    let after = super::int("after", &last_event_id.or(q.after))?;
    let live = app.feed.subscribe();
    let after = match after {
        Some(a) => a,
        None => app.store.current_seq().await.map_err(ApiError::store)?,
    };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        app.metrics.streams_open.fetch_add(1, Ordering::Relaxed);
        pump(app.clone(), headers, live, after, tx).await;
        app.metrics.streams_open.fetch_sub(1, Ordering::Relaxed);
        drop(slot);
    });
    let events = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<Event, Infallible>(e), rx))
    });
    let mut response = Sse::new(events).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Feeds one subscriber until it goes away, falls behind, its session or token ends (checked at each
/// heartbeat and whenever access changes), or the server shuts down.
async fn pump(
    app: AppState,
    credentials: HeaderMap,
    mut live: broadcast::Receiver<std::sync::Arc<crate::feed::Published>>,
    mut last: i64,
    tx: mpsc::Sender<Event>,
) {
    let mut shutdown = app.shutdown.clone();
    if *shutdown.borrow_and_update() {
        return;
    }
    let mut access = app.store.access_changes();
    loop {
        let rows = match app.store.feed_after(last, REPLAY_PAGE).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "feed replay failed; closing the stream");
                return;
            }
        };
        let full = rows.len() as i64 == REPLAY_PAGE;
        for (seq, name, data) in rows {
            let event = Event::default().event(name).id(seq.to_string()).data(data);
            if tx.send(event).await.is_err() {
                return;
            }
            last = seq;
        }
        if !full {
            break;
        }
    }
    let every_secs = app.feed_config.heartbeat_secs.max(1);
    let mut beat = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
            received = live.recv() => match received {
                Ok(e) if e.seq > last => {
                    let event = Event::default().event(e.name).id(e.seq.to_string()).data(e.data.clone());
                    if tx.send(event).await.is_err() {
                        return;
                    }
                    last = e.seq;
                }
                Ok(_) => {}
                // Lagged: close rather than skip; the browser resumes from its Last-Event-ID.
                Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => return,
            },
            Ok(()) = access.changed() => {
                if !crate::auth::still_valid(&app, &credentials).await {
                    return;
                }
            }
            _ = beat.tick() => {
                if !crate::auth::still_valid(&app, &credentials).await {
                    return;
                }
                let beat = Heartbeat { server_time: rfc3339(now_ms()), seq: last, every_secs };
                let data = serde_json::to_string(&beat).unwrap_or_default();
                let event = Event::default().event("heartbeat").data(data).retry(Duration::from_secs(2));
                if tx.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
}
