//! Send a command: pick the API client and the type, edit the JSON body (it starts from a working
//! default), send. The typed forms come later; the raw body is sent exactly as written.

use crate::api::{self, ApiFail};
use crate::nav::navigate;
use crate::session::{allows, use_session};
use hermod_shared::console::Role;
use hermod_shared::console::SendCommand;
use hermod_shared::examples::default_body;
use hermod_shared::hermod::CommandType;
use leptos::prelude::*;

fn default_text(ty: CommandType) -> String {
    serde_json::to_string_pretty(&default_body(ty)).unwrap_or_default()
}

#[component]
pub fn SendPage() -> impl IntoView {
    let clients = LocalResource::new(api::clients);
    let client = RwSignal::new(String::new());
    let ty = RwSignal::new(CommandType::Sign);
    let body = RwSignal::new(default_text(CommandType::Sign));
    let sending = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiFail>);
    let local_error = RwSignal::new(None::<String>);

    // Until the operator picks one, the first configured client.
    Effect::new(move |_| {
        if let Some(Ok(list)) = clients.get()
            && client.with_untracked(String::is_empty)
            && let Some(first) = list.first()
        {
            client.set(first.id.clone());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        local_error.set(None);
        let parsed = match serde_json::from_str(&body.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                local_error.set(Some(format!("The body is not JSON: {e}")));
                return;
            }
        };
        let command = SendCommand {
            client: client.get_untracked(),
            command_type: ty.get_untracked().as_str().to_string(),
            body: parsed,
            reissue_of: None,
        };
        sending.set(true);
        leptos::task::spawn_local(async move {
            match api::send(&command).await {
                Ok(record) => navigate(&format!("/commands/{}", record.id)),
                Err(e) => failure.set(Some(e)),
            }
            sending.set(false);
        });
    };

    let session = use_session();
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Send a command"</h1>
            </header>
            <Show
                when=move || allows(session, Role::Operator)
                fallback=|| view! { <p class="error" role="alert">"Your role cannot send commands; ask an admin for the operator role."</p> }
            >
            <form class="send-form" on:submit=submit>
                <div class="row">
                    <label for="send-client">"API client"</label>
                    <select
                        id="send-client"
                        prop:value=move || client.get()
                        on:change=move |ev| client.set(event_target_value(&ev))
                    >
                        {move || match clients.get() {
                            None => vec![view! { <option value="">"loading…"</option> }.into_any()],
                            Some(Err(e)) => vec![view! { <option value="">{format!("cannot load clients: {e}")}</option> }.into_any()],
                            Some(Ok(list)) => list
                                .into_iter()
                                .map(|c| view! { <option value=c.id.clone()>{format!("{} ({})", c.label, c.id)}</option> }.into_any())
                                .collect(),
                        }}
                    </select>
                </div>
                <div class="row">
                    <label for="send-type">"Command"</label>
                    <select
                        id="send-type"
                        prop:value=move || ty.get().as_str()
                        on:change=move |ev| {
                            if let Some(t) = CommandType::parse(&event_target_value(&ev)) {
                                ty.set(t);
                                body.set(default_text(t));
                            }
                        }
                    >
                        {CommandType::ALL
                            .into_iter()
                            .map(|t| view! { <option value=t.as_str()>{t.as_str()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="row column">
                    <label for="send-body">"Body (sent to Hermod as written)"</label>
                    <textarea
                        id="send-body"
                        class="mono"
                        rows="22"
                        spellcheck="false"
                        prop:value=move || body.get()
                        on:input=move |ev| body.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <div class="actions">
                    <button id="send-submit" type="submit" class="primary" disabled=move || sending.get()>
                        {move || if sending.get() { "Sending…" } else { "Send" }}
                    </button>
                    <button type="button" on:click=move |_| body.set(default_text(ty.get_untracked()))>
                        "Reset body"
                    </button>
                </div>
            </form>
            </Show>
            {move || local_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || failure.get().map(|f| view! { <SendFailure failure=f/> })}
        </section>
    }
}

/// What went wrong, which field, and the record when the console kept one.
#[component]
fn SendFailure(failure: ApiFail) -> impl IntoView {
    let problem = failure.problem().cloned();
    let field = problem.as_ref().and_then(|p| p.field.clone());
    let record = problem.as_ref().and_then(|p| p.record.clone());
    let hermod = problem.as_ref().and_then(|p| {
        p.hermod_status
            .map(|s| (s, p.hermod_body.clone().unwrap_or_default()))
    });
    view! {
        <div class="error" role="alert" id="send-error">
            <p>{failure.to_string()}</p>
            {field.map(|f| view! { <p>"Field: " <code>{f}</code></p> })}
            {hermod.map(|(s, b)| view! { <p>{format!("Hermod answered {s}:")}</p><pre>{b}</pre> })}
            {record.map(|r| view! {
                <p>
                    "The command was recorded as "
                    <a href=format!("/commands/{}", r.id)>{format!("#{} ({})", r.id, r.state)}</a>
                    "."
                </p>
            })}
        </div>
    }
}
