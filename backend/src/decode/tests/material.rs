//! Certificates, requests, JWS and PKCS#7 as Hermod's callbacks carry them: their summaries,
//! their signatures, and the words they give the search.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use der::Decode;
use hermod_shared::decoded::{CertSummary, Check, Decoded, KeyInfo};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use x509_cert::certificate::Certificate;

use super::{CA, DEVICE, b64, check, decode_body, decode_text, identity, only, pem};
use crate::decode::search_text;
use hermod_simulator::material;

#[test]
fn sign_callback_pkcs7_is_decoded_and_verified() {
    let text = "Pay 100 EUR to ACME";
    let der = identity().pkcs7(text.as_bytes()).expect("pkcs7");
    let body = json!({"commandId": "1", "state": "COMPLETED", "response": b64(&der)});
    let items = decode_body(&body);
    let item = only(&items);
    assert_eq!(item.pointer, "/response");
    assert_eq!(item.label, "response (PKCS#7)");
    let Decoded::Pkcs7(p7) = &item.decoded else {
        panic!("{item:#?}")
    };
    assert_eq!(p7.content.as_deref(), Some(text));
    assert_eq!(p7.digest_algorithms, ["sha256"]);
    let [signer] = &p7.signers[..] else {
        panic!("one signer: {p7:#?}")
    };
    assert_eq!(signer.signer, DEVICE);
    assert_eq!(
        check(&signer.checks, "signature").detail,
        format!("valid ({DEVICE})")
    );
    let outcomes: Vec<_> = signer.checks.iter().map(Check::outcome).collect();
    assert_eq!(
        outcomes,
        [
            ("digest", Some(true)),
            ("signature", Some(true)),
            ("validity", Some(true)),
            ("chain", None)
        ],
        "{signer:#?}"
    );
    assert!(
        check(&signer.checks, "chain")
            .detail
            .contains("no trust bundle")
    );
    assert_eq!(signer.digest_algorithm, "sha256");
    assert_eq!(signer.signature_algorithm, "sha256WithRSAEncryption");
    assert!(
        signer
            .signing_time
            .as_deref()
            .is_some_and(|t| t.ends_with('Z'))
    );
    // CertificateSet is a DER SET OF: sorted by encoding, not in the order the signer listed.
    let mut subjects: Vec<_> = p7
        .certificates
        .iter()
        .map(|c| (c.subject.as_str(), c.is_ca))
        .collect();
    subjects.sort();
    assert_eq!(subjects, [(DEVICE, false), (CA, true)]);

    // The same message as PEM, and as a bare non-JSON body.
    assert_eq!(decode_text(&pem("PKCS7", &der))[0].decoded, item.decoded);
    assert_eq!(decode_text(&b64(&der))[0].decoded, item.decoded);

    // Content changed after signing: the message-digest attribute no longer matches.
    let mut tampered = der.clone();
    let at = der
        .windows(text.len())
        .position(|w| w == text.as_bytes())
        .unwrap();
    tampered[at] ^= 0x01;
    let items = decode_body(&json!({"response": b64(&tampered)}));
    let Decoded::Pkcs7(p7) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    let signed = check(&p7.signers[0].checks, "signature");
    assert!(
        signed.passed == Some(false) && signed.detail.contains("message-digest"),
        "{p7:#?}"
    );
    assert_eq!(
        (
            p7.signers[0].checks[0].name.as_str(),
            p7.signers[0].checks[0].passed
        ),
        ("digest", Some(false))
    );
}

#[test]
fn authenticate_callback_jws_verifies_with_its_x5c() {
    let jws = identity().jws_rs256(b"challenge 0123456789").expect("jws");
    let body = json!({"commandId": "2", "state": "COMPLETED", "response": jws});
    let items = decode_body(&body);
    let item = only(&items);
    assert_eq!(
        (item.pointer.as_str(), item.label.as_str()),
        ("/response", "response (JWS)")
    );
    let Decoded::Jws {
        header,
        payload,
        payload_is_json,
        signature_b64url,
        checks,
        certificates,
    } = &item.decoded
    else {
        panic!("{item:#?}")
    };
    assert_eq!(header["alg"], "RS256");
    assert_eq!(payload, &json!("challenge 0123456789"));
    assert!(!payload_is_json);
    assert_eq!(Some(signature_b64url.as_str()), jws.rsplit('.').next());
    // The payload is text, so no `iat` says when it was signed; no bundle to chain to.
    let outcomes: Vec<_> = checks.iter().map(Check::outcome).collect();
    assert_eq!(
        outcomes,
        [
            ("signature", Some(true)),
            ("validity", None),
            ("chain", None)
        ],
        "{checks:#?}"
    );
    let [device, ca] = &certificates[..] else {
        panic!("two certificates: {certificates:#?}")
    };
    assert_eq!(
        (device.subject.as_str(), device.issuer.as_str()),
        (DEVICE, CA)
    );
    assert_eq!(
        device.key,
        KeyInfo {
            algorithm: "RSA".into(),
            bits: Some(2048),
            curve: None
        }
    );
    assert_eq!(device.signature_algorithm, "sha256WithRSAEncryption");
    assert!(ca.is_ca && !device.is_ca);
}

#[test]
fn certificates_a_signature_carries_say_what_they_are_to_it_and_a_lone_one_says_nothing() {
    // The simulator's signatures carry its device's certificate and the test CA's, which issued it.
    let roles = |certificates: &[CertSummary]| -> Vec<(String, Option<String>)> {
        let mut roles: Vec<_> = certificates
            .iter()
            .map(|c| (c.subject.clone(), c.role.clone()))
            .collect();
        roles.sort();
        roles
    };
    let expected = vec![
        (DEVICE.to_string(), Some("signer".to_string())),
        (
            CA.to_string(),
            Some("issuer of Hermod Simulator Device (self-signed root)".to_string()),
        ),
    ];
    let p7 = identity().pkcs7(b"Pay 100 EUR to ACME").unwrap();
    let items = decode_body(&json!({"response": b64(p7)}));
    let Decoded::Pkcs7(p7) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(roles(&p7.certificates), expected);
    let jws = identity().jws_rs256(b"challenge").unwrap();
    let items = decode_body(&json!({"response": jws}));
    let Decoded::Jws { certificates, .. } = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(roles(certificates), expected);

    // On their own, the same certificates are nothing to anything: one item each, no role.
    let chain = pem("CERTIFICATE", identity().device_cert_der())
        + &pem("CERTIFICATE", identity().ca_cert_der());
    let items = decode_text(&chain);
    assert_eq!(items.len(), 2);
    for item in &items {
        let Decoded::Certificate(cert) = &item.decoded else {
            panic!("{item:#?}")
        };
        assert_eq!(cert.role, None, "{cert:#?}");
    }
    // Nor does the role reach the JSON of one.
    assert!(!serde_json::to_string(&items).unwrap().contains("role"));
}

#[test]
fn tampered_jws_is_invalid() {
    let jws = identity()
        .jws_rs256(br#"{"nonce":"n-8f1c","ok":true}"#)
        .expect("jws");
    let parts: Vec<&str> = jws.split('.').collect();
    let mut payload = parts[1].to_string();
    let middle = payload.len() / 2;
    let flipped = if &payload[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    payload.replace_range(middle..=middle, flipped);
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let items = decode_body(&json!({"response": tampered}));
    let Decoded::Jws { checks, .. } = &items[0].decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(check(checks, "signature").passed, Some(false), "{checks:?}");

    // A wrong key type for the alg is invalid too, an unverifiable alg only "not checked".
    let header = |alg: &str| {
        let header = json!({"alg": alg, "x5c": [b64(identity().device_cert_der())]});
        URL_SAFE_NO_PAD.encode(header.to_string())
    };
    let signature_of = |alg: &str| {
        let token = format!("{}.{}.{}", header(alg), parts[1], parts[2]);
        match decode_body(&json!(token)).remove(0).decoded {
            Decoded::Jws { checks, .. } => check(&checks, "signature").clone(),
            other => panic!("{other:#?}"),
        }
    };
    let es256 = signature_of("ES256");
    assert!(es256.passed == Some(false) && es256.detail.contains("EC key"));
    assert_eq!(signature_of("HS256").passed, None);
    assert_eq!(signature_of("none").passed, None);
}

#[test]
fn provision_callback_yields_the_jws_and_its_certificate_requests() {
    let subject = "jane.doe@example.com";
    let rsa = material::pkcs10("RSA", "2048", subject).expect("RSA request");
    let ec = material::pkcs10("EC", "256", subject).expect("EC request");
    // The payload the simulator's provision result carries (simulator/src/results.rs).
    let payload = json!({
        "nonce": "n-8f1c",
        "profileId": "0c5e9f1a-2b7d-4c1e-9a3f-5d6e7f809a1b",
        "certreqs": [
            {"keyid": "signer", "keytype": "RSA", "keylength": "2048", "certreq": b64(&rsa)},
            {"keyid": "auth", "keytype": "EC", "keylength": "256", "certreq": b64(&ec)},
        ],
    });
    let jws = identity()
        .jws_rs256(payload.to_string().as_bytes())
        .expect("jws");
    let items = decode_body(&json!({"commandId": "3", "state": "COMPLETED", "response": jws}));
    assert_eq!(items.len(), 3, "{items:#?}");
    let Decoded::Jws {
        payload: decoded_payload,
        payload_is_json: true,
        checks,
        ..
    } = &items[0].decoded
    else {
        panic!("{:#?}", items[0])
    };
    assert_eq!(decoded_payload, &payload);
    assert_eq!(
        check(checks, "signature").detail,
        format!("valid ({DEVICE})")
    );

    let expect = [
        ("signer", "RSA", Some(2048), None, "sha256WithRSAEncryption"),
        ("auth", "EC", Some(256), Some("P-256"), "ecdsa-with-SHA256"),
    ];
    for (i, (item, (keyid, algorithm, bits, curve, signature))) in
        items[1..].iter().zip(expect).enumerate()
    {
        assert_eq!(
            item.pointer,
            format!("/response#payload/certreqs/{i}/certreq")
        );
        assert_eq!(
            item.label,
            format!("certreq for key '{keyid}' (PKCS#10 request)")
        );
        let Decoded::CertRequest(csr) = &item.decoded else {
            panic!("{item:#?}")
        };
        assert_eq!(csr.subject, format!("CN={subject}"));
        assert_eq!(csr.key.algorithm, algorithm);
        assert_eq!((csr.key.bits, csr.key.curve.as_deref()), (bits, curve));
        assert_eq!(csr.signature_algorithm, signature);
        assert_eq!(csr.signature_valid, Some(true), "{csr:#?}");
        // The body holds the JWS, not the request: the item keeps the request, for its raw view.
        let der = [&rsa, &ec][i];
        assert_eq!(item.raw.as_deref(), Some(b64(der).as_str()));
    }
    assert_eq!(items[0].raw, None, "the JWS is in the body as it is");

    // The simulator's result is the bare JWS string: the same items, from pointer "".
    let bare = decode_body(&json!(jws));
    let pointers: Vec<_> = bare.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "",
            "#payload/certreqs/0/certreq",
            "#payload/certreqs/1/certreq"
        ]
    );
    assert_eq!(decode_text(&jws), bare);

    // A request altered after signing no longer verifies.
    let mut altered = ec.clone();
    let at = ec.windows(4).position(|w| w == b"jane").unwrap();
    altered[at] = b'J';
    let items = decode_body(&json!({"certreq": b64(&altered)}));
    let Decoded::CertRequest(csr) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(
        (csr.subject.as_str(), csr.signature_valid),
        ("CN=Jane.doe@example.com", Some(false))
    );
}

#[test]
fn search_text_has_the_certificate_facts() {
    let der = identity().device_cert_der();
    let cert = Certificate::from_der(der).unwrap();
    let tbs = cert.tbs_certificate();
    let serial = tbs.serial_number().to_string().replace(':', "");
    let serial = serial.strip_prefix("00").unwrap_or(&serial).to_string();
    let not_after = tbs.validity().not_after.to_date_time().to_string();
    let fingerprint: String = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let items = decode_body(&json!({"certificate": b64(der)}));
    let Decoded::Certificate(summary) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(summary.subject, DEVICE);
    assert_eq!(summary.serial, serial);
    assert_eq!(summary.not_after, not_after);
    assert_eq!(summary.fingerprint_sha256, fingerprint);
    let text = search_text(&items);
    for word in [DEVICE, CA, &serial, &not_after, &fingerprint] {
        assert!(text.contains(word), "{word} missing from {text}");
    }

    // A PEM chain is one item per certificate, each piece of text once.
    let chain = pem("CERTIFICATE", der) + &pem("CERTIFICATE", identity().ca_cert_der());
    let items = decode_text(&chain);
    assert_eq!(items.len(), 2);
    assert_eq!(search_text(&items).matches(CA).count(), 1);

    // JWS header and payload words, PKCS#7 content and signer.
    let jws = identity()
        .jws_rs256(
            json!({"nonce": "n-8f1c", "profileId": "p-42"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let text = search_text(&decode_body(&json!({"response": jws})));
    for word in ["RS256", "n-8f1c", "p-42", DEVICE, &serial] {
        assert!(text.contains(word), "{word} missing from {text}");
    }
    let p7 = identity().pkcs7(b"Pay 100 EUR to ACME").unwrap();
    let text = search_text(&decode_body(&json!({"response": b64(p7)})));
    assert!(text.starts_with("Pay 100 EUR to ACME"), "{text}");
    assert!(text.contains(DEVICE), "{text}");
}

#[test]
fn subject_alternative_names_are_summarised_and_searchable() {
    let hosts = ["console.example.com".to_string(), "10.1.2.3".to_string()];
    let pki = hermod_simulator::material::dev_pki(&hosts).unwrap();
    let items = decode_text(&pki.server_cert);
    let Decoded::Certificate(summary) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(
        summary.sans,
        ["DNS:console.example.com", "IP:10.1.2.3"],
        "{summary:#?}"
    );
    assert!(!summary.is_ca);
    assert_eq!(summary.key.algorithm, "EC");
    let text = search_text(&items);
    assert!(text.contains("console.example.com"), "{text}");
    // The CA: no SANs, marked as a CA.
    let items = decode_text(&pki.ca_cert);
    let Decoded::Certificate(ca) = &only(&items).decoded else {
        panic!("{items:#?}")
    };
    assert!(ca.sans.is_empty() && ca.is_ca, "{ca:#?}");
}

#[test]
fn a_certificates_usage_says_ca_then_its_key_usage_and_extended_key_usage_as_openssl_does() {
    let pki = hermod_simulator::material::dev_pki(&["console.example.com".to_string()]).unwrap();
    let summary = |pem: &str| match only(&decode_text(pem)).decoded.clone() {
        Decoded::Certificate(c) => c,
        other => panic!("{other:#?}"),
    };
    // The key usage bits first, then the extended key usages.
    assert_eq!(
        summary(&pki.server_cert).usage,
        ["Digital Signature", "serverAuth"]
    );
    assert_eq!(
        summary(&pki.client_cert).usage,
        ["Digital Signature", "clientAuth"]
    );
    assert_eq!(
        summary(&pki.ca_cert).usage,
        ["CA", "Certificate Sign", "CRL Sign"]
    );
    // Windows smart card logon, as Smart ID's logon certificates carry it; an unknown one as its OID.
    let oid = der::asn1::ObjectIdentifier::new_unwrap;
    assert_eq!(
        crate::decode::x509::purpose(&oid("1.3.6.1.4.1.311.20.2.2")),
        "msSmartcardLogin"
    );
    assert_eq!(crate::decode::x509::purpose(&oid("1.2.3.4.5")), "1.2.3.4.5");
}

#[test]
fn a_certificate_names_its_key_identifiers_and_where_its_revocation_is_published() {
    let pki = hermod_simulator::material::dev_pki(&["console.example.com".to_string()]).unwrap();
    let summary = |pem: &str| match only(&decode_text(pem)).decoded.clone() {
        Decoded::Certificate(c) => c,
        other => panic!("{other:#?}"),
    };
    let (ca, client) = (summary(&pki.ca_cert), summary(&pki.client_cert));
    // As openssl prints them: upper-case hex pairs and colons.
    let ski = ca.ski.clone().expect("the CA's key identifier");
    assert_eq!(ski.len(), 20 * 3 - 1, "{ski}");
    assert!(
        ski.split(':')
            .all(|pair| pair.len() == 2 && pair == pair.to_uppercase()),
        "{ski}"
    );
    // The client's authority key identifier is its issuer's subject key identifier.
    assert_eq!(client.aki.as_deref(), Some(ski.as_str()));
    assert_ne!(client.ski, ca.ski);
    assert_eq!(
        client.crl,
        ["URI:http://pki.hermod-simulator.invalid/ca.crl"]
    );
    assert_eq!(
        client.ocsp,
        ["URI:http://pki.hermod-simulator.invalid/ocsp"]
    );
    assert_eq!(
        client.ca_issuers,
        ["URI:http://pki.hermod-simulator.invalid/ca.crt"]
    );
    // A CA's certificate publishes none.
    assert!(
        ca.crl.is_empty() && ca.ocsp.is_empty() && ca.ca_issuers.is_empty(),
        "{ca:#?}"
    );
}
