//! The few DOM calls the views drawn by hand are made of: the send form (see `form/mod.rs` for why it
//! draws its own DOM) and the Overview's table. Text always goes in as text — `textContent`,
//! attribute values, `value` — never as markup.

use leptos::prelude::document;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};

/// A new `<tag>` with these attributes, at the end of `parent`.
pub fn el(parent: &Element, tag: &str, attrs: &[(&str, &str)]) -> Element {
    let el = document()
        .create_element(tag)
        .expect("creating an element of a known tag");
    for (name, value) in attrs {
        set(&el, name, value);
    }
    let _ = parent.append_child(&el);
    el
}

/// The same, holding `text`.
pub fn text(parent: &Element, tag: &str, attrs: &[(&str, &str)], text: &str) -> Element {
    let el = el(parent, tag, attrs);
    el.set_text_content(Some(text));
    el
}

pub fn set(el: &Element, name: &str, value: &str) {
    let _ = el.set_attribute(name, value);
}

/// Sets or removes a boolean attribute (`hidden`, `disabled`).
pub fn flag(el: &Element, name: &str, on: bool) {
    let _ = el.toggle_attribute_with_force(name, on);
}

pub fn by_id(id: &str) -> Option<Element> {
    document().get_element_by_id(id)
}

/// `value` of an input, select or text area alike (web-sys calls the property by name).
pub fn value_of(el: &Element) -> String {
    el.unchecked_ref::<HtmlInputElement>().value()
}

/// Sets `value` when it differs, so the caret of the field being typed in stays where it is.
pub fn set_value(el: &Element, text: &str) {
    if value_of(el) != text {
        el.unchecked_ref::<HtmlInputElement>().set_value(text);
    }
}

/// The element an event happened on.
pub fn target(ev: &web_sys::Event) -> Option<Element> {
    ev.target()?.dyn_into::<Element>().ok()
}

/// Puts the keyboard on the element.
pub fn focus(el: Element) {
    if let Ok(el) = el.dyn_into::<HtmlElement>() {
        let _ = el.focus();
    }
}
