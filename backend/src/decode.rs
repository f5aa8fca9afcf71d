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

mod jws;
mod pkcs7;
mod verify;
mod x509;

use std::borrow::Cow;
use std::collections::HashSet;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cms::content_info::ContentInfo;
use der::oid::db::rfc5911;
use der::{Decode, Encode};
use hermod_shared::decoded::{CertSummary, Decoded, DecodedItem, Verification};
use serde_json::{Map, Value};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::certificate::Certificate;
use x509_cert::request::CertReq;

/// Nesting deeper than this is not looked into; a JWS payload counts as one more level.
const MAX_DEPTH: usize = 32;
/// A body yielding more items than this is cut short: no page shows more usefully.
const MAX_ITEMS: usize = 256;
/// Shorter strings are ids, states, nonces; the smallest real material is hundreds of characters.
/// Data items are exempt: their kind is declared, not guessed.
const MIN_MATERIAL_LEN: usize = 16;
/// Under a material-sounding key, base64 that is not DER is reported from this length on.
const MIN_REPORTED_LEN: usize = 40;
/// Longer strings are not looked into (request bodies are capped far below this anyway).
const MAX_STRING_LEN: usize = 16 << 20;
/// How much of a text goes into the search text.
const MAX_SEARCH_TEXT: usize = 4096;
/// JWS payload strings longer than this are material or blobs, not words worth searching.
const MAX_SEARCH_WORD: usize = 256;

/// The searchable words of everything decodable in a body (JSON or not): certificate subjects and
/// serials, signers, decoded text. Empty when there is nothing. Checks signatures, so it takes
/// milliseconds for some bodies: the search indexer calls it, off the request path.
pub fn words(body: &str) -> String {
    search_text(&decode_text(body))
}

/// Everything decodable found in a JSON body, in document order.
pub fn decode_body(body: &Value) -> Vec<DecodedItem> {
    verify::new_budget();
    let mut walker = Walker::default();
    walker.value(body, &Place::root(), 0);
    walker.items
}

/// Same for a raw text body: parses JSON first; a non-JSON body that is itself a JWS, base64 DER
/// or PEM is decoded as one item at pointer "".
pub fn decode_text(body: &str) -> Vec<DecodedItem> {
    match serde_json::from_str::<Value>(body) {
        Ok(json) => decode_body(&json),
        Err(_) => {
            verify::new_budget();
            let mut walker = Walker::default();
            walker.string(body, &Place::root(), 0);
            walker.items
        }
    }
}

/// The searchable words of decoded items: subjects, issuers, serials, SANs, not_after,
/// fingerprints, signer names, decoded texts, JWS header kid/alg, payload strings… one string,
/// space separated, each piece once.
pub fn search_text(items: &[DecodedItem]) -> String {
    let mut words = Vec::new();
    for item in items {
        match &item.decoded {
            Decoded::Text { text, .. } => words.push(capped(text)),
            Decoded::Image { .. } | Decoded::Unparsed { .. } => {}
            Decoded::Jws {
                header,
                payload,
                verification,
                certificates,
                ..
            } => {
                for key in ["alg", "kid"] {
                    if let Some(value) = header.get(key).and_then(Value::as_str) {
                        words.push(value.to_string());
                    }
                }
                json_words(payload, &mut words, 0);
                if let Verification::Valid { by } = verification {
                    words.push(by.clone());
                }
                certificates.iter().for_each(|c| cert_words(c, &mut words));
            }
            Decoded::Certificate(cert) => cert_words(cert, &mut words),
            Decoded::CertRequest(csr) => {
                words.push(csr.subject.clone());
                words.extend(csr.sans.iter().cloned());
            }
            Decoded::Pkcs7(p7) => {
                words.extend(p7.content.as_deref().map(capped));
                for signer in &p7.signers {
                    words.push(signer.signer.clone());
                    words.extend(signer.signing_time.clone());
                }
                p7.certificates
                    .iter()
                    .for_each(|c| cert_words(c, &mut words));
            }
        }
    }
    let mut seen = HashSet::new();
    words
        .into_iter()
        .map(|w| w.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|w| !w.is_empty() && seen.insert(w.clone()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cert_words(cert: &CertSummary, words: &mut Vec<String>) {
    words.extend([
        cert.subject.clone(),
        cert.issuer.clone(),
        cert.serial.clone(),
        cert.not_after.clone(),
        cert.fingerprint_sha256.clone(),
    ]);
    words.extend(cert.sans.iter().cloned());
}

fn json_words(value: &Value, words: &mut Vec<String>, depth: usize) {
    match value {
        Value::String(s) if s.len() <= MAX_SEARCH_WORD => words.push(s.clone()),
        Value::Array(values) if depth < MAX_DEPTH => {
            values.iter().for_each(|v| json_words(v, words, depth + 1));
        }
        Value::Object(map) if depth < MAX_DEPTH => {
            map.values().for_each(|v| json_words(v, words, depth + 1));
        }
        _ => {}
    }
}

fn capped(text: &str) -> String {
    text.chars().take(MAX_SEARCH_TEXT).collect()
}

/// Where a value sits and what to call what is found there.
#[derive(Clone)]
struct Place {
    /// JSON pointer (RFC 6901).
    pointer: String,
    /// The label's first part: the key name (of the array, for its elements), with the sibling
    /// `keyid` when there is one: "certreq for key 'signer'".
    label: String,
    /// The key suggests material, so base64 that is not DER is worth a word.
    hint: bool,
}

impl Place {
    fn root() -> Place {
        Place {
            pointer: String::new(),
            label: "body".into(),
            hint: false,
        }
    }

    fn field(&self, key: &str, keyid: Option<&str>) -> Place {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        let lower = key.to_ascii_lowercase();
        Place {
            pointer: format!("{}/{escaped}", self.pointer),
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
struct Walker {
    items: Vec<DecodedItem>,
}

impl Walker {
    fn push(&mut self, pointer: String, label: String, decoded: Decoded) {
        if self.items.len() < MAX_ITEMS {
            self.items.push(DecodedItem {
                pointer,
                label,
                decoded,
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
            Decoded::Pkcs7(_) => Some("PKCS#7".into()),
            Decoded::Unparsed { what, .. } => Some(format!("unreadable {what}").into()),
        };
        let label = match kind {
            Some(kind) => format!("{} ({kind})", place.label),
            None => place.label.clone(),
        };
        self.push(place.pointer.clone(), label, decoded);
    }

    fn value(&mut self, value: &Value, place: &Place, depth: usize) {
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
            self.found(&place, decode_der(&bytes));
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

    fn string(&mut self, s: &str, place: &Place, depth: usize) {
        let s = s.trim();
        if s.len() < MIN_MATERIAL_LEN || s.len() > MAX_STRING_LEN {
            return;
        }
        if jws::looks_like(s) {
            return self.jws(s, place, depth);
        }
        if s.contains("-----BEGIN ") {
            for block in pem_blocks(s) {
                let decoded = match block {
                    Ok(der) => decode_der(&der),
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
                self.found(place, decode_der(&bytes));
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
        let jws = match jws::decode(token) {
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

fn unparsed(what: &str, reason: impl Into<String>) -> Decoded {
    Decoded::Unparsed {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// Standard or URL-safe alphabet (never mixed), padding optional, whitespace ignored.
fn base64_bytes(s: &str) -> Result<Vec<u8>, String> {
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if compact.contains(['-', '_']) {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine
        .decode(compact.as_bytes())
        .map_err(|e| format!("not valid base64 ({e})"))
}

/// The image types a browser shows from a data: URL, by magic number.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        Some("image/bmp")
    } else {
        None
    }
}

/// An image only when the bytes are the declared type (or any known type when none is declared),
/// so a mislabelled or hostile payload never reaches an <img>.
fn image(declared: &str, bytes: Vec<u8>) -> Decoded {
    let declared = match declared {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/x-bmp" | "image/x-ms-bmp" => "image/bmp",
        other => other,
    };
    match image_type(&bytes) {
        Some(actual) if declared.is_empty() || declared == actual => Decoded::Image {
            content_type: actual.to_string(),
            base64: STANDARD.encode(&bytes),
        },
        Some(actual) => unparsed(
            "image",
            format!("declared {declared} but the bytes are {actual}"),
        ),
        None => unparsed(
            "image",
            format!(
                "the {} bytes are not a PNG, JPEG, GIF, WebP or BMP image",
                bytes.len()
            ),
        ),
    }
}

/// The DER blocks of the PEM labels that carry certificates, requests and CMS.
fn pem_blocks(s: &str) -> Vec<Result<Vec<u8>, String>> {
    const LABELS: [&str; 6] = [
        "CERTIFICATE",
        "X509 CERTIFICATE",
        "CERTIFICATE REQUEST",
        "NEW CERTIFICATE REQUEST",
        "PKCS7",
        "CMS",
    ];
    const BEGIN: &str = "-----BEGIN ";
    let mut blocks = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_line = format!("-----END {label}-----");
        let wanted = LABELS.contains(&label);
        let Some(end) = body.find(&end_line) else {
            if wanted {
                blocks.push(Err(format!("no END line for the PEM {label}")));
            }
            break;
        };
        if wanted {
            // RFC 1421 headers ("Proc-Type: …") precede the base64.
            let base64: String = body[..end].lines().filter(|l| !l.contains(':')).collect();
            blocks.push(base64_bytes(&base64));
        }
        rest = &body[end + end_line.len()..];
    }
    blocks
}

/// What the start of some bytes says about them as DER.
#[derive(Debug, PartialEq, Eq)]
enum DerShape {
    NotDer,
    /// A SEQUENCE whose length is exactly the bytes.
    Complete,
    /// A SEQUENCE announcing more bytes than there are.
    Truncated {
        announced: usize,
    },
    /// A SEQUENCE followed by more bytes.
    Trailing {
        extra: usize,
    },
    /// BER's indefinite length, which DER forbids.
    Indefinite,
}

/// Only a long-form length (what every certificate, request and CMS message has) makes a
/// mismatched length "material that broke" rather than chance: 1 in 256 random byte strings
/// start with 0x30.
fn der_shape(bytes: &[u8]) -> DerShape {
    if bytes.first() != Some(&0x30) {
        return DerShape::NotDer;
    }
    if bytes.get(1) == Some(&0x80) {
        return DerShape::Indefinite;
    }
    let Some((header, length)) = tlv_header(bytes) else {
        return DerShape::NotDer;
    };
    let long_form = header > 2;
    let total = header.saturating_add(length);
    match total.cmp(&bytes.len()) {
        std::cmp::Ordering::Equal => DerShape::Complete,
        std::cmp::Ordering::Greater if long_form => DerShape::Truncated { announced: total },
        std::cmp::Ordering::Less if long_form => DerShape::Trailing {
            extra: bytes.len() - total,
        },
        _ => DerShape::NotDer,
    }
}

/// (header length, content length) of the DER element at the start of `bytes`: one-byte tag,
/// minimal definite length of up to 4 bytes.
fn tlv_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    let length_bytes = bytes.get(2..2 + n).filter(|b| (1..=4).contains(&b.len()))?;
    let length = length_bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    (length >= 0x80 && length_bytes[0] != 0).then_some((2 + n, length))
}

/// The first element inside the SEQUENCE at the start of `der`, as its bytes.
fn first_element(der: &[u8]) -> Option<&[u8]> {
    let (header, _) = tlv_header(der)?;
    let inner = der.get(header..)?;
    let (inner_header, inner_length) = tlv_header(inner)?;
    inner.get(..inner_header.checked_add(inner_length)?)
}

fn decode_der(bytes: &[u8]) -> Decoded {
    let reason = match der_shape(bytes) {
        DerShape::Complete => return parse_der(bytes),
        DerShape::Truncated { announced } => format!(
            "truncated: the DER header announces {announced} bytes, only {} are present",
            bytes.len()
        ),
        DerShape::Trailing { extra } => format!("{extra} stray bytes after the DER structure"),
        DerShape::Indefinite => "indefinite-length BER encoding, which is not decoded".into(),
        DerShape::NotDer => "not an ASN.1 SEQUENCE".into(),
    };
    unparsed("DER", reason)
}

/// A certificate, else a certificate request, else a CMS message; the errors of all three when
/// it is none, since which one was meant cannot be known.
fn parse_der(der: &[u8]) -> Decoded {
    let cert_error = match Certificate::from_der(der) {
        Ok(cert) => return Decoded::Certificate(x509::certificate(&cert, der)),
        Err(e) => e,
    };
    let csr_error = match CertReq::from_der(der) {
        Ok(req) => {
            let info = first_element(der)
                .map(Cow::Borrowed)
                .unwrap_or_else(|| Cow::Owned(req.info.to_der().unwrap_or_default()));
            return Decoded::CertRequest(x509::cert_request(&req, &info));
        }
        Err(e) => e,
    };
    let cms_error = match ContentInfo::from_der(der) {
        Ok(info) if info.content_type == rfc5911::ID_SIGNED_DATA => {
            return match pkcs7::signed_data(&info) {
                Ok(summary) => Decoded::Pkcs7(summary),
                Err(reason) => unparsed("PKCS#7", reason),
            };
        }
        Ok(info) => {
            let what = x509::oid_name(&info.content_type);
            return unparsed("CMS", format!("{what} content: only SignedData is decoded"));
        }
        Err(e) => e,
    };
    // A bare public key (the PIN reset's `transportedkey`) has no view of its own.
    if let Ok(spki) = SubjectPublicKeyInfoOwned::from_der(der) {
        let key = x509::key_info(&spki);
        let size = key.bits.map(|b| format!(" {b}-bit")).unwrap_or_default();
        return unparsed(
            "public key",
            format!(
                "a bare{size} {} public key (SubjectPublicKeyInfo)",
                key.algorithm
            ),
        );
    }
    unparsed(
        "DER",
        format!(
            "neither a certificate ({cert_error}), a certificate request ({csr_error}) \
             nor a CMS message ({cms_error})"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::verify::{EcdsaEncoding, Hash, Outcome, Scheme, verify};
    use super::*;
    use crate::simulator::material::{self, Identity};
    use hermod_shared::decoded::KeyInfo;
    use rand::SeedableRng as _;
    use rand::rngs::{StdRng, SysRng};
    use rsa::signature::Signer as _;
    use serde_json::json;
    use sha2::{Digest as _, Sha256};
    use spki::EncodePublicKey as _;

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

    /// A 1×1 grayscale PNG (signature, IHDR, zlib IDAT, IEND, with their CRCs).
    const PNG: [u8; 67] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a,
        0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0x0f, 0x00, 0x01, 0x01, 0x01, 0x00, 0xb1, 0x38, 0xf6, 0x14, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn sign_callback_pkcs7_is_decoded_and_verified() {
        let text = "Pay 100 EUR to ACME";
        let der = identity().pkcs7(text.as_bytes()).expect("pkcs7");
        let body = json!({"commandId": "1", "state": "COMPLETED", "response": b64(&der)});
        let items = decode_body(&body);
        let item = only(&items);
        assert_eq!(item.pointer, "/response");
        assert_eq!(item.label, "response (PKCS#7)");
        let Decoded::Pkcs7(p7) = &item.decoded else {
            panic!("{item:#?}")
        };
        assert_eq!(p7.content.as_deref(), Some(text));
        assert_eq!(p7.digest_algorithms, ["sha256"]);
        let [signer] = &p7.signers[..] else {
            panic!("one signer: {p7:#?}")
        };
        assert_eq!(signer.signer, DEVICE);
        assert_eq!(
            signer.verification,
            Verification::Valid { by: DEVICE.into() }
        );
        assert_eq!(signer.digest_algorithm, "sha256");
        assert_eq!(signer.signature_algorithm, "sha256WithRSAEncryption");
        assert!(
            signer
                .signing_time
                .as_deref()
                .is_some_and(|t| t.ends_with('Z'))
        );
        // CertificateSet is a DER SET OF: sorted by encoding, not in the order the signer listed.
        let mut subjects: Vec<_> = p7
            .certificates
            .iter()
            .map(|c| (c.subject.as_str(), c.is_ca))
            .collect();
        subjects.sort();
        assert_eq!(subjects, [(DEVICE, false), (CA, true)]);

        // The same message as PEM, and as a bare non-JSON body.
        assert_eq!(decode_text(&pem("PKCS7", &der))[0].decoded, item.decoded);
        assert_eq!(decode_text(&b64(&der))[0].decoded, item.decoded);

        // Content changed after signing: the message-digest attribute no longer matches.
        let mut tampered = der.clone();
        let at = der
            .windows(text.len())
            .position(|w| w == text.as_bytes())
            .unwrap();
        tampered[at] ^= 0x01;
        let items = decode_body(&json!({"response": b64(&tampered)}));
        let Decoded::Pkcs7(p7) = &only(&items).decoded else {
            panic!("{items:#?}")
        };
        assert!(
            matches!(&p7.signers[0].verification, Verification::Invalid { reason } if reason.contains("message-digest")),
            "{p7:#?}"
        );
    }

    #[test]
    fn authenticate_callback_jws_verifies_with_its_x5c() {
        let jws = identity().jws_rs256(b"challenge 0123456789").expect("jws");
        let body = json!({"commandId": "2", "state": "COMPLETED", "response": jws});
        let items = decode_body(&body);
        let item = only(&items);
        assert_eq!(
            (item.pointer.as_str(), item.label.as_str()),
            ("/response", "response (JWS)")
        );
        let Decoded::Jws {
            header,
            payload,
            payload_is_json,
            signature_b64url,
            verification,
            certificates,
        } = &item.decoded
        else {
            panic!("{item:#?}")
        };
        assert_eq!(header["alg"], "RS256");
        assert_eq!(payload, &json!("challenge 0123456789"));
        assert!(!payload_is_json);
        assert_eq!(Some(signature_b64url.as_str()), jws.rsplit('.').next());
        assert_eq!(*verification, Verification::Valid { by: DEVICE.into() });
        let [device, ca] = &certificates[..] else {
            panic!("two certificates: {certificates:#?}")
        };
        assert_eq!(
            (device.subject.as_str(), device.issuer.as_str()),
            (DEVICE, CA)
        );
        assert_eq!(
            device.key,
            KeyInfo {
                algorithm: "RSA".into(),
                bits: Some(2048),
                curve: None
            }
        );
        assert_eq!(device.signature_algorithm, "sha256WithRSAEncryption");
        assert!(ca.is_ca && !device.is_ca);
    }

    #[test]
    fn tampered_jws_is_invalid() {
        let jws = identity()
            .jws_rs256(br#"{"nonce":"n-8f1c","ok":true}"#)
            .expect("jws");
        let parts: Vec<&str> = jws.split('.').collect();
        let mut payload = parts[1].to_string();
        let middle = payload.len() / 2;
        let flipped = if &payload[middle..=middle] == "A" {
            "B"
        } else {
            "A"
        };
        payload.replace_range(middle..=middle, flipped);
        let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
        let items = decode_body(&json!({"response": tampered}));
        let Decoded::Jws { verification, .. } = &items[0].decoded else {
            panic!("{items:#?}")
        };
        assert!(
            matches!(verification, Verification::Invalid { .. }),
            "{verification:?}"
        );

        // A wrong key type for the alg is invalid too, an unverifiable alg only "not checked".
        let header = |alg: &str| {
            let header = json!({"alg": alg, "x5c": [b64(identity().device_cert_der())]});
            URL_SAFE_NO_PAD.encode(header.to_string())
        };
        let verification_of = |alg: &str| {
            let token = format!("{}.{}.{}", header(alg), parts[1], parts[2]);
            match decode_body(&json!(token)).remove(0).decoded {
                Decoded::Jws { verification, .. } => verification,
                other => panic!("{other:#?}"),
            }
        };
        assert!(
            matches!(verification_of("ES256"), Verification::Invalid { reason } if reason.contains("EC key"))
        );
        assert!(matches!(
            verification_of("HS256"),
            Verification::NotChecked { .. }
        ));
        assert!(matches!(
            verification_of("none"),
            Verification::NotChecked { .. }
        ));
    }

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn provision_callback_yields_the_jws_and_its_certificate_requests() {
        let subject = "jane.doe@example.com";
        let rsa = material::pkcs10("RSA", "2048", subject).expect("RSA request");
        let ec = material::pkcs10("EC", "256", subject).expect("EC request");
        // The payload the simulator's provision result carries (results.rs).
        let payload = json!({
            "nonce": "n-8f1c",
            "profileId": "0c5e9f1a-2b7d-4c1e-9a3f-5d6e7f809a1b",
            "certreqs": [
                {"keyid": "signer", "keytype": "RSA", "keylength": "2048", "certreq": b64(&rsa)},
                {"keyid": "auth", "keytype": "EC", "keylength": "256", "certreq": b64(&ec)},
            ],
        });
        let jws = identity()
            .jws_rs256(payload.to_string().as_bytes())
            .expect("jws");
        let items = decode_body(&json!({"commandId": "3", "state": "COMPLETED", "response": jws}));
        assert_eq!(items.len(), 3, "{items:#?}");
        let Decoded::Jws {
            payload: decoded_payload,
            payload_is_json: true,
            verification: Verification::Valid { by },
            ..
        } = &items[0].decoded
        else {
            panic!("{:#?}", items[0])
        };
        assert_eq!((decoded_payload, by.as_str()), (&payload, DEVICE));

        let expect = [
            ("signer", "RSA", Some(2048), None, "sha256WithRSAEncryption"),
            ("auth", "EC", Some(256), Some("P-256"), "ecdsa-with-SHA256"),
        ];
        for (i, (item, (keyid, algorithm, bits, curve, signature))) in
            items[1..].iter().zip(expect).enumerate()
        {
            assert_eq!(
                item.pointer,
                format!("/response#payload/certreqs/{i}/certreq")
            );
            assert_eq!(
                item.label,
                format!("certreq for key '{keyid}' (PKCS#10 request)")
            );
            let Decoded::CertRequest(csr) = &item.decoded else {
                panic!("{item:#?}")
            };
            assert_eq!(csr.subject, format!("CN={subject}"));
            assert_eq!(csr.key.algorithm, algorithm);
            assert_eq!((csr.key.bits, csr.key.curve.as_deref()), (bits, curve));
            assert_eq!(csr.signature_algorithm, signature);
            assert_eq!(csr.signature_valid, Some(true), "{csr:#?}");
        }

        // The simulator's result is the bare JWS string: the same items, from pointer "".
        let bare = decode_body(&json!(jws));
        let pointers: Vec<_> = bare.iter().map(|i| i.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "",
                "#payload/certreqs/0/certreq",
                "#payload/certreqs/1/certreq"
            ]
        );
        assert_eq!(decode_text(&jws), bare);

        // A request altered after signing no longer verifies.
        let mut altered = ec.clone();
        let at = ec.windows(4).position(|w| w == b"jane").unwrap();
        altered[at] = b'J';
        let items = decode_body(&json!({"certreq": b64(&altered)}));
        let Decoded::CertRequest(csr) = &only(&items).decoded else {
            panic!("{items:#?}")
        };
        assert_eq!(
            (csr.subject.as_str(), csr.signature_valid),
            ("CN=Jane.doe@example.com", Some(false))
        );
    }

    #[test]
    fn sign_request_data_items_are_text_and_references_are_skipped() {
        // docs/hermod.md §7.2/§7.3.
        let body = json!({
            "commandHeader": {"lifespan": 30, "timeout": 30, "to": ["@tmp"]},
            "signCommand": {"params": {
                "description": [
                    {"key": "requester", "description": "Signing request from",
                     "content_type": "text/plain", "content_encoding": "base64",
                     "data": b64("Example Bank"), "visible": true},
                    {"key": "auth_image", "description": "Verify that image is equal",
                     "content_type": "application/hermod+content-id", "data": "AUTH:4018-aaaa-bbbb-cccc",
                     "visible": true},
                ],
                "tbs": [
                    {"key": "tbs", "description": "Text to sign",
                     "content_type": "text/plain; charset=utf-8", "content_encoding": "base64",
                     "data": b64("Pay 100 EUR to ACME ✓"), "visible": true},
                ],
                "filter": {"op": "eq", "param": "key.type", "value": "RSA"},
                "format": "pkcs7",
                "mechanism": "CKM_SHA256_RSA_PKCS",
            }},
        });
        let items = decode_body(&body);
        let expected = [
            DecodedItem {
                pointer: "/signCommand/params/description/0/data".into(),
                label: "description data item 'requester'".into(),
                decoded: Decoded::Text {
                    content_type: "text/plain".into(),
                    text: "Example Bank".into(),
                },
            },
            DecodedItem {
                pointer: "/signCommand/params/tbs/0/data".into(),
                label: "tbs data item 'tbs'".into(),
                decoded: Decoded::Text {
                    content_type: "text/plain; charset=utf-8".into(),
                    text: "Pay 100 EUR to ACME ✓".into(),
                },
            },
        ];
        assert_eq!(items, expected);
        assert_eq!(search_text(&items), "Example Bank Pay 100 EUR to ACME ✓");

        // Data items decode even when short; a certificate sent as a data item is material.
        let cert_item = json!({"tbs": [{"key": "c", "content_type": "application/pkix-cert",
            "content_encoding": "base64", "data": b64(identity().ca_cert_der())}]});
        let items = decode_body(&cert_item);
        assert_eq!(only(&items).label, "tbs data item 'c' (X.509 certificate)");
        let json_item = json!({"tbs": [{"key": "j", "content_type": "application/json",
            "content_encoding": "base64", "data": b64("{}")}]});
        assert!(
            matches!(&only(&decode_body(&json_item)).decoded, Decoded::Text { text, .. } if text == "{}")
        );
    }

    #[test]
    fn image_items_need_the_declared_magic_number() {
        let item = |content_type: &str, data: &[u8]| {
            let body = json!({"description": [{"key": "logo", "content_type": content_type,
                "content_encoding": "base64", "data": b64(data)}]});
            decode_body(&body).remove(0)
        };
        let png = item("image/png", &PNG);
        assert_eq!(png.label, "description data item 'logo'");
        assert_eq!(
            png.decoded,
            Decoded::Image {
                content_type: "image/png".into(),
                base64: b64(PNG)
            }
        );
        let reason = unparsed_reason(&item("image/jpeg", &PNG), "image");
        assert!(reason.contains("image/png"), "{reason}");
        let reason = unparsed_reason(&item("image/png", b"<svg onload=alert(1)>"), "image");
        assert!(reason.contains("not a PNG"), "{reason}");

        // A visualData card front: base64 JPEG marked only by dataType.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        let card = json!({"profileCard": {"front": {"key": "front", "dataType": "IMAGE",
            "data": b64(jpeg), "textColor": "WHITE"}}});
        let items = decode_body(&card);
        assert_eq!(only(&items).pointer, "/profileCard/front/data");
        assert!(
            matches!(&items[0].decoded, Decoded::Image { content_type, .. } if content_type == "image/jpeg")
        );
    }

    #[test]
    fn broken_material_is_reported_with_a_reason() {
        let cert = b64(identity().device_cert_der());
        let truncated = &cert[..cert.len() / 8 * 4];
        let body = json!({"certificates": [{"keyid": "signer", "certificate": truncated}]});
        let items = decode_body(&body);
        let item = only(&items);
        assert_eq!(item.pointer, "/certificates/0/certificate");
        assert_eq!(item.label, "certificate for key 'signer' (unreadable DER)");
        assert!(unparsed_reason(item, "DER").contains("truncated"));

        // Cut mid-quantum it is not even base64; under a material key that is worth saying.
        let items = decode_body(&json!({"certificate": format!("{truncated}A")}));
        assert!(unparsed_reason(only(&items), "base64").contains("base64"));
        // Base64 that is not DER, under a material key.
        let items =
            decode_body(&json!({"signature": b64("this is certainly no signature at all")}));
        assert!(unparsed_reason(only(&items), "base64").contains("not DER"));
        // DER, but nothing this console knows: a SEQUENCE holding one long INTEGER.
        let mut odd = vec![0x30, 0x81, 0x83, 0x02, 0x81, 0x80];
        odd.extend([0x11; 128]);
        let reason = unparsed_reason(only(&decode_body(&json!({"x": b64(&odd)}))), "DER");
        assert!(reason.contains("certificate request"), "{reason}");
        // The PIN reset's transported key: a bare public key.
        let spki = material::transport_key_spki_der().expect("spki");
        let items = decode_body(&json!({"transportedkey": b64(spki)}));
        assert!(unparsed_reason(only(&items), "public key").contains("2048-bit RSA"));
        // A JWS shape whose header has no alg.
        let token = format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#));
        let reason = unparsed_reason(only(&decode_body(&json!({"response": token}))), "JWS");
        assert!(reason.contains("alg"), "{reason}");
        // PEM without its END line, and an x5c entry that is no certificate.
        let broken_pem = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n";
        assert_eq!(
            unparsed_reason(only(&decode_text(broken_pem)), "PEM"),
            "no END line for the PEM CERTIFICATE"
        );
        let header = json!({"alg": "RS256", "x5c": ["bm90IGEgY2VydA=="]});
        let token = format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(header.to_string()));
        let items = decode_body(&json!(token));
        assert_eq!(items.len(), 2, "{items:#?}");
        assert_eq!(items[1].pointer, "#header/x5c/0");
        assert!(matches!(
            &items[0].decoded,
            Decoded::Jws {
                verification: Verification::NotChecked { .. },
                ..
            }
        ));
        // A data item that does not decode.
        let bad = json!({"tbs": [{"key": "t", "content_type": "text/plain", "content_encoding": "base64", "data": "%%%"}]});
        unparsed_reason(only(&decode_body(&bad)), "base64 data item");
    }

    #[test]
    fn garbage_and_short_strings_yield_nothing() {
        let body = json!({
            "commandId": "1733838383838383",
            "state": "COMPLETED",
            "short": "MIIB",
            "profileId": "0c5e9f1a-2b7d-4c1e-9a3f-5d6e7f809a1b",
            "message": "The device declined the signing request.",
            "location": "https://hermod.example.com:20400/hermod/rest/ms/482ae2ba",
            "fqdn": "hermod.example.com.very.long.name",
            "nonce": b64("just some ordinary text, not material"),
            "hex": "deadbeefdeadbeefdeadbeefdeadbeef",
            "almostJws": "eyJhbGciOi",
            "numbers": [1, 2.5, -3],
            "flags": [true, false, null],
            "nested": {"deeper": [{"state": "EXPIRED"}]},
            "contentId": "PROV:0c5e9f1a-2b7d-4c1e-9a3f",
        });
        assert_eq!(decode_body(&body), []);
        assert_eq!(decode_text(&body.to_string()), []);
        assert_eq!(decode_text("plain text, not JSON and not material"), []);
        assert_eq!(decode_text(""), []);
        assert_eq!(search_text(&[]), "");
    }

    #[test]
    fn search_text_has_the_certificate_facts() {
        let der = identity().device_cert_der();
        let cert = Certificate::from_der(der).unwrap();
        let tbs = cert.tbs_certificate();
        let serial = tbs.serial_number().to_string().replace(':', "");
        let serial = serial.strip_prefix("00").unwrap_or(&serial).to_string();
        let not_after = tbs.validity().not_after.to_date_time().to_string();
        let fingerprint: String = Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();

        let items = decode_body(&json!({"certificate": b64(der)}));
        let Decoded::Certificate(summary) = &only(&items).decoded else {
            panic!("{items:#?}")
        };
        assert_eq!(summary.subject, DEVICE);
        assert_eq!(summary.serial, serial);
        assert_eq!(summary.not_after, not_after);
        assert_eq!(summary.fingerprint_sha256, fingerprint);
        let text = search_text(&items);
        for word in [DEVICE, CA, &serial, &not_after, &fingerprint] {
            assert!(text.contains(word), "{word} missing from {text}");
        }

        // A PEM chain is one item per certificate, each piece of text once.
        let chain = pem("CERTIFICATE", der) + &pem("CERTIFICATE", identity().ca_cert_der());
        let items = decode_text(&chain);
        assert_eq!(items.len(), 2);
        assert_eq!(search_text(&items).matches(CA).count(), 1);

        // JWS header and payload words, PKCS#7 content and signer.
        let jws = identity()
            .jws_rs256(
                json!({"nonce": "n-8f1c", "profileId": "p-42"})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap();
        let text = search_text(&decode_body(&json!({"response": jws})));
        for word in ["RS256", "n-8f1c", "p-42", DEVICE, &serial] {
            assert!(text.contains(word), "{word} missing from {text}");
        }
        let p7 = identity().pkcs7(b"Pay 100 EUR to ACME").unwrap();
        let text = search_text(&decode_body(&json!({"response": b64(p7)})));
        assert!(text.starts_with("Pay 100 EUR to ACME"), "{text}");
        assert!(text.contains(DEVICE), "{text}");
    }

    #[test]
    fn subject_alternative_names_are_summarised_and_searchable() {
        let hosts = ["console.example.com".to_string(), "10.1.2.3".to_string()];
        let pki = crate::simulator::material::dev_pki(&hosts).unwrap();
        let items = decode_text(&pki.server_cert);
        let Decoded::Certificate(summary) = &only(&items).decoded else {
            panic!("{items:#?}")
        };
        assert_eq!(
            summary.sans,
            ["DNS:console.example.com", "IP:10.1.2.3"],
            "{summary:#?}"
        );
        assert!(!summary.is_ca);
        assert_eq!(summary.key.algorithm, "EC");
        let text = search_text(&items);
        assert!(text.contains("console.example.com"), "{text}");
        // The CA: no SANs, marked as a CA.
        let items = decode_text(&pki.ca_cert);
        let Decoded::Certificate(ca) = &only(&items).decoded else {
            panic!("{items:#?}")
        };
        assert!(ca.sans.is_empty() && ca.is_ca, "{ca:#?}");
    }

    #[test]
    fn verifies_ecdsa_and_pss_signatures() {
        let mut rng = StdRng::try_from_rng(&mut SysRng).unwrap();
        let message = b"header.payload";
        let spki_of = |der: &[u8]| SubjectPublicKeyInfoOwned::from_der(der).unwrap();
        let check = |spki: &SubjectPublicKeyInfoOwned, scheme, signature: &[u8]| {
            (
                verify(spki, scheme, message, signature),
                verify(spki, scheme, b"header.tampered", signature),
            )
        };
        let valid = |(good, bad): (Outcome, Outcome)| {
            assert_eq!(good, Outcome::Valid);
            assert!(matches!(bad, Outcome::Invalid(_)), "{bad:?}");
        };

        use p256::elliptic_curve::Generate as _;
        let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let spki = spki_of(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let signature: p256::ecdsa::Signature = key.sign(message);
        valid(check(
            &spki,
            Scheme::from_jws("ES256").unwrap(),
            &signature.to_bytes(),
        ));
        let der_scheme = Scheme::Ecdsa(Hash::Sha256, EcdsaEncoding::Der);
        valid(check(&spki, der_scheme, signature.to_der().as_bytes()));

        let key = p384::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let spki384 = spki_of(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let signature: p384::ecdsa::Signature = key.sign(message);
        valid(check(
            &spki384,
            Scheme::from_jws("ES384").unwrap(),
            &signature.to_bytes(),
        ));

        let key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
        let spki_rsa = spki_of(key.to_public_key().to_public_key_der().unwrap().as_bytes());
        let signature = key.pss_sign::<Sha256>(message).unwrap();
        valid(check(
            &spki_rsa,
            Scheme::from_jws("PS256").unwrap(),
            &signature,
        ));
        assert!(matches!(
            verify(
                &spki_rsa,
                Scheme::from_jws("RS256").unwrap(),
                message,
                &signature
            ),
            Outcome::Invalid(_)
        ));
        // Key and algorithm of different families.
        assert!(matches!(
            verify(&spki, Scheme::from_jws("RS256").unwrap(), message, &signature),
            Outcome::Invalid(reason) if reason.contains("RSA key")
        ));
        for alg in ["HS256", "EdDSA", "none", "ES512"] {
            assert!(Scheme::from_jws(alg).is_err(), "{alg}");
        }
    }

    #[test]
    fn nesting_is_looked_into_up_to_the_cap() {
        let cert = json!(b64(identity().ca_cert_der()));
        let nested = |levels: usize| {
            (0..levels).fold(cert.clone(), |inner, i| {
                if i % 2 == 0 {
                    json!([inner])
                } else {
                    json!({"cert": inner})
                }
            })
        };
        assert_eq!(decode_body(&nested(MAX_DEPTH)).len(), 1);
        assert_eq!(decode_body(&nested(MAX_DEPTH + 1)), []);
        // serde_json's own recursion limit turns absurd text into "not JSON", which is no material.
        let deep = "[".repeat(100_000);
        assert_eq!(decode_text(&deep), []);
    }

    #[test]
    fn never_panics_on_hostile_input() {
        // xorshift: reproducible noise without a seeded RNG crate feature.
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut noise = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect()
        };
        let cert = identity().device_cert_der().to_vec();
        let p7 = identity().pkcs7(b"some content").unwrap();
        let jws = identity()
            .jws_rs256(br#"{"certreqs":[{"certreq":"MIIB"}]}"#)
            .unwrap();

        let mut strings: Vec<String> = vec![
            String::new(),
            "=".repeat(40),
            "-----BEGIN CERTIFICATE----------END CERTIFICATE-----".into(),
            "-----BEGIN PKCS7-----\n!!!\n-----END PKCS7-----".into(),
            "-----BEGIN ".repeat(10),
            "eyJ.eyJ.eyJ".repeat(3),
            "eyJhbGciOiJSUzI1NiJ9..".into(),
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","x5c":[1,null,{}]}"#),
                "e30"
            ),
            format!(
                "{}.{}.AA",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"ES384","x5c":"nope"}"#),
                "e30"
            ),
            format!(
                "{}..",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"PS512","x5c":[]}"#)
            ),
            "MIIB".repeat(100),
            "\u{feff}MIIC\u{0}\u{7f}ünïcödé".repeat(5),
        ];
        for len in [0, 1, 2, 3, 4, 5, 16, 100, 1000] {
            for prefix in [
                &[][..],
                &[0x30, 0x80],
                &[0x30, 0x82, 0x01, 0x00],
                &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
                &[0x30, 0x7f],
            ] {
                let mut bytes = prefix.to_vec();
                bytes.extend(noise(len));
                strings.push(b64(&bytes));
                strings.push(URL_SAFE_NO_PAD.encode(&bytes));
                strings.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        for der in [&cert, &p7] {
            let text = b64(der);
            strings.extend((0..text.len()).step_by(11).map(|n| text[..n].to_string()));
            for at in (0..der.len()).step_by(17) {
                let mut flipped = der.clone();
                flipped[at] ^= 0xff;
                strings.push(b64(&flipped));
            }
        }
        strings.extend((0..jws.len()).step_by(11).map(|n| jws[..n].to_string()));
        for at in (0..jws.len()).step_by(29) {
            let mut altered = jws.clone().into_bytes();
            altered[at] = if altered[at] == b'.' { b'x' } else { b'.' };
            strings.push(String::from_utf8(altered).unwrap());
        }

        for s in &strings {
            // Every path at once: a material key, data items of each kind, a visualData side.
            let body = json!({
                "response": s,
                "tbs": [
                    {"key": s, "content_type": "image/png", "content_encoding": "base64", "data": s},
                    {"content_type": s, "content_encoding": "BASE64", "data": s},
                    {"content_type": "application/x", "content_encoding": "base64", "data": s, "keyid": s},
                ],
                "front": {"dataType": "image", "data": s},
            });
            let _ = search_text(&decode_body(&body));
            let _ = search_text(&decode_text(s));
        }
        let odd = [
            json!(null),
            json!({}),
            json!([]),
            json!({"data": 5, "content_encoding": "base64"}),
            json!({"data": null, "dataType": "IMAGE"}),
            json!({"content_encoding": 7, "data": "x"}),
            json!({"": "", "~/": "~/"}),
        ];
        for body in &odd {
            let _ = search_text(&decode_body(body));
        }
        let many: Vec<Value> = (0..MAX_ITEMS + 10).map(|_| json!(b64(&cert))).collect();
        assert_eq!(decode_body(&Value::Array(many)).len(), MAX_ITEMS);
    }
}
