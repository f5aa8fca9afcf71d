//! What a signature is worth, on a command's page and in its evidence (README.md "Verification"):
//! beside the signature, the digest, the signer's certificate at signing time, and its chain to the
//! client's trust bundle, made only when one is configured.

use crate::harness::{TestApp, b64, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CommandDetail, Role, TimelineEntry};
use hermod_shared::decoded::{Check, Decoded, SignerSummary};
use hermod_simulator::material::Identity;

/// A sign command of `app`'s idm completed by a callback carrying the simulator's PKCS#7, and the
/// one signer of it as the command's page shows it.
async fn signed(app: &TestApp) -> SignerSummary {
    let operator = app.session(Role::Operator).await;
    let body = sign_body(&unique("hold-verify-"), 60);
    let (id, command_id) = app.sent(&operator, "sign", body).await;
    let p7 = Identity::shared().unwrap().pkcs7(b"Pay 100 EUR").unwrap();
    let callback = format!(
        r#"{{"commandId": {command_id}, "state": "COMPLETED", "response": "{}"}}"#,
        b64(&p7)
    );
    app.sign_callback(callback).await.expect(200);
    let detail: CommandDetail = app
        .call(Method::GET, &format!("/api/commands/{id}"), &operator, None)
        .await
        .expect(200)
        .parse();
    detail
        .timeline
        .into_iter()
        .find_map(|step| match step {
            TimelineEntry::Callback { decoded, .. } => {
                decoded.into_iter().find_map(|item| match item.decoded {
                    Decoded::Pkcs7(p7) => p7.signers.into_iter().next(),
                    _ => None,
                })
            }
            _ => None,
        })
        .expect("a decoded signer")
}

fn chain(signer: &SignerSummary) -> &Check {
    Check::named(&signer.checks, "chain").expect("a chain check")
}

fn outcomes(signer: &SignerSummary) -> Vec<(&str, Option<bool>)> {
    signer.checks.iter().map(Check::outcome).collect()
}

#[tokio::test]
async fn a_signer_is_chained_to_its_clients_trust_bundle_only_when_there_is_one() {
    let app = TestApp::with_hermod().await;
    let signer = signed(&app).await;
    assert_eq!(
        outcomes(&signer),
        [
            ("digest", Some(true)),
            ("signature", Some(true)),
            ("validity", Some(true)),
            ("chain", None)
        ]
    );
    assert_eq!(
        chain(&signer).detail,
        "no trust bundle is configured for this client (clients.<id>.trust_bundle)"
    );

    let bundle = std::env::temp_dir().join(format!("{}.pem", unique("trust-")));
    std::fs::write(&bundle, Identity::shared().unwrap().ca_cert_pem().unwrap()).unwrap();
    let path = bundle.clone();
    let app = TestApp::with_hermod_and(move |c| {
        c.clients.get_mut("idm").unwrap().trust_bundle = Some(path);
    })
    .await;
    let signer = signed(&app).await;
    std::fs::remove_file(&bundle).unwrap();
    assert_eq!(
        outcomes(&signer),
        [
            ("digest", Some(true)),
            ("signature", Some(true)),
            ("validity", Some(true)),
            ("chain", Some(true))
        ]
    );
    assert_eq!(
        chain(&signer).detail,
        format!(
            "CN=Hermod Simulator Device, O=Hermod Console ← CN=Hermod Simulator Test CA (an anchor \
             of {})",
            bundle.display()
        )
    );
}
