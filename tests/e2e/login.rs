//! Logging in and staying logged in (issue 3): the session cookie's flags, logout and expiry on the
//! server side, changes to an account reaching its open sessions, CSRF defences, the brute-force
//! limiter, and the first admin account.

use hermod_console_tests::*;
use hermod_shared::console::{Role, SessionInfo};
use serde_json::json;
use std::time::{Duration, Instant};

/// The `Set-Cookie` attributes, lower-cased, without the name=value.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time_and_after_its_absolute_time() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__SESSION_IDLE_SECS", "2")
        .env("HERMOD_CONSOLE__AUTH__SESSION_ABSOLUTE_SECS", "4")
        .start()
        .await;
    let password = c.secrets.admin_password.clone();
    // Before the logins: the sessions end 4 s after this at the earliest.
    let started = Instant::now();
    let (busy, idle) = tokio::join!(c.login("admin", &password), c.login("admin", &password));
    // After the logins: the idle session has been idle since at least here.
    let logged_in = Instant::now();
    assert!(
        cookie_attributes(&busy.set_cookie).contains(&"max-age=4".to_string()),
        "the cookie lives as long as the session may: {}",
        busy.set_cookie
    );
    let (busy, idle) = (c.session_client(&busy), c.session_client(&idle));
    let whoami = |http: &reqwest::Client| {
        let request = http.get(format!("{}/api/session", c.url));
        async move { request.send().await.expect("whoami").status().as_u16() }
    };
    // One session is used every 300 ms, the other not at all.
    while logged_in.elapsed() < Duration::from_millis(2600) {
        assert_eq!(whoami(&busy).await, 200, "a session in use stays");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(whoami(&idle).await, 401, "an idle session ends");
    // Used or not, a session ends at its absolute expiry.
    wait_until("the busy session to reach its end", WAIT, || async {
        (whoami(&busy).await == 401).then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(3900),
        "not before its time: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_password_change_a_role_change_or_a_removal_reaches_open_sessions_at_once() {
    let c = Console::demo().start().await;

    // A new password (set by an admin) ends the user's sessions; the old password stops working.
    let viewer = c.agent(Role::Viewer).await;
    let user = viewer.user.clone().expect("a user");
    viewer.get("/api/session").await.expect(200);
    let new_password = unique("SeCrEtNewPw");
    c.put_json(
        &format!("/api/users/{}", user.id),
        &json!({"password": new_password}),
    )
    .await
    .expect(200);
    viewer.get("/api/session").await.expect(401);
    viewer.get("/api/commands").await.expect(401);
    c.try_login(
        &user.username,
        viewer.password.as_deref().unwrap_or_default(),
    )
    .await
    .expect(401);
    c.login(&user.username, &new_password).await;
    // The admin who changed it is still logged in.
    c.get("/api/session").await.expect(200);

    // A demotion applies to the very next request.
    let operator = c.agent(Role::Operator).await;
    let op = operator.user.clone().expect("a user");
    let send = json!({"client": "idm", "type": "ping", "body": ping_body(&unique("role-"), 30)});
    operator.post_json("/api/commands", &send).await.expect(201);
    c.put_json(&format!("/api/users/{}", op.id), &json!({"role": "viewer"}))
        .await
        .expect(200);
    operator
        .post_json("/api/commands", &send)
        .await
        .expect_problem(403, Some("forbidden"), None);
    let me: SessionInfo = operator.get("/api/session").await.expect(200).parse();
    assert_eq!(me.role, Role::Viewer);

    // A removed account's sessions end with it.
    c.delete(&format!("/api/users/{}", op.id)).await.expect(204);
    operator.get("/api/session").await.expect(401);
    c.try_login(
        &op.username,
        operator.password.as_deref().unwrap_or_default(),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_until_the_window_has_passed() {
    // Cheap hashing, so that the failures fit well inside the window on a loaded machine.
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__LOGIN_WINDOW_SECS", "3")
        .env("HERMOD_CONSOLE__AUTH__ARGON2_MEMORY_KIB", "64")
        .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_ACCOUNT", "3")
        .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_SOURCE", "1000")
        .start()
        .await;
    let (user, password) = c.create_user(Role::Viewer).await;
    let (bystander, bystander_password) = c.create_user(Role::Viewer).await;
    let first_failure = Instant::now();
    for _ in 0..3 {
        c.try_login(&user.username, "a wrong password")
            .await
            .expect_problem(401, Some("invalid_credentials"), None);
    }
    // Locked: the right password too (else guessing would go on), and the answer says when to retry.
    for attempt in [password.as_str(), "a wrong password"] {
        let r = c.try_login(&user.username, attempt).await;
        r.expect_problem(429, Some("too_many_attempts"), None);
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=3).contains(&retry), "Retry-After {retry}");
        assert!(r.header("set-cookie").is_none());
    }
    // Names are compared as typed in any case.
    c.try_login(&user.username.to_uppercase(), &password)
        .await
        .expect(429);
    // Only that account: another one, from the same address, logs in.
    c.login(&bystander.username, &bystander_password).await;

    // After the window the right password works again, and a success clears the count.
    wait_until("the account to be let in again", WAIT, || async {
        let r = c.try_login(&user.username, &password).await;
        (r.status.as_u16() == 200).then_some(())
    })
    .await;
    assert!(
        first_failure.elapsed() >= Duration::from_millis(2900),
        "locked for the window: {:?}",
        first_failure.elapsed()
    );
    c.try_login(&user.username, "a wrong password")
        .await
        .expect(401);
    c.login(&user.username, &password).await;
}

#[tokio::test]
async fn a_stranger_failing_from_elsewhere_cannot_lock_the_owner_out() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__ARGON2_MEMORY_KIB", "64")
        .start()
        .await;
    // Another address on this host: a source of its own, as a stranger's machine would be.
    let stranger = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .default_headers(
            [(
                reqwest::header::ORIGIN,
                c.url.parse().expect("the URL is a header value"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("a client bound to 127.0.0.2");
    let attempt = |password: &str| {
        let request = stranger
            .post(format!("{}/api/session", c.url))
            .json(&json!({"username": "admin", "password": password}));
        async move { Resp::read_unrecorded(request.send().await.expect("login")).await }
    };
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..100 {
        *statuses
            .entry(attempt(&format!("guess {i}")).await.status.as_u16())
            .or_default() += 1;
    }
    // Five guesses were checked; the other 95 were refused before any work.
    assert_eq!(statuses, [(401, 5), (429, 95)].into_iter().collect());
    // The owner, from their own address, is let in at once, the delay included.
    let started = Instant::now();
    c.login("admin", &c.secrets.admin_password).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the owner waited {:?}",
        started.elapsed()
    );
    // The stranger's address is still held back, even with the right password.
    attempt(&c.secrets.admin_password)
        .await
        .expect_problem(429, Some("too_many_attempts"), None);
}

#[tokio::test]
async fn guesses_sent_all_at_once_are_limited_like_guesses_sent_one_by_one() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_ACCOUNT", "3")
        .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_SOURCE", "1000")
        .start()
        .await;
    let (user, _) = c.create_user(Role::Viewer).await;
    let wrong: Vec<String> = (0..12).map(|i| format!("guess number {i}")).collect();
    let guesses = wrong.iter().map(|w| c.try_login(&user.username, w));
    let mut statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [[401; 3].as_slice(), [429; 9].as_slice()].concat(),
        "only as many guesses as the limit were checked"
    );
}

#[tokio::test]
async fn repeated_failures_from_one_source_lock_that_source_whatever_it_claims_to_be() {
    let limits = |b: ConsoleBuilder| {
        // Cheap hashing, so that the failures fit well inside the window on a loaded machine.
        b.env("HERMOD_CONSOLE__AUTH__LOGIN_WINDOW_SECS", "3")
            .env("HERMOD_CONSOLE__AUTH__ARGON2_MEMORY_KIB", "64")
            .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_ACCOUNT", "1000")
            .env("HERMOD_CONSOLE__AUTH__LOGIN_FAILURES_PER_SOURCE", "4")
    };
    // Behind a trusted proxy (this host), X-Forwarded-For names the source; otherwise it is ignored.
    let (direct, proxied) = tokio::join!(
        limits(Console::demo()).start(),
        limits(Console::demo())
            .env("HERMOD_CONSOLE__TRUSTED_PROXIES", "[\"127.0.0.1\"]")
            .start()
    );
    let login_from = |c: &Console, forwarded: Option<&str>, user: String, password: String| {
        let mut request = c
            .same_origin()
            .post(format!("{}/api/session", c.url))
            .json(&json!({"username": user, "password": password}));
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        async move { Resp::read_unrecorded(request.send().await.expect("login")).await }
    };
    let guess = |c: &Console| {
        login_from(
            c,
            Some("198.51.100.1"),
            unique("guess-"),
            "a wrong password".into(),
        )
    };
    let admin = |c: &Console, forwarded: Option<&'static str>| {
        login_from(
            c,
            forwarded,
            "admin".into(),
            c.secrets.admin_password.clone(),
        )
    };
    // Each console's checks follow its own failures at once, well inside the window.
    let direct_checks = async {
        for _ in 0..4 {
            guess(&direct).await.expect(401);
        }
        // Direct: the source is the peer; a made-up X-Forwarded-For changes nothing.
        admin(&direct, None)
            .await
            .expect_problem(429, Some("too_many_attempts"), None);
        admin(&direct, Some("203.0.113.50")).await.expect(429);
        // Open sessions are not affected: the limiter is about logging in.
        direct.get("/api/session").await.expect(200);
    };
    let proxied_checks = async {
        for _ in 0..4 {
            guess(&proxied).await.expect(401);
        }
        // Behind the proxy: the guessing source is locked, another client of the proxy is not.
        admin(&proxied, Some("198.51.100.1")).await.expect(429);
        admin(&proxied, Some("203.0.113.50")).await.expect(200);
    };
    tokio::join!(direct_checks, proxied_checks);

    wait_until("the source to be let in again", WAIT, || async {
        (admin(&direct, None).await.status.as_u16() == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn demo_makes_prints_and_keeps_an_admin_password_when_none_is_set() {
    // The harness logged in with the password `demo` printed.
    let mut c = Console::demo().printed_admin_password().start().await;
    let password = c.secrets.admin_password.clone();
    assert!(password.len() >= 12, "{password}");
    let line = c
        .startup_lines()
        .iter()
        .find(|l| l.starts_with("log in at "))
        .expect("a login hint")
        .clone();
    assert!(line.contains(&c.url), "{line}");
    let kept = c.data_dir().join("demo-admin-password");
    assert_eq!(
        std::fs::read_to_string(&kept).expect("kept").trim(),
        password
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).expect("kept").permissions().mode();
        assert_eq!(mode & 0o077, 0, "only its owner may read it: {mode:o}");
    }
    // Every start says how to log in, with the same password.
    c.restart().await;
    assert_eq!(c.printed_password().as_deref(), Some(password.as_str()));
    c.login("admin", &password).await;

    // A password set in the environment is used and not printed.
    let chosen = Console::demo().start().await;
    let hint = chosen
        .startup_lines()
        .iter()
        .find(|l| l.starts_with("log in at "))
        .expect("a login hint");
    assert!(hint.contains("HERMOD_CONSOLE_ADMIN_PASSWORD"), "{hint}");
    assert!(!chosen.log().contains(&chosen.secrets.admin_password));
    assert!(!chosen.data_dir().join("demo-admin-password").exists());

    // `serve` refuses a first admin password that is too short, naming the variable.
    let dir = TempDir::new("weak-admin");
    let config = dir.path().join("console.toml");
    std::fs::write(&config, "").expect("config");
    let mut arguments = args(["serve", "--listen", "127.0.0.1:0", "--config"]);
    arguments.push(config.into_os_string());
    arguments.push("--data-dir".into());
    arguments.push(dir.path().join("data").into_os_string());
    let (status, _, stderr) = run_to_exit(
        &arguments,
        &[(ADMIN_PASSWORD_ENV.to_string(), "short".to_string())],
        Duration::from_secs(20),
    )
    .await;
    assert!(!status.success());
    assert!(stderr.contains(ADMIN_PASSWORD_ENV), "{stderr}");
}
