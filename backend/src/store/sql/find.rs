//! Text search (docs/ARCHITECTURE.md, "Search"). The index keeps, for each of a document's
//! three-character pieces, only which documents hold it: a quarter of the disk of keeping where. So it
//! names candidates (every document holding all of the text's pieces) and each candidate is
//! confirmed against its record: the text must be in it. Text shorter than three characters has no
//! pieces: then the records are read whole. PostgreSQL's index (pg_trgm) keeps the documents' text and
//! finds the text itself; its finds are confirmed all the same, so both engines find the same records.

use super::select::{Sql, holding};
use crate::store::StoreError;
use crate::store::conn::Conn;

/// The index query for the documents holding every three-character piece of `q`.
pub(super) fn pieces(q: &str) -> String {
    let chars: Vec<char> = q.chars().collect();
    let mut seen = std::collections::HashSet::new();
    chars
        .windows(3)
        .map(|w| w.iter().collect::<String>())
        .filter(|p| seen.insert(p.clone()))
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A kind of document: its table, and what the indexer made it of, as SQL over the table's row.
struct Kind {
    /// `<table> <alias>`.
    from: &'static str,
    alias: &'static str,
    /// Its kinds of document key (`id * 4 + kind`), as an SQL list.
    kinds: &'static str,
    texts: &'static [&'static str],
}

const COMMAND: Kind = Kind {
    from: "commands x",
    alias: "x",
    kinds: "(0, 3)",
    texts: &[
        "x.request",
        "x.answer ->> 'body'",
        "x.answer ->> 'error'",
        "x.command_id",
        "x.external_id",
        "x.created_by",
        "(SELECT string_agg(words, ' ') FROM decoded WHERE doc IN (x.id * 4, x.id * 4 + 3))",
    ],
};
const CALLBACK: Kind = Kind {
    from: "callbacks b",
    alias: "b",
    kinds: "(1)",
    texts: &[
        "b.body",
        "b.command_id",
        "b.external_id",
        "(SELECT words FROM decoded WHERE doc = b.id * 4 + 1)",
    ],
};
const POLL: Kind = Kind {
    from: "polls p",
    alias: "p",
    kinds: "(2)",
    texts: &[
        "p.reply ->> 'body'",
        "p.reply ->> 'error'",
        "(SELECT words FROM decoded WHERE doc = p.id * 4 + 2)",
    ],
};

/// `SELECT <id> FROM <kind>` for the rows holding `q`: the index's candidates, confirmed (every
/// row, when `q` is too short for the index).
fn rows(sql: &mut Sql, conn: Conn<'_>, q: &str, id: &str, kind: &Kind) {
    sql.push("SELECT ").push(id).push(" FROM ");
    if q.chars().count() >= 3 {
        match conn {
            Conn::Sqlite(_) => sql
                .push("(SELECT rowid >> 2 AS candidate FROM search WHERE search MATCH ")
                .bind(pieces(q))
                .push(" AND rowid & 3 IN "),
            Conn::Postgres(_) => sql
                .push("(SELECT doc >> 2 AS candidate FROM search WHERE text ILIKE ")
                .bind(holding(q))
                .push(" AND doc & 3 IN "),
        };
        sql.push(kind.kinds)
            .push(") AS found JOIN ")
            .push(kind.from)
            .push(" ON ")
            .push(kind.alias)
            .push(".id = candidate");
    } else {
        sql.push(kind.from);
    }
    sql.push(" WHERE ").any_holds(q, kind.texts);
}

/// ` AND <column> IN (the callbacks holding q)`.
pub fn callbacks(sql: &mut Sql, conn: Conn<'_>, column: &str, q: &str) {
    sql.push(" AND ").push(column).push(" IN (");
    rows(sql, conn, q, "b.id", &CALLBACK);
    sql.push(")");
}

/// ` AND <column> IN (the commands holding q, in their own bodies or their callbacks' or polls')`.
pub fn commands(sql: &mut Sql, conn: Conn<'_>, column: &str, q: &str) {
    sql.push(" AND ").push(column).push(" IN (");
    rows(sql, conn, q, "x.id", &COMMAND);
    sql.push(" UNION ");
    rows(sql, conn, q, "b.command", &CALLBACK);
    sql.push(" UNION ");
    rows(sql, conn, q, "p.command", &POLL);
    sql.push(")");
}

/// The callbacks and polls of `commands` (not empty) that hold `q`, found as [`commands`] finds
/// them: `(command, kind, id)`, kind 1 a callback and 2 a poll, each command's callbacks first,
/// oldest first.
pub fn around(
    conn: Conn<'_>,
    q: &str,
    commands: &[i64],
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let mut sql = Sql::new("");
    rows(&mut sql, conn, q, "b.command, 1, b.id", &CALLBACK);
    sql.and_in("b.command", commands).push(" UNION ALL ");
    rows(&mut sql, conn, q, "p.command, 2, p.id", &POLL);
    sql.and_in("p.command", commands).push(" ORDER BY 1, 2, 3");
    sql.rows(conn, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_text_becomes_its_pieces_once_each_quoted() {
        assert_eq!(super::pieces("abcab"), r#""abc" AND "bca" AND "cab""#);
        assert_eq!(super::pieces("ab\"c"), r#""ab""" AND "b""c""#);
        assert_eq!(super::pieces("ééé"), r#""ééé""#);
    }

    #[test]
    fn a_text_is_held_as_it_is_whatever_like_would_make_of_it() {
        assert_eq!(super::holding("a_b%c\\d"), r"%a\_b\%c\\d%");
    }
}
