//! Following up the callbacks that never came. Hermod posts a callback when a command is answered
//! or expires, but a callback can be lost on the way (a network, a proxy, a wrong callback URL). A
//! command still undecided past its expiry is therefore polled: once `[follow_up]
//! after_expiry_secs` after it, then after twice that wait each time, up to `max_polls` times. Each
//! poll is stored in the command's timeline and audited as the console's own (`follow-up`).

use crate::audit::AuditLog;
use crate::config::FollowUpConfig;
use crate::routes::commands::{Asker, poll_command};
use crate::state::{AppState, Clients, Round};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Commands followed up per round: a backlog after an outage drains over a few rounds, never in
/// one burst at Hermod.
const PER_ROUND: usize = 20;

/// What a round works with.
struct FollowUp {
    store: Arc<dyn Store>,
    clients: Arc<Clients>,
    audit: Arc<AuditLog>,
    after_ms: i64,
    max_polls: u32,
}

/// Starts following up, unless `after_expiry_secs` is 0. Ends with the server.
pub fn start(app: &AppState, config: &FollowUpConfig) {
    if config.after_expiry_secs == 0 {
        return;
    }
    let job = FollowUp {
        store: app.part(),
        clients: app.part(),
        audit: app.part(),
        after_ms: (config.after_expiry_secs as i64).saturating_mul(1000),
        max_polls: config.max_polls,
    };
    let period = Duration::from_secs(config.every_secs);
    app.every("follow_up", period, job);
}

impl Round for FollowUp {
    async fn round(&self) {
        let clients: Vec<String> = self
            .clients
            .all()
            .filter(|c| c.auto_poll)
            .map(|c| c.id.clone())
            .collect();
        let due = match self
            .store
            .due_follow_ups(clients, self.after_ms, self.max_polls, PER_ROUND)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "follow-up: cannot read the commands to poll");
                return;
            }
        };
        for id in due {
            let polled = poll_command(
                self.store.as_ref(),
                &self.clients,
                &self.audit,
                id,
                Asker::FollowUp,
            );
            match polled.await {
                Ok(r) => tracing::info!(command = id, state = %r.command.state, "follow-up poll"),
                Err(e) => {
                    tracing::warn!(command = id, error = %e.problem.detail, "follow-up poll failed")
                }
            }
        }
    }
}
