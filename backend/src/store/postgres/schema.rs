//! Bringing the database's layout up to date. Replicas may start together: the first to take the
//! layout lock upgrades, the others wait for it and find nothing left to do. Each step runs once, in
//! one transaction, forward only, as SQLite's do (store/sqlite/schema.rs).

use crate::store::StoreError;
use crate::store::conn::{Conn, PgConn};

/// `(version it brings the database to, SQL)`, in order.
const STEPS: &[(i64, &str)] = &[
    (1, include_str!("schema/1_tables.sql")),
    (2, include_str!("schema/2_shared_limits.sql")),
    (3, include_str!("schema/3_checks_and_reasons.sql")),
    (4, include_str!("schema/4_devices.sql")),
    (5, include_str!("schema/5_certificate_roles.sql")),
];

/// The advisory lock key upgrades take (any number no other program on the database uses).
const LAYOUT_LOCK: i64 = 0x4865_726d_6f64_0001;

/// Brings the database to the newest layout. A database this binary is too old for is refused.
pub fn migrate(conn: &PgConn) -> Result<(), StoreError> {
    conn.batch("BEGIN")?;
    let result = upgrade(conn);
    conn.batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    result
}

fn upgrade(conn: &PgConn) -> Result<(), StoreError> {
    let db = Conn::from(conn);
    db.query_row(
        "SELECT pg_advisory_xact_lock(?)",
        &crate::params![LAYOUT_LOCK],
        |_| Ok(()),
    )?;
    conn.batch("CREATE TABLE IF NOT EXISTS layout (version BIGINT NOT NULL)")?;
    let version: i64 = db.one("SELECT COALESCE(MAX(version), 0) FROM layout", &[])?;
    let newest = STEPS.last().map_or(0, |s| s.0);
    if version > newest {
        return Err(StoreError(format!(
            "the database is of layout {version}, newer than this binary knows ({newest}); \
             run the newer binary"
        )));
    }
    for &(to, sql) in STEPS.iter().filter(|s| s.0 > version) {
        conn.batch(sql)
            .map_err(|e| StoreError(format!("upgrading the database to layout {to}: {}", e.0)))?;
        db.execute("DELETE FROM layout", &[])?;
        db.execute(
            "INSERT INTO layout (version) VALUES (?)",
            &crate::params![to],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::migrate;
    use crate::store::conn::Conn;
    use crate::store::postgres::connect;
    use hermod_console_tests::postgres::cluster;

    #[test]
    fn the_layout_is_made_once_and_replicas_starting_together_agree() {
        let url = cluster().database();
        let starts: Vec<_> = (0..3)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || migrate(&connect(&url)?))
            })
            .collect();
        for s in starts {
            s.join()
                .unwrap()
                .expect("every replica finds the layout made");
        }
        let conn = connect(&url).unwrap();
        let db = Conn::from(&conn);
        assert_eq!(
            db.one::<i64>("SELECT COUNT(*) FROM layout", &[]).unwrap(),
            1
        );
        // Names are one whatever their case, as in SQLite's COLLATE NOCASE.
        db.execute(
            "INSERT INTO templates (name, type, body, created_by, created_at, updated_at) \
             VALUES ('Ping', 'ping', '{}', 'a', 0, 0)",
            &[],
        )
        .unwrap();
        let found: i64 = db
            .one(
                "SELECT COUNT(*) FROM templates WHERE name = ?",
                &crate::params!["PING"],
            )
            .unwrap();
        assert_eq!(found, 1);
        // The audit log takes no update, and no delete without a cutoff.
        db.execute(
            "INSERT INTO audit (at, actor, actor_kind, source, action, outcome) \
             VALUES (0, 'a', 'user', 's', 'login', 'ok')",
            &[],
        )
        .unwrap();
        let refused = db.execute("DELETE FROM audit", &[]).unwrap_err();
        assert!(refused.0.contains("append-only"), "{}", refused.0);
        assert!(db.execute("UPDATE audit SET actor = 'b'", &[]).is_err());
        // A database of a later layout is refused, not changed.
        db.execute("UPDATE layout SET version = 99", &[]).unwrap();
        let newer = migrate(&conn).unwrap_err();
        assert!(newer.0.contains("layout 99"), "{}", newer.0);
    }
}
