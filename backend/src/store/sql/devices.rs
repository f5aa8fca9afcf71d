//! Devices (README, "Devices"): the indexer notes the device keys each document names
//! (decode/devices.rs, indexer.rs `note_devices`); a device's commands are those with a document
//! that names it, its callbacks and polls matched to them included, so a callback matched after it
//! was indexed still counts.

use super::indexer::Doc;
use super::select::Sql;
use super::time;
use crate::decode;
use crate::params;
use crate::store::conn::{Conn, Row};
use crate::store::{DeviceFilter, StoreError};
use hermod_shared::console::ListPage;
use hermod_shared::decoded::DecodedItem;
use hermod_shared::devices::{DeviceDetail, DeviceRecord, HeldCertificate};
use std::collections::HashSet;

/// A device page gathers certificates from its newest commands, this many.
const CERTIFICATES_FROM: i64 = 50;

/// Forgets document `doc` (retention removed it), and each device only it named.
pub fn forget(conn: Conn<'_>, doc: i64) -> Result<(), StoreError> {
    let devices: Vec<i64> = conn.query(
        "DELETE FROM device_docs WHERE doc = ? RETURNING device",
        &params![doc],
        |r| r.get(0),
    )?;
    for device in devices {
        conn.execute(
            "DELETE FROM devices WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM device_docs WHERE device = ?1)",
            &params![device],
        )?;
    }
    Ok(())
}

/// ` AND <column> IN (the commands of device <key>)` when the filter is set.
pub fn and_commands_of(sql: &mut Sql, column: &str, key: &Option<String>) {
    if let Some(key) = key {
        sql.push(" AND ").push(column).push(" IN (");
        commands_of(sql, key);
        sql.push(")");
    }
}

/// ` AND` the callback `id` (matched to `command`) is one of device `<key>`'s when the filter is set:
/// a callback of its commands, or one that names it though it matched none.
pub fn and_callbacks_of(sql: &mut Sql, id: &str, command: &str, key: &Option<String>) {
    if let Some(key) = key {
        sql.push(" AND (").push(command).push(" IN (");
        commands_of(sql, key);
        sql.push(") OR ").push(id).push(" IN (");
        docs_of(sql, key, Doc::Callback);
        sql.push("))");
    }
}

/// The ids of the records of `kind` whose document names device `key`.
fn docs_of(sql: &mut Sql, key: &str, kind: Doc) {
    sql.push(
        "SELECT dd.doc / 4 FROM devices v JOIN device_docs dd ON dd.device = v.id WHERE v.key = ",
    )
    .bind(key.to_string())
    .push(&format!(" AND dd.doc % 4 = {}", kind as i64));
}

/// The ids of the commands whose request, callbacks or polls name device `key`.
fn commands_of(sql: &mut Sql, key: &str) {
    docs_of(sql, key, Doc::Request);
    for (kind, table) in [(Doc::Callback, "callbacks"), (Doc::Poll, "polls")] {
        sql.push(&format!(
            " UNION SELECT r.command FROM {table} r WHERE r.command IS NOT NULL AND r.id IN ("
        ));
        docs_of(sql, key, kind);
        sql.push(")");
    }
}

const COLUMNS: &str = "v.id, v.key, v.first_seen, v.last_seen";

/// A device as read, its commands not counted yet ([`counted`]).
fn record(r: &Row<'_>) -> Result<DeviceRecord, StoreError> {
    Ok(DeviceRecord {
        id: r.get(0)?,
        key: r.get(1)?,
        first_seen: time(r.get(2)?),
        last_seen: time(r.get(3)?),
        commands: 0,
    })
}

/// `device` with its commands counted.
fn counted(conn: Conn<'_>, mut device: DeviceRecord) -> Result<DeviceRecord, StoreError> {
    let mut count = Sql::new("SELECT COUNT(*) FROM (");
    commands_of(&mut count, &device.key);
    count.push(") AS of_device");
    device.commands = count.rows(conn, |r| r.get(0))?.pop().unwrap_or_default();
    Ok(device)
}

/// Devices, the newest first (by when they were first seen), those whose key holds `q` when set,
/// seen in the time window when one is set.
pub fn list(conn: Conn<'_>, f: &DeviceFilter) -> Result<ListPage<DeviceRecord>, StoreError> {
    let query = |select: &str| {
        let mut sql = Sql::new(format!("SELECT {select} FROM devices v WHERE 1 = 1"));
        sql.and_holding("v.key", &f.query.search())
            .and_window("v.last_seen", &f.query);
        sql
    };
    let mut page = query(COLUMNS).newest_first("v.id", &f.query).page(
        conn,
        f.query.page,
        Some(&query("1")),
        record,
        |d| d.id,
    )?;
    // Counted after the page's snapshot: a count may be a moment newer than its row.
    page.items = page
        .items
        .into_iter()
        .map(|d| counted(conn, d))
        .collect::<Result<_, _>>()?;
    Ok(page)
}

/// Device `key`, and the certificates its newest commands show it with, each once: the newest
/// sighting first.
pub fn detail(conn: Conn<'_>, key: &str) -> Result<Option<DeviceDetail>, StoreError> {
    conn.snapshot(|conn| {
        let mut one = Sql::new(format!("SELECT {COLUMNS} FROM devices v WHERE v.key = "));
        one.bind(key.to_string());
        let Some(device) = one.rows(conn, record)?.pop() else {
            return Ok(None);
        };
        let device = counted(conn, device)?;
        // Each document of those commands that something was decoded from, with its time.
        let mut docs = Sql::new("WITH mine AS (SELECT id FROM commands WHERE id IN (");
        commands_of(&mut docs, key);
        docs.push(") ORDER BY id DESC LIMIT ")
            .bind(CERTIFICATES_FROM)
            .push(
                ") SELECT d.items, c.created_at, c.id FROM mine \
                 JOIN commands c ON c.id = mine.id JOIN decoded d ON d.doc = c.id * 4 \
                 UNION ALL SELECT d.items, k.received_at, k.command FROM mine \
                 JOIN callbacks k ON k.command = mine.id JOIN decoded d ON d.doc = k.id * 4 + 1 \
                 UNION ALL SELECT d.items, p.at, p.command FROM mine \
                 JOIN polls p ON p.command = mine.id JOIN decoded d ON d.doc = p.id * 4 + 2",
            );
        let mut seen: Vec<(i64, i64, Vec<DecodedItem>)> = docs.rows(conn, |r| {
            let items: Option<String> = r.get(0)?;
            let items = match items {
                Some(json) => serde_json::from_str(&json)?,
                None => Vec::new(),
            };
            Ok((r.get(1)?, r.get(2)?, items))
        })?;
        seen.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let mut fingerprints = HashSet::new();
        let mut certificates = Vec::new();
        for (at, command, items) in seen {
            for cert in items.iter().flat_map(decode::held) {
                if fingerprints.insert(cert.fingerprint_sha256.clone()) {
                    certificates.push(HeldCertificate {
                        certificate: cert.clone(),
                        seen_at: time(at),
                        command,
                    });
                }
            }
        }
        Ok(Some(DeviceDetail {
            device,
            certificates,
        }))
    })
}

/// The devices command `id`'s documents name, by key.
pub fn of_command(conn: Conn<'_>, id: i64) -> Result<Vec<String>, StoreError> {
    conn.query(
        "SELECT v.key FROM devices v WHERE v.id IN ( \
           SELECT device FROM device_docs WHERE doc = ?1 * 4 \
           UNION SELECT dd.device FROM callbacks k JOIN device_docs dd ON dd.doc = k.id * 4 + 1 \
             WHERE k.command = ?1 \
           UNION SELECT dd.device FROM polls p JOIN device_docs dd ON dd.doc = p.id * 4 + 2 \
             WHERE p.command = ?1) \
         ORDER BY v.key",
        &params![id],
        |r| r.get(0),
    )
}
