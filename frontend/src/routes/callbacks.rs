//! Every callback Hermod posted, those that match no command included (marked), filterable from the
//! URL and exportable.

use crate::api::{self, ApiFail};
use crate::components::json_block::JsonBlock;
use crate::components::search_lag::SearchLag;
use crate::components::state_badge::StateBadge;
use crate::components::time::RelTime;
use crate::live::use_live;
use crate::nav::{navigate, query_string, use_location};
use hermod_shared::console::{CallbackRecord, CommandState, FeedEvent, MISROUTED};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

const FILTERS: [&str; 5] = ["q", "type", "client", "state", "unmatched"];

#[component]
pub fn CallbacksPage() -> impl IntoView {
    let live = use_live();
    let nav = use_location();
    let filter_qs = Memo::new(move |_| {
        nav.with(|l| query_string(FILTERS.iter().map(|k| (*k, l.param(k).unwrap_or_default()))))
    });
    let rows = RwSignal::new(Vec::<CallbackRecord>::new());
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
            match api::callbacks(&query).await {
                Ok(page) => {
                    failure.set(None);
                    unindexed.set(page.unindexed);
                    if cursor.is_some() {
                        rows.update(|r| r.extend(page.items));
                    } else {
                        rows.set(page.items);
                    }
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
        navigate(&format!(
            "/callbacks?{}",
            query_string(FILTERS.iter().map(|k| (*k, value(k))))
        ));
    };
    let param = move |key: &'static str| nav.with(|l| l.param(key).unwrap_or_default());
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Callbacks"</h1>
                <a class="button" href=move || format!("/api/callbacks/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
                <a class="button" href=move || format!("/api/callbacks/export?format=json&{}", filter_qs.get())>"Export JSON"</a>
            </header>
            <form class="filters" on:submit=apply aria-label="Filter the callbacks">
                <label>"Search"<input name="q" type="search" maxlength="256" data-search="" prop:value=move || param("q")/></label>
                <label>"Type"<input name="type" prop:value=move || param("type")/></label>
                <label>"Client"<input name="client" prop:value=move || param("client")/></label>
                <label>"State"<input name="state" prop:value=move || param("state")/></label>
                <label>
                    "Matched"
                    <select name="unmatched" prop:value=move || param("unmatched")>
                        <option value="">"all"</option>
                        <option value="true">"unmatched only"</option>
                        <option value="false">"matched only"</option>
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                <a class="button" href="/callbacks">"Clear"</a>
            </form>
            {move || failure.get().map(|e| view! { <p class="error" role="alert">{format!("Cannot load the callbacks: {e}")}</p> })}
            <ol class="callbacks">
                <For each=move || rows.get() key=|c| (c.id, c.command, c.body_truncated) let:c>
                    <li class="callback" data-id=c.id>
                        <div class="callback-head">
                            <RelTime at=c.received_at.clone()/>
                            <span>{c.client.clone().unwrap_or_default()}</span>
                            <span>{c.callback_type.clone()}</span>
                            {c.state.as_deref().map(|s| view! { <StateBadge state=CommandState::parse(s)/> })}
                            {match c.command {
                                Some(id) => view! { <a class="mono" data-row="" href=format!("/commands/{id}")>{format!("command #{id}")}</a> }.into_any(),
                                None => view! { <span class="tag warn" data-row="" tabindex="0">"unmatched"</span> }.into_any(),
                            }}
                            <span class="mono muted">{c.command_id.clone().unwrap_or_default()}</span>
                            <span class="muted">{c.auth.clone()}</span>
                        </div>
                        {(c.callback_type == MISROUTED).then(|| view! {
                            <p class="warning" data-misrouted="">
                                "Posted to " {c.path.clone()} ", a path not ending in /callback/<type>: kept, but check the callback URL registered in Hermod for this client (Send page)."
                            </p>
                        })}
                        <JsonBlock label="Body".to_string() text=c.body.clone()/>
                        {c.body_truncated.then(|| {
                            let id = c.id;
                            let whole = move |_| leptos::task::spawn_local(async move {
                                match api::callback(id).await {
                                    Ok(whole) => rows.update(|r| {
                                        if let Some(row) = r.iter_mut().find(|row| row.id == id) {
                                            *row = whole;
                                        }
                                    }),
                                    Err(e) => failure.set(Some(e)),
                                }
                            });
                            view! { <button type="button" data-whole-body="" on:click=whole>"The body is cut at 16 KiB: load it whole"</button> }
                        })}
                    </li>
                </For>
            </ol>
            <SearchLag unindexed again=move |()| load(None)/>
            <Show when=move || loading.get()><p class="loading">"Loading callbacks…"</p></Show>
            <Show when=move || !loading.get() && rows.with(Vec::is_empty) && failure.with(Option::is_none)>
                <p class="empty">"No callback matches."</p>
            </Show>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" on:click=move |_| load(next.get_untracked())>"Load more"</button>
            </Show>
        </section>
    }
}
