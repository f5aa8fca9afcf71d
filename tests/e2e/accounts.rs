//! Accounts and API tokens (issue 3): the admin's `/api/users` and `/api/tokens`, and the
//! `hermod-console user …` command on a data directory, whose accounts then log in over HTTP.

use hermod_console_tests::*;
use hermod_shared::console::{
    AuditRecord, CommandRecord, ListPage, MintedToken, Role, SessionInfo, TokenRecord, UserRecord,
};
use serde_json::json;
use std::ffi::OsString;
use std::time::Duration;

#[tokio::test]
async fn admins_add_change_and_remove_accounts_and_the_last_admin_stays() {
    let c = Console::demo().start().await;
    let password = unique("SeCrEtAlicePw");
    let name = unique("alice.ops-");
    let alice: UserRecord = c
        .post_json(
            "/api/users",
            &json!({"username": name, "password": password, "role": "operator"}),
        )
        .await
        .expect(201)
        .parse();
    assert_eq!(
        (alice.username.as_str(), alice.role),
        (name.as_str(), Role::Operator)
    );
    let listed = c.get("/api/users").await.expect(200);
    let users: Vec<UserRecord> = listed.parse();
    assert!(users.contains(&alice), "{users:?}");
    assert!(
        users
            .iter()
            .any(|u| u.username == "admin" && u.role == Role::Admin)
    );
    for secret in [password.as_str(), "argon2", "password"] {
        assert!(!listed.text.contains(secret), "{secret} in {}", listed.text);
    }
    let session = c.login(&name, &password).await;
    assert_eq!(session.role, Role::Operator);

    // Refused: a taken name (in any case), a short password, a bad name or role; 422 naming the field.
    let bad = [
        (
            json!({"username": name.to_uppercase(), "password": password, "role": "viewer"}),
            "/username",
        ),
        (
            json!({"username": unique("bob-"), "password": "short", "role": "viewer"}),
            "/password",
        ),
        (
            json!({"username": "bob smith", "password": password, "role": "viewer"}),
            "/username",
        ),
        (
            json!({"username": "", "password": password, "role": "viewer"}),
            "/username",
        ),
        (
            json!({"username": unique("bob-"), "password": password, "role": "root"}),
            "/role",
        ),
        (
            json!({"username": unique("bob-"), "role": "viewer"}),
            "/password",
        ),
    ];
    for (body, field) in bad {
        c.post_json("/api/users", &body)
            .await
            .expect_problem(422, None, Some(field));
    }

    // Changes: a role, a password (checked like a new one).
    let changed: UserRecord = c
        .put_json(
            &format!("/api/users/{}", alice.id),
            &json!({"role": "viewer"}),
        )
        .await
        .expect(200)
        .parse();
    assert_eq!(changed.role, Role::Viewer);
    c.put_json(
        &format!("/api/users/{}", alice.id),
        &json!({"password": "short"}),
    )
    .await
    .expect_problem(422, None, Some("/password"));
    c.put_json("/api/users/999999", &json!({"role": "viewer"}))
        .await
        .expect_problem(404, None, None);

    // The last admin can be neither demoted nor removed; with a second admin, either can.
    let admin_id = users
        .iter()
        .find(|u| u.username == "admin")
        .expect("admin")
        .id;
    c.put_json(
        &format!("/api/users/{admin_id}"),
        &json!({"role": "operator"}),
    )
    .await
    .expect_problem(409, Some("last_admin"), None);
    c.delete(&format!("/api/users/{admin_id}"))
        .await
        .expect_problem(409, Some("last_admin"), None);
    let (second, _) = c.create_user(Role::Admin).await;
    c.put_json(
        &format!("/api/users/{}", second.id),
        &json!({"role": "operator"}),
    )
    .await
    .expect(200);
    c.put_json(
        &format!("/api/users/{}", second.id),
        &json!({"role": "admin"}),
    )
    .await
    .expect(200);
    c.delete(&format!("/api/users/{}", second.id))
        .await
        .expect(204);
    c.delete(&format!("/api/users/{admin_id}"))
        .await
        .expect_problem(409, Some("last_admin"), None);

    c.delete(&format!("/api/users/{}", alice.id))
        .await
        .expect(204);
    c.delete(&format!("/api/users/{}", alice.id))
        .await
        .expect_problem(404, None, None);
    let users: Vec<UserRecord> = c.get("/api/users").await.expect(200).parse();
    assert!(!users.iter().any(|u| u.id == alice.id));
    c.try_login(&name, &password).await.expect(401);
}

#[tokio::test]
async fn api_tokens_are_shown_once_act_with_their_role_and_stop_when_revoked_or_expired() {
    let c = Console::demo().start().await;
    let viewer: MintedToken = c.mint_token("dashboard", Role::Viewer, 30).await;
    assert!(viewer.token.starts_with("hct_"), "{}", viewer.token);
    assert!(viewer.token.len() > 40, "a long random token");
    assert_eq!(viewer.record.role, Role::Viewer);
    assert_eq!(viewer.record.created_by, "admin");
    assert!(viewer.record.revoked_at.is_none());
    // Listed without the token itself.
    let listed = c.get("/api/tokens").await.expect(200);
    let tokens: Vec<TokenRecord> = listed.parse();
    assert!(tokens.iter().any(|t| t.id == viewer.record.id));
    assert!(!listed.text.contains(&viewer.token));
    assert!(!listed.text.contains(&viewer.token["hct_".len()..]));

    // As Bearer: the token's role, no session, no CSRF token.
    let as_viewer = c.agent_with(c.bearer_client(&viewer.token));
    let me: SessionInfo = as_viewer.get("/api/session").await.expect(200).parse();
    assert_eq!(
        (me.user.as_str(), me.role),
        ("token:dashboard", Role::Viewer)
    );
    assert!(me.csrf_token.is_none());
    as_viewer.get("/api/commands").await.expect(200);
    let ping = || json!({"client": "idm", "type": "ping", "body": ping_body(&unique("tok-"), 30)});
    as_viewer
        .post_json("/api/commands", &ping())
        .await
        .expect_problem(403, Some("forbidden"), None);
    as_viewer.get("/api/users").await.expect(403);
    let operator = c.mint_token("ci-pipeline", Role::Operator, 1).await;
    let as_operator = c.agent_with(c.bearer_client(&operator.token));
    let sent: CommandRecord = as_operator
        .post_json("/api/commands", &ping())
        .await
        .expect(201)
        .parse();
    assert_eq!(sent.created_by.as_deref(), Some("token:ci-pipeline"));
    let used: Vec<TokenRecord> = c.get("/api/tokens").await.expect(200).parse();
    assert!(
        used.iter()
            .find(|t| t.id == operator.record.id)
            .and_then(|t| t.last_used_at.as_ref())
            .is_some(),
        "last use is recorded: {used:?}"
    );

    // Bad requests for a token.
    for (body, field) in [
        (
            json!({"name": "x", "role": "viewer", "expires_in_days": 0}),
            "/expires_in_days",
        ),
        (
            json!({"name": "x", "role": "viewer", "expires_in_days": 367}),
            "/expires_in_days",
        ),
        (
            json!({"name": "  ", "role": "viewer", "expires_in_days": 1}),
            "/name",
        ),
        (
            json!({"name": "x", "role": "god", "expires_in_days": 1}),
            "/role",
        ),
    ] {
        c.post_json("/api/tokens", &body)
            .await
            .expect_problem(422, None, Some(field));
    }

    // Unknown, malformed or non-Bearer credentials are 401, not a fall-back to anonymous.
    for value in [
        "Bearer hct_not-a-token".to_string(),
        "Bearer".to_string(),
        format!("Basic {}", b64("admin:whatever")),
        format!("bearer {}x", viewer.token),
    ] {
        c.read(
            c.anonymous()
                .get(format!("{}/api/commands", c.url))
                .header("authorization", value.clone()),
        )
        .await
        .expect_problem(401, Some("unauthenticated"), None);
    }

    // Revoked: 401 at once; revoking again changes nothing; no such token is 404.
    let revoked: TokenRecord = c
        .delete(&format!("/api/tokens/{}", viewer.record.id))
        .await
        .expect(200)
        .parse();
    assert!(revoked.revoked_at.is_some());
    as_viewer
        .get("/api/commands")
        .await
        .expect_problem(401, Some("unauthenticated"), None);
    let again: TokenRecord = c
        .delete(&format!("/api/tokens/{}", viewer.record.id))
        .await
        .expect(200)
        .parse();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    c.delete("/api/tokens/999999")
        .await
        .expect_problem(404, None, None);

    // Expired: the operator token, a year old (no API makes one, so the store is aged directly).
    as_operator.get("/api/commands").await.expect(200);
    let aged = c
        .sql(&format!(
            "UPDATE api_tokens SET created_at = 1000, expires_at = 2000 WHERE id = {}",
            operator.record.id
        ))
        .await
        .expect("age the token");
    assert_eq!(aged, 1);
    let r = as_operator.get("/api/commands").await;
    r.expect_problem(401, Some("unauthenticated"), None);
    assert!(r.text.contains("expired"), "{}", r.text);
}

/// `hermod-console user …` on `c`'s data directory (while `c` runs), with `input` on stdin.
async fn user_command(c: &Console, words: &[&str], input: Option<&str>) -> (bool, String, String) {
    cli(c, "user", words, input).await
}

/// `hermod-console <command> <words> --data-dir <the console's>`, beside the running console.
async fn cli(
    c: &Console,
    command: &str,
    words: &[&str],
    input: Option<&str>,
) -> (bool, String, String) {
    let mut arguments = args([command]);
    arguments.extend(words.iter().map(OsString::from));
    arguments.push("--data-dir".into());
    arguments.push(c.data_dir().into_os_string());
    let (status, stdout, stderr) = run_with_input(
        &arguments,
        &[],
        input.map(|i| format!("{i}\n")),
        Duration::from_secs(30),
    )
    .await;
    (status.success(), stdout, stderr)
}

#[tokio::test]
async fn the_user_command_manages_accounts_that_then_log_in_over_http() {
    let c = Console::demo().start().await;
    let alice_password = unique("SeCrEtCliPw");
    let (ok, out, err) = user_command(
        &c,
        &["add", "alice", "--role", "operator", "--password-stdin"],
        Some(&alice_password),
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("added alice (operator)"), "{out}");
    assert!(!out.contains(&alice_password) && !err.contains(&alice_password));
    let alice = c.login("alice", &alice_password).await;
    assert_eq!(alice.role, Role::Operator);
    let as_alice = c.agent_with(c.session_client(&alice));
    as_alice
        .post_json(
            "/api/commands",
            &json!({"client": "idm", "type": "ping", "body": ping_body(&unique("cli-"), 30)}),
        )
        .await
        .expect(201);

    // Without --password-stdin, a password is made and printed once.
    let (ok, out, err) = user_command(&c, &["add", "bob", "--role", "viewer"], None).await;
    assert!(ok, "{out}{err}");
    let bob_password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("the new password is printed")
        .trim()
        .to_string();
    assert_eq!(c.login("bob", &bob_password).await.role, Role::Viewer);

    let (ok, out, _) = user_command(&c, &["list"], None).await;
    assert!(ok);
    for expected in ["admin\tadmin", "alice\toperator", "bob\tviewer"] {
        assert!(out.contains(expected), "{expected} in {out}");
    }
    // The console sees them too.
    let users: Vec<UserRecord> = c.get("/api/users").await.expect(200).parse();
    assert_eq!(users.len(), 3, "{users:?}");

    // Refused: a taken name, a short password, removing the last admin; each says why.
    let (ok, _, err) = user_command(
        &c,
        &["add", "alice", "--role", "viewer", "--password-stdin"],
        Some(&unique("SeCrEtOther")),
    )
    .await;
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = user_command(
        &c,
        &["add", "carol", "--role", "viewer", "--password-stdin"],
        Some("short"),
    )
    .await;
    assert!(!ok && err.contains("12"), "{err}");
    let (ok, _, err) = user_command(&c, &["remove", "admin"], None).await;
    assert!(!ok && err.contains("admin"), "{err}");
    let (ok, _, err) = user_command(&c, &["passwd", "nobody", "--password-stdin"], Some("x")).await;
    assert!(!ok && err.contains("nobody"), "{err}");

    // A new password ends alice's sessions; only the new one logs in.
    let new_password = unique("SeCrEtCliNewPw");
    let (ok, out, err) = user_command(
        &c,
        &["passwd", "alice", "--password-stdin"],
        Some(&new_password),
    )
    .await;
    assert!(ok, "{out}{err}");
    as_alice.get("/api/session").await.expect(401);
    c.try_login("alice", &alice_password).await.expect(401);
    c.login("alice", &new_password).await;

    // Removed: bob can no longer log in.
    let (ok, out, err) = user_command(&c, &["remove", "bob"], None).await;
    assert!(ok && out.contains("removed bob"), "{out}{err}");
    c.try_login("bob", &bob_password).await.expect(401);

    // What the command did is in the audit log, without the passwords.
    let audit = c.get("/api/audit?actor=cli&limit=100").await.expect(200);
    let rows = audit.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or_default().to_string(),
                r["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for expected in [
        ("user_created", "alice"),
        ("user_created", "bob"),
        ("user_updated", "alice"),
        ("user_removed", "bob"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {actions:?}"
        );
    }
    for secret in [&alice_password, &bob_password, &new_password] {
        assert!(!audit.text.contains(secret.as_str()));
    }
}

#[tokio::test]
async fn api_tokens_end_with_their_makers_right_to_make_them() {
    let c = Console::demo().start().await;
    let maker = c.agent(Role::Admin).await;
    let maker_id = maker.user.as_ref().expect("an account").id;
    let mint = |role: Role| {
        let maker = &maker;
        async move {
            let minted: MintedToken = maker
                .post_json(
                    "/api/tokens",
                    &json!({"name": unique("made-"), "role": role, "expires_in_days": 30}),
                )
                .await
                .expect(201)
                .parse();
            minted
        }
    };
    let (as_admin, as_operator, as_viewer) = (
        mint(Role::Admin).await,
        mint(Role::Operator).await,
        mint(Role::Viewer).await,
    );
    let someone_elses = c.mint_token("kept", Role::Admin, 30).await;
    let status = |t: &MintedToken| {
        let agent = c.agent_with(c.bearer_client(&t.token));
        async move { agent.get("/api/session").await.status.as_u16() }
    };

    // Demoted to operator: the admin token they made ends, the others hold.
    c.put_json(
        &format!("/api/users/{maker_id}"),
        &json!({"role": "operator"}),
    )
    .await
    .expect(200);
    assert_eq!(status(&as_admin).await, 401);
    assert_eq!(status(&as_operator).await, 200);
    assert_eq!(status(&as_viewer).await, 200);
    let tokens: Vec<TokenRecord> = c.get("/api/tokens").await.expect(200).parse();
    let revoked = |id: i64| tokens.iter().any(|t| t.id == id && t.revoked_at.is_some());
    assert!(revoked(as_admin.record.id) && !revoked(as_operator.record.id));

    // Removed: every token they made ends; another admin's does not.
    c.delete(&format!("/api/users/{maker_id}"))
        .await
        .expect(204);
    assert_eq!(status(&as_operator).await, 401);
    assert_eq!(status(&as_viewer).await, 401);
    assert_eq!(status(&someone_elses).await, 200);
    let audit: ListPage<AuditRecord> = c
        .get("/api/audit?type=user_removed&limit=10")
        .await
        .expect(200)
        .parse();
    assert_eq!(
        audit.items[0].detail["tokens_revoked"], 2,
        "{:?}",
        audit.items[0]
    );
}

#[tokio::test]
async fn the_token_command_makes_a_token_shown_once_that_works_over_http() {
    let c = Console::demo().start().await;
    let words = [
        "create",
        "--name",
        "ci-runner",
        "--role",
        "viewer",
        "--days",
        "7",
    ];
    let (ok, out, err) = cli(&c, "token", &words, None).await;
    assert!(ok, "{out}{err}");
    // Only the token on stdout, for a script to capture.
    let token = out.trim();
    assert!(token.starts_with("hct_") && !token.contains('\n'), "{out}");
    assert!(err.contains("ci-runner") && !err.contains(token), "{err}");
    let me = c
        .read(c.bearer_client(token).get(format!("{}/api/session", c.url)))
        .await
        .expect(200)
        .json();
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["user"], "token:ci-runner");
    // Made by the command line, audited as such; the store keeps only its hash.
    let audit = c
        .get("/api/audit?type=token_created")
        .await
        .expect(200)
        .json();
    let line = &audit["items"][0];
    assert_eq!(line["actor"], "cli", "{audit}");
    assert!(!audit.to_string().contains(token));
    // A lifetime past the limit, a role that does not exist: refused, saying why.
    let (ok, _, err) = cli(
        &c,
        "token",
        &["create", "--name", "x", "--role", "viewer", "--days", "400"],
        None,
    )
    .await;
    assert!(!ok && err.contains("366"), "{err}");
    let (ok, _, err) = cli(
        &c,
        "token",
        &["create", "--name", "x", "--role", "root"],
        None,
    )
    .await;
    assert!(!ok && err.contains("root"), "{err}");
}
