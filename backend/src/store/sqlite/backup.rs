//! A consistent copy of the database while the console serves, and putting one back. The copy is
//! SQLite's `VACUUM INTO` run in a read transaction: it sees one committed state, whatever the writer
//! does meanwhile, and writes a compact file with no log beside it.

use super::DB_FILE;
use super::private::new_file;
use super::schema::{self, connect};
use crate::store::StoreError;
use crate::store::conn::sqlite_error as sql_error;
use std::path::Path;

/// Copies the database under `data_dir` to `to` (which must not exist); its size in bytes.
pub fn backup(data_dir: &Path, to: &Path) -> Result<u64, StoreError> {
    let db = data_dir.join(DB_FILE);
    if !db.exists() {
        return Err(StoreError(format!("no database at {}", db.display())));
    }
    let target = to
        .to_str()
        .ok_or_else(|| StoreError(format!("{} is not UTF-8", to.display())))?;
    // Made first, empty (VACUUM INTO takes an empty file): a backup never overwrites, and is private
    // from its first byte.
    new_file(to)?;
    let copied = connect(&db, true)
        .and_then(|conn| conn.execute("VACUUM INTO ?", [target]).map_err(sql_error));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    Ok(std::fs::metadata(to)
        .map_err(|e| StoreError(e.to_string()))?
        .len())
}

/// Puts the backup `from` in place of the database under `data_dir`, which the caller has locked.
/// The backup is checked first: a file of another kind, or of a layout this binary does not know,
/// is refused and nothing is touched.
pub fn restore(from: &Path, data_dir: &Path) -> Result<(), StoreError> {
    let conn =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql_error)?;
    schema::check_known(&conn)
        .map_err(|e| StoreError(format!("{} cannot be restored: {e}", from.display())))?;
    drop(conn);
    let db = data_dir.join(DB_FILE);
    let staged = data_dir.join(format!("{DB_FILE}.restoring"));
    // What an interrupted restore left.
    let _ = std::fs::remove_file(&staged);
    let mut copy = new_file(&staged)?;
    std::fs::File::open(from)
        .and_then(|mut backup| std::io::copy(&mut backup, &mut copy))
        .and_then(|_| copy.sync_all())
        .map_err(|e| StoreError(format!("cannot copy the backup: {e}")))?;
    // The old database's log belongs to the old database.
    for log in ["-wal", "-shm"] {
        let path = data_dir.join(format!("{DB_FILE}{log}"));
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| StoreError(e.to_string()))?;
        }
    }
    std::fs::rename(&staged, &db).map_err(|e| StoreError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_console_database_is_restored_and_nothing_is_touched_otherwise() {
        let dir = std::env::temp_dir().join(format!("hermod-restore-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(DB_FILE), "the database in place").unwrap();
        let text = dir.join("notes.txt");
        std::fs::write(&text, "not a database at all, just some text").unwrap();
        let other = dir.join("other.sqlite3");
        rusqlite::Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        for (from, why) in [
            (&text, "not a database"),
            (&other, "not a Hermod Console database"),
        ] {
            let e = restore(from, &dir).unwrap_err();
            assert!(
                e.0.contains("cannot be restored") && e.0.contains(why),
                "{e}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(dir.join(DB_FILE)).unwrap(),
            "the database in place"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
