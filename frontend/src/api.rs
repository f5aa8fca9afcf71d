//! The only code that talks to the network: the console API over fetch, and the live feed's one
//! EventSource per tab.

use hermod_shared::console::{
    AuditRecord, CallbackRecord, ClientInfo, CommandDetail, CommandRecord, FeedEvent, Heartbeat,
    ListPage, Login, NewToken, NewUser, Problem, SendCommand, SessionInfo, TimelineEntry,
    UserUpdate,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, Headers, MessageEvent, RequestInit, Response};

/// Why a call failed, in words for the operator.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFail {
    /// The console answered with a problem body.
    Problem { status: u16, problem: Box<Problem> },
    /// The console could not be reached.
    Network(String),
    /// It answered something this page cannot read.
    Unreadable { status: u16, detail: String },
}

impl fmt::Display for ApiFail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiFail::Problem { status, problem } => {
                write!(f, "{} ({status}): {}", problem.error, problem.detail)
            }
            ApiFail::Network(e) => write!(
                f,
                "cannot reach the console ({e}); check that it is running and try again"
            ),
            ApiFail::Unreadable { status, detail } => {
                write!(f, "unexpected answer ({status}): {detail}")
            }
        }
    }
}

impl ApiFail {
    /// The console answered 401: the session (or token) has ended.
    pub fn session_ended(&self) -> bool {
        matches!(self, ApiFail::Problem { status: 401, .. })
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiFail::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

thread_local! {
    /// The session's CSRF token, sent as `X-CSRF-Token` on every state-changing request.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Told when the console answers 401: the session has ended.
    static ON_LOGGED_OUT: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// `f` runs whenever a call finds the session gone.
pub fn on_logged_out(f: impl Fn() + 'static) {
    ON_LOGGED_OUT.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// JSON text to `T` by way of a `Value`: the text parser is then compiled once, not once per type,
/// which keeps the bundle measurably smaller.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str::<serde_json::Value>(text).and_then(serde_json::from_value)
}

/// One exchange with the console: the status and the body's text of a 2xx answer (`null` for a
/// 204), or why it failed. `body` is JSON; a state-changing request carries the session's CSRF
/// token. fetch's own, not a wrapper crate's, and not generic: the page's bundle has a budget
/// (README, "Performance"), and only [`call`] is compiled once per answer type.
async fn fetch(method: &str, path: &str, body: Option<String>) -> Result<(u16, String), ApiFail> {
    let network = |e: JsValue| {
        ApiFail::Network(
            e.dyn_ref::<js_sys::Error>()
                .map_or_else(|| "the request failed".into(), |e| e.message().into()),
        )
    };
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(network)?;
    if method != "GET"
        && let Some(token) = CSRF.with(|c| c.borrow().clone())
    {
        headers.set("X-CSRF-Token", &token).map_err(network)?;
    }
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| network(JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .and_then(JsCast::dyn_into)
        .map_err(network)?;
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    if status == 401 {
        ON_LOGGED_OUT.with(|h| {
            if let Some(f) = h.borrow().as_ref() {
                f();
            }
        });
    }
    if (200..300).contains(&status) {
        return Ok((status, if status == 204 { "null".into() } else { text }));
    }
    Err(match parse::<Problem>(&text) {
        Ok(problem) => ApiFail::Problem {
            status,
            problem: Box::new(problem),
        },
        Err(_) => ApiFail::Unreadable {
            status,
            detail: text.chars().take(200).collect(),
        },
    })
}

/// Calls the console and reads its answer as `T`.
async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, ApiFail> {
    let (status, text) = fetch(method, path, body).await?;
    parse(&text).map_err(|e| ApiFail::Unreadable {
        status,
        detail: e.to_string(),
    })
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFail> {
    call("GET", path, None).await
}

async fn send_json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &impl serde::Serialize,
) -> Result<T, ApiFail> {
    let body = serde_json::to_string(body).map_err(|e| ApiFail::Network(e.to_string()))?;
    call(method, path, Some(body)).await
}

async fn post<T: DeserializeOwned>(path: &str, body: &impl serde::Serialize) -> Result<T, ApiFail> {
    send_json("POST", path, body).await
}

/// A DELETE; `T` is `()` for the ones that answer 204.
async fn delete<T: DeserializeOwned>(path: &str) -> Result<T, ApiFail> {
    call("DELETE", path, None).await
}

pub async fn session() -> Result<SessionInfo, ApiFail> {
    get("/api/session").await
}

pub async fn login(login: &Login) -> Result<SessionInfo, ApiFail> {
    post("/api/session", login).await
}

pub async fn logout() -> Result<(), ApiFail> {
    delete("/api/session").await
}

/// The users, read as JSON (routes/users.rs reads what it shows of them); likewise the tokens.
pub async fn users() -> Result<serde_json::Value, ApiFail> {
    get("/api/users").await
}

pub async fn create_user(user: &NewUser) -> Result<serde_json::Value, ApiFail> {
    post("/api/users", user).await
}

pub async fn update_user(id: i64, change: &UserUpdate) -> Result<serde_json::Value, ApiFail> {
    send_json("PUT", &format!("/api/users/{id}"), change).await
}

pub async fn delete_user(id: i64) -> Result<(), ApiFail> {
    delete(&format!("/api/users/{id}")).await
}

pub async fn tokens() -> Result<serde_json::Value, ApiFail> {
    get("/api/tokens").await
}

pub async fn create_token(token: &NewToken) -> Result<serde_json::Value, ApiFail> {
    post("/api/tokens", token).await
}

pub async fn revoke_token(id: i64) -> Result<serde_json::Value, ApiFail> {
    delete(&format!("/api/tokens/{id}")).await
}

/// `query` is an already encoded query string, without `?`.
pub async fn audit(query: &str) -> Result<ListPage<AuditRecord>, ApiFail> {
    get(&format!("/api/audit?{query}")).await
}

/// Whether the audit log's hash chain holds (admin): an `AuditChain`, read as JSON, as
/// [`check_client`]'s answer is.
pub async fn audit_chain() -> Result<serde_json::Value, ApiFail> {
    get("/api/audit/chain").await
}

pub async fn clients() -> Result<Vec<ClientInfo>, ApiFail> {
    get("/api/clients").await
}

/// `query` is an already encoded query string, without `?`.
pub async fn commands(query: &str) -> Result<ListPage<CommandRecord>, ApiFail> {
    get(&format!("/api/commands?{query}")).await
}

/// A command's page, its decoded material read as JSON (`TimelineEntry`'s `I`).
pub type Detail = CommandDetail<Value>;
pub type Step = TimelineEntry<Value>;

/// `all`: every callback and poll, not only the newest.
pub async fn command(id: i64, all: bool) -> Result<Detail, ApiFail> {
    let all = if all { "?all=true" } else { "" };
    get(&format!("/api/commands/{id}{all}")).await
}

pub async fn send(command: &SendCommand) -> Result<CommandRecord, ApiFail> {
    post("/api/commands", command).await
}

/// Whether a client's command URL answers and takes its key: a `ClientCheck`, read as JSON (its
/// two strings are all the page shows, and a typed reader of its own would cost the bundle more).
pub async fn check_client(id: &str) -> Result<serde_json::Value, ApiFail> {
    post(&format!("/api/clients/{id}/check"), &serde_json::json!({})).await
}

/// Polls Hermod for command `id`: the poll, the command after it and the state Hermod `reported`
/// (read as JSON: the page shows only that state; the feed brings the rest).
pub async fn poll(id: i64) -> Result<serde_json::Value, ApiFail> {
    post(&format!("/api/commands/{id}/poll"), &serde_json::json!({})).await
}

/// Gives a command whose send ended unknown the commandId Hermod created it under.
pub async fn link(id: i64, command_id: String) -> Result<CommandRecord, ApiFail> {
    let link = hermod_shared::console::LinkCommand { command_id };
    post(&format!("/api/commands/{id}/link"), &link).await
}

/// The command that follows `id` in its use case, filled from its result: `client`, `type`, `body`
/// and `note` (read as JSON: a typed reader would cost the bundle more than it saves).
pub async fn next(id: i64) -> Result<serde_json::Value, ApiFail> {
    get(&format!("/api/commands/{id}/next")).await
}

/// How body `b` differs from body `a` (`command:<id>`, `answer:<id>`, `callback:<id>`, `poll:<id>`),
/// read as JSON.
pub async fn diff(a: &str, b: &str) -> Result<serde_json::Value, ApiFail> {
    get(&format!("/api/diff?a={a}&b={b}")).await
}

/// The Overview of a window (`since=…&until=…`, encoded), read as JSON (routes/overview.rs).
pub async fn overview(window: &str) -> Result<Value, ApiFail> {
    get(&format!("/api/overview?{window}")).await
}

/// A device and the certificates it was seen with, read as JSON (components/device.rs).
pub async fn device(key: &str) -> Result<serde_json::Value, ApiFail> {
    get(&format!("/api/devices/{}", crate::nav::encode(key))).await
}

/// One callback, its body whole (lists carry the first 16 KiB).
pub async fn callback(id: i64) -> Result<CallbackRecord, ApiFail> {
    get(&format!("/api/callbacks/{id}")).await
}

/// What the backend decodes from callback `id`'s body: `DecodedItem`s, read as JSON as a command's
/// are (`Detail`).
pub async fn callback_decoded(id: i64) -> Result<Vec<Value>, ApiFail> {
    get(&format!("/api/callbacks/{id}/decoded")).await
}

pub async fn callbacks(query: &str) -> Result<ListPage<CallbackRecord>, ApiFail> {
    get(&format!("/api/callbacks?{query}")).await
}

/// What the live feed's EventSource reports.
pub enum StreamMsg {
    Opened,
    /// The connection dropped; `closed` when the browser gave up reconnecting on its own.
    Failed {
        closed: bool,
    },
    Event(Box<FeedEvent>),
    Heartbeat(Heartbeat),
    /// Events this stream was to replay were removed by retention: it goes on from the oldest kept.
    Reset,
}

/// The tab's one EventSource on `/api/events`; closed when dropped.
pub struct EventStream {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl EventStream {
    /// Opens the feed after sequence `after`; `on` receives everything it reports.
    pub fn open(after: i64, on: impl Fn(StreamMsg) + 'static) -> Result<EventStream, ApiFail> {
        let source = EventSource::new(&format!("/api/events?after={after}"))
            .map_err(|e| ApiFail::Network(format!("{e:?}")))?;
        let on = std::rc::Rc::new(on);
        let mut listeners = Vec::new();
        let mut listen = |name: &str, handler: Box<dyn FnMut(web_sys::Event)>| {
            let closure = Closure::wrap(handler);
            let _ = source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
            listeners.push(closure);
        };
        // One closure type for the four: each listener of a type of its own costs the bundle more.
        for name in ["command", "callback", "overdue", "reset"] {
            let on = on.clone();
            listen(
                name,
                Box::new(move |e| {
                    if name == "reset" {
                        on(StreamMsg::Reset);
                    } else if let Some(event) = message(&e).and_then(|d| parse(&d).ok()) {
                        on(StreamMsg::Event(Box::new(event)));
                    }
                }),
            );
        }
        let on_beat = on.clone();
        listen(
            "heartbeat",
            Box::new(move |e| {
                if let Some(beat) = message(&e).and_then(|d| parse(&d).ok()) {
                    on_beat(StreamMsg::Heartbeat(beat));
                }
            }),
        );
        let on_open = on.clone();
        listen("open", Box::new(move |_| on_open(StreamMsg::Opened)));
        let on_error = on;
        let probe = source.clone();
        listen(
            "error",
            Box::new(move |_| {
                on_error(StreamMsg::Failed {
                    closed: probe.ready_state() == EventSource::CLOSED,
                })
            }),
        );
        Ok(EventStream {
            source,
            _listeners: listeners,
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.close();
    }
}

fn message(e: &web_sys::Event) -> Option<String> {
    e.dyn_ref::<MessageEvent>()?.data().as_string()
}

// Templates

/// The templates, read as JSON (form/templates.rs reads what it uses of them).
pub async fn templates() -> Result<serde_json::Value, ApiFail> {
    get("/api/templates").await
}

/// Saves a template: a new one, or over template `id`.
pub async fn save_template(
    id: Option<i64>,
    template: &hermod_shared::console::TemplateInput,
) -> Result<serde_json::Value, ApiFail> {
    let (method, path) = match id {
        Some(id) => ("PUT", format!("/api/templates/{id}")),
        None => ("POST", "/api/templates".to_string()),
    };
    send_json(method, &path, template).await
}

pub async fn delete_template(id: i64) -> Result<(), ApiFail> {
    delete(&format!("/api/templates/{id}")).await
}
