//! The admin's pages, Users and Audit: a role change confirmed, a refused new user, an API token made
//! and revoked, a password set in a masked dialog, the audit log's hash chain, and a viewer told what
//! is for admins.

use crate::pages::open;
use hermod_console_tests::browser::{
    click, eval, login, text_of, value_of, wait_css, wait_text, with_browser,
};
use hermod_console_tests::{Console, WAIT, wait_until};
use hermod_shared::console::Role;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn a_role_change_is_confirmed_and_a_refused_new_user_keeps_what_was_typed() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let (viewer, _) = console.create_user(Role::Viewer).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/users").await;
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

        // An API token: a refused name stays to be fixed; then shown once, listed with its role,
        // revoked after a confirmation.
        let token_form = "form[aria-label='Make an API token']";
        let token_name = format!("{token_form} input[aria-label='Token name']");
        let too_long = "n".repeat(65);
        wait_css(&c, &token_name)
            .await
            .send_keys(&too_long)
            .await
            .unwrap();
        click(&c, &format!("{token_form} button[type=submit]")).await;
        wait_text(&c, "p.error", "64 characters").await;
        assert_eq!(value_of(&c, &token_name).await, too_long);
        let field = wait_css(&c, &token_name).await;
        field.clear().await.unwrap();
        field.send_keys("nightly-export").await.unwrap();
        wait_css(&c, &format!("{token_form} select"))
            .await
            .select_by_value("operator")
            .await
            .unwrap();
        click(&c, &format!("{token_form} button[type=submit]")).await;
        wait_text(&c, ".minted", "Token “nightly-export” (operator)").await;
        let token = text_of(&c, "#minted-token").await;
        assert!(token.len() > 20, "{token}");
        wait_text(&c, "#tokens", "nightly-export").await;
        assert!(text_of(&c, "#tokens").await.contains("operator"));
        click(&c, "#tokens button.danger").await;
        c.accept_alert().await.unwrap();
        wait_text(&c, "#tokens", "revoked").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_is_set_in_a_masked_dialog_that_keeps_what_was_typed_through_a_refusal() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let (viewer, old) = console.create_user(Role::Viewer).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/users").await;
        click(
            &c,
            &format!("tr[data-user='{}'] button:not(.danger)", viewer.username),
        )
        .await;
        wait_text(&c, "#password-dialog h2", &viewer.username).await;
        let types = eval(
            &c,
            "return [...document.querySelectorAll('#password-dialog input')].map(i => i.type)",
        )
        .await;
        assert_eq!(types, json!(["password", "password"]), "masked, twice");
        let fields = "#password-dialog input";
        let typed = "a new long password";
        wait_css(&c, &format!("{fields}:nth-of-type(1)")).await;
        let inputs = c.find_all(fantoccini::Locator::Css(fields)).await.unwrap();
        inputs[0].send_keys(typed).await.unwrap();
        inputs[1].send_keys("a different password").await.unwrap();
        click(&c, "#password-dialog button[type=submit]").await;
        wait_text(&c, "#password-dialog [role=alert]", "differ").await;
        assert_eq!(
            eval(
                &c,
                "return document.querySelector('#password-dialog input').value"
            )
            .await,
            json!(typed),
            "a refusal keeps what was typed"
        );
        assert_eq!(api.try_login(&viewer.username, &old).await.status, 200);

        inputs[1].clear().await.unwrap();
        inputs[1].send_keys(typed).await.unwrap();
        click(&c, "#password-dialog button[type=submit]").await;
        wait_text(&c, "#password-done", "Password set for").await;
        wait_until("the dialog to close", WAIT, || async {
            let open = eval(&c, "return !!document.getElementById('password-dialog')").await;
            (open == json!(false)).then_some(())
        })
        .await;
        assert_eq!(api.try_login(&viewer.username, typed).await.status, 200);
        assert_eq!(api.try_login(&viewer.username, &old).await.status, 401);
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
async fn the_audit_page_shows_whether_the_hash_chain_holds() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/audit").await;
        wait_text(&c, "#audit-chain", "Hash chain intact").await;
        let oldest = api
            .get("/api/audit?limit=500")
            .await
            .expect(200)
            .parse::<hermod_shared::console::ListPage<hermod_shared::console::AuditRecord>>()
            .items
            .last()
            .expect("the login is audited")
            .id;

        // Behind the console's back: the trigger dropped, the oldest entry rewritten.
        api.sql("DROP TRIGGER audit_no_update").await.unwrap();
        api.sql(&format!(
            "UPDATE audit SET actor = 'someone else' WHERE id = {oldest}"
        ))
        .await
        .unwrap();
        c.refresh().await.unwrap();
        wait_text(
            &c,
            "#audit-chain",
            &format!("Hash chain broken at entry {oldest}"),
        )
        .await;
    })
    .await;
}
