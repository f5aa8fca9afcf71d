//! Lists are built from the filters that are set: a small builder that keeps the SQL text and its
//! parameters together, so a value is always bound, never pasted in.

use crate::store::conn::{Conn, Row, Value};
use crate::store::filter::page;
use crate::store::{Page, Query, StoreError};
use hermod_shared::console::{ListPage, TOTAL_CAP};

pub struct Sql {
    text: String,
    params: Vec<Value<'static>>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            params: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// A `?` in the text, bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value<'static>>) -> &mut Sql {
        self.text.push('?');
        self.params.push(value.into());
        self
    }

    /// `AND <column> = ?` when the filter is set.
    pub fn and_eq(&mut self, column: &str, value: &Option<String>) -> &mut Sql {
        if let Some(v) = value {
            self.push(" AND ").push(column).push(" = ").bind(v.clone());
        }
        self
    }

    /// `AND <column>` holds `value`, in any case (ASCII), when the filter is set.
    pub fn and_holding(&mut self, column: &str, value: &Option<String>) -> &mut Sql {
        if let Some(v) = value {
            self.push(" AND lower(").push(column).push(") LIKE lower(");
            self.bind(holding(v)).push(") ESCAPE '\\'");
        }
        self
    }

    /// `column IS NOT NULL` when `set` is true, `IS NULL` when false.
    pub fn and_set(&mut self, column: &str, set: Option<bool>) -> &mut Sql {
        if let Some(set) = set {
            let test = if set { " IS NOT NULL" } else { " IS NULL" };
            self.push(" AND ").push(column).push(test);
        }
        self
    }

    /// The time window of `q` on `column`.
    pub fn and_window(&mut self, column: &str, q: &Query) -> &mut Sql {
        if let Some(s) = q.since {
            self.push(" AND ").push(column).push(" >= ").bind(s);
        }
        if let Some(u) = q.until {
            self.push(" AND ").push(column).push(" < ").bind(u);
        }
        self
    }

    /// `AND <column> IN (<values>)`; `values` must not be empty (`IN ()` is PostgreSQL's syntax error).
    pub fn and_in(&mut self, column: &str, values: &[i64]) -> &mut Sql {
        self.push(" AND ").push(column).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(*v);
        }
        self.push(")")
    }

    /// The page's cursor on `id`, then `ORDER BY <id> DESC LIMIT <limit + 1>`: one row more than
    /// the page shows whether there is a next. Only the page has a cursor: the list's count has none.
    pub fn newest_first(&mut self, id: &str, q: &Query) -> &mut Sql {
        if let Some(b) = q.page.before_id {
            self.push(" AND ").push(id).push(" < ").bind(b);
        }
        self.push(" ORDER BY ")
            .push(id)
            .push(" DESC LIMIT ")
            .bind(q.page.limit + 1)
    }

    /// `(instr(lower(t), q) > 0 OR …)`: whether any of `texts` (SQL expressions) holds `q`.
    pub fn any_holds(&mut self, q: &str, texts: &[&str]) -> &mut Sql {
        self.push("(");
        for (i, text) in texts.iter().enumerate() {
            if i > 0 {
                self.push(" OR ");
            }
            self.push("instr(lower(COALESCE(")
                .push(text)
                .push(", '')), ")
                .bind(q.to_string())
                .push(") > 0");
        }
        self.push(")")
    }

    /// A list page of the rows (read one more than `page.limit`, see [`Sql::newest_first`]), with
    /// the feed sequence they are current to and, with `counted` (the list's query without the
    /// page: its filters alone), how many rows the whole list holds: all read in one snapshot.
    pub fn page<T>(
        &self,
        conn: Conn<'_>,
        page_of: Page,
        counted: Option<&Sql>,
        row: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
        id: impl Fn(&T) -> i64,
    ) -> Result<ListPage<T>, StoreError> {
        conn.snapshot(|conn| {
            let feed_seq = feed_seq(conn)?;
            let rows = self.rows(conn, row)?;
            let mut listed = page(rows, page_of, id, feed_seq);
            if let Some(counted) = counted {
                (listed.total, listed.total_capped) = counted.count(conn, TOTAL_CAP)?;
            }
            Ok(listed)
        })
    }

    /// How many rows this query selects, counted up to `cap`: `(cap, true)` when there are more. The
    /// count reads at most `cap + 1` of them, however many the filters hold (shared/src/console.rs,
    /// `ListPage::total`).
    pub fn count(&self, conn: Conn<'_>, cap: u64) -> Result<(u64, bool), StoreError> {
        let text = format!("SELECT COUNT(*) FROM ({} LIMIT ?) AS counted", self.text);
        let mut params = self.params.clone();
        params.push(Value::from(cap as i64 + 1));
        let n = conn.one::<i64>(&text, &params)? as u64;
        Ok((n.min(cap), n > cap))
    }

    pub fn rows<T>(
        &self,
        conn: Conn<'_>,
        f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        conn.query(&self.text, &self.params, f)
    }
}

/// The sequence of the newest stored feed event (0 when there is none).
pub fn feed_seq(conn: Conn<'_>) -> Result<i64, StoreError> {
    conn.one("SELECT COALESCE(MAX(seq), 0) FROM feed", &[])
}

/// The `ILIKE` pattern of the texts holding `q`, its own `%`, `_` and `\` taken as they are.
pub(super) fn holding(q: &str) -> String {
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
