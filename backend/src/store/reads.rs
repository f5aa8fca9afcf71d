//! Reads: lists with filters and cursor paging, one command with its timeline, and the feed's history.
//! Every list is read in one transaction with the feed sequence, so `feed_seq` is exact.

use super::rows::{CallbackRow, CommandRow, PollRow, callback_columns, command_columns, records};
use super::{Store, StoreError};
use hermod_shared::console::{
    CallbackRecord, CommandDetail, CommandRecord, HermodReply, ListPage, PollRecord, TimelineEntry,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

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
        let mut qb = QueryBuilder::new(concat!(
            "SELECT ",
            command_columns!(),
            " FROM commands c WHERE 1 = 1"
        ));
        push_eq(&mut qb, "type", &f.command_type);
        push_eq(&mut qb, "state", &f.state);
        push_eq(&mut qb, "client", &f.client);
        push_range(&mut qb, "created_at", f.since, f.until, f.before_id);
        if let Some(p) = search_pattern(&f.q) {
            // Results live in the callbacks and polls: search those too.
            qb.push(" AND (");
            push_contains(
                &mut qb,
                &["c.request", "c.answer", "c.command_id", "c.external_id"],
                &p,
            );
            qb.push(" OR EXISTS (SELECT 1 FROM callbacks b WHERE b.command = c.id AND ");
            push_contains(&mut qb, &["b.body"], &p);
            qb.push(") OR EXISTS (SELECT 1 FROM polls p WHERE p.command = c.id AND ");
            push_contains(&mut qb, &["p.reply"], &p);
            qb.push("))");
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit + 1);
        let rows: Vec<CommandRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
        let (items, next_cursor) = page(records(rows)?, f.limit, |c: &CommandRecord| c.id);
        Ok(ListPage {
            items,
            next_cursor,
            feed_seq,
        })
    }

    pub async fn list_callbacks(
        &self,
        f: &CallbackFilter,
    ) -> Result<ListPage<CallbackRecord>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let feed_seq = Store::feed_seq(&mut tx).await?;
        let mut qb = QueryBuilder::new(concat!(
            "SELECT ",
            callback_columns!(),
            " FROM callbacks WHERE 1 = 1"
        ));
        push_eq(&mut qb, "type", &f.callback_type);
        push_eq(&mut qb, "state", &f.state);
        push_eq(&mut qb, "client", &f.client);
        push_range(&mut qb, "received_at", f.since, f.until, f.before_id);
        if let Some(p) = search_pattern(&f.q) {
            qb.push(" AND ");
            push_contains(&mut qb, &["body", "command_id", "external_id"], &p);
        }
        match f.unmatched {
            Some(true) => drop(qb.push(" AND command IS NULL")),
            Some(false) => drop(qb.push(" AND command IS NOT NULL")),
            None => {}
        }
        if let Some(c) = f.command {
            qb.push(" AND command = ").push_bind(c);
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit + 1);
        let rows: Vec<CallbackRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
        let (items, next_cursor) = page(records(rows)?, f.limit, |c: &CallbackRecord| c.id);
        Ok(ListPage {
            items,
            next_cursor,
            feed_seq,
        })
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
        }];
        if let Some(reply) = &command.answer {
            timeline.push(TimelineEntry::Answer {
                reply: HermodReply::clone(reply),
            });
        }
        timeline.extend(
            callbacks
                .into_iter()
                .map(|callback| TimelineEntry::Callback { callback }),
        );
        timeline.extend(polls.into_iter().map(|poll| TimelineEntry::Poll { poll }));
        // Our timestamps are fixed-width UTC, so they sort as text.
        timeline.sort_by(|a, b| a.at().cmp(b.at()));
        Ok(Some(CommandDetail { command, timeline }))
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
