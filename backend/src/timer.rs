//! Work the console repeats while it runs (retention, follow-up polls, overdue commands, the feed's
//! heartbeat; `AppState::every` for those that work on the running console): a round at start and
//! then every period, never two at once, each given up when the server stops. A round under way is
//! left at a write's edge: every store write is one transaction, kept or not whole.

use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// Runs `round` every `period` until `shutdown` flips.
pub fn repeat<F, R>(period: Duration, mut shutdown: watch::Receiver<bool>, mut round: F)
where
    F: FnMut() -> R + Send + 'static,
    R: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period.max(Duration::from_secs(1)));
        // A long round (a backlog after an outage) is not followed by a burst of catch-up rounds.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => return,
            }
            tokio::select! {
                () = round() => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}
