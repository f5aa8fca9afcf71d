//! The audit log (issue 3): who, when, from where, what, the target and the request id, for logins
//! (good and bad), logouts, sends (a re-issue naming its origin), polls, account and token changes and
//! refused callbacks; filtered, paged, exported as CSV or JSON, append-only, and never a secret.

use hermod_console_tests::*;
use hermod_shared::console::{AuditRecord, CommandRecord, ListPage, Role};
use serde_json::{Value, json};

/// The response's `X-Request-Id`.
fn request_id(r: &Resp) -> String {
    r.header("x-request-id")
        .expect("every answer names its request")
        .to_string()
}

/// The one row for `action` on `target` (panics unless exactly one).
#[track_caller]
fn row<'a>(rows: &'a [AuditRecord], action: &str, target: &str) -> &'a AuditRecord {
    let found: Vec<&AuditRecord> = rows
        .iter()
        .filter(|r| r.action == action && r.target.as_deref() == Some(target))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {action} row for {target}, in:\n{rows:#?}"
    );
    found[0]
}

#[tokio::test]
async fn the_audit_log_records_who_did_what_from_where_and_never_a_secret() {
    // This host is a trusted proxy, so X-Forwarded-For names the source.
    let c = Console::demo()
        .env("HERMOD_CONSOLE__TRUSTED_PROXIES", "[\"127.0.0.1\"]")
        .start()
        .await;
    let mut secrets = c.secrets.forms();

    // Failed logins: a wrong password for a real account (from a forwarded address), an unknown user.
    let mistyped = unique("SeCrEtMistyped");
    secrets.push(mistyped.clone());
    let failed = Resp::read_unrecorded(
        c.same_origin()
            .post(format!("{}/api/session", c.url))
            .header("x-forwarded-for", "203.0.113.9")
            .json(&json!({"username": "admin", "password": mistyped}))
            .send()
            .await
            .expect("login"),
    )
    .await
    .expect(401);
    let stranger = unique("mallory-");
    c.try_login(&stranger, &mistyped).await.expect(401);

    // An operator logs in, sends, re-issues, polls and logs out.
    let operator = c.agent(Role::Operator).await;
    let op = operator.user.clone().expect("a user");
    let sent_r = operator
        .post_json(
            "/api/commands",
            &json!({"client": "idm", "type": "ping", "body": ping_body(&unique("audit-"), 30)}),
        )
        .await
        .expect(201);
    let sent: CommandRecord = sent_r.parse();
    let reissued: CommandRecord = operator
        .post_json(
            "/api/commands",
            &json!({"client": "idm", "type": "ping", "body": ping_body(&unique("audit-"), 30),
                    "reissue_of": sent.id}),
        )
        .await
        .expect(201)
        .parse();
    let poll_r = operator
        .post_json(&format!("/api/commands/{}/poll", sent.id), &Value::Null)
        .await
        .expect(200);
    let logout_r = operator.delete("/api/session").await.expect(204);

    // The admin changes accounts and tokens.
    let (someone, _) = c.create_user(Role::Viewer).await;
    c.put_json(
        &format!("/api/users/{}", someone.id),
        &json!({"role": "operator", "password": unique("SeCrEtChanged")}),
    )
    .await
    .expect(200);
    c.delete(&format!("/api/users/{}", someone.id))
        .await
        .expect(204);
    let token = c.mint_token("audit-robot", Role::Operator, 7).await;
    let by_token: CommandRecord = c
        .read(
            c.bearer_client(&token.token)
                .post(format!("{}/api/commands", c.url))
                .json(&json!({"client": "da", "type": "ping",
                              "body": ping_body(&unique("audit-tok-"), 30)})),
        )
        .await
        .expect(201)
        .parse();
    c.delete(&format!("/api/tokens/{}", token.record.id))
        .await
        .expect(200);

    // A callback with a wrong credential.
    let wrong = unique("SeCrEtWrongCb");
    secrets.push(wrong.clone());
    secrets.push(b64(format!("{IDM_CALLBACK_USER}:{wrong}")));
    let path = "/clients/idm/rest/callback/ping";
    let rejected_r = c
        .post_callback(
            path,
            Some((IDM_CALLBACK_USER, &wrong)),
            "application/json",
            callback_body("1", "x", "COMPLETED"),
        )
        .await
        .expect(401);

    let listed = c.get("/api/audit?limit=500").await.expect(200);
    let page: ListPage<AuditRecord> = listed.parse();
    let rows = page.items;
    assert!(page.next_cursor.is_none());
    assert!(rows.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    let r = row(&rows, "user_created", "admin");
    assert_eq!(
        (r.actor.as_str(), r.actor_kind.as_str()),
        ("startup", "system")
    );

    let r = rows
        .iter()
        .find(|r| r.request_id.as_deref() == Some(request_id(&failed).as_str()))
        .expect("the failed login, by its request id");
    assert_eq!(
        (
            r.action.as_str(),
            r.outcome.as_str(),
            r.actor.as_str(),
            r.actor_kind.as_str()
        ),
        ("login", "failed", "admin", "anonymous")
    );
    assert_eq!(r.source, "203.0.113.9", "the forwarded source");
    let r = row(&rows, "login", &stranger);
    assert_eq!(
        (r.outcome.as_str(), r.source.as_str()),
        ("failed", "127.0.0.1")
    );

    let r = rows
        .iter()
        .find(|r| r.action == "login" && r.actor == op.username)
        .expect("the operator's login");
    assert_eq!((r.outcome.as_str(), r.actor_kind.as_str()), ("ok", "user"));

    let r = row(&rows, "command_sent", &sent.id.to_string());
    assert_eq!(r.actor, op.username);
    assert_eq!(r.request_id.as_deref(), Some(request_id(&sent_r).as_str()));
    assert_eq!(r.detail["type"], "ping");
    assert_eq!(r.detail["client"], "idm");
    assert_eq!(r.detail["reissue_of"], Value::Null);
    assert_eq!(r.detail["command_id"], json!(sent.command_id));
    let r = row(&rows, "command_sent", &reissued.id.to_string());
    assert_eq!(
        r.detail["reissue_of"],
        json!(sent.id),
        "a re-issue names its origin"
    );
    let r = row(&rows, "command_sent", &by_token.id.to_string());
    assert_eq!(
        (r.actor.as_str(), r.actor_kind.as_str()),
        ("token:audit-robot", "token")
    );
    let r = row(&rows, "poll", &sent.id.to_string());
    assert_eq!(r.actor, op.username);
    assert_eq!(r.request_id.as_deref(), Some(request_id(&poll_r).as_str()));
    let r = row(&rows, "logout", &op.username);
    assert_eq!(
        r.request_id.as_deref(),
        Some(request_id(&logout_r).as_str())
    );

    for action in ["user_created", "user_updated", "user_removed"] {
        let r = row(&rows, action, &someone.username);
        assert_eq!((r.actor.as_str(), r.actor_kind.as_str()), ("admin", "user"));
    }
    assert_eq!(
        row(&rows, "user_updated", &someone.username).detail["password_changed"],
        true
    );
    assert_eq!(
        row(&rows, "token_created", "audit-robot").detail["role"],
        "operator"
    );
    row(&rows, "token_revoked", "audit-robot");

    let r = row(&rows, "callback_rejected", path);
    assert_eq!(
        (r.outcome.as_str(), r.actor.as_str(), r.source.as_str()),
        ("denied", "hermod", "127.0.0.1")
    );
    assert_eq!(
        r.request_id.as_deref(),
        Some(request_id(&rejected_r).as_str())
    );

    // Every row says who, when, from where and what; those made by requests name the request.
    for r in &rows {
        assert!(
            !r.actor.is_empty() && !r.source.is_empty() && !r.at.is_empty(),
            "{r:?}"
        );
        if r.actor_kind != "system" {
            let id = r.request_id.as_deref().unwrap_or_default();
            assert_eq!(id.len(), 36, "a request id: {r:?}");
        }
    }

    // Filters.
    let filtered = |query: String| {
        let c = &c;
        async move {
            c.get(&format!("/api/audit{query}"))
                .await
                .expect(200)
                .parse::<ListPage<AuditRecord>>()
                .items
        }
    };
    let mine = filtered(format!("?actor={}", op.username)).await;
    assert!(mine.len() >= 5, "{mine:?}");
    assert!(mine.iter().all(|r| r.actor == op.username));
    let logins = filtered("?type=login".into()).await;
    assert_eq!(
        logins.len(),
        rows.iter().filter(|r| r.action == "login").count()
    );
    assert!(logins.iter().all(|r| r.action == "login"));
    let admin_logins = filtered("?type=login&actor=admin".into()).await;
    assert!(
        admin_logins
            .iter()
            .all(|r| r.actor == "admin" && r.action == "login")
    );
    assert!(admin_logins.iter().any(|r| r.outcome == "failed"));
    let searched = filtered("?q=203.0.113.9".into()).await;
    assert_eq!(searched.len(), 1, "{searched:?}");
    assert!(
        filtered("?since=2999-01-01T00:00:00Z".into())
            .await
            .is_empty()
    );
    assert!(
        filtered("?until=2000-01-01T00:00:00Z".into())
            .await
            .is_empty()
    );
    c.get("/api/audit?since=yesterday")
        .await
        .expect_problem(422, None, Some("since"));
    // Paging goes through everything once.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(next) => format!("/api/audit?limit=4&cursor={next}"),
            None => "/api/audit?limit=4".to_string(),
        };
        let page: ListPage<AuditRecord> = c.get(&query).await.expect(200).parse();
        assert!(page.items.len() <= 4);
        paged.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, rows);

    // Exports: CSV with a header, JSON, with the list's filters.
    let csv = c.get("/api/audit/export?format=csv").await.expect(200);
    assert!(
        csv.header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv"),
        "{:?}",
        csv.headers
    );
    assert!(
        csv.header("content-disposition")
            .unwrap_or_default()
            .contains("attachment")
    );
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        lines[0],
        "id,at,actor,actor_kind,source,action,target,outcome,request_id,detail"
    );
    assert_eq!(lines.len(), rows.len() + 1, "{}", csv.text);
    assert!(csv.text.contains("203.0.113.9"));
    let login_csv = c
        .get("/api/audit/export?format=csv&type=login")
        .await
        .expect(200);
    assert_eq!(login_csv.text.lines().count(), logins.len() + 1);
    let json_export: Vec<AuditRecord> = c
        .get("/api/audit/export?format=json")
        .await
        .expect(200)
        .parse();
    assert_eq!(json_export, rows);
    c.get("/api/audit/export?format=xml")
        .await
        .expect_problem(422, None, Some("format"));

    // Never a secret: no password (right or wrong), key, callback credential, token or cookie.
    secrets.extend(c.issued().into_iter().map(|(_, s)| s));
    for secret in &secrets {
        for (what, text) in [("list", &listed.text), ("CSV", &csv.text)] {
            assert!(
                !text.contains(secret.as_str()),
                "a secret ({secret}) in the audit {what}"
            );
        }
    }

    // Append-only, down to the store: no route changes it, and the table refuses it.
    assert!(c.sql("UPDATE audit SET actor = 'nobody'").await.is_err());
    assert!(c.sql("DELETE FROM audit").await.is_err());
}

#[tokio::test]
async fn a_send_whose_browser_left_is_still_finished_and_audited() {
    // Hermod answers this one after 2 s; the caller gives up after 300 ms.
    let c = Console::demo()
        .env("HERMOD_SIMULATOR__SLOW_ANSWER_MS", "2000")
        .start()
        .await;
    let ext = unique("slow-gone-");
    let gave_up = c
        .http
        .post(format!("{}/api/commands", c.url))
        .timeout(std::time::Duration::from_millis(300))
        .json(&json!({"client": "idm", "type": "ping", "body": ping_body(&ext, 30)}))
        .send()
        .await;
    assert!(
        gave_up.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the caller should have given up: {gave_up:?}"
    );
    let query = format!("?q={ext}");
    let sent: CommandRecord = wait_until("the command's answer to be stored", WAIT, || async {
        c.commands(&query)
            .await
            .items
            .into_iter()
            .find(|r| r.command_id.is_some())
    })
    .await;
    let audited = wait_until("the send's audit row", WAIT, || async {
        let rows: ListPage<AuditRecord> = c
            .get("/api/audit?type=command_sent")
            .await
            .expect(200)
            .parse();
        rows.items
            .into_iter()
            .find(|r| r.target.as_deref() == Some(sent.id.to_string().as_str()))
    })
    .await;
    assert_eq!(audited.outcome, "ok");
    assert_eq!(audited.detail["command_id"], json!(sent.command_id));
}

#[tokio::test]
async fn a_flood_of_refused_callbacks_cannot_grow_the_audit_log_without_bound() {
    let c = Console::demo().start().await;
    for _ in 0..25 {
        c.post_callback(
            "/clients/idm/rest/callback/sign",
            Some((IDM_CALLBACK_USER, "wrong")),
            "application/json",
            "{}".to_string(),
        )
        .await
        .expect(401);
    }
    let rows: ListPage<AuditRecord> = c
        .get("/api/audit?type=callback_rejected&limit=100")
        .await
        .expect(200)
        .parse();
    assert_eq!(rows.items.len(), 10, "ten a minute from one source");
    // Every one is still counted.
    c.assert_metric("hermod_console_callbacks_rejected_total 25")
        .await;
}

#[tokio::test]
async fn a_stranger_guessing_logins_cannot_grow_the_audit_log_or_memory_without_bound() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__ARGON2_MEMORY_KIB", "64")
        .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_SOURCE", "1000")
        .start()
        .await;
    // A name no account can have is refused before any work: not counted, audited or kept.
    let huge = "x".repeat(100_000);
    let r = c.try_login(&huge, "whatever").await;
    r.expect_problem(422, Some("invalid_field"), None);
    assert_eq!(r.json()["field"], "/username");
    for i in 0..25 {
        c.try_login(&format!("nobody-{i}"), "a wrong password")
            .await
            .expect_problem(401, Some("invalid_credentials"), None);
    }
    let rows: ListPage<AuditRecord> = c
        .get("/api/audit?type=login&limit=100")
        .await
        .expect(200)
        .parse();
    let failed: Vec<_> = rows
        .items
        .iter()
        .filter(|r| r.outcome == "failed")
        .collect();
    assert_eq!(failed.len(), 10, "ten a minute from one source");
    assert!(
        rows.items
            .iter()
            .all(|r| r.target.as_deref() != Some(&huge))
    );
    // Every one is still counted.
    c.assert_metric("hermod_console_logins_failed_total 25")
        .await;
}

/// `hermod-console audit verify` beside the running console, on its data directory.
async fn audit_verify(c: &Console) -> (std::process::ExitStatus, String, String) {
    let mut arguments = args(["audit", "verify", "--data-dir"]);
    arguments.push(c.data_dir().into_os_string());
    run_to_exit(&arguments, &[], std::time::Duration::from_secs(30)).await
}

#[tokio::test]
async fn audit_verify_holds_for_the_consoles_log_and_names_an_entry_edited_behind_its_back() {
    let c = Console::demo().start().await;
    c.try_login("admin", "not the password").await.expect(401);
    c.get("/api/users").await.expect(200);
    let rows: ListPage<AuditRecord> = c.get("/api/audit").await.expect(200).parse();
    let oldest = rows.items.last().expect("audited logins").id;

    let (status, out, err) = audit_verify(&c).await;
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("the audit log's chain holds"), "{out}");
    let chain: Value = c.get("/api/audit/chain").await.expect(200).json();
    assert_eq!(chain["intact"], true, "{chain}");
    let head = chain["head"].as_str().expect("a head").to_string();
    assert!(
        out.contains(&head),
        "verify prints the head the API gives: {out}"
    );

    // Behind the console's back: the trigger dropped, an entry rewritten.
    c.sql("DROP TRIGGER audit_no_update")
        .await
        .expect("drop the trigger");
    c.sql(&format!(
        "UPDATE audit SET actor = 'someone else' WHERE id = {oldest}"
    ))
    .await
    .expect("edit an entry");
    let (status, out, err) = audit_verify(&c).await;
    assert_eq!(status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains(&format!("entry {oldest} was changed after it was written")),
        "{err}"
    );
    let chain: Value = c.get("/api/audit/chain").await.expect(200).json();
    assert_eq!(
        (chain["intact"].clone(), chain["broken_at"].clone()),
        (json!(false), json!(oldest))
    );
}
