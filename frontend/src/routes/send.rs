//! Send a command: pick the API client and the type, fill in the form (or write the JSON), send.
//! `/send?reissue=<id>` starts from that command's request, and what is sent names it (`reissue_of`);
//! `/send?after=<id>` from the command that follows that one, filled from its result.
//!
//! The form and the JSON tab edit one body (`crate::form`). From the form, a body that breaks the
//! documented rules is not sent: each message sits next to its field. The JSON tab sends what the
//! operator wrote, as long as it is JSON, and lists what the rules say about it
//! (docs/ARCHITECTURE.md, invariant 4; invariant 4).

use crate::api::{self, ApiFail};
use crate::form::{self, Body, Editor, templates::Templates};
use crate::kept::{self, Kept};
use crate::live::use_live;
use crate::nav::{Route, navigate, use_location};
use crate::session::{allows, use_session};
use hermod_shared::console::{ClientInfo, CommandState, FeedEvent, Role, SendCommand};
use hermod_shared::examples::default_body;
use hermod_shared::hermod::{CommandType, FieldError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

#[component]
pub fn SendPage() -> impl IntoView {
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
                <SendForm/>
            </Show>
        </section>
    }
}

/// Where the tab keeps its drafts (`kept.rs`): the type last edited, and a body per type.
const DRAFT_TYPE: &str = "hermod-console-draft-type";

fn draft_key(t: CommandType) -> String {
    format!("hermod-console-draft-{}", t.as_str())
}

/// The draft kept for `t`, if the tab left one.
fn draft(t: CommandType) -> Option<Value> {
    kept::get(Kept::InTab, &draft_key(t)).and_then(|d| serde_json::from_str(&d).ok())
}

#[component]
fn SendForm() -> impl IntoView {
    let clients = LocalResource::new(api::clients);
    let client = RwSignal::new(String::new());
    // The draft the tab left here last (its type and body), or a sign's example.
    let last = kept::get(Kept::InTab, DRAFT_TYPE).and_then(|t| CommandType::parse(&t));
    let ty = RwSignal::new(last.unwrap_or(CommandType::Sign));
    let body = Body::new(
        ty,
        draft(ty.get_untracked()).unwrap_or_else(|| default_body(ty.get_untracked())),
    );
    let reissue_of = RwSignal::new(None::<i64>);
    // The re-issued command's externalId, to warn when the new one keeps it.
    let origin_external_id = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    // The command this send was recorded as, from the feed, before Hermod answers: (client, type,
    // externalId) of what is being sent, then its id.
    let pending = StoredValue::new(None::<(String, String, Option<String>)>);
    let recorded = RwSignal::new(None::<i64>);
    let live = use_live();
    Effect::new(move |_| {
        if let Some(FeedEvent::Command { command: c, .. }) = live.latest.get()
            && c.state == CommandState::Sending
            && pending.with_value(|p| {
                p.as_ref()
                    == Some(&(
                        c.client.clone(),
                        c.command_type.clone(),
                        c.external_id.clone(),
                    ))
            })
        {
            pending.set_value(None);
            recorded.set(Some(c.id));
        }
    });
    let failure = RwSignal::new(None::<ApiFail>);
    // Why the page did not send, or could not do what was asked, in words.
    let notice = RwSignal::new(None::<String>);
    // What `?after=` filled in, and what is left to the operator.
    let filled = RwSignal::new(None::<String>);
    // Loads a command to edit: its client, its type (one the console has no form for is written in
    // the JSON tab) and its body.
    let load = move |to: String, kind: String, request: serde_json::Value| {
        client.set(to);
        body.set_type(kind);
        body.replace(request);
    };

    // Until the operator picks one, the first configured client.
    Effect::new(move |_| {
        if let Some(Ok(list)) = clients.get()
            && client.with_untracked(String::is_empty)
            && let Some(first) = list.first()
        {
            client.set(first.id.clone());
        }
    });

    // `?reissue=<id>`: that command's client, type and request, ready to edit. Leaving it starts afresh.
    let nav = use_location();
    Effect::new(move |_| match nav.with(|l| l.param("reissue")) {
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => spawn_local(async move {
                match api::command(id, false).await {
                    Ok(detail) => {
                        let c = detail.command;
                        origin_external_id.set(c.external_id);
                        load(c.client, c.command_type, c.request);
                        reissue_of.set(Some(c.id));
                    }
                    Err(e) => {
                        notice.set(Some(format!("Cannot load command #{id} to re-issue: {e}")))
                    }
                }
            }),
            Err(_) => notice.set(Some(format!("“{raw}” is not a command id to re-issue."))),
        },
        None => {
            if reissue_of.get_untracked().is_some() {
                reissue_of.set(None);
                body.custom.set(None);
                body.replace(default_body(ty.get_untracked()));
            }
        }
    });

    // `?after=<id>`: the command that follows that one in its use case, filled from its result.
    Effect::new(move |_| {
        let Some(raw) = nav.with(|l| l.param("after")) else {
            filled.set(None);
            return;
        };
        let Ok(id) = raw.parse::<i64>() else {
            notice.set(Some(format!("“{raw}” is not a command id.")));
            return;
        };
        spawn_local(async move {
            match api::next(id).await {
                Ok(next) => {
                    let text = |k: &str| next[k].as_str().unwrap_or_default().to_string();
                    load(text("client"), text("type"), next["body"].clone());
                    filled.set(Some(text("note")));
                }
                Err(e) => notice.set(Some(format!("Nothing to fill from command #{id}: {e}"))),
            }
        });
    });

    let change_type = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        let Some(t) = CommandType::parse(&chosen) else {
            // A custom type: its body is the operator's to write, under the header already set up.
            let header = body
                .value
                .with_untracked(|v| v.get("commandHeader").cloned());
            body.custom.set(Some(chosen));
            body.replace(serde_json::json!({ "commandHeader": header.unwrap_or_else(|| serde_json::json!({})) }));
            return;
        };
        body.custom.set(None);
        // The draft left for that type; else its example, under the header the operator already
        // set up.
        let next = draft(t).unwrap_or_else(|| {
            let mut example = default_body(t);
            if let Some(header) = body
                .value
                .with_untracked(|v| v.get("commandHeader").cloned())
            {
                example["commandHeader"] = header;
            }
            example
        });
        ty.set(t);
        body.replace(next);
    };
    // Every change is kept for the tab, by type: a switch of type, Back or a reload loses nothing.
    Effect::new(move |_| {
        if body.custom.with(Option::is_none) {
            let t = ty.get();
            kept::set(Kept::InTab, DRAFT_TYPE, t.as_str());
            kept::set(
                Kept::InTab,
                &draft_key(t),
                &body.value.with(Value::to_string),
            );
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        notice.set(None);
        body.refused.set(None);
        if let Some(e) = body.text_error.get_untracked() {
            notice.set(Some(format!("The body is not JSON: {e}")));
            return;
        }
        // From the form, what breaks the documented rules is not sent (the JSON tab sends as written).
        if !body.raw.get_untracked() {
            let problems = body.problems();
            if let Some(first) = problems.first() {
                let n = problems.len();
                notice.set(Some(format!(
                    "Not sent: {n} {} to fix, each shown next to its field.",
                    if n == 1 { "thing" } else { "things" }
                )));
                form::show_field(&first.pointer);
                return;
            }
        }
        let command = SendCommand {
            client: client.get_untracked(),
            command_type: body.type_name(),
            body: body.value.get_untracked(),
            reissue_of: reissue_of.get_untracked(),
        };
        let external_id = command
            .body
            .pointer("/commandHeader/externalId")
            .and_then(Value::as_str);
        pending.set_value(Some((
            command.client.clone(),
            command.command_type.clone(),
            external_id.map(str::to_string),
        )));
        recorded.set(None);
        sending.set(true);
        spawn_local(async move {
            match api::send(&command).await {
                Ok(record) => {
                    // Sent: the next visit starts from the example, not from what went (with its
                    // externalId).
                    kept::set(Kept::InTab, &draft_key(ty.get_untracked()), "");
                    navigate(&Route::Command(record.id).href());
                }
                Err(e) => {
                    // A refused field of the body is shown next to it too (the detail names it).
                    let refused = e.problem().and_then(|p| {
                        let field = p.field.as_deref()?;
                        let ptr = field.strip_prefix("/body")?;
                        let said = p.detail.strip_prefix(&format!("{field}: "));
                        (ptr.is_empty() || ptr.starts_with('/'))
                            .then(|| FieldError::new(ptr, said.unwrap_or(&p.detail)))
                    });
                    if let Some(r) = &refused
                        && !body.raw.get_untracked()
                    {
                        form::show_field(&r.pointer);
                    }
                    body.refused.set(refused);
                    failure.set(Some(e));
                    // The answer sits below the form: brought into view, not left below the fold.
                    request_animation_frame(|| {
                        if let Some(el) = crate::dom::by_id("send-error") {
                            el.scroll_into_view();
                        }
                    });
                }
            }
            // `try_`: the page may have been left while the send was out.
            pending.try_set_value(None);
            sending.set(false);
        });
    };

    let chosen = move || {
        let id = client.get();
        clients
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|c| c.id == id))
    };
    view! {
        {move || reissue_of.get().map(|id| view! {
            <p class="reissue" role="status">
                "Re-issuing " <a href=Route::Command(id).href()>{format!("command #{id}")}</a>
                ": its request is loaded below, to edit; what you send names it. "
                <a href="/send">"Start afresh"</a>
            </p>
            {move || {
                let kept = origin_external_id.get().filter(|o| {
                    body.value.with(|v| v.pointer("/commandHeader/externalId").and_then(|e| e.as_str()) == Some(o.as_str()))
                });
                kept.map(|o| view! {
                    <p class="warning" role="alert" id="reused-external-id">
                        {format!("The externalId “{o}” is #{id}'s too: neither you nor the console (for a send whose answer never comes) can tell the two apart by it. Give this one its own.")}
                    </p>
                })
            }}
        })}
        {move || filled.get().map(|note| view! { <p class="reissue" role="status" id="filled">{note}</p> })}
        <Templates body=body client=client/>
        <form class="send-form" on:submit=submit novalidate>
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
            {move || chosen().map(|c| view! { <ClientCallback client=c/> })}
            <div class="row">
                <label for="send-type">"Command"</label>
                <select id="send-type" prop:value=move || body.type_name() on:change=change_type>
                    {CommandType::ALL
                        .into_iter()
                        .map(|t| view! { <option value=t.as_str()>{t.as_str()}</option> })
                        .collect_view()}
                    {move || chosen().map(|c| c.custom_commands.into_iter().map(|t| view! {
                        <option value=t.clone()>{format!("{t} (custom)")}</option>
                    }).collect_view())}
                </select>
            </div>
            <Editor body=body/>
            <div class="actions">
                <button id="send-submit" type="submit" class="primary" disabled=move || sending.get()>
                    {move || if sending.get() { "Sending…" } else { "Send" }}
                </button>
                {move || recorded.get().filter(|_| sending.get()).map(|id| view! {
                    <span id="send-recorded" role="status">
                        "Recorded as " <a href=Route::Command(id).href()>{format!("#{id}")}</a> "; waiting for Hermod's answer…"
                    </span>
                })}
                <button type="button" on:click=move |_| { body.custom.set(None); body.replace(default_body(ty.get_untracked())) }>
                    "Reset to the example"
                </button>
            </div>
        </form>
        {move || notice.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || failure.get().map(|f| view! { <SendFailure failure=f/> })}
    }
}

/// Where Hermod must send this client's callbacks, and a warning when nothing authenticates them.
#[component]
fn ClientCallback(client: ClientInfo) -> impl IntoView {
    let unauthenticated = client.callback_user.is_none();
    // (verdict, what it means); an error of the console's own is "error".
    let check = RwSignal::new(None::<(String, String)>);
    let id = client.id.clone();
    let run_check = move |_| {
        let id = id.clone();
        check.set(None);
        leptos::task::spawn_local(async move {
            check.set(Some(match api::check_client(&id).await {
                Ok(c) => {
                    let text = |key: &str| c[key].as_str().unwrap_or_default().to_string();
                    (text("verdict"), text("detail"))
                }
                Err(e) => ("error".into(), e.to_string()),
            }))
        });
    };
    view! {
        <p class="client-callback" id="client-callback">
            "Hermod's callback-url for this client: " <code>{client.callback_url.clone()}</code>
            {client.callback_user.map(|u| view! { ", callback-basic-auth user " <code>{u}</code> })}
            " " <button type="button" id="client-check" on:click=run_check>"Check"</button>
            {move || check.get().map(|(verdict, text)| view! { <span data-verdict=verdict>" " {text}</span> })}
        </p>
        <details class="allowed-client">
            <summary>"Hermod's allowed-clients entry"</summary>
            <pre id="allowed-client">{client.allowed_clients_entry}</pre>
        </details>
        {unauthenticated.then(|| view! {
            <p class="warning" role="alert" id="client-unauthenticated">
                "Callbacks for this client are unauthenticated: whoever reaches "
                <code>{client.callback_url}</code>
                " can post results for it. Set callback_user and callback_password for it in the \
                 console's configuration and callback-basic-auth in Hermod's allowed-clients."
            </p>
        })}
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
                    <a href=Route::Command(r.id).href()>{format!("#{} ({})", r.id, r.state)}</a>
                    "."
                </p>
            })}
        </div>
    }
}
