//! The audit log (admin): who did what, when, from where. Filters live in the URL; the same view
//! exports as CSV.

use crate::api::{self, ApiFail};
use crate::nav::{encode, navigate, query_string, use_location};
use hermod_shared::console::AuditRecord;
use leptos::prelude::*;

const FILTERS: [(&str, &str); 5] = [
    ("actor", "Actor"),
    ("type", "Action"),
    ("q", "Text"),
    ("since", "Since (RFC 3339)"),
    ("until", "Until"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let nav = use_location();
    let rows = RwSignal::new(Vec::<AuditRecord>::new());
    let next = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<ApiFail>);
    let loading = RwSignal::new(true);
    // The filters as an encoded query string, straight from the URL.
    let filter_qs = Memo::new(move |_| {
        nav.with(|l| {
            query_string(
                FILTERS
                    .iter()
                    .map(|(key, _)| (*key, l.param(key).unwrap_or_default())),
            )
        })
    });
    let load = move |cursor: Option<String>| {
        let qs = filter_qs.get_untracked();
        loading.set(true);
        leptos::task::spawn_local(async move {
            let mut full = format!("limit=100&{qs}");
            if let Some(c) = &cursor {
                full.push_str(&format!("&cursor={}", encode(c)));
            }
            match api::audit(&full).await {
                Ok(page) => {
                    failure.set(None);
                    if cursor.is_some() {
                        rows.update(|r| r.extend(page.items));
                    } else {
                        rows.set(page.items);
                    }
                    next.set(page.next_cursor);
                }
                Err(e) => failure.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        filter_qs.track();
        load(None);
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(t).ok())
        else {
            return;
        };
        let value = |key: &str| {
            form.elements()
                .named_item(key)
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(e).ok())
                .map(|i| i.value())
                .unwrap_or_default()
        };
        let qs = query_string(FILTERS.iter().map(|(key, _)| (*key, value(key))));
        navigate(&format!("/audit?{qs}"));
    };
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Audit log"</h1>
                <a class="button" id="audit-export" href=move || format!("/api/audit/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
            </header>
            <form class="filters" on:submit=apply aria-label="Filter the audit log">
                {FILTERS.iter().map(|(key, label)| view! {
                    <label>
                        {*label}
                        <input name=*key prop:value=move || nav.with(|l| l.param(key).unwrap_or_default())/>
                    </label>
                }).collect_view()}
                <button type="submit">"Filter"</button>
            </form>
            {move || failure.get().map(|e| view! { <p class="error" role="alert">{format!("Cannot load the audit log: {e}")}</p> })}
            <table class="grid" id="audit" aria-busy=move || loading.get().to_string()>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Actor"</th><th scope="col">"From"</th>
                    <th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Outcome"</th>
                    <th scope="col">"Detail"</th>
                </tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|a| a.id let:a>
                        <tr data-action=a.action.clone()>
                            <td class="mono" title=a.request_id.clone().unwrap_or_default()>{a.at.clone()}</td>
                            <td>{format!("{} ({})", a.actor, a.actor_kind)}</td>
                            <td class="mono">{a.source.clone()}</td>
                            <td>{a.action.clone()}</td>
                            <td class="mono">{a.target.clone().unwrap_or_default()}</td>
                            <td><span class=format!("tag outcome-{}", a.outcome)>{a.outcome.clone()}</span></td>
                            <td class="mono detail">{a.detail.to_string()}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            <Show when=move || loading.get()>
                <p class="loading">"Loading the audit log…"</p>
            </Show>
            <Show when=move || !loading.get() && rows.with(Vec::is_empty) && failure.with(Option::is_none)>
                <p class="empty">"No audit entries match."</p>
            </Show>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" on:click=move |_| load(next.get_untracked())>"Load more"</button>
            </Show>
        </section>
    }
}
