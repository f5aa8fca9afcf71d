//! The console API's one error type: every failure is an [`ErrorCode`](Code), which alone decides the
//! status (docs/ARCHITECTURE.md's table), and a JSON [`Problem`] body. The store's, the accounts' and
//! the templates' errors convert into it with `From`, so handlers use `?`. Client errors are not
//! logged; a 5xx answer carries its cause to the one layer that logs it (`app.rs`, `log_requests`).

use crate::store::StoreError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use hermod_shared::console::ErrorCode as Code;
use hermod_shared::console::{CommandRecord, Problem};
use hermod_shared::hermod::{FieldError, push_pointer, typed};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Box<Problem>,
    /// What went wrong inside, for the log only: the answer says no more than `problem`.
    cause: Option<String>,
    /// Seconds to wait before trying again (`Retry-After`), for a 429.
    retry_after: Option<u64>,
}

/// A 5xx answer's code and cause, carried on the answer to the one layer that logs it (`app.rs`,
/// `log_requests`), so each is logged once, with the request it failed.
#[derive(Clone)]
pub struct Failure {
    pub code: String,
    pub cause: Option<String>,
}

/// The one place a code gets its status.
pub fn status_of(code: Code) -> StatusCode {
    use Code::*;
    match code {
        InvalidJson | InvalidQuery | UnreadableBody => StatusCode::BAD_REQUEST,
        Unauthenticated | InvalidCredentials | Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden | Csrf => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        BodyTooSlow => StatusCode::REQUEST_TIMEOUT,
        NoCommandId | UnexpectedCommandId | ClientGone | LastAdmin | NotLinkable
        | CommandIdTaken => StatusCode::CONFLICT,
        BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UnknownHost => StatusCode::MISDIRECTED_REQUEST,
        InvalidField => StatusCode::UNPROCESSABLE_ENTITY,
        TooManyAttempts | TooManyStreams | TooManyCallbacks => StatusCode::TOO_MANY_REQUESTS,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        HermodRefused | HermodServerError | HermodUnreachable | HermodCertificate
        | HermodBadAnswer => StatusCode::BAD_GATEWAY,
        StoreUnavailable | NotReady => StatusCode::SERVICE_UNAVAILABLE,
        HermodTimeout | RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
    }
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            status: status_of(code),
            problem: Box::new(Problem {
                error: code.as_str().into(),
                detail: detail.into(),
                field: None,
                hermod_status: None,
                hermod_body: None,
                record: None,
            }),
            cause: None,
            retry_after: None,
        }
    }

    pub fn invalid(field: &FieldError) -> ApiError {
        let field = &name_missing_field(field);
        let mut e = ApiError::new(
            Code::InvalidField,
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
        ApiError::new(Code::NotFound, format!("no such {what}"))
    }

    /// The store failed: a retrying sender should retry, so this is 503, never a 2xx.
    pub fn store(err: StoreError) -> ApiError {
        ApiError::new(
            Code::StoreUnavailable,
            "the console's database is unavailable; nothing was stored, try again",
        )
        .caused_by(err)
    }

    /// A bug: the answer says so and points at the log, which gets `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            Code::Internal,
            "the console failed to finish this request; its log says why (look for this answer's \
             X-Request-Id)",
        )
        .caused_by(cause)
    }

    /// Keeps `cause` for the log.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> ApiError {
        self.cause = Some(cause.to_string());
        self
    }

    /// Tells the caller to try again in `secs` seconds (at least one).
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
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
        Some(name) => {
            let mut pointer = field.pointer.clone();
            push_pointer(&mut pointer, name);
            FieldError::new(pointer, field.message.clone())
        }
        None => field.clone(),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::store(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let failure = self.status.is_server_error().then(|| Failure {
            code: self.problem.error.clone(),
            cause: self.cause,
        });
        let mut response = (self.status, Json(self.problem)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(failure) = failure {
            response.extensions_mut().insert(failure);
        }
        response
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
            Code::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    let bytes = read_body(req, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            Code::InvalidJson,
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
            Code::BodyTooLarge,
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
            let chunk = chunk.map_err(|e| ApiError::new(Code::UnreadableBody, e.to_string()))?;
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
            Code::BodyTooSlow,
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
            .map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_status_the_documented_table_gives() {
        let doc = include_str!("../../docs/ARCHITECTURE.md");
        let table = &doc[doc.find("### Errors").expect("the errors table")..];
        for code in Code::ALL {
            let named = format!("`{}`", code.as_str());
            let row = table
                .lines()
                .take_while(|l| l.starts_with('|') || l.is_empty() || l.starts_with('#'))
                .find(|l| l.contains(&named))
                .unwrap_or_else(|| panic!("{named} is not in docs/ARCHITECTURE.md's table"));
            let status = status_of(code).as_u16().to_string();
            assert!(
                row.split('|').any(|cell| cell.trim() == status),
                "{named} answers {status}, the table says: {row}"
            );
        }
    }
}
