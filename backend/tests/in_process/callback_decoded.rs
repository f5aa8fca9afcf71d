//! A callback's decoded material on its own (`GET /api/callbacks/{id}/decoded`, README.md "The
//! console API"): what the Callbacks page shows for a callback that may match no command.

use crate::harness::{TestApp, b64};
use axum::http::Method;
use hermod_shared::console::{CallbackRecord, ListPage, Role};
use hermod_shared::decoded::{Decoded, DecodedItem};
use hermod_simulator::material::Identity;

#[tokio::test]
async fn an_unmatched_callbacks_signature_is_decoded_on_its_own() {
    let app = TestApp::with_hermod().await;
    let viewer = app.session(Role::Viewer).await;
    let p7 = Identity::shared().unwrap().pkcs7(b"Pay 100 EUR").unwrap();
    let body = format!(
        r#"{{"commandId": 987654321, "state": "COMPLETED", "response": "{}"}}"#,
        b64(&p7)
    );
    app.sign_callback(body).await.expect(200);
    app.sign_callback("not JSON at all").await.expect(200);
    let page: ListPage<CallbackRecord> = app
        .call(Method::GET, "/api/callbacks?unmatched=true", &viewer, None)
        .await
        .expect(200)
        .parse();
    let [text, signed] = &page.items[..] else {
        panic!("two callbacks: {:?}", page.items);
    };
    assert_eq!(signed.command, None, "it matches no command");

    let decoded = |id: String| {
        let (app, viewer) = (&app, &viewer);
        async move {
            app.call(
                Method::GET,
                &format!("/api/callbacks/{id}/decoded"),
                viewer,
                None,
            )
            .await
        }
    };
    let items: Vec<DecodedItem> = decoded(signed.id.to_string()).await.expect(200).parse();
    let signer = items
        .iter()
        .find_map(|i| match &i.decoded {
            Decoded::Pkcs7(p) => p.signers.first(),
            _ => None,
        })
        .expect("the PKCS#7 decoded");
    assert_eq!(items[0].pointer, "/response");
    assert!(
        signer
            .checks
            .iter()
            .any(|c| c.name == "signature" && c.passed == Some(true)),
        "{signer:?}"
    );
    let none: Vec<DecodedItem> = decoded(text.id.to_string()).await.expect(200).parse();
    assert!(none.is_empty(), "{none:?}");
    for unknown in ["999999", "x"] {
        decoded(unknown.into())
            .await
            .expect_problem(404, Some("not_found"), None);
    }
}
