//! A command's page: a sign result decoded (and no key in the page), an expired and a rejected
//! command, a held one counting down and polled from there, a send that ended unknown linked from
//! there, a completed provision opening the command that follows it, and two bodies compared.

use crate::pages::{callback_decoded, open, sent, wait_listed};
use hermod_console_tests::browser::{
    click, eval, login, screenshot, text_of, value_of, wait_css, wait_js, wait_text, with_browser,
};
use hermod_console_tests::{Console, b64, ping_body, sign_body, unique};
use hermod_shared::decoded::{Check, Decoded};
use hermod_shared::examples::default_body;
use hermod_shared::hermod::CommandType;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_result_shows_the_decoded_signature_and_certificate_and_never_a_key() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let secrets = console.secrets.forms();
    let record = sent(
        &console,
        "sign",
        sign_body(&unique("sign-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", record.id)).await;
        wait_text(&c, ".command-state", "COMPLETED").await;
        let pkcs7 = ".step[data-kind=callback] [data-decoded=pkcs7]";
        wait_css(&c, pkcs7).await;

        // What the backend decoded is what the page shows.
        let detail = api.detail(record.id).await;
        let summary = callback_decoded(&detail)
            .into_iter()
            .find_map(|d| match d {
                Decoded::Pkcs7(p) => Some(p),
                _ => None,
            })
            .expect("a decoded PKCS#7");
        let signer = &summary.signers[0];
        let shown = text_of(&c, pkcs7).await;
        assert!(
            shown.contains(&format!("Signer: {}", signer.signer)),
            "{shown}"
        );
        // Each check that decides what the signature is worth: demo's idm chains its signers to
        // the simulator's CA.
        let outcomes: Vec<_> = signer.checks.iter().map(Check::outcome).collect();
        assert_eq!(
            outcomes,
            [
                ("digest", Some(true)),
                ("signature", Some(true)),
                ("validity", Some(true)),
                ("chain", Some(true))
            ]
        );
        for check in &signer.checks {
            let badge = text_of(&c, &format!("{pkcs7} [data-check={}]", check.name)).await;
            assert_eq!(badge, format!("✓ {}: {}", check.name, check.detail));
        }
        // Each certificate it carries, summarised.
        let certs = eval(
            &c,
            &format!(
                "return document.querySelectorAll('{pkcs7} [data-decoded=certificate]').length"
            ),
        )
        .await;
        assert_eq!(certs, json!(summary.certificates.len()));
        assert!(
            summary.certificates.iter().all(|c| !c.usage.is_empty()),
            "the simulator's certificates carry key usages"
        );
        // Which one signed, and which one issued it.
        let roles: Vec<_> = summary
            .certificates
            .iter()
            .filter_map(|c| c.role.as_deref())
            .collect();
        assert!(roles.contains(&"signer"), "{roles:?}");
        assert!(
            roles.iter().any(|r| r.starts_with("issuer of ")),
            "{roles:?}"
        );
        for cert in &summary.certificates {
            // Names as openssl prints them, the most general part first (the API's RFC 4514
            // string, most specific first, is on hover).
            let openssl = |dn: &str| {
                let mut rdns: Vec<&str> = dn.split(", ").collect();
                rdns.reverse();
                rdns.join(", ")
            };
            let mut rows = vec![
                ("subject", format!("Subject\n{}", openssl(&cert.subject))),
                ("issuer", format!("Issuer\n{}", openssl(&cert.issuer))),
                ("serial", format!("Serial\n{}", cert.serial)),
                (
                    "validity",
                    format!("Valid\n{} → {}", cert.not_before, cert.not_after),
                ),
                ("usage", format!("Usage\n{}", cert.usage.join(", "))),
                (
                    "key id",
                    format!("Key ID\n{}", cert.ski.clone().unwrap_or_default()),
                ),
            ];
            if let Some(role) = &cert.role {
                rows.push(("role", format!("Role\n{role}")));
            }
            if !cert.is_ca {
                rows.push(("CRL", format!("CRL\n{}", cert.crl.join(", "))));
                rows.push(("OCSP", format!("OCSP\n{}", cert.ocsp.join(", "))));
            }
            let hover = eval(
                &c,
                &format!(
                    "return [...document.querySelectorAll('{pkcs7} dd[title]')].map(d => d.title)"
                ),
            )
            .await;
            assert!(
                hover
                    .as_array()
                    .unwrap()
                    .contains(&json!(format!("RFC 4514: {}", cert.subject))),
                "{hover}"
            );
            for (what, value) in rows {
                assert!(
                    shown.contains(&value),
                    "the certificate's {what} {value} is not in {shown}"
                );
            }
        }
        // The signature downloads as a .p7s: the DER it was decoded from.
        let item = ".step[data-kind=callback] details.decoded:has(> [data-decoded=pkcs7])";
        let file = eval(
            &c,
            &format!(
                "const a = document.querySelector('{item} a.download'); \
                 return [a.getAttribute('download'), a.href, \
                 document.querySelector('{item} [data-raw] pre').textContent]"
            ),
        )
        .await;
        assert!(file[0].as_str().unwrap().ends_with(".p7s"), "{file}");
        let raw: String = file[2].as_str().unwrap().split_whitespace().collect();
        assert_eq!(
            file[1],
            json!(format!("data:application/pkcs7-signature;base64,{raw}")),
        );
        assert_eq!(text_of(&c, "#copy-curl").await, "Copy as curl");

        // No form of any key or password anywhere in the page, shown or not.
        let page = eval(
            &c,
            "return document.body.innerText + '\\n' + document.documentElement.outerHTML",
        )
        .await;
        let page = page.as_str().unwrap_or_default();
        for secret in &secrets {
            assert!(!page.contains(secret.as_str()), "the page shows a secret");
        }
    })
    .await;
}

/// The callback's dot on the timeline has the colour of the command's state badge (a REJECTED
/// callback is not green).
async fn assert_dot_in_badge_colour(c: &fantoccini::Client) {
    let colours = eval(
        c,
        "const dot = getComputedStyle(document.querySelector('.step[data-kind=callback]'), '::before'); \
         const badge = getComputedStyle(document.querySelector('.command-state .badge')); \
         return [dot.backgroundColor, badge.color]",
    )
    .await;
    assert_eq!(colours[0], colours[1], "dot and badge: {colours}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_command_shows_expired_and_its_callback() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let record = console.send("ping", ping_body(&unique("expire-"), 2)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", record.id)).await;
        // The page follows it from IN_PROGRESS to EXPIRED through the live feed.
        wait_css(&c, ".command-state").await;
        wait_text(&c, ".command-state", "EXPIRED").await;
        wait_text(&c, ".step[data-kind=callback]", "Callback EXPIRED").await;
        assert_dot_in_badge_colour(&c).await;
        assert!(
            c.find(fantoccini::Locator::Css(".page-head .countdown"))
                .await
                .is_err()
        );
    })
    .await;
    let callbacks = console.wait_for_callbacks(record.id, 1).await;
    assert_eq!(callbacks[0].state.as_deref(), Some("EXPIRED"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_command_shows_rejected_on_its_page_and_in_the_list() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let record = console
        .send("sign", sign_body(&unique("reject-"), 60))
        .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", record.id)).await;
        wait_text(&c, ".command-state", "REJECTED").await;
        // Why, in one look: the callback's error beside the state.
        let why = "USER_REJECTED: the user declined the request";
        wait_text(&c, ".page-head [data-reason]", why).await;
        wait_text(&c, ".step[data-kind=callback]", "Callback REJECTED").await;
        assert_dot_in_badge_colour(&c).await;
        c.goto(&format!("{url}/commands")).await.unwrap();
        let row = format!("tr[data-id='{}']", record.id);
        wait_text(&c, &format!("{row} [data-state]"), "REJECTED").await;
        wait_text(&c, &format!("{row} [data-reason]"), why).await;
        // The reason as a filter: another word of it keeps the row, a word it lacks empties the list.
        c.goto(&format!("{url}/commands?reason=declined"))
            .await
            .unwrap();
        wait_text(&c, &format!("{row} [data-reason]"), why).await;
        let reason_box = eval(&c, "return document.getElementById('command-reason').value").await;
        assert_eq!(reason_box, json!("declined"));
        c.goto(&format!("{url}/commands?reason=nothing-like-it"))
            .await
            .unwrap();
        wait_css(&c, "#commands-empty").await;
        // The feed's event for the command says it too.
        c.goto(&format!("{url}/")).await.unwrap();
        wait_text(&c, ".feed-row[data-kind=command] [data-reason]", why).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_command_counts_down_and_is_polled_from_its_page() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let record = console.send("sign", sign_body(&unique("hold-"), 300)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;

        // In the list, the row counts down to its expiry.
        c.goto(&format!("{url}/commands")).await.unwrap();
        let countdown = format!("tr[data-id='{}'] .countdown", record.id);
        wait_text(&c, &countdown, "expires in 4 min").await;
        let first = text_of(&c, &countdown).await;
        wait_js(
            &c,
            &format!(
                "document.querySelector(\"{countdown}\").textContent != {first:?}"
            ),
            "the countdown moves",
        )
        .await;

        // On its page too; a poll from there lands in the timeline.
        c.goto(&format!("{url}/commands/{}", record.id))
            .await
            .unwrap();
        wait_text(&c, ".page-head .countdown", "expires in 4 min").await;
        click(&c, "#poll").await;
        wait_text(&c, ".step[data-kind=poll]", "Polled: HTTP 200").await;
        // What the poll found is said next to its button.
        wait_text(&c, "#poll-found", "Hermod says IN_PROGRESS").await;

        // Decided in Hermod: the page follows, and the countdown is gone.
        let command_id = record.command_id.as_deref().expect("a commandId");
        api.sim_post(&format!("/sim/commands/{command_id}/complete"))
            .await
            .expect(200);
        wait_text(&c, ".command-state", "COMPLETED").await;
        wait_js(
            &c,
            "!document.querySelector('.page-head .countdown')",
            "no countdown once decided",
        )
        .await;
        // Every step carries its offset from the send, in order.
        wait_css(&c, ".step[data-kind=callback]").await;
        let offsets = eval(
            &c,
            "return [...document.querySelectorAll('.step .step-head > .muted')].map(e => e.textContent)",
        )
        .await;
        let offsets: Vec<String> = serde_json::from_value(offsets).unwrap();
        let tenths: Vec<i64> = offsets
            .iter()
            .map(|o| {
                let n = o
                    .strip_prefix('+')
                    .and_then(|o| o.strip_suffix(" s"))
                    .unwrap_or_else(|| panic!("an offset like +1.2 s: {o:?}"));
                n.replace('.', "").parse().unwrap()
            })
            .collect();
        assert_eq!(tenths.len(), 4, "sent, answer, poll, callback: {offsets:?}");
        assert!(tenths.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_with_many_callbacks_shows_the_newest_and_all_of_them_on_request() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let record = console.send("ping", ping_body(&unique("hold-"), 300)).await;
    let command_id = record.command_id.clone().expect("a commandId");
    // 103 callbacks (the page shows the newest 100 of them) and the command's own steps.
    for n in 0..103 {
        let body = json!({"commandId": command_id, "state": "IN_PROGRESS", "n": n}).to_string();
        console
            .post_callback(
                "/clients/idm/rest/callback/ping",
                Some(console.idm_auth()),
                "application/json",
                body,
            )
            .await
            .expect(200);
    }
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", record.id)).await;
        wait_text(&c, "#omitted", "3 older callbacks and polls are not shown.").await;
        let steps = "return document.querySelectorAll('.step[data-kind=callback]').length";
        assert_eq!(eval(&c, steps).await, json!(100));
        click(&c, "#omitted button").await;
        wait_js(
            &c,
            "document.querySelectorAll('.step[data-kind=callback]').length === 103",
            "every callback once asked for",
        )
        .await;
        assert_eq!(
            eval(&c, "return !document.querySelector('#omitted')").await,
            json!(true)
        );
    })
    .await;
}

/// A send whose answer never came is linked from its page to the commandId Hermod created it under;
/// an id Hermod would not give is refused there, saying why.
#[tokio::test(flavor = "multi_thread")]
async fn a_send_unknown_command_is_linked_from_its_page() {
    // A gateway answers 502 after Hermod created the command; its callback would link it by the
    // externalId, so the simulator holds it.
    let console = Arc::new(
        Console::demo()
            .env("HERMOD_SIMULATOR__COMPLETE_AFTER_MS", "600000")
            .start()
            .await,
    );
    let password = console.secrets.admin_password.clone();
    let unknown = console
        .send_as("idm", "sign", sign_body(&unique("gateway-"), 600))
        .await
        .expect_problem(502, Some("hermod_server_error"), None)
        .record
        .expect("the record kept");
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", unknown.id)).await;
        wait_text(&c, ".command-state", "SEND_UNKNOWN").await;
        wait_text(
            &c,
            "#send-unknown",
            "whether it created this command is unknown",
        )
        .await;
        let input = wait_css(&c, "#link-command-id").await;
        input.send_keys("not an id").await.unwrap();
        click(&c, "#link-form button").await;
        wait_text(&c, "[role=alert]", "Not linked").await;
        input.clear().await.unwrap();
        input.send_keys("700123").await.unwrap();
        click(&c, "#link-form button").await;
        wait_text(&c, ".command-state", "IN_PROGRESS").await;
        wait_js(&c, "!document.getElementById('link-form')", "the form goes").await;
        assert!(text_of(&c, ".facts").await.contains("700123"));
    })
    .await;
    let linked = console.detail(unknown.id).await.command;
    assert_eq!(linked.command_id.as_deref(), Some("700123"));
}

/// A completed provision's page opens its certificate command, filled from its result: the profile
/// its result names and an entry per key; sent from there as it stands.
#[tokio::test(flavor = "multi_thread")]
async fn a_completed_provision_opens_its_certificate_filled_from_its_result() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let provision = sent(
        &console,
        "provision",
        default_body(CommandType::Provision),
        "COMPLETED",
    )
    .await;
    let next = console
        .get(&format!("/api/commands/{}/next", provision.id))
        .await
        .expect(200)
        .json();
    let api = console.clone();
    let expected = next.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", provision.id)).await;
        click(&c, "#next-command").await;
        wait_text(
            &c,
            "#filled",
            &format!("Filled from provision #{}", provision.id),
        )
        .await;
        wait_js(
            &c,
            "document.getElementById('send-type').value === 'certificate'",
            "the certificate type chosen",
        )
        .await;
        let body = eval(
            &c,
            "return JSON.parse(document.getElementById('send-body').value)",
        )
        .await;
        assert_eq!(body, expected["body"]);
        click(&c, "#send-submit").await;
        wait_text(&c, ".command-state", "COMPLETED").await;
        wait_text(&c, "h1", "certificate #").await;
    })
    .await;
    let sent = console.commands("").await.items.remove(0);
    assert_eq!(sent.command_type, "certificate");
    assert_eq!(
        sent.request["certCommand"]["profileid"],
        next["body"]["certCommand"]["profileid"]
    );
}

/// Two bodies picked on two commands' pages are compared at the foot of the page: each difference
/// at its path, the text decoded from the base64 included; at phone width nothing spills sideways.
#[tokio::test(flavor = "multi_thread")]
async fn two_requests_picked_on_their_pages_are_compared_with_what_was_decoded() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let first = console
        .send("sign", sign_body(&unique("hold-compare-"), 600))
        .await;
    let mut body = sign_body(&unique("hold-compare-"), 600);
    body["signCommand"]["params"]["tbs"][0]["data"] = json!(b64("Pay 200 EUR to ACME"));
    let second = console.send("sign", body).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", first.id)).await;
        let pick = |id: i64| format!("[data-compare=\"command:{id}\"]");
        click(&c, &pick(first.id)).await;
        wait_text(&c, "#compare-bar", &format!("command:{}", first.id)).await;
        // The pick stays while the operator goes to the other command, through the list.
        click(&c, "nav a[href=\"/commands\"]").await;
        click(&c, &format!("a[href=\"/commands/{}\"]", second.id)).await;
        wait_text(&c, "h1", &format!("sign #{}", second.id)).await;
        click(&c, &pick(second.id)).await;
        click(&c, "#compare-open").await;
        wait_text(&c, "#diff-summary", "differences").await;
        let lines = text_of(&c, "ul.diff").await;
        assert!(
            lines.contains("~ /body/signCommand/params/tbs/0/data"),
            "{lines}"
        );
        assert!(
            lines.contains("\"Pay 100 EUR to ACME\" → \"Pay 200 EUR to ACME\""),
            "the decoded text: {lines}"
        );
        screenshot(&c, "issue15-compare").await;
        c.set_window_size(390, 844).await.unwrap();
        let spill = eval(
            &c,
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .await;
        assert_eq!(spill, json!(0), "nothing wider than the phone");
    })
    .await;
}

/// A startpinreset's result carries the token's transport key: shown as the public key it is, not
/// as something that failed to decode.
#[tokio::test(flavor = "multi_thread")]
async fn the_pin_resets_transported_key_shows_as_a_public_key_without_an_alarm() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let start = sent(
        &console,
        "startpinreset",
        default_body(CommandType::StartPinReset),
        "COMPLETED",
    )
    .await;
    with_browser(move |c| async move {
        let url = console.url.clone();
        open(&c, &url, &password, &format!("/commands/{}", start.id)).await;
        wait_text(
            &c,
            ".step[data-kind=callback] [data-decoded=public-key]",
            "RSA 2048",
        )
        .await;
        let alarms = eval(
            &c,
            "return document.querySelectorAll('[data-decoded=unparsed]').length",
        )
        .await;
        assert_eq!(alarms, json!(0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commands_devices_open_the_commands_of_each() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let profile = unique("prof-");
    let key = format!("profile:{profile}");
    let mut body = sign_body(&unique("sign-"), 60);
    body["commandHeader"]["to"] = json!([profile]);
    let first = sent(&console, "sign", body.clone(), "COMPLETED").await;
    body["commandHeader"]["externalId"] = json!(unique("sign-"));
    let second = sent(&console, "sign", body, "COMPLETED").await;
    // Devices are noted as the indexer reaches the bodies, moments after they are stored: here,
    // up to the second signature's result, which carries the certificate.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let path = format!("/api/devices/{key}");
    while console.get(&path).await.json()["certificates"][0]["command"] != json!(second.id) {
        assert!(std::time::Instant::now() < deadline, "{key} not indexed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let api = console.clone();
    with_browser(move |c| async move {
        open(&c, &api.url, &password, &format!("/commands/{}", second.id)).await;
        wait_text(&c, "#devices", &key).await;
        // The profile's link opens the Commands page filtered on it: both of its commands.
        eval(
            &c,
            &format!(
                "[...document.querySelectorAll('#devices a')].find(a => a.textContent === '{key}').click()"
            ),
        )
        .await;
        wait_listed(&c, &[second.id, first.id]).await;
        assert_eq!(value_of(&c, "#command-device").await, key);
        // Above them, the device: its commands, and the certificate it signed with, seen last in
        // the second signature's result.
        wait_text(&c, "#device", "2 commands").await;
        let held = text_of(&c, "#device .held li").await;
        assert!(
            held.starts_with("CN=Hermod Simulator Device, O=Hermod Console, serial ")
                && held.ends_with(&format!(" in #{}", second.id)),
            "{held}"
        );
        click(&c, "#device-callbacks").await;
        wait_js(
            &c,
            "document.querySelectorAll('.callbacks .callback').length === 2",
            "the device's two callbacks",
        )
        .await;
    })
    .await;
}
