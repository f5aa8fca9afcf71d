//! Devices (README.md "Devices"): derived from what the console sees (a `to` destination, a
//! `profileid`, a `smartcardid`, the subjects of the certificates in requests and results), listed,
//! shown with the certificates they were seen with, and filtering the commands and callbacks lists.

use crate::harness::{Credential, TestApp, b64, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CallbackRecord, CommandDetail, CommandRecord, ListPage, Role};
use hermod_shared::devices::{DeviceDetail, DeviceRecord};
use hermod_simulator::material::Identity;
use serde_json::json;
use std::time::{Duration, Instant};

const DEVICE: &str = "CN=Hermod Simulator Device, O=Hermod Console";

/// The devices whose key holds `q`, once the indexer has counted `commands` commands for the first.
async fn listed(app: &TestApp, who: &Credential, q: &str, commands: i64) -> Vec<DeviceRecord> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page: ListPage<DeviceRecord> = app.get(who, &format!("/api/devices?q={q}")).await;
        if page.items.first().is_some_and(|d| d.commands == commands) {
            return page.items;
        }
        assert!(Instant::now() < deadline, "not indexed in time: {page:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_profile_gathers_its_commands_callbacks_and_the_certificates_it_was_seen_with() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let viewer = app.session(Role::Viewer).await;
    let profile = unique("prof-");
    let card = unique("card-");
    let identity = Identity::shared().unwrap();

    // A certificate installed into the profile, on its smart card…
    let install = json!({
        "commandHeader": {"lifespan": 60, "timeout": 60, "to": [profile],
                          "externalId": unique("hold-dev-")},
        "certCommand": {"profileid": profile, "smartcardid": card,
                        "certificates": [{"keyid": "signer",
                                          "certificate": b64(identity.device_cert_der())}]},
    });
    let (installed, _) = app.sent(&operator, "certificate", install).await;
    // …then a signature by the profile, whose result carries the same certificate.
    let mut body = sign_body(&unique("hold-dev-"), 60);
    body["commandHeader"]["to"] = json!([profile]);
    let (signed, command_id) = app.sent(&operator, "sign", body).await;
    let p7 = identity.pkcs7(b"Pay 100 EUR").unwrap();
    let callback = json!({"commandId": command_id, "state": "COMPLETED", "response": b64(&p7)});
    app.sign_callback(callback.to_string()).await.expect(200);
    // And one to a new device (`@tmp`): no profile of its own.
    app.sent(&operator, "sign", sign_body(&unique("hold-dev-"), 60))
        .await;

    let found = listed(&app, &viewer, &profile, 2).await;
    let key = format!("profile:{profile}");
    assert_eq!(
        found.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        [key.as_str()]
    );
    let card_key = format!("card:{card}");
    let on_card: DeviceDetail = app.get(&viewer, &format!("/api/devices/{card_key}")).await;
    assert_eq!(
        on_card.device.commands, 1,
        "only the install names the card"
    );

    // The certificate once (installed, then in the signature's result), where it was seen last:
    // the result, once the indexer has reached the callback too.
    let deadline = Instant::now() + Duration::from_secs(20);
    let detail = loop {
        let detail: DeviceDetail = app.get(&viewer, &format!("/api/devices/{key}")).await;
        if detail.certificates.iter().any(|h| h.command == signed) {
            break detail;
        }
        assert!(
            Instant::now() < deadline,
            "not indexed in time: {detail:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(detail.device.key, key);
    let held: Vec<_> = detail
        .certificates
        .iter()
        .map(|h| (h.certificate.subject.as_str(), h.command))
        .collect();
    assert_eq!(held, [(DEVICE, signed)], "{detail:#?}");
    assert!(detail.certificates[0].certificate.not_after.ends_with('Z'));

    // Its commands and callbacks are the lists' `device` filter, newest first.
    let commands: ListPage<CommandRecord> = app
        .get(&viewer, &format!("/api/commands?device={key}"))
        .await;
    let ids: Vec<i64> = commands.items.iter().map(|c| c.id).collect();
    assert_eq!(ids, [signed, installed]);
    let callbacks: ListPage<CallbackRecord> = app
        .get(&viewer, &format!("/api/callbacks?device={key}"))
        .await;
    assert_eq!(
        callbacks
            .items
            .iter()
            .map(|c| c.command)
            .collect::<Vec<_>>(),
        [Some(signed)]
    );

    // A command's page names its devices: the profile, and the subject its result was signed by.
    let page: CommandDetail = app.get(&viewer, &format!("/api/commands/{signed}")).await;
    assert_eq!(page.devices, [key.clone(), format!("subject:{DEVICE}")]);
    let subject: DeviceDetail = app
        .get(
            &viewer,
            &format!("/api/devices/subject:{}", DEVICE.replace(' ', "%20")),
        )
        .await;
    assert!(subject.device.commands >= 1);

    // `@tmp` asks for a new mailbox: it names no device.
    let all: ListPage<DeviceRecord> = app.get(&viewer, "/api/devices?q=profile:@").await;
    assert!(all.items.is_empty(), "{all:?}");
    app.call(Method::GET, "/api/devices/profile:nobody", &viewer, None)
        .await
        .expect_problem(404, Some("not_found"), None);
    let long = "x".repeat(257);
    app.call(
        Method::GET,
        &format!("/api/commands?device={long}"),
        &viewer,
        None,
    )
    .await
    .expect_problem(422, None, Some("device"));
}

#[tokio::test]
async fn devices_page_like_every_list_newest_first_with_a_cursor_and_a_window() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let viewer = app.session(Role::Viewer).await;
    let run = unique("page-");
    for n in 0..5 {
        let mut body = sign_body(&unique("hold-dev-"), 60);
        body["commandHeader"]["to"] = json!([format!("{run}-{n}")]);
        app.sent(&operator, "sign", body).await;
    }
    // The newest first (the last sent), once the indexer has reached the last.
    let first = listed(&app, &viewer, &format!("{run}-4"), 1).await;
    assert_eq!(first.len(), 1);

    let mut keys = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: ListPage<DeviceRecord> = app
            .get(&viewer, &format!("/api/devices?q={run}&limit=2{cursor}"))
            .await;
        assert!(page.items.len() <= 2);
        assert_eq!(page.total, 5, "every page counts the whole list");
        keys.extend(page.items.into_iter().map(|d| d.key));
        match page.next_cursor {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..5).rev().map(|n| format!("profile:{run}-{n}")).collect();
    assert_eq!(keys, expected);

    // The window is on when a device was last seen: none of them before they were.
    let before: ListPage<DeviceRecord> = app
        .get(
            &viewer,
            &format!("/api/devices?q={run}&until=2000-01-01T00:00:00Z"),
        )
        .await;
    assert!(before.items.is_empty(), "{before:?}");
    assert_eq!(before.total, 0);
    app.call(Method::GET, "/api/devices?limit=0", &viewer, None)
        .await
        .expect_problem(422, None, Some("limit"));
}
