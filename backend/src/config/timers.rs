//! The settings of the work the console does on its own timers (timer.rs): following up commands
//! whose callback never came, marking them overdue, and retention.

use super::{ConfigError, Secret, resolve_secret};
use crate::store::Cutoffs;
use serde::Deserialize;
use std::path::PathBuf;
use url::Url;

/// Polls for commands whose callback never came (a callback can be lost on the way).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowUpConfig {
    /// A command past its expiry by this long with no callback is polled; 0 turns following up off.
    pub after_expiry_secs: u64,
    /// Polls at most, each after twice the wait of the one before.
    pub max_polls: u32,
    /// How often the console looks for such commands.
    pub every_secs: u64,
}

impl Default for FollowUpConfig {
    fn default() -> Self {
        FollowUpConfig {
            after_expiry_secs: 60,
            max_polls: 4,
            every_secs: 15,
        }
    }
}

/// Silence as an event (overdue.rs): a command Hermod accepted whose callback has not come well
/// after its expiry is marked overdue, shown in the feed, counted, and told to `notify_url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OverdueConfig {
    /// How long past its expiry a command may wait for its callback; 0 turns marking off.
    pub after_expiry_secs: u64,
    /// How often the console looks for such commands.
    pub every_secs: u64,
    /// Where a small JSON notice of each overdue command is POSTed (a chat's incoming webhook, say);
    /// none by default. A secret: such URLs carry their token. Or `notify_url_file`.
    pub notify_url: Option<Secret>,
    pub notify_url_file: Option<PathBuf>,
    /// Tries per notice (each after twice the wait of the one before, from 1 s) before it is given up.
    pub notify_attempts: u32,
    /// Notices waiting to be sent at most; more are dropped (and counted), never held without bound.
    pub notify_queue: usize,
    /// One try's time limit, connecting included.
    pub notify_timeout_secs: u64,
}

impl Default for OverdueConfig {
    fn default() -> Self {
        OverdueConfig {
            after_expiry_secs: 120,
            every_secs: 15,
            notify_url: None,
            notify_url_file: None,
            notify_attempts: 5,
            notify_queue: 1000,
            notify_timeout_secs: 10,
        }
    }
}

impl OverdueConfig {
    /// The URL notices go to, if any: an http(s) URL. The error never repeats it.
    pub fn notify_url(&self) -> Result<Option<Url>, ConfigError> {
        let Some(url) = resolve_secret(
            self.notify_url.as_ref(),
            self.notify_url_file.as_deref(),
            "overdue.notify_url",
        )?
        else {
            return Ok(None);
        };
        Url::parse(url.expose().trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .map(Some)
            .ok_or_else(|| ConfigError("overdue.notify_url: not an http(s) URL with a host".into()))
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        self.notify_url()?;
        if self.notify_attempts == 0 || self.notify_queue == 0 || self.notify_timeout_secs == 0 {
            return Err(ConfigError(
                "overdue: notify_attempts, notify_queue and notify_timeout_secs must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// How long records are kept (README, "Retention"), in days; 0 keeps them. By default everything is
/// kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Commands, with their callbacks and polls, by their last change.
    pub commands_days: u32,
    /// Callbacks that matched no command.
    pub unmatched_callbacks_days: u32,
    /// The feed's history, for replay. 0: as long as the records it points at (the shorter of the
    /// two above that is set); it cannot be longer, since replay rebuilds each event from its record.
    pub feed_days: u32,
    pub audit_days: u32,
    /// How often the console prunes…
    pub every_secs: u64,
    /// …and about how many rows one transaction removes (a command's callbacks and polls count).
    pub batch: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            commands_days: 0,
            unmatched_callbacks_days: 0,
            feed_days: 0,
            audit_days: 0,
            every_secs: 300,
            // 200 rows of a few KiB took 10 to 25 ms in an unoptimised build: the longest a callback
            // waits behind a batch.
            batch: 200,
        }
    }
}

/// Most rows in one pruning transaction: the writer (and so every callback) waits behind it.
const MAX_PRUNE_BATCH: usize = 5000;

impl RetentionConfig {
    /// The days the feed is kept: `feed_days`, else as long as its records are.
    fn effective_feed_days(&self) -> Option<u32> {
        let records = [self.commands_days, self.unmatched_callbacks_days]
            .into_iter()
            .filter(|d| *d > 0)
            .min();
        (self.feed_days > 0).then_some(self.feed_days).or(records)
    }

    /// What may go at `now` (ms since the epoch).
    pub fn cutoffs(&self, now: i64) -> Cutoffs {
        let before = |days: u32| (days > 0).then(|| now - i64::from(days) * 86_400_000);
        Cutoffs {
            commands: before(self.commands_days),
            unmatched_callbacks: before(self.unmatched_callbacks_days),
            feed: self.effective_feed_days().and_then(before),
            audit: before(self.audit_days),
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (key, days) in [
            ("commands_days", self.commands_days),
            ("unmatched_callbacks_days", self.unmatched_callbacks_days),
        ] {
            if days > 0 && self.feed_days > days {
                return Err(ConfigError(format!(
                    "retention.feed_days ({}) is longer than retention.{key} ({days}): replay \
                     rebuilds each event from its record, so the feed cannot outlive them; leave \
                     feed_days out to keep it as long as the records",
                    self.feed_days
                )));
            }
        }
        if self.every_secs == 0 {
            return Err(ConfigError(
                "retention.every_secs: must be at least 1".into(),
            ));
        }
        if !(1..=MAX_PRUNE_BATCH).contains(&self.batch) {
            return Err(ConfigError(format!(
                "retention.batch: must be between 1 and {MAX_PRUNE_BATCH}"
            )));
        }
        Ok(())
    }
}
