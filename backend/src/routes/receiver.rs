//! The callback receiver (docs/ARCHITECTURE.md): Hermod posts `<callback-url>/callback/<type>` with
//! the API client's Basic credential. A callback is answered 2xx only after it is committed; a
//! repeat is acknowledged and not stored twice; an unknown type is stored like any other.

use crate::audit::{AuditLog, Event};
use crate::auth::{self, Auth};
use crate::clock::now_ms;
use crate::error::{ApiError, Code, discard_body, read_body};
use crate::metrics::Metrics;
use crate::state::{AppState, CallbackBodyLimit, Client, Clients};
use crate::store::{CallbackSaved, NewCallback, Store};
use axum::Json;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hermod_shared::console::MISROUTED;
use hermod_shared::hermod::Correlation;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// What the receiver works with, taken on every callback: a few `Arc`s and a number.
#[derive(Clone)]
pub struct Receiver {
    store: Arc<dyn Store>,
    clients: Arc<Clients>,
    audit: Arc<AuditLog>,
    /// Which proxies' forwarded addresses to believe, for a refusal's audit line.
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    body_limit: usize,
}

impl FromRef<AppState> for Receiver {
    fn from_ref(app: &AppState) -> Receiver {
        Receiver {
            store: app.part(),
            clients: app.part(),
            audit: app.part(),
            auth: app.part(),
            metrics: app.part(),
            body_limit: app.part::<CallbackBodyLimit>().0,
        }
    }
}

/// `/rest/…`: the client is the one whose credential matches.
pub async fn by_credential(
    State(receiver): State<Receiver>,
    Path(rest): Path<String>,
    req: Request,
) -> Response {
    receive(receiver, None, kind_of(&rest), req).await
}

/// `/clients/{client}/…`: the client is named by the path.
pub async fn by_path(
    State(receiver): State<Receiver>,
    Path((client, rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    receive(receiver, Some(client), kind_of(&rest), req).await
}

/// The callback's type, from a path that ends in `callback/<type>` (in any case); `None` for any
/// other path. Hermod appending `/callback/<type>` to the registered URL is inferred, not
/// documented (docs/hermod.md §3.1), so a POST elsewhere is kept too, as misrouted.
fn kind_of(rest: &str) -> Option<String> {
    let mut segments = rest.trim_end_matches('/').rsplit('/');
    let (kind, callback) = (segments.next()?, segments.next()?);
    let letters = (1..=32).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_alphabetic());
    (callback.eq_ignore_ascii_case("callback") && letters).then(|| kind.to_ascii_lowercase())
}

/// The most of a callback's path kept with it.
const MAX_PATH: usize = 1024;

/// Who a callback comes from, as far as its credential shows.
enum Verdict<'a> {
    Basic(&'a Client),
    /// The client has no callback credential configured; accepted on its own path only.
    Unauthenticated(&'a Client),
    Denied(&'static str),
}

async fn receive(
    receiver: Receiver,
    path_client: Option<String>,
    mut kind: Option<String>,
    req: Request,
) -> Response {
    let arrived = Instant::now();
    let verdict = match &path_client {
        Some(id) => match receiver.clients.client(id) {
            Some(client) => check_client(client, req.headers()),
            // A client the path does not know, but a credential that names one: kept, misrouted.
            None => match find_client(&receiver.clients, req.headers()) {
                found @ Verdict::Basic(_) => {
                    kind = None;
                    found
                }
                _ => return ApiError::not_found("API client").into_response(),
            },
        },
        None => find_client(&receiver.clients, req.headers()),
    };
    let (client, auth) = match verdict {
        Verdict::Basic(c) => (
            c,
            format!(
                "basic ok ({})",
                c.callback.as_ref().map(|(u, _)| u.as_str()).unwrap_or("")
            ),
        ),
        Verdict::Unauthenticated(c) => (c, "none (client has no callback credential)".to_string()),
        Verdict::Denied(reason) => {
            let meta = auth::request_meta(&req, &receiver.auth);
            let path = req.uri().path().to_string();
            let source = &meta.source;
            tracing::warn!(security = true, %path, %source, reason, "callback rejected");
            receiver.metrics.callbacks_rejected.inc();
            receiver
                .audit
                .record(
                    &meta,
                    None,
                    Event::ok("callback_rejected", path)
                        .outcome("denied")
                        .detail(json!({"reason": reason, "client": path_client}))
                        .by("hermod"),
                )
                .await;
            discard_body(req).await;
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"hermod-console callbacks\"")],
                ApiError::new(Code::Unauthorized,
                    "the callback's Basic credential does not match an API client's callback-basic-auth",
                ),
            )
                .into_response();
        }
    };
    if let Some(Err(wait)) = client.callback_rate.as_ref().map(|b| b.take()) {
        receiver.metrics.callbacks_limited.inc();
        discard_body(req).await;
        let secs = wait.as_secs_f64().ceil() as u64;
        return ApiError::new(
            Code::TooManyCallbacks,
            format!(
                "callbacks of `{}` come faster than its callback_rate_per_sec; try again in {} s",
                client.id,
                secs.max(1)
            ),
        )
        .retry_after(secs)
        .into_response();
    }
    let client_id = client.id.clone();
    let headers = kept_headers(req.headers(), &auth);
    let path: String = req.uri().path().chars().take(MAX_PATH).collect();
    let kind = kind.unwrap_or_else(|| {
        tracing::warn!(%path, client = %client_id, "a callback came to a path not ending in /callback/<type>; kept as misrouted");
        receiver.metrics.callbacks_misrouted.inc();
        MISROUTED.to_string()
    });
    let body = match read_body(req, receiver.body_limit).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    // Checked first as it nearly always is, valid: that check reads ASCII a word at a time, the
    // lossy conversion a byte at a time.
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(&body).into_owned(),
    };
    let found = serde_json::from_str(&text)
        .map(|v| Correlation::of(&v, &receiver.clients.envelope))
        .unwrap_or_default();
    let saved = receiver
        .store
        .insert_callback(NewCallback {
            received_at: now_ms(),
            client: Some(client_id),
            callback_type: kind,
            command_id: found.command_id,
            state: found.state,
            reason: found.reason,
            external_id: found.external_id,
            body: text,
            headers,
            auth,
            path,
        })
        .await;
    if saved.is_ok() {
        receiver
            .metrics
            .callback_ingest
            .observe(arrived.elapsed().as_secs_f64());
    }
    match saved {
        Ok(CallbackSaved::Stored(id)) => {
            receiver.metrics.callbacks_stored.inc();
            Json(Ack {
                status: "stored",
                id,
            })
            .into_response()
        }
        Ok(CallbackSaved::Duplicate(id)) => {
            receiver.metrics.callbacks_duplicate.inc();
            Json(Ack {
                status: "duplicate",
                id,
            })
            .into_response()
        }
        Err(e) => ApiError::store(e).into_response(),
    }
}

/// A callback's answer: `stored` or `duplicate`, and its record's id.
#[derive(Serialize)]
struct Ack {
    status: &'static str,
    id: i64,
}

fn basic_credential(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
}

/// Compared as digests so every comparison takes the same time whatever the lengths.
fn same_credential(given: &[u8], client: &Client) -> bool {
    let Some((user, password)) = &client.callback else {
        return false;
    };
    let expected = Sha256::digest(format!("{user}:{}", password.expose()));
    let given = Sha256::digest(given);
    bool::from(given.as_slice().ct_eq(expected.as_slice()))
}

fn check_client<'a>(client: &'a Client, headers: &HeaderMap) -> Verdict<'a> {
    if client.callback.is_none() {
        return Verdict::Unauthenticated(client);
    }
    match basic_credential(headers) {
        Some(given) if same_credential(&given, client) => Verdict::Basic(client),
        Some(_) => Verdict::Denied("wrong credential"),
        None => Verdict::Denied("no Basic credential"),
    }
}

fn find_client<'a>(clients: &'a Clients, headers: &HeaderMap) -> Verdict<'a> {
    let Some(given) = basic_credential(headers) else {
        return Verdict::Denied("no Basic credential");
    };
    // Every client is compared, so the time taken does not tell which one nearly matched.
    let mut found = None;
    for client in clients.all() {
        if same_credential(&given, client) {
            found = Some(client);
        }
    }
    found.map_or(Verdict::Denied("wrong credential"), Verdict::Basic)
}

/// The request's headers as stored: `Authorization` replaced by the verdict, other credentials removed.
fn kept_headers(headers: &HeaderMap, verdict: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_string();
            let value = match name.as_str() {
                "authorization" => verdict.to_string(),
                "cookie" | "proxy-authorization" | "x-api-key" => "<redacted>".to_string(),
                _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name, value)
        })
        .collect()
}
