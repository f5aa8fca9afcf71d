//! The words the search index gets from decoded items. Apart from the decoders: it reads only
//! their summaries, never the material.

use std::collections::HashSet;

use hermod_shared::decoded::{CertSummary, Decoded, DecodedItem};
use serde_json::Value;

use super::MAX_DEPTH;

/// How much of a text goes into the search text.
const MAX_SEARCH_TEXT: usize = 4096;
/// JWS payload strings longer than this are material or blobs, not words worth searching.
const MAX_SEARCH_WORD: usize = 256;

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
                certificates,
                ..
            } => {
                for key in ["alg", "kid"] {
                    if let Some(value) = header.get(key).and_then(Value::as_str) {
                        words.push(value.to_string());
                    }
                }
                json_words(payload, &mut words, 0);
                // The signer is the first certificate's subject: among these.
                certificates.iter().for_each(|c| cert_words(c, &mut words));
            }
            Decoded::Certificate(cert) => cert_words(cert, &mut words),
            Decoded::PublicKey(key) => words.push(key.algorithm.clone()),
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
