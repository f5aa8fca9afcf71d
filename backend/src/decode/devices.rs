//! The devices a body names (README.md, "Devices"): a profile by its `to` destination or a
//! `profileid` key, a smart card by a `smartcardid` key (in any case, anywhere in the body or in a
//! JWS payload in it: Hermod's result shapes are not documented, docs/hermod.md §3.2, §6), and the
//! person or device a certificate was issued to by its subject, for every certificate that is not a
//! CA's. The indexer keeps them beside what it decoded.

use hermod_shared::decoded::{CertSummary, Decoded, DecodedItem};
use serde_json::Value;
use std::collections::BTreeSet;

/// A body names at most this many devices; the rest are not kept.
const MOST: usize = 16;
/// A name longer than this is no device's: it is not kept.
const LONGEST: usize = 200;

/// The device keys of a body (`json`: None when it is not JSON) and of what was decoded from it,
/// sorted.
pub fn device_keys(json: Option<&Value>, items: &[DecodedItem]) -> Vec<String> {
    let mut keys = BTreeSet::new();
    if let Some(json) = json {
        let to = json.pointer("/commandHeader/to").and_then(Value::as_array);
        for name in to.into_iter().flatten().filter_map(Value::as_str) {
            // `@tmp` and its like ask Hermod for a new mailbox: no device yet.
            if !name.starts_with('@') {
                add(&mut keys, "profile", name);
            }
        }
        named(json, &mut keys, 0);
    }
    for item in items {
        if let Decoded::Jws { payload, .. } = &item.decoded {
            named(payload, &mut keys, 0);
        }
        for cert in held(item) {
            add(&mut keys, "subject", &cert.subject);
        }
    }
    keys.into_iter().take(MOST).collect()
}

/// The certificates `item` holds that are not a CA's: those a device was issued.
pub fn held(item: &DecodedItem) -> impl Iterator<Item = &CertSummary> {
    let certs: &[CertSummary] = match &item.decoded {
        Decoded::Certificate(cert) => std::slice::from_ref(cert),
        Decoded::Pkcs7(p7) => &p7.certificates,
        Decoded::Jws { certificates, .. } => certificates,
        _ => &[],
    };
    certs.iter().filter(|c| !c.is_ca)
}

/// Keys called `profileid` or `smartcardid`, in any case, anywhere under `v`.
fn named(v: &Value, keys: &mut BTreeSet<String>, depth: usize) {
    if depth > super::MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                let kind = if key.eq_ignore_ascii_case("profileid") {
                    Some("profile")
                } else if key.eq_ignore_ascii_case("smartcardid") {
                    Some("card")
                } else {
                    None
                };
                match (kind, value) {
                    (Some(kind), Value::String(s)) => add(keys, kind, s),
                    (Some(kind), Value::Number(n)) => add(keys, kind, &n.to_string()),
                    _ => named(value, keys, depth + 1),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| named(i, keys, depth + 1)),
        _ => {}
    }
}

fn add(keys: &mut BTreeSet<String>, kind: &str, name: &str) {
    let name = name.trim();
    if !name.is_empty() && name.chars().count() <= LONGEST {
        keys.insert(format!("{kind}:{name}"));
    }
}
