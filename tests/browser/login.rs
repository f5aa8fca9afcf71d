//! Logging in and out in the browser: what each role is shown, the back button after logging out,
//! and a page whose session is ended elsewhere.

use fantoccini::Locator;
use hermod_console_tests::Console;
use hermod_console_tests::browser::{login, screenshot, wait_css, wait_text, with_browser};
use hermod_shared::console::Role;

/// Log in as a viewer: only what a viewer may use is shown, and the page the backend refuses is
/// explained; log out; the back button then shows the login page, not the private page.
#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_sees_only_what_the_role_allows_and_nothing_private_after_logout() {
    let console = Console::demo().start().await;
    let (viewer, password) = console.create_user(Role::Viewer).await;
    let url = console.url.clone();
    let admin_password = console.secrets.admin_password.clone();
    with_browser(move |c| async move {
        login(&c, &url, &viewer.username, &password).await;
        wait_text(&c, "#who", "viewer").await;
        let rail = c
            .find(Locator::Css(".rail"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            rail.contains("Feed") && rail.contains("Commands"),
            "rail: {rail}"
        );
        for hidden in ["Send", "Audit", "Users"] {
            assert!(!rail.contains(hidden), "a viewer sees {hidden}: {rail}");
        }
        // Typing the address of an operator page gives an explanation, not a form.
        c.goto(&format!("{url}/send")).await.unwrap();
        wait_text(&c, ".page", "Your role cannot send commands").await;
        assert!(c.find(Locator::Css("#send-submit")).await.is_err());
        c.goto(&format!("{url}/commands")).await.unwrap();
        wait_css(&c, "table.commands").await;
        screenshot(&c, "issue3-viewer-commands").await;

        // Log out: the page reloads to the login form; back shows no private page.
        c.find(Locator::Css("#logout"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_css(&c, "#login-username").await;
        c.back().await.unwrap();
        wait_css(&c, "#login-username").await;
        let body = c
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.contains("Commands"), "after logout and back: {body}");
        screenshot(&c, "issue3-after-logout-back").await;

        // A wrong password is refused with a message; the admin sees the admin pages.
        c.find(Locator::Css("#login-username"))
            .await
            .unwrap()
            .send_keys("admin")
            .await
            .unwrap();
        c.find(Locator::Css("#login-password"))
            .await
            .unwrap()
            .send_keys("not the password")
            .await
            .unwrap();
        c.find(Locator::Css("#login-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&c, "#login-error", "Wrong username or password").await;
        login(&c, &url, "admin", &admin_password).await;
        wait_text(&c, ".rail", "Users").await;
        c.find(Locator::Css(".rail a[href='/audit']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_css(&c, "#audit tr[data-action=login]").await;
        screenshot(&c, "issue3-admin-audit").await;
        c.find(Locator::Css(".rail a[href='/users']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_css(&c, "#users tr").await;
        screenshot(&c, "issue3-admin-users").await;
    })
    .await;
}

/// An admin ends a user's sessions (a new password): the user's open page notices by itself, through
/// its feed stream, and shows the login form; nothing private is left on screen.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_session_ends_elsewhere_shows_the_login_form_by_itself() {
    let console = std::sync::Arc::new(Console::demo().start().await);
    let (user, password) = console.create_user(Role::Operator).await;
    let api = console.clone();
    with_browser(move |c| async move {
        login(&c, &api.url, &user.username, &password).await;
        wait_text(&c, "#connection", "live").await;
        let renewed = hermod_console_tests::unique("AnotherLongPassword-");
        api.put_json(
            &format!("/api/users/{}", user.id),
            &serde_json::json!({ "password": renewed }),
        )
        .await
        .expect(200);
        wait_css(&c, "#login-username").await;
        assert!(
            c.find(Locator::Css(".rail")).await.is_err(),
            "the console's pages are gone"
        );
    })
    .await;
}
