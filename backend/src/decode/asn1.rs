//! DER bytes: whether their shape is DER at all, and which of certificate, certificate request,
//! CMS message or bare public key they hold.

use std::borrow::Cow;

use cms::content_info::ContentInfo;
use der::oid::db::rfc5911;
use der::{Decode, Encode};
use hermod_shared::decoded::Decoded;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::certificate::Certificate;
use x509_cert::request::CertReq;

use super::oid::oid_name;
use super::trust::TrustBundle;
use super::{pkcs7, unparsed, x509};

/// What the start of some bytes says about them as DER.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DerShape {
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
pub(super) fn der_shape(bytes: &[u8]) -> DerShape {
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

pub(super) fn decode_der(bytes: &[u8], trust: Option<&TrustBundle>) -> Decoded {
    let reason = match der_shape(bytes) {
        DerShape::Complete => return parse_der(bytes, trust),
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
fn parse_der(der: &[u8], trust: Option<&TrustBundle>) -> Decoded {
    let cert_error = match Certificate::from_der(der) {
        Ok(cert) => return Decoded::Certificate(Box::new(x509::certificate(&cert, der))),
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
            return match pkcs7::signed_data(&info, trust) {
                Ok(summary) => Decoded::Pkcs7(summary),
                Err(reason) => unparsed("PKCS#7", reason),
            };
        }
        Ok(info) => {
            let what = oid_name(&info.content_type);
            return unparsed("CMS", format!("{what} content: only SignedData is decoded"));
        }
        Err(e) => e,
    };
    // A bare public key: the PIN reset's `transportedkey`.
    if let Ok(spki) = SubjectPublicKeyInfoOwned::from_der(der) {
        return Decoded::PublicKey(x509::key_info(&spki));
    }
    unparsed(
        "DER",
        format!(
            "neither a certificate ({cert_error}), a certificate request ({csr_error}) \
             nor a CMS message ({cms_error})"
        ),
    )
}
