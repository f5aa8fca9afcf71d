//! Navigation by URL: the address bar is the state. A small router of our own (leptos_router pulls
//! `url` and its Unicode tables into the bundle, some 60 KB gzip for what this does): links are
//! ordinary `<a href>`s, intercepted and turned into `history.pushState`; back and forward work
//! through `popstate`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The console's pages, by path: `parse` picks the page for a path, `href` gives a page's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Feed,
    Send,
    Commands,
    Command(i64),
    /// `/commands/<not a number>`: the command page says so.
    NotACommand,
    Callbacks,
    Overview,
    Audit,
    Users,
    NotFound,
}

impl Route {
    pub fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Route::Feed,
            ["send"] => Route::Send,
            ["commands"] => Route::Commands,
            ["commands", id] => id.parse().map_or(Route::NotACommand, Route::Command),
            ["callbacks"] => Route::Callbacks,
            ["overview"] => Route::Overview,
            ["audit"] => Route::Audit,
            ["users"] => Route::Users,
            _ => Route::NotFound,
        }
    }

    /// The page's path. The pages that are not there (an unknown path, a command without a number)
    /// have none to link to: theirs is the feed's, the console's start.
    pub fn href(&self) -> String {
        match self {
            Route::Send => "/send".into(),
            Route::Commands => "/commands".into(),
            Route::Command(id) => format!("/commands/{id}"),
            Route::Callbacks => "/callbacks".into(),
            Route::Overview => "/overview".into(),
            Route::Audit => "/audit".into(),
            Route::Users => "/users".into(),
            Route::Feed | Route::NotACommand | Route::NotFound => "/".into(),
        }
    }

    /// The tab's title on this page.
    pub fn title(&self) -> &'static str {
        match self {
            Route::Feed => "Live feed",
            Route::Send => "Send",
            Route::Commands => "Commands",
            // The command page names itself once it knows the command.
            Route::Command(_) | Route::NotACommand => "Command",
            Route::Callbacks => "Callbacks",
            Route::Overview => "Overview",
            Route::Audit => "Audit",
            Route::Users => "Users",
            Route::NotFound => "Not found",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: String,
    /// Without the `?`.
    pub query: String,
}

impl Location {
    fn current() -> Location {
        let loc = web_sys::window().map(|w| w.location());
        let path = loc
            .as_ref()
            .and_then(|l| l.pathname().ok())
            .unwrap_or_else(|| "/".into());
        let query = loc
            .and_then(|l| l.search().ok())
            .unwrap_or_default()
            .trim_start_matches('?')
            .to_string();
        Location { path, query }
    }

    /// The decoded value of a query parameter.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == key).then(|| decode(v))
        })
    }

    /// The decoded values of `keys`, empty where absent.
    pub fn params(&self, keys: &[&'static str]) -> Vec<(&'static str, String)> {
        keys.iter()
            .map(|k| (*k, self.param(k).unwrap_or_default()))
            .collect()
    }
}

fn decode(s: &str) -> String {
    js_sys::decode_uri_component(&s.replace('+', " "))
        .map(String::from)
        .unwrap_or_else(|_| s.to_string())
}

/// Percent-encodes one query value.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

/// `key=value&…` from the non-empty pairs.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

pub type Nav = RwSignal<Location>;

/// The page URL's parameter `key`, "" when it has none; read reactively.
pub fn url_param(key: &'static str) -> String {
    use_location().with(|l| l.param(key).unwrap_or_default())
}

thread_local! {
    /// The one location signal, also reachable from async tasks, where there is no reactive context.
    static NAV: std::cell::OnceCell<Nav> = const { std::cell::OnceCell::new() };
}

pub fn use_location() -> Nav {
    NAV.with(|n| *n.get().expect("provide_router runs first"))
}

/// Goes to `href` (a path with an optional query) as a new history entry.
pub fn navigate(href: &str) {
    go(use_location(), href);
}

fn go(nav: Nav, href: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    // Where the page already is (a filter applied twice, a link to this page): no second entry
    // for Back to step through.
    let here = Location::current();
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    if here.path == path && here.query == query {
        return;
    }
    if let Ok(history) = window.history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
    nav.set(Location::current());
    window.scroll_to_with_x_and_y(0.0, 0.0);
}

/// Starts following the URL: clicks on in-app links, and back/forward.
pub fn provide_router() -> Nav {
    let nav: Nav = RwSignal::new(Location::current());
    NAV.with(|n| {
        let _ = n.set(nav);
    });
    let Some(window) = web_sys::window() else {
        return nav;
    };
    let on_pop = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| nav.set(Location::current()));
    let _ = window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    let on_click =
        Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
            if ev.default_prevented()
                || ev.button() != 0
                || ev.ctrl_key()
                || ev.meta_key()
                || ev.shift_key()
                || ev.alt_key()
            {
                return;
            }
            let Some(anchor) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("a[href]").ok().flatten())
            else {
                return;
            };
            let href = anchor.get_attribute("href").unwrap_or_default();
            // Only the console's own pages: not the API (exports download), not other sites, not new tabs.
            let in_app = href.starts_with('/')
                && !href.starts_with("//")
                && !href.starts_with("/api/")
                && anchor.get_attribute("target").is_none()
                && !anchor.has_attribute("download");
            if in_app {
                ev.prevent_default();
                go(nav, &href);
            }
        });
    if let Some(doc) = window.document() {
        let _ = doc.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    }
    // Both listeners live as long as the page.
    on_pop.forget();
    on_click.forget();
    nav
}

/// A rail link that knows when it is the current page.
#[component]
pub fn NavLink(href: &'static str, children: Children) -> impl IntoView {
    let nav = use_location();
    let current = move || {
        let path = nav.with(|l| l.path.clone());
        let here = if href == "/" {
            path == "/"
        } else {
            path == href || path.starts_with(&format!("{href}/"))
        };
        here.then_some("page")
    };
    view! { <a href=href aria-current=current>{children()}</a> }
}

/// Names the tab after what it shows, so a bookmark, the history and a row of tabs tell pages apart.
pub fn set_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{page} — Hermod Console"));
    }
}
