//! A real-deployment shape: `serve --config` and `simulate --config` as two processes with TOML files
//! (secrets in files, as with container secrets), and configuration errors that name the key.

use hermod_console_tests::*;
use hermod_shared::console::{ClientInfo, CommandState, FeedEvent};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn serve_and_simulate_as_two_processes_send_a_ping_end_to_end() {
    let dir = TempDir::new("deploy");
    let secrets = Secrets::random();
    let console_port = free_port();

    let (sim, sim_addr) = simulator(
        dir.path(),
        &secrets,
        console_port,
        "complete_after_ms = 200\n",
    )
    .await;

    let key_file = dir.path().join("idm-key");
    let password_file = dir.path().join("idm-callback-password");
    std::fs::write(&key_file, format!("{}\n", secrets.idm_key)).expect("key file");
    std::fs::write(&password_file, format!("{}\n", secrets.idm_password)).expect("password file");
    let console_toml = dir.path().join("hermod-console.toml");
    std::fs::write(
        &console_toml,
        format!(
            r#"listen = "127.0.0.1:{console_port}"

[feed]
heartbeat_secs = 5

[clients.idm]
label = "Identity Manager"
command_url = "http://{sim_addr}/hermod/rest/command"
key_file = "{key_file}"
callback_user = "{IDM_CALLBACK_USER}"
callback_password_file = "{password_file}"
request_timeout_secs = 10

# Hermod allows a client without callback-basic-auth.
[clients.open]
command_url = "http://{sim_addr}/hermod/rest/command"
key = "{open_key}"
"#,
            open_key = unique("open-key-"),
            key_file = key_file.display(),
            password_file = password_file.display(),
        ),
    )
    .expect("write the console's config");
    let c = Console::serve(&console_toml, secrets.clone())
        .listen(format!("127.0.0.1:{console_port}"))
        .start()
        .await;
    assert_eq!(c.url, format!("http://127.0.0.1:{console_port}"));
    c.assert_healthy().await;

    // What to register in Hermod, and no secret.
    let clients: Vec<ClientInfo> = c.get("/api/clients").await.expect(200).parse();
    assert_eq!(clients.len(), 2, "{clients:?}");
    let idm = clients.iter().find(|c| c.id == "idm").expect("idm");
    assert_eq!(idm.id, "idm");
    assert_eq!(idm.label, "Identity Manager");
    assert_eq!(
        idm.command_url,
        format!("http://{sim_addr}/hermod/rest/command")
    );
    assert_eq!(
        idm.callback_url,
        format!("http://127.0.0.1:{console_port}/clients/idm/rest")
    );
    assert_eq!(idm.callback_user.as_deref(), Some(IDM_CALLBACK_USER));

    // The client without a callback credential: its callbacks are taken on its own path only, and
    // marked as unauthenticated (the page warns of it too).
    let open = clients.iter().find(|c| c.id == "open").expect("open");
    assert_eq!(open.callback_user, None);
    let stray = format!("{{\"commandId\": \"{}\"}}", unique("9"));
    c.post_callback(
        "/rest/callback/ping",
        None,
        "application/json",
        stray.clone(),
    )
    .await
    .expect_problem(401, None, None);
    let taken = c
        .post_callback(
            "/clients/open/rest/callback/ping",
            None,
            "application/json",
            stray.clone(),
        )
        .await
        .expect(200)
        .json();
    let stored = c.callbacks("?client=open").await.items;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(Some(stored[0].id), taken["id"].as_i64());
    assert!(
        stored[0].auth.contains("no callback credential"),
        "{}",
        stored[0].auth
    );

    let mut feed = c.subscribe().await;
    let sent = c.send("ping", ping_body(&unique("deploy-"), 30)).await;
    let command_id = sent.command_id.clone().expect("commandId");
    let done = c.wait_for_state(sent.id, "COMPLETED").await;
    assert_eq!(done.command_id.as_deref(), Some(command_id.as_str()));
    let callbacks = c.wait_for_callbacks(sent.id, 1).await;
    let body: Value = serde_json::from_str(&callbacks[0].body).expect("JSON callback");
    assert_eq!(body["state"], "COMPLETED");
    assert!(
        body["response"]["deviceinfo"].is_object(),
        "deviceinfo asked: {body}"
    );
    assert!(
        callbacks[0].auth.contains(IDM_CALLBACK_USER),
        "{}",
        callbacks[0].auth
    );
    feed.feed_until(
        WAIT,
        |e| matches!(e, FeedEvent::Callback { callback, .. } if callback.command == Some(sent.id)),
    )
    .await;

    // A poll reaches the simulator too.
    let poll = c
        .post_json(&format!("/api/commands/{}/poll", sent.id), &Value::Null)
        .await
        .expect(200)
        .json();
    assert_eq!(poll["poll"]["reply"]["status"], 200, "{poll}");
    assert_eq!(poll["command"]["state"], "COMPLETED");

    // With the simulator gone, Hermod is unreachable: 502, record kept.
    let status = sim
        .terminate(Duration::from_secs(10))
        .await
        .expect("the simulator stops");
    assert!(status.success(), "simulator exit {status}");
    let r = c
        .send_as("idm", "ping", ping_body(&unique("deploy-down-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_unreachable"), None);
    assert_eq!(p.record.expect("record").state, CommandState::SendFailed);
    // A poll says so too, with the command as it stands, and the failed poll stays in its timeline.
    let r = c
        .post_json(&format!("/api/commands/{}/poll", sent.id), &Value::Null)
        .await;
    let p = r.expect_problem(502, Some("hermod_unreachable"), None);
    assert_eq!(p.record.expect("record").id, sent.id);
    let polls = c
        .detail(sent.id)
        .await
        .timeline
        .into_iter()
        .filter(|t| matches!(t, hermod_shared::console::TimelineEntry::Poll { .. }))
        .count();
    assert_eq!(polls, 2, "the good poll and the failed one");
}

/// `serve` or `simulate` with `config`: must exit non-zero, naming `key` on stderr.
async fn refused(subcommand: &str, config: &str, key: &str, env: &[(String, String)]) {
    let dir = TempDir::new("badconfig");
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).expect("write the config");
    let mut arguments = args([subcommand, "--config"]);
    arguments.push(file.into_os_string());
    if subcommand == "serve" {
        arguments.extend(args(["--listen", "127.0.0.1:0", "--data-dir"]));
        arguments.push(dir.path().join("data").into_os_string());
    }
    let (status, stdout, stderr) = run_to_exit(&arguments, env, Duration::from_secs(20)).await;
    assert!(
        !status.success(),
        "{subcommand} started with {key:?} in its config: {stdout}{stderr}"
    );
    assert!(
        stderr.contains(key),
        "{subcommand}: the error names {key:?}: {stderr}"
    );
    assert!(
        !stdout.contains("listening on"),
        "it never listened: {stdout}"
    );
}

#[tokio::test]
async fn unknown_configuration_keys_stop_the_start_and_are_named() {
    let client = "[clients.idm]\ncommand_url = \"http://127.0.0.1:9/command\"\nkey = \"k\"\n";
    refused(
        "serve",
        &format!("lisen = \"127.0.0.1:0\"\n{client}"),
        "lisen",
        &[],
    )
    .await;
    refused("serve", &format!("{client}kee = \"x\"\n"), "kee", &[]).await;
    refused(
        "serve",
        &format!("[feed]\nheartbeat = 1\n{client}"),
        "heartbeat",
        &[],
    )
    .await;
    // From the environment, too.
    refused(
        "serve",
        client,
        "heartbeat_sec",
        &[("HERMOD_CONSOLE__FEED__HEARTBEAT_SEC".into(), "1".into())],
    )
    .await;
    refused(
        "simulate",
        "listen = \"127.0.0.1:0\"\ncomplete_after = 5\n",
        "complete_after",
        &[],
    )
    .await;
    // A client without a key is named, too.
    refused(
        "serve",
        "[clients.idm]\ncommand_url = \"http://127.0.0.1:9/command\"\n",
        "clients.idm",
        &[],
    )
    .await;
}

#[tokio::test]
async fn config_check_reads_everything_serve_would_and_shows_no_secret() {
    let dir = TempDir::new("configcheck");
    let check = |text: String| {
        let file = dir.path().join(format!("{}.toml", unique("c")));
        std::fs::write(&file, text).expect("write the config");
        let mut arguments = args(["config", "check", "--config"]);
        arguments.push(file.into_os_string());
        async move { run_to_exit(&arguments, &[], Duration::from_secs(20)).await }
    };
    let key = unique("SeCrEtKey");
    let password = unique("SeCrEtCallbackPw");
    let good = format!(
        "[clients.idm]\ncommand_url = \"https://hermod/hermod/rest/command\"\nkey = \"{key}\"\n\
         callback_user = \"cb\"\ncallback_password = \"{password}\"\n"
    );
    let (status, stdout, stderr) = check(good.clone()).await;
    assert!(status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("command_url") && stdout.contains(": good"),
        "{stdout}"
    );
    for secret in [&key, &password] {
        assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    }
    // A built binary is one file to deploy: its page is inside it, whatever directory it runs in
    // (`make build` and `make release` build dist/ first).
    assert!(
        stdout.contains("page: embedded in the binary"),
        "the page is not embedded; build with `make build`: {stdout}"
    );
    let (status, stdout, _) = check(format!("dist_dir = \"/nonexistent\"\n{good}")).await;
    assert!(
        status.success() && stdout.contains("page: none: nothing built at /nonexistent"),
        "dist_dir overrides the embedded page: {stdout}"
    );
    // An unknown key, and a file it names that is not there: named, non-zero.
    let (status, _, stderr) = check(format!("{good}kee = 1\n")).await;
    assert!(!status.success() && stderr.contains("kee"), "{stderr}");
    let (status, _, stderr) = check(format!("{good}ca_file = \"/nonexistent/ca.pem\"\n")).await;
    assert!(!status.success() && stderr.contains("ca_file"), "{stderr}");
}

#[tokio::test]
async fn a_client_check_tells_reachable_from_key_refused_from_unreachable() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__CLIENTS__DA__KEY", "not the key Hermod has")
        .env(
            "HERMOD_CONSOLE__CLIENTS__DOWN__COMMAND_URL",
            CLOSED_COMMAND_URL,
        )
        .env("HERMOD_CONSOLE__CLIENTS__DOWN__KEY", "k")
        .start()
        .await;
    for (client, verdict) in [
        ("idm", "reachable"),
        ("da", "key_refused"),
        ("down", "unreachable"),
    ] {
        let r = c
            .post_json(
                &format!("/api/clients/{client}/check"),
                &serde_json::Value::Null,
            )
            .await
            .expect(200)
            .json();
        assert_eq!(r["verdict"], verdict, "{client}: {r}");
        assert!(!r["detail"].as_str().unwrap_or_default().is_empty(), "{r}");
    }
    c.post_json("/api/clients/nobody/check", &serde_json::Value::Null)
        .await
        .expect_problem(404, Some("not_found"), None);
}
