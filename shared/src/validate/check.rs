//! The check: walks a body along the tables and names every rule it breaks. Apart from the
//! tables, which the form also renders without checking anything.

use serde_json::{Map, Value};

use super::base64::base64_decode;
use super::body::fields;
use super::field::{Field, Kind, Need};
use crate::hermod::{CommandType, FieldError, MAX_SECONDS};

/// Every rule `body` breaks, in the tables' order, each naming its field by JSON pointer. Fields the
/// tables do not know are not looked at.
pub fn check(ty: CommandType, body: &Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    match body.as_object() {
        Some(map) => object(map, fields(ty), "", &mut found),
        None => found.push(FieldError::new(
            "",
            "the command body must be a JSON object",
        )),
    }
    found
}

fn object(map: &Map<String, Value>, fields: &[Field], at: &str, found: &mut Vec<FieldError>) {
    let present = |key: &str| map.get(key).is_some_and(|v| !v.is_null());
    let alternatives: Vec<&str> = fields
        .iter()
        .filter(|f| f.need == Need::Either)
        .map(|f| f.key)
        .collect();
    if !alternatives.is_empty() && !alternatives.iter().any(|k| present(k)) {
        found.push(FieldError::new(
            at,
            format!("{} is required", or_list(&alternatives)),
        ));
    }
    for f in fields {
        let ptr = format!("{at}/{}", f.key);
        match map.get(f.key).filter(|v| !v.is_null()) {
            Some(v) => value(v, f, map, &ptr, found),
            None if f.need == Need::Required => {
                found.push(FieldError::new(ptr, format!("{} is required", f.key)));
            }
            None => {}
        }
    }
}

/// `a, b or c`.
fn or_list(keys: &[&str]) -> String {
    match keys.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn value(
    v: &Value,
    f: &Field,
    siblings: &Map<String, Value>,
    ptr: &str,
    found: &mut Vec<FieldError>,
) {
    let text = v.as_str();
    let problem: Option<String> = match f.kind {
        Kind::Text | Kind::Suggest(_) => text.is_none().then(|| "must be text".into()),
        Kind::Choice(options) => match text {
            Some(s) if options.contains(&s) => None,
            _ => Some(format!("must be one of {}", options.join(", "))),
        },
        Kind::Seconds => match v.as_u64() {
            Some(0) => Some("must be positive".into()),
            Some(s) if s > MAX_SECONDS => Some(format!("at most {MAX_SECONDS} (366 days)")),
            Some(_) => None,
            None => Some("must be a whole number of seconds".into()),
        },
        Kind::Digits => match text {
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => None,
            _ => Some("must be a number written as a string, like \"2048\"".into()),
        },
        Kind::Base64 => match text {
            Some(s) if base64_decode(s).is_some() => None,
            _ => Some("must be base64".into()),
        },
        // PEM is only recognised here: the console reads its blocks and parses what they hold
        // before sending (backend/src/pem.rs), which the bundle is spared.
        Kind::Der(_) => match text {
            Some(s) if base64_decode(s).is_some() || s.contains("-----BEGIN") => None,
            _ => Some("must be base64 DER or PEM".into()),
        },
        Kind::Hex(n) => match text {
            Some(s) if s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit()) => None,
            _ => Some(format!("must be {n} hex digits")),
        },
        Kind::Flag => (!v.is_boolean()).then(|| "must be true or false".into()),
        Kind::Data => match text {
            None => Some("must be text".into()),
            Some(s)
                if siblings.get("content_encoding").and_then(Value::as_str) == Some("base64")
                    && base64_decode(s).is_none() =>
            {
                Some("content_encoding is base64 but data is not".into())
            }
            Some(_) => None,
        },
        Kind::Strings(_) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        found.push(FieldError::new(format!("{ptr}/{i}"), "must be text"));
                    }
                }
                None
            }
            None => Some("must be a list".into()),
        },
        Kind::Object(fields) => match v.as_object() {
            Some(map) => {
                object(map, fields, ptr, found);
                None
            }
            None => Some("must be an object".into()),
        },
        Kind::List(fields) => match v.as_array() {
            Some(items) if items.is_empty() && f.need == Need::Required => {
                Some(format!("at least one {} entry is required", f.key))
            }
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{ptr}/{i}");
                    match item.as_object() {
                        Some(map) => object(map, fields, &at, found),
                        None => found.push(FieldError::new(at, "must be an object")),
                    }
                }
                None
            }
            None => Some("must be a list".into()),
        },
    };
    if let Some(message) = problem {
        found.push(FieldError::new(ptr, message));
    }
}
