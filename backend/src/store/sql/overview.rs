//! The Overview (README.md, "The console": Overview): the commands created in a window, counted per type, client
//! and state, with the time each took to its first callback. One pass over the window's commands
//! (`commands_by_created`), each first callback found through `callbacks_by_command`; the
//! percentiles are taken here, since the two engines have no percentile function in common.

use super::time;
use crate::params;
use crate::store::StoreError;
use crate::store::conn::Conn;
use hermod_shared::overview::{Overview, OverviewRow};
use std::collections::BTreeMap;

/// One type and client's commands: how many are in each state, and each one's wait for its first
/// callback (ms).
type Group = (BTreeMap<String, u64>, Vec<u64>);

pub fn overview(conn: Conn<'_>, since: i64, until: i64) -> Result<Overview, StoreError> {
    let commands = conn.query(
        "SELECT c.type, c.client, c.state, \
         (SELECT MIN(k.received_at) FROM callbacks k WHERE k.command = c.id) - c.created_at \
         FROM commands c WHERE c.created_at >= ?1 AND c.created_at < ?2",
        &params![since, until],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<Option<i64>>(3)?,
            ))
        },
    )?;
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for (kind, client, state, waited) in commands {
        let (states, waits) = groups.entry((kind, client)).or_default();
        *states.entry(state).or_default() += 1;
        // A clock set back between send and callback must not make a negative wait.
        waits.extend(waited.map(|ms| ms.max(0) as u64));
    }
    let rows = groups
        .into_iter()
        .map(|((command_type, client), (states, mut waits))| {
            waits.sort_unstable();
            OverviewRow {
                command_type,
                client,
                total: states.values().sum(),
                states,
                called_back: waits.len() as u64,
                callback_p50_ms: percentile(&waits, 50),
                callback_p95_ms: percentile(&waits, 95),
            }
        })
        .collect();
    Ok(Overview {
        since: time(since),
        until: time(until),
        rows,
    })
}

/// The nearest-rank percentile `p` of `sorted`: the smallest value at least `p` % of them reach.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 95), Some(95));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 95), Some(4));
    }
}
