use leptos::prelude::*;
use std::time::Duration;

/// Says when a search could not look at the newest records yet (they are indexed moments after
/// they are stored, not while their sender waits), and searches again a moment later by itself.
#[component]
pub fn SearchLag(unindexed: RwSignal<u64>, #[prop(into)] again: Callback<()>) -> impl IntoView {
    Effect::new(move |_| {
        if unindexed.get() > 0 {
            set_timeout(move || again.run(()), Duration::from_secs(1));
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
    }
}
