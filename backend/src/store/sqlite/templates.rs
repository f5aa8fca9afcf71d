//! Named command templates, shared by everyone.

use super::writer::Batch;
use super::{json, sql_error, time};
use crate::store::{StoreError, TemplateError};
use hermod_shared::console::{TemplateInput, TemplateRecord};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row};

const COLUMNS: &str = "id, name, client, type, body, created_by, updated_at";

fn record(r: &Row<'_>) -> rusqlite::Result<TemplateRecord> {
    Ok(TemplateRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        client: r.get(2)?,
        command_type: r.get(3)?,
        body: json(r, 4)?,
        created_by: r.get(5)?,
        updated_at: time(r.get(6)?),
    })
}

pub fn all(conn: &Connection) -> Result<Vec<TemplateRecord>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM templates ORDER BY name"))
        .and_then(|mut s| s.query_map([], record)?.collect())
        .map_err(sql_error)
}

/// Creates a template (`id` None) or replaces one.
pub fn save(
    b: &mut Batch<'_>,
    id: Option<i64>,
    input: &TemplateInput,
    by: &str,
) -> Result<TemplateRecord, TemplateError> {
    let body = input.body.to_string();
    let conn = b.conn();
    let now = b.now();
    let saved = match id {
        None => conn
            .prepare_cached(&format!(
                "INSERT INTO templates (name, client, type, body, created_by, created_at, \
                 updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
            ))
            .and_then(|mut s| {
                s.query_row(
                    (
                        &input.name,
                        &input.client,
                        &input.command_type,
                        &body,
                        by,
                        now,
                        now,
                    ),
                    record,
                )
                .optional()
            }),
        Some(id) => conn
            .prepare_cached(&format!(
                "UPDATE templates SET name = ?, client = ?, type = ?, body = ?, updated_at = ? \
                 WHERE id = ? RETURNING {COLUMNS}"
            ))
            .and_then(|mut s| {
                s.query_row(
                    (
                        &input.name,
                        &input.client,
                        &input.command_type,
                        &body,
                        now,
                        id,
                    ),
                    record,
                )
                .optional()
            }),
    };
    saved
        .map_err(|e| match e.sqlite_error_code() {
            // A name clash is the caller's mistake, not the store's: answer it, do not fail the batch.
            Some(ErrorCode::ConstraintViolation) => TemplateError::NameTaken,
            _ => TemplateError::Store(sql_error(e)),
        })?
        .ok_or(TemplateError::NotFound)
}

pub fn delete(b: &mut Batch<'_>, id: i64) -> Result<Option<TemplateRecord>, StoreError> {
    b.conn()
        .prepare_cached(&format!(
            "DELETE FROM templates WHERE id = ? RETURNING {COLUMNS}"
        ))
        .and_then(|mut s| s.query_row([id], record).optional())
        .map_err(sql_error)
}
