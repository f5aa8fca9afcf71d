//! Hermod Console in the browser: client-side rendered Leptos, talking only to its own backend.

mod api;
mod app;
mod components;
mod dom;
mod form;
mod kept;
mod live;
mod nav;
mod routes;
mod session;
mod shortcuts;
mod theme;

fn main() {
    console_error_panic_hook_lite();
    leptos::mount::mount_to_body(app::App);
}

/// Panics end up in the browser console rather than vanishing (the wasm build aborts on panic).
fn console_error_panic_hook_lite() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}
