//! Finds and decodes what is worth showing in Hermod bodies (requests, answers, callbacks, poll
//! answers): base64 data items, compact JWS, X.509 certificates, PKCS#10 requests and CMS/PKCS#7
//! SignedData, as base64, base64url or PEM. Signatures are checked where the material carries the
//! certificate to check them with (docs/hermod.md §2.4–2.9, §3.2, §7).
//!
//! Pure and synchronous (RSA verification takes a few milliseconds: async callers want
//! `spawn_blocking`). Bodies are untrusted: nothing here panics, recursion is capped, and material
//! that looks like material but does not parse is reported with the reason instead of dropped.
//!
//! Items come in document order as serde_json iterates it (object keys sorted, since the
//! workspace does not enable `preserve_order`); a JWS comes before what its payload holds.

mod asn1;
mod devices;
mod encoding;
mod image;
mod jws;
mod oid;
mod pkcs7;
mod search;
mod trust;
mod verify;
mod walk;
mod x509;

use hermod_shared::decoded::{Decoded, DecodedItem};
use serde_json::Value;

pub use devices::{device_keys, held};
pub use search::search_text;
pub use trust::TrustBundle;
use walk::{Place, Walker};
pub use x509::is_ca;

/// Nesting deeper than this is not looked into; a JWS payload counts as one more level.
const MAX_DEPTH: usize = 32;

/// Everything decodable found in a JSON body, in document order; signers' certificates are chained
/// to `trust` (without one, that check says it was not made).
pub fn decode_body(body: &Value, trust: Option<&TrustBundle>) -> Vec<DecodedItem> {
    verify::new_budget();
    let mut walker = Walker {
        trust,
        ..Walker::default()
    };
    walker.value(body, &Place::root(), 0);
    walker.items
}

/// Same for a raw text body: parses JSON first; a non-JSON body that is itself a JWS, base64 DER
/// or PEM is decoded as one item at pointer "".
pub fn decode_text(body: &str, trust: Option<&TrustBundle>) -> Vec<DecodedItem> {
    let json = serde_json::from_str::<Value>(body).ok();
    decode_parsed(json.as_ref(), body, trust)
}

/// [`decode_text`] of a body already parsed (`json`: None when it is not JSON), for a caller that
/// reads the JSON for more (the indexer: [`device_keys`]).
pub fn decode_parsed(
    json: Option<&Value>,
    body: &str,
    trust: Option<&TrustBundle>,
) -> Vec<DecodedItem> {
    match json {
        Some(json) => decode_body(json, trust),
        None => {
            verify::new_budget();
            let mut walker = Walker {
                trust,
                ..Walker::default()
            };
            walker.string(body, &Place::root(), 0);
            walker.items
        }
    }
}

fn unparsed(what: &str, reason: impl Into<String>) -> Decoded {
    Decoded::Unparsed {
        what: what.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests;
