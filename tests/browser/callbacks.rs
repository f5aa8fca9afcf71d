//! The callbacks page, and every page that shows a callback's body: hostile markup stays text, a big
//! body comes whole on request, a misrouted one is flagged.

use fantoccini::Client;
use hermod_console_tests::browser::{
    click, eval, login, screenshot, wait_js, wait_text, with_browser,
};
use hermod_console_tests::{Console, sign_body, unique};
use serde_json::json;
use std::sync::Arc;

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

        // Searched, the markup in the externalId and commandId is marked, still as text.
        c.goto(&format!("{url}/callbacks?q=src%3Dx")).await.unwrap();
        wait_text(&c, "li.callback mark", "src=x").await;
        wait_js(
            &c,
            &format!("{text}.includes('<img src=x onerror=')"),
            "the marked externalId shows the img",
        )
        .await;
        assert_inert(&c, "the searched callbacks page").await;

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

/// The callbacks page filters as the commands page does (types, states and clients to pick, a
/// count) and shows what a callback's body decodes to, matched or not.
#[tokio::test(flavor = "multi_thread")]
async fn callbacks_filter_as_commands_do_and_open_their_decoded_material() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let sign =
        crate::pages::sent(&console, "sign", sign_body(&unique("cb-"), 60), "COMPLETED").await;
    console.wait_for_callbacks(sign.id, 1).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        login(&c, &url, "admin", &password).await;
        c.goto(&format!("{url}/callbacks")).await.unwrap();
        hermod_console_tests::browser::wait_css(&c, "select[name=type]")
            .await
            .select_by_value("sign")
            .await
            .unwrap();
        wait_js(&c, "location.search == '?type=sign'", "the type applied").await;
        wait_text(&c, "#list-count", "1 found").await;
        let row = format!("li.callback:has(a[href='/commands/{}'])", sign.id);
        click(&c, &format!("{row} [data-decoded-view] > summary")).await;
        wait_js(
            &c,
            &format!(
                "!!document.querySelector(\"{row} [data-decoded-view] [data-decoded=pkcs7]\")"
            ),
            "the signature decoded",
        )
        .await;
        // A state no callback reported: nothing, said so.
        hermod_console_tests::browser::wait_css(&c, "select[name=state]")
            .await
            .select_by_value("REJECTED")
            .await
            .unwrap();
        wait_text(&c, ".empty", "No callback matches").await;
        wait_text(&c, "#list-count", "0 found").await;
    })
    .await;
}
