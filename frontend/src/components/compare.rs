//! Comparing two bodies, picked on any page: each body's **Compare** button picks it (or puts it
//! back), and a bar at the foot of every page shows what is picked and, once two are, how the second
//! differs from the first, a line per difference (`GET /api/diff`: added `+`, removed `−`, changed
//! `~`, each at its path, the material decoded from each body included). A body is named as the API
//! names it: `command:<id>` (its request), `answer:<id>`, `callback:<id>`, `poll:<id>`.

use crate::api;
use crate::components::json::{array, text};
use leptos::prelude::*;
use serde_json::Value;

/// The bodies picked, oldest first, two at most; and their comparison once asked for.
#[derive(Clone, Copy)]
pub struct Picks {
    bodies: RwSignal<Vec<String>>,
    compared: RwSignal<Option<Result<Value, String>>>,
}

pub fn provide_picks() {
    provide_context(Picks {
        bodies: RwSignal::new(Vec::new()),
        compared: RwSignal::new(None),
    });
}

#[component]
pub fn CompareButton(body: String) -> impl IntoView {
    let picks = expect_context::<Picks>();
    let (this, tag) = (body.clone(), body.clone());
    let picked = move || picks.bodies.with(|p| p.contains(&this));
    let toggle = move |_| {
        picks.compared.set(None);
        picks
            .bodies
            .update(|p| match p.iter().position(|b| *b == body) {
                Some(i) => {
                    p.remove(i);
                }
                None => {
                    p.push(body.clone());
                    if p.len() > 2 {
                        p.remove(0);
                    }
                }
            })
    };
    view! {
        <button type="button" class="small" data-compare=tag aria-pressed=move || picked().to_string() on:click=toggle>
            "Compare"
        </button>
    }
}

#[component]
pub fn CompareBar() -> impl IntoView {
    let Picks { bodies, compared } = expect_context::<Picks>();
    let compare = move |_| {
        if let [a, b] = bodies.get_untracked().as_slice() {
            let (a, b) = (a.clone(), b.clone());
            leptos::task::spawn_local(async move {
                compared.set(Some(api::diff(&a, &b).await.map_err(|e| e.to_string())));
            });
        }
    };
    let clear = move |_| {
        bodies.set(Vec::new());
        compared.set(None);
    };
    move || {
        let picked = bodies.get();
        (!picked.is_empty()).then(|| view! {
            <div class="compare-bar" id="compare-bar" role="status">
                <p>
                    {picked.join(" ↔ ")} " "
                    <button type="button" id="compare-open" class="primary" disabled=picked.len() < 2 on:click=compare>"Compare"</button>
                    " " <button type="button" class="small" on:click=clear>"Clear"</button>
                </p>
                {move || compared.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(d) => differences(d).into_any(),
                })}
            </div>
        })
    }
}

/// One line per difference: `+` added, `−` removed, `~` changed, its path, and the values.
fn differences(diff: Value) -> impl IntoView {
    let changes = array(&diff["changes"]);
    let summary = match (changes.len(), diff["more"].as_u64().unwrap_or(0)) {
        (0, _) => "The two bodies are the same.".to_string(),
        (n, 0) => format!("{n} differences:"),
        (n, more) => format!("{n} differences, and {more} more not listed:"),
    };
    view! {
        <p id="diff-summary">"A: " {text(&diff["a"]).to_string()} <br/> "B: " {text(&diff["b"]).to_string()} <br/> {summary}</p>
        <ul class="diff mono">
            {changes.into_iter().map(|c| {
                let change = text(&c["change"]).to_string();
                let (path, old, new) = (text(&c["path"]), text(&c["old"]), text(&c["new"]));
                let line = match change.as_str() {
                    "added" => format!("+ {path}  {new}"),
                    "removed" => format!("− {path}  {old}"),
                    _ => format!("~ {path}  {old} → {new}"),
                };
                view! { <li data-change=change>{line}</li> }
            }).collect_view()}
        </ul>
    }
}
