//! One command's whole life: its state, where it was delivered, and the timeline of the request,
//! Hermod's answer, every callback and every poll.

use crate::api::{self, ApiFail, Detail, Step};
use crate::components::compare::CompareButton;
use crate::components::copy::CopyButton;
use crate::components::decoded::DecodedList;
use crate::components::json_block::JsonBlock;
use crate::components::qr::Qr;
use crate::components::state_badge::StateBadge;
use crate::components::time::{Countdown, RelTime, parse_ms};
use crate::live::use_live;
use crate::nav::{Route, encode, set_title};
use crate::session::{allows, use_session};
use hermod_shared::console::{
    CommandState, FeedEvent, HermodReply, PollRecord, Role, TimelineEntry,
};
use leptos::prelude::*;

#[component]
pub fn CommandPage(id: Option<i64>) -> impl IntoView {
    let live = use_live();
    let id = Memo::new(move |_| id);
    let detail = RwSignal::new(None::<Detail>);
    let failure = RwSignal::new(None::<ApiFail>);
    let polling = RwSignal::new(false);
    // What the last poll found, next to its button.
    let found = RwSignal::new(None::<String>);
    let poll_failure = RwSignal::new(None::<ApiFail>);
    // Every callback and poll, once asked for; the newest at first.
    let all = RwSignal::new(false);

    let load = move || {
        let Some(id) = id.get_untracked() else {
            return;
        };
        let every = all.get_untracked();
        leptos::task::spawn_local(async move {
            match api::command(id, every).await {
                // An answer to a load from before "Show all" would take the rest away again.
                Ok(_) if every != all.get_untracked() => {}
                Ok(d) => {
                    failure.set(None);
                    // Nothing new (a replayed event, a second load): the page stays as it is, with
                    // what the operator opened or focused. A change always moves `updated_at` or
                    // adds a step.
                    let unchanged = detail.with_untracked(|shown| {
                        shown.as_ref().is_some_and(|o| {
                            o.command.updated_at == d.command.updated_at
                                && o.timeline.len() == d.timeline.len()
                                && o.omitted == d.omitted
                        })
                    });
                    if !unchanged {
                        set_title(&format!(
                            "{} #{} — {}",
                            d.command.command_type, d.command.id, d.command.state
                        ));
                        detail.set(Some(d));
                    }
                }
                Err(e) => failure.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        id.track();
        all.track();
        detail.set(None);
        found.set(None);
        load();
    });
    // Anything the feed says about this command brings the page up to date.
    Effect::new(move |_| {
        let Some(this) = id.get_untracked() else {
            return;
        };
        let concerns = match live.latest.get() {
            Some(FeedEvent::Callback { callback, .. }) => callback.command == Some(this),
            Some(e) => e.command().is_some_and(|c| c.id == this),
            None => false,
        };
        if concerns {
            load();
        }
    });
    let poll = move |_| {
        let Some(id) = id.get_untracked() else {
            return;
        };
        polling.set(true);
        poll_failure.set(None);
        found.set(None);
        leptos::task::spawn_local(async move {
            match api::poll(id).await {
                Ok(r) => found.set(Some(match r["reported"].as_str() {
                    Some(state) => format!("Hermod says {state}"),
                    None => "Hermod's answer names no state".into(),
                })),
                Err(e) => poll_failure.set(Some(e)),
            }
            polling.set(false);
            load();
        });
    };

    view! {
        <section class="page">
            {move || match (id.get(), failure.get(), detail.get()) {
                (None, _, _) => view! { <p class="error">"That is not a command id."</p> }.into_any(),
                (_, Some(e), _) => view! {
                    <p class="error" role="alert">{format!("Cannot load this command: {e}")}</p>
                }.into_any(),
                (_, None, None) => view! { <p class="loading">"Loading the command…"</p> }.into_any(),
                (_, None, Some(d)) => view! {
                    <CommandView detail=d polling=polling found=found poll=poll all=all/>
                }.into_any(),
            }}
            {move || poll_failure.get().map(|e| view! {
                <p class="error" role="alert">{format!("Poll failed: {e}")}</p>
            })}
        </section>
    }
}

/// `personal://<host>/<path>`: the same message opened in the Smart ID Mobile App
/// (docs/hermod.md §2.3).
fn mobile_link(location: &str) -> Option<String> {
    let rest = location.split_once("://")?.1;
    Some(format!("personal://{rest}"))
}

#[component]
fn CommandView(
    detail: Detail,
    polling: RwSignal<bool>,
    found: RwSignal<Option<String>>,
    poll: impl Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static,
    all: RwSignal<bool>,
) -> impl IntoView {
    let session = use_session();
    let c = detail.command;
    let id = c.id;
    let can_poll = c.command_id.is_some();
    let linkable = c.state == CommandState::SendUnknown && !can_poll;
    // The next command of its use case, filled from its result (routes/next.rs in the backend).
    let next = match (c.command_type.as_str(), &c.state) {
        ("provision", CommandState::Completed) => Some("certificate"),
        ("startpinreset", CommandState::Completed) => Some("endpinreset"),
        _ => None,
    };
    let expiry = (c.state == CommandState::InProgress)
        .then(|| c.expires_at.clone())
        .flatten();
    let sent_at = parse_ms(&c.created_at);
    let curl = detail.curl.clone();
    let destinations = c
        .destinations
        .iter()
        .cloned()
        .zip(detail.qr.into_iter().chain(std::iter::repeat(None)))
        .collect::<Vec<_>>();
    view! {
        <header class="page-head">
            <h1>
                {format!("{} #{}", c.command_type, c.id)}
                " "
                <span class="command-state"><StateBadge state=c.state.clone() reason=c.reason.clone()/></span>
            </h1>
            {expiry.map(|until| view! { <Countdown until=until/> })}
        </header>
        <dl class="facts">
            <dt>"API client"</dt><dd>{c.client.clone()}</dd>
            <dt>"commandId"</dt><dd class="mono">{c.command_id.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"externalId"</dt><dd class="mono">{c.external_id.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Sent"</dt><dd><RelTime at=c.created_at.clone()/>{c.created_by.clone().map(|u| format!(" by {u}"))}</dd>
            {c.overdue_at.clone().map(|at| view! {
                <dt>"Callback"</dt><dd><span id="overdue" class="tag warn">"overdue since " <RelTime at=at/></span></dd>
            })}
            {c.reissue_of.map(|r| view! {
                <dt>"Re-issue of"</dt><dd><a href=Route::Command(r).href()>{format!("#{r}")}</a></dd>
            })}
            {(!detail.devices.is_empty()).then(|| view! {
                <dt>"Devices"</dt>
                <dd id="devices">{detail.devices.iter().map(|k| view! { <a class="mono" href=format!("/commands?device={}", encode(k))>{k.clone()}</a> " " }).collect_view()}</dd>
            })}
            {(!detail.reissued_as.is_empty()).then(|| view! {
                <dt>"Re-issued as"</dt>
                <dd id="reissued-as">{detail.reissued_as.iter().map(|r| view! { <a href=Route::Command(*r).href()>{format!("#{r} ")}</a> }).collect_view()}</dd>
            })}
        </dl>
        <div class="actions">
            <Show when=move || allows(session, Role::Operator)>
                <button type="button" id="poll" disabled=move || polling.get() || !can_poll on:click=poll.clone()>
                    {move || if polling.get() { "Polling…" } else { "Poll Hermod" }}
                </button>
                {move || found.get().map(|f| view! { <span id="poll-found" class="muted" role="status">{f}</span> })}
                <a class="button" id="reissue" href=format!("/send?reissue={id}")>"Re-issue…"</a>
                {next.map(|t| view! {
                    <a class="button" id="next-command" href=format!("/send?after={id}")>{format!("Send the {t}…")}</a>
                })}
            </Show>
            <CopyButton text=curl id="copy-curl" label="Copy as curl" done="Copied curl"/>
        </div>
        {linkable.then(|| view! {
            <Show when=move || allows(session, Role::Operator)>
                <LinkForm id=id/>
            </Show>
        })}
        {(!destinations.is_empty()).then(|| view! {
            <h2>"Destinations"</h2>
            <ul class="destinations">
                {destinations.into_iter().map(|(d, qr)| {
                    let uri = d.uri.clone().unwrap_or_default();
                    let mobile = d.location.as_deref().and_then(mobile_link);
                    view! {
                        <li class="destination">
                            {qr.map(|code| view! { <Qr code=code label=format!("QR code of the link for {}", d.to.clone().unwrap_or_default())/> })}
                            <div>
                                <p class="mono">{d.to.clone().unwrap_or_default()}</p>
                                <p><a class="mono deep-link" href=uri.clone()>{uri.clone()}</a></p>
                                {mobile.map(|m| view! { <p><a class="mono" href=m.clone()>"Open in the Smart ID Mobile App"</a></p> })}
                                {d.location.clone().map(|l| view! { <p class="muted mono">{l}</p> })}
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        <h2>"Timeline"</h2>
        {(detail.omitted > 0).then(|| view! {
            <p class="muted" id="omitted">
                {format!("{} older callbacks and polls are not shown. ", detail.omitted)}
                <button type="button" on:click=move |_| all.set(true)>"Show all"</button>
            </p>
        })}
        <ol class="timeline">
            {detail.timeline.into_iter().map(|entry| view! { <Step entry=entry sent_at=sent_at command=id request=c.request.to_string()/> }).collect_view()}
        </ol>
    }
}

/// A command whose send ended unknown, given the commandId Hermod created it under (found in
/// Hermod's log, say): the callbacks that came for it meanwhile are matched, and the feed brings the
/// page up to date.
#[component]
fn LinkForm(id: i64) -> impl IntoView {
    let command_id = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<ApiFail>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        let typed = command_id.get_untracked();
        leptos::task::spawn_local(async move {
            if let Err(e) = api::link(id, typed).await {
                failure.set(Some(e));
            }
        });
    };
    view! {
        <p class="hint" id="send-unknown">
            "Hermod's answer never came, so whether it created this command is unknown. A callback              carrying its externalId links it by itself; if Hermod's log shows its commandId, link it here."
        </p>
        <form class="inline-form" id="link-form" on:submit=submit>
            <label>
                "Hermod created it as commandId"
                <input id="link-command-id" class="mono" required on:input=move |ev| command_id.set(event_target_value(&ev))/>
            </label>
            <button type="submit">"Link"</button>
        </form>
        {move || failure.get().map(|e| view! { <p class="error" role="alert">{format!("Not linked: {e}")}</p> })}
    }
}

fn reply_summary(r: &HermodReply) -> String {
    match (r.status, &r.error) {
        (_, Some(e)) => e.clone(),
        (Some(s), None) => format!("HTTP {s} in {} ms", r.duration_ms),
        (None, None) => "no answer".into(),
    }
}

/// One step of the timeline, with its offset from the send, what was decoded from it, and the raw
/// body.
#[component]
fn Step(entry: Step, sent_at: Option<f64>, command: i64, request: String) -> impl IntoView {
    let at = entry.at().to_string();
    // An answer is placed when it came, not when it was asked for: a 30 s answer at +30.0 s.
    let took = match &entry {
        TimelineEntry::Answer { reply, .. }
        | TimelineEntry::Poll {
            poll: PollRecord { reply, .. },
            ..
        } => reply.duration_ms as f64,
        _ => 0.0,
    };
    let offset = match (sent_at, parse_ms(&at)) {
        // Tenths by integer arithmetic: formatting a float would pull float printing into the bundle.
        (Some(s), Some(t)) => {
            let tenths = ((t + took - s) / 100.0).round() as i64;
            format!("+{}.{} s", tenths / 10, tenths.rem_euclid(10))
        }
        _ => String::new(),
    };
    // A callback's dot says its outcome in colour (its title says it in words).
    let tone = match &entry {
        TimelineEntry::Callback { callback, .. } => callback
            .state
            .as_deref()
            .map(|s| CommandState::parse(s).tone()),
        _ => None,
    };
    // How the API names the step's body, to pick it for a comparison.
    let name = match &entry {
        TimelineEntry::Sent { .. } => format!("command:{command}"),
        TimelineEntry::Answer { .. } => format!("answer:{command}"),
        TimelineEntry::Callback { callback, .. } => format!("callback:{}", callback.id),
        TimelineEntry::Poll { poll, .. } => format!("poll:{}", poll.id),
    };
    let (kind, title, body, decoded) = match entry {
        TimelineEntry::Sent { decoded, .. } => (
            "sent",
            "Sent to Hermod".to_string(),
            Some(("Request".to_string(), request)),
            decoded,
        ),
        TimelineEntry::Answer { reply, decoded } => (
            "answer",
            format!("Hermod answered: {}", reply_summary(&reply)),
            reply.body.map(|b| ("Answer".to_string(), b)),
            decoded,
        ),
        TimelineEntry::Callback { callback, decoded } => (
            "callback",
            format!(
                "Callback {} ({})",
                callback.state.clone().unwrap_or_else(|| "no state".into()),
                callback.auth
            ),
            Some(("Callback body".to_string(), callback.body)),
            decoded,
        ),
        TimelineEntry::Poll { poll, decoded } => (
            "poll",
            format!("Polled: {}", reply_summary(&poll.reply)),
            poll.reply.body.map(|b| ("Poll answer".to_string(), b)),
            decoded,
        ),
    };
    view! {
        <li class="step" data-kind=kind data-tone=tone>
            <div class="step-head">
                <span class="step-title">{title}</span>
                <RelTime at=at/>
                <span class="muted">{offset}</span>
                {body.is_some().then(|| view! { <CompareButton body=name/> })}
            </div>
            <DecodedList items=decoded body=body.as_ref().map(|(_, text)| text.clone())/>
            {body.map(|(label, text)| view! { <JsonBlock label=label text=text/> })}
        </li>
    }
}
