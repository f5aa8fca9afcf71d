//! X.509 certificates and PKCS#10 requests as summaries, and the naming helpers the other decoders
//! share: distinguished names, serials, times and keys.

use der::Decode;
use der::asn1::{ObjectIdentifier, OctetString};
use der::oid::AssociatedOid;
use der::oid::db::{rfc5912, rfc8410};
use hermod_shared::decoded::{CertSummary, CsrSummary, KeyInfo};
use rsa::pkcs1::RsaPublicKeyRef;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, ExtensionReq};
use x509_cert::time::Time;

use super::oid::oid_name;
use super::verify::{self, Outcome, Scheme};

/// Whether `cert` is a CA's (its basic constraints say so).
pub fn is_ca(cert: &Certificate) -> bool {
    matches!(cert.tbs_certificate().get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca)
}

pub(super) fn certificate(cert: &Certificate, der: &[u8]) -> CertSummary {
    let tbs = cert.tbs_certificate();
    // A malformed extension hides only itself: the rest of the summary still shows.
    let sans = match tbs.get_extension::<SubjectAltName>() {
        Ok(Some((_, san))) => general_names(&san.0),
        _ => Vec::new(),
    };
    let is_ca = is_ca(cert);
    let mut usage: Vec<String> = is_ca.then(|| "CA".to_string()).into_iter().collect();
    if let Ok(Some((_, bits))) = tbs.get_extension::<KeyUsage>() {
        usage.extend(key_usages(bits));
    }
    if let Ok(Some((_, eku))) = tbs.get_extension::<ExtendedKeyUsage>() {
        usage.extend(eku.0.iter().map(purpose));
    }
    let key_id = |id: &OctetString| hex_pairs(id.as_bytes());
    let ski = match tbs.get_extension::<SubjectKeyIdentifier>() {
        Ok(Some((_, id))) => Some(key_id(&id.0)),
        _ => None,
    };
    let aki = match tbs.get_extension::<AuthorityKeyIdentifier>() {
        Ok(Some((_, id))) => id.key_identifier.as_ref().map(key_id),
        _ => None,
    };
    let crl = match tbs.get_extension::<CrlDistributionPoints>() {
        Ok(Some((_, points))) => points
            .0
            .iter()
            .filter_map(|p| match &p.distribution_point {
                Some(DistributionPointName::FullName(names)) => Some(general_names(names)),
                _ => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    };
    let access = match tbs.get_extension::<AuthorityInfoAccessSyntax>() {
        Ok(Some((_, aia))) => aia.0,
        _ => Vec::new(),
    };
    let accessed = |method: ObjectIdentifier| {
        let at: Vec<GeneralName> = access
            .iter()
            .filter(|a| a.access_method == method)
            .map(|a| a.access_location.clone())
            .collect();
        general_names(&at)
    };
    CertSummary {
        subject: name(tbs.subject()),
        issuer: name(tbs.issuer()),
        subject_openssl: openssl_name(tbs.subject()),
        issuer_openssl: openssl_name(tbs.issuer()),
        serial: serial(tbs.serial_number().as_bytes()),
        not_before: time(&tbs.validity().not_before),
        not_after: time(&tbs.validity().not_after),
        key: key_info(tbs.subject_public_key_info()),
        sans,
        usage,
        is_ca,
        signature_algorithm: oid_name(&cert.signature_algorithm().oid),
        fingerprint_sha256: hex(&Sha256::digest(der), false),
        ski,
        aki,
        crl,
        ocsp: accessed(rfc5912::ID_AD_OCSP),
        ca_issuers: accessed(rfc5912::ID_AD_CA_ISSUERS),
        role: None,
    }
}

/// The summaries of the certificates a signature carries (each with its DER), each with its
/// [`CertSummary::role`] in the signature: `signers` are where the signers' own are among them.
/// Who issued whom is read from the names and key identifiers alone, as a reader of the page would
/// tie them: the issuers' signatures are the `chain` check's to verify (trust.rs), within its budget.
pub(super) fn carried(certs: &[(&Certificate, &[u8])], signers: &[usize]) -> Vec<CertSummary> {
    let summaries: Vec<CertSummary> = certs
        .iter()
        .map(|(cert, der)| certificate(cert, der))
        .collect();
    let names: Vec<String> = certs
        .iter()
        .map(|(cert, _)| short_name(cert.tbs_certificate().subject()))
        .collect();
    let roles: Vec<Option<String>> = summaries
        .iter()
        .enumerate()
        .map(|(i, me)| {
            let mut issued: Vec<&str> = Vec::new();
            for (other, name) in summaries.iter().zip(&names) {
                // The same certificate twice issues nothing to itself.
                let another = other.fingerprint_sha256 != me.fingerprint_sha256;
                if another && issued_by(other, me) && !issued.contains(&name.as_str()) {
                    issued.push(name);
                }
            }
            let mut roles = Vec::new();
            if signers.contains(&i) {
                roles.push("signer".to_string());
            }
            if !issued.is_empty() {
                roles.push(format!("issuer of {}", issued.join(" and ")));
            }
            let role = roles.join(", ");
            match (issued_by(me, me), role.is_empty()) {
                (true, true) => Some("self-signed root".to_string()),
                (true, false) => Some(format!("{role} (self-signed root)")),
                (false, true) => None,
                (false, false) => Some(role),
            }
        })
        .collect();
    summaries
        .into_iter()
        .zip(roles)
        .map(|(summary, role)| CertSummary { role, ..summary })
        .collect()
}

/// Whether `cert` names `issuer` as its issuer: by subject, and by key identifier where both say one.
fn issued_by(cert: &CertSummary, issuer: &CertSummary) -> bool {
    cert.issuer == issuer.subject
        && match (&cert.aki, &issuer.ski) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        }
}

/// A name's common name, or the whole name when it has none.
fn short_name(n: &Name) -> String {
    match n.common_name() {
        Ok(Some(cn)) => cn.value().into_owned(),
        _ => name(n),
    }
}

/// `AB:CD:…`, as OpenSSL prints key identifiers.
pub(super) fn hex_pairs(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The key usage bits, in the order and with the names `openssl x509 -text` prints.
fn key_usages(usage: KeyUsage) -> Vec<String> {
    use KeyUsages as K;
    [
        (K::DigitalSignature, "Digital Signature"),
        (K::NonRepudiation, "Non Repudiation"),
        (K::KeyEncipherment, "Key Encipherment"),
        (K::DataEncipherment, "Data Encipherment"),
        (K::KeyAgreement, "Key Agreement"),
        (K::KeyCertSign, "Certificate Sign"),
        (K::CRLSign, "CRL Sign"),
        (K::EncipherOnly, "Encipher Only"),
        (K::DecipherOnly, "Decipher Only"),
    ]
    .into_iter()
    .filter(|(bit, _)| usage.0.contains(*bit))
    .map(|(_, name)| name.to_string())
    .collect()
}

/// An extended key usage: RFC 5280's short name (`id-kp-clientAuth` → `clientAuth`), Microsoft's
/// smart card logon as OpenSSL names it (the usage Smart ID's Windows logon certificates carry), or
/// the dotted OID.
pub(super) fn purpose(oid: &ObjectIdentifier) -> String {
    const MS_SMARTCARD_LOGIN: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.2");
    if *oid == MS_SMARTCARD_LOGIN {
        return "msSmartcardLogin".into();
    }
    let name = oid_name(oid);
    name.strip_prefix("id-kp-")
        .map_or(name.clone(), str::to_string)
}

/// `info_der` is the request's CertificationRequestInfo exactly as it was received: the
/// self-signature covers those bytes, which a re-encoding need not reproduce.
pub(super) fn cert_request(req: &CertReq, info_der: &[u8]) -> CsrSummary {
    let info = &req.info;
    let sans = info
        .attributes
        .iter()
        .filter(|a| a.oid == rfc5912::ID_EXTENSION_REQ)
        .flat_map(|a| a.values.iter())
        .filter_map(|v| v.decode_as::<ExtensionReq>().ok())
        .flat_map(|req| req.0)
        .filter(|ext| ext.extn_id == SubjectAltName::OID)
        .filter_map(|ext| SubjectAltName::from_der(ext.extn_value.as_bytes()).ok())
        .flat_map(|san| general_names(&san.0))
        .collect();
    let signature_valid = Scheme::from_algorithm(&req.algorithm, None)
        .ok()
        .and_then(|scheme| {
            match verify::verify(
                &info.public_key,
                scheme,
                info_der,
                req.signature.raw_bytes(),
            ) {
                Outcome::Valid => Some(true),
                Outcome::Invalid(_) => Some(false),
                Outcome::NotChecked(_) => None,
            }
        });
    CsrSummary {
        subject: name(&info.subject),
        subject_openssl: openssl_name(&info.subject),
        key: key_info(&info.public_key),
        sans,
        signature_algorithm: oid_name(&req.algorithm.oid),
        signature_valid,
    }
}

/// RFC 4514 order (most specific first) with ", " between RDNs, which reads better than the
/// bare "," of the RFC: "CN=Hermod Simulator Device, O=Hermod Console".
pub(super) fn name(name: &Name) -> String {
    let mut rdns: Vec<String> = name.iter_rdn().map(ToString::to_string).collect();
    rdns.reverse();
    rdns.join(", ")
}

/// The RDNs in the order they are encoded, the most general first, as `openssl x509 -subject`
/// prints them (with ", " between them, as [`name`]).
fn openssl_name(name: &Name) -> String {
    let rdns: Vec<String> = name.iter_rdn().map(ToString::to_string).collect();
    rdns.join(", ")
}

/// Upper-case hex without the sign-padding zero byte DER adds to "positive" high-bit serials.
pub(super) fn serial(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    hex(&bytes[start..], true)
}

pub(super) fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

/// RFC 3339, UTC.
pub(super) fn time(time: &Time) -> String {
    let t = time.to_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}

pub(super) fn key_info(spki: &SubjectPublicKeyInfoOwned) -> KeyInfo {
    let oid = spki.algorithm.oid;
    let (algorithm, bits, curve) = match oid {
        rfc5912::RSA_ENCRYPTION | rfc5912::ID_RSASSA_PSS => {
            // Bits of the modulus as written, not of a key the rsa crate would accept.
            let bits = RsaPublicKeyRef::try_from(spki.subject_public_key.raw_bytes())
                .ok()
                .map(|key| significant_bits(key.modulus.as_bytes()));
            ("RSA".to_string(), bits, None)
        }
        rfc5912::ID_EC_PUBLIC_KEY => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let (curve, bits) = match curve_oid {
                Some(rfc5912::SECP_256_R_1) => (Some("P-256".to_string()), Some(256)),
                Some(rfc5912::SECP_384_R_1) => (Some("P-384".to_string()), Some(384)),
                Some(rfc5912::SECP_521_R_1) => (Some("P-521".to_string()), Some(521)),
                Some(other) => (Some(oid_name(&other)), None),
                None => (None, None),
            };
            ("EC".to_string(), bits, curve)
        }
        rfc8410::ID_ED_25519 => ("Ed25519".to_string(), None, None),
        rfc8410::ID_ED_448 => ("Ed448".to_string(), None, None),
        _ => (oid.to_string(), None, None),
    };
    KeyInfo {
        algorithm,
        bits,
        curve,
    }
}

fn significant_bits(big_endian: &[u8]) -> u32 {
    let Some(start) = big_endian.iter().position(|&b| b != 0) else {
        return 0;
    };
    let bytes = u32::try_from(big_endian.len() - start).unwrap_or(u32::MAX);
    bytes.saturating_mul(8) - big_endian[start].leading_zeros()
}

fn general_names(names: &[GeneralName]) -> Vec<String> {
    names
        .iter()
        .map(|n| match n {
            GeneralName::DnsName(s) => format!("DNS:{s}"),
            GeneralName::Rfc822Name(s) => format!("email:{s}"),
            GeneralName::UniformResourceIdentifier(s) => format!("URI:{s}"),
            GeneralName::IpAddress(ip) => format!("IP:{}", ip_address(ip)),
            GeneralName::DirectoryName(dn) => format!("DirName:{}", name(dn)),
            GeneralName::RegisteredId(oid) => format!("RID:{oid}"),
            GeneralName::OtherName(other) => format!("othername:{}", oid_name(&other.type_id)),
            GeneralName::EdiPartyName(_) => "EdiPartyName".to_string(),
        })
        .collect()
}

fn ip_address(ip: &OctetString) -> String {
    let bytes = ip.as_bytes();
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        std::net::Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        std::net::Ipv6Addr::from(v6).to_string()
    } else {
        hex(bytes, true)
    }
}
