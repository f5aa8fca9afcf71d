//! The fields of a command, drawn from the shared tables. A handful of functions draw any command's
//! fields, whatever the table: a scalar (text input, select for a closed list, text area for a payload),
//! an object (a fieldset; an optional one can be added and taken out), a list (items added, taken out,
//! moved). Each field's wrapper carries `data-field="<json pointer>"`, each input a `<label>` and its
//! pointer as `data-ptr`; the editor's listeners handle every field through that pointer.

use super::file::read_chosen;
use super::value::{Change, has, len_at, text_of};
use super::{Body, input_id};
use crate::dom::{self, el, flag, set, text};
use hermod_shared::hermod::FieldError;
use hermod_shared::validate::{Field, Kind, Need, base64_decode, base64_encode};
use leptos::prelude::WithUntracked;
use serde_json::{Value, json};
use web_sys::Element;

/// What a drawn element shows of the body, for [`sync`].
enum Shows {
    /// The value at its pointer, as text.
    Value,
    /// The base64 data at its pointer, decoded, while it is UTF-8.
    DecodedText,
    /// Shown while the encoding at its pointer is base64 or not set: the "as text" helper.
    WhileBase64,
    /// The message for its pointer.
    Message,
}

struct Bound {
    ptr: String,
    el: Element,
    shows: Shows,
}

/// What is drawn: for which shape, and the elements [`sync`] keeps up to date.
#[derive(Default)]
pub struct Drawn {
    pub shape: String,
    bound: Vec<Bound>,
}

/// The body's structure as the tables see it: list lengths and which optional objects are there. The
/// fields are drawn again when it changes, and only then.
pub fn shape(doc: &Value, at: &str, fields: &'static [Field], out: &mut String) {
    for f in fields {
        let ptr = format!("{at}/{}", f.key);
        match f.kind {
            Kind::Object(inner) => {
                let here = has(doc, &ptr);
                out.push(if here { '1' } else { '0' });
                if here || f.need == Need::Required {
                    shape(doc, &ptr, inner, out);
                }
            }
            Kind::List(inner) => {
                let n = len_at(doc, &ptr);
                out.push_str(&format!("[{n}"));
                for i in 0..n {
                    shape(doc, &format!("{ptr}/{i}"), inner, out);
                }
                out.push(']');
            }
            Kind::Strings(_) => out.push_str(&format!("[{}]", len_at(doc, &ptr))),
            _ => {}
        }
    }
}

/// Draws `fields` of `doc` into `root`, in place of what was there.
pub fn draw(root: &Element, doc: &Value, fields: &'static [Field], shape: String) -> Drawn {
    root.set_text_content(None);
    let mut draw = Draw { bound: Vec::new() };
    // The place for a message about the body as a whole (when it is not an object).
    draw.notes(root, "", "");
    draw.group(doc, root, "", fields);
    Drawn {
        shape,
        bound: draw.bound,
    }
}

/// Drawing in progress: what has been bound so far.
struct Draw {
    bound: Vec<Bound>,
}

/// A field's name (its JSON key) in `into`, marked when required, or when it is only a guess.
fn key(into: &Element, f: &Field) {
    into.set_text_content(Some(f.key));
    match f.need {
        Need::Required => {
            text(
                into,
                "span",
                &[("class", "req"), ("aria-hidden", "true")],
                " *",
            );
        }
        Need::Inferred => {
            text(
                into,
                "span",
                &[
                    ("class", "inferred"),
                    (
                        "title",
                        "Not in Hermod's documentation: a guess, not required",
                    ),
                ],
                "inferred",
            );
        }
        _ => {}
    }
}

/// A `<datalist>` of known values, for the inputs whose `list` names it.
fn datalist(into: &Element, ptr: &str, known: &[&str]) {
    let list = el(
        into,
        "datalist",
        &[("id", &format!("{}-known", input_id(ptr)))],
    );
    for k in known {
        el(&list, "option", &[("value", k)]);
    }
}

impl Draw {
    fn bind(&mut self, ptr: &str, el: &Element, shows: Shows) {
        self.bound.push(Bound {
            ptr: ptr.to_string(),
            el: el.clone(),
            shows,
        });
    }

    /// The hint and the place for the message, under a field.
    fn notes(&mut self, into: &Element, ptr: &str, hint: &str) {
        if !hint.is_empty() {
            text(into, "small", &[("class", "hint")], hint);
        }
        let id = format!("{}-error", input_id(ptr));
        let message = el(
            into,
            "p",
            &[("class", "field-error"), ("id", &id), ("hidden", "")],
        );
        self.bind(ptr, &message, Shows::Message);
    }

    fn group(&mut self, doc: &Value, into: &Element, at: &str, fields: &'static [Field]) {
        for f in fields {
            let ptr = format!("{at}/{}", f.key);
            match f.kind {
                Kind::Object(inner) => self.object(doc, into, &ptr, f, inner),
                Kind::List(inner) => self.list(doc, into, &ptr, f, Some(inner)),
                Kind::Strings(_) => self.list(doc, into, &ptr, f, None),
                _ => self.scalar(into, &ptr, f),
            }
        }
    }

    /// One value: its label, control, hint and message.
    fn scalar(&mut self, into: &Element, ptr: &str, f: &Field) {
        let id = input_id(ptr);
        let wrap = el(into, "div", &[("class", "field"), ("data-field", ptr)]);
        let label = el(&wrap, "label", &[("for", &id)]);
        key(&label, f);
        let control = match f.kind {
            Kind::Choice(options) => select(&wrap, options),
            Kind::Flag => select(&wrap, &["true", "false"]),
            Kind::Data | Kind::Base64 | Kind::Der(_) => {
                el(&wrap, "textarea", &[("class", "mono"), ("rows", "2")])
            }
            _ => el(&wrap, "input", &[("autocomplete", "off")]),
        };
        for (name, value) in [
            ("id", id.as_str()),
            ("data-ptr", ptr),
            ("spellcheck", "false"),
            ("aria-describedby", &format!("{id}-error")),
        ] {
            set(&control, name, value);
        }
        match f.kind {
            Kind::Suggest(known) => {
                set(&control, "list", &format!("{id}-known"));
                datalist(&wrap, ptr, known);
            }
            Kind::Seconds => {
                set(&control, "inputmode", "numeric");
                set(&control, "data-kind", "seconds");
            }
            Kind::Digits => set(&control, "inputmode", "numeric"),
            Kind::Flag => set(&control, "data-kind", "flag"),
            _ => {}
        }
        if f.need == Need::Required {
            set(&control, "aria-required", "true");
        }
        self.bind(ptr, &control, Shows::Value);
        if matches!(f.kind, Kind::Data | Kind::Base64 | Kind::Der(_)) {
            self.payload_tools(&wrap, ptr, f.kind == Kind::Data);
        }
        self.notes(&wrap, ptr, f.hint);
    }

    /// Under a payload: load a file (base64-encoded here) and, for a data item, edit it as text.
    fn payload_tools(&mut self, into: &Element, ptr: &str, is_item: bool) {
        let id = input_id(ptr);
        let tools = el(into, "div", &[("class", "payload-tools")]);
        if is_item {
            let helper = el(&tools, "span", &[]);
            let text_id = format!("{id}-text");
            text(&helper, "label", &[("for", &text_id)], "as text");
            let input = el(
                &helper,
                "input",
                &[
                    ("id", &text_id),
                    ("data-ptr", ptr),
                    ("data-edit", "as-text"),
                    (
                        "placeholder",
                        "binary data, or nothing yet: typing replaces it",
                    ),
                ],
            );
            self.bind(ptr, &input, Shows::DecodedText);
            self.bind(
                &sibling(ptr, "content_encoding"),
                &helper,
                Shows::WhileBase64,
            );
        }
        let file_id = format!("{id}-file");
        text(&tools, "label", &[("for", &file_id)], "from a file");
        let file = el(
            &tools,
            "input",
            &[("type", "file"), ("id", &file_id), ("data-file", ptr)],
        );
        if is_item {
            set(&file, "data-item", "");
        }
        el(&tools, "span", &[("class", "hint"), ("role", "status")]);
    }

    /// An object in a fieldset; an optional one can be added and taken out whole.
    fn object(
        &mut self,
        doc: &Value,
        into: &Element,
        ptr: &str,
        f: &Field,
        fields: &'static [Field],
    ) {
        let set_el = el(into, "fieldset", &[("class", "group"), ("data-field", ptr)]);
        let legend = el(&set_el, "legend", &[]);
        key(&legend, f);
        let here = f.need == Need::Required || has(doc, ptr);
        if f.need != Need::Required {
            let what = if here { "Remove" } else { "Add" };
            button(&set_el, ptr, "toggle", &format!("{what} {}", f.key), "");
        }
        self.notes(&set_el, ptr, f.hint);
        if here {
            self.group(doc, &set_el, ptr, fields);
        }
    }

    /// A list whose items can be added, taken out and moved: objects with `fields`, or text.
    fn list(
        &mut self,
        doc: &Value,
        into: &Element,
        ptr: &str,
        f: &Field,
        fields: Option<&'static [Field]>,
    ) {
        let set_el = el(into, "fieldset", &[("class", "group"), ("data-field", ptr)]);
        let legend = el(&set_el, "legend", &[]);
        key(&legend, f);
        self.notes(&set_el, ptr, f.hint);
        let items = el(&set_el, "ol", &[("class", "items")]);
        let n = len_at(doc, ptr);
        for i in 0..n {
            let at = format!("{ptr}/{i}");
            let name = format!("{} {}", f.key, i + 1);
            let item = el(&items, "li", &[("class", "item"), ("data-field", &at)]);
            let head = el(&item, "div", &[("class", "item-head")]);
            text(&head, "span", &[("class", "item-name")], &name);
            flag(
                &button(&head, &at, "up", "↑", &format!("Move {name} up")),
                "disabled",
                i == 0,
            );
            flag(
                &button(&head, &at, "down", "↓", &format!("Move {name} down")),
                "disabled",
                i + 1 == n,
            );
            button(&head, &at, "remove", "✕", &format!("Remove {name}"));
            match fields {
                Some(fields) => self.group(doc, &item, &at, fields),
                None => {
                    let id = input_id(&at);
                    text(&item, "label", &[("for", &id), ("class", "sr-only")], &name);
                    let input = el(
                        &item,
                        "input",
                        &[
                            ("id", &id),
                            ("data-ptr", &at),
                            ("data-edit", "item"),
                            ("autocomplete", "off"),
                            ("list", &format!("{}-known", input_id(ptr))),
                            ("aria-describedby", &format!("{id}-error")),
                        ],
                    );
                    self.bind(&at, &input, Shows::Value);
                }
            }
            self.notes(&item, &at, "");
        }
        let add = button(&set_el, ptr, "add", &format!("Add a {} entry", f.key), "");
        if let (None, Kind::Strings(known)) = (fields, f.kind) {
            set(&add, "data-text", "");
            datalist(&set_el, ptr, known);
        }
    }
}

fn select(into: &Element, options: &[&str]) -> Element {
    let select = el(into, "select", &[]);
    text(&select, "option", &[("value", "")], "(not set)");
    for o in options {
        text(&select, "option", &[("value", o)], o);
    }
    select
}

/// A `<button type=button>` that `on_click` acts on: `act` on the field at `ptr`. `aria` names it when
/// its text is a symbol.
fn button(into: &Element, ptr: &str, act: &str, label: &str, aria: &str) -> Element {
    let b = text(
        into,
        "button",
        &[
            ("type", "button"),
            ("class", if aria.is_empty() { "small" } else { "icon" }),
            ("data-act", act),
            ("data-ptr", ptr),
            ("id", &format!("{}~{act}", input_id(ptr))),
        ],
        label,
    );
    if !aria.is_empty() {
        set(&b, "aria-label", aria);
    }
    b
}

/// The pointer of `key` beside the field at `ptr`.
fn sibling(ptr: &str, key: &str) -> String {
    let parent = ptr.rsplit_once('/').map_or("", |(p, _)| p);
    format!("{parent}/{key}")
}

fn decoded(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Puts the body's values and the messages into the drawn fields.
pub fn sync(drawn: &Drawn, doc: &Value, problems: &[FieldError]) {
    for b in &drawn.bound {
        match b.shows {
            Shows::Value => {
                let text = text_of(doc.pointer(&b.ptr));
                dom::set_value(&b.el, &text);
                // A select shows nothing for a value it has no option for (one typed in the JSON
                // tab): it gets an option, so what the body holds is what the page shows.
                if b.el.tag_name() == "SELECT" && dom::value_of(&b.el) != text {
                    dom::text(&b.el, "option", &[("value", &text)], &text);
                    dom::set_value(&b.el, &text);
                }
            }
            Shows::DecodedText => dom::set_value(&b.el, &decoded(doc.pointer(&b.ptr))),
            Shows::WhileBase64 => {
                let base64 = matches!(doc.pointer(&b.ptr), None | Some(Value::Null))
                    || doc.pointer(&b.ptr).and_then(Value::as_str) == Some("base64");
                flag(&b.el, "hidden", !base64);
            }
            Shows::Message => {
                let message = problems.iter().find(|p| p.pointer == b.ptr);
                b.el.set_text_content(message.map(|m| m.message.as_str()));
                flag(&b.el, "hidden", message.is_none());
                if let Some(control) = dom::by_id(&input_id(&b.ptr)) {
                    flag(&control, "aria-invalid", message.is_some());
                }
            }
        }
    }
}

/// The input's text turned into what the body holds: nothing when empty; numbers and booleans as JSON
/// when they read as such, else the text as typed, which the rules then flag (nothing typed is lost).
fn parse(kind: Option<&str>, text: String) -> Option<Value> {
    if text.is_empty() {
        return None;
    }
    let typed = match kind {
        Some("seconds") => text
            .parse::<u64>()
            .ok()
            .filter(|n| n.to_string() == text)
            .map(Value::from),
        Some("flag") => text.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    Some(typed.unwrap_or(Value::String(text)))
}

/// Typing in, or choosing in, the field `el`.
pub fn on_input(body: Body, el: &Element) {
    let Some(ptr) = el.get_attribute("data-ptr") else {
        return;
    };
    let text = dom::value_of(el);
    match el.get_attribute("data-edit").as_deref() {
        // An item of a list of strings stays, emptied, until it is taken out.
        Some("item") => body.edit(&ptr, vec![Change::Put(&ptr, Some(json!(text)))]),
        // A data item typed as text: stored as base64, and said so.
        Some("as-text") => {
            let (encoding, content_type) = (
                sibling(&ptr, "content_encoding"),
                sibling(&ptr, "content_type"),
            );
            let mut changes = vec![
                Change::Put(&ptr, Some(json!(base64_encode(text.as_bytes())))),
                Change::Put(&encoding, Some(json!("base64"))),
            ];
            if !body.value.with_untracked(|v| has(v, &content_type)) {
                changes.push(Change::Put(&content_type, Some(json!("text/plain"))));
            }
            body.edit(&ptr, changes);
        }
        _ => {
            let kind = el.get_attribute("data-kind");
            body.edit(&ptr, vec![Change::Put(&ptr, parse(kind.as_deref(), text))]);
        }
    }
}

/// A file picked for a payload: stored as base64; a data item also gets its encoding and its type.
pub fn on_change(body: Body, ev: &web_sys::Event, el: &Element) {
    let Some(ptr) = el.get_attribute("data-file") else {
        return;
    };
    let is_item = el.has_attribute("data-item");
    let status = el.next_element_sibling();
    read_chosen(ev, move |picked| {
        let said = match picked {
            Ok(p) => {
                let (encoding, content_type) = (
                    sibling(&ptr, "content_encoding"),
                    sibling(&ptr, "content_type"),
                );
                let mut changes = vec![Change::Put(&ptr, Some(json!(base64_encode(&p.bytes))))];
                if is_item {
                    changes.push(Change::Put(&encoding, Some(json!("base64"))));
                    if !p.mime.is_empty() {
                        changes.push(Change::Put(&content_type, Some(json!(p.mime))));
                    }
                }
                body.edit(&ptr, changes);
                format!("{} loaded ({} bytes)", p.name, p.bytes.len())
            }
            Err(e) => e,
        };
        if let Some(status) = status {
            status.set_text_content(Some(&said));
        }
    });
}

/// Add, take out, move, or add or take out an optional object. Returns where the keyboard should be
/// once the fields are drawn again — CSS selectors, the first that finds an enabled element wins — so
/// it stays with what the operator was working on.
pub fn on_click(body: Body, button: &Element) -> Option<Vec<String>> {
    let ptr = button.get_attribute("data-ptr")?;
    let by_id = |ptr: &str, act: &str| format!("[id=\"{}~{act}\"]", input_id(ptr));
    // For an item: its list and its index.
    let (list, i) = ptr
        .rsplit_once('/')
        .and_then(|(l, i)| Some((l.to_string(), i.parse::<usize>().ok()?)))
        .unwrap_or_default();
    let item = |i: usize| format!("{list}/{i}");
    match button.get_attribute("data-act")?.as_str() {
        "add" => {
            let at = format!("{ptr}/{}", body.value.with_untracked(|v| len_at(v, &ptr)));
            let new = if button.has_attribute("data-text") {
                json!("")
            } else {
                json!({})
            };
            body.edit(&ptr, vec![Change::Push(&ptr, new)]);
            Some(vec![
                format!("[data-field=\"{at}\"] :is(input, select, textarea)"),
                by_id(&at, "remove"),
            ])
        }
        "remove" => {
            body.edit(&list, vec![Change::Put(&ptr, None)]);
            Some(vec![by_id(&item(i), "remove"), by_id(&list, "add")])
        }
        "up" if i > 0 => {
            body.edit(&list, vec![Change::SwapDown(&list, i - 1)]);
            Some(vec![by_id(&item(i - 1), "up"), by_id(&item(i - 1), "down")])
        }
        "down" => {
            body.edit(&list, vec![Change::SwapDown(&list, i)]);
            Some(vec![by_id(&item(i + 1), "down"), by_id(&item(i + 1), "up")])
        }
        "toggle" => {
            let next = (!body.value.with_untracked(|v| has(v, &ptr))).then(|| json!({}));
            body.edit(&ptr, vec![Change::Put(&ptr, next)]);
            Some(vec![by_id(&ptr, "toggle")])
        }
        _ => None,
    }
}
