//! Silence as an event. The worst failure is the callback that never comes: Hermod posts one "for
//! command responses and timeouts" (docs/hermod.md), so a command Hermod accepted awaits one until
//! its expiry. Every `[overdue] every_secs` the console marks overdue those still awaited
//! `after_expiry_secs` past it: an `overdue` event in the live feed, `overdue_at` on the command
//! (`GET /api/commands?overdue=true`), `hermod_console_commands_overdue_total`, a warning in the log
//! and, with `notify_url`, a notice (notify.rs). A callback that comes later clears the mark.
//!
//! A follow-up poll (follow_up.rs) may learn the outcome meanwhile: the command is overdue all the
//! same, because its callback did not come, and that is what the operator must hear about.

use crate::config::{ConfigError, OverdueConfig};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::state::{AppState, Round};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Commands marked per write: a backlog after an outage is marked in several short transactions.
const PER_WRITE: usize = 100;

/// What a round works with.
struct Overdue {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    after_ms: i64,
    notifier: Option<Notifier>,
    /// Where a notice's link to the command starts.
    public_url: String,
}

/// Starts looking for overdue commands, unless `after_expiry_secs` is 0. Ends with the server.
pub fn start(app: &AppState, config: &OverdueConfig) -> Result<(), ConfigError> {
    if config.after_expiry_secs == 0 {
        return Ok(());
    }
    let notifier = match config.notify_url()? {
        Some(url) => Some(Notifier::start(url, config, app.part(), app.shutdown())?),
        None => None,
    };
    let job = Overdue {
        store: app.part(),
        metrics: app.part(),
        after_ms: (config.after_expiry_secs as i64).saturating_mul(1000),
        notifier,
        public_url: app.public_url().to_string(),
    };
    let period = Duration::from_secs(config.every_secs);
    app.every("overdue", period, job);
    Ok(())
}

impl Round for Overdue {
    async fn round(&self) {
        loop {
            let marked = match self.store.mark_overdue(self.after_ms, PER_WRITE).await {
                Ok(marked) => marked,
                Err(e) => {
                    tracing::error!(error = %e, "overdue: cannot mark commands; the next round tries again");
                    return;
                }
            };
            for command in &marked {
                self.metrics.commands_overdue.inc();
                tracing::warn!(
                    command = command.id,
                    client = %command.client,
                    r#type = %command.command_type,
                    command_id = command.command_id.as_deref().unwrap_or_default(),
                    "no callback came for the command: overdue"
                );
                if let Some(n) = &self.notifier {
                    n.overdue(command, &self.public_url);
                }
            }
            if marked.len() < PER_WRITE {
                return;
            }
        }
    }
}
