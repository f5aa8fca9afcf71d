//! The send page: the typed form and the JSON tab over one body (an unknown field survives both ways
//! and is sent), validation next to the field, lists, a file as a data item, templates, re-issue, the
//! client's callback set-up, a custom type written in the JSON tab, drafts kept for the tab, PEM
//! pasted where DER goes; and a command sent from it followed to its outcome. The page's helpers
//! are in send_page.rs.

use crate::pages::{callback_decoded, open};
use crate::send_page::{
    control, json_of, message, open_send, send, type_into, type_into_id, wait_value, write_json,
};
use fantoccini::Locator;
use hermod_console_tests::browser::{
    click, eval, here, login, screenshot, text_of, value_of, wait_css, wait_js, wait_text,
    with_browser,
};
use hermod_console_tests::{Console, unique};
use hermod_shared::decoded::{Check, Decoded};
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn the_json_tab_and_the_form_round_trip_keeping_an_unknown_field() {
    let console = Console::demo().start().await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        open_send(&c, &url, &password).await;
        // The form shows the default sign body: the format suggested, a data item as text.
        assert_eq!(
            value_of(&c, &control("/signCommand/params/format")).await,
            "pkcs7"
        );
        assert_eq!(
            value_of(&c, "[id=\"f/signCommand/params/tbs/0/data-text\"]").await,
            "Pay 100 EUR to ACME"
        );
        screenshot(&c, "issue4-send-form").await;

        // Unknown fields typed in the JSON tab, at the top and deep inside a list item.
        click(&c, "#tab-json").await;
        let mut body = json_of(&c).await;
        body["x-unknown"] = json!({"keep": [1, 2]});
        body["signCommand"]["params"]["tbs"][0]["note"] = json!("mine");
        write_json(&c, &body).await;
        click(&c, "#tab-form").await;
        // Edited in the form, then looked at in the JSON again: both survived, the edit is there.
        type_into(&c, "/commandHeader/externalId", "round-trip-1").await;
        type_into_id(&c, "f/signCommand/params/tbs/0/data-text", "Pay 5 EUR").await;
        click(&c, "#tab-json").await;
        let after = json_of(&c).await;
        assert_eq!(after["x-unknown"], json!({"keep": [1, 2]}), "{after}");
        assert_eq!(after["signCommand"]["params"]["tbs"][0]["note"], "mine");
        assert_eq!(after["commandHeader"]["externalId"], "round-trip-1");
        assert_eq!(
            after["signCommand"]["params"]["tbs"][0]["data"],
            "UGF5IDUgRVVS"
        );
        // The JSON tab sends what was written; the console refuses a mistyped field, and the form
        // then shows why next to it.
        let mut mistyped = after.clone();
        mistyped["commandHeader"]["lifespan"] = json!("soon");
        write_json(&c, &mistyped).await;
        click(&c, "#send-submit").await;
        wait_text(&c, "#send-error", "/body/commandHeader/lifespan").await;
        click(&c, "#tab-form").await;
        wait_text(
            &c,
            &message("/commandHeader/lifespan"),
            "or a string of digits",
        )
        .await;
        assert!(
            !wait_css(&c, "#send-body")
                .await
                .is_displayed()
                .await
                .unwrap()
        );
        type_into(&c, "/commandHeader/lifespan", "120").await;
        send(&c).await;
    })
    .await;
    // What was sent is what the page showed, unknown fields included.
    let sent = console.commands("").await.items;
    let request = &sent[0].request;
    assert_eq!(request["x-unknown"], json!({"keep": [1, 2]}), "{request}");
    assert_eq!(request["signCommand"]["params"]["tbs"][0]["note"], "mine");
    assert_eq!(request["commandHeader"]["externalId"], "round-trip-1");
    assert_eq!(request["commandHeader"]["lifespan"], 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn fields_are_checked_next_to_them_and_lists_files_templates_and_reissue_work() {
    let console = Console::demo().start().await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    let file = std::env::temp_dir().join(format!("send-form-{}.txt", std::process::id()));
    std::fs::write(&file, "from a file").unwrap();
    let path = file.to_string_lossy().to_string();
    with_browser(move |c| async move {
        open_send(&c, &url, &password).await;

        // The form is taller than the window, and Send stays in it, at the top and halfway down.
        for at in ["0", "document.body.scrollHeight / 2"] {
            let fits = eval(
                &c,
                &format!(
                    "window.scrollTo(0, {at}); \
                     const b = document.getElementById('send-submit').getBoundingClientRect(); \
                     return [document.querySelector('.send-form').offsetHeight > innerHeight, \
                             b.top >= 0 && b.bottom <= innerHeight]"
                ),
            )
            .await;
            assert_eq!(fits, json!([true, true]), "scrolled to {at}");
        }

        // A number, base64 and a required list, each refused next to its field; nothing is sent.
        type_into(&c, "/commandHeader/lifespan", "soon").await;
        wait_text(&c, &message("/commandHeader/lifespan"), "whole number").await;
        type_into(&c, "/signCommand/params/description/0/data", "not base64!").await;
        wait_text(
            &c,
            &message("/signCommand/params/description/0/data"),
            "base64 but data is not",
        )
        .await;
        click(&c, "[id=\"f/signCommand/params/tbs/0~remove\"]").await;
        wait_text(
            &c,
            "[data-field=\"/signCommand/params/tbs\"] > .field-error",
            "at least one tbs entry",
        )
        .await;
        click(&c, "#send-submit").await;
        wait_text(&c, "p.error", "Not sent: 3 things to fix").await;
        assert!(c.current_url().await.unwrap().path().ends_with("/send"));
        screenshot(&c, "issue4-send-form-invalid").await;

        // Fixed: a number; the data item typed as text; a new tbs item from a file.
        type_into(&c, "/commandHeader/lifespan", "60").await;
        type_into_id(&c, "f/signCommand/params/description/0/data-text", "Example Bank").await;
        click(&c, "[id=\"f/signCommand/params/tbs~add\"]").await;
        wait_css(&c, "[id=\"f/signCommand/params/tbs/0/data-file\"]")
            .await
            .send_keys(&path)
            .await
            .unwrap();
        wait_text(&c, "[data-field=\"/signCommand/params/tbs/0/data\"] .payload-tools", "loaded").await;
        // A second item, moved above the first, then taken out again.
        click(&c, "[id=\"f/signCommand/params/tbs~add\"]").await;
        type_into(&c, "/signCommand/params/tbs/1/key", "second").await;
        click(&c, "[id=\"f/signCommand/params/tbs/1~up\"]").await;
        click(&c, "#tab-json").await;
        let body = json_of(&c).await;
        assert_eq!(body["signCommand"]["params"]["tbs"][0], json!({"key": "second"}), "{body}");
        click(&c, "#tab-form").await;
        click(&c, "[id=\"f/signCommand/params/tbs/0~remove\"]").await;
        click(&c, "#tab-json").await;
        let body = json_of(&c).await;
        assert_eq!(body["commandHeader"]["lifespan"], 60);
        assert_eq!(
            body["signCommand"]["params"]["tbs"],
            json!([{"data": "ZnJvbSBhIGZpbGU=", "content_encoding": "base64", "content_type": "text/plain"}]),
        );
        assert_eq!(
            body["signCommand"]["params"]["description"][0]["data"],
            "RXhhbXBsZSBCYW5r"
        );
        click(&c, "#tab-form").await;

        // Saved as a template, the page reset, the template loaded back.
        type_into(&c, "/commandHeader/externalId", "from-template").await;
        wait_css(&c, "#template-name").await.send_keys("browser test").await.unwrap();
        click(&c, ".templates button[type=submit]").await;
        wait_text(&c, "#template-status", "Saved").await;
        click(&c, ".actions button[type=button]").await;
        assert_eq!(value_of(&c, &control("/commandHeader/externalId")).await, "");
        click(&c, ".templates [data-act=load]").await;
        wait_text(&c, "#template-status", "Loaded").await;
        assert_eq!(
            value_of(&c, &control("/commandHeader/externalId")).await,
            "from-template"
        );
        let first = send(&c).await;

        // Re-issue: the request comes back into the form, editable, and the new command names it.
        c.goto(&format!("{url}/send?reissue={first}")).await.unwrap();
        wait_text(&c, ".reissue", &format!("command #{first}")).await;
        wait_value(&c, "/commandHeader/externalId", "from-template").await;
        // Keeping the re-issued command's externalId is warned about until it changes.
        wait_text(&c, "#reused-external-id", "“from-template” is").await;
        type_into(&c, "/commandHeader/externalId", "reissued").await;
        wait_js(
            &c,
            "!document.getElementById('reused-external-id')",
            "the warning goes",
        )
        .await;
        let again = send(&c).await;
        // Each names the other.
        wait_text(&c, ".facts", &format!("#{first}")).await;
        c.goto(&format!("{url}/commands/{first}")).await.unwrap();
        wait_text(&c, "#reissued-as", &format!("#{again}")).await;
    })
    .await;
    let _ = std::fs::remove_file(file);
    let sent = console.commands("").await.items;
    let (again, first) = (&sent[0], &sent[1]);
    assert_eq!(again.reissue_of, Some(first.id));
    assert_eq!(again.request["commandHeader"]["externalId"], "reissued");
    let templates: Value = console.get("/api/templates").await.expect(200).parse();
    assert_eq!(templates[0]["name"], "browser test", "{templates}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_type_sends_its_example_from_the_form_and_guesses_are_not_required() {
    let console = Console::demo().start().await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        login(&c, &url, "admin", &password).await;
        for ty in [
            "provision",
            "certificate",
            "authenticate",
            "sign",
            "ping",
            "startpinreset",
            "endpinreset",
        ] {
            c.goto(&format!("{url}/send")).await.unwrap();
            wait_text(&c, "#send-client", "Identity Manager").await;
            wait_css(&c, "#send-type")
                .await
                .select_by_value(ty)
                .await
                .unwrap();
            wait_css(&c, &control("/commandHeader/lifespan")).await;
            if ty == "provision" {
                wait_css(
                    &c,
                    "[data-field=\"/provCommand/profile/keygenrequests/0/keytypeprios/0\"]",
                )
                .await;
                screenshot(&c, "issue4-send-form-provision").await;
            }
            if ty == "certificate" {
                // The guessed parts are marked so, and nothing requires them: the certificate
                // goes without its list.
                wait_css(
                    &c,
                    control("/certCommand/certificates/0/certificate").as_str(),
                )
                .await;
                let marked = eval(
                    &c,
                    "return [...document.querySelectorAll('.body-form .inferred')]\
                     .map(m => m.closest('[data-field]').dataset.field)",
                )
                .await;
                assert_eq!(
                    marked,
                    json!([
                        "/certCommand",
                        "/certCommand/certificates",
                        "/certCommand/certificates/0/keyid",
                        "/certCommand/certificates/0/certificate"
                    ])
                );
                click(&c, "[id=\"f/certCommand/certificates/0~remove\"]").await;
                screenshot(&c, "issue11-send-form-inferred").await;
            }
            send(&c).await;
        }
    })
    .await;
    let sent = console.commands("").await.items;
    let types: Vec<&str> = sent.iter().rev().map(|c| c.command_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "provision",
            "certificate",
            "authenticate",
            "sign",
            "ping",
            "startpinreset",
            "endpinreset"
        ]
    );
    let certificate = &sent[sent.len() - 2].request;
    assert_eq!(certificate["certCommand"]["certificates"], json!([]));
}

/// Send a sign command through the page, watch it reach COMPLETED on its own page, and find its
/// callback in the live feed.
#[tokio::test(flavor = "multi_thread")]
async fn a_sign_command_sent_from_the_page_completes_and_its_callback_reaches_the_feed() {
    let console = Console::demo()
        .env("HERMOD_SIMULATOR__COMPLETE_AFTER_MS", "800")
        .start()
        .await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        open(&c, &url, &password, "/send").await;
        // The client list comes from the API; the sign default body is preloaded.
        wait_text(&c, "#send-client", "Identity Manager").await;
        let ty = wait_css(&c, "#send-type").await;
        assert_eq!(ty.prop("value").await.unwrap().as_deref(), Some("sign"));
        let body = c.find(Locator::Css("#send-body")).await.unwrap();
        let text = body.prop("value").await.unwrap().unwrap_or_default();
        assert!(text.contains("signCommand"), "default body: {text}");
        c.find(Locator::Css("#send-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();

        // The page goes to the new command and follows it, through the live feed, to COMPLETED.
        wait_css(&c, ".command-state").await;
        let path = c.current_url().await.unwrap().path().to_string();
        assert!(path.starts_with("/commands/"), "went to {path}");
        let id: i64 = path.trim_start_matches("/commands/").parse().unwrap();
        wait_text(&c, ".command-state", "COMPLETED").await;
        wait_css(&c, ".step[data-kind=callback]").await;
        wait_text(&c, ".step[data-kind=callback]", "basic ok").await;
        screenshot(&c, "issue2-command-completed").await;

        // The feed shows the callback, matched to this command, and the connection is live.
        c.find(Locator::Css(".rail a[href='/']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let callback_row = format!("a.feed-row[data-kind=callback][href='/commands/{id}']");
        wait_css(&c, &callback_row).await;
        wait_text(&c, "#connection", "live").await;
        let rows = eval(&c, "return document.querySelectorAll('.feed-row').length").await;
        assert!(rows.as_u64().unwrap_or(0) >= 3, "feed rows: {rows}");
        screenshot(&c, "issue2-feed").await;
    })
    .await;
    // What the page showed is what the API holds.
    let detail = console.detail(1).await;
    assert_eq!(detail.command.state.as_str(), "COMPLETED");
}

#[tokio::test(flavor = "multi_thread")]
async fn provision_from_the_typed_form_shows_a_qr_code_and_the_decoded_requests() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open_send(&c, &url, &password).await;
        // The second API client; the page says where Hermod must send its callbacks.
        wait_css(&c, "#send-client")
            .await
            .select_by_value("da")
            .await
            .unwrap();
        wait_text(&c, "#client-callback", &format!("{url}/clients/da/rest")).await;
        // Its allowed-clients entry, ready to paste, and a check that Hermod takes its key.
        let entry = eval(
            &c,
            "return document.querySelector('#allowed-client').textContent",
        )
        .await;
        let entry = entry.as_str().unwrap_or_default().to_string();
        assert!(
            entry.contains("- client-id: da")
                && entry.contains(&format!("callback-url: {url}/clients/da/rest"))
                && entry.contains(
                    "callback-basic-auth: \"da-callback:<clients.da.callback_password>\""
                ),
            "{entry}"
        );
        click(&c, "#client-check").await;
        wait_css(&c, "#client-callback [data-verdict=reachable]").await;
        wait_text(&c, "#client-callback", "da-callback").await;
        assert!(
            c.find(fantoccini::Locator::Css("#client-unauthenticated"))
                .await
                .is_err(),
            "demo's clients have callback credentials"
        );
        wait_css(&c, "#send-type")
            .await
            .select_by_value("provision")
            .await
            .unwrap();
        click(&c, "#tab-form").await;
        let external_id = unique("form-provision-");
        let field = wait_css(&c, "[data-field=\"/commandHeader/externalId\"] > input").await;
        field.clear().await.unwrap();
        field.send_keys(&external_id).await.unwrap();
        wait_css(
            &c,
            "[data-field=\"/provCommand/profile/keygenrequests/0/keytypeprios/0\"]",
        )
        .await;
        click(&c, "#send-submit").await;

        // The command's page: each destination as a QR code drawn in the page and as its deep link.
        wait_css(&c, ".command-state").await;
        let path = here(&c).await;
        let id: i64 = path
            .trim_start_matches("/commands/")
            .parse()
            .unwrap_or_else(|_| panic!("went to {path}"));
        let record = api.detail(id).await.command;
        assert_eq!(record.command_type, "provision");
        assert_eq!(record.client, "da");
        assert_eq!(record.external_id.as_deref(), Some(external_id.as_str()));
        let uri = record.destinations[0].uri.clone().expect("a deep link");
        wait_css(&c, "svg.qr path").await;
        let drawn = eval(
            &c,
            "return document.querySelector('svg.qr path').getAttribute('d').split('M').length - 1",
        )
        .await;
        assert!(drawn.as_u64().unwrap() > 100, "QR modules drawn: {drawn}");
        let link = wait_css(&c, "a.deep-link").await;
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some(uri.as_str())
        );
        assert_eq!(link.text().await.unwrap(), uri);

        // COMPLETED, with the requests for the asked keys decoded in the callback step.
        wait_text(&c, ".command-state", "COMPLETED").await;
        let csr = ".step[data-kind=callback] [data-decoded=cert-request]";
        wait_css(&c, csr).await;
        let detail = api.detail(id).await;
        let subjects: Vec<String> = callback_decoded(&detail)
            .into_iter()
            .filter_map(|d| match d {
                Decoded::CertRequest(r) => Some(r.subject),
                _ => None,
            })
            .collect();
        assert!(!subjects.is_empty(), "no decoded request in {detail:?}");
        let shown = eval(
            &c,
            &format!(
                "return [...document.querySelectorAll('{csr}')].map(e => e.innerText).join('\\n')"
            ),
        )
        .await;
        let shown = shown.as_str().unwrap_or_default();
        for subject in &subjects {
            assert!(shown.contains(subject.as_str()), "{subject} not in {shown}");
        }
        assert!(shown.contains("self-signature valid"), "{shown}");

        // The requests came in a JWS: its header, payload and verdict are shown as decoded.
        let (alg, checks) = callback_decoded(&detail)
            .into_iter()
            .find_map(|d| match d {
                Decoded::Jws { header, checks, .. } => Some((header["alg"].clone(), checks)),
                _ => None,
            })
            .expect("a decoded JWS");
        let jws = text_of(&c, ".step[data-kind=callback] [data-decoded=jws]").await;
        assert!(
            jws.contains(&format!("\"alg\": {alg}")),
            "{alg} not in {jws}"
        );
        let signed = Check::named(&checks, "signature").expect("the signature's own check");
        let verdict = format!("signature: {}", signed.detail);
        assert!(jws.contains(&verdict), "{verdict} not in {jws}");
        // Its raw form is one click away, as it came in the body.
        let raw = ".step[data-kind=callback] details.decoded > details[data-raw]";
        click(&c, &format!("{raw} > summary")).await;
        let body: Value = serde_json::from_str(&api.wait_for_callbacks(id, 1).await[0].body)
            .expect("a JSON callback");
        let compact = body["response"].as_str().expect("the JWS in the response");
        wait_text(&c, &format!("{raw} pre"), &compact[..40]).await;
        // A request's raw form is that request, not the JWS it came in.
        let request = eval(
            &c,
            &format!(
                "return [...document.querySelectorAll('{raw} pre')].map(p => p.textContent)[1]"
            ),
        )
        .await;
        let request = request.as_str().expect("a second raw form");
        assert!(
            request.starts_with("MII") && !request.contains('.'),
            "{request}"
        );
    })
    .await;
}

/// A type the console has no form for (`custom_commands`) is offered beside the seven, written in
/// the JSON tab only, and sent as written.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_command_type_is_written_in_the_json_tab_and_sent() {
    let console = Console::demo()
        .env("HERMOD_CONSOLE__CUSTOM_COMMANDS", "[\"rotate\"]")
        .env("HERMOD_SIMULATOR__CUSTOM_COMMANDS", "[\"rotate\"]")
        .start()
        .await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    let body = json!({
        "commandHeader": {"lifespan": 120, "timeout": 120},
        "rotateCommand": {"keylength": 4096, "anything": ["the console", "does not check"]},
    });
    let written = body.clone();
    with_browser(move |c| async move {
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/send")).await.unwrap();
        wait_text(&c, "#send-type", "rotate (custom)").await;
        wait_css(&c, "#send-type")
            .await
            .select_by_value("rotate")
            .await
            .unwrap();
        wait_js(
            &c,
            "document.getElementById('tab-form').hidden \
             && !document.getElementById('send-json-panel').hidden",
            "only the JSON tab",
        )
        .await;
        assert_eq!(
            json_of(&c).await["commandHeader"]["lifespan"],
            json!(300),
            "the header kept"
        );
        write_json(&c, &written).await;
        send(&c).await;
        wait_text(&c, "h1", "rotate #").await;
    })
    .await;
    let sent = console.commands("").await.items.remove(0);
    assert_eq!(sent.command_type, "rotate");
    assert_eq!(sent.request, body);
}

#[tokio::test(flavor = "multi_thread")]
async fn drafts_survive_a_type_switch_back_and_a_reload() {
    let console = Console::demo().start().await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        open_send(&c, &url, &password).await;
        let external = "/commandHeader/externalId";
        let pick = |ty: &'static str| {
            let c = &c;
            async move {
                wait_css(c, "#send-type")
                    .await
                    .select_by_value(ty)
                    .await
                    .unwrap();
            }
        };
        type_into(&c, external, "draft-of-a-sign").await;
        pick("ping").await;
        wait_css(&c, &control("/pingCommand/deviceinfo")).await;
        type_into(&c, external, "draft-of-a-ping").await;
        pick("sign").await;
        wait_value(&c, external, "draft-of-a-sign").await;
        assert_eq!(
            json_of(&c).await["commandHeader"]["externalId"],
            "draft-of-a-sign"
        );

        // Away and Back, then a reload: the sign, as it was left.
        click(&c, ".rail a[href='/commands']").await;
        wait_css(&c, "table.commands").await;
        c.back().await.unwrap();
        wait_value(&c, external, "draft-of-a-sign").await;
        assert_eq!(value_of(&c, "#send-type").await, "sign");
        c.refresh().await.unwrap();
        wait_value(&c, external, "draft-of-a-sign").await;
        pick("ping").await;
        wait_value(&c, external, "draft-of-a-ping").await;

        // Reset to the example is the way back to a fresh body.
        click(&c, ".send-form .actions button[type=button]").await;
        wait_js(
            &c,
            "!document.getElementById('send-body').value.includes('draft-of-a-ping')",
            "the example back",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_pem_certificate_is_taken_by_the_form_and_sent_as_base64_der() {
    let console = Arc::new(Console::demo().start().await);
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    // demo's simulator CA, as an operator has a certificate at hand: a PEM file.
    let pem = std::fs::read_to_string(console.data_dir().join("simulator-ca.pem")).unwrap();
    let first = pem
        .split_inclusive("-----END CERTIFICATE-----")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let base64: String = first.lines().filter(|l| !l.starts_with("-----")).collect();
    let api = console.clone();
    with_browser(move |c| async move {
        open_send(&c, &url, &password).await;
        wait_css(&c, "#send-type")
            .await
            .select_by_value("certificate")
            .await
            .unwrap();
        let field = "/certCommand/certificates/0/certificate";
        type_into(&c, field, &first).await;
        // The form takes PEM without a word; a request's PEM where a certificate goes, it refuses.
        wait_value(&c, field, &first).await;
        let said = eval(
            &c,
            &format!(
                "return document.querySelector('{}')?.textContent ?? ''",
                message(field)
            ),
        )
        .await;
        assert_eq!(said, json!(""), "no complaint about PEM");
        let id = send(&c).await;
        let record = api.detail(id).await.command;
        assert_eq!(
            record.request["certCommand"]["certificates"][0]["certificate"],
            json!(base64)
        );
        // Its page gives it back as a PEM file, as openssl writes one.
        let link = ".step details.decoded:has(> [data-decoded=certificate]) a.download";
        wait_css(&c, link).await;
        let file = eval(
            &c,
            &format!(
                "const a = document.querySelector('{link}'); \
                 return [a.getAttribute('download'), decodeURIComponent(a.href.split(',')[1])]"
            ),
        )
        .await;
        let lines: Vec<&str> = base64
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        let pem_file = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        );
        assert_eq!(file, json!(["certificate.pem", pem_file]));
    })
    .await;
}
