//! Reads: lists with filters and cursor paging, one command with its timeline, and the feed's history.
//! Every list is read in one transaction with the feed sequence, so `feed_seq` is exact.

use super::rows::{CallbackRow, CommandRow, PollRow, callback_columns, command_columns, records};
use super::{Store, StoreError};
use hermod_shared::console::{
    CallbackRecord, CommandDetail, CommandRecord, HermodReply, ListPage, PollRecord, TimelineEntry,
};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Filters of `GET /api/commands`; times in milliseconds, already parsed.
#[derive(Debug, Default, Clone)]
pub struct CommandFilter {
    pub command_type: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub q: Option<String>,
    pub limit: i64,
    /// Only ids below this one (the previous page's last id).
    pub before_id: Option<i64>,
}

/// Filters of `GET /api/callbacks`.
#[derive(Debug, Default, Clone)]
pub struct CallbackFilter {
    pub callback_type: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub q: Option<String>,
    pub unmatched: Option<bool>,
    pub command: Option<i64>,
    pub limit: i64,
    pub before_id: Option<i64>,
}

/// A record as exported: with the words decoded from it (certificate subjects, serials, expiry…).
#[derive(Debug, Clone, Serialize)]
pub struct Exported<T> {
    #[serde(flatten)]
    pub record: T,
    pub decoded: String,
}

/// A row of an export query: the record's columns and its decoded words.
#[derive(FromRow)]
struct ExportRow<Row> {
    #[sqlx(flatten)]
    row: Row,
    decoded_all: String,
}

/// A filter that pages by id: exports walk the whole view in the largest pages.
pub trait PagedFilter: Clone + Send + Sync + 'static {
    /// This filter for the export page of ids below `before_id`.
    fn export_page(&self, before_id: Option<i64>) -> Self;
}

impl PagedFilter for CommandFilter {
    fn export_page(&self, before_id: Option<i64>) -> Self {
        CommandFilter {
            limit: MAX_LIMIT,
            before_id,
            ..self.clone()
        }
    }
}

impl PagedFilter for CallbackFilter {
    fn export_page(&self, before_id: Option<i64>) -> Self {
        CallbackFilter {
            limit: MAX_LIMIT,
            before_id,
            ..self.clone()
        }
    }
}

impl CommandFilter {
    /// `SELECT <select> FROM commands c WHERE <filters> ORDER BY id DESC LIMIT <limit + 1>`.
    fn query(&self, select: &str) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::new(format!("SELECT {select} FROM commands c WHERE 1 = 1"));
        push_eq(&mut qb, "type", &self.command_type);
        push_eq(&mut qb, "state", &self.state);
        push_eq(&mut qb, "client", &self.client);
        push_range(
            &mut qb,
            "created_at",
            self.since,
            self.until,
            self.before_id,
        );
        push_text_search(&mut qb, "c.id", "command_search", &self.q);
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(self.limit + 1);
        qb
    }
}

impl CallbackFilter {
    fn query(&self, select: &str) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::new(format!("SELECT {select} FROM callbacks WHERE 1 = 1"));
        push_eq(&mut qb, "type", &self.callback_type);
        push_eq(&mut qb, "state", &self.state);
        push_eq(&mut qb, "client", &self.client);
        push_range(
            &mut qb,
            "received_at",
            self.since,
            self.until,
            self.before_id,
        );
        push_text_search(&mut qb, "id", "callback_search", &self.q);
        match self.unmatched {
            Some(true) => drop(qb.push(" AND command IS NULL")),
            Some(false) => drop(qb.push(" AND command IS NOT NULL")),
            None => {}
        }
        if let Some(c) = self.command {
            qb.push(" AND command = ").push_bind(c);
        }
        qb.push(" ORDER BY id DESC LIMIT ")
            .push_bind(self.limit + 1);
        qb
    }
}

/// `AND <column> = ?` for each filter that is set.
fn push_eq(qb: &mut QueryBuilder<Sqlite>, column: &str, value: &Option<String>) {
    if let Some(v) = value {
        qb.push(format!(" AND {column} = ")).push_bind(v.clone());
    }
}

pub(super) fn push_range(
    qb: &mut QueryBuilder<Sqlite>,
    column: &str,
    since: Option<i64>,
    until: Option<i64>,
    before_id: Option<i64>,
) {
    if let Some(s) = since {
        qb.push(format!(" AND {column} >= ")).push_bind(s);
    }
    if let Some(u) = until {
        qb.push(format!(" AND {column} < ")).push_bind(u);
    }
    if let Some(b) = before_id {
        qb.push(" AND id < ").push_bind(b);
    }
}

/// The lower-cased search text, when there is one.
pub(super) fn search_pattern(q: &Option<String>) -> Option<String> {
    q.as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase)
}

/// `(col1 contains p OR col2 contains p …)`, case-insensitively.
pub(super) fn push_contains(qb: &mut QueryBuilder<Sqlite>, columns: &[&str], pattern: &str) {
    qb.push("(");
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format!("instr(lower(COALESCE({col}, '')), "))
            .push_bind(pattern.to_string())
            .push(") > 0");
    }
    qb.push(")");
}

/// `AND <id> IN (rows of the full-text table holding q)`. The index is of trigrams, so any substring of
/// three characters or more is found through it; shorter ones are looked for by scanning its text.
fn push_text_search(qb: &mut QueryBuilder<Sqlite>, id: &str, table: &str, q: &Option<String>) {
    let Some(p) = search_pattern(q) else {
        return;
    };
    qb.push(format!(" AND {id} IN (SELECT rowid FROM {table} WHERE "));
    if p.chars().count() >= 3 {
        qb.push(format!("{table} MATCH "))
            .push_bind(format!("\"{}\"", p.replace('"', "\"\"")));
    } else {
        push_contains(qb, &["text"], &p);
    }
    qb.push(")");
}

/// The page's items, and the cursor of the next page when this one is full.
pub(super) fn page<T>(
    mut items: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>) {
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let next = items.last().map(|i| id(i).to_string());
        (items, next)
    } else {
        (items, None)
    }
}

impl Store {
    async fn feed_seq(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM feed")
            .fetch_one(&mut *conn)
            .await?)
    }

    pub async fn list_commands(
        &self,
        f: &CommandFilter,
    ) -> Result<ListPage<CommandRecord>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let feed_seq = Store::feed_seq(&mut tx).await?;
        let rows: Vec<CommandRow> = f
            .query(command_columns!())
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?;
        let (items, next_cursor) = page(records(rows)?, f.limit, |c: &CommandRecord| c.id);
        Ok(ListPage {
            items,
            next_cursor,
            feed_seq,
        })
    }

    /// Runs an export query (record columns plus `decoded_all`) and pages its rows.
    async fn export_rows<R, T>(
        &self,
        mut qb: QueryBuilder<Sqlite>,
        limit: i64,
        id: fn(&T) -> i64,
    ) -> Result<(Vec<Exported<T>>, Option<String>), StoreError>
    where
        R: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let rows: Vec<ExportRow<R>> = qb.build_query_as().fetch_all(&self.pool).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Exported {
                    record: T::try_from(r.row)?,
                    decoded: r.decoded_all,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page(items, limit, |e| id(&e.record)))
    }

    /// A page of the export: each command with everything decoded from it and its callbacks.
    pub async fn export_commands(
        &self,
        f: &CommandFilter,
    ) -> Result<(Vec<Exported<CommandRecord>>, Option<String>), StoreError> {
        let select = concat!(
            command_columns!(),
            ", trim(c.decoded || ' ' || COALESCE((SELECT group_concat(b.decoded, ' ') \
             FROM callbacks b WHERE b.command = c.id), '')) AS decoded_all"
        );
        self.export_rows::<CommandRow, _>(f.query(select), f.limit, |c: &CommandRecord| c.id)
            .await
    }

    pub async fn list_callbacks(
        &self,
        f: &CallbackFilter,
    ) -> Result<ListPage<CallbackRecord>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let feed_seq = Store::feed_seq(&mut tx).await?;
        let rows: Vec<CallbackRow> = f
            .query(callback_columns!())
            .build_query_as()
            .fetch_all(&mut *tx)
            .await?;
        let (items, next_cursor) = page(records(rows)?, f.limit, |c: &CallbackRecord| c.id);
        Ok(ListPage {
            items,
            next_cursor,
            feed_seq,
        })
    }

    /// A page of the export: each callback with what was decoded from it.
    pub async fn export_callbacks(
        &self,
        f: &CallbackFilter,
    ) -> Result<(Vec<Exported<CallbackRecord>>, Option<String>), StoreError> {
        let select = concat!(callback_columns!(), ", decoded AS decoded_all");
        self.export_rows::<CallbackRow, _>(f.query(select), f.limit, |c: &CallbackRecord| c.id)
            .await
    }

    /// One command and everything that happened to it, in time order.
    pub async fn command_detail(&self, id: i64) -> Result<Option<CommandDetail>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let sql = concat!("SELECT ", command_columns!(), " FROM commands WHERE id = ?");
        let Some(row) = sqlx::query_as::<_, CommandRow>(sql)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let command = CommandRecord::try_from(row)?;
        let sql = concat!(
            "SELECT ",
            callback_columns!(),
            " FROM callbacks WHERE command = ? ORDER BY id"
        );
        let callbacks: Vec<CallbackRecord> =
            records::<CallbackRow, _>(sqlx::query_as(sql).bind(id).fetch_all(&mut *tx).await?)?;
        let polls: Vec<PollRecord> = records::<PollRow, _>(
            sqlx::query_as("SELECT id, command, reply FROM polls WHERE command = ? ORDER BY id")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?,
        )?;
        let mut timeline = vec![TimelineEntry::Sent {
            at: command.created_at.clone(),
            decoded: Vec::new(),
        }];
        if let Some(reply) = &command.answer {
            timeline.push(TimelineEntry::Answer {
                reply: HermodReply::clone(reply),
                decoded: Vec::new(),
            });
        }
        timeline.extend(
            callbacks
                .into_iter()
                .map(|callback| TimelineEntry::Callback {
                    callback,
                    decoded: Vec::new(),
                }),
        );
        timeline.extend(polls.into_iter().map(|poll| TimelineEntry::Poll {
            poll,
            decoded: Vec::new(),
        }));
        // Our timestamps are fixed-width UTC, so they sort as text.
        timeline.sort_by(|a, b| a.at().cmp(b.at()));
        Ok(Some(CommandDetail {
            command,
            timeline,
            qr: Vec::new(),
            curl: String::new(),
        }))
    }

    pub async fn command(&self, id: i64) -> Result<Option<CommandRecord>, StoreError> {
        let sql = concat!("SELECT ", command_columns!(), " FROM commands WHERE id = ?");
        sqlx::query_as::<_, CommandRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(CommandRecord::try_from)
            .transpose()
    }

    /// Stored feed events after `after`, oldest first, at most `limit`: `(seq, SSE name, JSON)`.
    pub async fn feed_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        Ok(
            sqlx::query_as(
                "SELECT seq, kind, payload FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    pub async fn current_seq(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Store::feed_seq(&mut conn).await
    }
}
