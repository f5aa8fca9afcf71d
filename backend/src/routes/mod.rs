//! One module per resource of the console API (README.md), plus the callback receiver.

pub mod audit;
pub mod callbacks;
pub mod clients;
pub mod commands;
pub mod devices;
pub mod diff;
pub mod events;
pub mod evidence;
pub mod export;
pub mod health;
pub mod next;
pub mod overview;
pub mod receiver;
pub mod session;
pub mod templates;
pub mod tokens;
pub mod users;

use crate::clock::{now_ms, parse_rfc3339};
use crate::error::ApiError;
use crate::store::Page;
use crate::store::Query;
use crate::store::filter::{DEFAULT_LIMIT, MAX_LIMIT};
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hermod_shared::hermod::FieldError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// The filters every list takes. All strings here, so a bad value gets our 422 naming it rather than a
/// generic rejection.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Command or callback type; the audit log: the action.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Commands: their state (`IN_PROGRESS`, …); callbacks: the state they report.
    pub state: Option<String>,
    /// The API client (`clients.<id>`).
    pub client: Option<String>,
    /// From this time on (RFC 3339).
    pub since: Option<String>,
    /// Up to this time (RFC 3339).
    pub until: Option<String>,
    /// The last `N` minutes, hours or days (`15m`, `1h`, `24h`, `7d`), counted back from when the
    /// list is read: a view that stays "the last hour" when it is bookmarked, reloaded or exported.
    /// With `since` too, the later of the two bounds; `until` still applies.
    pub window: Option<String>,
    /// Text anywhere in the bodies, ids and what was decoded from them (at most 256 characters).
    pub q: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Callbacks: `true` for those matching no command.
    pub unmatched: Option<String>,
    /// Commands: `true` for those whose callback is overdue, `false` for the others.
    pub overdue: Option<String>,
    /// Commands: those whose failure `reason` holds this text, in any case (at most 256 characters).
    pub reason: Option<String>,
    /// Callbacks: those of this command (its id).
    pub command: Option<String>,
    /// Commands and callbacks: those of this device (its key, as `GET /api/devices` gives it).
    pub device: Option<String>,
    /// Audit log: whose actions.
    pub actor: Option<String>,
    /// Exports: `csv` or `json`.
    pub format: Option<String>,
}

/// The common filters, checked.
pub struct Common {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    pub query: Query,
}

/// A record's id from its path: anything but an integer names no record (404, like an unknown id).
pub fn record_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(&format!("{what} (ids are integers)")))
}

pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(&FieldError::new(field, message))
}

/// The longest search text a list takes, in characters, and the longest of any other text filter.
pub const MAX_SEARCH: usize = 256;
pub const MAX_FILTER: usize = 128;

/// A text filter, trimmed; refused when longer than `max` characters, before any work.
fn text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match non_empty(v) {
        Some(s) if s.chars().count() > max => {
            Err(invalid(field, format!("at most {max} characters")))
        }
        found => Ok(found),
    }
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A time parameter (RFC 3339) as milliseconds, checked.
pub fn time(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    non_empty(v)
        .map(|s| {
            parse_rfc3339(&s).ok_or_else(|| {
                invalid(
                    field,
                    format!("`{s}` is not an RFC 3339 time (2026-01-31T12:00:00Z)"),
                )
            })
        })
        .transpose()
}

pub fn int(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    non_empty(v)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| invalid(field, format!("`{s}` is not an integer")))
        })
        .transpose()
}

impl ListQuery {
    /// Commands' `reason` filter, checked.
    pub fn reason(&self) -> Result<Option<String>, ApiError> {
        text("reason", &self.reason, MAX_SEARCH)
    }

    pub fn common(&self) -> Result<Common, ApiError> {
        let limit = int("limit", &self.limit)?.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Common {
            kind: text("type", &self.kind, MAX_FILTER)?.map(|s| s.to_ascii_lowercase()),
            state: text("state", &self.state, MAX_FILTER)?.map(|s| s.to_ascii_uppercase()),
            client: text("client", &self.client, MAX_FILTER)?,
            query: Query {
                since: self.since()?,
                until: time("until", &self.until)?,
                q: text("q", &self.q, MAX_SEARCH)?,
                page: Page {
                    limit,
                    before_id: int("cursor", &self.cursor)?,
                },
            },
        })
    }

    /// The later of `since` and now less `window`: a window picked on a view that came with
    /// `since` (an Overview link) narrows it rather than being refused.
    fn since(&self) -> Result<Option<i64>, ApiError> {
        let since = time("since", &self.since)?;
        let Some(window) = non_empty(&self.window) else {
            return Ok(since);
        };
        let ms = window_ms(&window).ok_or_else(|| {
            invalid(
                "window",
                format!("`{window}` is not a window like 15m, 1h, 24h or 7d (at most 366d)"),
            )
        })?;
        Ok(Some(since.map_or(now_ms() - ms, |s| s.max(now_ms() - ms))))
    }

    /// Commands' and callbacks' `device`, checked.
    pub fn device(&self) -> Result<Option<String>, ApiError> {
        text("device", &self.device, MAX_SEARCH)
    }

    /// The audit log's `actor`.
    pub fn actor(&self) -> Result<Option<String>, ApiError> {
        text("actor", &self.actor, MAX_FILTER)
    }

    pub fn unmatched(&self) -> Result<Option<bool>, ApiError> {
        flag("unmatched", &self.unmatched)
    }
}

/// `N` minutes (`m`), hours (`h`) or days (`d`) in milliseconds; none past 366 days.
fn window_ms(window: &str) -> Option<i64> {
    let unit = match window.chars().last()? {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    let n: i64 = window[..window.len() - 1].parse().ok().filter(|n| *n > 0)?;
    n.checked_mul(unit).filter(|ms| *ms <= 366 * 86_400_000)
}

/// A yes-or-no query parameter: `true`/`1` or `false`/`0`, or left out.
pub fn flag(name: &str, value: &Option<String>) -> Result<Option<bool>, ApiError> {
    match non_empty(value).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(invalid(name, format!("`{other}` is not true or false"))),
    }
}

// What handlers answer beyond `Json`, each a type of its own so that the API description (openapi.rs)
// says what it is.

/// 201 with the created record.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// 204: done, nothing to say.
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// An export of records of type `T`, streamed as CSV or JSON (export.rs).
pub struct Export<T>(Response, PhantomData<T>);

impl<T> Export<T> {
    pub fn new(streamed: Response) -> Export<T> {
        Export(streamed, PhantomData)
    }
}

impl<T> IntoResponse for Export<T> {
    fn into_response(self) -> Response {
        self.0
    }
}

/// The live feed's server-sent events (events.rs).
pub struct EventStream(pub Response);

impl IntoResponse for EventStream {
    fn into_response(self) -> Response {
        self.0
    }
}

/// A zip file to download, named `name`.
pub struct ZipFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl IntoResponse for ZipFile {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.name);
        (
            [
                (header::CONTENT_TYPE, "application/zip".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// `/metrics` in the OpenMetrics text format.
pub struct OpenMetrics(pub String);

impl IntoResponse for OpenMetrics {
    fn into_response(self) -> Response {
        let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        ([(header::CONTENT_TYPE, kind)], self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::window_ms;

    #[test]
    fn windows_are_minutes_hours_or_days_up_to_a_year() {
        assert_eq!(window_ms("15m"), Some(900_000));
        assert_eq!(window_ms("1h"), Some(3_600_000));
        assert_eq!(window_ms("7d"), Some(604_800_000));
        assert_eq!(window_ms("366d"), Some(366 * 86_400_000));
        for bad in [
            "",
            "h",
            "0h",
            "-1h",
            "1.5h",
            "1w",
            "367d",
            "99999999999999999d",
            "1hé",
        ] {
            assert_eq!(window_ms(bad), None, "{bad}");
        }
    }
}
