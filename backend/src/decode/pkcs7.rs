//! CMS / PKCS#7 SignedData (RFC 5652): content, certificates and each signer, checked against its
//! certificate when the message carries it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::oid::db::rfc5911;
use der::{Any, Encode};
use hermod_shared::decoded::{Check, Pkcs7Summary, SignerSummary};
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

use super::oid::oid_name;
use super::trust::{self, TrustBundle};
use super::verify::{self, Hash, Outcome, Scheme};
use super::x509;

/// Signers and certificates decoded per message; a crafted one may carry thousands.
const MAX_SHOWN: usize = 32;

/// `info` must be SignedData (the caller checks the content type to report others by name).
pub(super) fn signed_data(
    info: &ContentInfo,
    trust: Option<&TrustBundle>,
) -> Result<Pkcs7Summary, String> {
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| format!("SignedData does not parse: {e}"))?;
    let encap = &signed.encap_content_info;
    let content = encap.econtent.as_ref().map(content_bytes);
    let certificates: Vec<&Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let all_signers = signed.signer_infos.0.len();
    let (signers, signed_by): (Vec<SignerSummary>, Vec<Option<&Certificate>>) = signed
        .signer_infos
        .0
        .iter()
        .take(MAX_SHOWN)
        .map(|si| {
            let cert = certificates
                .iter()
                .copied()
                .find(|cert| identifies(&si.sid, cert));
            let content = content.as_deref();
            let summary = signer(
                si,
                cert,
                &certificates,
                content,
                &encap.econtent_type,
                trust,
            );
            (summary, cert)
        })
        .unzip();
    let ders: Vec<(&Certificate, Vec<u8>)> = certificates
        .iter()
        .take(MAX_SHOWN)
        .filter_map(|cert| Some((*cert, cert.to_der().ok()?)))
        .collect();
    let shown: Vec<(&Certificate, &[u8])> = ders
        .iter()
        .map(|(cert, der)| (*cert, der.as_slice()))
        .collect();
    let signers_shown: Vec<usize> = (0..shown.len())
        .filter(|&i| signed_by.contains(&Some(shown[i].0)))
        .collect();
    let more =
        |n: usize, what: &str| (n > MAX_SHOWN).then(|| format!("{} more {what}", n - MAX_SHOWN));
    let left_out: Vec<String> = [
        more(all_signers, "signers"),
        more(certificates.len(), "certificates"),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Pkcs7Summary {
        content: content.map(|bytes| match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => STANDARD.encode(e.into_bytes()),
        }),
        digest_algorithms: signed
            .digest_algorithms
            .iter()
            .map(|alg| oid_name(&alg.oid))
            .collect(),
        signers,
        certificates: x509::carried(&shown, &signers_shown),
        left_out: (!left_out.is_empty()).then(|| {
            format!(
                "{}, not decoded: a message shows its first {MAX_SHOWN} of each",
                left_out.join(" and ")
            )
        }),
    })
}

/// eContent is an OCTET STRING for every content type; keep the raw value if it is not one.
fn content_bytes(econtent: &Any) -> Vec<u8> {
    econtent
        .decode_as::<OctetString>()
        .map(|octets| octets.as_bytes().to_vec())
        .unwrap_or_else(|_| econtent.value().to_vec())
}

/// `cert` is the signer's own certificate, when the message carries it ([`identifies`]).
fn signer(
    si: &SignerInfo,
    cert: Option<&Certificate>,
    certificates: &[&Certificate],
    content: Option<&[u8]>,
    content_type: &ObjectIdentifier,
    trust: Option<&TrustBundle>,
) -> SignerSummary {
    let signer = match (cert, &si.sid) {
        (Some(cert), _) => x509::name(cert.tbs_certificate().subject()),
        (None, SignerIdentifier::IssuerAndSerialNumber(ias)) => format!(
            "issuer {}, serial {}",
            x509::name(&ias.issuer),
            x509::serial(ias.serial_number.as_bytes())
        ),
        (None, SignerIdentifier::SubjectKeyIdentifier(ski)) => {
            // As the certificate's own Key ID row shows it, so the two can be matched by eye.
            format!(
                "subject key identifier {}",
                x509::hex_pairs(ski.0.as_bytes())
            )
        }
    };
    let signed_at =
        signed_attribute(si, rfc5911::ID_SIGNING_TIME).and_then(|v| v.decode_as::<Time>().ok());
    let digest = digest(si, content);
    let mut checks = match cert {
        None => vec![
            Outcome::NotChecked("the signer's certificate is not in the message".into())
                .check(&signer),
        ],
        Some(cert) => vec![
            check(si, cert, content, content_type, &digest).check(&signer),
            trust::validity(cert, signed_at.map(|t| t.to_unix_duration().as_secs())),
            trust::chain(cert, certificates, trust),
        ],
    };
    checks.insert(0, digest);
    SignerSummary {
        signer,
        digest_algorithm: oid_name(&si.digest_alg.oid),
        signature_algorithm: oid_name(&si.signature_algorithm.oid),
        signing_time: signed_at.map(|t| x509::time(&t)),
        checks,
    }
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == *tbs.issuer() && ias.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

fn signed_attribute(si: &SignerInfo, oid: ObjectIdentifier) -> Option<&Any> {
    si.signed_attrs
        .as_ref()?
        .iter()
        .find(|attr| attr.oid == oid)?
        .values
        .iter()
        .next()
}

/// RFC 5652 §5.4: with signed attributes, the message-digest attribute ties them to the content.
fn digest(si: &SignerInfo, content: Option<&[u8]>) -> Check {
    const NAME: &str = "digest";
    let (Some(_), Some(content)) = (&si.signed_attrs, content) else {
        return Check::not_checked(
            NAME,
            match content {
                None => "detached content, which the message does not carry",
                Some(_) => "no signed attributes: the signature covers the content itself",
            },
        );
    };
    let hash = match Hash::from_oid(&si.digest_alg.oid) {
        Ok(hash) => hash,
        Err(reason) => return Check::not_checked(NAME, reason),
    };
    match signed_attribute(si, rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
    {
        None => Check::failed(NAME, "no message-digest attribute"),
        Some(d) if d.as_bytes() != hash.digest(content).as_slice() => Check::failed(
            NAME,
            "the message-digest attribute does not match the content",
        ),
        Some(_) => Check::passed(
            NAME,
            format!(
                "the content's {} matches the signed message-digest attribute",
                oid_name(&si.digest_alg.oid)
            ),
        ),
    }
}

/// With signed attributes the signature covers their DER as a SET OF (and `digest` ties them to
/// the content: a failed one fails the signature too); without, it covers the content itself.
fn check(
    si: &SignerInfo,
    cert: &Certificate,
    content: Option<&[u8]>,
    content_type: &ObjectIdentifier,
    digest: &Check,
) -> Outcome {
    let hash = match Hash::from_oid(&si.digest_alg.oid) {
        Ok(hash) => hash,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let scheme = match Scheme::from_algorithm(&si.signature_algorithm, Some(hash)) {
        Ok(scheme) => scheme,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let message = match (&si.signed_attrs, content) {
        (Some(attrs), _) => {
            if digest.passed == Some(false) {
                return Outcome::Invalid(digest.detail.clone());
            }
            let declared = signed_attribute(si, rfc5911::ID_CONTENT_TYPE)
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
            if declared.is_some_and(|declared| declared != *content_type) {
                return Outcome::Invalid(
                    "the content-type attribute does not match the content".into(),
                );
            }
            // Decoding sorted the SET OF into DER order; a conforming signer signed it so.
            match attrs.to_der() {
                Ok(der) => der,
                Err(e) => return Outcome::NotChecked(format!("signed attributes: {e}")),
            }
        }
        (None, Some(content)) => content.to_vec(),
        (None, None) => {
            return Outcome::NotChecked(
                "detached content, which the message does not carry".into(),
            );
        }
    };
    let spki = cert.tbs_certificate().subject_public_key_info();
    match verify::verify(spki, scheme, &message, si.signature.as_bytes()) {
        Outcome::Valid if content.is_none() => Outcome::NotChecked(
            "the signed attributes verify, but the content is detached so its digest was not checked"
                .into(),
        ),
        outcome => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::verify::MAX_CHECKS;
    use cms::signed_data::SignerInfos;
    use der::asn1::SetOfVec;
    use der::{Decode, Encode};
    use hermod_shared::decoded::Decoded;
    use hermod_simulator::material::Identity;

    fn signature(signer: &SignerSummary) -> &Check {
        crate::decode::tests::check(&signer.checks, "signature")
    }

    /// The simulator's signed message, its one signer copied `n` times, each signature different.
    fn crafted(n: u16) -> String {
        let der = Identity::shared().unwrap().pkcs7(b"Pay 100 EUR").unwrap();
        let mut info = ContentInfo::from_der(&der).unwrap();
        let mut signed: SignedData = info.content.decode_as().unwrap();
        let first = signed.signer_infos.0.iter().next().unwrap().clone();
        let many: Vec<SignerInfo> = (0..n)
            .map(|i| {
                let mut si = first.clone();
                let mut signature = si.signature.as_bytes().to_vec();
                let end = signature.len();
                signature[end - 2..].copy_from_slice(&i.to_be_bytes());
                si.signature = OctetString::new(signature).unwrap();
                si
            })
            .collect();
        signed.signer_infos = SignerInfos(SetOfVec::try_from(many).unwrap());
        info.content = Any::encode_from(&signed).unwrap();
        STANDARD.encode(info.to_der().unwrap())
    }

    #[test]
    fn a_message_of_two_thousand_signers_costs_a_bounded_number_of_checks_and_says_so() {
        let items = crate::decode::decode_text(&crafted(2000), None);
        let Decoded::Pkcs7(p7) = &items[0].decoded else {
            panic!("{items:#?}")
        };
        assert_eq!(p7.signers.len(), MAX_SHOWN);
        let (checked, skipped): (Vec<_>, Vec<_>) = p7
            .signers
            .iter()
            .partition(|s| signature(s).passed.is_some());
        assert_eq!(checked.len(), MAX_CHECKS as usize);
        assert!(
            skipped
                .iter()
                .all(|s| signature(s).detail.contains("too many signatures"))
        );
        assert_eq!(
            p7.left_out.as_deref(),
            Some("1968 more signers, not decoded: a message shows its first 32 of each")
        );
        // The next body has a budget of its own.
        let items = crate::decode::decode_text(&crafted(1), None);
        let Decoded::Pkcs7(p7) = &items[0].decoded else {
            panic!("{items:#?}")
        };
        assert!(signature(&p7.signers[0]).passed.is_some());
        assert_eq!(p7.left_out, None);
    }
}
