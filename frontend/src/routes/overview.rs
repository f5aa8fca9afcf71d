//! The Overview: how the commands of a window ended, per type and client, and how long Hermod took
//! to call back. Each count links to the list it counts, over the same window. Read as JSON
//! (`components/json.rs`).

use crate::api;
use crate::components::json::{array, text};
use crate::components::paged::WINDOWS;
use crate::dom;
use crate::nav::{Route, encode, query_string, use_location};
use leptos::prelude::*;
use serde_json::Value;
use web_sys::Element;

/// The outcomes with a column of their own (as the table's head names them); the rest are "other".
const OUTCOMES: [&str; 4] = ["COMPLETED", "REJECTED", "FAILED", "EXPIRED"];

fn iso(ms: f64) -> String {
    js_sys::Date::new(&ms.into()).to_iso_string().into()
}

/// "850 ms", "2.4 s", "3 min 5 s".
fn wait(ms: &Value) -> String {
    match ms.as_u64() {
        None => "—".into(),
        Some(ms @ 0..1000) => format!("{ms} ms"),
        Some(ms @ 1000..60000) => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        Some(ms) => format!("{} min {} s", ms / 60000, ms % 60000 / 1000),
    }
}

/// One row per type and client, drawn by hand (`dom.rs`), as is the line above the table: the
/// same as reactive views cost the wasm 1.5 KB (brotli) more.
fn fill(body: &Element, rows: &[Value], window: &str) {
    body.set_text_content(None);
    for r in rows {
        let (kind, client) = (text(&r["type"]), text(&r["client"]));
        let tr = dom::el(body, "tr", &[("data-type", kind), ("data-client", client)]);
        dom::text(&tr, "td", &[], kind);
        dom::text(&tr, "td", &[], client);
        let total = r["total"].as_u64().unwrap_or_default();
        let count = |state: &str| r["states"][state].as_u64().unwrap_or_default();
        let linked = |state: &str, n: u64| {
            let q = query_string([
                ("type", kind.to_string()),
                ("client", client.to_string()),
                ("state", state.to_string()),
            ]);
            let href = format!("{}?{q}&{window}", Route::Commands.href());
            dom::text(
                &dom::el(&tr, "td", &[]),
                "a",
                &[("href", &href)],
                &n.to_string(),
            );
        };
        linked("", total);
        OUTCOMES.iter().for_each(|s| linked(s, count(s)));
        let other = total.saturating_sub(OUTCOMES.iter().map(|s| count(s)).sum());
        for cell in [
            other.to_string(),
            wait(&r["callback_p50_ms"]),
            wait(&r["callback_p95_ms"]),
        ] {
            dom::text(&tr, "td", &[], &cell);
        }
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let nav = use_location();
    let chosen = Memo::new(move |_| nav.with(|l| l.param("window")).unwrap_or_default());
    // The number of the latest request: a late answer for an earlier one is dropped. A plain cell,
    // not a signal: it is read after the page may have been left, when a signal would be gone.
    let latest = std::rc::Rc::new(std::cell::Cell::new(0u32));
    Effect::new(move |_| {
        let key = chosen.get();
        let asked = latest.get() + 1;
        latest.set(asked);
        let latest = latest.clone();
        let minutes = WINDOWS.iter().find(|w| w.0 == key).map_or(1440, |w| w.2);
        let now = js_sys::Date::now();
        // One fixed window for the counts and the lists they link to.
        let window = format!(
            "since={}&until={}",
            encode(&iso(now - f64::from(minutes) * 60_000.0)),
            encode(&iso(now))
        );
        leptos::task::spawn_local(async move {
            let found = api::overview(&window).await;
            // A page left has no elements to fill (a later visit's get its own answer after).
            let (Some(said), Some(body)) =
                (dom::by_id("overview-said"), dom::by_id("overview-rows"))
            else {
                return;
            };
            if latest.get() != asked {
                return;
            }
            let (class, line, rows) = match found {
                Ok(o) => {
                    let rows = array(&o["rows"]);
                    let line = if rows.is_empty() {
                        "No command was sent in this window.".to_string()
                    } else {
                        format!(
                            "Commands sent from {} to {}, per type and client; each count opens its list.",
                            text(&o["since"]),
                            text(&o["until"])
                        )
                    };
                    ("muted", line, rows)
                }
                Err(e) => ("error", e.to_string(), Vec::new()),
            };
            said.set_class_name(class);
            said.set_text_content(Some(&line));
            fill(&body, &rows, &window);
        });
    });
    view! {
        <section class="page">
            <header class="page-head"><h1>"Overview"</h1></header>
            <nav class="windows" aria-label="Window">
                {WINDOWS.map(|(key, label, _)| view! {
                    <a class="button" href=format!("{}?window={key}", Route::Overview.href())
                        aria-current=move || (chosen.get() == key || chosen.with(String::is_empty) && key == "24h").then_some("page")>{label}</a>
                }).collect_view()}
            </nav>
            <p id="overview-said" role="status" class="muted">"Counting…"</p>
            <table class="grid" id="overview">
                <thead><tr>
                    <th scope="col">"Type"</th><th scope="col">"Client"</th><th scope="col">"Sent"</th>
                    <th scope="col">"COMPLETED"</th><th scope="col">"REJECTED"</th><th scope="col">"FAILED"</th>
                    <th scope="col">"EXPIRED"</th><th scope="col">"Other"</th>
                    <th scope="col">"Callback p50"</th><th scope="col">"p95"</th>
                </tr></thead>
                <tbody id="overview-rows"></tbody>
            </table>
        </section>
    }
}
