//! One console per data directory. Two would each number feed events from their own memory, stream
//! only their own events and fail each other's writes. The lock is the operating system's (`flock`),
//! so it ends with the process however the process ends: a stale lock file never blocks a start.

use crate::store::sqlite::make_dir;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

pub const LOCK_FILE: &str = "hermod-console.lock";

/// Held for as long as the console runs.
pub struct DataDirLock {
    _file: File,
}

/// Takes the data directory (creating it, private, when missing), or says which process holds it.
pub fn take(data_dir: &Path) -> Result<DataDirLock, String> {
    let fail = |e: std::io::Error| format!("cannot lock {}: {e}", data_dir.display());
    make_dir(data_dir).map_err(|e| e.to_string())?;
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(data_dir.join(LOCK_FILE)).map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(format!(
                "{} is in use by another hermod-console (pid {}); stop it first, or give this one \
                 another --data-dir",
                data_dir.display(),
                holder.trim()
            ));
        }
        Err(TryLockError::Error(e)) => return Err(fail(e)),
    }
    file.set_len(0).map_err(fail)?;
    file.rewind().map_err(fail)?;
    write!(file, "{}", std::process::id()).map_err(fail)?;
    Ok(DataDirLock { _file: file })
}
