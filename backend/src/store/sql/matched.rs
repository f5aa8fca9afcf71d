//! Where a search found its text in each record of a page (`matched`; docs/ARCHITECTURE.md,
//! "Search"): worked out for the page's rows only, after the search, never while storing. Each
//! place is one of the texts the search confirms a record against (find.rs), named: a field, a JSON
//! pointer into a body, a decoded item's label, a callback or poll of a command. A place is a name,
//! never a value, and the bodies it points into are those the store keeps, which hold no secret
//! (invariant 1).

use super::find;
use super::indexer::Doc;
use super::select::Sql;
use crate::decode::search_text;
use crate::store::StoreError;
use crate::store::conn::Conn;
use hermod_shared::console::{AuditRecord, CallbackRecord, CommandRecord, MOST_MATCHED};
use hermod_shared::decoded::DecodedItem;
use hermod_shared::hermod::push_pointer;
use serde_json::Value;
use std::collections::HashMap;

/// Places `q` (lower case, as [`crate::store::Query::search`] gives it) is found at in one record, in
/// any case, as the search's confirmation finds it: at most [`MOST_MATCHED`], each once.
struct Places<'q> {
    q: &'q str,
    found: Vec<String>,
}

impl<'q> Places<'q> {
    fn new(q: &'q str) -> Places<'q> {
        Places {
            q,
            found: Vec::new(),
        }
    }

    fn holds(&self, text: &str) -> bool {
        text.to_lowercase().contains(self.q)
    }

    fn full(&self) -> bool {
        self.found.len() >= MOST_MATCHED
    }

    fn add(&mut self, place: String) {
        if !self.full() && !self.found.contains(&place) {
            self.found.push(place);
        }
    }

    /// `place`, when `text` holds `q`.
    fn field(&mut self, place: &str, text: Option<&str>) {
        if text.is_some_and(|t| self.holds(t)) {
            self.add(place.to_string());
        }
    }

    /// Body `name` (`text`, and `json` when it is JSON): `name` and the pointer of each key or value
    /// holding `q`; `name` alone when only what lies between them does (punctuation, an escape, a
    /// piece across two), or the body is not JSON.
    fn body(&mut self, name: &str, json: Option<&Value>, text: &str) {
        if !self.holds(text) {
            return;
        }
        let before = self.found.len();
        if let Some(json) = json {
            self.json(name, json, &mut String::new());
        }
        if self.found.len() == before {
            self.add(name.to_string());
        }
    }

    fn json(&mut self, name: &str, value: &Value, pointer: &mut String) {
        let at = pointer.len();
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if self.full() {
                        break;
                    }
                    push_pointer(pointer, key);
                    if self.holds(key) {
                        self.add(format!("{name} {pointer}"));
                    } else {
                        self.json(name, value, pointer);
                    }
                    pointer.truncate(at);
                }
            }
            Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    if self.full() {
                        break;
                    }
                    push_pointer(pointer, &i.to_string());
                    self.json(name, value, pointer);
                    pointer.truncate(at);
                }
            }
            Value::String(s) if self.holds(s) => self.add(format!("{name} {pointer}")),
            Value::String(_) => {}
            other if self.holds(&other.to_string()) => self.add(format!("{name} {pointer}")),
            _ => {}
        }
    }

    /// What was decoded of one document, when its words hold `q`: each item whose own words do, by
    /// its label; "decoded" when the text runs across two items' words.
    fn decoded(&mut self, items: Option<&Vec<DecodedItem>>) {
        let Some(items) = items else {
            return;
        };
        let before = self.found.len();
        for item in items {
            if self.holds(&search_text(std::slice::from_ref(item))) {
                self.add(format!("decoded: {}", item.label));
            }
        }
        if self.found.len() == before {
            self.add("decoded".to_string());
        }
    }
}

/// The items decoded of those of `docs` whose words hold `q`, by document.
fn decoded(
    conn: Conn<'_>,
    q: &str,
    docs: &[i64],
) -> Result<HashMap<i64, Vec<DecodedItem>>, StoreError> {
    let mut sql = Sql::new("SELECT doc, items FROM decoded WHERE ");
    sql.any_holds(q, &["words"]).and_in("doc", docs);
    let rows: Vec<(i64, Option<String>)> = sql.rows(conn, |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.into_iter()
        .map(|(doc, items)| {
            let items = match items {
                Some(json) => serde_json::from_str(&json)?,
                None => Vec::new(),
            };
            Ok((doc, items))
        })
        .collect()
}

/// A page of commands found by `q`: where in each, its own texts first, then its callbacks' and
/// polls' (find.rs, `COMMAND`, `CALLBACK`, `POLL`).
pub fn commands(conn: Conn<'_>, q: &str, page: &mut [CommandRecord]) -> Result<(), StoreError> {
    if page.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
    let docs: Vec<i64> = ids
        .iter()
        .flat_map(|&id| [Doc::Request.key(id), Doc::Answer.key(id)])
        .collect();
    let decoded = decoded(conn, q, &docs)?;
    let mut around: HashMap<i64, Vec<String>> = HashMap::new();
    for (command, kind, id) in find::around(conn, q, &ids)? {
        let what = if kind == Doc::Callback as i64 {
            "callback"
        } else {
            "poll"
        };
        around
            .entry(command)
            .or_default()
            .push(format!("{what} #{id}"));
    }
    for c in page {
        let mut places = Places::new(q);
        places.field("commandId", c.command_id.as_deref());
        places.field("externalId", c.external_id.as_deref());
        places.field("created by", c.created_by.as_deref());
        places.body("request", Some(&c.request), &c.request.to_string());
        places.decoded(decoded.get(&Doc::Request.key(c.id)));
        if let Some(answer) = &c.answer {
            let body = answer.body.as_deref().unwrap_or_default();
            let json = serde_json::from_str::<Value>(body).ok();
            places.body("answer", json.as_ref(), body);
            places.field("answer error", answer.error.as_deref());
        }
        places.decoded(decoded.get(&Doc::Answer.key(c.id)));
        for place in around.remove(&c.id).into_iter().flatten() {
            places.add(place);
        }
        c.matched = places.found;
    }
    Ok(())
}

/// A page of callbacks found by `q`: where in each (find.rs, `CALLBACK`).
pub fn callbacks(conn: Conn<'_>, q: &str, page: &mut [CallbackRecord]) -> Result<(), StoreError> {
    if page.is_empty() {
        return Ok(());
    }
    let docs: Vec<i64> = page.iter().map(|c| Doc::Callback.key(c.id)).collect();
    let decoded = decoded(conn, q, &docs)?;
    for c in page {
        let mut places = Places::new(q);
        places.field("commandId", c.command_id.as_deref());
        places.field("externalId", c.external_id.as_deref());
        let json = serde_json::from_str::<Value>(&c.body).ok();
        places.body("body", json.as_ref(), &c.body);
        places.decoded(decoded.get(&Doc::Callback.key(c.id)));
        c.matched = places.found;
    }
    Ok(())
}

/// A page of the audit log found by `q`: which of the columns audit.rs searches hold it.
pub fn audit(q: &str, page: &mut [AuditRecord]) {
    for a in page {
        let mut places = Places::new(q);
        places.field("actor", Some(&a.actor));
        places.field("action", Some(&a.action));
        places.field("target", a.target.as_deref());
        places.field("source", Some(&a.source));
        places.body("detail", Some(&a.detail), &a.detail.to_string());
        a.matched = places.found;
    }
}

#[cfg(test)]
mod tests {
    use super::Places;
    use serde_json::json;

    fn places(q: &str, body: &str) -> Vec<String> {
        let mut places = Places::new(q);
        let json = serde_json::from_str(body).ok();
        places.body("body", json.as_ref(), body);
        places.found
    }

    #[test]
    fn a_body_names_the_keys_and_values_that_hold_the_text_in_any_case() {
        let body = json!({
            "commandHeader": {"externalId": "Order-17"},
            "tbs": [{"data": "x"}, {"data": "ORDER-17", "a/b": 17}],
            "order": true,
        })
        .to_string();
        assert_eq!(
            places("order-17", &body),
            ["body /commandHeader/externalId", "body /tbs/1/data"]
        );
        // A key holding it names itself, not what is under it; a number is read as written.
        assert_eq!(
            places("order", &body)[..2],
            ["body /commandHeader/externalId", "body /order"]
        );
        assert_eq!(places("17", &body)[1], "body /tbs/1/a~1b");
        // Only the punctuation between two holds it, or it is not JSON: the body alone.
        assert_eq!(places("\":{\"ext", &body), ["body"]);
        assert_eq!(places("ok", "not json, ok"), ["body"]);
        assert!(places("absent", &body).is_empty());
    }

    #[test]
    fn a_record_names_at_most_five_places_each_once() {
        let body = json!({"a": "zz", "b": "zz", "c": "zz", "d": "zz", "e": "zz", "f": "zz"});
        let mut places = Places::new("zz");
        places.field("externalId", Some("ZZ"));
        places.field("externalId", Some("zz"));
        places.body("body", Some(&body), &body.to_string());
        assert_eq!(
            places.found,
            ["externalId", "body /a", "body /b", "body /c", "body /d"]
        );
    }
}
