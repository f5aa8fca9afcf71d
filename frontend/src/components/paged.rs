//! The list pages' one paged list: the paging state and its requests (`use_paged`), the filter
//! form's submit (`apply_filters`, `apply_on_change`), its fields (`filter_select`, `window_select`,
//! `range_inputs`), the count or failure line (`list_status`) and the footer (`paged_footer`).
//! Only the rows depend on the row type; the rest is compiled once for all the lists, which keeps
//! the bundle small.

use crate::api::ApiFail;
use crate::nav::{Route, encode, navigate, query_string, url_param};
use hermod_shared::console::ListPage;
use leptos::prelude::*;
use std::future::Future;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// A list's paging, the same for every row type.
#[derive(Clone, Copy)]
pub struct Paging {
    pub next: RwSignal<Option<String>>,
    pub failure: RwSignal<Option<ApiFail>>,
    pub loading: RwSignal<bool>,
    pub unindexed: RwSignal<u64>,
    /// How many records the filters select (all pages), and whether that is only the count's cap.
    total: RwSignal<Option<(u64, bool)>>,
    /// The number of the latest request. Answers can arrive out of order (a slow search, then
    /// other filters); only the latest request's is shown.
    latest: StoredValue<i64>,
    /// Loaded, and nothing to show: no rows, no failure.
    nothing: Memo<bool>,
}

/// What an answered page says of the list: the next page's cursor, how many of the newest records
/// were not searched yet, and the count (`ListPage`).
type Settled = (Option<String>, u64, (u64, bool));

impl Paging {
    /// Numbers a new request, and gives its query: the filters, then the cursor (opaque to the
    /// page, so encoded).
    fn start(self, filters: &str, cursor: Option<&str>) -> (i64, String) {
        self.loading.set(true);
        let ticket = self.latest.get_value().wrapping_add(1);
        self.latest.set_value(ticket);
        let mut query = format!("limit=100&{filters}");
        if let Some(c) = cursor {
            query.push_str("&cursor=");
            query.push_str(&encode(c));
        }
        (ticket, query)
    }

    /// Takes in an answer's paging; whether the rows change with it. An overtaken answer changes
    /// nothing, nor does it end the loading: the latest request's answer does. A refused first
    /// page clears the rows: they were selected by other filters.
    fn settle(self, ticket: i64, more: bool, answer: Result<Settled, ApiFail>) -> bool {
        // `try_`: the page may have been left while the request was out.
        if self.latest.try_get_value() != Some(ticket) {
            return false;
        }
        self.loading.set(false);
        match answer {
            Ok((next, unindexed, total)) => {
                self.failure.set(None);
                self.total.set(Some(total));
                self.unindexed.set(unindexed);
                self.next.set(next);
                true
            }
            Err(e) => {
                self.failure.set(Some(e));
                if !more {
                    self.next.set(None);
                    self.total.set(None);
                }
                !more
            }
        }
    }
}

/// A list page's rows, its paging, and its `load`: the first page (`None`) or the one after a
/// cursor.
pub struct Paged<T: 'static> {
    pub rows: RwSignal<Vec<T>>,
    pub paging: Paging,
    pub load: Callback<Option<String>>,
}

/// The list behind `filter_qs` (an encoded query string), loaded again whenever it changes.
/// `fetch` asks the API for a page; `merge` puts a page's rows after those shown. Filters the API
/// refuses leave the list empty: no list shows rows its filters do not select.
pub fn use_paged<T, Fut>(
    filter_qs: Memo<String>,
    fetch: impl Fn(String) -> Fut + Copy + Send + Sync + 'static,
    merge: fn(&mut Vec<T>, Vec<T>),
) -> Paged<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<ListPage<T>, ApiFail>> + 'static,
{
    let rows = RwSignal::new(Vec::new());
    let failure = RwSignal::new(None);
    let loading = RwSignal::new(true);
    let paging = Paging {
        next: RwSignal::new(None),
        failure,
        loading,
        unindexed: RwSignal::new(0),
        total: RwSignal::new(None),
        latest: StoredValue::new(0),
        nothing: Memo::new(move |_| {
            !loading.get() && rows.with(Vec::is_empty) && failure.with(Option::is_none)
        }),
    };
    let load = Callback::new(move |cursor: Option<String>| {
        let more = cursor.is_some();
        let (ticket, query) = filter_qs.with_untracked(|qs| paging.start(qs, cursor.as_deref()));
        leptos::task::spawn_local(async move {
            let (answer, items) = match fetch(query).await {
                Ok(page) => (
                    Ok((
                        page.next_cursor,
                        page.unindexed,
                        (page.total, page.total_capped),
                    )),
                    page.items,
                ),
                Err(e) => (Err(e), Vec::new()),
            };
            if paging.settle(ticket, more, answer) {
                rows.update(|r| {
                    if !more {
                        r.clear();
                    }
                    merge(r, items);
                });
            }
        });
    });
    Effect::new(move |_| {
        filter_qs.track();
        load.run(None);
    });
    Paged { rows, paging, load }
}

/// The relative windows a list can show (`window=`, up to now) and the Overview offers: the URL
/// value, its label, its length in minutes.
pub const WINDOWS: [(&str, &str, u32); 4] = [
    ("15m", "last 15 min", 15),
    ("1h", "last hour", 60),
    ("24h", "last 24 h", 1440),
    ("7d", "last 7 days", 10080),
];

/// A filter form's `window` field: any time, or one of [`WINDOWS`].
pub fn window_select() -> impl IntoView {
    view! {
        <label>
            "Window"
            <select name="window" prop:value=move || url_param("window")>
                <option value="">"any time"</option>
                {WINDOWS.map(|(key, label, _)| view! { <option value=key>{label}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// A filter form's select of the URL parameter `key`: "all", then `options`.
pub fn filter_select(
    key: &'static str,
    label: &'static str,
    options: Vec<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=key prop:value=move || url_param(key)>
                <option value="">"all"</option>
                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// A time as a `datetime-local` field holds it (local, to the second); what the browser cannot
/// read stays as it is.
fn local_input(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&rfc3339.into());
    if rfc3339.is_empty() || d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    crate::components::time::local(&d, 'T')
}

/// Since and until, picked with the browser's date and time picker in local time; the URL (and the
/// API) hold them as RFC 3339 (`apply_filters`).
pub fn range_inputs() -> impl IntoView {
    let field = |key: &'static str, label: &'static str| {
        view! {
            <label>{label}<input name=key type="datetime-local" step="1" prop:value=move || local_input(&url_param(key))/></label>
        }
    };
    (field("since", "Since"), field("until", "Until"))
}

/// A filter form applies itself when a field changes (a select picked, a text field left), as the
/// feed's filters do: Apply stays for the keyboard.
pub fn apply_on_change(ev: leptos::ev::Event) {
    if let Some(form) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    {
        let _ = form.request_submit();
    }
}

/// The filter form's submit: its fields named `keys` (inputs or selects) become the query of
/// `route`'s page, as a new history entry.
pub fn apply_filters(ev: leptos::ev::SubmitEvent, route: Route, keys: &[&str]) {
    ev.prevent_default();
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let fields = form.elements();
    let value = |key: &str| {
        fields
            .named_item(key)
            .and_then(|e| {
                e.dyn_ref::<web_sys::HtmlInputElement>()
                    .map(|i| match i.type_().as_str() {
                        // Local time as picked; the API takes an instant.
                        "datetime-local" if !i.value().is_empty() => {
                            String::from(js_sys::Date::new(&i.value().into()).to_iso_string())
                        }
                        _ => i.value(),
                    })
                    .or_else(|| e.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
            })
            .unwrap_or_default()
    };
    let qs = query_string(keys.iter().map(|k| (*k, value(k))));
    navigate(&format!("{}?{qs}", route.href()));
}

/// Above the rows: how many the filters select, or why the list could not be loaded; `what` names
/// the list ("the commands"). Plain functions, not components, these two: a component's wrapping
/// costs the bundle more than it gives here.
pub fn list_status(paging: Paging, what: &'static str) -> impl IntoView {
    move || {
        match (paging.failure.get(), paging.total.get()) {
        (Some(e), _) => Some(view! { <p class="error" role="alert">{format!("Cannot load {what}: {e}")}</p> }.into_any()),
        (None, Some((n, capped))) => Some(view! {
            <p class="muted" id="list-count" role="status">{format!("{n}{} found", if capped { "+" } else { "" })}</p>
        }.into_any()),
        (None, None) => None,
    }
    }
}

/// Below the rows: the search's indexing lag, the loading line, `children` when nothing matches,
/// and "Load more" while there are more pages.
pub fn paged_footer(
    paging: Paging,
    load: Callback<Option<String>>,
    loading_text: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let Paging {
        next,
        loading,
        unindexed,
        nothing,
        ..
    } = paging;
    // A search could not look at the newest records yet (they are indexed moments after they are
    // stored, not while their sender waits): it runs again a moment later by itself. `try_`: the
    // page may be gone by then.
    Effect::new(move |_| {
        if unindexed.get() > 0 {
            set_timeout(
                move || {
                    load.try_run(None);
                },
                Duration::from_secs(1),
            );
        }
    });
    view! {
        <Show when=move || { unindexed.get() > 0 }>
            <p class="note" id="search-unindexed" role="status">
                {move || format!(
                    "The newest {} records are still being indexed and were not searched yet; searching again…",
                    unindexed.get()
                )}
            </p>
        </Show>
        <Show when=move || loading.get()>
            <p class="loading">{loading_text}</p>
        </Show>
        <Show when=move || nothing.get()>
            {children()}
        </Show>
        <Show when=move || next.with(Option::is_some)>
            <button type="button" id="load-more" on:click=move |_| load.run(next.get_untracked())>"Load more"</button>
        </Show>
    }
}
