//! Signature checks with the RustCrypto crates in the tree: RSA PKCS#1 v1.5 and PSS, ECDSA on
//! P-256 and P-384, each with SHA-256/384/512. Anything else is reported as not checked, never as
//! invalid, so an unusual algorithm is not mistaken for a forgery.

use der::Encode;
use der::asn1::ObjectIdentifier;
use der::oid::db::{rfc5912, rfc8410};
use der::referenced::OwnedToRef;
use hermod_shared::decoded::Check;
use rsa::pkcs1::{DecodeRsaPublicKey, RsaPssParamsOwned};
use rsa::signature::hazmat::PrehashVerifier;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss};
use sha2::digest::const_oid::AssociatedOid;
use sha2::digest::{Digest, FixedOutputReset};
use sha2::{Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::cell::Cell;

use super::oid::oid_name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(super) fn from_oid(oid: &ObjectIdentifier) -> Result<Hash, String> {
        match *oid {
            rfc5912::ID_SHA_256 => Ok(Hash::Sha256),
            rfc5912::ID_SHA_384 => Ok(Hash::Sha384),
            rfc5912::ID_SHA_512 => Ok(Hash::Sha512),
            _ => Err(format!("digest {} is not verified here", oid_name(oid))),
        }
    }

    pub(super) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// How ECDSA's (r, s) travel: DER `Ecdsa-Sig-Value` in X.509 and CMS, fixed-size r‖s in JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EcdsaEncoding {
    Der,
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    Pkcs1(Hash),
    Pss(Hash),
    Ecdsa(Hash, EcdsaEncoding),
}

impl Scheme {
    /// The JWA `alg` of a JWS header (RFC 7518 §3.1).
    pub(super) fn from_jws(alg: &str) -> Result<Scheme, String> {
        let fixed = EcdsaEncoding::Fixed;
        Ok(match alg {
            "RS256" => Scheme::Pkcs1(Hash::Sha256),
            "RS384" => Scheme::Pkcs1(Hash::Sha384),
            "RS512" => Scheme::Pkcs1(Hash::Sha512),
            "PS256" => Scheme::Pss(Hash::Sha256),
            "PS384" => Scheme::Pss(Hash::Sha384),
            "PS512" => Scheme::Pss(Hash::Sha512),
            "ES256" => Scheme::Ecdsa(Hash::Sha256, fixed),
            "ES384" => Scheme::Ecdsa(Hash::Sha384, fixed),
            "none" => return Err("unsecured JWS (alg \"none\")".into()),
            other => return Err(format!("alg {other:?} is not verified here")),
        })
    }

    /// An X.509/PKCS#10/CMS signature algorithm. CMS signers often name only the key type
    /// (rsaEncryption, id-ecPublicKey) and give the hash separately as `digest`.
    pub(super) fn from_algorithm(
        alg: &AlgorithmIdentifierOwned,
        digest: Option<Hash>,
    ) -> Result<Scheme, String> {
        let der = EcdsaEncoding::Der;
        let needs_digest =
            || digest.ok_or_else(|| format!("{} without a digest", oid_name(&alg.oid)));
        Ok(match alg.oid {
            rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha256),
            rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha384),
            rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha512),
            rfc5912::RSA_ENCRYPTION => Scheme::Pkcs1(needs_digest()?),
            rfc5912::ID_RSASSA_PSS => Scheme::Pss(pss_hash(alg)?),
            rfc5912::ECDSA_WITH_SHA_256 => Scheme::Ecdsa(Hash::Sha256, der),
            rfc5912::ECDSA_WITH_SHA_384 => Scheme::Ecdsa(Hash::Sha384, der),
            rfc5912::ECDSA_WITH_SHA_512 => Scheme::Ecdsa(Hash::Sha512, der),
            rfc5912::ID_EC_PUBLIC_KEY => Scheme::Ecdsa(needs_digest()?, der),
            _ => return Err(format!("{} is not verified here", oid_name(&alg.oid))),
        })
    }

    fn hash(self) -> Hash {
        match self {
            Scheme::Pkcs1(h) | Scheme::Pss(h) | Scheme::Ecdsa(h, _) => h,
        }
    }
}

/// RSASSA-PSS names its hash in the parameters (absent parameters mean SHA-1, not verified).
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Result<Hash, String> {
    let params = alg
        .parameters
        .as_ref()
        .ok_or("RSASSA-PSS with default (SHA-1) parameters is not verified here")?
        .to_der()
        .map_err(|e| format!("RSASSA-PSS parameters: {e}"))?;
    let params = RsaPssParamsOwned::try_from(params.as_slice())
        .map_err(|e| format!("RSASSA-PSS parameters: {e}"))?;
    Hash::from_oid(&params.hash.oid)
}

/// The outcome of one check; [`Outcome::check`] names the key's holder when it is valid.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Valid,
    Invalid(String),
    NotChecked(String),
}

impl Outcome {
    /// The signature's own check, beside the others of [`super::trust`].
    pub(super) fn check(self, by: &str) -> Check {
        const NAME: &str = "signature";
        match self {
            Outcome::Valid => Check::passed(NAME, format!("valid ({by})")),
            Outcome::Invalid(reason) => Check::failed(NAME, format!("invalid: {reason}")),
            Outcome::NotChecked(reason) => Check::not_checked(NAME, reason),
        }
    }
}

/// Signature checks one body may cost: a message can carry thousands of signers, and one check with
/// a large RSA key takes milliseconds. The rest are reported as not checked.
pub(super) const MAX_CHECKS: u32 = 16;
/// The largest RSA key checked, and the longest public exponent: beyond them a check costs seconds
/// and no real key is that large.
const MAX_RSA_BITS: u32 = 4096;
const MAX_RSA_EXPONENT_BITS: u32 = 32;

thread_local! {
    /// Checks left for the body being decoded on this thread (decoding is synchronous).
    static CHECKS_LEFT: Cell<u32> = const { Cell::new(MAX_CHECKS) };
}

/// Starts a body's budget of signature checks.
pub(super) fn new_budget() {
    CHECKS_LEFT.set(MAX_CHECKS);
}

/// Checks `signature` over `message` with the key in `spki`, within the body's budget.
pub(super) fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Outcome {
    let left = CHECKS_LEFT.get();
    if left == 0 {
        return Outcome::NotChecked(format!(
            "not checked: too many signatures in one body (the first {MAX_CHECKS} were)"
        ));
    }
    CHECKS_LEFT.set(left - 1);
    check(spki, scheme, message, signature)
}

fn check(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: Scheme,
    message: &[u8],
    signature: &[u8],
) -> Outcome {
    let prehash = scheme.hash().digest(message);
    let key_oid = spki.algorithm.oid;
    let result = match scheme {
        Scheme::Pkcs1(hash) | Scheme::Pss(hash) => {
            if key_oid != rfc5912::RSA_ENCRYPTION && key_oid != rfc5912::ID_RSASSA_PSS {
                return Outcome::Invalid(key_mismatch(&key_oid, "an RSA"));
            }
            // The key itself, whatever the SPKI algorithm OID (rsaEncryption or RSASSA-PSS).
            let key = match rsa::PublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes()) {
                Ok(key) => key,
                Err(e) => return Outcome::NotChecked(format!("unusable RSA key: {e}")),
            };
            let (bits, e_bits) = (key.n().bit_width(), key.e().bit_width());
            if bits > MAX_RSA_BITS || e_bits > MAX_RSA_EXPONENT_BITS {
                return Outcome::NotChecked(format!(
                    "not checked: an RSA key of {bits} bits with a {e_bits}-bit exponent (checked up \
                     to {MAX_RSA_BITS} bits and {MAX_RSA_EXPONENT_BITS})"
                ));
            }
            let pss = matches!(scheme, Scheme::Pss(_));
            match hash {
                Hash::Sha256 => rsa_verify::<Sha256>(&key, pss, &prehash, signature),
                Hash::Sha384 => rsa_verify::<Sha384>(&key, pss, &prehash, signature),
                Hash::Sha512 => rsa_verify::<Sha512>(&key, pss, &prehash, signature),
            }
        }
        Scheme::Ecdsa(_, encoding) => {
            if key_oid != rfc5912::ID_EC_PUBLIC_KEY {
                return Outcome::Invalid(key_mismatch(&key_oid, "an EC"));
            }
            let spki = spki.owned_to_ref();
            let curve = spki.algorithm.parameters.and_then(|p| p.decode_as().ok());
            // The two curve crates have the same API but no common trait to be generic over.
            macro_rules! ecdsa {
                ($curve:ident) => {{
                    let key = match $curve::ecdsa::VerifyingKey::try_from(spki) {
                        Ok(key) => key,
                        Err(e) => return Outcome::NotChecked(format!("unusable EC key: {e}")),
                    };
                    let signature = match encoding {
                        EcdsaEncoding::Der => $curve::ecdsa::Signature::from_der(signature),
                        EcdsaEncoding::Fixed => $curve::ecdsa::Signature::from_slice(signature),
                    };
                    signature.and_then(|s| key.verify_prehash(&prehash, &s))
                }};
            }
            match curve {
                Some(rfc5912::SECP_256_R_1) => ecdsa!(p256),
                Some(rfc5912::SECP_384_R_1) => ecdsa!(p384),
                Some(other) => {
                    return Outcome::NotChecked(format!(
                        "curve {} is not verified here",
                        oid_name(&other)
                    ));
                }
                None => return Outcome::NotChecked("EC key without a named curve".into()),
            }
            .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => Outcome::Valid,
        Err(e) => Outcome::Invalid(format!("the signature does not verify ({e})")),
    }
}

fn rsa_verify<D>(
    key: &rsa::PublicKey,
    pss: bool,
    prehash: &[u8],
    signature: &[u8],
) -> Result<(), String>
where
    D: Digest + AssociatedOid + FixedOutputReset,
{
    let result = if pss {
        // Any salt length: RFC 7518 fixes it for JWS, but CMS and X.509 may use others.
        let scheme = Pss::<D> {
            blinded: false,
            digest: D::new(),
            salt_len: None,
        };
        key.verify(scheme, prehash, signature)
    } else {
        key.verify(Pkcs1v15Sign::new::<D>(), prehash, signature)
    };
    result.map_err(|e| e.to_string())
}

fn key_mismatch(key_oid: &ObjectIdentifier, needed: &str) -> String {
    let key = if *key_oid == rfc8410::ID_ED_25519 {
        "Ed25519".to_string()
    } else {
        oid_name(key_oid)
    };
    format!("the signer's key is {key}, the algorithm needs {needed} key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::{BitString, UintRef};
    use der::{Any, Decode, Tag};
    use rand::SeedableRng as _;
    use rand::rngs::{StdRng, SysRng};
    use rsa::signature::Signer as _;
    use spki::EncodePublicKey as _;

    /// An RSA public key of `bits` bits with exponent `e`, as a certificate carries it.
    fn rsa_spki(bits: usize, e: &[u8]) -> SubjectPublicKeyInfoOwned {
        let mut n = vec![0xff; bits / 8];
        n[bits / 8 - 1] = 0xfb;
        let key = rsa::pkcs1::RsaPublicKey {
            modulus: UintRef::new(&n).unwrap(),
            public_exponent: UintRef::new(e).unwrap(),
        };
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: rfc5912::RSA_ENCRYPTION,
                parameters: Some(Any::new(Tag::Null, Vec::new()).unwrap()),
            },
            subject_public_key: BitString::from_bytes(&key.to_der().unwrap()).unwrap(),
        }
    }

    #[test]
    fn rsa_keys_past_4096_bits_or_with_long_exponents_are_not_checked() {
        let scheme = Scheme::Pkcs1(Hash::Sha256);
        let not_checked = |spki: &SubjectPublicKeyInfoOwned| {
            new_budget();
            match verify(spki, scheme, b"m", &[0; 16]) {
                Outcome::NotChecked(reason) => reason,
                other => panic!("{other:?}"),
            }
        };
        let reason = not_checked(&rsa_spki(4096, &[0x01, 0x00, 0x00, 0x00, 0x01]));
        assert!(reason.contains("33-bit exponent"), "{reason}");
        // A key within the limits is checked (and this signature does not verify).
        new_budget();
        assert!(matches!(
            verify(
                &rsa_spki(2048, &[0x01, 0x00, 0x01]),
                scheme,
                b"m",
                &[0; 256]
            ),
            Outcome::Invalid(_)
        ));
        // Past 4096 bits the key is refused before any work, by the library or by us.
        let reason = not_checked(&rsa_spki(8192, &[0x01, 0x00, 0x01]));
        assert!(reason.contains("RSA key"), "{reason}");
    }

    #[test]
    fn verifies_ecdsa_and_pss_signatures() {
        let mut rng = StdRng::try_from_rng(&mut SysRng).unwrap();
        let message = b"header.payload";
        let spki_of = |der: &[u8]| SubjectPublicKeyInfoOwned::from_der(der).unwrap();
        let check = |spki: &SubjectPublicKeyInfoOwned, scheme, signature: &[u8]| {
            (
                verify(spki, scheme, message, signature),
                verify(spki, scheme, b"header.tampered", signature),
            )
        };
        let valid = |(good, bad): (Outcome, Outcome)| {
            assert_eq!(good, Outcome::Valid);
            assert!(matches!(bad, Outcome::Invalid(_)), "{bad:?}");
        };

        use p256::elliptic_curve::Generate as _;
        let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let spki = spki_of(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let signature: p256::ecdsa::Signature = key.sign(message);
        valid(check(
            &spki,
            Scheme::from_jws("ES256").unwrap(),
            &signature.to_bytes(),
        ));
        let der_scheme = Scheme::Ecdsa(Hash::Sha256, EcdsaEncoding::Der);
        valid(check(&spki, der_scheme, signature.to_der().as_bytes()));

        let key = p384::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let spki384 = spki_of(key.verifying_key().to_public_key_der().unwrap().as_bytes());
        let signature: p384::ecdsa::Signature = key.sign(message);
        valid(check(
            &spki384,
            Scheme::from_jws("ES384").unwrap(),
            &signature.to_bytes(),
        ));

        let key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
        let spki_rsa = spki_of(key.to_public_key().to_public_key_der().unwrap().as_bytes());
        let signature = key.pss_sign::<Sha256>(message).unwrap();
        valid(check(
            &spki_rsa,
            Scheme::from_jws("PS256").unwrap(),
            &signature,
        ));
        assert!(matches!(
            verify(
                &spki_rsa,
                Scheme::from_jws("RS256").unwrap(),
                message,
                &signature
            ),
            Outcome::Invalid(_)
        ));
        // Key and algorithm of different families.
        assert!(matches!(
            verify(&spki, Scheme::from_jws("RS256").unwrap(), message, &signature),
            Outcome::Invalid(reason) if reason.contains("RSA key")
        ));
        for alg in ["HS256", "EdDSA", "none", "ES512"] {
            assert!(Scheme::from_jws(alg).is_err(), "{alg}");
        }
    }
}
