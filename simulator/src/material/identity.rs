//! The simulated device: its certificate from the test CA, and what it signs with the key (RS256 JWS,
//! CMS SignedData).

use super::certificate::{Ca, Usage, name, validity};
use super::dev_pki::pem_cert;
use super::keys::{RsaSigner, rng, spki};
use super::{MaterialError, fail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::oid::db::{rfc4519, rfc5911, rfc5912};
use der::{Any, Encode};
use rsa::pkcs1v15;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};
use std::sync::OnceLock;
use x509_cert::attr::Attribute;
use x509_cert::certificate::Certificate;
use x509_cert::time::Time;

/// A simulated device: the test CA certificate plus a device certificate and its private key.
/// The CA key is dropped after issuing, since nothing else is ever signed by it.
pub struct Identity {
    ca_cert: Certificate,
    ca_der: Vec<u8>,
    device_cert: Certificate,
    device_der: Vec<u8>,
    device_key: RsaSigner,
}

impl Identity {
    /// The process's one identity, made on first use (two RSA keys: worth doing once).
    pub fn shared() -> Result<&'static Identity, MaterialError> {
        static SHARED: OnceLock<Result<Identity, MaterialError>> = OnceLock::new();
        SHARED
            .get_or_init(Identity::generate)
            .as_ref()
            .map_err(|e| MaterialError(e.0.clone()))
    }

    /// RSA-2048 CA "CN=Hermod Simulator Test CA" (self-signed) and an RSA-2048 device
    /// certificate "CN=Hermod Simulator Device, O=Hermod Console" issued by it.
    pub fn generate() -> Result<Identity, MaterialError> {
        let mut rng = rng()?;
        let ca_key = RsaSigner::random(&mut rng, 2048).map_err(fail("generating CA key"))?;
        let device_key =
            RsaSigner::random(&mut rng, 2048).map_err(fail("generating device key"))?;

        let validity = validity(365)?;

        let ca_name = name(&[(rfc4519::COMMON_NAME, "Hermod Simulator Test CA")])?;
        // RDNSequence order is the reverse of the RFC 4514 string "CN=..., O=...".
        let device_name = name(&[
            (rfc4519::ORGANIZATION_NAME, "Hermod Console"),
            (rfc4519::COMMON_NAME, "Hermod Simulator Device"),
        ])?;

        let ca = Ca {
            name: ca_name,
            key: &ca_key,
            validity,
        };
        let ca_cert = ca.root::<pkcs1v15::Signature>(&mut rng)?;
        let device_cert = ca.issue::<pkcs1v15::Signature>(
            device_name,
            Usage::Signing,
            spki(&device_key)?,
            &mut rng,
        )?;

        Ok(Identity {
            ca_der: ca_cert.to_der().map_err(fail("encoding CA certificate"))?,
            ca_cert,
            device_der: device_cert
                .to_der()
                .map_err(fail("encoding device certificate"))?,
            device_cert,
            device_key,
        })
    }

    pub fn ca_cert_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The CA as a trust bundle: what a console's `trust_bundle` names to chain the device to it.
    pub fn ca_cert_pem(&self) -> Result<String, MaterialError> {
        pem_cert(&self.ca_cert)
    }

    pub fn device_cert_der(&self) -> &[u8] {
        &self.device_der
    }

    /// Compact JWS (RS256) whose protected header carries the chain in `x5c`, leaf first, so a
    /// verifier needs nothing but the token itself.
    ///
    /// Fallible although no input can break it: RSA blinding draws from the OS RNG.
    pub fn jws_rs256(&self, payload: &[u8]) -> Result<String, MaterialError> {
        let header = serde_json::json!({
            "alg": "RS256",
            "x5c": [STANDARD.encode(&self.device_der), STANDARD.encode(&self.ca_der)],
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// DER `ContentInfo` wrapping an attached-content `SignedData` over `content`, signed by the
    /// device key and carrying both certificates.
    pub fn pkcs7(&self, content: &[u8]) -> Result<Vec<u8>, MaterialError> {
        let sha256 = AlgorithmIdentifierOwned {
            oid: rfc5912::ID_SHA_256,
            parameters: None,
        };
        let signing_time = Time::now().map_err(fail("reading clock"))?;
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(rfc5911::ID_CONTENT_TYPE, &rfc5911::ID_DATA)?,
            attribute(
                rfc5911::ID_MESSAGE_DIGEST,
                &OctetString::new(Sha256::digest(content).to_vec())
                    .map_err(fail("encoding digest"))?,
            )?,
            attribute(rfc5911::ID_SIGNING_TIME, &signing_time)?,
        ])
        .map_err(fail("building signed attributes"))?;
        // RFC 5652 §5.4: the signature covers the attributes re-tagged as a plain SET OF, which
        // is exactly how SetOfVec encodes on its own (its DER order matches the [0] field).
        let signed_attrs_der = signed_attrs.to_der().map_err(fail("encoding attributes"))?;
        let signature = self.sign(&signed_attrs_der)?;

        let tbs = self.device_cert.tbs_certificate();
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: self
                .device_key
                .signature_algorithm_identifier()
                .map_err(fail("signature algorithm"))?,
            signature: OctetString::new(signature).map_err(fail("encoding signature"))?,
            unsigned_attrs: None,
        };
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(fail("digest algs"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: rfc5911::ID_DATA,
                econtent: Some(
                    Any::encode_from(&OctetString::new(content).map_err(fail("content"))?)
                        .map_err(fail("encoding content"))?,
                ),
            },
            certificates: Some(
                CertificateSet::try_from(vec![
                    cms::cert::CertificateChoices::Certificate(self.device_cert.clone()),
                    cms::cert::CertificateChoices::Certificate(self.ca_cert.clone()),
                ])
                .map_err(fail("certificate set"))?,
            ),
            crls: None,
            signer_infos: SetOfVec::try_from(vec![signer])
                .map_err(fail("signer infos"))?
                .into(),
        };
        ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(fail("encoding SignedData"))?,
        }
        .to_der()
        .map_err(fail("encoding ContentInfo"))
    }

    fn sign(&self, message: &[u8]) -> Result<Box<[u8]>, MaterialError> {
        let signature = self.device_key.try_sign(message).map_err(fail("signing"))?;
        Ok(signature.to_bytes())
    }
}

fn attribute(
    oid: ObjectIdentifier,
    value: &(impl der::Tagged + der::EncodeValue),
) -> Result<Attribute, MaterialError> {
    let value = Any::encode_from(value).map_err(fail("encoding attribute"))?;
    let values = SetOfVec::try_from(vec![value]).map_err(fail("attribute values"))?;
    Ok(Attribute { oid, values })
}
