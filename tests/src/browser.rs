//! A real headless Chromium driven through chromedriver (Debian's packages), for the browser tests.
//! Each test gets its own driver and profile; both go away even when the test panics.

use crate::free_port;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The flags this machine's headless Chromium needs (README.md, Development).
const CHROME_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Where screenshots go: `target/screenshots/`, kept as evidence.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Starts chromedriver and a browser session, runs `test` with it, and always closes both; a panic
/// inside `test` is re-raised afterwards, so no Chromium outlives a failing test.
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let profile = std::env::temp_dir().join(format!(
        "hermod-console-chrome-{}-{port}",
        std::process::id()
    ));
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromedriver} (make browser-tools): {e}"));
    let driver = Driver {
        child,
        profile: profile.clone(),
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut args: Vec<String> = CHROME_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": args, "binary": chromium_binary() }),
    );
    let started = Instant::now();
    let client = loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if started.elapsed() > Duration::from_secs(20) => {
                panic!("chromedriver did not start a session: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let outcome =
        tokio::time::timeout(Duration::from_secs(120), tokio::spawn(test(client.clone()))).await;
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join)) => std::panic::resume_unwind(join.into_panic()),
        Err(_) => panic!("the browser test took longer than 120 s"),
    }
}

fn chromium_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("chromium")
            .to_string()
    })
}

/// Waits for an element matching `css`.
pub async fn wait_css(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element `{css}` appeared: {e}"))
}

/// Waits until the element matching `css` holds `text`.
pub async fn wait_text(c: &Client, css: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(text)
        {
            return;
        }
        assert!(Instant::now() < deadline, "`{css}` never showed `{text}`");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot as evidence under `target/screenshots/<name>.png`.
pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Runs a script in the page and returns its value.
pub async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script runs")
}

/// Logs in through the login page, as a person would, and waits for the console's shell.
pub async fn login(c: &Client, url: &str, username: &str, password: &str) {
    c.goto(url).await.expect("open the console");
    wait_css(c, "#login-username").await;
    let user = c
        .find(Locator::Css("#login-username"))
        .await
        .expect("username field");
    user.send_keys(username).await.expect("type the username");
    let pass = c
        .find(Locator::Css("#login-password"))
        .await
        .expect("password field");
    pass.send_keys(password).await.expect("type the password");
    c.find(Locator::Css("#login-submit"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("click log in");
    wait_css(c, "#logout").await;
}

/// Clicks the first element matching `css`, once it is there. A live page may redraw the element
/// between finding and clicking it: then the new one is clicked, as a person would.
pub async fn click(c: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let el = wait_css(c, css).await;
        // Into the middle of the window, as a person brings what they click: WebDriver scrolls it
        // only to the edge, where a bar that sticks there (the Send page's) would take the click.
        if let Ok(arg) = serde_json::to_value(&el) {
            let _ = c
                .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
                .await;
        }
        match el.click().await {
            Ok(()) => return,
            Err(e) if e.to_string().contains("stale element") && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("click {css}: {e}"),
        }
    }
}

/// The visible text of the first element matching `css`.
pub async fn text_of(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap_or_default()
}

/// Polls the script expression `expr` in the page until it is truthy; `what` names it on timeout.
pub async fn wait_js(c: &Client, expr: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if eval(c, &format!("return !!({expr})")).await == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "never true: {what} ({expr})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page's path and query, as the address bar shows them.
pub async fn here(c: &Client) -> String {
    let url = c.current_url().await.expect("current URL");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// What a form control holds now.
pub async fn value_of(c: &Client, css: &str) -> String {
    wait_css(c, css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`), for what WebDriver itself
/// cannot do: emulating the system's colour scheme, say.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params}).to_string();
        (reqwest::Method::POST, Some(body))
    }
}

/// Makes the page see the system preferring `scheme` (`light` or `dark`), as when the operator
/// switches their desktop's theme.
pub async fn prefer_color_scheme(c: &Client, scheme: &str) {
    let features = json!([{"name": "prefers-color-scheme", "value": scheme}]);
    c.issue_cmd(Cdp {
        cmd: "Emulation.setEmulatedMedia",
        params: json!({ "features": features }),
    })
    .await
    .unwrap_or_else(|e| panic!("emulate prefers-color-scheme: {scheme}: {e}"));
}
