//! The walk through a body: where each value sits, what to call it, and which decoder gets it.
//! Apart from the decoders, which see a string or bytes and never the JSON around them.

use std::borrow::Cow;

use hermod_shared::decoded::{Decoded, DecodedItem};
use hermod_shared::hermod::push_pointer;
use serde_json::{Map, Value};

use super::asn1::{DerShape, decode_der, der_shape};
use super::encoding::{base64_bytes, pem_blocks};
use super::image::image;
use super::trust::TrustBundle;
use super::{MAX_DEPTH, jws, unparsed};

/// A body yielding more items than this is cut short: no page shows more usefully.
pub(super) const MAX_ITEMS: usize = 256;
/// Shorter strings are ids, states, nonces; the smallest real material is hundreds of characters.
/// Data items are exempt: their kind is declared, not guessed.
const MIN_MATERIAL_LEN: usize = 16;
/// Under a material-sounding key, base64 that is not DER is reported from this length on.
const MIN_REPORTED_LEN: usize = 40;
/// Longer strings are not looked into (request bodies are capped far below this anyway).
const MAX_STRING_LEN: usize = 16 << 20;

/// Where a value sits and what to call what is found there.
#[derive(Clone)]
pub(super) struct Place {
    /// JSON pointer (RFC 6901).
    pointer: String,
    /// The label's first part: the key name (of the array, for its elements), with the sibling
    /// `keyid` when there is one: "certreq for key 'signer'".
    label: String,
    /// The key suggests material, so base64 that is not DER is worth a word.
    hint: bool,
}

impl Place {
    pub(super) fn root() -> Place {
        Place {
            pointer: String::new(),
            label: "body".into(),
            hint: false,
        }
    }

    fn field(&self, key: &str, keyid: Option<&str>) -> Place {
        let mut pointer = self.pointer.clone();
        push_pointer(&mut pointer, key);
        let lower = key.to_ascii_lowercase();
        Place {
            pointer,
            label: match keyid {
                Some(id) => format!("{key} for key '{id}'"),
                None => key.to_string(),
            },
            hint: ["cert", "response", "signature", "x5c"]
                .iter()
                .any(|k| lower.contains(k)),
        }
    }

    fn index(&self, i: usize) -> Place {
        Place {
            pointer: format!("{}/{i}", self.pointer),
            ..self.clone()
        }
    }
}

#[derive(Default)]
pub(super) struct Walker<'t> {
    pub(super) items: Vec<DecodedItem>,
    /// What the signer certificates found are chained to.
    pub(super) trust: Option<&'t TrustBundle>,
}

impl Walker<'_> {
    fn push(&mut self, pointer: String, label: String, decoded: Decoded) {
        if self.items.len() < MAX_ITEMS {
            self.items.push(DecodedItem {
                pointer,
                label,
                decoded,
                raw: None,
            });
        }
    }

    /// Material is labelled with its kind; a data item's text or image by the item alone.
    fn found(&mut self, place: &Place, decoded: Decoded) {
        let kind = match &decoded {
            Decoded::Text { .. } | Decoded::Image { .. } => None,
            Decoded::Jws { .. } => Some(Cow::Borrowed("JWS")),
            Decoded::Certificate(_) => Some("X.509 certificate".into()),
            Decoded::CertRequest(_) => Some("PKCS#10 request".into()),
            Decoded::PublicKey(_) => Some("public key".into()),
            Decoded::Pkcs7(_) => Some("PKCS#7".into()),
            Decoded::Unparsed { what, .. } => Some(format!("unreadable {what}").into()),
        };
        let label = match kind {
            Some(kind) => format!("{} ({kind})", place.label),
            None => place.label.clone(),
        };
        self.push(place.pointer.clone(), label, decoded);
    }

    pub(super) fn value(&mut self, value: &Value, place: &Place, depth: usize) {
        if depth > MAX_DEPTH || self.items.len() >= MAX_ITEMS {
            return;
        }
        match value {
            Value::String(s) => self.string(s, place, depth),
            Value::Array(values) => {
                for (i, v) in values.iter().enumerate() {
                    self.value(v, &place.index(i), depth + 1);
                }
            }
            Value::Object(map) => self.object(map, place, depth),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn object(&mut self, map: &Map<String, Value>, place: &Place, depth: usize) {
        let keyid = map.get("keyid").and_then(Value::as_str);
        let data_item = is_data_item(map);
        for (key, value) in map {
            let child = place.field(key, keyid);
            match (key.as_str(), value) {
                ("data", Value::String(data)) if data_item => {
                    self.data_item(map, data, place, child.pointer, depth);
                }
                _ => self.value(value, &child, depth + 1),
            }
        }
    }

    /// A data item (docs/hermod.md §2.6) whose `data` is base64: its declared type says how to show
    /// it. `list` is where the item sits (the array's name labels it: "tbs data item 'tbs'").
    fn data_item(
        &mut self,
        map: &Map<String, Value>,
        data: &str,
        list: &Place,
        pointer: String,
        depth: usize,
    ) {
        let content_type = map
            .get("content_type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let label = match map.get("key").and_then(Value::as_str) {
            Some(key) => format!("{} data item '{key}'", list.label),
            None => format!("{} data item", list.label),
        };
        let place = Place {
            pointer,
            label,
            hint: false,
        };
        let bytes = match base64_bytes(data) {
            Ok(bytes) => bytes,
            Err(reason) => return self.found(&place, unparsed("base64 data item", reason)),
        };
        if essence.starts_with("text/") {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let content_type = content_type.to_string();
            self.found(&place, Decoded::Text { content_type, text });
        } else if essence.starts_with("image/") || is_visual_image(map) {
            self.found(&place, image(&essence, bytes));
        } else if der_shape(&bytes) != DerShape::NotDer {
            self.found(&place, decode_der(&bytes, self.trust));
        } else if let Ok(text) = String::from_utf8(bytes) {
            // JSON, XML, a JWS or PEM sent as application/*: material inside, else the text.
            let before = self.items.len();
            self.string(&text, &place, depth);
            if self.items.len() == before {
                let content_type = if content_type.is_empty() {
                    "text/plain".to_string()
                } else {
                    content_type.to_string()
                };
                self.found(&place, Decoded::Text { content_type, text });
            }
        } else {
            let what = if content_type.is_empty() {
                "data item"
            } else {
                content_type
            };
            self.found(
                &place,
                unparsed(
                    what,
                    "binary data: only text, images and PKI material are decoded",
                ),
            );
        }
    }

    pub(super) fn string(&mut self, s: &str, place: &Place, depth: usize) {
        let s = s.trim();
        let before = self.items.len();
        self.material(s, place, depth);
        // Inside a JWS's payload the body does not hold the value as such: its items keep it.
        if place.pointer.contains('#') {
            for item in &mut self.items[before..] {
                if item.pointer == place.pointer {
                    item.raw = Some(s.to_string());
                }
            }
        }
    }

    fn material(&mut self, s: &str, place: &Place, depth: usize) {
        if s.len() < MIN_MATERIAL_LEN || s.len() > MAX_STRING_LEN {
            return;
        }
        if jws::looks_like(s) {
            return self.jws(s, place, depth);
        }
        if s.contains("-----BEGIN ") {
            for block in pem_blocks(s) {
                let decoded = match block {
                    Ok(der) => decode_der(&der, self.trust),
                    Err(reason) => unparsed("PEM", reason),
                };
                self.found(place, decoded);
            }
            return;
        }
        // Line breaks are tolerated (wrapped base64), other whitespace means prose.
        let base64_shaped = s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=' | b'\r' | b'\n')
        });
        if !base64_shaped {
            return;
        }
        let report = place.hint && s.len() >= MIN_REPORTED_LEN;
        match base64_bytes(s) {
            Ok(bytes) if der_shape(&bytes) != DerShape::NotDer => {
                self.found(place, decode_der(&bytes, self.trust));
            }
            // Long base64 that is not DER could be anything; only a material key makes it news.
            Ok(bytes) if report => self.found(
                place,
                unparsed("base64", format!("{} bytes that are not DER", bytes.len())),
            ),
            Err(reason) if report => self.found(place, unparsed("base64", reason)),
            _ => {}
        }
    }

    fn jws(&mut self, token: &str, place: &Place, depth: usize) {
        let jws = match jws::decode(token, self.trust) {
            Ok(jws) => jws,
            Err(reason) => return self.found(place, unparsed("JWS", reason)),
        };
        self.found(place, jws.decoded);
        for (i, reason) in jws.bad_certificates {
            self.push(
                format!("{}#header/x5c/{i}", place.pointer),
                format!("x5c[{i}] of {} (unreadable certificate)", place.label),
                unparsed("certificate", reason),
            );
        }
        if let Some(payload) = jws.payload_json {
            let inner = Place {
                pointer: format!("{}#payload", place.pointer),
                label: "payload".into(),
                hint: false,
            };
            self.value(&payload, &inner, depth + 1);
        }
    }
}

/// A base64 data item (`content_encoding: "base64"`, not a content-provider reference) or a
/// visualData card side (`dataType: "IMAGE"`, base64 without saying so).
fn is_data_item(map: &Map<String, Value>) -> bool {
    let field = |name: &str| map.get(name).and_then(Value::as_str).map(str::trim);
    let base64 = field("content_encoding").is_some_and(|e| e.eq_ignore_ascii_case("base64"));
    let reference = field("content_type")
        .is_some_and(|t| t.eq_ignore_ascii_case("application/hermod+content-id"));
    (base64 && !reference) || is_visual_image(map)
}

fn is_visual_image(map: &Map<String, Value>) -> bool {
    map.get("dataType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("IMAGE"))
}
