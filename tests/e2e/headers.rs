//! Security headers on everything the console serves (docs/ARCHITECTURE.md): a CSP that allows our
//! own scripts (Trunk's inline loader by its hash, never `'unsafe-inline'`), wasm, `data:`/`blob:`
//! images and no framing; `nosniff`, `no-referrer`; `no-store` on the API.

use base64::Engine;
use hermod_console_tests::*;
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

#[tokio::test]
async fn the_page_and_the_api_carry_the_security_headers_and_the_csp_allows_only_our_scripts() {
    let c = Console::demo().start().await;
    let stranger = c.anonymous();
    let page = c.read(stranger.get(format!("{}/", c.url))).await;
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/index.html");
    if built.is_file() {
        assert_eq!(page.status.as_u16(), 200, "{}", page.text);
        assert_eq!(
            page.text,
            std::fs::read_to_string(&built).expect("index.html")
        );
    }

    let csp = page
        .header("content-security-policy")
        .expect("the page has a CSP")
        .to_string();
    let d = directives(&csp);
    let words = |name: &str| d.get(name).cloned().unwrap_or_default();
    assert_eq!(words("default-src"), ["'self'"], "{csp}");
    let hashes = inline_script_hashes(&page.text);
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
    let callback = c
        .post_callback(
            "/rest/callback/ping",
            None,
            "application/json",
            "{}".to_string(),
        )
        .await;
    let mut answers = vec![
        ("GET /", page),
        (
            "GET /commands/12",
            c.read(stranger.get(format!("{}/commands/12", c.url))).await,
        ),
        (
            "GET /missing.js",
            c.read(stranger.get(format!("{}/missing.js", c.url))).await,
        ),
        ("GET /healthz", c.get("/healthz").await),
        ("GET /api/commands", c.get("/api/commands").await),
        (
            "GET /api/commands (anonymous)",
            c.read(stranger.get(format!("{}/api/commands", c.url)))
                .await,
        ),
        ("GET /api/nope", c.get("/api/nope").await),
        (
            "GET /api/commands/999999",
            c.get("/api/commands/999999").await,
        ),
        (
            "POST /api/commands {}",
            c.post_json("/api/commands", &serde_json::json!({})).await,
        ),
        ("POST /rest/callback/ping", callback),
    ];
    if let Ok(entries) = std::fs::read_dir(built.with_file_name("")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".js") || name.ends_with(".css") {
                let r = c.read(stranger.get(format!("{}/{name}", c.url))).await;
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
    let feed = c.events(None, None).await;
    let h = feed.headers();
    assert_eq!(
        h.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    assert_eq!(
        h.get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
}

#[tokio::test]
async fn a_request_naming_another_host_reaches_nothing_but_health() {
    let (default, listed) = tokio::join!(
        Console::demo().start(),
        Console::demo()
            .env(
                "HERMOD_CONSOLE__ALLOWED_HOSTS",
                "[\"Console.Example\", \"127.0.0.1\"]"
            )
            .start()
    );
    let port = default.url.rsplit(':').next().expect("a port").to_string();
    let with_host = |c: &Console, path: &str, host: String| {
        let request = c
            .anonymous()
            .get(format!("{}{path}", c.url))
            .header("host", host);
        async move { Resp::read_unrecorded(request.send().await.expect("request")).await }
    };
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
            r.text.contains("127.0.0.1"),
            "it says what it answers to: {}",
            r.text
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
    let port = listed.url.rsplit(':').next().expect("a port").to_string();
    with_host(&listed, "/", format!("console.example:{port}"))
        .await
        .expect(200);
    with_host(&listed, "/", format!("localhost:{port}"))
        .await
        .expect_problem(421, Some("unknown_host"), None);
}
