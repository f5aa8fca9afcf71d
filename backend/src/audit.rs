//! Writing the audit log: who, when, from where, what, the target and the request id; never a secret.

use crate::app::AppState;
use crate::auth::{Caller, RequestMeta};
use crate::store::AuditEntry;
use serde_json::Value;

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

/// Appends the line. A failure to write it is logged, and does not undo what it describes.
pub async fn record(app: &AppState, meta: &RequestMeta, caller: Option<&Caller>, event: Event<'_>) {
    let (actor, actor_kind) = match caller {
        Some(c) => (c.name.clone(), c.kind()),
        None => (
            event.anonymous_as.unwrap_or("anonymous").to_string(),
            "anonymous",
        ),
    };
    let entry = AuditEntry {
        actor,
        actor_kind,
        source: meta.source.clone(),
        action: event.action,
        target: event.target,
        outcome: event.outcome,
        request_id: Some(meta.request_id.clone()),
        detail: event.detail,
    };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, action = event.action, "cannot write the audit log");
    }
}
