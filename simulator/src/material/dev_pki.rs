//! `hermod-console dev-pki`'s files: a throw-away CA, a TLS server and a TLS client certificate with
//! their keys, as PEM.

use super::certificate::{Ca, Usage, name, validity};
use super::keys::{new_p256, rng, spki};
use super::{MaterialError, fail};
use der::EncodePem;
use der::asn1::{Ia5String, OctetString};
use der::oid::db::rfc4519;
use der::pem::LineEnding;
use p256::pkcs8::EncodePrivateKey;
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

/// `hermod-console dev-pki`: PEM files for trying TLS without a real PKI. A throw-away CA (its key is
/// not kept, so it can issue nothing else), a server certificate for `hosts` (DNS names or IP
/// addresses; the first is also its CN) and a client certificate "CN=hermod-console", all ECDSA P-256.
pub struct DevPki {
    pub ca_cert: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: String,
    pub client_key: String,
}

/// How long `dev-pki` certificates are valid.
const DEV_PKI_DAYS: u64 = 825;

pub fn dev_pki(hosts: &[String]) -> Result<DevPki, MaterialError> {
    let Some(first) = hosts.first() else {
        return Err(MaterialError(
            "a server certificate needs a host name".into(),
        ));
    };
    let alt_names = hosts
        .iter()
        .map(|h| alt_name(h))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = rng()?;
    let validity = validity(DEV_PKI_DAYS)?;
    // A fresh name per CA: two runs' CAs are told apart (and never mistaken for each other).
    let tag: u32 = rand::RngExt::random(&mut rng);
    let ca_name = name(&[(
        rfc4519::COMMON_NAME,
        &format!("Hermod Console dev CA {tag:08x}"),
    )])?;
    let ca_key = new_p256(&mut rng);
    let ca = Ca {
        name: ca_name,
        key: &ca_key,
        validity,
    };
    let ca_cert = ca.root::<p256::ecdsa::DerSignature>(&mut rng)?;
    // A new key, and its certificate from the CA.
    let mut leaf = |cn: &str, usage: Usage| {
        let key = new_p256(&mut rng);
        let subject = name(&[(rfc4519::COMMON_NAME, cn)])?;
        let cert = ca.issue::<p256::ecdsa::DerSignature>(subject, usage, spki(&key)?, &mut rng)?;
        Ok::<_, MaterialError>((cert, key))
    };
    let (server_cert, server_key) = leaf(first, Usage::TlsServer(alt_names))?;
    let (client_cert, client_key) = leaf("hermod-console", Usage::TlsClient)?;
    Ok(DevPki {
        ca_cert: pem_cert(&ca_cert)?,
        server_cert: pem_cert(&server_cert)?,
        server_key: pem_key(&server_key)?,
        client_cert: pem_cert(&client_cert)?,
        client_key: pem_key(&client_key)?,
    })
}

/// An IP address becomes an IP SAN, anything else a DNS name.
fn alt_name(host: &str) -> Result<GeneralName, MaterialError> {
    let host = host.trim();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let octets = match ip {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        return OctetString::new(octets)
            .map(GeneralName::IpAddress)
            .map_err(fail("IP address"));
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.*".contains(&b));
    if !valid {
        return Err(MaterialError(format!(
            "`{host}` is neither a DNS name nor an IP address"
        )));
    }
    Ia5String::new(host)
        .map(GeneralName::DnsName)
        .map_err(fail("DNS name"))
}

pub(super) fn pem_cert(cert: &Certificate) -> Result<String, MaterialError> {
    cert.to_pem(LineEnding::LF)
        .map_err(fail("encoding certificate"))
}

/// PKCS#8, which rustls, reqwest and OpenSSL all read.
fn pem_key(key: &p256::ecdsa::SigningKey) -> Result<String, MaterialError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(fail("encoding private key"))
}
