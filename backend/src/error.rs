//! The console API's one error type: every failure becomes a status from docs/ARCHITECTURE.md's
//! table and a JSON [`Problem`] body. Client errors are not logged; server-side failures are logged
//! once, here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
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
        let field = &name_missing_field(field);
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

/// serde reports a missing field at the object that lacks it (`""`, "missing field `body`"); the
/// pointer should name the field itself (`/body`).
fn name_missing_field(field: &FieldError) -> FieldError {
    let name = field
        .message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match name {
        Some(name) => FieldError::new(
            format!(
                "{}/{}",
                field.pointer,
                name.replace('~', "~0").replace('/', "~1")
            ),
            field.message.clone(),
        ),
        None => field.clone(),
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

/// The largest body [`ApiJson`] reads (`limits.api_body_bytes`), taken from the app's state.
#[derive(Clone, Copy)]
pub struct ApiBodyLimit(pub usize);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    ApiBodyLimit: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = json_body(req, ApiBodyLimit::from_ref(state).0).await?;
        typed(&value, "")
            .map(ApiJson)
            .map_err(|e| ApiError::invalid(&e))
    }
}

async fn json_body(req: Request, limit: usize) -> Result<Value, ApiError> {
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
    let bytes = read_body(req, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// Over the limit, the rest of a body is still read (and dropped) up to this many bytes, so that a
/// client that is still sending gets to read the 413 instead of a connection reset.
const DRAIN_CAP: usize = 64 << 20;
/// …and for at most this long.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The body, or 413 when it is over `limit` bytes (declared by `Content-Length` or as read).
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is over this endpoint's limit of {limit} bytes"),
        )
    };
    if declared.is_some_and(|n| n > DRAIN_CAP as u64) {
        return Err(too_large());
    }
    let mut stream = req.into_body().into_data_stream();
    let mut body = Vec::new();
    let mut over = declared.is_some_and(|n| n > limit as u64);
    let mut read = 0usize;
    let drained = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string())
            })?;
            read += chunk.len();
            if over || read > limit {
                over = true;
                body = Vec::new();
                if read > DRAIN_CAP {
                    break;
                }
            } else {
                body.extend_from_slice(&chunk);
            }
        }
        Ok::<(), ApiError>(())
    })
    .await;
    match drained {
        _ if over => Err(too_large()),
        Ok(Ok(())) => Ok(Bytes::from(body)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_too_slow",
            "the body did not arrive in time",
        )),
    }
}

/// Reads and drops a body that will not be used (up to the same cap and time as an oversized one), so
/// that a client still sending it gets to read the answer instead of a connection reset.
pub async fn discard_body(req: Request) {
    use futures_util::StreamExt;
    let mut stream = req.into_body().into_data_stream();
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut read = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len();
            if read > DRAIN_CAP {
                break;
            }
        }
    })
    .await;
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
