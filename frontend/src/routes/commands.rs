//! All commands, newest first, kept current by the live feed. Filters and the search live in the URL
//! (a view can be bookmarked and shared); the backend filters, searches and pages.

use crate::api;
use crate::components::device::DevicePanel;
use crate::components::mark::{found_in, marked};
use crate::components::paged::{
    Paged, apply_filters, apply_on_change, filter_select, list_status, paged_footer, range_inputs,
    use_paged, window_select,
};
use crate::components::state_badge::StateBadge;
use crate::components::time::{Countdown, RelTime};
use crate::live::use_live;
use crate::nav::{Route, navigate, query_string, url_param, use_location};
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};
use hermod_shared::hermod::CommandType;
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// The URL parameters this page understands, in the order they are shown.
const FILTERS: [&str; 9] = [
    "q", "type", "state", "client", "reason", "device", "window", "since", "until",
];

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

/// Whether a command belongs in the filtered view; `None` when only the backend can tell (the text
/// search, the time window).
fn fits(params: &[(&str, String)], c: &CommandRecord) -> Option<bool> {
    let mut known = true;
    for (key, want) in params.iter().filter(|(_, want)| !want.is_empty()) {
        let holds = match *key {
            "type" => c.command_type.eq_ignore_ascii_case(want),
            "state" => c.state.as_str().eq_ignore_ascii_case(want),
            "client" => &c.client == want,
            _ => {
                known = false;
                true
            }
        };
        if !holds {
            return Some(false);
        }
    }
    known.then_some(true)
}

/// A click anywhere on a row opens its command, as its `#` link does (links and buttons in the row
/// keep their own).
fn open_row(ev: leptos::ev::MouseEvent) {
    let Some(at) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    if at.closest("a, button").ok().flatten().is_some() {
        return;
    }
    let id = at
        .closest("tr[data-id]")
        .ok()
        .flatten()
        .and_then(|tr| tr.get_attribute("data-id"));
    if let Some(id) = id.and_then(|id| id.parse().ok()) {
        let href = Route::Command(id).href();
        // Ctrl- or ⌘-click opens a new tab, as it would on the row's link.
        if ev.ctrl_key() || ev.meta_key() {
            let _ = window().open_with_url_and_target(&href, "_blank");
        } else {
            navigate(&href);
        }
    }
}

#[component]
pub fn CommandsPage() -> impl IntoView {
    let live = use_live();
    let nav = use_location();
    let params = Memo::new(move |_| nav.with(|l| l.params(&FILTERS)));
    let filter_qs = Memo::new(move |_| query_string(params.get()));
    let Paged { rows, paging, load } = use_paged(
        filter_qs,
        |q: String| async move { api::commands(&q).await },
        |r, items| items.into_iter().for_each(|c| upsert(r, c)),
    );
    Effect::new(move |_| {
        if let Some(command) = live
            .latest
            .get()
            .as_ref()
            .and_then(FeedEvent::command)
            .cloned()
        {
            let p = params.get_untracked();
            // `Some(newer)` when listed: a replayed event may be older than the row it is about.
            let listed = rows.with_untracked(|r| {
                r.iter()
                    .find(|c| c.id == command.id)
                    .map(|c| c.updated_at <= command.updated_at)
            });
            // Older than the last row shown while more pages exist: its place is on a page not
            // loaded yet ("Load more" brings it), not under this one with a gap before it.
            let later_page = paging.next.with_untracked(Option::is_some)
                && rows.with_untracked(|r| r.last().is_some_and(|last| command.id < last.id));
            match (listed, fits(&p, &command)) {
                // It no longer matches (a state filter, say, once the command moved on): it leaves.
                (Some(true), Some(false)) => rows.update(|r| r.retain(|c| c.id != command.id)),
                (Some(true), _) => rows.update(|r| upsert(r, command)),
                (None, Some(true)) if !later_page => rows.update(|r| upsert(r, command)),
                _ => {}
            }
        }
    });
    let clients = LocalResource::new(api::clients);
    // Rows are drawn for the search they were found by: it is part of their key.
    let q = Signal::derive(move || url_param("q"));
    let searched = move || q.with(|q| !q.is_empty());
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Commands"</h1>
                <a class="button" id="export-csv" href=move || format!("/api/commands/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
                <a class="button" id="export-json" href=move || format!("/api/commands/export?format=json&{}", filter_qs.get())>"Export JSON"</a>
            </header>
            <form class="filters" id="command-filters" on:submit=|ev| apply_filters(ev, Route::Commands, &FILTERS) on:change=apply_on_change aria-label="Filter and search the commands">
                <label>
                    "Search"
                    <input name="q" type="search" maxlength="256" id="command-search" data-search="" placeholder="text, commandId, certificate subject…" prop:value=move || url_param("q")/>
                </label>
                {filter_select("type", "Type", CommandType::ALL.iter().map(|t| t.as_str().to_string()).collect())}
                {filter_select("state", "State", CommandState::KNOWN.iter().map(|s| s.as_str().to_string()).collect())}
                {move || filter_select("client", "Client", clients.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| c.id).collect())}
                <label>"Reason"<input name="reason" maxlength="256" id="command-reason" placeholder="USER_REJECTED…" prop:value=move || url_param("reason")/></label>
                <label>"Device"<input name="device" maxlength="256" id="command-device" placeholder="profile:…" prop:value=move || url_param("device")/></label>
                {window_select()}
                {range_inputs()}
                <button type="submit" id="command-filter-apply">"Apply"</button>
                <a class="button" href="/commands">"Clear"</a>
            </form>
            {move || Some(url_param("device")).filter(|d| !d.is_empty()).map(|key| view! { <DevicePanel key=key/> })}
            {list_status(paging, "the commands")}
            <table class="commands" aria-busy=move || paging.loading.get().to_string()>
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Client"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"externalId"</th>
                        <th scope="col">"commandId"</th>
                        <th scope="col">"Age"</th>
                        {move || searched().then(|| view! { <th scope="col">"Found in"</th> })}
                    </tr>
                </thead>
                <tbody on:click=open_row>
                    <For each=move || rows.get() key=move |c| (c.id, c.updated_at.clone(), q.get_untracked()) let:c>
                        <tr data-id=c.id>
                            <td><a class="mono" data-row="" href=Route::Command(c.id).href()>{c.id}</a></td>
                            <td>{c.command_type.clone()}</td>
                            <td>{c.client.clone()}</td>
                            <td>
                                <StateBadge state=c.state.clone() reason=c.reason.clone()/>
                                {(c.state == CommandState::InProgress).then(|| c.expires_at.clone()).flatten()
                                    .map(|until| view! { " " <Countdown until=until/> })}
                            </td>
                            <td class="mono" inner_html=marked(c.external_id.as_deref().unwrap_or_default(), &q.get_untracked())></td>
                            <td class="mono" inner_html=marked(c.command_id.as_deref().unwrap_or_default(), &q.get_untracked())></td>
                            <td><RelTime at=c.created_at.clone()/></td>
                            {searched().then(|| view! { <td>{found_in(&c.matched)}</td> })}
                        </tr>
                    </For>
                </tbody>
            </table>
            {paged_footer(paging, load, "Loading commands…", Arc::new(move || view! {
                <p class="empty" id="commands-empty">
                    {move || if filter_qs.with(String::is_empty) { "No commands yet." } else { "No command matches these filters." }}
                    " " <a href="/send">"Send one"</a> "."
                </p>
            }.into_any()))}
        </section>
    }
}
