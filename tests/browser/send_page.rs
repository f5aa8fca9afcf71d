//! The send page as its tests drive it: a field's control and message by JSON pointer, typing as a
//! person would, the JSON tab, sending.

use crate::pages::open;
use fantoccini::Client;
use hermod_console_tests::browser::{click, eval, value_of, wait_css, wait_text};
use serde_json::Value;
use std::time::Duration;

/// The control of the field at JSON pointer `ptr` (its input, select or text area).
pub fn control(ptr: &str) -> String {
    format!("[data-field=\"{ptr}\"] > :is(input, select, textarea)")
}

/// The message shown next to the field at `ptr`.
pub fn message(ptr: &str) -> String {
    format!("[data-field=\"{ptr}\"] > .field-error")
}

/// Clears the control of `ptr` and types `text` into it, as a person would.
pub async fn type_into(c: &Client, ptr: &str, text: &str) {
    let el = wait_css(c, &control(ptr)).await;
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

/// The JSON tab's body.
pub async fn json_of(c: &Client) -> Value {
    let text = eval(c, "return document.getElementById('send-body').value").await;
    serde_json::from_str(text.as_str().unwrap_or_default()).expect("the JSON tab holds JSON")
}

/// Writes `body` into the JSON tab as if typed.
pub async fn write_json(c: &Client, body: &Value) {
    let text = serde_json::to_string_pretty(body).unwrap();
    let script = format!(
        "const t = document.getElementById('send-body'); t.value = {}; \
         t.dispatchEvent(new Event('input', {{bubbles: true}}));",
        serde_json::to_string(&text).unwrap()
    );
    eval(c, &script).await;
}

/// Waits until the control of the field at `ptr` holds `expected`.
pub async fn wait_value(c: &Client, ptr: &str, expected: &str) {
    for _ in 0..100 {
        if value_of(c, &control(ptr)).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{ptr} never held {expected:?}");
}

/// Clears the element with `id` and types `text` into it.
pub async fn type_into_id(c: &Client, id: &str, text: &str) {
    let el = wait_css(c, &format!("[id=\"{id}\"]")).await;
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

/// Logs in and opens the send page, its clients loaded.
pub async fn open_send(c: &Client, url: &str, password: &str) {
    open(c, url, password, "/send").await;
    wait_text(c, "#send-client", "Identity Manager").await;
}

/// Sends, and waits for the page of the command sent.
pub async fn send(c: &Client) -> i64 {
    click(c, "#send-submit").await;
    wait_css(c, ".command-state").await;
    let path = c.current_url().await.unwrap().path().to_string();
    path.trim_start_matches("/commands/")
        .parse()
        .unwrap_or_else(|_| panic!("went to {path}"))
}
