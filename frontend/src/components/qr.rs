use hermod_shared::console::QrCode;
use leptos::prelude::*;

/// Draws a QR code the backend computed (it has the encoder; the page only paints the modules).
#[component]
pub fn Qr(code: QrCode, label: String) -> impl IntoView {
    let size = code.size as usize;
    // One path of unit squares, offset by the 4-module quiet zone scanners need.
    let mut d = String::new();
    for (i, module) in code.modules.chars().enumerate() {
        if module == '1' {
            d.push_str(&format!("M{} {}h1v1h-1z", i % size + 4, i / size + 4));
        }
    }
    let extent = size + 8;
    view! {
        <svg
            class="qr"
            viewBox=format!("0 0 {extent} {extent}")
            role="img"
            aria-label=label
            shape-rendering="crispEdges"
        >
            <rect width=extent.to_string() height=extent.to_string() fill="#fff"/>
            <path d=d fill="#000"/>
        </svg>
    }
}
