//! A structural difference between two JSON documents: what was added, removed or changed, each at
//! its JSON pointer. Objects are compared key by key and lists item by item (an item inserted at the
//! front shows as every later item changed: Hermod's lists are short, and a positional answer is one
//! an operator can check by eye).

use hermod_shared::console::BodyChange;
use hermod_shared::hermod::push_pointer;
use serde_json::Value;

/// A value shown longer than this is cut, with an ellipsis.
const SHOWN: usize = 300;

/// How `b` differs from `a`: `a`'s keys in order (the keys only `b` has after them) and lists item by
/// item; at most `most` changes, and how many more there are.
pub fn diff(a: &Value, b: &Value, most: usize) -> (Vec<BodyChange>, u64) {
    let mut found = Found {
        changes: Vec::new(),
        most,
        more: 0,
    };
    walk(a, b, &mut String::new(), &mut found);
    (found.changes, found.more)
}

struct Found {
    changes: Vec<BodyChange>,
    most: usize,
    more: u64,
}

impl Found {
    fn push(&mut self, path: &str, change: &str, old: Option<&Value>, new: Option<&Value>) {
        if self.changes.len() == self.most {
            self.more += 1;
            return;
        }
        self.changes.push(BodyChange {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            change: change.into(),
            old: old.map(shown),
            new: new.map(shown),
        });
    }
}

fn walk(a: &Value, b: &Value, path: &mut String, found: &mut Found) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, old) in x {
                let at = path.len();
                push_pointer(path, key);
                match y.get(key) {
                    Some(new) => walk(old, new, path, found),
                    None => found.push(path, "removed", Some(old), None),
                }
                path.truncate(at);
            }
            for (key, new) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                let at = path.len();
                push_pointer(path, key);
                found.push(path, "added", None, Some(new));
                path.truncate(at);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let at = path.len();
                path.push_str(&format!("/{i}"));
                match (x.get(i), y.get(i)) {
                    (Some(old), Some(new)) => walk(old, new, path, found),
                    (Some(old), None) => found.push(path, "removed", Some(old), None),
                    (None, Some(new)) => found.push(path, "added", None, Some(new)),
                    (None, None) => {}
                }
                path.truncate(at);
            }
        }
        _ if a != b => found.push(path, "changed", Some(a), Some(b)),
        _ => {}
    }
}

/// Compact JSON, cut at a character boundary when long.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changes(a: Value, b: Value) -> Vec<(String, String, Option<String>, Option<String>)> {
        diff(&a, &b, 100)
            .0
            .into_iter()
            .map(|c| (c.path, c.change, c.old, c.new))
            .collect()
    }

    #[test]
    fn added_removed_and_changed_are_named_by_pointer() {
        let a = json!({"state": "IN_PROGRESS", "gone": 1, "list": [1, 2], "a/b": {"x~y": true}});
        let b =
            json!({"state": "COMPLETED", "list": [1, 3, 4], "a/b": {"x~y": false}, "new": [null]});
        let change = |path: &str, change: &str, old: Option<&str>, new: Option<&str>| {
            (
                path.into(),
                change.into(),
                old.map(Into::into),
                new.map(Into::into),
            )
        };
        assert_eq!(
            changes(a, b),
            [
                change("/a~1b/x~0y", "changed", Some("true"), Some("false")),
                change("/gone", "removed", Some("1"), None),
                change("/list/1", "changed", Some("2"), Some("3")),
                change("/list/2", "added", None, Some("4")),
                change(
                    "/state",
                    "changed",
                    Some("\"IN_PROGRESS\""),
                    Some("\"COMPLETED\"")
                ),
                change("/new", "added", None, Some("[null]")),
            ]
        );
    }

    #[test]
    fn equal_documents_differ_nowhere_and_different_kinds_at_the_root() {
        let doc = json!({"a": [1, {"b": "c"}]});
        assert!(changes(doc.clone(), doc).is_empty());
        assert_eq!(
            changes(json!("text"), json!({"a": 1})),
            [(
                "/".into(),
                "changed".into(),
                Some("\"text\"".into()),
                Some("{\"a\":1}".into())
            )]
        );
    }

    #[test]
    fn long_values_are_cut_and_changes_beyond_the_most_are_counted() {
        let long = "é".repeat(1000);
        let (listed, _) = diff(&json!({"x": long}), &json!({}), 10);
        let old = listed[0].old.clone().unwrap();
        assert_eq!(old.chars().count(), SHOWN + 1);
        assert!(old.ends_with('…'));
        let a = json!((0..30).collect::<Vec<_>>());
        let b = json!((100..130).collect::<Vec<_>>());
        let (listed, more) = diff(&a, &b, 10);
        assert_eq!((listed.len(), more), (10, 20));
    }
}
