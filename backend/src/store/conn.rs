//! One connection to the database, whichever engine holds it: the store's record modules write their
//! SQL once, against [`Conn`], and run on SQLite (one file, the default) or PostgreSQL (several
//! replicas). docs/ARCHITECTURE.md ("The store") says how the two differ and why the SQL is shared.
//!
//! The SQL is SQLite's dialect where the two agree, with `?` and `?N` placeholders; PostgreSQL gets
//! them as `$N` ([`numbered`]). Values cross as [`Value`], read back through [`Column`]: both convert
//! between the engines' integer widths, so a column's SQL type never has to be spelled twice.

use crate::store::StoreError;
use bytes::BytesMut;
use hermod_shared::console::Role;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql as PgToSql, Type};
use rusqlite::types::{ToSqlOutput, ValueRef};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

/// A connection of either engine, borrowed for one piece of work.
#[derive(Clone, Copy)]
pub enum Conn<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c PgConn),
}

impl<'c> From<&'c rusqlite::Connection> for Conn<'c> {
    fn from(c: &'c rusqlite::Connection) -> Conn<'c> {
        Conn::Sqlite(c)
    }
}

impl<'c> From<&'c PgConn> for Conn<'c> {
    fn from(c: &'c PgConn) -> Conn<'c> {
        Conn::Postgres(c)
    }
}

/// A PostgreSQL connection with its prepared statements, kept by their SQL as rusqlite's cache keeps
/// SQLite's: the store runs the same few dozen statements over and over.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConn {
    pub fn new(client: postgres::Client) -> PgConn {
        PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        }
    }

    /// Runs SQL text of one or more statements, without parameters (`BEGIN`, a schema step).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(pg_error)
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    /// Puts `fresh` in the place of this connection (which the database dropped): its client, and
    /// no prepared statements, which were the old session's.
    pub fn replace(&self, fresh: PgConn) {
        *self.client.borrow_mut() = fresh.client.into_inner();
        self.statements.borrow_mut().clear();
    }

    /// The notifications (channel, payload) that came on this connection, waiting up to `wait` for
    /// the first when none has.
    pub fn notifications(&self, wait: Duration) -> Result<Vec<(String, String)>, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut notifications = client.notifications();
        let pair = |n: postgres::Notification| (n.channel().to_string(), n.payload().to_string());
        let Some(first) = notifications.timeout_iter(wait).next().map_err(pg_error)? else {
            return Ok(Vec::new());
        };
        let mut out = vec![pair(first)];
        // What else has come is read without waiting again.
        let mut rest = notifications.iter();
        while let Some(n) = rest.next().map_err(pg_error)? {
            out.push(pair(n));
        }
        Ok(out)
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .client
            .borrow_mut()
            .prepare(&numbered(sql))
            .map_err(pg_error)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&self, sql: &str, params: &[Value<'_>]) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.client
            .borrow_mut()
            .query(&statement, &pg_params(params))
            .map_err(pg_error)
    }

    fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.client
            .borrow_mut()
            .execute(&statement, &pg_params(params))
            .map_err(pg_error)
    }
}

/// Parameters as the PostgreSQL driver takes them.
fn pg_params<'p>(params: &'p [Value<'_>]) -> Vec<&'p (dyn PgToSql + Sync)> {
    params.iter().map(|p| p as &(dyn PgToSql + Sync)).collect()
}

pub fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

pub fn pg_error(e: postgres::Error) -> StoreError {
    // The server's own message (and its detail) says what went wrong; the driver's Display of a
    // server error is only "db error".
    match e.as_db_error() {
        Some(db) => StoreError(match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_string(),
        }),
        None => StoreError(e.to_string()),
    }
}

/// A parameter, as both engines take it.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<usize> for Value<'_> {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}

impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Cow::Owned(v))
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Blob(Cow::Borrowed(v))
    }
}

impl From<Vec<u8>> for Value<'_> {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(Cow::Owned(v))
    }
}

impl<'a, T> From<Option<T>> for Value<'a>
where
    T: Into<Value<'a>>,
{
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().into()
    }
}

/// `[Value; N]` from the expressions given, for a statement's parameters.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        [$($crate::store::conn::Value::from($v)),*]
    };
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

type BoxError = Box<dyn Error + Sync + Send>;

impl PgToSql for Value<'_> {
    /// Written as the type PostgreSQL inferred for the placeholder: SQLite's integers stand for
    /// PostgreSQL's integers of every width and for its booleans.
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let mismatch = || -> BoxError { format!("{self:?} cannot be sent as {ty}").into() };
        match (self, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Int(i), &Type::TEXT | &Type::VARCHAR) => i.to_string().to_sql(ty, out),
            (Value::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (Value::Bool(b), &Type::INT8 | &Type::INT4 | &Type::INT2) => {
                Value::Int(i64::from(*b)).to_sql(ty, out)
            }
            (Value::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::NAME | &Type::BPCHAR) => {
                s.as_ref().to_sql(ty, out)
            }
            (Value::Blob(b), &Type::BYTEA) => b.as_ref().to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A row being read.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    pub fn get<T: Column>(&self, i: usize) -> Result<T, StoreError> {
        match self {
            Row::Sqlite(r) => T::sqlite(r, i).map_err(sqlite_error),
            Row::Postgres(r) => T::postgres(r, i),
        }
    }

    /// A column that holds JSON.
    pub fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        Ok(serde_json::from_str(&self.get::<String>(i)?)?)
    }

    /// A column that holds JSON, or NULL.
    pub fn json_or_none<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, StoreError> {
        self.get::<Option<String>>(i)?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(StoreError::from)
    }

    /// A role column (the schema allows only the three roles).
    pub fn role(&self, i: usize) -> Result<Role, StoreError> {
        let text: String = self.get(i)?;
        Role::parse(&text).ok_or_else(|| StoreError(format!("stored role `{text}`")))
    }
}

/// A type a column is read as.
pub trait Column: Sized {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError>;
}

/// A PostgreSQL column read as `Option<T>` (NULL is `None`) by its own type `P`.
fn pg_get<'a, P: postgres::types::FromSql<'a>>(
    r: &'a postgres::Row,
    i: usize,
) -> Result<Option<P>, StoreError> {
    r.try_get::<_, Option<P>>(i).map_err(pg_error)
}

fn pg_null(r: &postgres::Row, i: usize) -> StoreError {
    StoreError(format!("column {} is NULL", r.columns()[i].name()))
}

impl Column for Option<i64> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }

    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        match *r.columns()[i].type_() {
            Type::INT4 => Ok(pg_get::<i32>(r, i)?.map(i64::from)),
            Type::INT2 => Ok(pg_get::<i16>(r, i)?.map(i64::from)),
            Type::BOOL => Ok(pg_get::<bool>(r, i)?.map(i64::from)),
            _ => pg_get::<i64>(r, i),
        }
    }
}

impl Column for Option<bool> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }

    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        match *r.columns()[i].type_() {
            Type::BOOL => pg_get::<bool>(r, i),
            _ => Ok(<Option<i64>>::postgres(r, i)?.map(|n| n != 0)),
        }
    }
}

impl Column for Option<String> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }

    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get::<String>(r, i)
    }
}

impl Column for Option<Vec<u8>> {
    fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }

    fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get::<Vec<u8>>(r, i)
    }
}

/// The NOT NULL form of each optional column type.
macro_rules! required {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                r.get(i)
            }

            fn postgres(r: &postgres::Row, i: usize) -> Result<Self, StoreError> {
                <Option<$t>>::postgres(r, i)?.ok_or_else(|| pg_null(r, i))
            }
        }
    )*};
}

required!(i64, bool, String, Vec<u8>);

impl Conn<'_> {
    /// The rows of a query, each read by `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, params, usize::MAX, f)
    }

    /// The first row of a query, read by `f`, if there is one.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut f = Some(f);
        let mut first = self.rows(sql, params, 1, |r| match f.take() {
            Some(f) => f(r),
            None => unreachable!("one row read at most"),
        })?;
        Ok(first.pop())
    }

    /// Up to `most` rows of a query, each read by `f`. SQLite stops stepping there; PostgreSQL's
    /// driver has read them all by then.
    fn rows<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        most: usize,
        mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql).map_err(sqlite_error)?;
                let mut rows = statement
                    .query(rusqlite::params_from_iter(params))
                    .map_err(sqlite_error)?;
                let mut out = Vec::new();
                while out.len() < most
                    && let Some(r) = rows.next().map_err(sqlite_error)?
                {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Conn::Postgres(c) => c
                .query(sql, params)?
                .iter()
                .take(most)
                .map(|r| f(&Row::Postgres(r)))
                .collect(),
        }
    }

    /// The first column of the one row a query gives (an aggregate, a `RETURNING`).
    pub fn one<T: Column>(&self, sql: &str, params: &[Value<'_>]) -> Result<T, StoreError> {
        self.query_row(sql, params, |r| r.get(0))?
            .ok_or_else(|| StoreError(format!("no row from `{sql}`")))
    }

    /// Runs `f` in one read transaction: everything it reads is of the same moment (a list and the
    /// feed sequence it is current to, a command and its timeline).
    pub fn snapshot<T>(
        self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let tx = c.unchecked_transaction().map_err(sqlite_error)?;
                let out = f(self)?;
                tx.finish().map_err(sqlite_error)?;
                Ok(out)
            }
            Conn::Postgres(c) => {
                c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                let out = f(self);
                c.batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
                out
            }
        }
    }

    /// Runs an `INSERT` into a table keyed by `id`; gives the new row's id. SQLite reads it after
    /// the insert (its `RETURNING` costs a temporary table per row, on the hottest path there is);
    /// PostgreSQL returns it.
    pub fn insert(&self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                self.execute(sql, params)?;
                Ok(c.last_insert_rowid())
            }
            Conn::Postgres(_) => self.one(&format!("{sql} RETURNING id"), params),
        }
    }

    /// Runs SQL text of one or more statements, without parameters (`BEGIN`, a layout step).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(sqlite_error),
            Conn::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs a statement; how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        match self {
            Conn::Sqlite(c) => c
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
                .map(|n| n as u64)
                .map_err(sqlite_error),
            Conn::Postgres(c) => c.execute(sql, params),
        }
    }
}

/// SQLite's placeholders as PostgreSQL's: `?N` is `$N`, and a bare `?` takes the number after the
/// highest one so far, as SQLite numbers it. Text in quotes is left alone.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut highest = 0u32;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => highest + 1,
                };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            (None, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Conn, numbered};

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(numbered("a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(
            numbered("a = ?2 AND b = ? AND c = ?1"),
            "a = $2 AND b = $3 AND c = $1"
        );
        assert_eq!(numbered("a = '?' AND b = ?"), "a = '?' AND b = $1");
    }

    #[test]
    fn values_and_columns_round_trip_on_sqlite() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::from(&c);
        conn.execute("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, f INTEGER)", &[])
            .unwrap();
        let blob: &[u8] = &[1, 2];
        let none: Option<&str> = None;
        conn.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            &crate::params![7i64, none, blob, true],
        )
        .unwrap();
        let (i, s, b, f): (i64, Option<String>, Vec<u8>, bool) = conn
            .query_row("SELECT i, s, b, f FROM t", &[], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .unwrap();
        assert_eq!((i, s, b, f), (7, None, vec![1, 2], true));
        assert_eq!(conn.one::<i64>("SELECT COUNT(*) FROM t", &[]).unwrap(), 1);
    }
}
