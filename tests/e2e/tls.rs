//! TLS (issue 3) with a test CA made in the test by `hermod-console dev-pki`: the console over HTTPS
//! (HSTS, `Secure` cookies); Hermod's simulator over HTTPS requiring a client certificate, reached
//! with the client's CA bundle and certificate; a wrong CA reported as a certificate error; and the
//! separate callback listener, which serves callbacks and nothing else.

use hermod_console_tests::*;
use hermod_shared::console::{ClientInfo, CommandState};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `hermod-console dev-pki --out DIR`: a fresh CA with server (localhost, 127.0.0.1) and client
/// certificates.
async fn dev_pki(dir: &Path) -> PathBuf {
    let mut arguments = args(["dev-pki", "--out"]);
    arguments.push(dir.as_os_str().to_owned());
    let (status, stdout, stderr) = run_to_exit(&arguments, &[], Duration::from_secs(30)).await;
    assert!(status.success(), "dev-pki: {stdout}{stderr}");
    for file in [
        "ca.pem",
        "server.pem",
        "server.key",
        "client.pem",
        "client.key",
    ] {
        assert!(dir.join(file).is_file(), "dev-pki wrote {file}");
    }
    dir.to_path_buf()
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `serve` over HTTPS with `server.pem` and `server.key` from `certs`, the harness trusting
/// `trust`'s CA.
async fn serve_https(dir: &Path, certs: &Path, trust: &Path) -> Console {
    let config = dir.join("console.toml");
    std::fs::write(&config, "").expect("an empty config");
    Console::serve(&config, Secrets::random())
        .env(
            "HERMOD_CONSOLE__TLS__CERT_FILE",
            path(&certs.join("server.pem")),
        )
        .env(
            "HERMOD_CONSOLE__TLS__KEY_FILE",
            path(&certs.join("server.key")),
        )
        .trust(trust.join("ca.pem"))
        .start()
        .await
}

#[tokio::test]
async fn the_console_serves_https_with_hsts_and_secure_session_cookies() {
    let dir = TempDir::new("tls-console");
    let pki = dev_pki(&dir.path().join("pki")).await;
    let c = serve_https(dir.path(), &pki, &pki).await;
    assert!(c.url.starts_with("https://127.0.0.1:"), "{}", c.url);

    // The harness logged in over HTTPS: the cookie is `__Host-` prefixed (for `/`, no Domain),
    // Secure, HttpOnly, SameSite=Strict.
    assert_eq!(c.admin_session().cookie_name, SECURE_SESSION_COOKIE);
    let attributes: Vec<String> = c
        .admin_session()
        .set_cookie
        .split(';')
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for wanted in ["secure", "httponly", "samesite=strict", "path=/"] {
        assert!(attributes.iter().any(|a| a == wanted), "{attributes:?}");
    }
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{attributes:?}"
    );
    // The plain name is not a credential there: a subdomain could have set it.
    let plain = c
        .read(c.anonymous().get(format!("{}/api/session", c.url)).header(
            "cookie",
            format!("{SESSION_COOKIE}={}", c.admin_session().cookie),
        ))
        .await;
    plain.expect_problem(401, Some("unauthenticated"), None);
    for r in [
        c.get("/api/session").await.expect(200),
        c.get("/").await,
        c.get("/healthz").await.expect(200),
    ] {
        let hsts = r.header("strict-transport-security").unwrap_or_default();
        assert!(hsts.starts_with("max-age="), "HSTS: {:?}", r.headers);
    }

    // A client that does not trust the test CA, or speaks plain HTTP, gets nothing.
    let untrusting = http_client();
    assert!(
        untrusting
            .get(format!("{}/healthz", c.url))
            .send()
            .await
            .is_err()
    );
    let other_ca = dev_pki(&dir.path().join("other")).await;
    let wrong_trust = client_builder(Some(&other_ca.join("ca.pem")), Default::default())
        .build()
        .expect("client");
    assert!(
        wrong_trust
            .get(format!("{}/healthz", c.url))
            .send()
            .await
            .is_err()
    );
    let plain = c.url.replacen("https://", "http://", 1);
    let answered = http_client()
        .get(format!("{plain}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false);
    assert!(!answered, "plain HTTP is not served on the HTTPS port");
}

#[tokio::test]
async fn hermod_over_mutual_tls_works_end_to_end_and_a_wrong_ca_is_reported_as_a_certificate_error()
{
    let dir = TempDir::new("mtls");
    let pki = dev_pki(&dir.path().join("pki")).await;
    let other = dev_pki(&dir.path().join("other")).await;
    let secrets = Secrets::random();
    let console_port = free_port();
    let callback_port = free_port();

    // Hermod's simulator over HTTPS, requiring a client certificate from the test CA. Its callbacks
    // go to the console's separate callback listener, over plain HTTP.
    let sim_toml = dir.path().join("simulator.toml");
    std::fs::write(
        &sim_toml,
        format!(
            r#"listen = "127.0.0.1:0"
complete_after_ms = 200

[tls]
cert_file = "{cert}"
key_file = "{key}"
client_ca_file = "{ca}"

[clients.idm]
key = "{idm_key}"
callback_url = "http://127.0.0.1:{callback_port}/clients/idm/rest"
callback_basic_auth = "{IDM_CALLBACK_USER}:{idm_password}"
"#,
            cert = path(&pki.join("server.pem")),
            key = path(&pki.join("server.key")),
            ca = path(&pki.join("ca.pem")),
            idm_key = secrets.idm_key,
            idm_password = secrets.idm_password,
        ),
    )
    .expect("simulator config");
    let mut sim_args = args(["simulate", "--config"]);
    sim_args.push(sim_toml.into_os_string());
    let sim = Process::start(
        &sim_args,
        &[],
        &dir.path().join("simulator.log"),
        &["simulator listening"],
    )
    .await;
    let sim_url = sim.urls[0].clone();
    assert!(sim_url.starts_with("https://"), "{sim_url}");

    // The console: `idm` with the test CA and a client certificate; `wrongca` trusting another CA;
    // `nocert` without a client certificate.
    let client = |id: &str, ca: &Path, with_cert: bool| {
        let mut toml = format!(
            "[clients.{id}]\ncommand_url = \"{sim_url}/hermod/rest/command\"\nkey = \"{}\"\n\
             ca_file = \"{}\"\nrequest_timeout_secs = 10\n",
            secrets.idm_key,
            path(&ca.join("ca.pem"))
        );
        if with_cert {
            toml.push_str(&format!(
                "client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
                path(&pki.join("client.pem")),
                path(&pki.join("client.key"))
            ));
        }
        toml
    };
    let console_toml = dir.path().join("console.toml");
    std::fs::write(
        &console_toml,
        format!(
            "listen = \"127.0.0.1:{console_port}\"\ncallback_listen = \"127.0.0.1:{callback_port}\"\n\n\
             {}callback_user = \"{IDM_CALLBACK_USER}\"\ncallback_password = \"{}\"\n\n{}\n{}",
            client("idm", &pki, true),
            secrets.idm_password,
            client("wrongca", &other, true),
            client("nocert", &pki, false),
        ),
    )
    .expect("console config");
    let c = Console::serve(&console_toml, secrets.clone())
        .listen(format!("127.0.0.1:{console_port}"))
        .start()
        .await;
    let callbacks_url = format!("http://127.0.0.1:{callback_port}");

    // What to register in Hermod: the callback listener's URL.
    let clients: Vec<ClientInfo> = c.get("/api/clients").await.expect(200).parse();
    let idm = clients.iter().find(|x| x.id == "idm").expect("idm");
    assert_eq!(
        idm.callback_url,
        format!("{callbacks_url}/clients/idm/rest")
    );

    // A ping, end to end: mutual TLS out, the callback back in through the callback listener.
    let sent = c.send("ping", ping_body(&unique("mtls-"), 30)).await;
    assert_eq!(sent.state, CommandState::InProgress);
    c.wait_for_state(sent.id, "COMPLETED").await;
    let stored = c.wait_for_callbacks(sent.id, 1).await;
    assert!(
        stored[0].auth.contains(IDM_CALLBACK_USER),
        "{}",
        stored[0].auth
    );
    let poll = c
        .post_json(&format!("/api/commands/{}/poll", sent.id), &Value::Null)
        .await
        .expect(200)
        .json();
    assert_eq!(poll["poll"]["reply"]["status"], 200, "{poll}");

    // Hermod's certificate from a CA the client does not trust: a certificate error, said so.
    let r = c
        .send_as("wrongca", "ping", ping_body(&unique("wrongca-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_certificate"), None);
    let record = p.record.expect("the kept record");
    assert_eq!(record.state, CommandState::SendFailed);
    assert!(
        p.detail.to_lowercase().contains("certificate"),
        "{}",
        p.detail
    );
    let kept = c.detail(record.id).await.command;
    assert_eq!(kept.state, CommandState::SendFailed);
    assert!(
        kept.answer
            .and_then(|a| a.error)
            .unwrap_or_default()
            .to_lowercase()
            .contains("certificate"),
        "the record says why"
    );

    // Without a client certificate the simulator does not let the console in: also a certificate
    // error (Hermod's TLS alert says it wants one).
    let r = c
        .send_as("nocert", "ping", ping_body(&unique("nocert-"), 30))
        .await;
    let p = r.expect_problem(502, Some("hermod_certificate"), None);
    assert_eq!(
        p.record.expect("the kept record").state,
        CommandState::SendFailed,
        "{}",
        r.text
    );
    // …nor anyone else without one, even trusting its CA.
    let no_identity = client_builder(Some(&pki.join("ca.pem")), Default::default())
        .build()
        .expect("client");
    assert!(
        no_identity
            .get(format!("{sim_url}/healthz"))
            .send()
            .await
            .is_err()
    );

    // The main listener takes no callbacks then: it says where they go.
    let r = c
        .read(
            c.anonymous()
                .post(format!("{}/clients/idm/rest/callback/ping", c.url))
                .basic_auth(IDM_CALLBACK_USER, Some(&secrets.idm_password))
                .header("content-type", "application/json")
                .body(callback_body("424243", &unique("cb-main-"), "COMPLETED")),
        )
        .await;
    let p = r.expect_problem(404, Some("not_found"), None);
    assert!(p.detail.contains(&callbacks_url), "{}", p.detail);

    // The callback listener serves callbacks (and health), not the console's API or page.
    let stranger = c.anonymous();
    let get = |path: &str| c.read(stranger.get(format!("{callbacks_url}{path}")));
    get("/healthz").await.expect(200);
    for path in [
        "/",
        "/api/clients",
        "/api/session",
        "/api/routes",
        "/commands/1",
        "/metrics",
    ] {
        let r = get(path).await;
        assert_eq!(
            r.status.as_u16(),
            404,
            "{path} on the callback listener: {}",
            r.text
        );
    }
    let cookie = c.admin_session().cookie_header();
    let with_session = c
        .read(
            stranger
                .get(format!("{callbacks_url}/api/commands"))
                .header("cookie", cookie),
        )
        .await;
    assert_eq!(with_session.status.as_u16(), 404, "not even with a session");
    let body = callback_body("424242", &unique("cb-listener-"), "COMPLETED");
    let refused = c
        .read(
            stranger
                .post(format!("{callbacks_url}/rest/callback/ping"))
                .basic_auth(IDM_CALLBACK_USER, Some("wrong"))
                .header("content-type", "application/json")
                .body(body.clone()),
        )
        .await;
    refused.expect_problem(401, None, None);
    c.read(
        stranger
            .post(format!("{callbacks_url}/rest/callback/ping"))
            .basic_auth(IDM_CALLBACK_USER, Some(&secrets.idm_password))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
    .expect(200);
    drop(sim);
}

#[tokio::test]
async fn sighup_serves_a_renewed_certificate_without_a_restart_and_keeps_the_old_one_on_a_bad_file()
{
    let dir = TempDir::new("tls-reload");
    let (first, renewed) = (dir.path().join("first"), dir.path().join("renewed"));
    let (first, renewed) = tokio::join!(dev_pki(&first), dev_pki(&renewed));
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).expect("a directory");
    let put = |pki: &Path| {
        for file in ["server.pem", "server.key"] {
            std::fs::copy(pki.join(file), live.join(file)).expect("copy");
        }
    };
    put(&first);
    let c = serve_https(dir.path(), &live, &first).await;
    let trusting = |pki: &Path| {
        client_builder(Some(&pki.join("ca.pem")), Default::default())
            .build()
            .expect("client")
    };
    let answers = |client: reqwest::Client| {
        let url = format!("{}/healthz", c.url);
        async move {
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    };
    let hangup = || {
        let pid = c.pid().expect("the console runs").to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    };
    assert!(answers(trusting(&first)).await);
    assert!(!answers(trusting(&renewed)).await);

    // A renewal half-written (a key that is not one) is refused; the console keeps serving the
    // certificate it had, and SIGHUP does not stop it.
    std::fs::write(live.join("server.key"), "not a key").expect("write");
    hangup();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(answers(trusting(&first)).await, "the old certificate stays");

    put(&renewed);
    hangup();
    wait_until("the renewed certificate to be served", WAIT, || async {
        answers(trusting(&renewed)).await.then_some(())
    })
    .await;
    assert!(
        !answers(trusting(&first)).await,
        "new connections get the renewed one"
    );
}
