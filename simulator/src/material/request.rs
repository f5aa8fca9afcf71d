//! PKCS#10 certificate requests, the keys a provision command asks for as a device answers it.

use super::certificate::name;
use super::keys::{p256_key, rsa_key};
use super::{MaterialError, fail};
use der::Encode;
use der::oid::db::rfc4519;
use rsa::pkcs1v15;
use x509_cert::builder::{Builder, RequestBuilder};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

/// A PKCS#10 request (DER) with subject "CN=`subject_cn`" for a key of the asked type:
/// `RSA` with a bit length of 1024..=4096 in steps of 256, or `EC`/`ECDSA` with 256 (P-256).
pub fn pkcs10(keytype: &str, keylength: &str, subject_cn: &str) -> Result<Vec<u8>, MaterialError> {
    let spec = KeySpec::parse(keytype, keylength)?;
    let mut builder = RequestBuilder::new(name(&[(rfc4519::COMMON_NAME, subject_cn)])?)
        .map_err(fail("building request"))?;
    // Without any requested extension the builder would still emit an empty extensionRequest
    // (SIZE 0, which RFC 5280 forbids); a key-usage request is what a real token would ask for.
    builder
        .add_extension(&KeyUsage(KeyUsages::DigitalSignature.into()))
        .map_err(fail("adding key usage"))?;
    let request = match spec {
        KeySpec::Rsa(bits) => builder.build::<_, pkcs1v15::Signature>(&rsa_key(bits)?),
        KeySpec::P256 => builder.build::<_, p256::ecdsa::DerSignature>(&p256_key()?),
    }
    .map_err(fail("signing request"))?;
    request.to_der().map_err(fail("encoding request"))
}

enum KeySpec {
    Rsa(usize),
    P256,
}

impl KeySpec {
    fn parse(keytype: &str, keylength: &str) -> Result<KeySpec, MaterialError> {
        let length = keylength.trim();
        // Digits only: `parse` alone would also accept a leading '+'.
        let bits = length
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| length.parse::<usize>().ok())
            .flatten();
        match (keytype.trim().to_ascii_uppercase().as_str(), bits) {
            ("RSA", Some(b)) if (1024..=4096).contains(&b) && b % 256 == 0 => Ok(KeySpec::Rsa(b)),
            ("EC" | "ECDSA", Some(256)) => Ok(KeySpec::P256),
            _ => Err(MaterialError(format!(
                "unsupported key type/length {keytype:?}/{keylength:?} \
                 (RSA 1024..4096 in steps of 256, or EC 256)"
            ))),
        }
    }
}
