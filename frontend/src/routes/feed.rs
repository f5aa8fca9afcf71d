//! The live feed: every command change and every callback, as it happens. Paused, or scrolled down
//! to read, it stands still and counts what arrives instead; filters live in the URL.

use crate::components::state_badge::StateBadge;
use crate::components::time::RelTime;
use crate::live::{Conn, use_live};
use crate::nav::{Route, navigate, query_string, use_location};
use hermod_shared::console::{CommandState, FeedEvent, MISROUTED};
use hermod_shared::hermod::CommandType;
use leptos::prelude::*;

/// The feed's filters, as URL parameters.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    kind: String,
    ty: String,
    client: String,
    state: String,
    /// Text in an event's ids, type, client, reason or callback body, in any case.
    q: String,
}

/// What the text filter looks in: a command's id, externalId, commandId and reason; a callback's
/// body, externalId and commandId.
fn searched(e: &FeedEvent) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    match e {
        FeedEvent::Callback { callback: c, .. } => {
            format!("{} {} {}", c.body, o(&c.external_id), o(&c.command_id))
        }
        FeedEvent::Command { command: c, .. } | FeedEvent::Overdue { command: c, .. } => format!(
            "#{} {} {} {}",
            c.id,
            o(&c.external_id),
            o(&c.command_id),
            o(&c.reason)
        ),
    }
}

impl Filters {
    fn matches(&self, e: &FeedEvent) -> bool {
        let (ty, client, state) = match e {
            FeedEvent::Callback { callback: c, .. } => (
                c.callback_type.as_str(),
                c.client.as_deref().unwrap_or(""),
                c.state.clone().unwrap_or_default(),
            ),
            FeedEvent::Command { command: c, .. } | FeedEvent::Overdue { command: c, .. } => (
                c.command_type.as_str(),
                c.client.as_str(),
                c.state.as_str().to_string(),
            ),
        };
        let kind = e.name();
        let ok = |want: &str, have: &str| want.is_empty() || want.eq_ignore_ascii_case(have);
        ok(&self.kind, kind)
            && ok(&self.ty, ty)
            && ok(&self.client, client)
            && ok(&self.state, &state)
            // The text only when asked for: a callback's body is up to 16 KiB, and every event
            // is looked at again as each new one comes.
            && (self.q.is_empty()
                || format!("{} {ty} {client}", searched(e))
                    .to_ascii_lowercase()
                    .contains(&self.q.to_ascii_lowercase()))
    }

    fn query(&self) -> String {
        query_string([
            ("kind", self.kind.clone()),
            ("type", self.ty.clone()),
            ("client", self.client.clone()),
            ("state", self.state.clone()),
            ("q", self.q.clone()),
        ])
    }
}

#[component]
pub fn FeedPage() -> impl IntoView {
    let live = use_live();
    let nav = use_location();
    let filters = Memo::new(move |_| {
        nav.with(|l| Filters {
            kind: l.param("kind").unwrap_or_default(),
            ty: l.param("type").unwrap_or_default(),
            client: l.param("client").unwrap_or_default(),
            state: l.param("state").unwrap_or_default(),
            q: l.param("q").unwrap_or_default(),
        })
    });
    // Paused: the newest sequence shown; what is newer waits, counted.
    let paused_at = RwSignal::new(None::<i64>);
    let newest = move || {
        live.events
            .with_untracked(|e| e.first().map(FeedEvent::seq).unwrap_or(0))
    };
    // Scrolled down to read: the same, until back at the top, so rows do not move under the reader.
    let held_at = RwSignal::new(None::<i64>);
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| {
        let down = window().scroll_y().unwrap_or_default() > 120.0;
        if down != held_at.with_untracked(Option::is_some) {
            held_at.set(down.then(newest));
        }
    });
    on_cleanup(move || scrolled.remove());
    let until = move || paused_at.get().or(held_at.get());
    // Shown: what the filters let through, up to the pause.
    let visible =
        move |e: &FeedEvent| until().is_none_or(|u| e.seq() <= u) && filters.with(|f| f.matches(e));
    // A callback matched late comes again as a newer event: only its newest version is shown (the
    // events are newest first), so it is neither listed twice nor left marked unmatched.
    let shown = move || {
        live.events.with(|events| {
            let mut seen = Vec::new();
            events
                .iter()
                .filter(|e| visible(e))
                .filter(|e| match e {
                    FeedEvent::Callback { callback, .. } if seen.contains(&callback.id) => false,
                    FeedEvent::Callback { callback, .. } => {
                        seen.push(callback.id);
                        true
                    }
                    _ => true,
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let none_shown = move || live.events.with(|events| !events.iter().any(visible));
    let waiting = move || match until() {
        Some(u) => {
            let f = filters.get();
            live.events.with(|events| {
                events
                    .iter()
                    .filter(|e| e.seq() > u && f.matches(e))
                    .count()
            })
        }
        None => 0,
    };
    let toggle = move |_| {
        if paused_at.get_untracked().is_some() {
            paused_at.set(None);
        } else {
            paused_at.set(Some(newest()));
        }
    };
    let set = move |field: fn(&mut Filters) -> &mut String, value: String| {
        let mut f = filters.get_untracked();
        *field(&mut f) = value;
        navigate(&format!("/?{}", f.query()));
    };
    let select = move |id: &'static str,
                       label: &'static str,
                       field: fn(&mut Filters) -> &mut String,
                       options: Vec<String>| {
        view! {
            <label>
                {label}
                <select
                    id=id
                    data-search=(id == "feed-kind").then_some("")
                    prop:value=move || { let mut f = filters.get(); field(&mut f).clone() }
                    on:change=move |ev| set(field, event_target_value(&ev))
                >
                    <option value="">"all"</option>
                    {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let types: Vec<String> = CommandType::ALL
        .iter()
        .map(|t| t.as_str().to_string())
        .collect();
    let states: Vec<String> = CommandState::KNOWN
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    // Every configured client, and any other the feed brought (a callback's client as posted).
    let configured = LocalResource::new(crate::api::clients);
    let clients = move || {
        let mut c: Vec<String> = live.events.with(|events| {
            events
                .iter()
                .filter_map(|e| match e {
                    FeedEvent::Callback { callback, .. } => callback.client.clone(),
                    e => e.command().map(|c| c.client.clone()),
                })
                .chain(
                    configured
                        .get()
                        .and_then(Result::ok)
                        .into_iter()
                        .flatten()
                        .map(|c| c.id),
                )
                .collect()
        });
        c.sort();
        c.dedup();
        c
    };
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Live feed"</h1>
                <button type="button" id="feed-pause" class:primary=move || paused_at.get().is_some() on:click=toggle>
                    {move || if paused_at.get().is_some() { "Resume" } else { "Pause" }}
                    <Show when=move || { waiting() > 0 }>
                        " " <span class="count" id="feed-waiting" aria-label="new events waiting">{waiting}</span>
                    </Show>
                </button>
                <span class="hint">{move || match (paused_at.get(), held_at.get()) {
                    (Some(_), _) => "Paused: new events are counted, not shown.",
                    (None, Some(_)) => "Held while you read below: back at the top, it follows again.",
                    (None, None) => "Following the newest.",
                }}</span>
            </header>
            <Show when=move || { held_at.get().is_some() && paused_at.get().is_none() && waiting() > 0 }>
                <button type="button" class="pill" id="feed-new" on:click=|_| window().scroll_to_with_x_and_y(0.0, 0.0)>
                    {move || format!("↑ {} new", waiting())}
                </button>
            </Show>
            <form class="filters" aria-label="Filter the feed" on:submit=|ev| ev.prevent_default()>
                {select("feed-kind", "Kind", |f| &mut f.kind, vec!["command".into(), "callback".into(), "overdue".into()])}
                {select("feed-type", "Type", |f| &mut f.ty, types)}
                {move || select("feed-client", "Client", |f| &mut f.client, clients())}
                {select("feed-state", "State", |f| &mut f.state, states)}
                <label>
                    "Text"
                    <input id="feed-q" type="search" maxlength="256" placeholder="externalId, commandId, body…"
                        prop:value=move || filters.get().q on:change=move |ev| set(|f| &mut f.q, event_target_value(&ev))/>
                </label>
            </form>
            <Show when=move || live.events.with(Vec::is_empty)>
                {move || match live.conn.get() {
                    Conn::Live => view! {
                        <p class="empty">"Nothing yet. Send a command and its callback will show up here."</p>
                    }.into_any(),
                    Conn::Connecting => view! { <p class="loading">"Connecting to the live feed…"</p> }.into_any(),
                    Conn::Reconnecting => view! {
                        <p class="error" role="alert">
                            "Cannot reach the console's live feed; retrying every few seconds. Check that the console is running."
                        </p>
                    }.into_any(),
                }}
            </Show>
            <Show when=move || !live.events.with(Vec::is_empty) && none_shown()>
                <p class="empty">"No events match these filters. " <a href="/">"Show everything"</a></p>
            </Show>
            <ol class="feed" aria-live="polite" aria-label="Feed events">
                <For each=shown key=|e| e.seq() let:event>
                    <li><FeedRow event=event/></li>
                </For>
            </ol>
        </section>
    }
}

#[component]
fn FeedRow(event: FeedEvent) -> impl IntoView {
    let kind = event.name();
    let (seq, at, client, ty, state, reason, command, command_id, external_id) = match event {
        FeedEvent::Command { seq, command } | FeedEvent::Overdue { seq, command } => (
            seq,
            command.updated_at,
            command.client,
            command.command_type,
            Some(command.state),
            command.reason,
            Some(command.id),
            command.command_id,
            command.external_id,
        ),
        FeedEvent::Callback { seq, callback } => (
            seq,
            callback.received_at,
            callback.client.unwrap_or_default(),
            callback.callback_type,
            callback.state.as_deref().map(CommandState::parse),
            None,
            callback.command,
            callback.command_id,
            callback.external_id,
        ),
    };
    let type_class = if ty == MISROUTED {
        "type misrouted"
    } else {
        "type"
    };
    let cells = view! {
        <RelTime at=at/>
        <span class="kind">{kind}</span>
        <span class="client">{client}</span>
        <span class=type_class>{ty}</span>
        <span>{state.map(|s| view! { <StateBadge state=s reason=reason/> })}</span>
        {match command {
            Some(id) => view! { <span class="mono">{format!("#{id}")}</span> }.into_any(),
            None => view! { <span class="tag warn">"unmatched"</span> }.into_any(),
        }}
        <span class="mono muted">{command_id.unwrap_or_default()}</span>
        <span class="mono muted ext" title="externalId">{external_id.unwrap_or_default()}</span>
    };
    match command {
        Some(id) => view! {
            <a class="feed-row" data-kind=kind data-seq=seq data-row="" href=Route::Command(id).href()>{cells}</a>
        }
        .into_any(),
        None => view! {
            <div class="feed-row" data-kind=kind data-seq=seq data-row="" tabindex="0">{cells}</div>
        }
        .into_any(),
    }
}
