//! What a signature is worth beyond its own check: whether the signer's certificate was valid when it
//! signed, and whether it chains (through the certificates the message carries) to a CA the operator
//! trusts for that client (`clients.<id>.trust_bundle`, README "Verification").

use super::encoding::pem_blocks;
use super::verify::{self, Outcome, Scheme};
use super::x509;
use crate::clock::rfc3339;
use der::Decode;
use hermod_shared::decoded::Check;
use std::path::Path;
use x509_cert::certificate::Certificate;

/// Certificates between a signer and its anchor at most; real chains have one to three.
const MAX_CHAIN: usize = 8;

/// A client's trust anchors: the CA certificates of one PEM file.
#[derive(Debug)]
pub struct TrustBundle {
    /// Where it was read from, named in every chain check.
    source: String,
    anchors: Vec<Certificate>,
}

impl TrustBundle {
    pub fn load(path: &Path) -> Result<TrustBundle, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        TrustBundle::from_pem(&path.display().to_string(), &text)
    }

    /// Every CERTIFICATE block of `pem`; none, or one that does not parse, is an error.
    pub fn from_pem(source: &str, pem: &str) -> Result<TrustBundle, String> {
        let anchors = pem_blocks(pem)
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                block
                    .and_then(|der| Certificate::from_der(&der).map_err(|e| e.to_string()))
                    .map_err(|e| format!("{source}: PEM block {} is not a certificate: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if anchors.is_empty() {
            return Err(format!("{source}: no PEM CERTIFICATE block"));
        }
        Ok(TrustBundle {
            source: source.to_string(),
            anchors,
        })
    }
}

/// The signer's certificate at signing time (`at`: seconds since 1970, when the message says).
pub(super) fn validity(cert: &Certificate, at: Option<u64>) -> Check {
    const NAME: &str = "validity";
    let v = cert.tbs_certificate().validity();
    let span = format!(
        "{} → {}",
        x509::time(&v.not_before),
        x509::time(&v.not_after)
    );
    let Some(at) = at else {
        return Check::not_checked(NAME, format!("the message names no signing time ({span})"));
    };
    let when = rfc3339(i64::try_from(at).unwrap_or(i64::MAX).saturating_mul(1000));
    if at < v.not_before.to_unix_duration().as_secs() {
        Check::failed(
            NAME,
            format!("not yet valid when it signed at {when} ({span})"),
        )
    } else if at > v.not_after.to_unix_duration().as_secs() {
        Check::failed(NAME, format!("expired when it signed at {when} ({span})"))
    } else {
        Check::passed(NAME, format!("valid when it signed at {when} ({span})"))
    }
}

/// From `leaf` up through `carried` to an anchor of `trust`, each link's signature checked.
pub(super) fn chain(
    leaf: &Certificate,
    carried: &[&Certificate],
    trust: Option<&TrustBundle>,
) -> Check {
    const NAME: &str = "chain";
    let Some(trust) = trust else {
        return Check::not_checked(
            NAME,
            "no trust bundle is configured for this client (clients.<id>.trust_bundle)",
        );
    };
    let subject = |c: &Certificate| x509::name(c.tbs_certificate().subject());
    let anchored = |path: &[String]| {
        Check::passed(
            NAME,
            format!("{} (an anchor of {})", path.join(" ← "), trust.source),
        )
    };
    let mut path = vec![subject(leaf)];
    let mut cert = leaf;
    for _ in 0..MAX_CHAIN {
        if trust.anchors.contains(cert) {
            return anchored(&path);
        }
        let issuer = cert.tbs_certificate().issuer();
        for anchor in trust
            .anchors
            .iter()
            .filter(|a| a.tbs_certificate().subject() == issuer)
        {
            match signed_by(cert, anchor) {
                Outcome::Valid => {
                    path.push(subject(anchor));
                    return anchored(&path);
                }
                Outcome::NotChecked(why) => return Check::not_checked(NAME, why),
                Outcome::Invalid(_) => {}
            }
        }
        let next = carried.iter().copied().find(|c| {
            *c != cert
                && c.tbs_certificate().subject() == issuer
                && signed_by(cert, c) == Outcome::Valid
        });
        match next {
            Some(next) => {
                path.push(subject(next));
                cert = next;
            }
            None => {
                return Check::failed(
                    NAME,
                    format!(
                        "{} is not issued by a CA of {} (path {})",
                        subject(cert),
                        trust.source,
                        path.join(" ← ")
                    ),
                );
            }
        }
    }
    Check::failed(NAME, format!("no anchor within {MAX_CHAIN} certificates"))
}

/// Whether `issuer`'s key made `cert`'s signature (within the body's budget of checks).
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Outcome {
    let scheme = match Scheme::from_algorithm(cert.signature_algorithm(), None) {
        Ok(scheme) => scheme,
        Err(why) => return Outcome::NotChecked(why),
    };
    let tbs = match der::Encode::to_der(cert.tbs_certificate()) {
        Ok(tbs) => tbs,
        Err(e) => return Outcome::NotChecked(format!("certificate: {e}")),
    };
    let Some(signature) = cert.signature().as_bytes() else {
        return Outcome::Invalid("a signature of unused bits".into());
    };
    verify::verify(
        issuer.tbs_certificate().subject_public_key_info(),
        scheme,
        &tbs,
        signature,
    )
}
