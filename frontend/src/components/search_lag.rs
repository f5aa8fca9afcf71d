use leptos::prelude::*;

/// Says when a search could not look at the newest records yet: they are indexed moments after
/// they are stored, not while their sender waits.
#[component]
pub fn SearchLag(unindexed: RwSignal<u64>) -> impl IntoView {
    view! {
        <Show when=move || { unindexed.get() > 0 }>
            <p class="note" id="search-unindexed" role="status">
                {move || format!(
                    "The newest {} records are still being indexed and were not searched; search again in a moment.",
                    unindexed.get()
                )}
            </p>
        </Show>
    }
}
