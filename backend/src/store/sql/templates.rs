//! Named command templates, shared by everyone.

use super::time;
use super::writer::Batch;
use crate::params;
use crate::store::conn::{Conn, Row};
use crate::store::{StoreError, TemplateError};
use hermod_shared::console::{TemplateInput, TemplateRecord};

const COLUMNS: &str = "id, name, client, type, body, created_by, updated_at";

fn record(r: &Row<'_>) -> Result<TemplateRecord, StoreError> {
    Ok(TemplateRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        client: r.get(2)?,
        command_type: r.get(3)?,
        body: r.json(4)?,
        created_by: r.get(5)?,
        updated_at: time(r.get(6)?),
    })
}

pub fn all(conn: Conn<'_>) -> Result<Vec<TemplateRecord>, StoreError> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM templates ORDER BY name"),
        &[],
        record,
    )
}

/// Creates a template (`id` None) or replaces one.
pub fn save(
    b: &mut Batch<'_>,
    id: Option<i64>,
    input: &TemplateInput,
    by: &str,
) -> Result<TemplateRecord, TemplateError> {
    let body = input.body.to_string();
    let conn = b.db();
    let now = b.now();
    // A name clash is the caller's mistake, not the store's: it is answered, and the batch goes on.
    // (Replicas saving the same new name at the same moment: the unique index refuses the second.)
    let taken = conn.query_row(
        "SELECT 1 FROM templates WHERE name = ? AND id IS DISTINCT FROM ?",
        &params![&input.name, id],
        |_| Ok(()),
    )?;
    if taken.is_some() {
        return Err(TemplateError::NameTaken);
    }
    let saved = match id {
        None => conn.query_row(
            &format!(
                "INSERT INTO templates (name, client, type, body, created_by, created_at, \
                 updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
            ),
            &params![
                &input.name,
                &input.client,
                &input.command_type,
                &body,
                by,
                now,
                now,
            ],
            record,
        ),
        Some(id) => conn.query_row(
            &format!(
                "UPDATE templates SET name = ?, client = ?, type = ?, body = ?, updated_at = ? \
                 WHERE id = ? RETURNING {COLUMNS}"
            ),
            &params![
                &input.name,
                &input.client,
                &input.command_type,
                &body,
                now,
                id,
            ],
            record,
        ),
    };
    saved?.ok_or(TemplateError::NotFound)
}

pub fn delete(b: &mut Batch<'_>, id: i64) -> Result<Option<TemplateRecord>, StoreError> {
    b.db().query_row(
        &format!("DELETE FROM templates WHERE id = ? RETURNING {COLUMNS}"),
        &params![id],
        record,
    )
}
