//! Security headers on everything the console serves (docs/ARCHITECTURE.md): a CSP that allows our
//! own scripts (Trunk's inline loader by its hash, never `'unsafe-inline'`), wasm, `data:`/`blob:`
//! images and no framing; `nosniff`, `no-referrer`; `no-store` on the API. And a request naming a
//! host the console does not answer to reaches nothing but health.

use crate::harness::{Answer, TestApp, bare};
use axum::body::Body;
use axum::http::{Method, Request, header};
use base64::Engine;
use hermod_shared::console::Role;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `'sha256-…'` of every inline `<script>` (one without `src`) of a page.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let tag = &rest[start..];
        let (Some(open_end), Some(close)) = (tag.find('>'), tag.find("</script>")) else {
            break;
        };
        if !tag[..open_end].contains("src=") {
            let digest = Sha256::digest(&tag.as_bytes()[open_end + 1..close]);
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &tag[close + "</script>".len()..];
    }
    hashes
}

/// A CSP's directives: name → sources.
fn directives(csp: &str) -> BTreeMap<String, Vec<String>> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

/// `GET path` with no credential and no Origin, as a stranger's browser or script sends it.
async fn stranger(app: &TestApp, path: &str) -> Answer {
    app.send(
        bare(Method::GET, path)
            .body(Body::empty())
            .expect("a request"),
    )
    .await
}

#[tokio::test]
async fn the_page_and_the_api_carry_the_security_headers_and_the_csp_allows_only_our_scripts() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let get = |path: &'static str| app.call(Method::GET, path, &admin, None);
    let page = stranger(&app, "/").await;
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/index.html");
    if built.is_file() {
        assert_eq!(page.status.as_u16(), 200, "{}", page.text());
        // The built page, with the version the server adds for the footer.
        let footer = format!(
            "<body><footer class=\"version\">Hermod Console {}</footer>",
            env!("CARGO_PKG_VERSION")
        );
        let index = std::fs::read_to_string(&built).expect("index.html");
        assert_eq!(page.text(), index.replacen("<body>", &footer, 1));
    }

    let csp = page
        .header("content-security-policy")
        .expect("the page has a CSP")
        .to_string();
    let d = directives(&csp);
    let words = |name: &str| d.get(name).cloned().unwrap_or_default();
    assert_eq!(words("default-src"), ["'self'"], "{csp}");
    let hashes = inline_script_hashes(&page.text());
    if built.is_file() {
        assert!(!hashes.is_empty(), "Trunk's page loads the wasm inline");
    }
    let mut script_src = vec!["'self'".to_string(), "'wasm-unsafe-eval'".to_string()];
    script_src.extend(hashes);
    assert_eq!(
        words("script-src"),
        script_src,
        "script-src: ours, wasm, and the served page's inline loader by hash: {csp}"
    );
    assert_eq!(words("img-src"), ["'self'", "data:", "blob:"], "{csp}");
    assert_eq!(words("frame-ancestors"), ["'none'"], "{csp}");
    for never in ["'unsafe-inline'", "'unsafe-eval'", "*"] {
        assert!(
            !d.values().flatten().any(|w| w == never),
            "{never} in {csp}"
        );
    }

    // The same headers on every kind of answer: the page, assets, SPA routes, API answers and
    // errors, the receiver, health.
    let callback = app
        .callback("/rest/callback/ping", None, "application/json", "{}")
        .await;
    let mut answers = vec![
        ("GET /", page),
        ("GET /commands/12", stranger(&app, "/commands/12").await),
        ("GET /missing.js", stranger(&app, "/missing.js").await),
        ("GET /healthz", get("/healthz").await),
        ("GET /api/commands", get("/api/commands").await),
        (
            "GET /api/commands (anonymous)",
            stranger(&app, "/api/commands").await,
        ),
        ("GET /api/nope", get("/api/nope").await),
        (
            "GET /api/commands/999999",
            get("/api/commands/999999").await,
        ),
        (
            "POST /api/commands {}",
            app.call(Method::POST, "/api/commands", &admin, Some(json!({})))
                .await,
        ),
        ("POST /rest/callback/ping", callback),
    ];
    if let Ok(entries) = std::fs::read_dir(built.with_file_name("")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".js") || name.ends_with(".css") {
                let r = stranger(&app, &format!("/{name}")).await;
                answers.push(("GET an asset", r.expect(200)));
            }
        }
    }
    // The SPA fallback serves the page for the page's own routes only: a missing asset or API
    // route is a 404, never index.html with a 200.
    let status = |what: &str| {
        let r = &answers.iter().find(|(w, _)| *w == what).expect(what).1;
        (
            r.status.as_u16(),
            r.header("content-type").unwrap_or_default().to_string(),
        )
    };
    let (code, ct) = status("GET /commands/12");
    assert_eq!((code, ct.starts_with("text/html")), (200, true), "{ct}");
    let (code, ct) = status("GET /missing.js");
    assert!(code == 404 && !ct.starts_with("text/html"), "{code} {ct}");
    let (code, ct) = status("GET /api/nope");
    assert_eq!((code, ct.as_str()), (404, "application/json"));
    for (what, r) in &answers {
        assert_eq!(
            r.header("content-security-policy"),
            Some(csp.as_str()),
            "{what}"
        );
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
        assert!(
            r.header("strict-transport-security").is_none(),
            "{what}: no HSTS over plain http"
        );
        if what.contains("/api/") {
            assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        }
    }
    // The feed is `no-cache` (docs/ARCHITECTURE.md), still with the security headers.
    let feed = get("/api/events").await.expect(200);
    let ct = feed.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
    assert_eq!(feed.header("cache-control"), Some("no-cache"));
    assert_eq!(feed.header("x-content-type-options"), Some("nosniff"));
}

/// `GET path` naming `host`, as a browser sends it to whatever name it was given.
async fn with_host(app: &TestApp, path: &str, host: String) -> Answer {
    let request = Request::get(path)
        .header(header::HOST, host)
        .body(Body::empty())
        .expect("a request");
    app.send(request).await
}

#[tokio::test]
async fn a_request_naming_another_host_reaches_nothing_but_health() {
    // As `demo` configures a console on loopback: its address is where it listens and its public URL.
    let port = 43_117;
    let (default, listed) = tokio::join!(
        TestApp::start_with(|c| {
            c.listen = format!("127.0.0.1:{port}");
            c.public_url = format!("http://127.0.0.1:{port}").parse().ok();
        }),
        TestApp::start_with(|c| {
            c.listen = format!("127.0.0.1:{port}");
            c.public_url = format!("http://127.0.0.1:{port}").parse().ok();
            c.allowed_hosts = vec!["Console.Example".into(), "127.0.0.1".into()];
        })
    );
    // A name pointed at this address (DNS rebinding): refused before any other work, page and API.
    for path in [
        "/",
        "/api/session",
        "/api/routes",
        "/clients/idm/rest/callback/sign",
    ] {
        let r = with_host(&default, path, format!("rebound.example:{port}")).await;
        r.expect_problem(421, Some("unknown_host"), None);
        assert!(
            r.text().contains("127.0.0.1"),
            "it says what it answers to: {}",
            r.text()
        );
        // Still with the security headers.
        assert!(r.header("content-security-policy").is_some());
    }
    with_host(&default, "/healthz", "rebound.example".into())
        .await
        .expect(200);
    // A console on loopback answers to its loopback names, any port.
    for host in [
        format!("localhost:{port}"),
        "127.0.0.1".into(),
        format!("[::1]:{port}"),
    ] {
        with_host(&default, "/", host).await.expect(200);
    }
    // allowed_hosts replaces the default; names compare in any case.
    with_host(&listed, "/", format!("console.example:{port}"))
        .await
        .expect(200);
    with_host(&listed, "/", format!("localhost:{port}"))
        .await
        .expect_problem(421, Some("unknown_host"), None);
}

#[tokio::test]
async fn the_environment_banner_is_on_the_page_as_text() {
    let app = TestApp::start_with(|c| c.ui.banner = Some("TEST <b>&".into())).await;
    let page = stranger(&app, "/").await.text();
    if page.contains("<body>") {
        assert!(
            page.contains(
                "<body><div class=\"env-banner\" role=\"note\">TEST &lt;b&gt;&amp;</div>"
            ),
            "{page}"
        );
    }
}
