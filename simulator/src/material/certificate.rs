//! X.509 certificates: names, validity, and a CA that issues them with the extensions each use
//! needs.

use super::keys::spki;
use super::{MaterialError, fail};
use der::asn1::ObjectIdentifier;
use der::oid::db::rfc5280;
use der::{Any, Decode, Encode, Tag};
use rand::rngs::StdRng;
use rsa::signature::{Keypair, Signer};
use spki::{
    DynSignatureAlgorithmIdentifier, EncodePublicKey, SignatureBitStringEncoding,
    SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use std::time::{Duration, SystemTime};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::{Certificate, TbsCertificate};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Builds a Name from (type, value) pairs in DER order, one attribute per RDN, all UTF8String.
/// Building from components rather than parsing an RFC 4514 string means operator-typed text
/// (commas, plus signs, quotes, e-mail addresses) needs no escaping and cannot inject RDNs.
pub(super) fn name(rdns: &[(ObjectIdentifier, &str)]) -> Result<Name, MaterialError> {
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

/// From an hour ago (so a verifier whose clock is slightly behind still accepts the chain) to
/// `days` from now.
pub(super) fn validity(days: u64) -> Result<Validity, MaterialError> {
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

/// A CA while it issues: its name, its key, and the validity it gives. The key is only borrowed, so
/// when its owner drops it nothing more can be issued.
pub(super) struct Ca<'k, K> {
    pub name: Name,
    pub key: &'k K,
    pub validity: Validity,
}

impl<K> Ca<'_, K>
where
    K: Keypair + DynSignatureAlgorithmIdentifier,
    K::VerifyingKey: EncodePublicKey,
{
    /// The CA's own certificate, self-signed with signature type `Sig`.
    pub fn root<Sig>(&self, rng: &mut StdRng) -> Result<Certificate, MaterialError>
    where
        K: Signer<Sig>,
        Sig: SignatureBitStringEncoding,
    {
        self.issue::<Sig>(self.name.clone(), Usage::Ca, spki(self.key)?, rng)
    }

    /// A certificate for `subject_key` named `subject`, signed with signature type `Sig`.
    pub fn issue<Sig>(
        &self,
        subject: Name,
        usage: Usage,
        subject_key: SubjectPublicKeyInfoOwned,
        rng: &mut StdRng,
    ) -> Result<Certificate, MaterialError>
    where
        K: Signer<Sig>,
        Sig: SignatureBitStringEncoding,
    {
        let profile = Profile {
            subject,
            issuer: self.name.clone(),
            usage,
        };
        CertificateBuilder::new(
            profile,
            SerialNumber::generate(rng),
            self.validity,
            subject_key,
        )
        .and_then(|builder| builder.build::<_, Sig>(self.key))
        .map_err(fail("issuing certificate"))
    }
}

/// The stock CA/B Forum root profile insists on C and O in CA names, which the simulator's
/// fixed "CN=Hermod Simulator Test CA" lacks, so this is the small profile we need instead.
struct Profile {
    subject: Name,
    issuer: Name,
    usage: Usage,
}

/// What a certificate is for.
pub(super) enum Usage {
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
        // An issued certificate names where its revocation would be published, as a real CA's do;
        // `.invalid` (RFC 2606) says plainly that nothing answers there.
        if !ca {
            let uri = |path: &str| -> x509_cert::builder::Result<GeneralName> {
                Ok(GeneralName::UniformResourceIdentifier(
                    format!("http://pki.hermod-simulator.invalid/{path}").try_into()?,
                ))
            };
            let point = DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri("ca.crl")?])),
                reasons: None,
                crl_issuer: None,
            };
            extensions.push(CrlDistributionPoints(vec![point]).to_extension(subject, &[])?);
            let access = |method, path| -> x509_cert::builder::Result<AccessDescription> {
                Ok(AccessDescription {
                    access_method: method,
                    access_location: uri(path)?,
                })
            };
            let aia = AuthorityInfoAccessSyntax(vec![
                access(rfc5280::ID_AD_OCSP, "ocsp")?,
                access(rfc5280::ID_AD_CA_ISSUERS, "ca.crt")?,
            ]);
            extensions.push(aia.to_extension(subject, &[])?);
        }
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
