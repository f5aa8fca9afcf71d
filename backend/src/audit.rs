//! Writing the audit log: who, when, from where, what, the target and the request id; never a secret.

use crate::auth::caller::{Caller, RequestMeta};
use crate::store::{AuditEntry, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Rows a minute for refused anonymous requests (a login while locked out, a callback with a wrong
/// credential) from one source. Nothing bounds how often those come, and the log is append-only:
/// past this they are counted, and the count goes into the next row that source gets.
const DENIED_PER_MINUTE: u32 = 10;
/// Sources remembered before the idle ones are swept.
const SWEEP_AT: usize = 10_000;

/// How many refused anonymous requests each source had audited, and how many not, this minute.
#[derive(Default)]
struct Throttle {
    sources: Mutex<HashMap<(String, &'static str), Window>>,
}

struct Window {
    started: Instant,
    written: u32,
    unwritten: u64,
}

impl Throttle {
    /// `Some(n)`: write this row, saying that `n` were left out before it; `None`: leave it out.
    fn admit(&self, source: &str, action: &'static str) -> Option<u64> {
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        let mut sources = self.sources.lock().expect("audit throttle lock");
        if sources.len() > SWEEP_AT {
            sources.retain(|_, w| now.duration_since(w.started) < minute || w.unwritten > 0);
        }
        let w = sources
            .entry((source.to_string(), action))
            .or_insert(Window {
                started: now,
                written: 0,
                unwritten: 0,
            });
        if now.duration_since(w.started) >= minute {
            w.started = now;
            w.written = 0;
        }
        if w.written >= DENIED_PER_MINUTE {
            w.unwritten += 1;
            return None;
        }
        w.written += 1;
        Some(std::mem::take(&mut w.unwritten))
    }
}

/// One audit line about to be written.
pub struct Event<'a> {
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: &'static str,
    pub detail: Value,
    /// Who, when there is no authenticated caller (a failed login names the account tried).
    pub anonymous_as: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub fn ok(action: &'static str, target: impl Into<Option<String>>) -> Event<'a> {
        Event {
            action,
            target: target.into(),
            outcome: "ok",
            detail: Value::Object(Default::default()),
            anonymous_as: None,
        }
    }

    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }

    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn by(mut self, name: &'a str) -> Self {
        self.anonymous_as = Some(name);
        self
    }
}

/// The most of a target an anonymous request's line keeps: a stranger's path or name is theirs to
/// make as long as the request allows, and the log is append-only.
const ANONYMOUS_TARGET_CHARS: usize = 256;

/// The line as it will be stored.
pub fn entry(meta: &RequestMeta, caller: Option<&Caller>, mut event: Event<'_>) -> AuditEntry {
    if caller.is_none()
        && let Some(target) = &mut event.target
        && let Some((cut, _)) = target.char_indices().nth(ANONYMOUS_TARGET_CHARS)
    {
        target.truncate(cut);
        target.push('…');
    }
    let (actor, actor_kind) = match caller {
        Some(c) => (c.name.clone(), c.kind()),
        None => (
            event.anonymous_as.unwrap_or("anonymous").to_string(),
            "anonymous",
        ),
    };
    AuditEntry {
        actor,
        actor_kind,
        source: meta.source.clone(),
        action: event.action,
        target: event.target,
        outcome: event.outcome,
        request_id: Some(meta.request_id.clone()),
        detail: event.detail,
    }
}

/// A line for what the console did of itself (a follow-up poll) or was told outside any request (the
/// `user` command, the first start).
pub fn system_entry(actor: &str, action: &'static str, target: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: actor.to_string(),
        actor_kind: "system",
        source: "local".to_string(),
        action,
        target: Some(target.to_string()),
        outcome: "ok",
        request_id: None,
        detail,
    }
}

/// The audit log as requests write to it: the store, and the throttle on anonymous refusals.
pub struct AuditLog {
    store: Arc<dyn Store>,
    throttle: Throttle,
}

impl AuditLog {
    pub fn new(store: Arc<dyn Store>) -> AuditLog {
        AuditLog {
            store,
            throttle: Throttle::default(),
        }
    }

    /// Appends the line (refused requests, and failed anonymous ones such as wrong passwords, at most
    /// [`DENIED_PER_MINUTE`] a minute per source and action: a loop cannot fill the log).
    /// A failure to write it is logged, and does not undo what it describes.
    pub async fn record(&self, meta: &RequestMeta, caller: Option<&Caller>, mut event: Event<'_>) {
        // A refusal costs the sender nothing and the log is append-only: refusals are bounded per
        // source and action, whoever asks (a logged-in user's refused requests too).
        if event.outcome == "denied" || (caller.is_none() && event.outcome != "ok") {
            match self.throttle.admit(&meta.source, event.action) {
                None => return,
                Some(0) => {}
                Some(left_out) => {
                    if let Value::Object(detail) = &mut event.detail {
                        detail.insert("left_out_before".into(), left_out.into());
                    }
                }
            }
        }
        self.append(entry(meta, caller, event)).await;
    }

    /// Appends a line made elsewhere; a failure to write it is logged.
    pub async fn append(&self, line: AuditEntry) {
        let action = line.action;
        if let Err(e) = self.store.audit(line).await {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_line_keeps_a_bounded_prefix_of_its_target() {
        let meta = RequestMeta {
            source: "10.0.0.1".into(),
            request_id: "r".into(),
        };
        let long = "é".repeat(10_000);
        let line = entry(&meta, None, Event::ok("login", long.clone()));
        let kept = line.target.unwrap();
        assert_eq!(kept.chars().count(), ANONYMOUS_TARGET_CHARS + 1);
        assert!(long.starts_with(kept.trim_end_matches('…')));
    }

    #[test]
    fn refusals_past_the_limit_are_counted_into_the_next_row() {
        let t = Throttle::default();
        for _ in 0..DENIED_PER_MINUTE {
            assert_eq!(t.admit("10.0.0.1", "callback_rejected"), Some(0));
        }
        for _ in 0..5 {
            assert_eq!(t.admit("10.0.0.1", "callback_rejected"), None);
        }
        // Other sources and other actions have their own minute.
        assert_eq!(t.admit("10.0.0.2", "callback_rejected"), Some(0));
        assert_eq!(t.admit("10.0.0.1", "login"), Some(0));
        // A minute later the source's next row says how many were left out.
        for w in t.sources.lock().unwrap().values_mut() {
            w.started -= Duration::from_secs(61);
        }
        assert_eq!(t.admit("10.0.0.1", "callback_rejected"), Some(5));
        assert_eq!(t.admit("10.0.0.1", "callback_rejected"), Some(0));
    }
}
