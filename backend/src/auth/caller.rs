//! Who is calling, as the guard found it, and the facts of every request: what handlers take as
//! extractors. Apart from the guard so that what records requests (the audit log) can name the
//! caller without depending on the guard.

use crate::error::{ApiError, Code};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hermod_shared::console::Role;

/// Who made a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub principal: Principal,
    /// When the session or token ends at the latest (ms).
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub enum Principal {
    Session {
        user_id: i64,
        token_hash: String,
        csrf_token: String,
    },
    Token {
        id: i64,
        token_hash: String,
    },
}

/// Who made a request, on its answer: the guard knows, the access log (`app.rs`, `log_requests`)
/// writes it.
#[derive(Clone)]
pub struct CalledBy(pub String);

impl Caller {
    pub fn kind(&self) -> &'static str {
        match self.principal {
            Principal::Session { .. } => "user",
            Principal::Token { .. } => "token",
        }
    }

    /// What limits this caller's open streams: its session, or its token.
    pub fn stream_key(&self) -> String {
        match &self.principal {
            Principal::Session { token_hash, .. } => format!("session:{token_hash}"),
            Principal::Token { id, .. } => format!("token:{id}"),
        }
    }
}

/// Facts about every request, authenticated or not: its source and its id.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub source: String,
    pub request_id: String,
}

/// A handler that takes a [`Caller`] runs only for a route the guard checked: the guard puts the
/// caller in the request. On a public route there is none, and the request is refused as
/// unauthenticated rather than failing.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(log_in_first)
    }
}

/// Every request the guard saw has its facts; one that bypassed the guard is a wiring mistake.
impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<RequestMeta, ApiError> {
        parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .ok_or_else(|| ApiError::internal("a route is not behind the console's guard"))
    }
}

pub(super) fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(Code::Unauthenticated, detail)
}

pub(super) fn log_in_first() -> ApiError {
    unauthenticated("log in first (or send an API token as Authorization: Bearer)")
}
