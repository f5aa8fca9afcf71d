//! The shell: the login page until a session exists; then a left rail (what the role may use), a top
//! bar with the feed's true connection state and the user, and the routed page.

use crate::api;
use crate::components::compare::{CompareBar, provide_picks};
use crate::components::time::heard_ago;
use crate::components::time::{ClockToggle, start_clock};
use crate::live::{Conn, Live, use_live};
use crate::nav::{NavLink, Route, provide_router, set_title, use_location};
use crate::routes::{
    audit::AuditPage, callbacks::CallbacksPage, command::CommandPage, commands::CommandsPage,
    feed::FeedPage, login::LoginPage, overview::OverviewPage, send::SendPage, users::UsersPage,
};
use crate::session::{Session, SessionState, allows, use_session};
use crate::shortcuts::{self, ShortcutHelp};
use crate::theme::{self, Theme, ThemeToggle};
use hermod_shared::console::Role;
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let session: Session = RwSignal::new(SessionState::Checking);
    provide_context(session);
    provide_router();
    reload_when_restored();
    provide_context(theme::start());
    provide_context(start_clock());
    let help = RwSignal::new(false);
    shortcuts::install(help);
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
        <ShortcutHelp open=help/>
    }
}

/// A page brought back by the back/forward cache shows whatever it showed before, maybe a session
/// that has since ended: load it afresh instead.
fn reload_when_restored() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_show = Closure::<dyn FnMut(web_sys::PageTransitionEvent)>::new(
        |ev: web_sys::PageTransitionEvent| {
            if ev.persisted()
                && let Some(w) = web_sys::window()
            {
                let _ = w.location().reload();
            }
        },
    );
    let _ = window.add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
    on_show.forget();
}

/// Everything behind the login.
#[component]
fn Console() -> impl IntoView {
    provide_context(Live::start());
    provide_picks();
    let session = use_session();
    let theme = expect_context::<RwSignal<Theme>>();
    view! {
        <div class="shell">
            <nav class="rail" aria-label="Main">
                <a class="brand" href="/">"Hermod Console"</a>
                <NavLink href="/">"Feed"</NavLink>
                <Show when=move || allows(session, Role::Operator)>
                    <NavLink href="/send">"Send"</NavLink>
                </Show>
                <NavLink href="/commands">"Commands"</NavLink>
                <NavLink href="/callbacks">"Callbacks"</NavLink>
                <NavLink href="/overview">"Overview"</NavLink>
                <Show when=move || allows(session, Role::Admin)>
                    <NavLink href="/audit">"Audit"</NavLink>
                    <NavLink href="/users">"Users"</NavLink>
                </Show>
            </nav>
            <header class="topbar">
                <ConnectionState/>
                <UserBox/>
                <ClockToggle/>
                <ThemeToggle theme=theme/>
            </header>
            <main class="content">
                <Page/>
                <CompareBar/>
            </main>
        </div>
    }
}

/// The page for the current path. Only the path picks the page; a page reads its own query.
#[component]
fn Page() -> impl IntoView {
    let nav = use_location();
    let session = use_session();
    let path = Memo::new(move |_| nav.with(|l| l.path.clone()));
    move || {
        let route = path.with(|p| Route::parse(p));
        set_title(route.title());
        match route {
            Route::Feed => view! { <FeedPage/> }.into_any(),
            Route::Send => view! { <SendPage/> }.into_any(),
            Route::Commands => view! { <CommandsPage/> }.into_any(),
            Route::Command(id) => view! { <CommandPage id=Some(id)/> }.into_any(),
            Route::NotACommand => view! { <CommandPage id=None/> }.into_any(),
            Route::Callbacks => view! { <CallbacksPage/> }.into_any(),
            Route::Overview => view! { <OverviewPage/> }.into_any(),
            // The server refuses them anyway; the page says so instead of showing forms that fail.
            Route::Audit | Route::Users if !allows(session, Role::Admin) => {
                view! { <AdminsOnly/> }.into_any()
            }
            Route::Audit => view! { <AuditPage/> }.into_any(),
            Route::Users => view! { <UsersPage/> }.into_any(),
            Route::NotFound => view! { <NotFound/> }.into_any(),
        }
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
fn AdminsOnly() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"For admins"</h1>
            <p class="empty" data-admins-only="">"This page is for the admin role; ask an admin if you need it."</p>
        </section>
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
