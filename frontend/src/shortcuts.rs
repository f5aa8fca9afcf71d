//! Keyboard: `/` focuses the page's search, `j`/`k` move through the rows, `Enter` opens the focused
//! row (it is a link), `?` shows the list. Keys typed into a field are the field's.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

pub const HELP: [(&str, &str); 5] = [
    ("/", "focus the search or first filter"),
    ("j", "next row"),
    ("k", "previous row"),
    ("Enter", "open the focused row"),
    ("?", "show or hide this list"),
];

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

fn typing_into_field(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.get_attribute("contenteditable").is_some()
        })
}

/// Moves the focus `step` rows (links marked `data-row`) from the focused one.
fn move_focus(step: i32) {
    let Some(doc) = document() else { return };
    let Ok(rows) = doc.query_selector_all("[data-row]") else {
        return;
    };
    let count = rows.length() as i32;
    if count == 0 {
        return;
    }
    let active = doc.active_element();
    let current = (0..count).find(|i| {
        rows.item(*i as u32)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            .zip(active.clone())
            .is_some_and(|(row, a)| row == a)
    });
    let next = match current {
        Some(i) => (i + step).clamp(0, count - 1),
        None if step > 0 => 0,
        None => count - 1,
    };
    if let Some(el) = rows
        .item(next as u32)
        .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Listens for the shortcuts as long as the page lives; `help` shows or hides the list.
pub fn install(help: RwSignal<bool>) {
    let on_key =
        Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |ev: web_sys::KeyboardEvent| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || typing_into_field(&ev) {
                if ev.key() == "Escape" {
                    help.set(false);
                }
                return;
            }
            match ev.key().as_str() {
                "/" => {
                    if let Some(el) = document()
                        .and_then(|d| d.query_selector("[data-search]").ok().flatten())
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        ev.prevent_default();
                        let _ = el.focus();
                    }
                }
                "j" => move_focus(1),
                "k" => move_focus(-1),
                "?" => help.update(|h| *h = !*h),
                "Escape" => help.set(false),
                _ => {}
            }
        });
    if let Some(doc) = document() {
        let _ = doc.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    }
    on_key.forget();
}

#[component]
pub fn ShortcutHelp(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" id="shortcuts">
                <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                <dl>
                    {HELP.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                </dl>
                <button type="button" on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </Show>
    }
}
