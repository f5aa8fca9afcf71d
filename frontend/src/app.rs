//! The shell: a left rail, a top bar with the feed's true connection state, and the routed page.

use crate::components::time::heard_ago;
use crate::live::{Conn, Live, use_live};
use crate::routes::{command::CommandPage, commands::CommandsPage, feed::FeedPage, send::SendPage};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    provide_context(Live::start());
    view! {
        <Router>
            <div class="shell">
                <nav class="rail" aria-label="Main">
                    <a class="brand" href="/">"Hermod Console"</a>
                    <A href="/" exact=true>"Feed"</A>
                    <A href="/send">"Send"</A>
                    <A href="/commands">"Commands"</A>
                </nav>
                <header class="topbar">
                    <ConnectionState/>
                </header>
                <main class="content">
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=FeedPage/>
                        <Route path=path!("/send") view=SendPage/>
                        <Route path=path!("/commands") view=CommandsPage/>
                        <Route path=path!("/commands/:id") view=CommandPage/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// "live · heard 3 s ago", "reconnecting…": what the EventSource really does.
#[component]
fn ConnectionState() -> impl IntoView {
    let live = use_live();
    let text = move || match live.conn.get() {
        Conn::Connecting => "connecting…".to_string(),
        Conn::Reconnecting => "reconnecting…".to_string(),
        Conn::Live => match heard_ago(live) {
            Some(s) => format!("live · heard {s} s ago"),
            None => "live".to_string(),
        },
    };
    let class = move || match live.conn.get() {
        Conn::Live => "conn conn-live",
        _ => "conn conn-down",
    };
    view! {
        <span class=class id="connection" role="status">
            <span class="dot" aria-hidden="true"></span>
            {text}
        </span>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Not found"</h1>
            <p>"There is no page here. Use the menu on the left."</p>
        </section>
    }
}
