//! Asking before acting: a yes or no for what cannot be undone or changes who may do what.

pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}
