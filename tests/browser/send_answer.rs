//! The send page while Hermod answers: the command already recorded is linked at once, and an
//! answer that never comes in time is explained in view. The page's helpers are in send_page.rs.

use crate::send_page::{open_send, type_into};
use hermod_console_tests::browser::{click, eval, text_of, wait_css, wait_text, with_browser};
use hermod_console_tests::{Console, unique};
use serde_json::json;

/// While Hermod has not answered, the page links the command already recorded; when the answer
/// never comes in time, the reason is brought into view with that same command.
#[tokio::test(flavor = "multi_thread")]
async fn a_send_hermod_is_slow_to_answer_links_its_command_at_once() {
    // The simulator answers `slow-` commands after 4 s; the console waits 2 s.
    let console = Console::demo()
        .env("HERMOD_CONSOLE__CLIENTS__IDM__REQUEST_TIMEOUT_SECS", "2")
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "4000")
        .start()
        .await;
    let url = console.url.clone();
    let password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        open_send(&c, &url, &password).await;
        wait_css(&c, "#send-client")
            .await
            .select_by_value("idm")
            .await
            .unwrap();
        type_into(&c, "/commandHeader/externalId", &unique("slow-page-")).await;
        click(&c, "#send-submit").await;
        wait_text(&c, "#send-recorded", "waiting for Hermod's answer").await;
        assert_eq!(text_of(&c, "#send-submit").await, "Sending…");
        let recorded = eval(
            &c,
            "return document.querySelector('#send-recorded a').getAttribute('href')",
        )
        .await;
        wait_text(&c, "#send-error", "did not answer").await;
        let linked = eval(
            &c,
            "return document.querySelector('#send-error a').getAttribute('href')",
        )
        .await;
        assert_eq!(linked, recorded);
        assert!(text_of(&c, "#send-error").await.contains("SEND_UNKNOWN"));
        // In view, not below the form.
        let shown = eval(
            &c,
            "const r = document.getElementById('send-error').getBoundingClientRect(); \
             return r.top < window.innerHeight && r.bottom > 0",
        )
        .await;
        assert_eq!(shown, json!(true));
        assert!(
            eval(
                &c,
                "return document.getElementById('send-recorded') === null"
            )
            .await
            .as_bool()
            .unwrap()
        );
    })
    .await;
}
