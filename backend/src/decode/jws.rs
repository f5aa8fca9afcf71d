//! Compact JWS (RFC 7515): header and payload decoded, the signature checked with the key of the
//! first certificate of the `x5c` chain the header carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::Decode;
use hermod_shared::decoded::Decoded;
use serde_json::Value;
use x509_cert::certificate::Certificate;

use super::encoding::base64_bytes;
use super::trust::{self, TrustBundle};
use super::verify::{self, Outcome, Scheme};
use super::x509;

/// The shape alone: three base64url parts whose header starts `{"` ("eyJ"). Anything of this
/// shape that then fails to decode is reported, since it was almost surely meant as a JWS.
pub(super) fn looks_like(s: &str) -> bool {
    s.starts_with("eyJ")
        && s.split('.').count() == 3
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(super) struct Jws {
    pub decoded: Decoded,
    /// The payload again, to look for material inside it.
    pub payload_json: Option<Value>,
    /// `x5c` entries that are not certificates: (index, reason).
    pub bad_certificates: Vec<(usize, String)>,
}

pub(super) fn decode(token: &str, trust: Option<&TrustBundle>) -> Result<Jws, String> {
    let mut parts = token.splitn(3, '.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err("not three dot-separated parts".into());
    };
    let header: Value =
        serde_json::from_slice(&base64_bytes(header_b64).map_err(|e| format!("header: {e}"))?)
            .map_err(|e| format!("header is not JSON: {e}"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("the header has no \"alg\"")?;
    let payload_bytes = base64_bytes(payload_b64).map_err(|e| format!("payload: {e}"))?;
    let signature = base64_bytes(signature_b64).map_err(|e| format!("signature: {e}"))?;

    let (payload, payload_is_json) = match serde_json::from_slice::<Value>(&payload_bytes) {
        Ok(json) => (json, true),
        Err(_) => match String::from_utf8(payload_bytes) {
            Ok(text) => (Value::String(text), false),
            Err(e) => (Value::String(STANDARD.encode(e.into_bytes())), false),
        },
    };

    let mut chain = Vec::new();
    let mut bad_certificates = Vec::new();
    let x5c = header.get("x5c").and_then(Value::as_array);
    for (i, entry) in x5c.into_iter().flatten().enumerate() {
        let parsed = entry
            .as_str()
            .ok_or_else(|| "not a string".to_string())
            .and_then(base64_bytes)
            .and_then(|der| {
                let cert =
                    Certificate::from_der(&der).map_err(|e| format!("not a certificate: {e}"))?;
                Ok((cert, der))
            });
        match parsed {
            Ok(pair) => chain.push((i, pair)),
            Err(reason) => bad_certificates.push((i, reason)),
        }
    }

    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    // The key's holder, named when the signature checks out.
    let (signed, by) = match (Scheme::from_jws(alg), x5c, chain.first()) {
        (Err(reason), _, _) => (Outcome::NotChecked(reason), String::new()),
        (Ok(_), None, _) => (
            Outcome::NotChecked("no x5c certificate in the header to check it with".into()),
            String::new(),
        ),
        (Ok(scheme), Some(_), Some((0, (leaf, _)))) => {
            let tbs = leaf.tbs_certificate();
            let outcome = verify::verify(
                tbs.subject_public_key_info(),
                scheme,
                signing_input.as_bytes(),
                &signature,
            );
            (outcome, x509::name(tbs.subject()))
        }
        (Ok(_), Some(_), _) => (
            Outcome::NotChecked("x5c[0] is not a readable certificate".into()),
            String::new(),
        ),
    };

    // The signer's certificate is x5c[0], when that is a certificate: then the first read.
    let leaf = match chain.first() {
        Some((0, (leaf, _))) => Some(leaf),
        _ => None,
    };
    let mut checks = vec![signed.check(&by)];
    if let Some(leaf) = leaf {
        let carried: Vec<&Certificate> = chain[1..].iter().map(|(_, (c, _))| c).collect();
        // A JWS has no signing time of its own; tokens that say carry it as `iat`.
        let iat = payload.get("iat").and_then(Value::as_u64);
        checks.push(trust::validity(leaf, iat));
        checks.push(trust::chain(leaf, &carried, trust));
    }

    let read: Vec<(&Certificate, &[u8])> = chain
        .iter()
        .map(|(_, (cert, der))| (cert, der.as_slice()))
        .collect();
    let signers: &[usize] = if leaf.is_some() { &[0] } else { &[] };
    Ok(Jws {
        payload_json: payload_is_json.then(|| payload.clone()),
        decoded: Decoded::Jws {
            header,
            payload,
            payload_is_json,
            signature_b64url: signature_b64.to_string(),
            checks,
            certificates: x509::carried(&read, signers),
        },
        bad_certificates,
    })
}
