//! Request ids: every answer carries `X-Request-Id`, and the access log and the audit log name it.
//! tower-http's layers set it on the request and copy it to the answer; this module makes new ones and
//! decides which incoming ones stand. One a trusted proxy (`trusted_proxies`) sends is kept, so its
//! log and ours name a request alike; anyone else's is replaced, so nobody picks the id their request
//! is audited under.

use crate::auth::Auth;
use crate::server::PeerAddr;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The longest incoming id kept (a UUID is 36 characters).
const MAX_LEN: usize = 128;

/// A random UUID for a request that brought no id of its own (or one that was dropped).
#[derive(Clone, Copy)]
pub struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        // From the thread's own random generator: no system call per request.
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        HeaderValue::from_str(&id.to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Drops an incoming `X-Request-Id` unless a trusted proxy sent it and it is a plain token (printable
/// ASCII without spaces, at most [`MAX_LEN`]): runs before the layer that sets the id. A plain map of
/// the request, not a middleware: it runs on every callback, and needs no future of its own.
pub fn drop_foreign(auth: &Auth, mut req: Request) -> Request {
    if let Some(id) = req.headers().get("x-request-id") {
        let peer = req
            .extensions()
            .get::<ConnectInfo<PeerAddr>>()
            .map(|c| c.0.0.ip());
        let trusted = peer.is_some_and(|ip| auth.trusted.iter().any(|n| n.contains(ip)));
        let plain = id.len() <= MAX_LEN && id.as_bytes().iter().all(u8::is_ascii_graphic);
        if !(trusted && plain) {
            req.headers_mut().remove("x-request-id");
        }
    }
    req
}
