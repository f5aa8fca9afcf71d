//! The tab's live feed: one EventSource, its true connection state, and the events it brought. Pages
//! read it from context; it reconnects forever, and by itself after two missed heartbeats.

use crate::api::{self, EventStream, StreamMsg};
use hermod_shared::console::FeedEvent;
use leptos::prelude::*;
use std::time::Duration;

/// How many past events a new tab replays into the feed.
const REPLAY: i64 = 200;
/// How many events the feed page keeps.
const KEEP: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Live,
    Reconnecting,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub conn: RwSignal<Conn>,
    /// When the server was last heard from (ms since the epoch).
    pub last_heard: RwSignal<Option<f64>>,
    pub every_secs: RwSignal<u64>,
    /// Newest first.
    pub events: RwSignal<Vec<FeedEvent>>,
    /// The newest event, for pages that refresh on what concerns them.
    pub latest: RwSignal<Option<FeedEvent>>,
    /// Wall clock, ticking every second, for relative times and countdowns.
    pub now: RwSignal<f64>,
    last_seq: StoredValue<i64>,
    stream: StoredValue<Option<EventStream>, LocalStorage>,
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Live {
    pub fn start() -> Live {
        let live = Live {
            conn: RwSignal::new(Conn::Connecting),
            last_heard: RwSignal::new(None),
            every_secs: RwSignal::new(15),
            events: RwSignal::new(Vec::new()),
            latest: RwSignal::new(None),
            now: RwSignal::new(now_ms()),
            last_seq: StoredValue::new(0),
            stream: StoredValue::new_local(None),
        };
        live.start_after_history();
        if let Ok(ticker) = set_interval_with_handle(move || live.watch(), Duration::from_secs(1)) {
            on_cleanup(move || ticker.clear());
        }
        // A page left for another one stays in the back/forward cache with its stream open: a few
        // such pages hold all six connections the browser allows the origin, and the next console
        // page never connects. Closed as the page is hidden; a restored page reloads (app.rs).
        let hidden =
            window_event_listener_untyped("pagehide", move |_| live.stream.set_value(None));
        on_cleanup(move || hidden.remove());
        live
    }

    /// Connects after a short history, so a new tab is not empty: a list's watermark says where that
    /// history starts. Until the console answers, the state says so and it asks again.
    fn start_after_history(self) {
        leptos::task::spawn_local(async move {
            match api::callbacks("limit=1").await {
                Ok(page) => {
                    self.last_seq.set_value((page.feed_seq - REPLAY).max(0));
                    self.connect();
                }
                // The session ended: the shell shows the login page.
                Err(e) if e.session_ended() => {}
                Err(_) => {
                    self.conn.set(Conn::Reconnecting);
                    set_timeout(
                        move || {
                            if self.last_seq.try_get_value().is_some() {
                                self.start_after_history();
                            }
                        },
                        Duration::from_secs(2),
                    );
                }
            }
        });
    }

    fn connect(self) {
        // A retry may come due after the console was left (logged out): then there is nothing to do.
        let Some(after) = self.last_seq.try_get_value() else {
            return;
        };
        // Drop the old stream first: one EventSource per tab.
        self.stream.set_value(None);
        match EventStream::open(after, move |msg| self.on(msg)) {
            Ok(stream) => self.stream.set_value(Some(stream)),
            Err(_) => self.conn.set(Conn::Reconnecting),
        }
    }

    fn on(self, msg: StreamMsg) {
        match msg {
            StreamMsg::Opened => {
                self.conn.set(Conn::Live);
                self.last_heard.set(Some(now_ms()));
            }
            StreamMsg::Failed { closed } => {
                self.conn.set(Conn::Reconnecting);
                if closed {
                    // The browser gave up: the server answered an error. If that is because the
                    // session ended, asking who we are says so and the shell shows the login page;
                    // otherwise try again ourselves.
                    leptos::task::spawn_local(async move {
                        if !api::session().await.is_err_and(|e| e.session_ended()) {
                            set_timeout(move || self.connect(), Duration::from_secs(2));
                        }
                    });
                }
            }
            StreamMsg::Heartbeat(beat) => {
                self.conn.set(Conn::Live);
                self.last_heard.set(Some(now_ms()));
                self.every_secs.set(beat.every_secs.max(1));
            }
            // What this tab shows may name records that are gone, and it missed what the removed
            // events said: it starts over. A tab that showed no event yet has nothing stale, so it
            // goes on (a reload would start it the same way, and be told the same again).
            StreamMsg::Reset => {
                if !self.events.with_untracked(Vec::is_empty)
                    && let Some(w) = web_sys::window()
                {
                    let _ = w.location().reload();
                }
            }
            StreamMsg::Event(event) => {
                if event.seq() <= self.last_seq.get_value() {
                    return;
                }
                self.last_seq.set_value(event.seq());
                self.last_heard.set(Some(now_ms()));
                self.conn.set(Conn::Live);
                self.events.update(|events| {
                    events.insert(0, FeedEvent::clone(&event));
                    events.truncate(KEEP);
                });
                self.latest.set(Some(*event));
            }
        }
    }

    /// Ticks the clock; two missed heartbeats mean a dead stream the browser has not noticed.
    fn watch(self) {
        let now = now_ms();
        self.now.set(now);
        let limit = (2 * self.every_secs.get_untracked() + 2) as f64 * 1000.0;
        if self.conn.get_untracked() == Conn::Live
            && self
                .last_heard
                .get_untracked()
                .is_some_and(|heard| now - heard > limit)
        {
            self.conn.set(Conn::Reconnecting);
            self.connect();
        }
    }
}
