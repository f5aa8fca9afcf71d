//! One module per resource of the console API (README.md), plus the callback receiver.

pub mod audit;
pub mod callbacks;
pub mod clients;
pub mod commands;
pub mod events;
pub mod export;
pub mod health;
pub mod receiver;
pub mod session;
pub mod templates;
pub mod tokens;
pub mod users;

use crate::clock::parse_rfc3339;
use crate::error::ApiError;
use crate::store::Page;
use crate::store::Query;
use crate::store::filter::{DEFAULT_LIMIT, MAX_LIMIT};
use hermod_shared::hermod::FieldError;
use serde::Deserialize;

/// The filters every list takes. All strings here, so a bad value gets our 422 naming it rather than a
/// generic rejection.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub unmatched: Option<String>,
    pub command: Option<String>,
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

fn time(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
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
                since: time("since", &self.since)?,
                until: time("until", &self.until)?,
                q: text("q", &self.q, MAX_SEARCH)?,
                page: Page {
                    limit,
                    before_id: int("cursor", &self.cursor)?,
                },
            },
        })
    }

    /// The audit log's `actor`.
    pub fn actor(&self) -> Result<Option<String>, ApiError> {
        text("actor", &self.actor, MAX_FILTER)
    }

    pub fn unmatched(&self) -> Result<Option<bool>, ApiError> {
        flag("unmatched", &self.unmatched)
    }
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
