//! `GET /api/openapi.json`: the console API as OpenAPI 3.1, made from the route table (app.rs,
//! `api_routes`) and from the handlers' own types. Each extractor a handler takes says what it reads
//! ([`Input`]: `ApiJson<T>` a JSON body of `T`, `ApiQuery<T>` the fields of `T` as query parameters,
//! `Path<T>` the path's parameter), its return type what it answers ([`Output`]), so the description
//! cannot drift from the code: a handler that changes its types changes its entry. The JSON Schemas
//! come from schemars, which reads the types' serde attributes and doc comments (hermod-shared's
//! `schema` feature).

use crate::auth::caller::{Caller, RequestMeta};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::routes::{Created, EventStream, Export, NoContent, OpenMetrics, ZipFile};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::{Extension, Json};
use hermod_shared::console::{FeedEvent, Problem, Role};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// What one operation reads and answers, as its handler's types say.
#[derive(Default)]
pub struct Operation {
    body: Option<Value>,
    /// An object schema whose properties are the query parameters.
    query: Option<Value>,
    path: Option<Value>,
    answer: Option<Answered>,
    /// It can also fail with a [`Problem`].
    fails: bool,
}

/// A successful answer: its status, what it means, and its body's media type and schema.
struct Answered {
    status: &'static str,
    meaning: &'static str,
    content: Option<(&'static str, Value)>,
}

/// An extractor: what it reads from the request, if anything the caller supplies.
pub trait Input {
    fn describe(_op: &mut Operation, _schemas: &mut SchemaGenerator) {}
}

/// A handler's return type: what it answers.
pub trait Output {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator);
}

/// A handler whose arguments are all [`Input`]s and whose answer is an [`Output`]: every async fn
/// the route table holds. `Args` only tells the implementations for each arity apart.
pub trait Described<Args> {
    fn operation(schemas: &mut SchemaGenerator) -> Operation;
}

macro_rules! described {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> Described<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future<Output = R>,
            R: Output,
            $($arg: Input,)*
        {
            fn operation(schemas: &mut SchemaGenerator) -> Operation {
                let mut op = Operation::default();
                $($arg::describe(&mut op, schemas);)*
                R::describe(&mut op, schemas);
                op
            }
        }
    };
}

described!();
described!(A1);
described!(A1, A2);
described!(A1, A2, A3);
described!(A1, A2, A3, A4);
described!(A1, A2, A3, A4, A5);
described!(A1, A2, A3, A4, A5, A6);
described!(A1, A2, A3, A4, A5, A6, A7);

// What the caller does not supply as data: the app's state, the credential (the security schemes
// say how), the request's source and headers.
impl<S> Input for State<S> {}
impl<T> Input for Extension<T> {}
impl Input for Caller {}
impl Input for RequestMeta {}
impl Input for HeaderMap {}

impl<T: JsonSchema> Input for ApiJson<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.body = Some(schemas.subschema_for::<T>().to_value());
    }
}

impl<T: JsonSchema> Input for ApiQuery<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.query = Some(schemas.root_schema_for::<T>().to_value());
    }
}

impl<T: JsonSchema> Input for Path<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.path = Some(schemas.subschema_for::<T>().to_value());
    }
}

impl<T: Output> Output for Result<T, ApiError> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        T::describe(op, schemas);
        op.fails = true;
    }
}

/// Headers beside an answer (a cookie) do not change what it is.
impl<T: Output, const N: usize> Output for ([(HeaderName, HeaderValue); N], T) {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        T::describe(op, schemas);
    }
}

fn json_answer<T: JsonSchema>(
    status: &'static str,
    meaning: &'static str,
    schemas: &mut SchemaGenerator,
) -> Option<Answered> {
    let schema = schemas.subschema_for::<T>().to_value();
    Some(Answered {
        status,
        meaning,
        content: Some(("application/json", schema)),
    })
}

impl<T: JsonSchema> Output for Json<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.answer = json_answer::<T>("200", "OK", schemas);
    }
}

impl<T: JsonSchema> Output for Created<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        op.answer = json_answer::<T>("201", "Created", schemas);
    }
}

impl Output for NoContent {
    fn describe(op: &mut Operation, _: &mut SchemaGenerator) {
        op.answer = Some(Answered {
            status: "204",
            meaning: "Done; nothing to say",
            content: None,
        });
    }
}

impl<T: JsonSchema> Output for Export<T> {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        let rows = schemas.subschema_for::<Vec<T>>().to_value();
        op.answer = Some(Answered {
            status: "200",
            meaning: "Every record the filters select, streamed: CSV with `format=csv` (the \
                      decoded words in the last column), else a JSON array",
            content: Some(("application/json", rows)),
        });
    }
}

impl Output for EventStream {
    fn describe(op: &mut Operation, schemas: &mut SchemaGenerator) {
        let event = schemas.subschema_for::<FeedEvent>().to_value();
        op.answer = Some(Answered {
            status: "200",
            meaning: "Server-sent events: each `command` or `callback` event's data is the \
                      FeedEvent, its `id:` the feed sequence (resume with `Last-Event-ID` or \
                      `?after=`); `heartbeat` events keep the stream alive; `reset` says events \
                      were pruned: reload",
            content: Some(("text/event-stream", event)),
        });
    }
}

impl Output for ZipFile {
    fn describe(op: &mut Operation, _: &mut SchemaGenerator) {
        op.answer = Some(Answered {
            status: "200",
            meaning: "A zip file: every body as its own file with the bytes stored, what was \
                      decoded, the audit entries, and manifest.json with each file's SHA-256 \
                      (README, \"Evidence\")",
            content: Some((
                "application/zip",
                json!({"type": "string", "contentMediaType": "application/zip"}),
            )),
        });
    }
}

impl Output for OpenMetrics {
    fn describe(op: &mut Operation, _: &mut SchemaGenerator) {
        op.answer = Some(Answered {
            status: "200",
            meaning: "Every metric, in the OpenMetrics text format (README, \"Monitoring\")",
            content: Some(("application/openmetrics-text", json!({"type": "string"}))),
        });
    }
}

/// What the document knows of a route's handler: how to describe it, and its name.
#[derive(Clone, Copy)]
pub struct HandlerDoc {
    describe: fn(&mut SchemaGenerator) -> Operation,
    /// Its path in the crate: `hermod_console::routes::commands::list`.
    name: &'static str,
}

impl HandlerDoc {
    pub fn of<H: Described<D>, D>() -> HandlerDoc {
        HandlerDoc {
            describe: H::operation,
            name: std::any::type_name::<H>(),
        }
    }

    /// The handler's module and name: `commands.list`.
    fn operation_id(&self) -> String {
        let mut parts = self.name.rsplit("::");
        let name = parts.next().unwrap_or_default();
        match parts.next() {
            Some(module) => format!("{module}.{name}"),
            None => name.to_string(),
        }
    }
}

/// An API route as the document needs it (app.rs's route table gives one per route).
pub struct Entry<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub role: Option<Role>,
    /// A stream answers for as long as its reader reads: no time limit.
    pub stream: bool,
    pub handler: HandlerDoc,
}

/// The OpenAPI document of these routes.
pub fn describe<'a>(routes: impl IntoIterator<Item = Entry<'a>>) -> Value {
    let mut schemas = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let problem = schemas.subschema_for::<Problem>().to_value();
    let mut paths = Map::new();
    for route in routes {
        let op = (route.handler.describe)(&mut schemas);
        let entry = operation(&route, op, &problem);
        paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item is an object")
            .insert(route.method.as_str().to_ascii_lowercase(), entry);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Hermod Console API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The console's own API: what its page uses, for automation too (README, \
                            \"Console API\"). Authenticate with the session cookie of a login or an \
                            API token (`Authorization: Bearer hct_…`); a write with a session cookie \
                            also needs `X-CSRF-Token`. Each operation's `x-role` is the least role it \
                            needs (viewer < operator < admin; `public`: none).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "schemas": schemas.take_definitions(true),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
                            "description": "`__Host-hermod_session` over HTTPS"},
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    })
}

fn operation(route: &Entry<'_>, op: Operation, problem: &Value) -> Value {
    let role = route.role.map_or("public", |r| r.as_str());
    let mut entry = json!({
        "operationId": route.handler.operation_id(),
        "x-role": role,
        "security": match route.role {
            None => json!([]),
            Some(_) => json!([{"session": []}, {"token": []}]),
        },
    });
    let mut parameters: Vec<Value> = path_names(route.path)
        .map(|name| {
            json!({"name": name, "in": "path", "required": true,
                   "schema": op.path.clone().unwrap_or(json!({"type": "string"}))})
        })
        .collect();
    if let Some(query) = &op.query {
        let properties = query["properties"].as_object().cloned().unwrap_or_default();
        for (name, schema) in properties {
            let mut p = json!({"name": name, "in": "query", "required": false, "schema": schema});
            if let Some(d) = schema.get("description") {
                p["description"] = d.clone();
            }
            parameters.push(p);
        }
    }
    if !parameters.is_empty() {
        entry["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = op.body {
        entry["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body}}});
    }
    let mut responses = Map::new();
    if let Some(a) = op.answer {
        let mut answer = json!({"description": a.meaning});
        if let Some((media, schema)) = a.content {
            answer["content"] = json!({media: {"schema": schema}});
        }
        if route.stream {
            answer["description"] = json!(format!("{} (no time limit)", a.meaning));
        }
        responses.insert(a.status.to_string(), answer);
    }
    if op.fails || route.role.is_some() {
        responses.insert(
            "default".into(),
            json!({"description": "Refused or failed: `error` is a stable code (README, \"Errors\")",
                   "content": {"application/json": {"schema": problem}}}),
        );
    }
    entry["responses"] = Value::Object(responses);
    entry
}

/// The `{name}` parameters of a route's path.
fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}
