//! Every callback Hermod posted, those that match no command included (marked), filterable from the
//! URL as commands are, and exportable; each body's decoded material one click away.

use crate::api;
use crate::components::decoded::DecodedList;
use crate::components::json_block::JsonBlock;
use crate::components::mark::{found_in, marked};
use crate::components::paged::{
    Paged, apply_filters, apply_on_change, filter_select, list_status, paged_footer, range_inputs,
    use_paged, window_select,
};
use crate::components::state_badge::StateBadge;
use crate::components::time::RelTime;
use crate::live::use_live;
use crate::nav::{Route, query_string, url_param, use_location};
use hermod_shared::console::{CommandState, FeedEvent, MISROUTED};
use hermod_shared::hermod::CommandType;
use leptos::prelude::*;
use std::sync::Arc;

const FILTERS: [&str; 9] = [
    "q",
    "type",
    "state",
    "client",
    "unmatched",
    "device",
    "window",
    "since",
    "until",
];

/// What the backend decodes from a callback's body, asked for when first opened.
#[component]
fn Decoded(id: i64, body: String) -> impl IntoView {
    let items = RwSignal::new(None::<Result<Vec<serde_json::Value>, api::ApiFail>>);
    let open = move |_| {
        if items.with_untracked(Option::is_none) {
            leptos::task::spawn_local(
                async move { items.set(Some(api::callback_decoded(id).await)) },
            );
        }
    };
    view! {
        <details class="json" data-decoded-view="" on:toggle=open>
            <summary>"Decoded"</summary>
            {move || items.get().map(|r| match r {
                Ok(list) if list.is_empty() => view! { <p class="muted">"Nothing in this body to decode."</p> }.into_any(),
                Ok(list) => view! { <DecodedList items=list body=Some(body.clone())/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{format!("Cannot decode it: {e}")}</p> }.into_any(),
            })}
        </details>
    }
}

#[component]
pub fn CallbacksPage() -> impl IntoView {
    let live = use_live();
    let nav = use_location();
    let filter_qs = Memo::new(move |_| nav.with(|l| query_string(l.params(&FILTERS))));
    let Paged { rows, paging, load } = use_paged(
        filter_qs,
        |q: String| async move { api::callbacks(&q).await },
        |r, items| r.extend(items),
    );
    // New callbacks (and ones matched later) arrive through the feed. A listed one that no longer
    // matches (matched, under "unmatched") leaves; a new one enters an unfiltered view only.
    Effect::new(move |_| {
        if let Some(FeedEvent::Callback { callback, .. }) = live.latest.get() {
            let unfiltered = filter_qs.with_untracked(String::is_empty);
            let left = nav.with_untracked(|l| {
                l.param("unmatched").as_deref() == Some("true") && callback.command.is_some()
            });
            rows.update(|r| match r.iter().position(|c| c.id == callback.id) {
                Some(at) if left => drop(r.remove(at)),
                Some(at) => r[at] = callback,
                None if unfiltered => r.insert(0, callback),
                None => {}
            });
        }
    });
    let clients = LocalResource::new(api::clients);
    // Rows are drawn for the search they were found by: it is part of their key.
    let q = Signal::derive(move || url_param("q"));
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Callbacks"</h1>
                <a class="button" href=move || format!("/api/callbacks/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
                <a class="button" href=move || format!("/api/callbacks/export?format=json&{}", filter_qs.get())>"Export JSON"</a>
            </header>
            <form class="filters" on:submit=|ev| apply_filters(ev, Route::Callbacks, &FILTERS) on:change=apply_on_change aria-label="Filter the callbacks">
                <label>"Search"<input name="q" type="search" maxlength="256" data-search="" prop:value=move || url_param("q")/></label>
                {filter_select("type", "Type", CommandType::ALL.iter().map(|t| t.as_str()).chain([MISROUTED]).map(str::to_string).collect())}
                {filter_select("state", "State", CommandState::KNOWN.iter().map(|s| s.as_str().to_string()).collect())}
                {move || filter_select("client", "Client", clients.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|c| c.id).collect())}
                <label>"Device"<input name="device" maxlength="256" prop:value=move || url_param("device")/></label>
                <label>
                    "Matched"
                    <select name="unmatched" prop:value=move || url_param("unmatched")>
                        <option value="">"all"</option>
                        <option value="true">"unmatched only"</option>
                        <option value="false">"matched only"</option>
                    </select>
                </label>
                {window_select()}
                {range_inputs()}
                <button type="submit">"Apply"</button>
                <a class="button" href="/callbacks">"Clear"</a>
            </form>
            {list_status(paging, "the callbacks")}
            <ol class="callbacks">
                <For each=move || rows.get() key=move |c| (c.id, c.command, c.body_truncated, q.get_untracked()) let:c>
                    <li class="callback" data-id=c.id>
                        <div class="callback-head">
                            <RelTime at=c.received_at.clone()/>
                            <span>{c.client.clone().unwrap_or_default()}</span>
                            <span>{c.callback_type.clone()}</span>
                            {c.state.as_deref().map(|s| view! { <StateBadge state=CommandState::parse(s)/> })}
                            {match c.command {
                                Some(id) => view! { <a class="mono" data-row="" href=Route::Command(id).href()>{format!("command #{id}")}</a> }.into_any(),
                                None => view! { <span class="tag warn" data-row="" tabindex="0">"unmatched"</span> }.into_any(),
                            }}
                            <span class="mono muted" inner_html=marked(c.command_id.as_deref().unwrap_or_default(), &q.get_untracked())></span>
                            <span class="mono muted" title="externalId" inner_html=marked(c.external_id.as_deref().unwrap_or_default(), &q.get_untracked())></span>
                            <span class="muted">{c.auth.clone()}</span>
                            {found_in(&c.matched)}
                        </div>
                        {(c.callback_type == MISROUTED).then(|| view! {
                            <p class="warning" data-misrouted="">
                                "Posted to " {c.path.clone()} ", a path not ending in /callback/<type>: kept, but check the callback URL registered in Hermod for this client (Send page)."
                            </p>
                        })}
                        <JsonBlock label="Body".to_string() text=c.body.clone()/>
                        <Decoded id=c.id body=c.body.clone()/>
                        {c.body_truncated.then(|| {
                            let id = c.id;
                            let whole = move |_| leptos::task::spawn_local(async move {
                                match api::callback(id).await {
                                    Ok(whole) => rows.update(|r| {
                                        if let Some(row) = r.iter_mut().find(|row| row.id == id) {
                                            *row = whole;
                                        }
                                    }),
                                    Err(e) => paging.failure.set(Some(e)),
                                }
                            });
                            view! { <button type="button" data-whole-body="" on:click=whole>"The body is cut at 16 KiB: load it whole"</button> }
                        })}
                    </li>
                </For>
            </ol>
            {paged_footer(paging, load, "Loading callbacks…", Arc::new(move || view! {
                <p class="empty">"No callback matches."</p>
            }.into_any()))}
        </section>
    }
}
