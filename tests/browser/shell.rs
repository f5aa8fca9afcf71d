//! What every page shares: keyboard shortcuts, the theme, phone width, history, errors and
//! reconnecting; and screenshots of every page in both themes.

use crate::pages::{open, sent, wait_listed};
use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use hermod_console_tests::browser::{
    click, eval, here, login, prefer_color_scheme, screenshot, wait_css, wait_js, wait_text,
    with_browser,
};
use hermod_console_tests::{Console, free_port, ping_body, sign_body, unique};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Presses and releases one key, wherever the focus is.
async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys)
        .await
        .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
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

/// Every page behind the login: its name, its path (the command page shows command `command`, a
/// completed sign), and what shows it is drawn.
fn every_page(command: i64) -> [(&'static str, String, &'static str); 8] {
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
        ("overview", "/overview".into(), "#overview tbody tr"),
        ("audit", "/audit".into(), "#audit tr[data-action=login]"),
        ("users", "/users".into(), "#users tr"),
    ]
}

/// How much of the window's height the banner, the menu and the top bar take.
const CHROME_SHARE: &str = "return ['.env-banner', '.rail', '.topbar'] \
    .map(s => document.querySelector(s).getBoundingClientRect().height) \
    .reduce((a, b) => a + b, 0) / window.innerHeight";

/// The lines each feed event's cells take: a cell starts a line when it starts below the bottom of
/// the line before.
const FEED_ROW_LINES: &str = "return [...document.querySelectorAll('.feed-row')].map(row => { \
    let lines = 0, bottom = -Infinity; \
    for (const cell of row.children) { const r = cell.getBoundingClientRect(); \
        if (r.height === 0) continue; \
        if (r.top >= bottom - 1) { lines += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); } } \
    return lines; })";

/// The visible form controls with no accessible name: no label, no aria-label, no text, no title.
const UNNAMED_CONTROLS: &str = "return [...document.querySelectorAll('input, select, textarea, button')] \
    .filter(e => e.offsetParent !== null && e.type !== 'hidden') \
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') \
        && !e.getAttribute('aria-labelledby') && !e.title && !e.textContent.trim()) \
    .map(e => e.outerHTML.slice(0, 120))";

#[tokio::test(flavor = "multi_thread")]
async fn keyboard_theme_phone_width_and_history_work() {
    let console = Arc::new(
        Console::demo()
            .env("HERMOD_CONSOLE__UI__BANNER", "TEST <env>")
            .start()
            .await,
    );
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
        open(&c, &url, &password, "/commands").await;
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
        // The chrome (banner, menu, top bar) leaves the page most of the screen, and a feed event
        // takes at most two lines.
        c.goto(&format!("{url}/")).await.unwrap();
        wait_css(&c, ".feed-row").await;
        let frame = "return [document.querySelector('.env-banner').textContent, \
            document.querySelector('.version').textContent]";
        let frame = eval(&c, frame).await;
        assert_eq!(frame[0], "TEST <env>", "the banner, as text");
        assert!(
            frame[1].as_str().unwrap().starts_with("Hermod Console "),
            "{frame}"
        );
        let chrome = eval(&c, CHROME_SHARE).await.as_f64().unwrap();
        assert!(
            chrome <= 0.15,
            "the chrome takes {:.0} % of a phone's screen",
            chrome * 100.0
        );
        let lines = eval(&c, FEED_ROW_LINES).await;
        assert!(
            lines
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n.as_u64() <= Some(2)),
            "feed events take {lines} lines each at phone width"
        );

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
