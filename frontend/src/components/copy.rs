//! Copying to the clipboard. The Clipboard API exists only in secure contexts (HTTPS, or localhost):
//! on a plain-HTTP console the button says so rather than failing without a word.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy, PartialEq)]
enum Copied {
    Not,
    Done,
    Failed,
}

/// A button that copies `text` and then says what really happened.
#[component]
pub fn CopyButton(
    text: String,
    #[prop(default = "Copy")] label: &'static str,
    #[prop(default = "Copied")] done: &'static str,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let state = RwSignal::new(Copied::Not);
    let click = move |ev: leptos::ev::MouseEvent| {
        // Inside a <summary>, the click would also open or close the block.
        ev.prevent_default();
        let text = text.clone();
        leptos::task::spawn_local(async move {
            state.set(if write(&text).await {
                Copied::Done
            } else {
                Copied::Failed
            });
        });
    };
    view! {
        <button type="button" class="copy" id=id on:click=click>
            {move || match state.get() {
                Copied::Not => label,
                Copied::Done => done,
                Copied::Failed => "Copy failed (the clipboard needs HTTPS): select the text instead",
            }}
        </button>
    }
}

/// Whether the clipboard took `text`: it is there only on a secure page, and may still refuse.
async fn write(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    let available = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|c| !c.is_undefined());
    available
        && wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(text))
            .await
            .is_ok()
}
