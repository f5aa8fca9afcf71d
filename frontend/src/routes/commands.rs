//! All commands, newest first, kept current by the live feed.

use crate::api::{self, ApiFail};
use crate::components::state_badge::StateBadge;
use crate::components::time::{Countdown, RelTime};
use crate::live::use_live;
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};
use leptos::prelude::*;

/// Puts `record` in its place, unless the list already holds a newer version of it.
fn upsert(rows: &mut Vec<CommandRecord>, record: CommandRecord) {
    match rows.iter_mut().find(|r| r.id == record.id) {
        Some(existing) if existing.updated_at <= record.updated_at => *existing = record,
        Some(_) => {}
        None => {
            let at = rows
                .iter()
                .position(|r| r.id < record.id)
                .unwrap_or(rows.len());
            rows.insert(at, record);
        }
    }
}

#[component]
pub fn CommandsPage() -> impl IntoView {
    let live = use_live();
    let rows = RwSignal::new(Vec::<CommandRecord>::new());
    let failure = RwSignal::new(None::<ApiFail>);
    let loading = RwSignal::new(true);
    leptos::task::spawn_local(async move {
        match api::commands("limit=200").await {
            Ok(page) => rows.update(|r| page.items.into_iter().for_each(|c| upsert(r, c))),
            Err(e) => failure.set(Some(e)),
        }
        loading.set(false);
    });
    Effect::new(move |_| {
        if let Some(FeedEvent::Command { command, .. }) = live.latest.get() {
            rows.update(|r| upsert(r, command));
        }
    });
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Commands"</h1>
            </header>
            <Show when=move || loading.get()>
                <p class="loading">"Loading commands…"</p>
            </Show>
            {move || failure.get().map(|e| view! {
                <p class="error" role="alert">{format!("Cannot load the commands: {e}")}</p>
            })}
            <Show when=move || !loading.get() && rows.with(Vec::is_empty) && failure.with(Option::is_none)>
                <p class="empty">"No commands yet. " <a href="/send">"Send one"</a> "."</p>
            </Show>
            <table class="commands">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Client"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"externalId"</th>
                        <th scope="col">"commandId"</th>
                        <th scope="col">"Age"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|c| (c.id, c.updated_at.clone()) let:c>
                        <tr data-id=c.id>
                            <td><a class="mono" href=format!("/commands/{}", c.id)>{c.id}</a></td>
                            <td>{c.command_type.clone()}</td>
                            <td>{c.client.clone()}</td>
                            <td>
                                <StateBadge state=c.state.clone()/>
                                {(c.state == CommandState::InProgress).then(|| c.expires_at.clone()).flatten()
                                    .map(|until| view! { " " <Countdown until=until/> })}
                            </td>
                            <td class="mono">{c.external_id.clone().unwrap_or_default()}</td>
                            <td class="mono">{c.command_id.clone().unwrap_or_default()}</td>
                            <td><RelTime at=c.created_at.clone()/></td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </section>
    }
}
