//! Named command templates, shared by everyone.

use super::{Store, StoreError};
use crate::clock::{now_ms, rfc3339};
use hermod_shared::console::{TemplateInput, TemplateRecord};
use sqlx::FromRow;

#[derive(FromRow)]
struct TemplateRow {
    id: i64,
    name: String,
    client: Option<String>,
    #[sqlx(rename = "type")]
    command_type: String,
    body: String,
    created_by: String,
    updated_at: i64,
}

impl TryFrom<TemplateRow> for TemplateRecord {
    type Error = StoreError;
    fn try_from(r: TemplateRow) -> Result<Self, StoreError> {
        Ok(TemplateRecord {
            id: r.id,
            name: r.name,
            client: r.client,
            command_type: r.command_type,
            body: serde_json::from_str(&r.body)?,
            created_by: r.created_by,
            updated_at: rfc3339(r.updated_at),
        })
    }
}

const COLUMNS: &str = "id, name, client, type, body, created_by, updated_at";

/// Why a template change did not happen.
#[derive(Debug)]
pub enum TemplateError {
    Store(StoreError),
    /// Another template has that name.
    NameTaken,
    NotFound,
}

impl From<StoreError> for TemplateError {
    fn from(e: StoreError) -> Self {
        TemplateError::Store(e)
    }
}

impl From<sqlx::Error> for TemplateError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => TemplateError::NameTaken,
            _ => TemplateError::Store(e.into()),
        }
    }
}

impl Store {
    pub async fn templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM templates ORDER BY name");
        let rows: Vec<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TemplateRecord::try_from).collect()
    }

    /// Creates a template (`id` None) or replaces one.
    pub async fn save_template(
        &self,
        id: Option<i64>,
        input: TemplateInput,
        by: String,
    ) -> Result<TemplateRecord, TemplateError> {
        self.run(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let body = input.body.to_string();
                let row: Result<Option<TemplateRow>, sqlx::Error> = match id {
                    None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO templates (name, client, type, body, created_by, created_at, \
                             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
                    )))
                    .bind(&input.name)
                    .bind(&input.client)
                    .bind(&input.command_type)
                    .bind(&body)
                    .bind(&by)
                    .bind(now)
                    .bind(now)
                    .fetch_optional(&mut *conn)
                    .await,
                    Some(id) => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!(
                            "UPDATE templates SET name = ?, client = ?, type = ?, body = ?, \
                             updated_at = ? WHERE id = ? RETURNING {COLUMNS}"
                        )))
                        .bind(&input.name)
                        .bind(&input.client)
                        .bind(&input.command_type)
                        .bind(&body)
                        .bind(now)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await
                    }
                };
                // A name clash is the caller's mistake, not the store's: answer it, do not fail the batch.
                Ok(match row {
                    Ok(Some(r)) => TemplateRecord::try_from(r).map_err(TemplateError::from),
                    Ok(None) => Err(TemplateError::NotFound),
                    Err(e) => Err(TemplateError::from(e)),
                })
            })
        })
        .await?
    }

    pub async fn delete_template(&self, id: i64) -> Result<Option<TemplateRecord>, StoreError> {
        self.run(move |conn| {
            Box::pin(async move {
                let row: Option<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM templates WHERE id = ? RETURNING {COLUMNS}"
                )))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                row.map(TemplateRecord::try_from).transpose()
            })
        })
        .await
    }
}
