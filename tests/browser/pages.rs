//! What more than one page's tests need: commands made through the API before the browser opens,
//! the rows the commands table shows, and the decoded parts of a command's callback.

use fantoccini::Client;
use hermod_console_tests::Console;
use hermod_console_tests::browser::{eval, login};
use hermod_shared::console::{CommandDetail, CommandRecord, TimelineEntry};
use hermod_shared::decoded::Decoded;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Sends a command through the API and waits for its terminal `state`.
pub async fn sent(console: &Console, ty: &str, body: Value, state: &str) -> CommandRecord {
    let record = console.send(ty, body).await;
    console.wait_for_state(record.id, state).await
}

/// Logs in as `admin` and opens `path` (with its query) of the console at `url`.
pub async fn open(c: &Client, url: &str, password: &str, path: &str) {
    login(c, url, "admin", password).await;
    c.goto(&format!("{url}{path}"))
        .await
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
}

/// The ids of the rows the commands table shows, top to bottom.
async fn listed(c: &Client) -> Vec<i64> {
    let ids = eval(
        c,
        "return [...document.querySelectorAll('table.commands tbody tr')] \
         .map(r => Number(r.dataset.id))",
    )
    .await;
    serde_json::from_value(ids).expect("row ids")
}

/// Waits until the commands table shows exactly `want` (newest first), and nothing is loading.
pub async fn wait_listed(c: &Client, want: &[i64]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let busy = eval(
            c,
            "const t = document.querySelector('table.commands'); \
             return !t || t.getAttribute('aria-busy') !== 'false'",
        )
        .await;
        let rows = listed(c).await;
        if busy == json!(false) && rows == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the table shows {rows:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded items of the (first) callback step of a command.
pub fn callback_decoded(detail: &CommandDetail) -> Vec<Decoded> {
    detail
        .timeline
        .iter()
        .find_map(|e| match e {
            TimelineEntry::Callback { decoded, .. } => {
                Some(decoded.iter().map(|d| d.decoded.clone()).collect())
            }
            _ => None,
        })
        .expect("a callback in the timeline")
}
