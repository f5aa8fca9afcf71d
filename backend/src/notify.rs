//! Telling someone outside the console: each overdue command (overdue.rs) as a small JSON notice
//! POSTed to `[overdue] notify_url`, a chat's incoming webhook say. Notices wait in a bounded queue
//! and go one at a time, each tried up to `notify_attempts` times, waiting 1 s, 2 s, 4 s… (at most a
//! minute) between tries. A full queue drops the newest notice rather than hold memory without bound;
//! the command stays marked in the store and the feed either way, and every outcome is counted.
//!
//! The URL is a secret (such URLs carry their token): it is never logged, and errors are logged
//! without it.

use crate::config::{ConfigError, OverdueConfig};
use crate::metrics::{Metrics, Notice};
use hermod_shared::console::CommandRecord;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use url::Url;

/// The longest wait between two tries of one notice.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub struct Notifier {
    queue: mpsc::Sender<Vec<u8>>,
    metrics: Arc<Metrics>,
}

impl Notifier {
    /// Starts the sender; it ends with the server (`shutdown`), dropping what still waits.
    pub fn start(
        url: Url,
        config: &OverdueConfig,
        metrics: Arc<Metrics>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Notifier, ConfigError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.notify_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hermod-console/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError(format!("overdue.notify_url: HTTP client: {e}")))?;
        let (queue, mut waiting) = mpsc::channel::<Vec<u8>>(config.notify_queue);
        let attempts = config.notify_attempts;
        let counted = metrics.clone();
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    n = waiting.recv() => match n { Some(n) => n, None => return },
                    _ = shutdown.changed() => break,
                };
                let sent = tokio::select! {
                    sent = deliver(&http, &url, notice, attempts) => sent,
                    _ = shutdown.changed() => {
                        counted.notice(Notice::Dropped);
                        break;
                    }
                };
                counted.notice(if sent { Notice::Sent } else { Notice::Failed });
            }
            waiting.close();
            let mut left = 0;
            while waiting.try_recv().is_ok() {
                counted.notice(Notice::Dropped);
                left += 1;
            }
            if left > 0 {
                tracing::warn!(
                    notices = left,
                    "overdue notices not sent: the console stopped"
                );
            }
        });
        Ok(Notifier { queue, metrics })
    }

    /// Queues the notice of an overdue command; `public_url` makes its link.
    pub fn overdue(&self, command: &CommandRecord, public_url: &str) {
        let body = serde_json::to_vec(&notice(command, public_url)).unwrap_or_default();
        if self.queue.try_send(body).is_err() {
            self.metrics.notice(Notice::Dropped);
            tracing::warn!(
                command = command.id,
                "overdue notice dropped: the queue is full (overdue.notify_queue)"
            );
        }
    }
}

/// What a notice says: `text` for chats that show one line (Slack's and Mattermost's incoming
/// webhooks read it), the command's identifying fields for programs. Never the request body nor the
/// destinations: a chat is not where personal data goes.
fn notice(c: &CommandRecord, public_url: &str) -> Value {
    let url = format!("{public_url}/commands/{}", c.id);
    let hermod_id = c.command_id.as_deref().unwrap_or("?");
    let since = c.overdue_at.as_deref().unwrap_or("now");
    json!({
        "event": "overdue",
        "text": format!(
            "Hermod Console: no callback for {} #{} (client {}, commandId {hermod_id}), overdue since {since}: {url}",
            c.command_type, c.id, c.client
        ),
        "command": {
            "id": c.id,
            "client": c.client,
            "type": c.command_type,
            "state": c.state.as_str(),
            "command_id": c.command_id,
            "external_id": c.external_id,
            "created_at": c.created_at,
            "expires_at": c.expires_at,
            "overdue_at": c.overdue_at,
        },
        "url": url,
    })
}

/// Tries one notice up to `attempts` times; whether the receiver took it (2xx).
async fn deliver(http: &reqwest::Client, url: &Url, body: Vec<u8>, attempts: u32) -> bool {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=attempts {
        let sent = http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => return true,
            Ok(answer) => tracing::warn!(
                attempt,
                attempts,
                status = answer.status().as_u16(),
                "overdue notice refused by overdue.notify_url"
            ),
            Err(e) => tracing::warn!(
                attempt,
                attempts,
                error = %e.without_url(),
                "overdue notice not delivered to overdue.notify_url"
            ),
        }
        if attempt < attempts {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
        }
    }
    false
}
