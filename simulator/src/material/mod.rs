//! Real PKI material for the Hermod simulator: a throw-away test CA with a device certificate,
//! RS256 JWS, CMS SignedData and PKCS#10 requests. Also `hermod-console dev-pki`'s throw-away CA with
//! TLS server and client certificates ([`dev_pki`]).
//!
//! Everything here is CPU-bound and synchronous (RSA key generation takes a noticeable fraction
//! of a second), so async callers should run it under `spawn_blocking`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo,
};
use der::asn1::{Ia5String, ObjectIdentifier, OctetString, SetOfVec};
use der::oid::db::{rfc4519, rfc5280, rfc5911, rfc5912};
use der::pem::LineEnding;
use der::{Any, Decode, Encode, EncodePem, Tag};
use p256::pkcs8::EncodePrivateKey;
use rand::SeedableRng as _;
use rand::rngs::{StdRng, SysRng};
use rsa::pkcs1v15;
use rsa::signature::{Keypair, SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use x509_cert::attr::{Attribute, AttributeTypeAndValue};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, RequestBuilder};
use x509_cert::certificate::{Certificate, TbsCertificate};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

type RsaSigner = pkcs1v15::SigningKey<Sha256>;

/// Why some piece of material could not be produced; the text is meant for logs and API errors.
#[derive(Debug)]
pub struct MaterialError(String);

impl fmt::Display for MaterialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MaterialError {}

/// The crates involved each have their own error type; all we need from them is a message,
/// prefixed with what we were doing so a failure is traceable without a backtrace.
fn fail<E: fmt::Display>(context: &'static str) -> impl FnOnce(E) -> MaterialError {
    move |e| MaterialError(format!("{context}: {e}"))
}

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

        let ca_profile = Profile {
            subject: ca_name.clone(),
            issuer: ca_name.clone(),
            usage: Usage::Ca,
        };
        let ca_cert = issue::<_, pkcs1v15::Signature>(
            ca_profile,
            &ca_key,
            spki(&ca_key)?,
            validity,
            &mut rng,
        )?;
        let device_profile = Profile {
            subject: device_name,
            issuer: ca_name,
            usage: Usage::Signing,
        };
        let device_cert = issue::<_, pkcs1v15::Signature>(
            device_profile,
            &ca_key,
            spki(&device_key)?,
            validity,
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

/// An RSA-2048 SubjectPublicKeyInfo (DER) to hand out as a "transported key". It shares the
/// cached RSA-2048 key with [`pkcs10`]; nothing is ever encrypted to it.
pub fn transport_key_spki_der() -> Result<Vec<u8>, MaterialError> {
    spki(&rsa_key(2048)?)?
        .to_der()
        .map_err(fail("encoding public key"))
}

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
    let ca_profile = Profile {
        subject: ca_name.clone(),
        issuer: ca_name.clone(),
        usage: Usage::Ca,
    };
    let ca_cert = issue::<_, p256::ecdsa::DerSignature>(
        ca_profile,
        &ca_key,
        spki(&ca_key)?,
        validity,
        &mut rng,
    )?;
    // A new key, and its certificate from the CA.
    let mut leaf = |cn: &str, usage: Usage| {
        let key = new_p256(&mut rng);
        let profile = Profile {
            subject: name(&[(rfc4519::COMMON_NAME, cn)])?,
            issuer: ca_name.clone(),
            usage,
        };
        let cert = issue::<_, p256::ecdsa::DerSignature>(
            profile,
            &ca_key,
            spki(&key)?,
            validity,
            &mut rng,
        )?;
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

fn pem_cert(cert: &Certificate) -> Result<String, MaterialError> {
    cert.to_pem(LineEnding::LF)
        .map_err(fail("encoding certificate"))
}

/// PKCS#8, which rustls, reqwest and OpenSSL all read.
fn pem_key(key: &p256::ecdsa::SigningKey) -> Result<String, MaterialError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(fail("encoding private key"))
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

/// The process-wide RSA key of the given size. Each size has its own slot so a slow RSA-4096
/// generation does not hold up requests for other sizes.
fn rsa_key(bits: usize) -> Result<RsaSigner, MaterialError> {
    type Slot = Arc<Mutex<Option<RsaSigner>>>;
    static SLOTS: OnceLock<Mutex<HashMap<usize, Slot>>> = OnceLock::new();
    let slot = Arc::clone(
        lock(SLOTS.get_or_init(Default::default))
            .entry(bits)
            .or_default(),
    );
    cached(&slot, || {
        RsaSigner::random(&mut rng()?, bits).map_err(fail("generating RSA key"))
    })
}

fn p256_key() -> Result<p256::ecdsa::SigningKey, MaterialError> {
    static SLOT: Mutex<Option<p256::ecdsa::SigningKey>> = Mutex::new(None);
    cached(&SLOT, || Ok(new_p256(&mut rng()?)))
}

fn new_p256(rng: &mut StdRng) -> p256::ecdsa::SigningKey {
    use p256::elliptic_curve::Generate as _;
    p256::ecdsa::SigningKey::generate_from_rng(rng)
}

/// Generation happens under the slot's lock so that concurrent first requests wait for one key
/// instead of each generating their own.
fn cached<K: Clone>(
    slot: &Mutex<Option<K>>,
    generate: impl FnOnce() -> Result<K, MaterialError>,
) -> Result<K, MaterialError> {
    let mut slot = lock(slot);
    if let Some(key) = &*slot {
        return Ok(key.clone());
    }
    Ok(slot.insert(generate()?).clone())
}

/// `rand::rng()` panics if the OS RNG is unavailable; seeding our own CSPRNG from it turns that
/// into an error instead.
fn rng() -> Result<StdRng, MaterialError> {
    StdRng::try_from_rng(&mut SysRng).map_err(fail("seeding RNG"))
}

/// A panic elsewhere while holding the lock cannot leave a half-written key behind (the slot
/// is only assigned a finished key), so poisoning is safe to ignore.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds a Name from (type, value) pairs in DER order, one attribute per RDN, all UTF8String.
/// Building from components rather than parsing an RFC 4514 string means operator-typed text
/// (commas, plus signs, quotes, e-mail addresses) needs no escaping and cannot inject RDNs.
fn name(rdns: &[(ObjectIdentifier, &str)]) -> Result<Name, MaterialError> {
    let mut sequence = RdnSequence::default();
    for &(oid, value) in rdns {
        let value = Any::new(Tag::Utf8String, value.as_bytes()).map_err(fail("name value"))?;
        let atv = AttributeTypeAndValue { oid, value };
        sequence.push(RelativeDistinguishedName::try_from(vec![atv]).map_err(fail("RDN"))?);
    }
    // Name has no public constructor from an RdnSequence (only behind the "hazmat" feature),
    // but the two share one encoding.
    let der = sequence.to_der().map_err(fail("encoding name"))?;
    Name::from_der(&der).map_err(fail("decoding name"))
}

fn spki<K>(key: &K) -> Result<SubjectPublicKeyInfoOwned, MaterialError>
where
    K: Keypair,
    K::VerifyingKey: EncodePublicKey,
{
    SubjectPublicKeyInfoOwned::from_key(&key.verifying_key()).map_err(fail("encoding public key"))
}

/// From an hour ago (so a verifier whose clock is slightly behind still accepts the chain) to
/// `days` from now.
fn validity(days: u64) -> Result<Validity, MaterialError> {
    let now = SystemTime::now();
    let not_before = now.checked_sub(Duration::from_secs(3600));
    let not_after = now.checked_add(Duration::from_secs(days * 24 * 3600));
    let (Some(not_before), Some(not_after)) = (not_before, not_after) else {
        return Err(MaterialError("system clock out of range".into()));
    };
    Ok(Validity::new(
        Time::try_from(not_before).map_err(fail("validity start"))?,
        Time::try_from(not_after).map_err(fail("validity end"))?,
    ))
}

fn attribute(
    oid: ObjectIdentifier,
    value: &(impl der::Tagged + der::EncodeValue),
) -> Result<Attribute, MaterialError> {
    let value = Any::encode_from(value).map_err(fail("encoding attribute"))?;
    let values = SetOfVec::try_from(vec![value]).map_err(fail("attribute values"))?;
    Ok(Attribute { oid, values })
}

/// A certificate for `subject_key`, signed by `issuer_key` with signature type `Sig`.
fn issue<K, Sig>(
    profile: Profile,
    issuer_key: &K,
    subject_key: SubjectPublicKeyInfoOwned,
    validity: Validity,
    rng: &mut StdRng,
) -> Result<Certificate, MaterialError>
where
    K: Signer<Sig> + Keypair + DynSignatureAlgorithmIdentifier,
    K::VerifyingKey: EncodePublicKey,
    Sig: SignatureBitStringEncoding,
{
    CertificateBuilder::new(profile, SerialNumber::generate(rng), validity, subject_key)
        .and_then(|builder| builder.build::<_, Sig>(issuer_key))
        .map_err(fail("issuing certificate"))
}

/// The stock CA/B Forum root profile insists on C and O in CA names, which the simulator's
/// fixed "CN=Hermod Simulator Test CA" lacks, so this is the small profile we need instead.
struct Profile {
    subject: Name,
    issuer: Name,
    usage: Usage,
}

/// What a certificate is for.
enum Usage {
    /// Issues certificates.
    Ca,
    /// Signs documents (the simulated device).
    Signing,
    /// A TLS server known by these names.
    TlsServer(Vec<GeneralName>),
    /// A TLS client.
    TlsClient,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(SubjectKeyIdentifier::try_from(issuer_spk)?.0),
            ..Default::default()
        };
        let ca = matches!(self.usage, Usage::Ca);
        let constraints = BasicConstraints {
            ca,
            path_len_constraint: None,
        };
        let usage = KeyUsage(if ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature.into()
        });
        // Criticality of these extension types is fixed (a subject alternative name's depends on the
        // subject, which is never empty here), so the "already added" list that `to_extension`
        // consults can stay empty.
        let subject = tbs.subject();
        let mut extensions = vec![
            constraints.to_extension(subject, &[])?,
            usage.to_extension(subject, &[])?,
            ski.to_extension(subject, &[])?,
            aki.to_extension(subject, &[])?,
        ];
        let purpose = match &self.usage {
            Usage::TlsServer(names) => {
                extensions.push(SubjectAltName(names.clone()).to_extension(subject, &[])?);
                Some(rfc5280::ID_KP_SERVER_AUTH)
            }
            Usage::TlsClient => Some(rfc5280::ID_KP_CLIENT_AUTH),
            Usage::Ca | Usage::Signing => None,
        };
        if let Some(purpose) = purpose {
            extensions.push(ExtendedKeyUsage(vec![purpose]).to_extension(subject, &[])?);
        }
        Ok(extensions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms::cert::CertificateChoices;
    use der::referenced::OwnedToRef;
    use rsa::PublicKey as RsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use rsa::traits::PublicKeyParts;
    use x509_cert::request::CertReq;

    /// RSA key generation dominates test time, so all tests share one identity.
    fn identity() -> &'static Identity {
        static IDENTITY: OnceLock<Identity> = OnceLock::new();
        IDENTITY.get_or_init(|| Identity::generate().expect("identity"))
    }

    fn rsa_verify(spki: &SubjectPublicKeyInfoOwned, message: &[u8], signature: &[u8]) {
        let key = RsaPublicKey::try_from(spki.owned_to_ref()).expect("RSA SPKI");
        let signature = pkcs1v15::Signature::try_from(signature).expect("signature bytes");
        pkcs1v15::VerifyingKey::<Sha256>::new(key)
            .verify(message, &signature)
            .expect("RSA signature verifies");
    }

    #[test]
    fn jws_verifies_with_key_from_x5c_leaf() {
        let payload = br#"{"hello":"world"}"#;
        let jws = identity().jws_rs256(payload).expect("jws");
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let x5c = header["x5c"].as_array().expect("x5c array");
        assert_eq!(x5c.len(), 2);
        let leaf_der = STANDARD.decode(x5c[0].as_str().unwrap()).unwrap();
        assert_eq!(leaf_der, identity().device_cert_der());
        assert_eq!(
            STANDARD.decode(x5c[1].as_str().unwrap()).unwrap(),
            identity().ca_cert_der()
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[1]).unwrap(), payload);

        let leaf = Certificate::from_der(&leaf_der).unwrap();
        rsa_verify(
            leaf.tbs_certificate().subject_public_key_info(),
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        );
    }

    #[test]
    fn device_cert_chains_to_ca() {
        let ca = Certificate::from_der(identity().ca_cert_der()).unwrap();
        let device = Certificate::from_der(identity().device_cert_der()).unwrap();
        let ca_tbs = ca.tbs_certificate();
        let tbs = device.tbs_certificate();
        assert_eq!(ca_tbs.subject().to_string(), "CN=Hermod Simulator Test CA");
        assert_eq!(ca_tbs.issuer(), ca_tbs.subject());
        assert_eq!(
            tbs.subject().to_string(),
            "CN=Hermod Simulator Device,O=Hermod Console"
        );
        assert_eq!(tbs.issuer(), ca_tbs.subject());
        let (_, constraints) = ca_tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(constraints.ca);
        let (_, usage) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
        assert!(usage.digital_signature());

        rsa_verify(
            ca_tbs.subject_public_key_info(),
            &tbs.to_der().unwrap(),
            device.signature().raw_bytes(),
        );
        rsa_verify(
            ca_tbs.subject_public_key_info(),
            &ca_tbs.to_der().unwrap(),
            ca.signature().raw_bytes(),
        );
    }

    #[test]
    fn pkcs7_signature_and_digest_verify() {
        let content = b"<sign>some document</sign>";
        let der = identity().pkcs7(content).expect("pkcs7");
        let info = ContentInfo::from_der(&der).unwrap();
        assert_eq!(info.content_type, rfc5911::ID_SIGNED_DATA);
        let signed: SignedData = info.content.decode_as().unwrap();
        let econtent = signed.encap_content_info.econtent.as_ref().unwrap();
        assert_eq!(
            econtent.decode_as::<OctetString>().unwrap().as_bytes(),
            content
        );

        let signer = signed.signer_infos.0.iter().next().expect("one signer");
        let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer.sid else {
            panic!("signer not identified by issuer and serial");
        };
        let certs = signed.certificates.as_ref().unwrap();
        assert_eq!(certs.0.len(), 2);
        let cert = certs
            .0
            .iter()
            .find_map(|choice| match choice {
                CertificateChoices::Certificate(c)
                    if c.tbs_certificate().serial_number() == &sid.serial_number
                        && c.tbs_certificate().issuer() == &sid.issuer =>
                {
                    Some(c)
                }
                _ => None,
            })
            .expect("signer certificate present");

        let attrs = signer.signed_attrs.as_ref().unwrap();
        let attr = |oid| {
            let attr = attrs.iter().find(|a| a.oid == oid).expect("attribute");
            attr.values.iter().next().unwrap().clone()
        };
        let digest = attr(rfc5911::ID_MESSAGE_DIGEST);
        assert_eq!(
            digest.decode_as::<OctetString>().unwrap().as_bytes(),
            Sha256::digest(content).as_slice()
        );
        assert_eq!(
            attr(rfc5911::ID_CONTENT_TYPE)
                .decode_as::<ObjectIdentifier>()
                .unwrap(),
            rfc5911::ID_DATA
        );
        attr(rfc5911::ID_SIGNING_TIME).decode_as::<Time>().unwrap();

        rsa_verify(
            cert.tbs_certificate().subject_public_key_info(),
            &attrs.to_der().unwrap(),
            signer.signature.as_bytes(),
        );
    }

    #[test]
    fn pkcs10_requests_carry_subject_and_verify() {
        let cn = r#"o'brien+ops@example.com, CN=evil "quoted" \ ünïcode"#;
        for (keytype, keylength) in [("rsa", "2048"), ("EC", "256"), ("ECDSA", "256")] {
            let der = pkcs10(keytype, keylength, cn).expect("pkcs10");
            let request = CertReq::from_der(&der).unwrap();
            let subject = &request.info.subject;
            assert_eq!(subject.iter_rdn().count(), 1);
            assert_eq!(subject.common_name().unwrap().unwrap().value(), cn);

            let message = request.info.to_der().unwrap();
            let signature = request.signature.raw_bytes();
            let spki = &request.info.public_key;
            if keytype.eq_ignore_ascii_case("rsa") {
                rsa_verify(spki, &message, signature);
                let key = RsaPublicKey::try_from(spki.owned_to_ref()).unwrap();
                assert_eq!(key.size(), 256);
            } else {
                let key = p256::ecdsa::VerifyingKey::try_from(spki.owned_to_ref()).unwrap();
                let signature = p256::ecdsa::DerSignature::try_from(signature).unwrap();
                key.verify(&message, &signature)
                    .expect("P-256 signature verifies");
            }
        }
        // The cache hands back the same key rather than generating a new one.
        let a = CertReq::from_der(&pkcs10("RSA", "2048", "a").unwrap()).unwrap();
        let b = CertReq::from_der(&pkcs10("RSA", "2048", "b").unwrap()).unwrap();
        assert_eq!(a.info.public_key, b.info.public_key);
    }

    #[test]
    fn pkcs10_rejects_unsupported_requests() {
        for (keytype, keylength) in [
            ("DSA", "2048"),
            ("RSA", "abc"),
            ("RSA", ""),
            ("RSA", "-2048"),
            ("RSA", "512"),
            ("RSA", "2050"),
            ("RSA", "8192"),
            ("RSA", "99999999999999999999999"),
            ("EC", "384"),
        ] {
            let error = pkcs10(keytype, keylength, "x").expect_err(keytype);
            assert!(error.to_string().contains(keytype), "{error}");
        }
    }

    #[test]
    fn dev_pki_chains_to_its_ca_and_rustls_accepts_it_for_its_hosts_and_purposes() {
        use rustls::client::WebPkiServerVerifier;
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
        use rustls::server::WebPkiClientVerifier;
        use x509_cert::ext::pkix::name::GeneralName;

        let hosts = ["localhost", "127.0.0.1", "hermod.test", "::1"].map(String::from);
        let pki = dev_pki(&hosts).expect("dev pki");
        let der = |pem: &str| CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM cert");
        let (ca, server, client) = (
            der(&pki.ca_cert),
            der(&pki.server_cert),
            der(&pki.client_cert),
        );

        // The X.509 view: names, CA flag, alternative names and purposes.
        let parsed = |d: &CertificateDer| Certificate::from_der(d).expect("X.509");
        let (ca_x, server_x, client_x) = (parsed(&ca), parsed(&server), parsed(&client));
        let ca_tbs = ca_x.tbs_certificate();
        assert_eq!(ca_tbs.issuer(), ca_tbs.subject());
        assert!(
            ca_tbs
                .subject()
                .to_string()
                .starts_with("CN=Hermod Console dev CA ")
        );
        let (_, constraints) = ca_tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
        assert!(constraints.ca);
        let server_tbs = server_x.tbs_certificate();
        assert_eq!(server_tbs.subject().to_string(), "CN=localhost");
        assert_eq!(server_tbs.issuer(), ca_tbs.subject());
        let (_, san) = server_tbs
            .get_extension::<SubjectAltName>()
            .unwrap()
            .unwrap();
        assert!(san.0.contains(&GeneralName::DnsName(
            Ia5String::new("hermod.test").unwrap()
        )));
        assert!(san.0.contains(&GeneralName::IpAddress(
            OctetString::new(vec![127, 0, 0, 1]).unwrap()
        )));
        let (_, eku) = server_tbs
            .get_extension::<ExtendedKeyUsage>()
            .unwrap()
            .unwrap();
        assert_eq!(eku.0, vec![rfc5280::ID_KP_SERVER_AUTH]);
        let client_tbs = client_x.tbs_certificate();
        assert_eq!(client_tbs.subject().to_string(), "CN=hermod-console");
        let (_, eku) = client_tbs
            .get_extension::<ExtendedKeyUsage>()
            .unwrap()
            .unwrap();
        assert_eq!(eku.0, vec![rfc5280::ID_KP_CLIENT_AUTH]);

        // The chain, as rustls (the console's and the simulator's TLS) checks it.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).expect("the CA is a trust anchor");
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let servers = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .unwrap();
        let as_server = |cert: &CertificateDer<'static>, host: &str| {
            let name = ServerName::try_from(host.to_string()).unwrap();
            servers.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
        };
        for host in &hosts {
            as_server(&server, host).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        assert!(as_server(&server, "other.test").is_err(), "only its hosts");
        assert!(
            as_server(&client, "localhost").is_err(),
            "a client cert is no server cert"
        );
        let clients = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .unwrap();
        clients
            .verify_client_cert(&client, &[], UnixTime::now())
            .expect("the client certificate is accepted");
        assert!(
            clients
                .verify_client_cert(&server, &[], UnixTime::now())
                .is_err(),
            "a server cert is no client cert"
        );

        // Each key belongs to its certificate.
        for (cert, key) in [(&server, &pki.server_key), (&client, &pki.client_key)] {
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("PKCS#8 PEM");
            let key = provider.key_provider.load_private_key(key).unwrap();
            rustls::sign::CertifiedKey::new(vec![cert.clone()], key)
                .keys_match()
                .expect("key fits certificate");
        }

        // Another run is another CA, whose certificates the first one's trust does not cover.
        let other = dev_pki(&hosts).expect("second dev pki");
        assert_ne!(other.ca_cert, pki.ca_cert);
        assert!(as_server(&der(&other.server_cert), "localhost").is_err());
        assert!(dev_pki(&[]).is_err());
        assert!(dev_pki(&["bad host/".to_string()]).is_err());
    }

    #[test]
    fn transport_key_is_rsa_2048_spki() {
        let der = transport_key_spki_der().expect("spki");
        let key = RsaPublicKey::from_public_key_der(&der).expect("RSA SPKI");
        assert_eq!(key.size(), 256);
    }
}
