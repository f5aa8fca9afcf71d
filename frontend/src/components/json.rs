//! Reading the console API's JSON by the fields a view shows. Records the page only shows (decoded
//! material, devices, users and tokens) are read this way rather than typed: a typed reader costs
//! the wasm more than the view that uses it (docs/ARCHITECTURE.md, "The page's size").

use serde_json::Value;

/// The string, or nothing when it is not one.
pub fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// An array's strings.
pub fn texts(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// An array's items (none when it is not one), owned, for views that outlive the answer.
pub fn array(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}
