//! The live feed: every command change and every callback, as it happens.

use crate::components::state_badge::StateBadge;
use crate::components::time::RelTime;
use crate::live::use_live;
use hermod_shared::console::{CommandState, FeedEvent};
use leptos::prelude::*;

#[component]
pub fn FeedPage() -> impl IntoView {
    let live = use_live();
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Live feed"</h1>
                <p class="hint">"Commands and callbacks as they happen."</p>
            </header>
            <Show when=move || live.events.with(Vec::is_empty)>
                <p class="empty">"Nothing yet. Send a command and its callback will show up here."</p>
            </Show>
            <ol class="feed" aria-live="polite" aria-label="Feed events">
                <For each=move || live.events.get() key=|e| e.seq() let:event>
                    <FeedRow event=event/>
                </For>
            </ol>
        </section>
    }
}

#[component]
fn FeedRow(event: FeedEvent) -> impl IntoView {
    match event {
        FeedEvent::Command { seq, command } => view! {
            <li class="feed-row" data-kind="command" data-seq=seq>
                <RelTime at=command.updated_at.clone()/>
                <span class="kind">"command"</span>
                <span class="client">{command.client.clone()}</span>
                <span class="type">{command.command_type.clone()}</span>
                <StateBadge state=command.state.clone()/>
                <a class="mono" href=format!("/commands/{}", command.id)>{format!("#{}", command.id)}</a>
                <span class="mono muted">{command.command_id.clone().unwrap_or_default()}</span>
            </li>
        }
        .into_any(),
        FeedEvent::Callback { seq, callback } => {
            let state = callback.state.as_deref().map(CommandState::parse);
            let target = match callback.command {
                Some(id) => view! {
                    <a class="mono" href=format!("/commands/{id}")>{format!("#{id}")}</a>
                }
                .into_any(),
                None => view! { <span class="tag warn">"unmatched"</span> }.into_any(),
            };
            view! {
                <li class="feed-row" data-kind="callback" data-seq=seq>
                    <RelTime at=callback.received_at.clone()/>
                    <span class="kind">"callback"</span>
                    <span class="client">{callback.client.clone().unwrap_or_default()}</span>
                    <span class="type">{callback.callback_type.clone()}</span>
                    {state.map(|s| view! { <StateBadge state=s/> })}
                    {target}
                    <span class="mono muted">{callback.command_id.clone().unwrap_or_default()}</span>
                </li>
            }
            .into_any()
        }
    }
}
