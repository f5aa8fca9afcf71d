//! A searched list's text with what was searched for marked, and where each record was found.

use leptos::prelude::*;

/// `text` as HTML, each occurrence of `q` (in any case, as the search matched it) in a `<mark>`,
/// the rest escaped. A string, not a view: one function for every cell costs the bundle less.
pub fn marked(text: &str, q: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    if q.is_empty() {
        return escape(text);
    }
    // ASCII lowering keeps every byte where it was, so positions found in the lowered text cut
    // the text itself at character boundaries.
    let (lower, q) = (text.to_ascii_lowercase(), q.to_ascii_lowercase());
    let mut html = String::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&q) {
        let start = at + found;
        let end = start + q.len();
        html += &format!(
            "{}<mark>{}</mark>",
            escape(&text[at..start]),
            escape(&text[start..end])
        );
        at = end;
    }
    html + &escape(&text[at..])
}

/// Where a searched record was found (`matched`), when the list was searched.
pub fn found_in(matched: &[String]) -> Option<impl IntoView + use<>> {
    (!matched.is_empty()).then(|| {
        view! { <span class="found muted" data-found="">{format!("found in {}", matched.join(", "))}</span> }
    })
}
