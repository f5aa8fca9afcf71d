//! SQLite's own parts: opening the file with the settings every connection has, its layout and its
//! upgrades, backups, and keeping the data directory private. The store that runs on it (and on
//! PostgreSQL) is `store/sql/`; docs/ARCHITECTURE.md, "The store".

pub mod backup;
mod private;
pub use private::{make, make_dir};
pub mod schema;

pub use schema::BUSY_TIMEOUT;

/// The file name inside the data directory.
pub const DB_FILE: &str = "hermod-console.sqlite3";
