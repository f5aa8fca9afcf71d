//! The series behind `GET /metrics` (OpenMetrics text, routes/health.rs), kept with the Prometheus
//! project's own client and counted where things happen. Every series exists from the start (a
//! labelled one with each label value it can take, where they are few), so a dashboard sees zeros
//! rather than gaps.
//!
//! Labels take only values from fixed sets or from the configuration (routes are patterns, never
//! paths; unknown methods are `OTHER`): a stranger's requests cannot make new series.

use crate::store::{Pruned, StoreInstruments};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// The buckets of every latency histogram: 0.25 ms to about 8 s, doubling.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

#[derive(Clone, Copy)]
pub struct Latency;

impl MetricConstructor<Histogram> for Latency {
    fn new_metric(&self) -> Histogram {
        latency()
    }
}

/// A request, as the duration histogram labels it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    /// The matched route pattern, or `(fallback)`.
    route: String,
}

/// Exchanges with Hermod, timed by [`CallLabels`].
pub type HermodCalls = Family<CallLabels, Histogram, Latency>;

/// An exchange with Hermod.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// The configured client id.
    pub client: String,
    /// `create` or `poll`.
    pub call: &'static str,
    /// `2xx`, `4xx`, `5xx` (Hermod's status class), or how it failed: `unreachable`,
    /// `certificate`, `timeout`, `broken_answer`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// Why the console ended a live-feed stream (one the browser closed is not counted).
#[derive(Clone, Copy, Debug)]
pub enum Closed {
    /// It fell behind the live channel; the browser resumes from the store.
    Lagged,
    /// Its session or token ended.
    Access,
    /// The console is stopping.
    Shutdown,
    /// Its replay could not be read.
    Error,
}

impl Closed {
    const ALL: [Closed; 4] = [
        Closed::Lagged,
        Closed::Access,
        Closed::Shutdown,
        Closed::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Closed::Lagged => "lagged",
            Closed::Access => "access",
            Closed::Shutdown => "shutdown",
            Closed::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// What became of an overdue notice (notify.rs).
#[derive(Clone, Copy, Debug)]
pub enum Notice {
    /// The receiver answered 2xx.
    Sent,
    /// Every try failed.
    Failed,
    /// The queue was full, or the console stopped before it was sent.
    Dropped,
}

impl Notice {
    const ALL: [Notice; 3] = [Notice::Sent, Notice::Failed, Notice::Dropped];

    fn as_str(self) -> &'static str {
        match self {
            Notice::Sent => "sent",
            Notice::Failed => "failed",
            Notice::Dropped => "dropped",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub callbacks_stored: Counter,
    pub callbacks_duplicate: Counter,
    /// Refused for a missing or wrong credential.
    pub callbacks_rejected: Counter,
    /// Kept though they came to a path not ending in `callback/<type>`.
    pub callbacks_misrouted: Counter,
    /// Refused for coming faster than their client's `callback_rate_per_sec`.
    pub callbacks_limited: Counter,
    /// From a callback's arrival to its acknowledgement being ready (stored or found a repeat).
    pub callback_ingest: Histogram,
    pub commands_sent: Counter,
    /// Sends that did not produce a command in Hermod (or whose outcome is unknown).
    pub commands_failed: Counter,
    pub logins_failed: Counter,
    /// Commands marked overdue: their callback did not come (overdue.rs).
    pub commands_overdue: Counter,
    notices: Family<OutcomeLabel, Counter>,
    pub streams_open: Gauge,
    streams_closed: Family<ReasonLabel, Counter>,
    /// Until each answer's head, by route.
    requests: Family<RouteLabels, Histogram, Latency>,
    pub hermod_calls: HermodCalls,
    /// Rows retention removed, by kind.
    pruned: Family<KindLabel, Counter>,
}

impl Metrics {
    /// The console's series, and the store's own (`store`).
    pub fn new(store: StoreInstruments) -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("hermod_console"),
            callbacks_stored: Counter::default(),
            callbacks_duplicate: Counter::default(),
            callbacks_rejected: Counter::default(),
            callbacks_misrouted: Counter::default(),
            callbacks_limited: Counter::default(),
            callback_ingest: latency(),
            commands_sent: Counter::default(),
            commands_failed: Counter::default(),
            logins_failed: Counter::default(),
            commands_overdue: Counter::default(),
            notices: Family::default(),
            streams_open: Gauge::default(),
            streams_closed: Family::default(),
            requests: Family::new_with_constructor(Latency),
            hermod_calls: Family::new_with_constructor(Latency),
            pruned: Family::default(),
        };
        let r = &mut m.registry;
        for (name, help, c) in [
            ("callbacks_stored", "Callbacks stored", &m.callbacks_stored),
            (
                "callbacks_duplicate",
                "Repeated callbacks acknowledged and not stored again",
                &m.callbacks_duplicate,
            ),
            (
                "callbacks_rejected",
                "Callbacks refused for their credential",
                &m.callbacks_rejected,
            ),
            (
                "callbacks_misrouted",
                "Callbacks kept though they came to a path not ending in callback/<type>",
                &m.callbacks_misrouted,
            ),
            (
                "callbacks_limited",
                "Callbacks refused (429) for coming faster than their client's callback_rate_per_sec",
                &m.callbacks_limited,
            ),
            ("commands_sent", "Commands sent to Hermod", &m.commands_sent),
            (
                "commands_failed",
                "Sends that failed or ended unknown",
                &m.commands_failed,
            ),
            ("logins_failed", "Failed logins", &m.logins_failed),
            (
                "commands_overdue",
                "Commands marked overdue: accepted by Hermod, past their expiry and [overdue] after_expiry_secs, no callback",
                &m.commands_overdue,
            ),
            (
                "store_commits",
                "Transactions the store committed (each one sync to disk)",
                &store.commits,
            ),
            (
                "store_writes",
                "Writes in those transactions: writes / commits is the batch size",
                &store.writes,
            ),
        ] {
            r.register(name, help, c.clone());
        }
        for (name, help, h) in [
            (
                "callback_ingest",
                "From a callback's arrival to its acknowledgement: stored and synced, or found a repeat",
                &m.callback_ingest,
            ),
            (
                "store_commit_duration",
                "Time to commit a transaction, its sync to disk included",
                &store.commit_seconds,
            ),
        ] {
            r.register_with_unit(name, help, Unit::Seconds, h.clone());
        }
        r.register(
            "store_batch_size",
            "Writes per transaction",
            store.batch_size,
        );
        r.register_with_unit(
            "request_duration",
            "Requests by method and route pattern, until the answer's head",
            Unit::Seconds,
            m.requests.clone(),
        );
        r.register_with_unit(
            "hermod_call_duration",
            "Exchanges with Hermod by client, call and outcome",
            Unit::Seconds,
            m.hermod_calls.clone(),
        );
        r.register(
            "feed_streams",
            "Open live-feed streams",
            m.streams_open.clone(),
        );
        r.register(
            "feed_streams_closed",
            "Live-feed streams the console ended, by reason (lagged: fell behind; it resumes from the store)",
            m.streams_closed.clone(),
        );
        r.register(
            "pruned",
            "Rows removed by retention, by kind",
            m.pruned.clone(),
        );
        r.register(
            "overdue_notices",
            "Overdue notices to [overdue] notify_url, by outcome (sent, failed after every try, dropped)",
            m.notices.clone(),
        );
        for reason in Closed::ALL {
            m.stream_closed_counter(reason);
        }
        for outcome in Notice::ALL {
            m.notice_counter(outcome);
        }
        m.pruned(Pruned::default());
        m
    }

    pub fn pruned(&self, p: Pruned) {
        for (kind, n) in p.counts() {
            self.pruned.get_or_create(&KindLabel { kind }).inc_by(n);
        }
    }

    /// A request's duration, by its method and matched route.
    pub fn request(&self, method: &axum::http::Method, route: &str, took: Duration) {
        let labels = RouteLabels {
            method: known_method(method),
            route: route.to_string(),
        };
        self.requests
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn stream_closed(&self, reason: Closed) {
        self.stream_closed_counter(reason).inc();
    }

    fn stream_closed_counter(&self, reason: Closed) -> Counter {
        let reason = reason.as_str();
        self.streams_closed
            .get_or_create_owned(&ReasonLabel { reason })
    }

    pub fn notice(&self, outcome: Notice) {
        self.notice_counter(outcome).inc();
    }

    fn notice_counter(&self, outcome: Notice) -> Counter {
        self.notices.get_or_create_owned(&OutcomeLabel {
            outcome: outcome.as_str(),
        })
    }

    /// The OpenMetrics text of every series.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn known_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    [
        (M::GET, "GET"),
        (M::HEAD, "HEAD"),
        (M::POST, "POST"),
        (M::PUT, "PUT"),
        (M::DELETE, "DELETE"),
        (M::PATCH, "PATCH"),
        (M::OPTIONS, "OPTIONS"),
    ]
    .into_iter()
    .find(|(known, _)| known == method)
    .map_or("OTHER", |(_, name)| name)
}
