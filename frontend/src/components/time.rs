//! Times as the operator reads them: relative ("12 s ago", the default), or absolute in local time
//! or UTC, picked with the top bar's toggle and remembered.

use crate::kept::{self, Kept};
use crate::live::use_live;
use leptos::prelude::*;

const KEY: &str = "hermod-console-times";

/// How times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Relative,
    Local,
    Utc,
}

impl Clock {
    const ALL: [(Clock, &'static str); 3] = [
        (Clock::Relative, "relative"),
        (Clock::Local, "local"),
        (Clock::Utc, "UTC"),
    ];

    fn name(self) -> &'static str {
        Clock::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("", |c| c.1)
    }
}

/// The remembered choice, as the context every time on the page reads.
pub fn start_clock() -> RwSignal<Clock> {
    let saved = kept::get(Kept::Always, KEY);
    let clock = Clock::ALL
        .iter()
        .find(|(_, name)| Some(*name) == saved.as_deref())
        .map_or(Clock::Relative, |c| c.0);
    RwSignal::new(clock)
}

/// Relative → local → UTC → relative.
#[component]
pub fn ClockToggle() -> impl IntoView {
    let clock = expect_context::<RwSignal<Clock>>();
    let next = move |_| {
        let i = Clock::ALL
            .iter()
            .position(|(c, _)| *c == clock.get_untracked())
            .unwrap_or(0);
        let (next, name) = Clock::ALL[(i + 1) % Clock::ALL.len()];
        kept::set(Kept::Always, KEY, name);
        clock.set(next);
    };
    view! {
        <button type="button" id="clock-toggle" on:click=next title="How times are shown; click for the next">
            {move || format!("Times: {}", clock.get().name())}
        </button>
    }
}

/// `ms` as `2026-12-04 05:10:03`, in local time or in UTC (then with ` UTC`).
fn absolute(ms: f64, clock: Clock) -> String {
    let d = js_sys::Date::new(&ms.into());
    if clock == Clock::Utc {
        let iso = String::from(d.to_iso_string());
        return format!(
            "{} UTC",
            iso.get(..19).unwrap_or_default().replace('T', " ")
        );
    }
    local(&d, ' ')
}

/// `d` in local time to the second, its date and time apart by `between` (`T` for a form field).
pub fn local(d: &js_sys::Date, between: char) -> String {
    format!(
        "{}-{:02}-{:02}{between}{:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

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

/// "12 s ago" (or the absolute time, as the operator chose), with the time as stored on hover.
#[component]
pub fn RelTime(at: String) -> impl IntoView {
    let live = use_live();
    let clock = expect_context::<RwSignal<Clock>>();
    let then = parse_ms(&at);
    let raw = at.clone();
    let text = move || match (then, clock.get()) {
        (Some(t), Clock::Relative) => format!("{} ago", span((live.now.get() - t) / 1000.0)),
        (Some(t), shown) => absolute(t, shown),
        (None, _) => raw.clone(),
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
