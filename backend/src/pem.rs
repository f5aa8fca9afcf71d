//! PEM in, DER out (README.md, "The console"): a certificate or certificate request field given as
//! PEM, pasted or loaded from a file (which the form sends as base64 of the file's text), goes to
//! Hermod as the base64 DER Hermod takes, and is parsed first: what is not one certificate (or
//! request), or a chain holding one device certificate beside its CAs, is refused at its field,
//! before anything is recorded or sent.

use crate::decode::is_ca;
use der::Decode;
use hermod_shared::hermod::{CommandType, FieldError};
use hermod_shared::validate::{Field, Kind, base64_decode, base64_encode, fields, pem_blocks};
use serde_json::Value;
use x509_cert::certificate::Certificate;
use x509_cert::request::CertReq;

/// Converts and checks every field of `ty`'s tables that holds DER (`Kind::Der`) in `body`.
pub fn to_der(ty: CommandType, body: &mut Value) -> Result<(), FieldError> {
    each(fields(ty), body, "")
}

fn each(fields: &[Field], v: &mut Value, at: &str) -> Result<(), FieldError> {
    let Some(map) = v.as_object_mut() else {
        return Ok(());
    };
    for f in fields {
        let ptr = format!("{at}/{}", f.key);
        let Some(v) = map.get_mut(f.key).filter(|v| !v.is_null()) else {
            continue;
        };
        match f.kind {
            Kind::Der(label) => convert(label, &ptr, v)?,
            Kind::Object(inner) => each(inner, v, &ptr)?,
            Kind::List(inner) => {
                for (i, item) in v.as_array_mut().into_iter().flatten().enumerate() {
                    each(inner, item, &format!("{ptr}/{i}"))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The one block to send of a PEM's `blocks`: the only one, or, of a chain (a `fullchain.pem`, a
/// device certificate and its CAs, in any order), the only certificate that is not a CA's.
fn one_of(label: &str, mut blocks: Vec<Vec<u8>>) -> Option<Vec<u8>> {
    if blocks.len() > 1 && label == "CERTIFICATE" {
        blocks.retain(|der| Certificate::from_der(der).is_ok_and(|c| !is_ca(&c)));
    }
    match <[Vec<u8>; 1]>::try_from(blocks) {
        Ok([one]) => Some(one),
        Err(_) => None,
    }
}

fn convert(label: &str, ptr: &str, v: &mut Value) -> Result<(), FieldError> {
    let refuse = |why: String| FieldError::new(ptr, why);
    let Some(text) = v.as_str() else {
        return Err(refuse("must be base64 DER or PEM text".into()));
    };
    let decoded = base64_decode(text);
    // PEM as pasted, or a PEM file's text as the form loads a file: base64 of its bytes.
    let pem = if text.contains("-----BEGIN") {
        Some(text.to_string())
    } else {
        decoded
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
            .filter(|t| t.contains("-----BEGIN"))
            .map(str::to_string)
    };
    let der = match (pem, decoded) {
        (Some(pem), _) => {
            let blocks = pem_blocks(&pem, label)
                .ok_or_else(|| refuse(format!("holds PEM, but no {label} block that decodes")))?;
            let n = blocks.len();
            one_of(label, blocks).ok_or_else(|| {
                refuse(format!(
                    "holds {n} {label} blocks and no one of them is the device's: give its own \
                     here (a chain may come with it, its CAs are left out)"
                ))
            })?
        }
        (None, Some(der)) => der,
        (None, None) => return Err(refuse("must be base64 DER or PEM".into())),
    };
    let parsed = match label {
        "CERTIFICATE" => Certificate::from_der(&der).map(drop),
        _ => CertReq::from_der(&der).map(drop),
    };
    if let Err(e) = parsed {
        let what = if label == "CERTIFICATE" {
            "an X.509 certificate (the one your CA issued goes here)"
        } else {
            "a PKCS#10 certificate request"
        };
        return Err(refuse(format!("is not {what}: {e}")));
    }
    *v = Value::String(base64_encode(&der));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::to_der;
    use hermod_shared::examples::default_body;
    use hermod_shared::hermod::CommandType;

    /// The send form's examples hold material that parses: sent as they are, none is refused.
    #[test]
    fn every_example_passes_as_it_is() {
        for ty in CommandType::ALL {
            let mut body = default_body(ty);
            let before = body.clone();
            assert_eq!(to_der(ty, &mut body), Ok(()), "{ty}");
            assert_eq!(body, before, "{ty}: already base64 DER");
        }
    }
}
