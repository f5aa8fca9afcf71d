//! Light or dark: the system's choice until the operator picks one, which is remembered.

use leptos::prelude::*;

const KEY: &str = "hermod-console-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn system_prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

fn remembered() -> Option<Theme> {
    match storage()?.get_item(KEY).ok()??.as_str() {
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
    let initial = remembered().unwrap_or(if system_prefers_dark() {
        Theme::Dark
    } else {
        Theme::Light
    });
    let theme = RwSignal::new(initial);
    Effect::new(move |_| apply(theme.get()));
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
        if let Some(s) = storage() {
            let _ = s.set_item(KEY, if next == Theme::Dark { "dark" } else { "light" });
        }
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
