//! The login page: the only thing shown without a session.

use crate::api::{self, ApiFail};
use crate::session::{SessionState, use_session};
use hermod_shared::console::Login;
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFail>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        failure.set(None);
        let login = Login {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::login(&login).await {
                Ok(info) => {
                    api::set_csrf(info.csrf_token.clone());
                    session.set(SessionState::LoggedIn(info));
                }
                Err(e) => {
                    password.set(String::new());
                    failure.set(Some(e));
                }
            }
            busy.set(false);
        });
    };
    let message = move || {
        failure.get().map(|f| match &f {
            ApiFail::Problem { status: 401, .. } => "Wrong username or password.".to_string(),
            ApiFail::Problem {
                status: 429,
                problem,
            } => problem.detail.clone(),
            other => other.to_string(),
        })
    };
    view! {
        <main class="login">
            <form class="login-form" on:submit=submit>
                <h1>"Hermod Console"</h1>
                <label for="login-username">"Username"</label>
                <input
                    id="login-username"
                    autocomplete="username"
                    required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <button id="login-submit" type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Logging in…" } else { "Log in" }}
                </button>
                {move || message().map(|m| view! { <p class="error" role="alert" id="login-error">{m}</p> })}
            </form>
        </main>
    }
}
