//! Who is calling, and what they may do. Every `/api` request passes [`guard`]: it finds the caller
//! (a session cookie, or `Authorization: Bearer` for automation), checks the CSRF defences of a browser
//! session, and compares the caller's role with the least role the route needs. The page hides what a
//! role cannot do; this is the guard.

pub mod caller;
pub mod limiter;
pub mod password;
pub mod source;

pub use caller::{CalledBy, Caller, Principal, RequestMeta};

use crate::audit::{AuditLog, Event};
use crate::clock::now_ms;
use crate::error::{ApiError, Code};
use crate::server::PeerAddr;
use crate::store::{SharedLimits, Store, StoreError};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use caller::{log_in_first, unauthenticated};
use hermod_shared::console::Role;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tower_http::request_id::RequestId;

pub const SESSION_COOKIE: &str = "hermod_session";
/// Over HTTPS the cookie carries the `__Host-` prefix: browsers then keep it only if it is `Secure`,
/// for `/` and without a `Domain`, so a neighbouring subdomain cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-hermod_session";

fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}
/// API tokens start with this, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "hct_";

/// The least role each API route needs, by method and matched path; `None` is public.
pub type RouteRoles = Arc<HashMap<(Method, String), Option<Role>>>;

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps instead of a session or API token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<Option<String>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let text = value.to_str().ok();
    Some(text.and_then(|t| {
        let (scheme, token) = t.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
    }))
}

/// The `Set-Cookie` that starts a session, or (with `max_age` 0) ends it.
pub fn session_cookie(value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie text is ASCII")
}

/// What a request offers as proof of who makes it, hashed as the store keeps it.
enum Credential {
    Session(String),
    Token(String),
}

/// The request's credential, if it offers one. `Err` for an `Authorization` that is not a Bearer token.
fn credential(headers: &HeaderMap, secure: bool) -> Result<Option<Credential>, ApiError> {
    if let Some(token) = bearer(headers) {
        let token = token
            .ok_or_else(|| unauthenticated("the Authorization header is not a Bearer token"))?;
        return Ok(Some(Credential::Token(token_hash(&token))));
    }
    Ok(cookie(headers, session_cookie_name(secure))
        .filter(|t| !t.is_empty())
        .map(|t| Credential::Session(token_hash(&t))))
}

/// Whether the caller's session or token still holds: for an open feed stream, which must end when
/// its session or token does. Unlike a request, an open stream does not count as activity, so a tab
/// left open is still logged out after the idle time.
pub async fn still_valid(store: &dyn Store, auth: &Auth, principal: &Principal) -> bool {
    let credential = match principal {
        Principal::Session { token_hash, .. } => Credential::Session(token_hash.clone()),
        Principal::Token { token_hash, .. } => Credential::Token(token_hash.clone()),
    };
    identify(store, auth, credential, false).await.is_ok()
}

/// Who the credential belongs to; `Err` when it is not (or no longer) good. `touch` records the
/// use, for the idle expiry and the token's last use.
async fn identify(
    store: &dyn Store,
    auth: &Auth,
    credential: Credential,
    touch: bool,
) -> Result<Caller, ApiError> {
    let now = now_ms();
    let hash = match credential {
        Credential::Token(hash) => return identify_token(store, hash, touch, now).await,
        Credential::Session(hash) => hash,
    };
    let Some(session) = store.session(hash.clone()).await? else {
        return Err(unauthenticated("your session has ended; log in again"));
    };
    let idle = auth.idle_ms;
    if session.revoked_at.is_some()
        || session.expires_at <= now
        || now - session.last_seen_at > idle
    {
        return Err(unauthenticated("your session has ended; log in again"));
    }
    // Idle expiry needs a fresh last-seen, but not a write on every request.
    if touch && now - session.last_seen_at > (idle / 4).min(60_000) {
        store.touch_session(hash.clone()).await?;
    }
    Ok(Caller {
        name: session.username,
        role: session.role,
        principal: Principal::Session {
            user_id: session.user_id,
            token_hash: hash,
            csrf_token: session.csrf_token,
        },
        expires_at: session.expires_at.min(now + idle),
    })
}

async fn identify_token(
    store: &dyn Store,
    hash: String,
    touch: bool,
    now: i64,
) -> Result<Caller, ApiError> {
    let record = store
        .token(hash.clone())
        .await?
        .ok_or_else(|| unauthenticated("unknown API token"))?;
    if record.revoked_at.is_some() {
        return Err(unauthenticated("this API token was revoked"));
    }
    let expires_at = crate::clock::parse_rfc3339(&record.expires_at).unwrap_or(0);
    if expires_at <= now {
        return Err(unauthenticated("this API token has expired"));
    }
    let stale = record
        .last_used_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)
        .is_none_or(|t| now - t > 60_000);
    if touch && stale {
        store.touch_token(record.id).await?;
    }
    Ok(Caller {
        name: format!("token:{}", record.name),
        role: record.role,
        principal: Principal::Token {
            id: record.id,
            token_hash: hash,
        },
        expires_at,
    })
}

/// A browser session's state-changing request must come from our own pages: `Origin` (or, without
/// it, `Sec-Fetch-Site`) says so, and the session's CSRF token proves it.
pub fn same_origin(auth: &Auth, headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let own = host.is_some_and(|h| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(h))
        });
        return origin.eq_ignore_ascii_case(&auth.public_origin) || own;
    }
    matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("same-origin")
    )
}

fn csrf_ok(auth: &Auth, headers: &HeaderMap, expected: &str) -> bool {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    same_origin(auth, headers) && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// What [`guard`] needs: who may do what, and where sessions and tokens are kept.
#[derive(Clone)]
pub struct Gate {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Auth>,
    /// Where a logged-in caller's refused requests are written.
    pub audit: Arc<AuditLog>,
    pub roles: RouteRoles,
}

/// Where a request came from and its id, as the audit log records them.
pub fn request_meta(req: &Request, auth: &Auth) -> RequestMeta {
    let peer = req
        .extensions()
        .get::<ConnectInfo<PeerAddr>>()
        .map(|c| c.0.0);
    RequestMeta {
        source: source::source(peer, req.headers(), &auth.trusted),
        // Set by the request-id layers (request_id.rs) outside the routes.
        request_id: req
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-")
            .to_string(),
    }
}

/// The middleware every `/api` route runs behind.
pub async fn guard(
    State(gate): State<Gate>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Gate {
        store,
        auth,
        audit,
        roles,
    } = &gate;
    let meta = request_meta(&req, auth);
    req.extensions_mut().insert(meta);
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    // A GET route answers HEAD too (axum runs the GET handler): it needs the GET route's role.
    let method = match *req.method() {
        Method::HEAD => Method::GET,
        ref m => m.clone(),
    };
    let required = matched
        .and_then(|path| roles.get(&(method, path)).copied())
        .flatten();
    let mut called_by = None;
    if let Some(required) = required {
        let offered = credential(req.headers(), auth.secure_cookies)?.ok_or_else(log_in_first)?;
        let caller = identify(store.as_ref(), auth, offered, true).await?;
        let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let refusal = if let Principal::Session { csrf_token, .. } = &caller.principal
            && changes_state
            && !csrf_ok(auth, req.headers(), csrf_token)
        {
            Some(ApiError::new(
                Code::Csrf,
                "this request did not come from the console's own page (Origin or X-CSRF-Token check failed)",
            ))
        } else if caller.role < required {
            Some(ApiError::new(
                Code::Forbidden,
                format!("this needs the {required} role; you are {}", caller.role),
            ))
        } else {
            None
        };
        if let Some(refused) = refusal {
            // What a logged-in user tried and was refused is theirs to answer for.
            let meta = req.extensions().get::<RequestMeta>().expect("set above");
            let target = format!("{} {}", req.method(), req.uri().path());
            let event = Event::ok("request_refused", target)
                .outcome("denied")
                .detail(json!({"reason": refused.problem.error, "needs": required}));
            audit.record(meta, Some(&caller), event).await;
            return Err(refused);
        }
        called_by = Some(CalledBy(caller.name.clone()));
        req.extensions_mut().insert(caller);
    }
    let mut response = next.run(req).await;
    if let Some(c) = called_by {
        response.extensions_mut().insert(c);
    }
    Ok(response)
}

/// Open live-feed streams per session or token: counted in memory, or, when replicas share the
/// database, in it, so that the cap holds over every replica.
pub struct StreamCounter {
    places: Places,
}

enum Places {
    /// Open streams per key, in this process.
    Memory(Mutex<HashMap<String, usize>>),
    /// In the database replicas share.
    Shared(Arc<SharedPlaces>),
}

/// A row per open stream in the shared database.
struct SharedPlaces {
    store: Arc<dyn SharedLimits>,
    /// How long a row counts unless renewed: what a replica that dies leaves behind runs out.
    ttl_ms: i64,
    /// This replica's open streams, by id: the rows it renews.
    open: Mutex<HashSet<String>>,
}

/// Holds one stream's place; dropping it frees the place.
pub struct StreamSlot {
    counter: Arc<StreamCounter>,
    /// In memory, the session's or token's key; in the shared database, the stream's row.
    held: String,
}

impl StreamCounter {
    /// A counter in memory, or with `shared` in the database, where this replica's streams are
    /// renewed every `heartbeat` until `shutdown` and count for three heartbeats after the last.
    pub fn new(
        shared: Option<Arc<dyn SharedLimits>>,
        heartbeat: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<StreamCounter> {
        let Some(store) = shared else {
            return Arc::new(StreamCounter {
                places: Places::Memory(Mutex::default()),
            });
        };
        let ttl = heartbeat.max(Duration::from_secs(1)).saturating_mul(3);
        let shared = Arc::new(SharedPlaces {
            store,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            open: Mutex::default(),
        });
        let renewing = shared.clone();
        crate::timer::repeat(heartbeat, shutdown, move || {
            let shared = renewing.clone();
            async move { shared.renew().await }
        });
        Arc::new(StreamCounter {
            places: Places::Shared(shared),
        })
    }

    /// A place for another stream of `key`, unless `max` are open (on a shared database, over every
    /// replica).
    pub async fn acquire(
        self: &Arc<Self>,
        key: String,
        max: usize,
    ) -> Result<Option<StreamSlot>, StoreError> {
        let shared = match &self.places {
            Places::Memory(open) => {
                let mut open = open.lock().expect("stream counter lock");
                let n = open.entry(key.clone()).or_default();
                if *n >= max {
                    return Ok(None);
                }
                *n += 1;
                return Ok(Some(StreamSlot {
                    counter: self.clone(),
                    held: key,
                }));
            }
            Places::Shared(shared) => shared,
        };
        let id = uuid::Uuid::new_v4().to_string();
        // Listed before its row is written, so that a renewal meanwhile keeps it; and held by a slot
        // from now on, so that a request given up while waiting still closes it.
        shared.lock().insert(id.clone());
        let slot = StreamSlot {
            counter: self.clone(),
            held: id.clone(),
        };
        match shared.store.open_stream(key, id, max, shared.ttl_ms).await {
            Ok(true) => Ok(Some(slot)),
            not_opened => {
                // No row to close.
                shared.lock().remove(&slot.held);
                not_opened.map(|_| None)
            }
        }
    }
}

impl SharedPlaces {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.open.lock().expect("stream counter lock")
    }

    /// Keeps this replica's open streams counted for another `ttl_ms`.
    async fn renew(&self) {
        let ids: Vec<String> = self.lock().iter().cloned().collect();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.store.renew_streams(ids, self.ttl_ms).await {
            tracing::warn!(error = %e, "open feed streams were not renewed; other replicas may stop counting them");
        }
    }

    /// Deletes stream `id`'s row, after the stream ended. Should that fail, the row runs out anyway,
    /// no longer renewed; deleting frees the place at once.
    fn close(&self, id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.store.clone();
        runtime.spawn(async move {
            if let Err(e) = store.close_stream(id).await {
                tracing::warn!(error = %e, "a closed feed stream still counts until it runs out");
            }
        });
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        match &self.counter.places {
            Places::Memory(open) => {
                let mut open = open.lock().expect("stream counter lock");
                if let Some(n) = open.get_mut(&self.held) {
                    *n -= 1;
                    if *n == 0 {
                        open.remove(&self.held);
                    }
                }
            }
            Places::Shared(shared) => {
                // Unlisted: it was never opened.
                if shared.lock().remove(&self.held) {
                    shared.close(std::mem::take(&mut self.held));
                }
            }
        }
    }
}

/// The authentication settings and state the app holds.
pub struct Auth {
    pub limiter: limiter::LoginLimiter,
    pub trusted: Vec<source::Net>,
    pub cost: password::Cost,
    pub idle_ms: i64,
    pub absolute_ms: i64,
    pub secure_cookies: bool,
    /// `scheme://host[:port]` of the public URL: the `Origin` our pages send.
    pub public_origin: String,
    pub streams: Arc<StreamCounter>,
    pub max_streams: usize,
}
