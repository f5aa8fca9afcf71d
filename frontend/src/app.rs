//! The shell: the login page until a session exists; then a left rail (what the role may use), a top
//! bar with the feed's true connection state and the user, and the routed page.

use crate::api;
use crate::components::time::heard_ago;
use crate::live::{Conn, Live, use_live};
use crate::routes::{
    audit::AuditPage, command::CommandPage, commands::CommandsPage, feed::FeedPage,
    login::LoginPage, send::SendPage, users::UsersPage,
};
use crate::session::{Session, SessionState, allows, use_session};
use hermod_shared::console::Role;
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    let session: Session = RwSignal::new(SessionState::Checking);
    provide_context(session);
    api::on_logged_out(move || {
        if session.with_untracked(|s| matches!(s, SessionState::LoggedIn(_))) {
            api::set_csrf(None);
            session.set(SessionState::LoggedOut);
        }
    });
    leptos::task::spawn_local(async move {
        match api::session().await {
            Ok(info) => {
                api::set_csrf(info.csrf_token.clone());
                session.set(SessionState::LoggedIn(info));
            }
            Err(_) => session.set(SessionState::LoggedOut),
        }
    });
    let signed_in = Memo::new(move |_| session.with(|s| matches!(s, SessionState::LoggedIn(_))));
    let checking = Memo::new(move |_| session.with(|s| matches!(s, SessionState::Checking)));
    view! {
        <Show
            when=move || signed_in.get()
            fallback=move || if checking.get() {
                view! { <p class="loading boot">"Loading…"</p> }.into_any()
            } else {
                view! { <LoginPage/> }.into_any()
            }
        >
            <Console/>
        </Show>
    }
}

/// Everything behind the login.
#[component]
fn Console() -> impl IntoView {
    provide_context(Live::start());
    let session = use_session();
    view! {
        <Router>
            <div class="shell">
                <nav class="rail" aria-label="Main">
                    <a class="brand" href="/">"Hermod Console"</a>
                    <A href="/" exact=true>"Feed"</A>
                    <Show when=move || allows(session, Role::Operator)>
                        <A href="/send">"Send"</A>
                    </Show>
                    <A href="/commands">"Commands"</A>
                    <Show when=move || allows(session, Role::Admin)>
                        <A href="/audit">"Audit"</A>
                        <A href="/users">"Users"</A>
                    </Show>
                </nav>
                <header class="topbar">
                    <ConnectionState/>
                    <UserBox/>
                </header>
                <main class="content">
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=FeedPage/>
                        <Route path=path!("/send") view=SendPage/>
                        <Route path=path!("/commands") view=CommandsPage/>
                        <Route path=path!("/commands/:id") view=CommandPage/>
                        <Route path=path!("/audit") view=AuditPage/>
                        <Route path=path!("/users") view=UsersPage/>
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

/// The signed-in user, their role, and the way out. Logging out reloads the page, so nothing private
/// stays in memory for the back button to show.
#[component]
fn UserBox() -> impl IntoView {
    let session = use_session();
    let who = move || match session.get() {
        SessionState::LoggedIn(info) => format!("{} · {}", info.user, info.role),
        _ => String::new(),
    };
    let logout = move |_| {
        leptos::task::spawn_local(async move {
            let _ = api::logout().await;
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace("/");
            }
        });
    };
    view! {
        <span class="who" id="who">{who}</span>
        <button type="button" id="logout" on:click=logout>"Log out"</button>
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
