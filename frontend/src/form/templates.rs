//! Named templates, kept by the console and shared by everyone: save what is being edited under a
//! name, load one back into the editor, delete one. Made like the editor (see `form/mod.rs`): static
//! markup, and the list put into the select when it arrives.

use super::Body;
use crate::api;
use crate::components::ask::confirm;
use crate::dom::{self, by_id, value_of};
use hermod_shared::console::TemplateInput;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// What the last action did, or (`ok` false) why it failed.
fn say(ok: bool, text: &str) {
    if let Some(status) = by_id("template-status") {
        status.set_text_content(Some(text));
        status.set_class_name(if ok { "hint" } else { "field-error" });
    }
}

/// A template as the page uses it, read from the API's JSON: a typed reader of the whole record
/// would cost the bundle more than these few lines.
#[derive(Clone)]
struct Template {
    id: i64,
    name: String,
    client: Option<String>,
    command_type: String,
    body: Value,
}

impl Template {
    fn read(v: &Value) -> Option<Template> {
        let text = |key: &str| v[key].as_str().map(str::to_string);
        Some(Template {
            id: v["id"].as_i64()?,
            name: text("name")?,
            client: text("client"),
            command_type: text("type")?,
            body: v["body"].clone(),
        })
    }

    fn label(&self) -> String {
        match &self.client {
            Some(c) => format!("{} · {} · {c}", self.name, self.command_type),
            None => format!("{} · {}", self.name, self.command_type),
        }
    }
}

/// Puts the list into the select, keeping (or making) the choice `selected`.
fn show(l: &[Template], selected: Option<i64>) {
    let Some(select) = by_id("send-template") else {
        return;
    };
    let keep = selected.map_or_else(|| value_of(&select), |id| id.to_string());
    select.set_text_content(None);
    dom::text(&select, "option", &[("value", "")], "(choose one)");
    for t in l {
        dom::text(
            &select,
            "option",
            &[("value", &t.id.to_string())],
            &t.label(),
        );
    }
    dom::set_value(&select, &keep);
}

/// The listed templates; plain shared state, nothing renders from it.
type List = Rc<RefCell<Vec<Template>>>;

/// Fetches the list again and shows it; `selected` is then chosen in it (the template just saved).
fn reload(list: List, selected: Option<i64>) {
    spawn_local(async move {
        match api::templates().await {
            Ok(l) => {
                let l: Vec<Template> = l
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Template::read)
                    .collect();
                show(&l, selected);
                *list.borrow_mut() = l;
            }
            Err(e) => say(false, &format!("Cannot list the templates: {e}")),
        }
    })
}

#[component]
pub fn Templates(body: Body, client: RwSignal<String>) -> impl IntoView {
    let list = List::default();
    reload(list.clone(), None);
    let listed = list.clone();
    let chosen = move || {
        let id = by_id("send-template").and_then(|s| value_of(&s).parse::<i64>().ok())?;
        listed.borrow().iter().find(|t| t.id == id).cloned()
    };

    let list_for_delete = list.clone();
    let act = move |ev: web_sys::MouseEvent| {
        let Some(act) = dom::target(&ev).and_then(|t| t.get_attribute("data-act")) else {
            return;
        };
        let Some(t) = chosen() else {
            say(false, "Choose a template first.");
            return;
        };
        if act == "load" {
            body.set_type(t.command_type.clone());
            if let Some(c) = t.client {
                client.set(c);
            }
            body.replace(t.body);
            if let Some(name) = by_id("template-name") {
                dom::set_value(&name, &t.name);
            }
            say(true, &format!("Loaded “{}”.", t.name));
        } else if confirm(&format!("Delete the template “{}” for everyone?", t.name)) {
            let list = list_for_delete.clone();
            spawn_local(async move {
                match api::delete_template(t.id).await {
                    Ok(()) => say(true, &format!("Deleted “{}”.", t.name)),
                    Err(e) => say(false, &format!("Not deleted: {e}")),
                }
                reload(list, None);
            });
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = by_id("template-name")
            .map(|n| value_of(&n).trim().to_string())
            .unwrap_or_default();
        if wanted.is_empty() {
            say(false, "Name the template first.");
            return;
        }
        if body.text_error.get_untracked().is_some() {
            say(false, "The JSON does not parse; fix it first.");
            return;
        }
        // Templates are everyone's: replacing one is asked first.
        let same = list
            .borrow()
            .iter()
            .find(|t| t.name == wanted)
            .map(|t| t.id);
        if same.is_some() && !confirm(&format!("Replace the template “{wanted}” for everyone?"))
        {
            return;
        }
        let input = TemplateInput {
            name: wanted,
            client: Some(client.get_untracked()).filter(|c| !c.is_empty()),
            command_type: body.type_name(),
            body: body.value.get_untracked(),
        };
        let list = list.clone();
        spawn_local(async move {
            match api::save_template(same, &input).await {
                Ok(saved) => {
                    say(
                        true,
                        &format!("Saved “{}”.", saved["name"].as_str().unwrap_or_default()),
                    );
                    reload(list, saved["id"].as_i64());
                }
                Err(e) => say(false, &format!("Not saved: {e}")),
            }
        });
    };

    view! {
        <form class="templates" aria-label="Templates" on:submit=save on:click=act>
            <label for="send-template">"Template"</label>
            <select id="send-template">
                <option value="">"(choose one)"</option>
            </select>
            <button type="button" data-act="load">"Load"</button>
            <button type="button" class="danger" data-act="delete">"Delete"</button>
            <label for="template-name">"Save as"</label>
            <input id="template-name" autocomplete="off" placeholder="template name"/>
            <button type="submit">"Save template"</button>
            <span id="template-status" role="status"></span>
        </form>
    }
}
