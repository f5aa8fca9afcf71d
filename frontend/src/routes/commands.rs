//! All commands, newest first, kept current by the live feed. Filters and the search live in the URL
//! (a view can be bookmarked and shared); the backend filters, searches and pages.

use crate::api::{self, ApiFail};
use crate::components::search_lag::SearchLag;
use crate::components::state_badge::StateBadge;
use crate::components::time::{Countdown, RelTime};
use crate::live::use_live;
use crate::nav::{navigate, query_string, use_location};
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};
use hermod_shared::hermod::CommandType;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The URL parameters this page understands, in the order they are shown.
const FILTERS: [&str; 6] = ["q", "type", "state", "client", "since", "until"];

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

#[component]
pub fn CommandsPage() -> impl IntoView {
    let live = use_live();
    let nav = use_location();
    let params = Memo::new(move |_| {
        nav.with(|l| {
            FILTERS
                .iter()
                .map(|k| (*k, l.param(k).unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    });
    let filter_qs = Memo::new(move |_| query_string(params.get()));
    let rows = RwSignal::new(Vec::<CommandRecord>::new());
    let next = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<ApiFail>);
    let loading = RwSignal::new(true);
    let unindexed = RwSignal::new(0);
    let load = move |cursor: Option<String>| {
        let qs = filter_qs.get_untracked();
        loading.set(true);
        leptos::task::spawn_local(async move {
            let mut query = format!("limit=100&{qs}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            match api::commands(&query).await {
                Ok(page) => {
                    failure.set(None);
                    unindexed.set(page.unindexed);
                    if cursor.is_none() {
                        rows.set(Vec::new());
                    }
                    rows.update(|r| page.items.into_iter().for_each(|c| upsert(r, c)));
                    next.set(page.next_cursor);
                }
                Err(e) => {
                    // A refused filter shows no rows: the old ones were selected by other filters.
                    if cursor.is_none() {
                        rows.set(Vec::new());
                        next.set(None);
                    }
                    failure.set(Some(e));
                }
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        filter_qs.track();
        load(None);
    });
    Effect::new(move |_| {
        if let Some(FeedEvent::Command { command, .. }) = live.latest.get() {
            let p = params.get_untracked();
            // `Some(newer)` when listed: a replayed event may be older than the row it is about.
            let listed = rows.with_untracked(|r| {
                r.iter()
                    .find(|c| c.id == command.id)
                    .map(|c| c.updated_at <= command.updated_at)
            });
            // Older than the last row shown while more pages exist: its place is on a page not
            // loaded yet ("Load more" brings it), not under this one with a gap before it.
            let later_page = next.with_untracked(Option::is_some)
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
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let value = |key: &str| {
            form.elements()
                .named_item(key)
                .and_then(|e| {
                    e.dyn_ref::<web_sys::HtmlInputElement>()
                        .map(|i| i.value())
                        .or_else(|| e.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
                })
                .unwrap_or_default()
        };
        let qs = query_string(FILTERS.iter().map(|k| (*k, value(k))));
        navigate(&format!("/commands?{qs}"));
    };
    let param = move |key: &'static str| {
        params.with(|p| {
            p.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
    };
    let select = move |key: &'static str, label: &'static str, options: Vec<String>| {
        view! {
            <label>
                {label}
                <select name=key prop:value=move || param(key)>
                    <option value="">"all"</option>
                    {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let clients = LocalResource::new(api::clients);
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Commands"</h1>
                <a class="button" id="export-csv" href=move || format!("/api/commands/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
                <a class="button" id="export-json" href=move || format!("/api/commands/export?format=json&{}", filter_qs.get())>"Export JSON"</a>
            </header>
            <form class="filters" id="command-filters" on:submit=apply aria-label="Filter and search the commands">
                <label>
                    "Search"
                    <input name="q" type="search" maxlength="256" id="command-search" data-search="" placeholder="text, commandId, certificate subject…" prop:value=move || param("q")/>
                </label>
                {select("type", "Type", CommandType::ALL.iter().map(|t| t.as_str().to_string()).collect())}
                {select("state", "State", CommandState::KNOWN.iter().map(|s| s.as_str().to_string()).collect())}
                {move || select("client", "Client", clients.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| c.id).collect())}
                <label>"Since (RFC 3339)"<input name="since" placeholder="2026-01-31T00:00:00Z" prop:value=move || param("since")/></label>
                <label>"Until"<input name="until" prop:value=move || param("until")/></label>
                <button type="submit" id="command-filter-apply">"Apply"</button>
                <a class="button" href="/commands">"Clear"</a>
            </form>
            {move || failure.get().map(|e| view! {
                <p class="error" role="alert">{format!("Cannot load the commands: {e}")}</p>
            })}
            <table class="commands" aria-busy=move || loading.get().to_string()>
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
                            <td><a class="mono" data-row="" href=format!("/commands/{}", c.id)>{c.id}</a></td>
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
            <SearchLag unindexed again=move |()| load(None)/>
            <Show when=move || loading.get()>
                <p class="loading">"Loading commands…"</p>
            </Show>
            <Show when=move || !loading.get() && rows.with(Vec::is_empty) && failure.with(Option::is_none)>
                <p class="empty" id="commands-empty">
                    {move || if filter_qs.with(String::is_empty) { "No commands yet." } else { "No command matches these filters." }}
                    " " <a href="/send">"Send one"</a> "."
                </p>
            </Show>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" id="load-more" on:click=move |_| load(next.get_untracked())>"Load more"</button>
            </Show>
        </section>
    }
}
