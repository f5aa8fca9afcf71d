//! Following up the callbacks that never came. Hermod posts a callback when a command is answered
//! or expires, but a callback can be lost on the way (a network, a proxy, a wrong callback URL). A
//! command still undecided past its expiry is therefore polled: once `[follow_up]
//! after_expiry_secs` after it, then after twice that wait each time, up to `max_polls` times. Each
//! poll is stored in the command's timeline and audited as the console's own (`follow-up`).

use crate::routes::commands::{Asker, poll_command};
use crate::state::AppState;
use std::time::Duration;

/// Commands followed up per round: a backlog after an outage drains over a few rounds, never in
/// one burst at Hermod.
const PER_ROUND: usize = 20;

/// Starts following up, unless `after_expiry_secs` is 0. Ends with the server.
pub fn start(app: AppState) {
    let config = app.follow_up.clone();
    if config.after_expiry_secs == 0 {
        return;
    }
    let period = Duration::from_secs(config.every_secs);
    app.every("follow_up", period, |app| async move { round(&app).await });
}

async fn round(app: &AppState) {
    let after_ms = (app.follow_up.after_expiry_secs as i64).saturating_mul(1000);
    let clients: Vec<String> = app
        .clients
        .all()
        .filter(|c| c.auto_poll)
        .map(|c| c.id.clone())
        .collect();
    let due = match app
        .store
        .due_follow_ups(clients, after_ms, app.follow_up.max_polls, PER_ROUND)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e, "follow-up: cannot read the commands to poll");
            return;
        }
    };
    for id in due {
        match poll_command(
            app.store.as_ref(),
            &app.clients,
            &app.audit,
            id,
            Asker::FollowUp,
        )
        .await
        {
            Ok(r) => tracing::info!(command = id, state = %r.command.state, "follow-up poll"),
            Err(e) => {
                tracing::warn!(command = id, error = %e.problem.detail, "follow-up poll failed")
            }
        }
    }
}
