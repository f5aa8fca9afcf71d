//! The audit log (admin): who did what, when, from where, and whether its hash chain shows it
//! untouched. Filters live in the URL; the same view exports as CSV.

use crate::api;
use crate::components::mark::found_in;
use crate::components::paged::{
    Paged, apply_filters, apply_on_change, list_status, paged_footer, range_inputs, use_paged,
    window_select,
};
use crate::nav::{Route, query_string, url_param, use_location};
use leptos::prelude::*;
use std::sync::Arc;

/// The URL parameters this page understands, and the labels of their text fields.
const FILTERS: [&str; 6] = ["actor", "type", "q", "since", "until", "window"];
const LABELS: [&str; 3] = ["Actor", "Action", "Text"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let nav = use_location();
    // The filters as an encoded query string, straight from the URL.
    let filter_qs = Memo::new(move |_| nav.with(|l| query_string(l.params(&FILTERS))));
    let Paged { rows, paging, load } = use_paged(
        filter_qs,
        |q: String| async move { api::audit(&q).await },
        |r, items| r.extend(items),
    );
    // Checked once per visit: the whole log is read, so not again on every filter.
    let chain = RwSignal::new(None::<(&str, String)>);
    leptos::task::spawn_local(async move {
        let state = match api::audit_chain().await {
            Ok(c) if c["intact"] == true => (
                "tag outcome-ok",
                format!(
                    "Hash chain intact: {} entries, head {}",
                    c["entries"],
                    c["head"].as_str().and_then(|h| h.get(..16)).unwrap_or("—")
                ),
            ),
            Ok(c) => (
                "tag outcome-failed",
                format!(
                    "Hash chain broken at entry {}: {}",
                    c["broken_at"],
                    c["reason"].as_str().unwrap_or_default()
                ),
            ),
            Err(e) => ("tag warn", format!("Hash chain not checked: {e}")),
        };
        chain.set(Some(state));
    });
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Audit log"</h1>
                <a class="button" id="audit-export" href=move || format!("/api/audit/export?format=csv&{}", filter_qs.get())>"Export CSV"</a>
                {move || chain.get().map(|(class, text)| view! { <span id="audit-chain" class=class>{text}</span> })}
            </header>
            <form class="filters" on:submit=|ev| apply_filters(ev, Route::Audit, &FILTERS) on:change=apply_on_change aria-label="Filter the audit log">
                {FILTERS.iter().zip(LABELS).map(|(key, label)| view! {
                    <label>
                        {label}
                        <input name=*key prop:value=move || url_param(key)/>
                    </label>
                }).collect_view()}
                {range_inputs()}
                {window_select()}
                <button type="submit">"Filter"</button>
            </form>
            {list_status(paging, "the audit log")}
            <table class="grid" id="audit" aria-busy=move || paging.loading.get().to_string()>
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
                            <td class="mono detail">{a.detail.to_string()} {found_in(&a.matched)}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            {paged_footer(paging, load, "Loading the audit log…", Arc::new(move || view! {
                <p class="empty">"No audit entries match."</p>
            }.into_any()))}
        </section>
    }
}
