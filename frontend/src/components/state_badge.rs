use hermod_shared::console::CommandState;
use leptos::prelude::*;

/// A state in colour and in words (never colour alone), and why a failed command failed.
#[component]
pub fn StateBadge(
    state: CommandState,
    #[prop(optional_no_strip)] reason: Option<String>,
) -> impl IntoView {
    let tone = state.tone();
    let icon = match tone {
        "ok" => "✓",
        "bad" => "✕",
        "warn" => "!",
        "progress" => "…",
        _ => "•",
    };
    view! {
        <span class=format!("badge tone-{tone}") data-state=state.to_string()>
            <span aria-hidden="true">{icon}</span>
            " "
            {state.to_string()}
        </span>
        {reason.map(|r| view! { <span class="reason" data-reason="">{r}</span> })}
    }
}
