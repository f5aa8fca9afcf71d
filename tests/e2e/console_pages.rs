//! Every page of the console in a real headless Chromium against the real backend and simulator,
//! one test per path an operator takes: provision from the typed form (QR code, decoded requests),
//! a sign result decoded, an expired and a rejected command, filters in the URL, paging, pausing the
//! feed, hostile callback bodies shown as text, keyboard, theme and phone width; plus screenshots of
//! every page in both themes, and the time from navigation to the first feed row.

use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use hermod_console_tests::browser::{
    click, eval, here, login, prefer_color_scheme, screenshot, text_of, value_of, wait_css,
    wait_js, wait_text, with_browser,
};
use hermod_console_tests::*;
use hermod_shared::console::{CommandDetail, CommandRecord, Role, TimelineEntry};
use hermod_shared::decoded::{Decoded, Verification};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Presses and releases one key, wherever the focus is.
async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys)
        .await
        .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
}

/// The ids of the rows the commands table shows, top to bottom.
async fn listed(c: &Client) -> Vec<i64> {
    let ids = eval(
        c,
        "return [...document.querySelectorAll('table.commands tbody tr')] \
         .map(r => Number(r.dataset.id))",
    )
    .await;
    serde_json::from_value(ids).expect("row ids")
}

/// Waits until the commands table shows exactly `want` (newest first), and nothing is loading.
async fn wait_listed(c: &Client, want: &[i64]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let busy = eval(
            c,
            "const t = document.querySelector('table.commands'); \
             return !t || t.getAttribute('aria-busy') !== 'false'",
        )
        .await;
        let rows = listed(c).await;
        if busy == json!(false) && rows == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the table shows {rows:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Nothing the page wrote into the DOM ran: no flag set by the injected scripts, no `<img src=x>`,
/// no script holding them.
async fn assert_inert(c: &Client, page: &str) {
    let found = eval(
        c,
        "return { flag: typeof window.__xss, \
         imgs: document.querySelectorAll('img[src=\"x\"]').length, \
         scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length }",
    )
    .await;
    assert_eq!(
        found,
        json!({"flag": "undefined", "imgs": 0, "scripts": 0}),
        "{page}: injected markup became live"
    );
}

/// The page scrolls only up and down.
async fn assert_fits_width(c: &Client, page: &str) {
    let sizes = eval(
        c,
        "return [document.documentElement.scrollWidth, window.innerWidth]",
    )
    .await;
    let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert!(
        scroll <= inner,
        "{page} scrolls sideways at phone width: {scroll} px wide in a {inner} px window"
    );
}

/// The decoded items of the (first) callback step of a command.
fn callback_decoded(detail: &CommandDetail) -> Vec<Decoded> {
    detail
        .timeline
        .iter()
        .find_map(|e| match e {
            TimelineEntry::Callback { decoded, .. } => {
                Some(decoded.iter().map(|d| d.decoded.clone()).collect())
            }
            _ => None,
        })
        .expect("a callback in the timeline")
}

/// Every page behind the login: its name, its path (the command page shows command `command`, a
/// completed sign), and what shows it is drawn.
fn every_page(command: i64) -> [(&'static str, String, &'static str); 7] {
    [
        ("feed", "/".into(), ".feed-row"),
        (
            "send",
            "/send".into(),
            "[data-field=\"/commandHeader/lifespan\"] > input",
        ),
        ("commands", "/commands".into(), "table.commands tbody tr"),
        (
            "command",
            format!("/commands/{command}"),
            ".step[data-kind=callback] [data-decoded=pkcs7] [data-decoded=certificate]",
        ),
        ("callbacks", "/callbacks".into(), "li.callback"),
        ("audit", "/audit".into(), "#audit tr[data-action=login]"),
        ("users", "/users".into(), "#users tr"),
    ]
}

/// The visible form controls with no accessible name: no label, no aria-label, no text, no title.
const UNNAMED_CONTROLS: &str = "return [...document.querySelectorAll('input, select, textarea, button')] \
    .filter(e => e.offsetParent !== null && e.type !== 'hidden') \
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') \
        && !e.getAttribute('aria-labelledby') && !e.title && !e.textContent.trim()) \
    .map(e => e.outerHTML.slice(0, 120))";

/// Sends a command through the API and waits for its terminal `state`.
async fn sent(console: &Console, ty: &str, body: Value, state: &str) -> CommandRecord {
    let record = console.send(ty, body).await;
    console.wait_for_state(record.id, state).await
}

#[tokio::test(flavor = "multi_thread")]
async fn provision_from_the_typed_form_shows_a_qr_code_and_the_decoded_requests() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/send")).await.unwrap();
        wait_text(&c, "#send-client", "Identity Manager").await;
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
        let (alg, verified) = callback_decoded(&detail)
            .into_iter()
            .find_map(|d| match d {
                Decoded::Jws {
                    header,
                    verification,
                    ..
                } => Some((header["alg"].clone(), verification)),
                _ => None,
            })
            .expect("a decoded JWS");
        let jws = text_of(&c, ".step[data-kind=callback] [data-decoded=jws]").await;
        assert!(
            jws.contains(&format!("\"alg\": {alg}")),
            "{alg} not in {jws}"
        );
        let verdict = match verified {
            Verification::Valid { .. } => "signature valid",
            Verification::Invalid { .. } => "signature invalid",
            Verification::NotChecked { .. } => "not checked",
        };
        assert!(jws.contains(verdict), "{verdict} not in {jws}");
        // Its raw form is one click away, as it came in the body.
        let raw = ".step[data-kind=callback] details.decoded > details[data-raw]";
        click(&c, &format!("{raw} > summary")).await;
        let body: Value = serde_json::from_str(&api.wait_for_callbacks(id, 1).await[0].body)
            .expect("a JSON callback");
        let compact = body["response"].as_str().expect("the JWS in the response");
        wait_text(&c, &format!("{raw} pre"), &compact[..40]).await;
    })
    .await;
}

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
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands/{}", record.id))
            .await
            .unwrap();
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
        assert!(
            matches!(signer.verification, Verification::Valid { .. }),
            "{signer:?}"
        );
        let shown = text_of(&c, pkcs7).await;
        assert!(
            shown.contains(&format!("Signer: {}", signer.signer)),
            "{shown}"
        );
        assert!(shown.contains("signature valid"), "{shown}");
        // Each certificate it carries, summarised.
        let certs = eval(
            &c,
            &format!(
                "return document.querySelectorAll('{pkcs7} [data-decoded=certificate]').length"
            ),
        )
        .await;
        assert_eq!(certs, json!(summary.certificates.len()));
        for cert in &summary.certificates {
            for (what, value) in [
                ("subject", format!("Subject\n{}", cert.subject)),
                ("serial", format!("Serial\n{}", cert.serial)),
                (
                    "validity",
                    format!("Valid\n{} → {}", cert.not_before, cert.not_after),
                ),
            ] {
                assert!(
                    shown.contains(&value),
                    "the certificate's {what} {value} is not in {shown}"
                );
            }
        }
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

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_command_shows_expired_and_its_callback() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let record = console.send("ping", ping_body(&unique("expire-"), 2)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands/{}", record.id))
            .await
            .unwrap();
        // The page follows it from IN_PROGRESS to EXPIRED through the live feed.
        wait_css(&c, ".command-state").await;
        wait_text(&c, ".command-state", "EXPIRED").await;
        wait_text(&c, ".step[data-kind=callback]", "Callback EXPIRED").await;
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
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands/{}", record.id))
            .await
            .unwrap();
        wait_text(&c, ".command-state", "REJECTED").await;
        wait_text(&c, ".step[data-kind=callback]", "Callback REJECTED").await;
        c.goto(&format!("{url}/commands")).await.unwrap();
        wait_text(
            &c,
            &format!("tr[data-id='{}'] [data-state]", record.id),
            "REJECTED",
        )
        .await;
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
async fn the_feed_filters_by_kind_type_client_and_state_and_rows_open_their_command() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let ping = sent(
        &console,
        "ping",
        ping_body(&unique("ping-"), 60),
        "COMPLETED",
    )
    .await;
    let sign: CommandRecord = console
        .send_as("da", "sign", sign_body(&unique("sign-"), 60))
        .await
        .expect(201)
        .parse();
    console.wait_for_state(sign.id, "COMPLETED").await;
    console.wait_for_callbacks(sign.id, 1).await;
    console.wait_for_callbacks(ping.id, 1).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        let rows = "[...document.querySelectorAll('.feed-row')]";
        let shown = |c: Client| async move {
            let v = eval(
                &c,
                &format!("return {rows}.map(r => [r.dataset.kind, r.getAttribute('href')])"),
            )
            .await;
            serde_json::from_value::<Vec<(String, Option<String>)>>(v).unwrap()
        };

        // From the URL: callbacks only, one per command.
        c.goto(&format!("{url}/?kind=callback")).await.unwrap();
        wait_js(&c, &format!("{rows}.length == 2"), "two callbacks").await;
        let mut got = shown(c.clone()).await;
        got.sort();
        let link = |id: i64| Some(format!("/commands/{id}"));
        assert_eq!(
            got,
            [
                ("callback".to_string(), link(ping.id)),
                ("callback".to_string(), link(sign.id))
            ]
        );

        // Narrowed by type from the page: the URL follows.
        wait_css(&c, "#feed-type")
            .await
            .select_by_value("sign")
            .await
            .unwrap();
        wait_js(&c, &format!("{rows}.length == 1"), "one sign callback").await;
        assert_eq!(here(&c).await, "/?kind=callback&type=sign");
        assert_eq!(
            shown(c.clone()).await,
            [("callback".to_string(), link(sign.id))]
        );
        // By client: idm sent no sign.
        wait_css(&c, "#feed-client")
            .await
            .select_by_value("idm")
            .await
            .unwrap();
        wait_js(&c, &format!("{rows}.length == 0"), "nothing left").await;
        wait_text(&c, ".empty", "No events match these filters").await;

        // By state: the commands that completed, each once per change to COMPLETED.
        c.goto(&format!("{url}/?kind=command&state=COMPLETED&client=da"))
            .await
            .unwrap();
        wait_js(&c, &format!("{rows}.length >= 1"), "da's completed command").await;
        let got = shown(c.clone()).await;
        assert!(
            got.iter()
                .all(|row| *row == ("command".to_string(), link(sign.id))),
            "{got:?}"
        );
        assert_eq!(value_of(&c, "#feed-state").await, "COMPLETED");
        assert_eq!(value_of(&c, "#feed-client").await, "da");

        // A row opens its command.
        click(&c, &format!(".feed-row[href='/commands/{}']", sign.id)).await;
        wait_text(&c, ".page-head h1", &format!("sign #{}", sign.id)).await;
        assert_eq!(here(&c).await, format!("/commands/{}", sign.id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_search_live_in_the_url_and_survive_reload_back_and_forward() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let needle = unique("needle");
    let a = sent(
        &console,
        "sign",
        sign_body(&format!("{needle}-a"), 60),
        "COMPLETED",
    )
    .await;
    let b = sent(
        &console,
        "sign",
        sign_body(&format!("reject-{needle}-b"), 60),
        "REJECTED",
    )
    .await;
    let c3 = sent(
        &console,
        "ping",
        ping_body(&format!("{needle}-c"), 60),
        "COMPLETED",
    )
    .await;
    let d = sent(
        &console,
        "sign",
        sign_body(&unique("other-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands")).await.unwrap();
        wait_listed(&c, &[d.id, c3.id, b.id, a.id]).await;

        // A search, then type and state on top of it: each applied view is in the URL.
        let search = wait_css(&c, "#command-search").await;
        search.send_keys(&needle).await.unwrap();
        click(&c, "#command-filter-apply").await;
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        assert_eq!(here(&c).await, format!("/commands?q={needle}"));
        wait_css(&c, "select[name=type]")
            .await
            .select_by_value("sign")
            .await
            .unwrap();
        wait_css(&c, "select[name=state]")
            .await
            .select_by_value("COMPLETED")
            .await
            .unwrap();
        click(&c, "#command-filter-apply").await;
        wait_listed(&c, &[a.id]).await;
        let filtered = format!("/commands?q={needle}&type=sign&state=COMPLETED");
        assert_eq!(here(&c).await, filtered);

        // The exports carry the same filters, and hold the same rows.
        for (id, format) in [("#export-csv", "csv"), ("#export-json", "json")] {
            let href = wait_css(&c, id).await.attr("href").await.unwrap().unwrap();
            assert_eq!(
                href,
                format!(
                    "/api/commands/export?format={format}&q={needle}&type=sign&state=COMPLETED"
                )
            );
            let export = api.get(&href).await.expect(200).text;
            assert!(export.contains(&format!("{needle}-a")), "{export}");
            for other in [
                format!("{needle}-b"),
                format!("{needle}-c"),
                "other-".into(),
            ] {
                assert!(!export.contains(&other), "{format} export holds {other}");
            }
        }

        // Back and forward restore the earlier views, their inputs included.
        c.back().await.unwrap();
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        assert_eq!(here(&c).await, format!("/commands?q={needle}"));
        assert_eq!(value_of(&c, "#command-search").await, needle);
        assert_eq!(value_of(&c, "select[name=type]").await, "");
        c.back().await.unwrap();
        wait_listed(&c, &[d.id, c3.id, b.id, a.id]).await;
        assert_eq!(value_of(&c, "#command-search").await, "");
        c.forward().await.unwrap();
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        c.forward().await.unwrap();
        wait_listed(&c, &[a.id]).await;
        assert_eq!(here(&c).await, filtered);

        // The URL alone, in a fresh page load, gives the same view.
        c.goto("about:blank").await.unwrap();
        c.goto(&format!("{url}{filtered}")).await.unwrap();
        wait_listed(&c, &[a.id]).await;
        assert_eq!(value_of(&c, "#command-search").await, needle);
        assert_eq!(value_of(&c, "select[name=type]").await, "sign");
        assert_eq!(value_of(&c, "select[name=state]").await, "COMPLETED");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn load_more_pages_through_a_filtered_list_and_live_changes_keep_their_place() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    // One more than a page of waiting pings, and a sign that the filter leaves out.
    let pings = (0..101).map(|_| console.send("ping", ping_body(&unique("hold-"), 300)));
    let mut pings = futures_util::future::join_all(pings).await;
    pings.sort_unstable_by_key(|r| std::cmp::Reverse(r.id));
    console.send("sign", sign_body(&unique("hold-"), 300)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        let mut ids: Vec<i64> = pings.iter().map(|r| r.id).collect();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands?type=ping")).await.unwrap();
        wait_listed(&c, &ids[..100]).await;

        // The oldest ping, on the page not loaded yet, completes; then a new ping is sent. The new
        // one goes on top; the old one's change does not put it under the first page.
        let oldest = &pings[100];
        let command_id = oldest.command_id.as_deref().expect("a commandId");
        api.sim_post(&format!("/sim/commands/{command_id}/complete"))
            .await
            .expect(200);
        api.wait_for_state(oldest.id, "COMPLETED").await;
        let newest = api.send("ping", ping_body(&unique("hold-"), 300)).await;
        ids.insert(0, newest.id);
        wait_listed(&c, &ids[..101]).await;

        // "Load more" brings it, in its place and state, and there is nothing further.
        click(&c, "#load-more").await;
        wait_listed(&c, &ids).await;
        wait_text(
            &c,
            &format!("tr[data-id='{}'] [data-state]", oldest.id),
            "COMPLETED",
        )
        .await;
        wait_js(&c, "!document.getElementById('load-more')", "no more pages").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_paused_feed_stands_still_and_counts_then_resumes() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    sent(
        &console,
        "ping",
        ping_body(&unique("before-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        wait_css(&c, ".feed-row").await;
        let top = "document.querySelector('.feed-row').dataset.seq";
        let seq = api.feed_seq().await;
        wait_js(
            &c,
            &format!("{top} == {seq}"),
            "the feed shows the newest event",
        )
        .await;
        let rows = "document.querySelectorAll('.feed-row').length";
        let before = eval(&c, &format!("return {rows}")).await;

        click(&c, "#feed-pause").await;
        wait_text(&c, "#feed-pause", "Resume").await;
        // Events arrive: the list stays as it was, the badge counts them.
        let record = sent(&api, "ping", ping_body(&unique("paused-"), 60), "COMPLETED").await;
        api.wait_for_callbacks(record.id, 1).await;
        let newest = api.feed_seq().await;
        let arrived = newest - seq;
        assert!(arrived >= 3, "{arrived} events for a completed command");
        wait_text(&c, "#feed-waiting", &arrived.to_string()).await;
        assert_eq!(text_of(&c, "#feed-waiting").await, arrived.to_string());
        assert_eq!(eval(&c, &format!("return {rows}")).await, before);
        assert_eq!(eval(&c, &format!("return Number({top})")).await, json!(seq));
        assert!(
            c.find(fantoccini::Locator::Css(&format!(
                ".feed-row[href='/commands/{}']",
                record.id
            )))
            .await
            .is_err()
        );
        screenshot(&c, "issue4-feed-paused").await;

        // Resumed: what waited is shown, newest on top, and the badge is gone.
        click(&c, "#feed-pause").await;
        wait_js(&c, &format!("{top} == {newest}"), "the newest event on top").await;
        assert_eq!(
            eval(&c, &format!("return {rows}")).await,
            json!(before.as_u64().unwrap() + arrived as u64)
        );
        assert!(
            c.find(fantoccini::Locator::Css("#feed-waiting"))
                .await
                .is_err()
        );
        wait_css(&c, &format!(".feed-row[href='/commands/{}']", record.id)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_callback_bodies_stays_text_on_every_page() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let script = "<script>window.__xss=1</script>";
    let img = "<img src=x onerror=\"window.__xss=2\">";
    // A command that waits, and a callback for it whose body carries markup.
    let record = console.send("sign", sign_body(&unique("hold-"), 300)).await;
    let command_id = record.command_id.clone().expect("a commandId");
    let matched = json!({
        "commandId": command_id,
        "externalId": script,
        "commandType": "SIGN",
        "state": "COMPLETED",
        "response": img,
        "note": [script, img],
    });
    console
        .post_callback(
            "/rest/callback/sign",
            Some(console.idm_auth()),
            "application/json",
            matched.to_string(),
        )
        .await
        .expect(200);
    // One that matches nothing, with markup where the feed and the list show fields.
    let unmatched = json!({"commandId": script, "state": img, "externalId": img});
    console
        .post_callback(
            "/rest/callback/sign",
            Some(console.idm_auth()),
            "application/json",
            unmatched.to_string(),
        )
        .await
        .expect(200);
    // One too big for a list: its end is one click away.
    let big = json!({"commandId": "4242", "blob": "x".repeat(40_000), "end": "the-very-end"});
    console
        .post_callback(
            "/rest/callback/sign",
            Some(console.idm_auth()),
            "application/json",
            big.to_string(),
        )
        .await
        .expect(200);
    // And one posted to the bare registered URL: kept, flagged where it shows.
    console
        .post_callback(
            "/clients/idm/rest",
            Some(console.idm_auth()),
            "application/json",
            json!({"note": "misrouted"}).to_string(),
        )
        .await
        .expect(200);
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        let text = "document.body.textContent";

        // The misrouted callback stands out in the feed.
        wait_text(
            &c,
            ".feed-row[data-kind=callback] .type.misrouted",
            "misrouted",
        )
        .await;

        // The feed: the unmatched callback's fields, as text.
        wait_text(
            &c,
            ".feed-row[data-kind=callback]:not([href]) .tag",
            "unmatched",
        )
        .await;
        // (A state the console does not know is shown in capitals, as states are.)
        wait_js(
            &c,
            &format!("{text}.includes({:?})", img.to_uppercase()),
            "the feed shows the markup",
        )
        .await;
        wait_js(
            &c,
            &format!("{text}.includes({script:?})"),
            "the feed shows the markup",
        )
        .await;
        assert_inert(&c, "the feed").await;

        // The callbacks page: both bodies, whole, as text.
        c.goto(&format!("{url}/callbacks")).await.unwrap();
        wait_js(
            &c,
            "document.querySelectorAll('li.callback').length >= 4",
            "four callbacks",
        )
        .await;
        // The big one comes cut, and whole on request.
        click(&c, "li.callback [data-whole-body]").await;
        eval(
            &c,
            "document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        .await;
        wait_js(
            &c,
            &format!(
                "{text}.includes('the-very-end') && !document.querySelector('[data-whole-body]')"
            ),
            "the whole body",
        )
        .await;
        // The misrouted one says where it came and what to check.
        wait_text(
            &c,
            "li.callback [data-misrouted]",
            "Posted to /clients/idm/rest",
        )
        .await;
        eval(
            &c,
            "document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        .await;
        wait_js(
            &c,
            &format!("{text}.includes({script:?})"),
            "the body shows the script",
        )
        .await;
        wait_js(
            &c,
            &format!("{text}.includes('<img src=x onerror=')"),
            "the body shows the img",
        )
        .await;
        assert_inert(&c, "the callbacks page").await;
        screenshot(&c, "issue4-callbacks-markup").await;

        // The command's page: the callback step's body.
        c.goto(&format!("{url}/commands/{}", record.id))
            .await
            .unwrap();
        wait_text(&c, ".step[data-kind=callback]", "Callback COMPLETED").await;
        eval(
            &c,
            "document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        .await;
        wait_js(
            &c,
            &format!("{text}.includes({script:?})"),
            "the step shows the script",
        )
        .await;
        wait_js(
            &c,
            &format!("{text}.includes('<img src=x onerror=')"),
            "the step shows the img",
        )
        .await;
        assert_inert(&c, "the command page").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keyboard_theme_phone_width_and_history_work() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let mut made = Vec::new();
    for i in 0..3 {
        made.push(
            sent(
                &console,
                "sign",
                sign_body(&unique(&format!("keys-{i}-")), 60),
                "COMPLETED",
            )
            .await,
        );
    }
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        let ids: Vec<i64> = made.iter().rev().map(|r| r.id).collect();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands")).await.unwrap();
        wait_listed(&c, &ids).await;
        let focused =
            "const e = document.activeElement; return e && (e.id || e.getAttribute('href'))";

        // `/` focuses the search; `j`/`k` walk the rows; Enter opens the focused one.
        press(&c, '/').await;
        assert_eq!(eval(&c, focused).await, json!("command-search"));
        eval(&c, "document.activeElement.blur()").await;
        press(&c, 'j').await;
        assert_eq!(
            eval(&c, focused).await,
            json!(format!("/commands/{}", ids[0]))
        );
        press(&c, 'j').await;
        assert_eq!(
            eval(&c, focused).await,
            json!(format!("/commands/{}", ids[1]))
        );
        press(&c, 'j').await;
        press(&c, 'k').await;
        assert_eq!(
            eval(&c, focused).await,
            json!(format!("/commands/{}", ids[1]))
        );
        press(&c, char::from(Key::Enter)).await;
        wait_text(&c, ".page-head h1", &format!("sign #{}", ids[1])).await;
        assert_eq!(here(&c).await, format!("/commands/{}", ids[1]));
        // `?` lists the shortcuts.
        press(&c, '?').await;
        wait_text(&c, "#shortcuts", "Keyboard shortcuts").await;
        press(&c, char::from(Key::Escape)).await;
        wait_js(
            &c,
            "!document.getElementById('shortcuts')",
            "the list closes",
        )
        .await;

        // Until the operator picks one, the theme is the system's, and follows it as it changes.
        for scheme in ["dark", "light", "dark"] {
            prefer_color_scheme(&c, scheme).await;
            wait_js(
                &c,
                &format!("document.documentElement.dataset.theme == '{scheme}'"),
                &format!("the page follows the system to {scheme}"),
            )
            .await;
        }

        // The theme toggle flips the theme, and the choice outlives a reload.
        let theme = "return document.documentElement.dataset.theme";
        let first = eval(&c, theme).await;
        click(&c, "#theme-toggle").await;
        let flipped = if first == json!("dark") {
            "light"
        } else {
            "dark"
        };
        wait_js(
            &c,
            &format!("document.documentElement.dataset.theme == '{flipped}'"),
            "the theme flips",
        )
        .await;
        c.refresh().await.unwrap();
        wait_css(&c, "#theme-toggle").await;
        assert_eq!(eval(&c, theme).await, json!(flipped));
        // A choice made stays, whatever the system does now.
        prefer_color_scheme(&c, first.as_str().unwrap()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(eval(&c, theme).await, json!(flipped));

        // At phone width, every page fits.
        c.set_window_size(390, 844).await.unwrap();
        wait_js(&c, "window.innerWidth <= 400", "a phone-wide window").await;
        for (name, path, ready) in every_page(ids[0]) {
            c.goto(&format!("{url}{path}")).await.unwrap();
            wait_css(&c, ready).await;
            assert_fits_width(&c, &path).await;
            screenshot(&c, &format!("issue4-phone-{name}")).await;
        }

        // Pages reached through the menu; the browser's back and forward move between them.
        c.goto(&format!("{url}/")).await.unwrap();
        wait_css(&c, ".feed-row").await;
        click(&c, ".rail a[href='/commands']").await;
        wait_css(&c, "table.commands tbody tr").await;
        click(&c, ".rail a[href='/callbacks']").await;
        wait_css(&c, "li.callback").await;
        c.back().await.unwrap();
        wait_css(&c, "table.commands tbody tr").await;
        assert_eq!(here(&c).await, "/commands");
        c.back().await.unwrap();
        wait_css(&c, "#feed-pause").await;
        assert_eq!(here(&c).await, "/");
        c.forward().await.unwrap();
        wait_css(&c, "#command-search").await;
        assert_eq!(here(&c).await, "/commands");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn screenshots_of_every_page_in_both_themes() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    sent(
        &console,
        "ping",
        ping_body(&unique("ping-"), 60),
        "COMPLETED",
    )
    .await;
    sent(
        &console,
        "sign",
        sign_body(&unique("reject-"), 60),
        "REJECTED",
    )
    .await;
    let sign = sent(
        &console,
        "sign",
        sign_body(&unique("sign-"), 60),
        "COMPLETED",
    )
    .await;
    console.wait_for_callbacks(sign.id, 1).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        let pick = |theme: &str| format!("localStorage.setItem('hermod-console-theme', '{theme}')");
        c.goto(&url).await.unwrap();
        for theme in ["light", "dark"] {
            eval(&c, &pick(theme)).await;
            c.refresh().await.unwrap();
            wait_css(&c, "#login-username").await;
            assert_eq!(
                eval(&c, "return document.documentElement.dataset.theme").await,
                json!(theme)
            );
            screenshot(&c, &format!("issue4-login-{theme}")).await;
        }
        login(&c, &url, "admin", &password).await;
        for theme in ["light", "dark"] {
            eval(&c, &pick(theme)).await;
            for (name, path, ready) in every_page(sign.id) {
                c.goto(&format!("{url}{path}")).await.unwrap();
                wait_css(&c, ready).await;
                assert_eq!(
                    eval(&c, "return document.documentElement.dataset.theme").await,
                    json!(theme)
                );
                screenshot(&c, &format!("issue4-{name}-{theme}")).await;
                assert_eq!(
                    eval(&c, UNNAMED_CONTROLS).await,
                    json!([]),
                    "{name}: controls a screen reader cannot name"
                );
                if name == "command" {
                    // The QR code is at the top; the decoded result, further down, gets its own.
                    eval(
                        &c,
                        "document.querySelector('.step[data-kind=callback]').scrollIntoView()",
                    )
                    .await;
                    screenshot(&c, &format!("issue4-command-decoded-{theme}")).await;
                }
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_say_what_failed_and_recover_when_the_console_is_back() {
    // A fixed address, so the page can find the console again after it restarts.
    let mut console = Console::demo()
        .listen(format!("127.0.0.1:{}", free_port()))
        .start()
        .await;
    let password = console.secrets.admin_password.clone();
    let url = console.url.clone();
    let (to_test, mut from_browser) = tokio::sync::mpsc::channel::<&'static str>(1);
    let (to_browser, mut from_test) = tokio::sync::mpsc::channel::<()>(1);
    let browser = tokio::spawn(with_browser(move |c| async move {
        login(&c, &url, "admin", &password).await;
        wait_text(&c, "#connection", "live").await;
        let feed = eval(
            &c,
            "return document.querySelector('ol.feed').getAttribute('aria-live')",
        )
        .await;
        assert_eq!(feed, json!("polite"), "the feed is announced as it changes");

        // A command and a page that do not exist.
        c.goto(&format!("{url}/commands/999999")).await.unwrap();
        wait_text(
            &c,
            ".page .error",
            "Cannot load this command: not_found (404)",
        )
        .await;
        c.goto(&format!("{url}/nowhere")).await.unwrap();
        wait_text(&c, ".page h1", "Not found").await;

        // The console goes away: the top bar says so, and a page that needs it says what to do.
        c.goto(&format!("{url}/")).await.unwrap();
        wait_text(&c, "#connection", "live").await;
        to_test.send("stop").await.unwrap();
        from_test.recv().await;
        wait_text(&c, "#connection", "reconnecting").await;
        click(&c, ".rail a[href='/commands']").await;
        wait_text(
            &c,
            ".page .error",
            "Cannot load the commands: cannot reach the console",
        )
        .await;
        wait_text(&c, ".page .error", "check that it is running").await;
        screenshot(&c, "issue4-console-down").await;

        // Back: the stream reconnects by itself, and the page loads when asked again.
        to_test.send("start").await.unwrap();
        from_test.recv().await;
        wait_text(&c, "#connection", "live").await;
        click(&c, ".rail a[href='/callbacks']").await;
        click(&c, ".rail a[href='/commands']").await;
        wait_css(&c, "table.commands[aria-busy=false]").await;
        wait_js(
            &c,
            "!document.querySelector('.page .error')",
            "no error left",
        )
        .await;
    }));
    // The browser's side asks for each step; if it fails first, its panic is the one shown.
    for step in ["stop", "start"] {
        if from_browser.recv().await != Some(step) {
            browser.await.unwrap();
            panic!("the browser's side ended before asking to {step}");
        }
        match step {
            "stop" => assert!(console.stop().await.success()),
            _ => console.start_again().await,
        }
        to_browser.send(()).await.unwrap();
    }
    browser.await.unwrap();
}

/// The time from navigation to the first feed row, printed for the report (not a check). On the
/// way, a check: a page navigated away from closes its feed stream.
#[tokio::test(flavor = "multi_thread")]
async fn time_from_navigation_to_the_first_feed_row() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    for i in 0..5 {
        sent(
            &console,
            "ping",
            ping_body(&unique(&format!("timing-{i}-")), 60),
            "COMPLETED",
        )
        .await;
    }
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        wait_css(&c, ".feed-row").await;
        // Milliseconds since the navigation started (`performance.now()`) when the first row is in
        // the DOM: observed as it appears, or read at once when it was there before the script ran
        // (then an upper bound).
        let first_row = "const done = arguments[arguments.length - 1]; \
            const row = () => document.querySelector('.feed-row'); \
            if (row()) { done({ms: performance.now(), observed: false}); return; } \
            new MutationObserver((_, o) => { \
              if (row()) { o.disconnect(); done({ms: performance.now(), observed: true}); } \
            }).observe(document.documentElement, {childList: true, subtree: true});";
        let mut runs = Vec::new();
        for _ in 0..5 {
            c.goto("about:blank").await.unwrap();
            let started = Instant::now();
            c.goto(&format!("{url}/")).await.unwrap();
            let seen = c
                .execute_async(first_row, vec![])
                .await
                .expect("the first feed row appears");
            let wall = started.elapsed().as_secs_f64() * 1000.0;
            let ms = seen["ms"].as_f64().unwrap();
            let how = if seen["observed"] == json!(true) {
                "seen appearing"
            } else {
                "there already: an upper bound"
            };
            eprintln!(
                "navigation to first feed row: {ms:.1} ms by performance.now() ({how}), \
                 {wall:.1} ms wall time around goto and the wait"
            );
            runs.push(ms);
            // Each page left behind closed its stream: only this page's stays open.
            wait_until("one open feed stream", WAIT, || async {
                let metrics = api.get("/metrics").await.expect(200).text;
                metrics
                    .lines()
                    .any(|l| l == "hermod_console_feed_streams 1")
                    .then_some(())
            })
            .await;
        }
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        eprintln!(
            "navigation to first feed row, median of 5: {:.1} ms; runs: {runs:.1?}",
            sorted[2]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_list_holds_only_what_its_filters_select_live_updates_included() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let waiting = console.send("ping", ping_body(&unique("hold-"), 300)).await;
    let staying = console.send("ping", ping_body(&unique("hold-"), 300)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/commands?state=IN_PROGRESS"))
            .await
            .unwrap();
        wait_listed(&c, &[staying.id, waiting.id]).await;
        // One completes: under "IN_PROGRESS" it leaves the list, live.
        let command_id = waiting.command_id.as_deref().expect("a commandId");
        api.sim_post(&format!("/sim/commands/{command_id}/complete"))
            .await
            .expect(200);
        api.wait_for_state(waiting.id, "COMPLETED").await;
        wait_listed(&c, &[staying.id]).await;
        // A refused filter shows no rows under it, and says why.
        c.goto(&format!(
            "{url}/commands?state=IN_PROGRESS&since=2026-12-02"
        ))
        .await
        .unwrap();
        wait_js(
            &c,
            "document.querySelectorAll('table.commands tbody tr').length === 0 \
             && document.body.textContent.includes('since')",
            "no rows and the reason",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_matched_late_shows_once_in_the_feed_and_matched() {
    // Hermod answers `slow-` commands after 1.5 s, and the callback comes after 200 ms: it is stored
    // unmatched, then matched when the answer arrives.
    let console = Arc::new(
        Console::demo()
            .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "1500")
            .start()
            .await,
    );
    let password = console.secrets.admin_password.clone();
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        let sent = api.send("sign", sign_body(&unique("slow-late-"), 30)).await;
        let callbacks = api.wait_for_callbacks(sent.id, 1).await;
        let row = format!(
            "document.querySelectorAll('.feed-row[data-kind=callback][href=\"/commands/{}\"]')",
            sent.id
        );
        wait_js(
            &c,
            &format!("{row}.length === 1"),
            "the matched callback row",
        )
        .await;
        // And no other row for it: the unmatched one it was is gone.
        let unmatched = eval(
            &c,
            "return document.querySelectorAll('.feed-row[data-kind=callback]:not([href])').length",
        )
        .await;
        assert_eq!(unmatched, json!(0), "callback {}", callbacks[0].id);

        // Each page names its tab; the command page after the command; the icon is the page's own.
        assert_eq!(
            eval(&c, "return document.title").await,
            json!("Live feed — Hermod Console")
        );
        let icon = eval(&c, "return document.querySelector('link[rel=icon]').href").await;
        assert!(
            icon.as_str()
                .is_some_and(|h| h.starts_with("data:image/svg+xml")),
            "{icon}"
        );
        c.goto(&format!("{url}/commands/{}", sent.id))
            .await
            .unwrap();
        wait_js(
            &c,
            &format!(
                "document.title === 'sign #{} — COMPLETED — Hermod Console'",
                sent.id
            ),
            "the command's title",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_is_told_what_is_for_admins_instead_of_shown_forms_that_fail() {
    let console = Arc::new(Console::demo().start().await);
    let (viewer, password) = console.create_user(Role::Viewer).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, &viewer.username, &password).await;
        for page in ["users", "audit"] {
            c.goto(&format!("{url}/{page}")).await.unwrap();
            wait_css(&c, "[data-admins-only]").await;
            let forms = eval(
                &c,
                "return document.querySelectorAll('main form, main button').length",
            )
            .await;
            assert_eq!(forms, json!(0), "{page}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_change_is_confirmed_and_a_refused_new_user_keeps_what_was_typed() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let (viewer, _) = console.create_user(Role::Viewer).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/users")).await.unwrap();
        let select = format!("select[aria-label='Role of {}']", viewer.username);
        let role_of = || async {
            let users: Vec<hermod_shared::console::UserRecord> =
                api.get("/api/users").await.expect(200).parse();
            users
                .iter()
                .find(|u| u.id == viewer.id)
                .expect("listed")
                .role
        };
        // Declined: nothing changes, and the select shows the role as it is.
        wait_css(&c, &select)
            .await
            .select_by_value("admin")
            .await
            .unwrap();
        c.dismiss_alert().await.unwrap();
        assert_eq!(role_of().await, Role::Viewer);
        assert_eq!(value_of(&c, &select).await, "viewer");
        // Confirmed: it changes.
        wait_css(&c, &select)
            .await
            .select_by_value("operator")
            .await
            .unwrap();
        c.accept_alert().await.unwrap();
        wait_until("the role to change", WAIT, || async {
            (role_of().await == Role::Operator).then_some(())
        })
        .await;

        // A name that is taken: refused, and the form still holds what was typed.
        let name = wait_css(
            &c,
            "form[aria-label='Add a user'] input[aria-label=Username]",
        )
        .await;
        name.send_keys(&viewer.username).await.unwrap();
        wait_css(
            &c,
            "form[aria-label='Add a user'] input[aria-label=Password]",
        )
        .await
        .send_keys("a long enough password")
        .await
        .unwrap();
        click(&c, "form[aria-label='Add a user'] button[type=submit]").await;
        wait_css(&c, "p.error").await;
        assert_eq!(
            value_of(
                &c,
                "form[aria-label='Add a user'] input[aria-label=Username]"
            )
            .await,
            viewer.username
        );
    })
    .await;
}
