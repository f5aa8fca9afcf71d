//! A faithful stand-alone Hermod for demos and tests (docs/ARCHITECTURE.md): the documented command
//! and poll endpoints with `X-Api-Key`, validation, never-repeating `commandId`s, plugout
//! destinations, a lifecycle to a terminal state with exactly one callback, real PKI material in
//! the results, and steering by `externalId` prefix or by a control endpoint.
//!
//! `hermod-console simulate` serves it alone and `demo` beside the console (`backend/src/launch.rs`),
//! with the console's own listener code; the backend's in-process tests serve its [`router`] themselves.

mod config;
mod lifecycle;
pub mod material;
mod results;
pub mod tls;
mod validate;

pub use config::{SimClient, SimConfig, SimTls};

use axum::Json;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use hermod_shared::clock::{now_ms, rfc3339};
use hermod_shared::hermod::{CommandBody, CommandType, Destination, set_pointer};
use lifecycle::Outcome;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// One command as the simulator holds it.
#[derive(Debug, Clone)]
struct SimCommand {
    id: String,
    client: String,
    /// The type as in the path (`sign`), and as the answers and callbacks name it (`SIGN`).
    kind: String,
    wire: String,
    body: CommandBody,
    external_id: Option<String>,
    destinations: Vec<Destination>,
    state: &'static str,
    response: Option<Value>,
    error: Option<Value>,
    /// What the client's callback endpoint answered (or why it could not be reached).
    callback_status: Option<String>,
}

struct Inner {
    config: SimConfig,
    commands: Mutex<HashMap<String, SimCommand>>,
    last_id: Mutex<u64>,
    http: reqwest::Client,
}

#[derive(Clone)]
pub struct Simulator(Arc<Inner>);

impl Simulator {
    pub fn new(config: SimConfig) -> Simulator {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.callback_timeout_secs))
            .build()
            .expect("a plain HTTP client always builds");
        // Make the slow RSA keys while the first command is still being typed.
        tokio::task::spawn_blocking(|| {
            if let Err(e) = material::Identity::shared() {
                tracing::error!(error = %e, "simulator: cannot make its test PKI material");
            }
        });
        Simulator(Arc::new(Inner {
            config,
            commands: Mutex::new(HashMap::new()),
            last_id: Mutex::new(0),
            http,
        }))
    }

    /// Ids are the clock in microseconds, bumped past the last one: they never repeat, not even across
    /// restarts with a kept data directory.
    fn next_id(&self) -> String {
        let mut last = self.0.last_id.lock().expect("id lock");
        let now = (now_ms() as u64) * 1000;
        *last = (*last + 1).max(now);
        last.to_string()
    }
}

pub fn router(sim: Simulator) -> Router {
    let hermod = Router::new()
        .route("/command/poll/{id}", get(poll))
        .route("/command/{kind}", post(create));
    Router::new()
        // Self-hosted Hermod lives under /hermod/rest; Nexus GO has no prefix (docs/hermod.md
        // §1.2).
        .nest("/hermod/rest", hermod.clone())
        .merge(hermod)
        .route("/sim/commands/{id}", get(inspect))
        .route("/sim/commands/{id}/{action}", post(control))
        .route("/util/generateclient/{id}", get(generate_client))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(sim)
}

/// A Spring-Boot-style error body, the shape a real Hermod most plausibly answers with.
fn spring_error(status: StatusCode, message: impl Into<String>, path: &str) -> Response {
    let body = json!({
        "timestamp": rfc3339(now_ms()),
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or(""),
        "message": message.into(),
        "path": path,
    });
    (status, Json(body)).into_response()
}

/// The API client an `X-Api-Key` (base64 of `id:key`) belongs to.
fn authenticate<'a>(sim: &'a Simulator, headers: &HeaderMap) -> Option<&'a str> {
    let raw = headers.get("x-api-key")?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, key) = decoded.split_once(':')?;
    let (known_id, client) = sim.0.config.clients.get_key_value(id)?;
    let expected = Sha256::digest(client.key.expose());
    let given = Sha256::digest(key);
    bool::from(expected.as_slice().ct_eq(given.as_slice())).then_some(known_id.as_str())
}

async fn create(State(sim): State<Simulator>, Path(kind): Path<String>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let Some(client) = authenticate(&sim, req.headers()).map(str::to_string) else {
        return spring_error(
            StatusCode::UNAUTHORIZED,
            "invalid or missing X-Api-Key",
            &path,
        );
    };
    let ty = CommandType::parse(&kind);
    if ty.is_none() && !sim.0.config.custom_commands.contains(&kind) {
        return spring_error(
            StatusCode::NOT_FOUND,
            format!("no command type {kind}"),
            &path,
        );
    }
    let bytes = match axum::body::to_bytes(req.into_body(), 8 << 20).await {
        Ok(b) => b,
        Err(_) => return spring_error(StatusCode::PAYLOAD_TOO_LARGE, "body too large", &path),
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return spring_error(
                StatusCode::BAD_REQUEST,
                format!("JSON parse error: {e}"),
                &path,
            );
        }
    };
    let checked = match ty {
        Some(ty) => validate::command(ty, &sim.0.config.body_keys, &value),
        None => CommandBody::parse_custom(&value),
    };
    let body = match checked {
        Ok(b) => b,
        Err(e) => return spring_error(StatusCode::BAD_REQUEST, e.to_string(), &path),
    };
    let external_id = body.external_id().map(str::to_string);
    let steer = external_id.as_deref().unwrap_or("");
    // Failure modes of Hermod itself, for trying the console's error handling.
    if steer.starts_with("crash-") {
        return spring_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulated internal error",
            &path,
        );
    }
    if steer.starts_with("garbage-") {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>502 Bad Gateway (simulated proxy page)</body></html>",
        )
            .into_response();
    }
    let id = sim.next_id();
    let destinations = destinations(&sim.0.config.public_url, &body);
    let wire = ty.map_or_else(|| kind.to_ascii_uppercase(), |t| t.wire_name().to_string());
    let command = SimCommand {
        id: id.clone(),
        client,
        kind,
        wire: wire.clone(),
        body,
        external_id: external_id.clone(),
        destinations: destinations.clone(),
        state: "IN_PROGRESS",
        response: None,
        error: None,
        callback_status: None,
    };
    let timeout = command
        .body
        .timeout_secs()
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(sim.0.config.default_timeout_secs));
    sim.0
        .commands
        .lock()
        .expect("commands lock")
        .insert(id.clone(), command);
    let plan = Outcome::plan(steer, Duration::from_millis(sim.0.config.complete_after_ms));
    tokio::spawn(lifecycle::run(sim.clone(), id.clone(), plan, timeout));
    // Quirks of a Hermod the documentation does not rule out: an id sent as a JSON number.
    let command_id = match steer.starts_with("numericid-") {
        true => json!(id.parse::<u64>().expect("the simulator's ids are digits")),
        false => json!(id),
    };
    let answer = json!({
        "commandId": command_id,
        "destinations": destinations,
        "commandType": wire,
        "state": "IN_PROGRESS",
        "fqdn": sim.0.config.fqdn,
    });
    if steer.starts_with("gateway-") {
        // A proxy in front of Hermod gave up after Hermod had created the command: its callback
        // still comes.
        return (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>",
        )
            .into_response();
    }
    if steer.starts_with("slow-") {
        // Hermod accepted the command but its answer is late: the console's "outcome unknown" case.
        tokio::time::sleep(Duration::from_millis(sim.0.config.slow_answer_ms)).await;
    }
    Json(answer).into_response()
}

/// One mailbox and message per destination, and the plugout link that opens it (docs/hermod.md
/// §2.3).
fn destinations(public_url: &str, body: &CommandBody) -> Vec<Destination> {
    let to = body
        .header
        .as_ref()
        .and_then(|h| h.to.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| vec!["@tmp".to_string()]);
    to.into_iter()
        .map(|to| {
            let (bid, mid, token) = (uuid(), uuid(), uuid());
            let mailbox = format!("{public_url}/{bid}");
            Destination {
                to: Some(to),
                uri: Some(format!(
                    "com.nexusgroup.plugout:///?url={}&token={token}",
                    percent_encode(&mailbox)
                )),
                location: Some(format!("{mailbox}/{mid}")),
                bid: Some(bid),
                mid: Some(mid),
                extra: Default::default(),
            }
        })
        .collect()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The callback envelope for `c`, written where the configured shape puts each field.
fn envelope(sim: &Simulator, c: &SimCommand) -> Value {
    let keys = &sim.0.config.envelope;
    let mut doc = json!({});
    let mut put = |ptrs: &[String], v: Value| {
        if let Some(p) = ptrs.first() {
            set_pointer(&mut doc, p, v);
        }
    };
    put(&keys.command_id, json!(c.id));
    if let Some(x) = &c.external_id {
        put(&keys.external_id, json!(x));
    }
    put(&keys.command_type, json!(c.wire));
    put(&keys.state, json!(c.state));
    if let Some(r) = &c.response {
        put(&keys.response, r.clone());
    }
    put(&keys.error, c.error.clone().unwrap_or(Value::Null));
    doc
}

/// The command as a poll answers it: the create answer's fields, then the envelope on top.
fn describe(sim: &Simulator, c: &SimCommand) -> Value {
    let mut doc = json!({
        "commandId": c.id,
        "destinations": c.destinations,
        "commandType": c.wire,
        "state": c.state,
        "fqdn": sim.0.config.fqdn,
    });
    if let (Value::Object(base), Value::Object(env)) = (&mut doc, envelope(sim, c)) {
        base.extend(env);
    }
    doc
}

async fn poll(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/command/poll/{id}");
    let Some(client) = authenticate(&sim, &headers) else {
        return spring_error(
            StatusCode::UNAUTHORIZED,
            "invalid or missing X-Api-Key",
            &path,
        );
    };
    let found = sim
        .0
        .commands
        .lock()
        .expect("commands lock")
        .get(&id)
        .filter(|c| c.client == client)
        .cloned();
    match found {
        Some(c) => Json(describe(&sim, &c)).into_response(),
        None => spring_error(StatusCode::NOT_FOUND, format!("no command {id}"), &path),
    }
}

/// `GET /sim/commands/{id}`: what the simulator holds, for tests and curious operators.
async fn inspect(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    let found = sim
        .0
        .commands
        .lock()
        .expect("commands lock")
        .get(&id)
        .cloned();
    match found {
        Some(c) => {
            let mut doc = describe(&sim, &c);
            doc["client"] = json!(c.client);
            doc["request"] = c.body.to_value();
            doc["callbackStatus"] = json!(c.callback_status);
            Json(doc).into_response()
        }
        None => spring_error(
            StatusCode::NOT_FOUND,
            format!("no command {id}"),
            "/sim/commands",
        ),
    }
}

/// `POST /sim/commands/{id}/{complete|reject|fail|expire}`: decide a command now.
async fn control(
    State(sim): State<Simulator>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Some(outcome) = Outcome::from_action(&action) else {
        return spring_error(
            StatusCode::NOT_FOUND,
            "action is one of complete, reject, fail, expire",
            "/sim/commands",
        );
    };
    match lifecycle::finish(&sim, &id, outcome).await {
        lifecycle::Finished::Now(state) => {
            Json(json!({"commandId": id, "state": state})).into_response()
        }
        lifecycle::Finished::Already(state) => spring_error(
            StatusCode::CONFLICT,
            format!("command {id} is already {state}"),
            "/sim/commands",
        ),
        lifecycle::Finished::Unknown => spring_error(
            StatusCode::NOT_FOUND,
            format!("no command {id}"),
            "/sim/commands",
        ),
    }
}

/// Hermod's helper for adding an API user (docs/hermod.md §5.2), answered in the same spirit.
async fn generate_client(Path(id): Path<String>) -> Response {
    let key: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    let api_key = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{key}"));
    let yaml = format!(
        "# X-Api-Key: {api_key}\n- client-id: {id}\n  key: {key}\n  # callback-basic-auth: user:password\n  callback-url: http://localhost:20400/hermod/rest\n"
    );
    ([(header::CONTENT_TYPE, "text/yaml")], yaml).into_response()
}
