use super::copy::CopyButton;
use leptos::prelude::*;
use serde_json::Value;

/// Pretty JSON when `text` is JSON, the text as it came otherwise.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// A collapsible, copyable block of JSON (or any text). Rendered as text: markup in it stays inert.
#[component]
pub fn JsonBlock(label: String, text: String, #[prop(optional)] open: bool) -> impl IntoView {
    let shown = pretty(&text);
    view! {
        <details class="json" open=open>
            <summary>
                <span class="json-label">{label}</span>
                <CopyButton text=shown.clone()/>
            </summary>
            <pre>{shown}</pre>
        </details>
    }
}
