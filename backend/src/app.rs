//! The console's router: `fn app(state) -> Router`, so tests and every subcommand build exactly the
//! same thing. Every API route is declared once, in [`api_routes`], with the least role it
//! needs; the router, the guard and `GET /api/routes` are all made from that one table.

use crate::auth::{self, CalledBy, Gate, RouteRoles};
use crate::config::host_name;
use crate::error::{ApiError, Code, Failure};
use crate::metrics::Metrics;
use crate::openapi::{self, Described, Entry, HandlerDoc};
use crate::request_id::{self, NewRequestId};
use crate::routes;
use crate::state::{
    AllowedHosts, AppState, CallbacksElsewhere, Clients, LogRequests, RequestTimeout,
    SecurityHeaders,
};
use crate::web::Web;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, any, get, on, post};
use axum::{Extension, Json, Router};
use hermod_shared::console::{Role, RouteInfo};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tower::util::MapRequestLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// Refuses a request that names a host the console does not answer to, before any other work: a
/// page on a name an attacker points at this address (DNS rebinding) would otherwise be same-origin
/// with the console's API. Health checks are exempt: probes name whatever address they dial, and
/// the answers hold nothing.
async fn check_host(
    State(AllowedHosts(hosts)): State<AllowedHosts>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .map(host_name);
    let allowed = host.as_ref().is_some_and(|h| hosts.iter().any(|a| a == h));
    if allowed || matches!(req.uri().path(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    let named: String = host.unwrap_or_default().chars().take(64).collect();
    ApiError::new(
        Code::UnknownHost,
        format!(
            "this console does not answer to the host `{named}`; it answers to {} (allowed_hosts, \
             public_url)",
            hosts.join(", ")
        ),
    )
    .into_response()
}

async fn add_security_headers(
    State(SecurityHeaders(sent)): State<SecurityHeaders>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in sent.iter() {
        headers.insert(name.clone(), value.clone());
    }
    response
}

/// How a route answers: most within the request time limit; a stream stays open for as long as its
/// reader does, so no time limit applies to it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Request,
    Stream,
}

/// One API route: where, the least role it needs (`None`: public), how it answers, its handler, and
/// what the API description says of it (openapi.rs: the handler's types).
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub role: Option<Role>,
    pub answer: Answer,
    handler: MethodRouter<AppState>,
    doc: HandlerDoc,
}

fn route<H, T, D>(method: Method, path: &'static str, role: Option<Role>, handler: H) -> ApiRoute
where
    H: Handler<T, AppState> + Described<D>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("the table holds plain methods");
    ApiRoute {
        method,
        path,
        role,
        answer: Answer::Request,
        handler: on(filter, handler),
        doc: HandlerDoc::of::<H, D>(),
    }
}

fn stream<H, T, D>(path: &'static str, role: Role, handler: H) -> ApiRoute
where
    H: Handler<T, AppState> + Described<D>,
    T: 'static,
{
    ApiRoute {
        answer: Answer::Stream,
        ..route(Method::GET, path, Some(role), handler)
    }
}

/// Every API route. A route missing here does not exist; the access matrix test reads this table
/// (through `GET /api/routes`), so a new route cannot slip past it.
pub fn api_routes() -> Vec<ApiRoute> {
    use Method as M;
    use Role::{Admin, Operator, Viewer};
    use routes::*;
    vec![
        route(M::POST, "/api/session", None, session::login),
        route(M::GET, "/api/session", Some(Viewer), session::whoami),
        route(M::DELETE, "/api/session", Some(Viewer), session::logout),
        route(M::GET, "/api/routes", Some(Viewer), list_routes),
        route(M::GET, "/api/openapi.json", Some(Viewer), openapi_document),
        route(M::GET, "/api/clients", Some(Viewer), clients::list),
        route(
            M::POST,
            "/api/clients/{id}/check",
            Some(Operator),
            clients::check,
        ),
        route(M::GET, "/api/commands", Some(Viewer), commands::list),
        route(
            M::GET,
            "/api/commands/export",
            Some(Viewer),
            commands::export,
        ),
        route(M::POST, "/api/commands", Some(Operator), commands::send),
        route(M::GET, "/api/commands/{id}", Some(Viewer), commands::detail),
        route(
            M::POST,
            "/api/commands/{id}/poll",
            Some(Operator),
            commands::poll,
        ),
        route(
            M::POST,
            "/api/commands/{id}/link",
            Some(Operator),
            commands::link,
        ),
        route(M::GET, "/api/commands/{id}/next", Some(Viewer), next::next),
        route(
            M::GET,
            "/api/commands/{id}/evidence",
            Some(Viewer),
            evidence::evidence,
        ),
        route(M::GET, "/api/diff", Some(Viewer), diff::compare),
        route(M::GET, "/api/devices", Some(Viewer), devices::list),
        route(M::GET, "/api/devices/{key}", Some(Viewer), devices::one),
        route(M::GET, "/api/overview", Some(Viewer), overview::get),
        route(M::GET, "/api/callbacks", Some(Viewer), callbacks::list),
        route(
            M::GET,
            "/api/callbacks/export",
            Some(Viewer),
            callbacks::export,
        ),
        route(M::GET, "/api/callbacks/{id}", Some(Viewer), callbacks::one),
        route(
            M::GET,
            "/api/callbacks/{id}/decoded",
            Some(Viewer),
            callbacks::decoded,
        ),
        route(M::GET, "/api/templates", Some(Viewer), templates::list),
        route(M::POST, "/api/templates", Some(Operator), templates::create),
        route(
            M::PUT,
            "/api/templates/{id}",
            Some(Operator),
            templates::update,
        ),
        route(
            M::DELETE,
            "/api/templates/{id}",
            Some(Operator),
            templates::remove,
        ),
        stream("/api/events", Viewer, events::stream),
        route(M::GET, "/api/users", Some(Admin), users::list),
        route(M::POST, "/api/users", Some(Admin), users::create),
        route(M::PUT, "/api/users/{id}", Some(Admin), users::update),
        route(M::DELETE, "/api/users/{id}", Some(Admin), users::remove),
        route(M::GET, "/api/tokens", Some(Admin), tokens::list),
        route(M::POST, "/api/tokens", Some(Admin), tokens::create),
        route(M::DELETE, "/api/tokens/{id}", Some(Admin), tokens::revoke),
        route(M::GET, "/api/audit", Some(Admin), audit::list),
        route(M::GET, "/api/audit/export", Some(Admin), audit::export),
        route(M::GET, "/api/audit/chain", Some(Admin), audit::chain),
        route(M::GET, "/metrics", Some(Admin), health::metrics),
    ]
}

/// `GET /api/openapi.json`: the route table described (openapi.rs). The table is fixed at build, so
/// the document is made once.
async fn openapi_document() -> Json<&'static serde_json::Value> {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(|| {
        openapi::describe(api_routes().iter().map(|r| Entry {
            method: &r.method,
            path: r.path,
            role: r.role,
            stream: r.answer == Answer::Stream,
            handler: r.doc,
        }))
    }))
}

async fn list_routes(Extension(table): Extension<Arc<Vec<RouteInfo>>>) -> Json<Vec<RouteInfo>> {
    Json(table.as_ref().clone())
}

fn gate(state: &AppState, roles: RouteRoles) -> Gate {
    Gate {
        store: state.part(),
        auth: state.part(),
        audit: state.part(),
        roles,
    }
}

/// The routes Hermod posts callbacks to.
fn callback_routes(state: &AppState) -> Router<AppState> {
    let RequestTimeout(timeout) = state.part();
    Router::new()
        // Anything under a client's URL or `/rest/`: where exactly Hermod posts is a guess, and a
        // callback posted elsewhere must not be lost (routes/receiver.rs).
        .route("/rest/{*rest}", post(routes::receiver::by_credential))
        .route("/clients/{client}/{*rest}", post(routes::receiver::by_path))
        .route("/healthz", get(routes::health::live))
        // No guard: a callback's credential is Hermod's, checked by the receiver itself.
        .layer(middleware::from_fn_with_state(timeout, time_limit))
}

/// What a separate callback listener (`callback_listen`) serves: the receiver and nothing else, so the
/// console itself need not be reachable from Hermod's network.
pub fn callback_app(state: AppState) -> Router {
    let routes =
        callback_routes(&state).layer(middleware::from_fn_with_state(state.clone(), check_host));
    outer_layers(routes, state)
}

/// The layers every listener's router ends with, innermost first: the request id (request_id.rs: set,
/// and copied to the answer), the access log and request durations, and outside them the security
/// headers, so they are on every answer.
fn outer_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(NewRequestId))
        .layer({
            let auth: Arc<auth::Auth> = state.part();
            MapRequestLayer::new(move |req| request_id::drop_foreign(&auth, req))
        })
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            add_security_headers,
        ))
        .with_state(state)
}

/// What the metrics listener (`metrics_listen`) serves: the Prometheus text and liveness, without a
/// login, so a scraper needs no account, and nothing else. No `Host` check: a scraper names whatever
/// address it dials, and a page that reached this listener by DNS rebinding could read counts only.
pub fn metrics_app(state: AppState) -> Router {
    let routes = Router::new()
        .route("/metrics", get(routes::health::metrics))
        .route("/healthz", get(routes::health::live))
        .fallback(metrics_only);
    outer_layers(routes, state)
}

async fn metrics_only() -> ApiError {
    ApiError::new(
        Code::NotFound,
        "the metrics listener (metrics_listen) serves GET /metrics and /healthz only",
    )
}

pub fn app(state: AppState) -> Router {
    let RequestTimeout(timeout) = state.part();
    let table = api_routes();
    let roles: RouteRoles = Arc::new(
        table
            .iter()
            .map(|r| ((r.method.clone(), r.path.to_string()), r.role))
            .collect(),
    );
    let infos: Arc<Vec<RouteInfo>> = Arc::new(
        table
            .iter()
            .map(|r| RouteInfo {
                method: r.method.to_string(),
                path: r.path.to_string(),
                role: r.role,
            })
            .collect(),
    );
    let mut api = Router::new();
    let mut stream = Router::new();
    for r in table {
        match r.answer {
            Answer::Stream => stream = stream.route(r.path, r.handler),
            Answer::Request => api = api.route(r.path, r.handler),
        }
    }
    let api = api
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .merge(stream)
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(Extension(infos))
        .layer(middleware::from_fn_with_state(
            gate(&state, roles),
            auth::guard,
        ))
        // `if_not_present`: the feed sets its own `no-cache` (docs/ARCHITECTURE.md); everything
        // else is no-store, so the back button after logout shows nothing private.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let CallbacksElsewhere(elsewhere) = state.part();
    let callbacks = if elsewhere {
        // A callback sent here would be lost on a network Hermod should not reach: say where.
        Router::new()
            .route("/rest/{*rest}", post(callbacks_elsewhere))
            .route("/clients/{client}/{*rest}", post(callbacks_elsewhere))
    } else {
        callback_routes(&state)
    };
    let routes = Router::new()
        .merge(api)
        .merge(callbacks)
        .route("/readyz", get(routes::health::ready))
        .fallback_service(state.part::<Arc<Web>>().service())
        .layer(middleware::from_fn_with_state(state.clone(), check_host));
    outer_layers(routes, state)
}

/// What a request's route is logged as when no route matched it: the page and its files (the
/// fallback), or a path nothing serves.
const UNMATCHED: &str = "(fallback)";

/// The one logging layer: each request's duration by route (`/metrics`), an access line per request
/// (`log_requests`), and each failed request once more, with the code and cause its error carried
/// (error.rs, `Failure`). A console fault is an error; Hermod failing, or a request that ran out of
/// time, a warning.
///
/// It runs on every callback, so it keeps to what is at hand: the route is the matched pattern
/// (`/api/commands/{id}`: no ids, no query string with a secret in it), borrowed from the request;
/// the caller is the name the guard put on the answer (`CalledBy`); the duration is until the
/// answer's head (a stream's length is its reader's business).
async fn log_requests(
    State(metrics): State<Arc<Metrics>>,
    State(LogRequests(every)): State<LogRequests>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let took = started.elapsed();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    metrics.request(&method, route, took);
    let failure = response.extensions().get::<Failure>();
    // Most answers are neither logged nor failed: nothing more to read from them.
    if !every && failure.is_none() {
        return response;
    }
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let method = method.as_str();
    if every {
        let caller = response
            .extensions()
            .get::<CalledBy>()
            .map_or("-", |c| c.0.as_str());
        let duration_ms = took.as_micros() as f64 / 1000.0;
        tracing::info!(
            target: ACCESS_TARGET,
            request_id,
            method,
            route,
            status,
            duration_ms,
            caller,
            "request"
        );
    }
    if let Some(failure) = failure {
        let code = failure.code.as_str();
        match &failure.cause {
            Some(cause) => {
                tracing::error!(
                    method,
                    route,
                    status,
                    code,
                    request_id,
                    cause,
                    "request failed"
                )
            }
            None => tracing::warn!(method, route, status, code, request_id, "request failed"),
        }
    }
    response
}

/// The access log's target, so a filter can leave it out (`RUST_LOG=info,hermod_console::access=off`).
pub const ACCESS_TARGET: &str = "hermod_console::access";

/// The whole-request limit, answered as a JSON problem like every other error.
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(Code::RequestTimeout,
            format!(
                "the console did not finish this request within {} s (limits.request_timeout_secs); \
                 a command being sent is still recorded: look for it in the commands list",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

async fn callbacks_elsewhere(State(clients): State<Arc<Clients>>) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!(
            "callbacks are taken on the callback listener (callback_listen), at {}",
            clients.callback_base
        ),
    )
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        Code::NotFound,
        "no such API endpoint; see the README's API table",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::StatusCode;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_past_the_time_limit_gets_a_json_504() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/quick", get(|| async { "quick" }))
            .layer(middleware::from_fn_with_state(
                Duration::from_millis(50),
                time_limit,
            ));
        let call = |path: &'static str| {
            router
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
        };
        let quick = call("/quick").await.unwrap();
        assert_eq!(quick.status(), StatusCode::OK);
        let slow = call("/slow").await.unwrap();
        assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(slow.into_body(), 1 << 16).await.unwrap()).unwrap();
        assert_eq!(body["error"], "request_timeout");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("limits.request_timeout_secs"),
            "{body}"
        );
    }
}
