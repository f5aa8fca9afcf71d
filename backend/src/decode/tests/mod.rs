//! The decoder's tests, through its public face: whole bodies in, items out. The helpers are
//! here; the tests sit by what they exercise.

mod bodies;
mod material;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hermod_shared::decoded::{Decoded, DecodedItem};

use hermod_simulator::material::Identity;

const DEVICE: &str = "CN=Hermod Simulator Device, O=Hermod Console";
const CA: &str = "CN=Hermod Simulator Test CA";

fn identity() -> &'static Identity {
    Identity::shared().expect("test PKI")
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
