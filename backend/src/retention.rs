//! Retention's timer: at start and every `[retention] every_secs`, the console removes what the
//! settings let go, one small batch after another until nothing is left (`Store::prune`; the SQL is
//! store/sql/retention.rs). The cutoffs are taken once per round, from the clock, and handed down:
//! nothing below reads the time, so tests choose it.

use crate::clock::{now_ms, rfc3339};
use crate::config::RetentionConfig;
use crate::metrics::Metrics;
use crate::state::{AppState, Round};
use crate::store::{Cutoffs, Pruned, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// What a round works with.
struct Retention {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    config: RetentionConfig,
}

/// Starts pruning, unless the settings keep everything. Ends with the server.
pub fn start(app: &AppState, config: &RetentionConfig) {
    if config.cutoffs(now_ms()) == Cutoffs::default() {
        return;
    }
    let job = Retention {
        store: app.part(),
        metrics: app.part(),
        config: config.clone(),
    };
    let period = Duration::from_secs(config.every_secs);
    app.every("retention", period, job);
}

impl Round for Retention {
    async fn round(&self) {
        let cutoffs = self.config.cutoffs(now_ms());
        let mut pruned = Pruned::default();
        let result = prune(self.store.as_ref(), cutoffs, self.config.batch, &mut pruned).await;
        self.metrics.pruned(pruned);
        if !pruned.is_empty() {
            tracing::info!(?pruned, "retention: pruned");
        }
        if let Err(e) = result {
            tracing::error!(error = %e, "retention: a batch failed; the next round tries again");
        }
    }
}

/// Prunes batch after batch until nothing is left, adding what went to `pruned` as it goes (so a
/// failure leaves the count of what did go).
pub async fn prune(
    store: &dyn Store,
    cutoffs: Cutoffs,
    batch: usize,
    pruned: &mut Pruned,
) -> Result<(), StoreError> {
    loop {
        let one = store.prune(cutoffs, batch).await?;
        if one.is_empty() {
            return Ok(());
        }
        *pruned += one;
    }
}

/// `prune`'s report: one line per kind, with what it was counted against.
pub fn report(pruned: &Pruned, cutoffs: &Cutoffs) -> String {
    let mut text = String::new();
    for ((kind, n), cutoff) in pruned.counts().into_iter().zip(cutoffs.of_counts()) {
        let against = match cutoff {
            Some(ms) => format!("older than {}", rfc3339(ms)),
            None => "kept".to_string(),
        };
        text.push_str(&format!("{kind}: {n} ({against})\n"));
    }
    text
}
