//! A command's life in the simulator: `IN_PROGRESS` until it is decided (by its steering, the control
//! endpoint, or its timeout), then exactly one callback for the terminal state.

use super::{SimCommand, Simulator, envelope, results};
use base64::Engine;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    Reject,
    Fail,
    Expire,
}

/// What happens to a new command unless someone decides it first.
pub enum Plan {
    After(Duration, Outcome),
    /// Wait for the control endpoint, or expire at the timeout.
    Hold,
}

impl Outcome {
    /// Steering by `externalId` prefix (the README's "Steering the simulator").
    pub fn plan(external_id: &str, delay: Duration) -> Plan {
        if external_id.starts_with("reject-") {
            Plan::After(delay, Outcome::Reject)
        } else if external_id.starts_with("fail-") {
            Plan::After(delay, Outcome::Fail)
        } else if external_id.starts_with("expire-") || external_id.starts_with("hold-") {
            Plan::Hold
        } else {
            Plan::After(delay, Outcome::Complete)
        }
    }

    pub fn from_action(action: &str) -> Option<Outcome> {
        match action {
            "complete" => Some(Outcome::Complete),
            "reject" => Some(Outcome::Reject),
            "fail" => Some(Outcome::Fail),
            "expire" => Some(Outcome::Expire),
            _ => None,
        }
    }

    fn state(self) -> &'static str {
        match self {
            Outcome::Complete => "COMPLETED",
            Outcome::Reject => "REJECTED",
            Outcome::Fail => "FAILED",
            Outcome::Expire => "EXPIRED",
        }
    }
}

pub async fn run(sim: Simulator, id: String, plan: Plan, timeout: Duration) {
    let outcome = match plan {
        Plan::After(delay, outcome) if delay < timeout => {
            tokio::time::sleep(delay).await;
            outcome
        }
        _ => {
            tokio::time::sleep(timeout).await;
            Outcome::Expire
        }
    };
    // Someone may have decided it already; then this is a no-op.
    finish(&sim, &id, outcome).await;
}

pub enum Finished {
    Now(&'static str),
    Already(&'static str),
    Unknown,
}

/// Moves a command to its terminal state once, and sends its one callback.
pub async fn finish(sim: &Simulator, id: &str, outcome: Outcome) -> Finished {
    let snapshot = {
        let commands = sim.0.commands.lock().expect("commands lock");
        match commands.get(id) {
            None => return Finished::Unknown,
            Some(c) if c.state != "IN_PROGRESS" => return Finished::Already(c.state),
            Some(c) => c.clone(),
        }
    };
    let (response, error) = match outcome {
        Outcome::Complete => {
            match tokio::task::spawn_blocking(move || results::complete(&snapshot)).await {
                Ok(Ok(r)) => (Some(r), None),
                Ok(Err(e)) => (None, Some(results::error("DEVICE_ERROR", &e))),
                Err(e) => (None, Some(results::error("DEVICE_ERROR", &e.to_string()))),
            }
        }
        Outcome::Reject => (
            None,
            Some(results::error(
                "USER_REJECTED",
                "the user declined the request",
            )),
        ),
        Outcome::Fail => (
            None,
            Some(results::error(
                "DEVICE_ERROR",
                "the device reported an error (simulated)",
            )),
        ),
        Outcome::Expire => (None, None),
    };
    let state = if outcome == Outcome::Complete && error.is_some() {
        "FAILED"
    } else {
        outcome.state()
    };
    let decided = {
        let mut commands = sim.0.commands.lock().expect("commands lock");
        let Some(c) = commands.get_mut(id) else {
            return Finished::Unknown;
        };
        if c.state != "IN_PROGRESS" {
            return Finished::Already(c.state);
        }
        c.state = state;
        c.response = response;
        c.error = error;
        c.clone()
    };
    // `silent-`: the callback is lost on the way, as one can be; only a poll tells the outcome.
    if !decided
        .external_id
        .as_deref()
        .is_some_and(|e| e.starts_with("silent-"))
    {
        tokio::spawn(deliver(sim.clone(), decided));
    }
    Finished::Now(state)
}

/// Posts the callback to `<callback_url>/callback/<type>` with the client's Basic credential.
async fn deliver(sim: Simulator, c: SimCommand) {
    let Some(client) = sim.0.config.clients.get(&c.client) else {
        return;
    };
    let url = format!(
        "{}/callback/{}",
        client.callback_url.trim_end_matches('/'),
        c.kind
    );
    let body = envelope(&sim, &c);
    let mut status = String::new();
    for attempt in 0..=sim.0.config.callback_retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 << attempt.min(6))).await;
        }
        let mut request = sim.0.http.post(&url).json(&body);
        if let Some(cred) = &client.callback_basic_auth {
            let encoded = base64::engine::general_purpose::STANDARD.encode(cred.expose());
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                status = r.status().as_u16().to_string();
                break;
            }
            Ok(r) => status = r.status().as_u16().to_string(),
            Err(e) => status = format!("error: {}", e.without_url()),
        }
    }
    tracing::info!(command = %c.id, state = c.state, %status, "simulator: callback delivered");
    if let Some(stored) = sim.0.commands.lock().expect("commands lock").get_mut(&c.id) {
        stored.callback_status = Some(status);
    }
}
