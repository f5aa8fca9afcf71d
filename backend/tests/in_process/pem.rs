//! PEM in, DER out (README.md, "The console"): a certificate field given as PEM, pasted or loaded
//! from a file, goes to Hermod as base64 DER; what is not one certificate is refused at its field,
//! before anything is recorded.

use crate::harness::{TestApp, unique};
use axum::http::Method;
use hermod_shared::console::{CommandRecord, ListPage, Role};
use hermod_shared::validate::{base64_encode, pem_blocks};
use serde_json::{Value, json};

fn certificate_body(certificate: &str) -> Value {
    json!({
        "commandHeader": {"externalId": unique("pem-"), "lifespan": 60, "timeout": 60},
        "certCommand": {
            "profileid": "profile-1",
            "certificates": [{"keyid": "signer", "certificate": certificate}]
        }
    })
}

const FIELD: &str = "/body/certCommand/certificates/0/certificate";

#[tokio::test]
async fn a_pem_certificate_goes_to_hermod_as_base64_der_and_anything_else_is_refused_at_its_field()
{
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let pki = hermod_simulator::material::dev_pki(&["console.example.com".into()]).unwrap();
    let der = base64_encode(&pem_blocks(&pki.client_cert, "CERTIFICATE").unwrap()[0]);
    let sent = |certificate: String| {
        let (app, operator) = (&app, &operator);
        async move {
            let send = json!({"client": "idm", "type": "certificate", "body": certificate_body(&certificate)});
            app.call(Method::POST, "/api/commands", operator, Some(send))
                .await
        }
    };
    // Pasted PEM (with openssl's `subject=` line above it), a PEM file's text as the form loads a
    // file (base64 of its bytes), a chain in either order (its CA left out), and DER as it was:
    // all go as the same base64 DER.
    for given in [
        format!("subject=CN=console client\n{}", pki.client_cert),
        base64_encode(pki.client_cert.as_bytes()),
        format!("{}{}", pki.client_cert, pki.ca_cert),
        base64_encode(format!("{}{}", pki.ca_cert, pki.client_cert).as_bytes()),
        der.clone(),
    ] {
        let record: CommandRecord = sent(given.clone()).await.expect(201).parse();
        assert_eq!(
            record.request["certCommand"]["certificates"][0]["certificate"],
            json!(der),
            "{given}"
        );
    }

    // CAs alone, a placeholder, a request where a certificate goes, text: refused, naming the
    // field and why; nothing recorded.
    let cas = format!("{}{}", pki.ca_cert, pki.ca_cert);
    let request = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----";
    for (given, why) in [
        (
            cas,
            "holds 2 CERTIFICATE blocks and no one of them is the device's",
        ),
        (
            base64_encode(b"replace with a DER certificate"),
            "is not an X.509 certificate",
        ),
        (request.to_string(), "no CERTIFICATE block"),
        ("not base64!".to_string(), "must be base64 DER or PEM"),
    ] {
        let problem = sent(given.clone())
            .await
            .expect_problem(422, None, Some(FIELD));
        assert!(problem.detail.contains(why), "{given}: {}", problem.detail);
    }
    let listed: ListPage<CommandRecord> = app
        .call(Method::GET, "/api/commands", &operator, None)
        .await
        .expect(200)
        .parse();
    assert_eq!(
        listed.items.len(),
        5,
        "only the five good ones were recorded"
    );
}
