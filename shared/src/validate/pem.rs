//! PEM, as operators have certificates and requests at hand (`openssl … -out x.pem`), for the fields
//! that take base64 DER: the console reads the blocks before sending (backend/src/pem.rs); the
//! page does not, so this compiles into the bundle only if the page calls it.

use super::base64::base64_decode;

/// The DER of each block labelled `label` (`CERTIFICATE`, `CERTIFICATE REQUEST`) in `text`, in
/// order; text around and between the blocks (openssl's `subject=` lines) is passed over. `None`
/// when `text` holds no such block, or one that does not decode.
pub fn pem_blocks(text: &str, label: &str) -> Option<Vec<Vec<u8>>> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let stop = after.find(&end)?;
        let body: String = after[..stop].split_whitespace().collect();
        blocks.push(base64_decode(&body)?);
        rest = &after[stop + end.len()..];
    }
    (!blocks.is_empty()).then_some(blocks)
}
