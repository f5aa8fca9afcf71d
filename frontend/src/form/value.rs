//! Edits of one JSON value at a JSON pointer: what every field of the form does to the body. The
//! pointers come from the field tables, whose keys need no escaping, and from list indices.

use serde_json::{Map, Value};

/// What an input shows: a string as it is, other JSON as JSON text, nothing as nothing.
pub fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The value at `ptr`, made on the way where missing: a missing or non-container step becomes an
/// object (the operator is filling in a field inside it). `None` for a list index out of range.
fn slot<'a>(doc: &'a mut Value, ptr: &str) -> Option<&'a mut Value> {
    let mut cur = doc;
    for step in ptr.split('/').skip(1) {
        cur = match cur {
            Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?)?,
            other => {
                if !other.is_object() {
                    *other = Value::Object(Map::new());
                }
                other.as_object_mut()?.entry(step).or_insert(Value::Null)
            }
        };
    }
    Some(cur)
}

/// One edit of the body, at a JSON pointer.
pub enum Change<'a> {
    /// Sets the value; `None` takes the key out of its object (or the item out of its list).
    Put(&'a str, Option<Value>),
    /// Appends an item to the list, which is made when missing.
    Push(&'a str, Value),
    /// Swaps items `i` and `i + 1` of the list.
    SwapDown(&'a str, usize),
}

pub fn apply(doc: &mut Value, change: Change) {
    match change {
        Change::Put(ptr, value) => put(doc, ptr, value),
        Change::Push(ptr, item) => push(doc, ptr, item),
        Change::SwapDown(ptr, i) => swap_down(doc, ptr, i),
    }
}

/// Sets the value at `ptr`; `None` takes the key out of its object (or the item out of its list).
fn put(doc: &mut Value, ptr: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            if let Some(place) = slot(doc, ptr) {
                *place = v;
            }
        }
        None => {
            let Some((parent, last)) = ptr.rsplit_once('/') else {
                return;
            };
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(last);
                }
                Some(Value::Array(items)) => {
                    if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Appends `item` to the list at `ptr`, which is made when missing or not a list.
fn push(doc: &mut Value, ptr: &str, item: Value) {
    if let Some(place) = slot(doc, ptr) {
        match place {
            Value::Array(items) => items.push(item),
            other => *other = Value::Array(vec![item]),
        }
    }
}

/// Swaps items `i` and `i + 1` of the list at `ptr`.
fn swap_down(doc: &mut Value, ptr: &str, i: usize) {
    if let Some(Value::Array(items)) = doc.pointer_mut(ptr)
        && i + 1 < items.len()
    {
        items.swap(i, i + 1);
    }
}

/// How many items the list at `ptr` holds (0 when it is missing or not a list).
pub fn len_at(doc: &Value, ptr: &str) -> usize {
    doc.pointer(ptr)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// Whether something (not null) is at `ptr`.
pub fn has(doc: &Value, ptr: &str) -> bool {
    doc.pointer(ptr).is_some_and(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_makes_missing_objects_and_keeps_everything_else() {
        let mut doc = json!({"mine": 1, "signCommand": {"params": {"tbs": [{"x": true}]}}});
        put(&mut doc, "/commandHeader/lifespan", Some(json!(30)));
        put(
            &mut doc,
            "/signCommand/params/tbs/0/data",
            Some(json!("QQ==")),
        );
        put(
            &mut doc,
            "/signCommand/params/tbs/3/data",
            Some(json!("lost")),
        );
        assert_eq!(
            doc,
            json!({"mine": 1, "commandHeader": {"lifespan": 30},
                   "signCommand": {"params": {"tbs": [{"x": true, "data": "QQ=="}]}}})
        );
        put(&mut doc, "/signCommand/params/tbs/0/x", None);
        put(&mut doc, "/commandHeader/nothing", None);
        assert_eq!(text_of(doc.pointer("/signCommand/params/tbs/0/x")), "");
        assert_eq!(text_of(doc.pointer("/commandHeader/lifespan")), "30");
        assert_eq!(doc["mine"], 1);
    }

    #[test]
    fn lists_grow_shrink_and_reorder() {
        let mut doc = json!({"a": {"to": "@tmp"}});
        push(&mut doc, "/a/to", json!("x"));
        push(&mut doc, "/a/to", json!("y"));
        push(&mut doc, "/b/list", json!({}));
        assert_eq!(doc, json!({"a": {"to": ["x", "y"]}, "b": {"list": [{}]}}));
        swap_down(&mut doc, "/a/to", 0);
        swap_down(&mut doc, "/a/to", 1);
        assert_eq!(doc["a"]["to"], json!(["y", "x"]));
        put(&mut doc, "/a/to/0", None);
        assert_eq!(doc["a"]["to"], json!(["x"]));
        assert_eq!(len_at(&doc, "/a/to"), 1);
        assert_eq!(len_at(&doc, "/a"), 0);
        assert!(has(&doc, "/b/list/0") && !has(&doc, "/b/list/1"));
    }
}
