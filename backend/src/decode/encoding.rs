//! The text forms material travels in: base64 in either alphabet, and PEM armour.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard or URL-safe alphabet (never mixed), padding optional, whitespace ignored.
pub(super) fn base64_bytes(s: &str) -> Result<Vec<u8>, String> {
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

/// The DER blocks of the PEM labels that carry certificates, requests and CMS.
pub(super) fn pem_blocks(s: &str) -> Vec<Result<Vec<u8>, String>> {
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
