//! Leases on work a timer repeats, so that of several replicas one does it at a time: two replicas
//! polling Hermod for the same overdue command, or marking it overdue twice, would each be wrong. A
//! lease is a row, taken when it is free or run out and renewed by its holder each round; a replica
//! that dies stops renewing, and another takes the job once the lease runs out. (A session's
//! advisory lock would free the job sooner, but holds a connection per job for the replica's life.)

use crate::store::StoreError;
use crate::store::conn::Conn;

/// Takes or renews `job`'s lease for `holder` until `until` (ms); whether `holder` has it.
pub fn take(
    conn: Conn<'_>,
    job: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, StoreError> {
    let held = conn.query_row(
        "INSERT INTO leases (job, holder, until) VALUES (?1, ?2, ?4) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE leases.holder = excluded.holder OR leases.until < ?3 RETURNING holder",
        &crate::params![job, holder, now, until],
        |_| Ok(()),
    )?;
    Ok(held.is_some())
}

#[cfg(test)]
mod tests {
    use super::take;
    use crate::store::conn::Conn;
    use crate::store::postgres::{connect, schema};
    use hermod_console_tests::postgres::cluster;

    #[test]
    fn one_replica_holds_a_job_until_its_lease_runs_out() {
        let conn = connect(&cluster().database()).unwrap();
        schema::migrate(&conn).unwrap();
        let db = Conn::from(&conn);
        assert!(take(db, "retention", "a", 0, 100).unwrap());
        assert!(!take(db, "retention", "b", 50, 150).unwrap(), "a holds it");
        assert!(
            take(db, "overdue", "b", 50, 150).unwrap(),
            "another job is free"
        );
        assert!(
            take(db, "retention", "a", 90, 190).unwrap(),
            "its holder renews it"
        );
        assert!(
            !take(db, "retention", "b", 150, 250).unwrap(),
            "renewed, still a's"
        );
        assert!(
            take(db, "retention", "b", 191, 291).unwrap(),
            "run out: b takes it"
        );
        assert!(
            !take(db, "retention", "a", 200, 300).unwrap(),
            "and a no longer has it"
        );
    }
}
