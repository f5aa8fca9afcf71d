//! The console in a real headless Chromium against the real backend and simulator.

use fantoccini::Locator;
use hermod_console_tests::Console;
use hermod_console_tests::browser::{eval, screenshot, wait_css, wait_text, with_browser};

/// Send a sign command through the page, watch it reach COMPLETED on its own page, and find its
/// callback in the live feed.
#[tokio::test(flavor = "multi_thread")]
async fn a_sign_command_sent_from_the_page_completes_and_its_callback_reaches_the_feed() {
    let console = Console::demo()
        .env("HERMOD_SIMULATOR__COMPLETE_AFTER_MS", "800")
        .start()
        .await;
    let url = console.url.clone();
    with_browser(move |c| async move {
        c.goto(&format!("{url}/send")).await.unwrap();
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
