//! The decoder's tests, through its public face: whole bodies in, items out. The helpers are
//! here; the tests sit by what they exercise.

mod bodies;
mod material;
mod trust;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hermod_shared::decoded::{Check, Decoded, DecodedItem};
use serde_json::Value;

use hermod_simulator::material::Identity;

const DEVICE: &str = "CN=Hermod Simulator Device, O=Hermod Console";
const CA: &str = "CN=Hermod Simulator Test CA";

fn identity() -> &'static Identity {
    Identity::shared().expect("test PKI")
}

/// Decoded as the indexer stores a body: chained to no trust bundle.
fn decode_body(body: &Value) -> Vec<DecodedItem> {
    crate::decode::decode_body(body, None)
}

fn decode_text(body: &str) -> Vec<DecodedItem> {
    crate::decode::decode_text(body, None)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The check called `name` of a signature, which must have made it.
pub(super) fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    Check::named(checks, name).unwrap_or_else(|| panic!("no {name} check in {checks:#?}"))
}

fn only(items: &[DecodedItem]) -> &DecodedItem {
    assert_eq!(items.len(), 1, "{items:#?}");
    &items[0]
}

fn unparsed_reason(item: &DecodedItem, expected_what: &str) -> String {
    match &item.decoded {
        Decoded::Unparsed { what, reason } if what == expected_what => reason.clone(),
        other => panic!("expected unreadable {expected_what}, got {other:#?}"),
    }
}
