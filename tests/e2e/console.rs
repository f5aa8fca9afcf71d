//! The operator's console over HTTP (issue 4): decoded results, QR codes and copy-as-curl on the command
//! page, search over bodies and decoded fields, cursor paging, exports, templates.

use hermod_console_tests::{Console, authenticate_body, ping_body, provision_body, sign_body};
use hermod_shared::console::{
    CommandDetail, CommandRecord, ListPage, TemplateRecord, TimelineEntry,
};
use hermod_shared::decoded::{Check, Decoded};
use serde_json::{Value, json};

fn signature_valid(checks: &[Check]) -> bool {
    Check::named(checks, "signature").is_some_and(|c| c.passed == Some(true))
}

fn decoded_of(detail: &CommandDetail, kind: &str) -> Vec<Decoded> {
    detail
        .timeline
        .iter()
        .filter_map(|e| match (e, kind) {
            (TimelineEntry::Sent { decoded, .. }, "sent")
            | (TimelineEntry::Answer { decoded, .. }, "answer")
            | (TimelineEntry::Callback { decoded, .. }, "callback")
            | (TimelineEntry::Poll { decoded, .. }, "poll") => Some(decoded.clone()),
            _ => None,
        })
        .flatten()
        .map(|i| i.decoded)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn results_are_decoded_and_verified_and_destinations_get_qr_codes_and_curl() {
    let c = Console::demo().start().await;
    // Sign (PKCS#7): the signed text comes back, the signer is named and the signature checks out.
    let sign = c.send("sign", sign_body("dec-sign", 30)).await;
    c.wait_for_state(sign.id, "COMPLETED").await;
    let detail = c.detail(sign.id).await;
    let sent = decoded_of(&detail, "sent");
    assert!(
        sent.iter()
            .any(|d| matches!(d, Decoded::Text { text, .. } if !text.is_empty())),
        "the request's data items are decoded: {sent:?}"
    );
    let callback = decoded_of(&detail, "callback");
    let Some(Decoded::Pkcs7(p7)) = callback.iter().find(|d| matches!(d, Decoded::Pkcs7(_))) else {
        panic!("no PKCS#7 in the sign callback: {callback:?}")
    };
    assert_eq!(p7.signers.len(), 1);
    assert!(signature_valid(&p7.signers[0].checks), "{p7:?}");
    assert!(p7.signers[0].signer.contains("Hermod Simulator Device"));
    assert!(p7.certificates.iter().any(|c| c.is_ca));
    // One QR code per destination, of the destination's link; the curl has no key.
    assert_eq!(detail.qr.len(), detail.command.destinations.len());
    let qr = detail.qr[0].as_ref().expect("a QR code");
    assert_eq!(qr.modules.len(), (qr.size * qr.size) as usize);
    assert!(qr.modules.contains('1') && qr.modules.contains('0'));
    assert!(
        detail.curl.contains("X-Api-Key: <redacted>"),
        "{}",
        detail.curl
    );
    assert!(detail.curl.contains("/command/sign"));
    // And its poll, by the commandId Hermod gave it.
    let command_id = detail.command.command_id.as_deref().expect("a commandId");
    assert!(
        detail.curl.contains("# Its poll:\ncurl -sS '")
            && detail.curl.contains(&format!(
                "/poll/{command_id}' \\\n  -H 'X-Api-Key: <redacted>'"
            )),
        "{}",
        detail.curl
    );
    for secret in c.secrets.forms() {
        assert!(!detail.curl.contains(&secret), "the curl holds a secret");
    }

    // Authenticate (JWS): verified with the certificate it carries.
    let auth = c
        .send("authenticate", authenticate_body("dec-auth", 30))
        .await;
    c.wait_for_state(auth.id, "COMPLETED").await;
    let jws = decoded_of(&c.detail(auth.id).await, "callback");
    assert!(
        jws.iter().any(|d| matches!(d, Decoded::Jws { checks, certificates, .. } if signature_valid(checks) && !certificates.is_empty())),
        "{jws:?}"
    );

    // Provision: the JWS and one verified certificate request per key.
    let prov = c.send("provision", provision_body("dec-prov", 30)).await;
    c.wait_for_state(prov.id, "COMPLETED").await;
    let items = decoded_of(&c.detail(prov.id).await, "callback");
    let csrs: Vec<_> = items
        .iter()
        .filter_map(|d| match d {
            Decoded::CertRequest(csr) => Some(csr),
            _ => None,
        })
        .collect();
    assert!(!csrs.is_empty(), "{items:?}");
    assert!(csrs.iter().all(|c| c.signature_valid == Some(true)));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_finds_bodies_and_decoded_fields_and_filters_page_with_a_cursor() {
    let c = Console::demo().start().await;
    let sign = c.send("sign", sign_body("search-sign", 30)).await;
    let ping = c.send("ping", ping_body("search-ping", 30)).await;
    c.wait_for_state(sign.id, "COMPLETED").await;
    c.wait_for_state(ping.id, "COMPLETED").await;
    let ids = |page: ListPage<CommandRecord>| page.items.iter().map(|c| c.id).collect::<Vec<_>>();
    // The signer's subject is only in the decoded PKCS#7 of the callback.
    assert_eq!(
        ids(c.commands("?q=Hermod%20Simulator%20Device").await),
        vec![sign.id]
    );
    // Case-insensitive substrings of the request, of a commandId, of the callback body.
    assert_eq!(ids(c.commands("?q=SEARCH-PIN").await), vec![ping.id]);
    // A piece from inside the commandId that holds its fastest-moving digits (the simulator's ids are
    // its clock in microseconds, so the leading ones are shared by commands sent close together).
    let command_id = ping.command_id.clone().unwrap();
    let inside = &command_id[command_id.len() - 10..command_id.len() - 1];
    assert_eq!(
        ids(c.commands(&format!("?q={inside}")).await),
        vec![ping.id]
    );
    assert_eq!(ids(c.commands("?q=deviceinfo").await), vec![ping.id]);
    assert!(ids(c.commands("?q=no-such-text-anywhere").await).is_empty());
    assert_eq!(
        ids(c.commands("?type=ping&state=COMPLETED&client=idm").await),
        vec![ping.id]
    );
    // Callbacks are searchable on their own too.
    let found = c.callbacks("?q=Hermod%20Simulator%20Device").await;
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].command, Some(sign.id));

    // Cursor paging walks everything once, newest first.
    for i in 0..7 {
        c.send("ping", ping_body(&format!("page-{i}"), 30)).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c.commands(&format!("?limit=3{cursor}")).await;
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, each once");
    assert_eq!(seen.len(), 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_stream_the_filtered_view_with_decoded_fields() {
    let c = Console::demo().start().await;
    let sign = c.send("sign", sign_body("export-sign", 30)).await;
    let ping = c.send("ping", ping_body("export-ping", 30)).await;
    c.wait_for_state(sign.id, "COMPLETED").await;
    c.wait_for_state(ping.id, "COMPLETED").await;
    let csv = c
        .get("/api/commands/export?format=csv&type=sign")
        .await
        .expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert!(lines[0].starts_with("id,created_at"), "{}", lines[0]);
    assert_eq!(lines.len(), 2, "one sign command: {}", csv.text);
    assert!(
        lines[1].contains("CN=Hermod Simulator Device"),
        "decoded signer exported: {}",
        lines[1]
    );
    let json: Value = c
        .get("/api/commands/export?format=json")
        .await
        .expect(200)
        .json();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["decoded"].is_string() && r["id"].is_i64())
    );
    let callbacks = c
        .get("/api/callbacks/export?format=csv&q=export-ping")
        .await
        .expect(200);
    assert_eq!(callbacks.text.lines().count(), 2, "{}", callbacks.text);
    c.get("/api/commands/export?format=xml")
        .await
        .expect_problem(422, None, Some("format"));
    // Nothing secret in any of it.
    for secret in c.secrets.forms() {
        assert!(!csv.text.contains(&secret) && !json.to_string().contains(&secret));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_are_shared_checked_and_audited() {
    let c = Console::demo().start().await;
    let input = json!({"name": "Nightly ping", "client": "idm", "type": "ping", "body": ping_body("tpl", 30)});
    let created: TemplateRecord = c
        .post_json("/api/templates", &input)
        .await
        .expect(201)
        .parse();
    assert_eq!(created.name, "Nightly ping");
    assert_eq!(created.created_by, "admin");
    // Everyone sees it, a viewer too.
    let viewer = c.agent(hermod_shared::console::Role::Viewer).await;
    let listed: Vec<TemplateRecord> = viewer.get("/api/templates").await.expect(200).parse();
    assert_eq!(listed.len(), 1);
    // Names are unique; the body must fit its type; the client must exist.
    c.post_json("/api/templates", &input)
        .await
        .expect_problem(422, None, Some("/name"));
    let bad_body =
        json!({"name": "x", "type": "ping", "body": {"commandHeader": {"timeout": "soon"}}});
    c.post_json("/api/templates", &bad_body)
        .await
        .expect_problem(422, None, Some("/body/commandHeader/timeout"));
    let bad_client = json!({"name": "y", "client": "nope", "type": "ping", "body": {}});
    c.post_json("/api/templates", &bad_client)
        .await
        .expect_problem(422, None, Some("/client"));
    // Update and delete.
    let renamed = json!({"name": "Morning ping", "type": "ping", "body": ping_body("tpl2", 30)});
    let updated: TemplateRecord = c
        .put_json(&format!("/api/templates/{}", created.id), &renamed)
        .await
        .expect(200)
        .parse();
    assert_eq!(
        (updated.id, updated.name.as_str()),
        (created.id, "Morning ping")
    );
    c.delete(&format!("/api/templates/{}", created.id))
        .await
        .expect(204);
    c.delete(&format!("/api/templates/{}", created.id))
        .await
        .expect_problem(404, None, None);
    let audit: Value = c.get("/api/audit?q=template").await.expect(200).json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in ["template_created", "template_updated", "template_removed"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}
