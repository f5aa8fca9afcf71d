//! The console API's one error type: every failure becomes a status from DESIGN.md §3's table and a JSON
//! [`Problem`] body. Client errors are not logged; server-side failures are logged once, here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hermod_shared::console::{CommandRecord, Problem};
use hermod_shared::hermod::{FieldError, typed};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Box<Problem>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Box::new(Problem {
                error: error.into(),
                detail: detail.into(),
                field: None,
                hermod_status: None,
                hermod_body: None,
                record: None,
            }),
        }
    }

    pub fn invalid(field: &FieldError) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            if field.pointer.is_empty() {
                field.message.clone()
            } else {
                format!("{}: {}", field.pointer, field.message)
            },
        );
        e.problem.field = Some(field.pointer.clone());
        e
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// The store failed: a retrying sender should retry, so this is 503, never a 2xx.
    pub fn store(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "store unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the console's database is unavailable; nothing was stored, try again",
        )
    }

    pub fn with_record(mut self, record: CommandRecord) -> ApiError {
        self.problem.record = Some(record);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.problem)).into_response()
    }
}

/// A JSON body read the console's way: 415 without a JSON content type, 413 over the limit, 400 when it
/// is not JSON, 422 naming the field when it does not fit `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = json_body(req, state).await?;
        typed(&value, "")
            .map(ApiJson)
            .map_err(|e| ApiError::invalid(&e))
    }
}

async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Value, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let bytes = read_body(req, state).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// The body, or 413 when it is over the route's limit.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the body is over this endpoint's size limit",
                )
            } else {
                ApiError::new(e.status(), "unreadable_body", e.body_text())
            }
        })
}

/// Query parameters read the console's way: a malformed query string is a 400 with a JSON body.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}
