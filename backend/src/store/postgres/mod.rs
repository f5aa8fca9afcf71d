//! The PostgreSQL store, for several console replicas on one database (docs/ARCHITECTURE.md, "The
//! store"). It runs the same record modules as SQLite through [`crate::store::conn::Conn`]; what is
//! PostgreSQL's own is here: connecting, the layout, how feed numbers follow commit order across
//! replicas ([`sequence`]), which replica runs a timer's work ([`lease`]), and the limits replicas
//! count together ([`limits`]).

pub mod lease;
pub mod limits;
pub mod schema;
pub mod sequence;

use crate::store::StoreError;
use crate::store::conn::{PgConn, pg_error};

/// A connection to `url` (`postgres://user:password@host:port/database`, or libpq's `key=value`
/// form). Without TLS: the database is expected on a private network or a local socket; TLS to it
/// is docs/ARCHITECTURE.md's open point.
pub fn connect(url: &str) -> Result<PgConn, StoreError> {
    let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
        // The URL may hold a password: only the driver's words about the failure are shown.
        StoreError(format!("connecting to PostgreSQL: {}", pg_error(e)))
    })?;
    Ok(PgConn::new(client))
}
