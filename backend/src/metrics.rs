//! The counters behind `GET /metrics` (Prometheus text, routes/health.rs), counted where things happen.

use crate::store::Pruned;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub callbacks_stored: AtomicU64,
    pub callbacks_duplicate: AtomicU64,
    /// Refused for a missing or wrong credential.
    pub callbacks_rejected: AtomicU64,
    /// Kept though they came to a path not ending in `callback/<type>`.
    pub callbacks_misrouted: AtomicU64,
    /// Refused for coming faster than their client's `callback_rate_per_sec`.
    pub callbacks_limited: AtomicU64,
    pub commands_sent: AtomicU64,
    /// Sends that did not produce a command in Hermod (or whose outcome is unknown).
    pub commands_failed: AtomicU64,
    pub logins_failed: AtomicU64,
    pub streams_open: AtomicI64,
    /// Rows retention removed, by kind (added to once a round).
    pruned: Mutex<Pruned>,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn pruned(&self, p: Pruned) {
        *self.pruned.lock().unwrap_or_else(|e| e.into_inner()) += p;
    }

    /// The Prometheus text of these counters, with the store's `(commits, writes)`.
    pub fn text(&self, (commits, writes): (u64, u64)) -> String {
        let m = self;
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let counters = [
            (
                "hermod_console_callbacks_stored_total",
                "Callbacks stored.",
                read(&m.callbacks_stored),
            ),
            (
                "hermod_console_callbacks_duplicate_total",
                "Repeated callbacks acknowledged and not stored again.",
                read(&m.callbacks_duplicate),
            ),
            (
                "hermod_console_callbacks_rejected_total",
                "Callbacks refused for their credential.",
                read(&m.callbacks_rejected),
            ),
            (
                "hermod_console_callbacks_misrouted_total",
                "Callbacks kept though they came to a path not ending in callback/<type>.",
                read(&m.callbacks_misrouted),
            ),
            (
                "hermod_console_callbacks_limited_total",
                "Callbacks refused (429) for coming faster than their client's callback_rate_per_sec.",
                read(&m.callbacks_limited),
            ),
            (
                "hermod_console_commands_sent_total",
                "Commands sent to Hermod.",
                read(&m.commands_sent),
            ),
            (
                "hermod_console_commands_failed_total",
                "Sends that failed or ended unknown.",
                read(&m.commands_failed),
            ),
            (
                "hermod_console_logins_failed_total",
                "Failed logins.",
                read(&m.logins_failed),
            ),
            (
                "hermod_console_store_commits_total",
                "Transactions the store committed (each one sync to disk).",
                commits,
            ),
            (
                "hermod_console_store_writes_total",
                "Writes in those transactions: writes / commits is the batch size.",
                writes,
            ),
        ];
        let mut text = String::new();
        for (name, help, value) in counters {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        let name = "hermod_console_pruned_total";
        text.push_str(&format!(
            "# HELP {name} Rows removed by retention, by kind.\n# TYPE {name} counter\n"
        ));
        let pruned = *self.pruned.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, n) in pruned.counts() {
            text.push_str(&format!("{name}{{kind=\"{kind}\"}} {n}\n"));
        }
        text.push_str(&format!(
        "# HELP hermod_console_feed_streams Open live-feed streams.\n# TYPE hermod_console_feed_streams gauge\nhermod_console_feed_streams {}\n",
        m.streams_open.load(Ordering::Relaxed)
    ));
        text
    }
}
