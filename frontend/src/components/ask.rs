//! Asking before acting: a yes or no for what cannot be undone or changes who may do what, and a
//! masked dialog for a new password (never `window.prompt`, which shows it as typed).

use crate::api::ApiFail;
use leptos::prelude::*;
use std::future::Future;

pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// A new password for `who`, typed twice, masked. `set` sends it; a refusal (too short, say) keeps
/// the dialog open with the reason and what was typed; `done` closes it, with what to say when the
/// password was set.
#[component]
pub fn PasswordDialog<F, Fut>(who: String, set: F, done: Callback<Option<String>>) -> impl IntoView
where
    F: Fn(String) -> Fut + Copy + 'static,
    Fut: Future<Output = Result<(), ApiFail>> + 'static,
{
    let (first, again) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<String>);
    let said = format!("Password set for {who}.");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = first.get_untracked();
        if password != again.get_untracked() {
            problem.set(Some("The two passwords differ.".into()));
            return;
        }
        let said = said.clone();
        leptos::task::spawn_local(async move {
            match set(password).await {
                Ok(()) => done.run(Some(said)),
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let input = move |label: &'static str, value: RwSignal<String>| {
        view! {
            <label>
                {label}
                <input type="password" autocomplete="new-password" minlength="12" required
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="password-title" id="password-dialog">
            <form on:submit=submit>
                <h2 id="password-title">{format!("New password for {who}")}</h2>
                {input("Password (12+ characters)", first)}
                {input("Again", again)}
                {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
                <button type="submit" class="primary">"Set password"</button>
                <button type="button" on:click=move |_| done.run(None)>"Cancel"</button>
            </form>
        </div>
    }
}
