//! The search indexer. Indexing a body (and decoding it: signatures are checked) costs far more than
//! storing it, so it is not done while a callback waits for its acknowledgement. This task finds what
//! is not indexed yet (requests, callbacks and polls past the id indexed up to; answers queued by key
//! in `unindexed`) and indexes it in small batches when the writer has nothing else to do. Where it
//! stands is kept in the database, in the same transaction as what it indexed, so whatever a crash or
//! a restart interrupted is indexed after the next start; nothing is left unindexed.

use super::readers::Readers;
use super::writer::{Batch, Writer};
use crate::clock::now_ms;
use crate::decode;
use crate::params;
use crate::store::StoreError;
use crate::store::conn::Conn;
use crate::store::search::document;
use hermod_shared::console::HermodReply;
use hermod_shared::decoded::DecodedItem;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// Documents per write: small, so a request that comes in meanwhile waits little for the writer.
const PER_BATCH: usize = 32;
/// The writer counts as busy for this long after it committed requests' writes…
const BUSY_FOR_MS: i64 = 5;
/// …but the indexer waits at most this long for a pause before it takes a batch anyway, so search
/// never falls behind for good under a constant load.
const MOST_DEFERRED: Duration = Duration::from_secs(2);

/// What a search document is: the part of the key below the record's id (`id * 4 + kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Request = 0,
    Callback = 1,
    Poll = 2,
    Answer = 3,
}

impl Doc {
    pub fn key(self, id: i64) -> i64 {
        id * 4 + self as i64
    }
}

/// How far indexing has come.
#[derive(Clone)]
pub struct Handle {
    /// Documents indexed since start.
    indexed: watch::Receiver<u64>,
}

impl Handle {
    /// Waits up to `wait` until `target` documents (counted like the writer's `docs_queued`) are
    /// indexed; how many are still not.
    pub async fn caught_up(&self, target: u64, wait: Duration) -> u64 {
        let mut indexed = self.indexed.clone();
        let _ = tokio::time::timeout(wait, indexed.wait_for(|n| *n >= target)).await;
        let done = *indexed.borrow();
        target.saturating_sub(done)
    }
}

/// Starts indexing what is queued, now and whenever the writer queues more.
pub fn start(writer: &Writer, readers: Readers) -> Result<Handle, StoreError> {
    let (indexed_tx, indexed) = watch::channel(0u64);
    let writer = writer.clone();
    let mut queued = writer.progress.docs.subscribe();
    tokio::spawn(async move {
        let mut done = 0u64;
        loop {
            // Decoding takes CPU from the requests too: it waits for the same pause as the write.
            wait_for_a_pause(&writer).await;
            let docs = match readers.scan(|c| next_documents(c, PER_BATCH)).await {
                Ok(docs) => docs,
                Err(e) => {
                    tracing::error!(error = %e, "search indexer: cannot read the queue");
                    Vec::new()
                }
            };
            if docs.is_empty() {
                if queued.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let n = docs.len() as u64;
            match writer
                .write_in_background(move |b| write_documents(b, &docs))
                .await
            {
                Ok(()) => {
                    done += n;
                    indexed_tx.send_replace(done);
                }
                // The store is closing: what is left stays queued for the next start.
                Err(_) if writer.stopped() => return,
                Err(e) => {
                    tracing::error!(error = %e, "search indexer: cannot write; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(Handle { indexed })
}

/// Waits until the writer has had no requests' writes for a moment (or for [`MOST_DEFERRED`]).
pub async fn wait_for_a_pause(writer: &Writer) {
    let deadline = tokio::time::Instant::now() + MOST_DEFERRED;
    while now_ms() - writer.progress.last_foreground.load(Ordering::Relaxed) < BUSY_FOR_MS
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A queued document, ready to be written: its key, its text, what was decoded from it (as the
/// JSON a command's page gets; None when nothing was), the searchable words of that, and the devices
/// it names with its time.
pub(super) struct Indexed {
    doc: i64,
    text: Option<String>,
    items: Option<String>,
    words: String,
    devices: Vec<String>,
    at: i64,
}

/// The tables whose rows are indexed in id order, by kind.
const IN_ID_ORDER: [(Doc, &str); 3] = [
    (Doc::Request, "commands"),
    (Doc::Callback, "callbacks"),
    (Doc::Poll, "polls"),
];

/// Documents not indexed yet, counted.
pub fn waiting(conn: Conn<'_>) -> Result<u64, StoreError> {
    let mut n: i64 = conn.one("SELECT COUNT(*) FROM unindexed", &[])?;
    for (kind, table) in IN_ID_ORDER {
        n += conn.one::<i64>(
            &format!(
                "SELECT COUNT(*) FROM {table} WHERE id > \
                 (SELECT upto FROM indexed WHERE kind = ?)"
            ),
            &params![kind as i64],
        )?;
    }
    Ok(n as u64)
}

/// Up to `n` documents not indexed yet, decoded and turned into text (`text` None: the record is
/// gone): queued answers first, then the oldest of each kind kept in id order.
pub(super) fn next_documents(conn: Conn<'_>, n: usize) -> Result<Vec<Indexed>, StoreError> {
    let mut keys: Vec<i64> = conn.query(
        "SELECT doc FROM unindexed ORDER BY doc LIMIT ?",
        &params![n],
        |r| r.get(0),
    )?;
    for (kind, table) in IN_ID_ORDER {
        let room = n.saturating_sub(keys.len());
        let ids: Vec<i64> = conn.query(
            &format!(
                "SELECT id FROM {table} WHERE id > (SELECT upto FROM indexed WHERE kind = ?) \
                 ORDER BY id LIMIT ?"
            ),
            &params![kind as i64, room],
            |r| r.get(0),
        )?;
        keys.extend(ids.into_iter().map(|id| kind.key(id)));
    }
    Ok(keys
        .into_iter()
        .map(|doc| {
            let found = source(conn, doc).unwrap_or_else(|e| {
                // One unreadable record must not hold up the queue behind it.
                tracing::warn!(doc, error = %e, "search indexer: record left unindexed");
                None
            });
            let Some((parts, body, at)) = found else {
                return Indexed {
                    doc,
                    text: None,
                    items: None,
                    words: String::new(),
                    devices: Vec::new(),
                    at: 0,
                };
            };
            let body = body.unwrap_or_default();
            // Parsed once, for the decoder and the devices both.
            let json = serde_json::from_str::<Value>(&body).ok();
            // Chained to no trust bundle: a client that has one gets its steps decoded again
            // when they are shown (routes/commands.rs, `with_decoded`).
            let items = decode::decode_parsed(json.as_ref(), &body, None);
            let words = decode::search_text(&items);
            // An answer names what its request did: only the request counts.
            let devices = if doc & 3 == Doc::Answer as i64 {
                Vec::new()
            } else {
                decode::device_keys(json.as_ref(), &items)
            };
            Indexed {
                doc,
                text: Some(document(parts.iter().map(String::as_str), &words)),
                items: (!items.is_empty())
                    .then(|| serde_json::to_string(&items).expect("decoded items serialize")),
                words,
                devices,
                at,
            }
        })
        .collect())
}

/// The searchable parts of a document, the body to decode, and when it was stored.
type Source = (Vec<String>, Option<String>, i64);
/// A text column, two optional ones, and a time.
type Columns = (String, Option<String>, Option<String>, i64);

fn source(conn: Conn<'_>, doc: i64) -> Result<Option<Source>, StoreError> {
    let id = doc >> 2;
    let one = |sql: &str| -> Result<Option<Columns>, StoreError> {
        conn.query_row(sql, &params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
    };
    let reply = |text: &str| -> Result<(Vec<String>, Option<String>), StoreError> {
        let reply: HermodReply = serde_json::from_str(text)?;
        let parts = [reply.body.clone(), reply.error].into_iter().flatten();
        Ok((parts.collect(), reply.body))
    };
    Ok(match doc & 3 {
        0 => one("SELECT request, external_id, created_by, created_at FROM commands WHERE id = ?")?
            .map(|(request, external_id, created_by, at)| {
                let parts = [Some(request.clone()), external_id, created_by];
                (parts.into_iter().flatten().collect(), Some(request), at)
            }),
        1 => one("SELECT body, command_id, external_id, received_at FROM callbacks WHERE id = ?")?
            .map(|(body, command_id, external_id, at)| {
                let parts = [Some(body.clone()), command_id, external_id];
                (parts.into_iter().flatten().collect(), Some(body), at)
            }),
        2 => match one("SELECT reply, NULL, NULL, at FROM polls WHERE id = ?")? {
            Some((text, _, _, at)) => {
                let (parts, body) = reply(&text)?;
                Some((parts, body, at))
            }
            None => None,
        },
        _ => match one("SELECT answer, command_id, NULL, updated_at FROM commands WHERE id = ?")? {
            Some((text, command_id, _, at)) => {
                let (mut parts, body) = reply(&text)?;
                parts.extend(command_id);
                Some((parts, body, at))
            }
            None => None,
        },
    })
}

pub(super) fn write_documents(b: &mut Batch<'_>, docs: &[Indexed]) -> Result<(), StoreError> {
    let conn = b.db();
    // SQLite's FTS5 table takes no upsert, and keys a document by its rowid.
    let search = match conn {
        Conn::Sqlite(_) => "INSERT OR REPLACE INTO search (rowid, text) VALUES (?, ?)",
        Conn::Postgres(_) => {
            "INSERT INTO search (doc, text) VALUES (?, ?) \
             ON CONFLICT (doc) DO UPDATE SET text = excluded.text"
        }
    };
    for d in docs {
        if let Some(text) = &d.text {
            conn.execute(search, &params![d.doc, text])?;
        }
        if let Some(items) = &d.items {
            conn.execute(
                "INSERT INTO decoded (doc, words, items) VALUES (?, ?, ?) \
                 ON CONFLICT (doc) DO UPDATE SET words = excluded.words, items = excluded.items",
                &params![d.doc, &d.words, items],
            )?;
        }
        note_devices(conn, d.doc, &d.devices, d.at)?;
        if d.doc & 3 == Doc::Answer as i64 {
            conn.execute("DELETE FROM unindexed WHERE doc = ?", &params![d.doc])?;
        } else {
            conn.execute(
                "UPDATE indexed SET upto = CASE WHEN upto > ?1 THEN upto ELSE ?1 END \
                 WHERE kind = ?2",
                &params![d.doc >> 2, d.doc & 3],
            )?;
        }
    }
    Ok(())
}

/// Notes that document `doc`, stored at `at`, names the devices `keys`.
fn note_devices(conn: Conn<'_>, doc: i64, keys: &[String], at: i64) -> Result<(), StoreError> {
    for key in keys {
        let device: i64 = conn.one(
            "INSERT INTO devices (key, first_seen, last_seen) VALUES (?1, ?2, ?2) \
             ON CONFLICT (key) DO UPDATE SET \
             first_seen = CASE WHEN devices.first_seen < ?2 THEN devices.first_seen ELSE ?2 END, \
             last_seen = CASE WHEN devices.last_seen > ?2 THEN devices.last_seen ELSE ?2 END \
             RETURNING id",
            &params![key, at],
        )?;
        conn.execute(
            "INSERT INTO device_docs (device, doc) VALUES (?, ?) ON CONFLICT DO NOTHING",
            &params![device, doc],
        )?;
    }
    Ok(())
}

/// What was decoded of document `doc` when it was indexed (empty when nothing was found); None when
/// the indexer has not reached it yet.
pub fn decoded(conn: Conn<'_>, doc: i64) -> Result<Option<Vec<DecodedItem>>, StoreError> {
    let reached: bool = conn.one(
        // Else PostgreSQL would type the key by the `3` it is masked with: a 32-bit INTEGER.
        "SELECT CASE WHEN CAST(?1 AS BIGINT) & 3 = 3 \
             THEN NOT EXISTS (SELECT 1 FROM unindexed WHERE doc = ?1) \
             ELSE CAST(?1 AS BIGINT) >> 2 <= \
             (SELECT upto FROM indexed WHERE kind = CAST(?1 AS BIGINT) & 3) END",
        &params![doc],
    )?;
    if !reached {
        return Ok(None);
    }
    let items: Option<String> = conn
        .query_row(
            "SELECT items FROM decoded WHERE doc = ?",
            &params![doc],
            |r| r.get(0),
        )?
        .flatten();
    Ok(Some(match items {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    }))
}
