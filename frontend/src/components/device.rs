//! A device above its commands (README.md, "Devices"): when it was seen, a link to its callbacks,
//! and the certificates it was seen with, each once, the newest sighting first. Read as JSON, as
//! the admin pages are: a typed reader of its own would cost the bundle more than this view.

use crate::api;
use crate::components::json::{array, text};
use crate::components::time::parse_ms;
use crate::nav::{Route, encode};
use leptos::prelude::*;
use serde_json::Value;

/// One certificate the device was seen with: whom it names, until when, where it was seen last.
fn held(h: &Value) -> impl IntoView + use<> {
    let c = &h["certificate"];
    let until = text(&c["not_after"]);
    let expired = parse_ms(until).is_some_and(|t| t < js_sys::Date::now());
    let command = h["command"].as_i64().unwrap_or_default();
    let line = format!(
        "{}, serial {}, valid {} → {until}{}; seen {} in ",
        text(&c["subject"]),
        text(&c["serial"]),
        text(&c["not_before"]),
        if expired { " (expired)" } else { "" },
        text(&h["seen_at"]),
    );
    view! { <li>{line}<a href=Route::Command(command).href()>{format!("#{command}")}</a></li> }
}

#[component]
pub fn DevicePanel(key: String) -> impl IntoView {
    let found = RwSignal::new(None::<Result<Value, String>>);
    let asked = key.clone();
    leptos::task::spawn_local(async move {
        found.set(Some(api::device(&asked).await.map_err(|e| e.to_string())));
    });
    view! {
        <section class="device" id="device">
            <h2>{format!("Device {key}")}</h2>
            <a id="device-callbacks" href=format!("/callbacks?device={}", encode(&key))>"Its callbacks"</a>
            {move || found.get().map(|answer| match answer {
                Ok(d) => {
                    let v = &d["device"];
                    let summary = format!(
                        "{} commands, seen {} to {}; its certificates:",
                        v["commands"], text(&v["first_seen"]), text(&v["last_seen"])
                    );
                    let certs = array(&d["certificates"]);
                    view! {
                        <p class="muted">{summary}</p>
                        <ul class="held">{certs.iter().map(held).collect_view()}</ul>
                    }
                    .into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
