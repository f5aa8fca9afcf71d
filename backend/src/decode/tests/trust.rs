//! A signer's certificate at signing time and its chain to a client's trust bundle.

use hermod_shared::decoded::{Check, Decoded};
use serde_json::json;

use super::{CA, DEVICE, b64, check, identity, only, pem};
use crate::decode::{TrustBundle, decode_body};
use hermod_simulator::material::Identity;

fn bundle(ca_der: &[u8]) -> TrustBundle {
    TrustBundle::from_pem("ca.pem", &pem("CERTIFICATE", ca_der)).expect("a bundle")
}

/// The checks of the one signer of the simulator's PKCS#7, decoded with `trust`.
fn pkcs7_checks(trust: &TrustBundle) -> Vec<Check> {
    let der = identity().pkcs7(b"Pay 100 EUR").unwrap();
    let items = decode_body(&json!({"response": b64(&der)}), Some(trust));
    let Decoded::Pkcs7(p7) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    p7.signers[0].checks.clone()
}

fn jws_checks(payload: &[u8], trust: &TrustBundle) -> Vec<Check> {
    let jws = identity().jws_rs256(payload).unwrap();
    let items = decode_body(&json!({"response": jws}), Some(trust));
    let Decoded::Jws { checks, .. } = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    checks.clone()
}

#[test]
fn a_signer_issued_by_the_bundles_ca_chains_to_it_and_one_of_another_ca_does_not() {
    let ours = bundle(identity().ca_cert_der());
    let chain = check(&pkcs7_checks(&ours), "chain").clone();
    assert_eq!(chain.passed, Some(true), "{chain:#?}");
    assert_eq!(
        chain.detail,
        format!("{DEVICE} ← {CA} (an anchor of ca.pem)")
    );
    let jws = jws_checks(b"challenge", &ours);
    assert_eq!(check(&jws, "chain").passed, Some(true), "{jws:#?}");

    // Another run's CA has the same name but another key: the link does not verify.
    let other = Identity::generate().unwrap();
    let theirs = bundle(other.ca_cert_der());
    let chain = check(&pkcs7_checks(&theirs), "chain").clone();
    assert_eq!(chain.passed, Some(false), "{chain:#?}");
    assert!(
        chain.detail.contains("is not issued by a CA of ca.pem"),
        "{chain:#?}"
    );

    // The signer's own certificate in the bundle is trusted as it is.
    let leaf = bundle(identity().device_cert_der());
    let chain = check(&pkcs7_checks(&leaf), "chain").clone();
    assert_eq!(chain.passed, Some(true), "{chain:#?}");
}

#[test]
fn the_certificate_is_checked_at_the_signing_time_the_message_gives() {
    let ours = bundle(identity().ca_cert_der());
    let at = check(&pkcs7_checks(&ours), "validity").clone();
    assert_eq!(at.passed, Some(true), "{at:#?}");
    assert!(at.detail.starts_with("valid when it signed at "), "{at:#?}");

    let long_ago = jws_checks(br#"{"iat": 1}"#, &ours);
    let at = check(&long_ago, "validity");
    assert_eq!(at.passed, Some(false), "{at:#?}");
    assert!(
        at.detail
            .starts_with("not yet valid when it signed at 1970-01-01T00:00:01"),
        "{at:#?}"
    );
    let far_ahead = jws_checks(br#"{"iat": 32503680000}"#, &ours);
    assert!(
        check(&far_ahead, "validity")
            .detail
            .starts_with("expired when it signed at 3000-")
    );
}

#[test]
fn a_bundle_must_hold_certificates_only() {
    let not_pem = TrustBundle::from_pem("x.pem", "hello").unwrap_err();
    assert_eq!(not_pem, "x.pem: no PEM CERTIFICATE block");
    let request = pem("CERTIFICATE", b"\x30\x03\x02\x01\x01");
    let bad = TrustBundle::from_pem("y.pem", &request).unwrap_err();
    assert!(
        bad.starts_with("y.pem: PEM block 1 is not a certificate"),
        "{bad}"
    );
}
