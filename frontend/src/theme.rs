//! Light or dark: the system's choice until the operator picks one, which is remembered.

use crate::kept::{self, Kept};
use leptos::prelude::*;

const KEY: &str = "hermod-console-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

fn system_query() -> Option<web_sys::MediaQueryList> {
    web_sys::window()?
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
}

fn system_theme() -> Theme {
    if system_query().is_some_and(|m| m.matches()) {
        Theme::Dark
    } else {
        Theme::Light
    }
}

fn remembered() -> Option<Theme> {
    match kept::get(Kept::Always, KEY)?.as_str() {
        "light" => Some(Theme::Light),
        "dark" => Some(Theme::Dark),
        _ => None,
    }
}

fn apply(theme: Theme) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let value = if theme == Theme::Dark {
            "dark"
        } else {
            "light"
        };
        let _ = root.set_attribute("data-theme", value);
    }
}

/// Applies the remembered (or the system's) theme and returns the signal the toggle drives.
pub fn start() -> RwSignal<Theme> {
    let theme = RwSignal::new(remembered().unwrap_or_else(system_theme));
    Effect::new(move |_| apply(theme.get()));
    // Until the operator picks one, the page follows the system as it changes (at dusk, say).
    if let Some(query) = system_query() {
        use wasm_bindgen::JsCast;
        let follow = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if remembered().is_none() {
                theme.set(system_theme());
            }
        });
        let _ = query.add_event_listener_with_callback("change", follow.as_ref().unchecked_ref());
        follow.forget();
    }
    theme
}

#[component]
pub fn ThemeToggle(theme: RwSignal<Theme>) -> impl IntoView {
    let flip = move |_| {
        let next = if theme.get_untracked() == Theme::Dark {
            Theme::Light
        } else {
            Theme::Dark
        };
        kept::set(
            Kept::Always,
            KEY,
            if next == Theme::Dark { "dark" } else { "light" },
        );
        theme.set(next);
    };
    let label = move || {
        if theme.get() == Theme::Dark {
            "Light theme"
        } else {
            "Dark theme"
        }
    };
    view! {
        <button type="button" id="theme-toggle" on:click=flip aria-label=label title=label>
            {move || if theme.get() == Theme::Dark { "☀" } else { "☾" }}
        </button>
    }
}
