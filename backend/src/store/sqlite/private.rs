//! The data directory and the database files are the console's alone: every callback and command is
//! in them. The directory is made `0700` and the files `0600` (SQLite gives its log and shared-memory
//! files the database file's mode); found looser, they are tightened, with a warning.

use crate::store::StoreError;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

fn fail(what: &Path, e: std::io::Error) -> StoreError {
    StoreError(format!("cannot make {} private: {e}", what.display()))
}

/// Makes (or tightens) `data_dir`.
pub fn make_dir(data_dir: &Path) -> Result<(), StoreError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(data_dir)
        .map_err(|e| fail(data_dir, e))?;
    tighten(data_dir, DIR_MODE).map_err(|e| fail(data_dir, e))
}

/// Creates `path` empty and `0600`, failing when it exists: a file that will hold the console's
/// data (a backup, a restore being staged) is never readable by others, not even for a moment.
pub fn new_file(path: &Path) -> Result<std::fs::File, StoreError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => StoreError(format!(
                "{} exists, and is never overwritten",
                path.display()
            )),
            _ => StoreError(format!("cannot create {}: {e}", path.display())),
        })
}

/// Makes (or tightens) `data_dir` and the database file `db` in it.
pub fn make(data_dir: &Path, db: &Path) -> Result<(), StoreError> {
    make_dir(data_dir)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(db)
        .map_err(|e| fail(db, e))?;
    for suffix in ["", "-wal", "-shm"] {
        let file = db.with_file_name(format!(
            "{}{suffix}",
            db.file_name().unwrap_or_default().to_string_lossy()
        ));
        if file.exists() {
            tighten(&file, FILE_MODE).map_err(|e| fail(&file, e))?;
        }
    }
    Ok(())
}

/// Removes every permission beyond `mode`, saying so when there were any.
fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
    let now = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if now & !mode != 0 {
        tracing::warn!(
            path = %path.display(),
            was = format!("{now:o}"),
            now = format!("{:o}", now & mode),
            "others could read the console's data; permissions tightened"
        );
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(now & mode))?;
    }
    Ok(())
}
