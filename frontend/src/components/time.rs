use crate::live::use_live;
use leptos::prelude::*;

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    (!ms.is_nan()).then_some(ms)
}

fn span(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d", s / 86400),
    }
}

/// "12 s ago", with the absolute time on hover.
#[component]
pub fn RelTime(at: String) -> impl IntoView {
    let live = use_live();
    let then = parse_ms(&at);
    let raw = at.clone();
    let text = move || match then {
        Some(t) => format!("{} ago", span((live.now.get() - t) / 1000.0)),
        None => raw.clone(),
    };
    view! { <time datetime=at.clone() title=at.clone()>{text}</time> }
}

/// "expires in 4 min 2 s" while a command can still change.
#[component]
pub fn Countdown(until: String) -> impl IntoView {
    let live = use_live();
    let end = parse_ms(&until);
    let text = move || match end {
        Some(end) if end > live.now.get() => {
            format!("expires in {}", span((end - live.now.get()) / 1000.0))
        }
        Some(_) => "expiry passed".to_string(),
        None => String::new(),
    };
    view! { <span class="countdown" title=until.clone()>{text}</span> }
}

/// How long ago the server was last heard from, in seconds.
pub fn heard_ago(live: crate::live::Live) -> Option<u64> {
    live.last_heard
        .get()
        .map(|t| ((live.now.get() - t) / 1000.0).max(0.0).round() as u64)
}
