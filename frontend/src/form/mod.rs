//! The send form's body editor: a Form tab and a JSON tab over one JSON value. Every field reads and
//! writes a JSON pointer inside it, and the JSON tab edits the very same value as text, so a field the
//! form does not know survives both ways. What the fields are and what they must hold comes from
//! `hermod_shared::validate`, whose rules the simulator applies too.
//!
//! Why the editor draws its own DOM rather than a Leptos view per field: in this bundle every reactive
//! binding of a `view!` costs one to three kilobytes of generic code, and the fields drawn that way came
//! to 35 KB gzip against a hard limit on the whole bundle. So the markup that never changes is a plain
//! `view!` (cheap, inert HTML), the fields are drawn from the tables by a few functions (`fields.rs`),
//! three listeners on the editor serve every field through its `data-ptr`, and one effect brings the
//! DOM up to date after every change, drawing the fields again only when the body's shape changes.

mod fields;
mod file;
pub mod templates;
mod value;

use crate::dom;
use fields::Drawn;
use hermod_shared::hermod::{CommandType, FieldError};
use hermod_shared::validate::fields as table;
use leptos::prelude::*;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use value::Change;
use web_sys::Element;

/// The body being edited, and how. Copy: the page, the editor and the templates all hold it.
#[derive(Clone, Copy)]
pub struct Body {
    pub ty: RwSignal<CommandType>,
    pub value: RwSignal<Value>,
    /// The JSON tab's text: rewritten after every form edit, the operator's own while they type there.
    pub text: RwSignal<String>,
    /// Why `text` is not JSON, while it is not; `value` then still holds the last JSON it was.
    pub text_error: RwSignal<Option<String>>,
    /// The JSON tab is open: what is sent is what the operator wrote, the rules only advise.
    pub raw: RwSignal<bool>,
    /// The console's 422 for a field of the body, until that field is edited or the next send.
    pub refused: RwSignal<Option<FieldError>>,
    /// A type the console has no form for (`custom_commands`), instead of `ty`: written in the JSON
    /// tab, and no rules apply.
    pub custom: RwSignal<Option<String>>,
}

impl Body {
    pub fn new(ty: RwSignal<CommandType>, initial: Value) -> Body {
        Body {
            ty,
            text: RwSignal::new(pretty(&initial)),
            value: RwSignal::new(initial),
            text_error: RwSignal::new(None),
            raw: RwSignal::new(false),
            refused: RwSignal::new(None),
            custom: RwSignal::new(None),
        }
    }

    /// Takes a command type by name: one the console has a form for, else a custom one (the JSON tab
    /// only).
    pub fn set_type(&self, name: String) {
        match CommandType::parse(&name) {
            Some(known) => {
                self.custom.set(None);
                self.ty.set(known);
            }
            None => self.custom.set(Some(name)),
        }
    }

    /// The type sent: the custom one, else `ty`'s.
    pub fn type_name(&self) -> String {
        self.custom
            .get()
            .unwrap_or_else(|| self.ty.get().as_str().to_string())
    }

    /// What is wrong with the body, tracked: the console's refusal first, then what the rules say.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut found: Vec<FieldError> = self.refused.get().into_iter().collect();
        if self.custom.with(Option::is_none) {
            self.value
                .with(|v| found.extend(hermod_shared::validate::check(self.ty.get(), v)));
        }
        found
    }

    /// Starts over from `v` (an example, a template, a command to re-issue).
    pub fn replace(&self, v: Value) {
        self.text.set(pretty(&v));
        self.text_error.set(None);
        self.value.set(v);
        self.refused.set(None);
    }

    /// A form edit of the field at `ptr`: `changes`, in order.
    fn edit(&self, ptr: &str, changes: Vec<Change>) {
        self.value.update(|v| {
            for c in changes {
                value::apply(v, c);
            }
        });
        self.text.set(self.value.with_untracked(pretty));
        if self
            .refused
            .with_untracked(|r| r.as_ref().is_some_and(|r| r.pointer == ptr))
        {
            self.refused.set(None);
        }
    }

    /// The JSON tab's text changed: the value follows whenever it is JSON.
    fn edit_text(&self, text: String) {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => {
                self.value.set(v);
                self.text_error.set(None);
            }
            Err(e) => self.text_error.set(Some(e.to_string())),
        }
        self.text.set(text);
    }

    /// Why the form cannot show the body, while it cannot.
    fn not_for_the_form(&self) -> Option<String> {
        self.text_error
            .get()
            .map(|e| format!("Not JSON: {e}. Fix it to go back to the form."))
            .or_else(|| {
                (!self.value.with(Value::is_object))
                    .then(|| "The form edits a JSON object, and this is not one.".to_string())
            })
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The element id of the input for the field at `ptr` (pointers hold no spaces, so they make ids).
pub fn input_id(ptr: &str) -> String {
    format!("f{ptr}")
}

/// Puts the keyboard on the first enabled element one of `selectors` finds inside `root`.
fn focus_first(root: &Element, selectors: &[String]) {
    let found = selectors.iter().find_map(|s| {
        root.query_selector(s)
            .ok()
            .flatten()
            .filter(|e| !e.has_attribute("disabled"))
    });
    if let Some(el) = found {
        dom::focus(el);
    }
}

/// Brings the field at `ptr` into view and puts the cursor in it.
pub fn show_field(ptr: &str) {
    if let Ok(Some(wrapper)) = document().query_selector(&format!("[data-field=\"{ptr}\"]")) {
        wrapper.scroll_into_view();
    }
    if let Some(input) = dom::by_id(&input_id(ptr)) {
        dom::focus(input);
    }
}

/// The Form and JSON tabs. `#send-body` (the JSON) is always in the page, behind its tab when closed.
#[component]
pub fn Editor(body: Body) -> impl IntoView {
    // Where the keyboard goes once a click's edit is drawn; plain shared state, nothing renders from it.
    let focus_next = Rc::new(RefCell::new(None::<Vec<String>>));
    let mut drawn = Drawn::default();
    let wanted_focus = focus_next.clone();
    // Runs once the editor is in the page, then after every change of what it reads.
    Effect::new(move |_| {
        // A custom type has no form: its body is written in the JSON tab.
        let custom = body.custom.with(Option::is_some);
        let raw = body.raw.get() || custom;
        let blocker = body.not_for_the_form();
        let problems = body.problems();
        let ty = body.ty.get();
        let (Some(panel), Some(json_panel), Some(json), Some(json_error), Some(advice)) = (
            dom::by_id("send-form-panel"),
            dom::by_id("send-json-panel"),
            dom::by_id("send-body"),
            dom::by_id("send-body-error"),
            dom::by_id("send-body-problems"),
        ) else {
            return;
        };
        for (id, open) in [("tab-form", !raw), ("tab-json", raw)] {
            if let Some(tab) = dom::by_id(id) {
                dom::set(&tab, "aria-selected", if open { "true" } else { "false" });
            }
        }
        if let Some(tab) = dom::by_id("tab-form") {
            dom::flag(&tab, "hidden", custom);
        }
        dom::flag(&panel, "hidden", raw);
        dom::flag(&json_panel, "hidden", !raw);
        body.text.with(|t| dom::set_value(&json, t));
        json_error.set_text_content(blocker.as_deref());
        dom::flag(&json_error, "hidden", blocker.is_none());

        // In the JSON tab the rules only advise: what the operator wrote is sent as written.
        let mut advised = String::new();
        for p in &problems {
            advised.push_str(&format!("{} {}\n", p.pointer, p.message));
        }
        if !advised.is_empty() {
            advised.insert_str(0, "The documented rules say (sent as written anyway):\n");
        }
        advice.set_text_content(Some(&advised));
        dom::flag(&advice, "hidden", advised.is_empty());

        body.value.with(|v| {
            let mut shape = ty.as_str().to_string();
            fields::shape(v, "", table(ty), &mut shape);
            if drawn.shape != shape {
                let was = document()
                    .active_element()
                    .filter(|a| panel.contains(Some(a)))
                    .map(|a| vec![format!("[id=\"{}\"]", a.id())]);
                drawn = fields::draw(&panel, v, table(ty), shape);
                fields::sync(&drawn, v, &problems);
                if let Some(wanted) = wanted_focus.borrow_mut().take().or(was) {
                    focus_first(&panel, &wanted);
                }
            } else {
                fields::sync(&drawn, v, &problems);
            }
        });
    });

    let on_input = move |ev: web_sys::Event| {
        let Some(el) = dom::target(&ev) else { return };
        if el.id() == "send-body" {
            body.edit_text(dom::value_of(&el));
        } else {
            fields::on_input(body, &el);
        }
    };
    let on_change = move |ev: web_sys::Event| {
        if let Some(el) = dom::target(&ev) {
            fields::on_change(body, &ev, &el);
        }
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        let Some(button) = dom::target(&ev).and_then(|t| t.closest("button").ok().flatten()) else {
            return;
        };
        match button.get_attribute("data-tab").as_deref() {
            Some("json") => body.raw.set(true),
            // Back to the form only with JSON it can show; the reason stands under the JSON meanwhile.
            Some(_) if body.not_for_the_form().is_some() => {
                if let Some(json) = dom::by_id("send-body") {
                    dom::focus(json);
                }
            }
            Some(_) => body.raw.set(false),
            None => {
                if let Some(wanted) = fields::on_click(body, &button) {
                    *focus_next.borrow_mut() = Some(wanted);
                }
            }
        }
    };

    view! {
        <div class="editor" on:input=on_input on:change=on_change on:click=on_click>
            <div class="tabs" role="tablist" aria-label="Edit the body as">
                <button type="button" role="tab" id="tab-form" data-tab="form" aria-controls="send-form-panel">"Form"</button>
                <button type="button" role="tab" id="tab-json" data-tab="json" aria-controls="send-json-panel">"JSON"</button>
            </div>
            <div id="send-form-panel" role="tabpanel" aria-labelledby="tab-form" class="body-form"></div>
            <div id="send-json-panel" role="tabpanel" aria-labelledby="tab-json" class="json-panel" hidden>
                <label for="send-body">"Body (sent to Hermod as written)"</label>
                <textarea id="send-body" class="mono" rows="22" spellcheck="false"></textarea>
                <p id="send-body-error" class="field-error" hidden></p>
                <pre id="send-body-problems" class="json-problems" hidden></pre>
            </div>
        </div>
    }
}
