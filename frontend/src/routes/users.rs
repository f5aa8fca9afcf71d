//! Accounts and API tokens (admin). A new token is shown once, here, and never again.

use crate::api::{self, ApiFail};
use crate::components::ask::confirm;
use crate::components::copy::CopyButton;
use crate::components::time::RelTime;
use hermod_shared::console::{NewToken, NewUser, Role, UserUpdate};
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;

/// A user and an API token as this page shows them, read from the API's JSON: typed readers of the
/// whole records cost the bundle more than these few lines.
#[derive(Clone)]
struct User {
    id: i64,
    username: String,
    role: Role,
    created_at: String,
    updated_at: String,
}

#[derive(Clone)]
struct Token {
    id: i64,
    name: String,
    role: Role,
    created_by: String,
    expires_at: String,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string)
}

fn role(v: &Value) -> Option<Role> {
    Role::parse(v["role"].as_str()?)
}

impl User {
    fn read(v: &Value) -> Option<User> {
        Some(User {
            id: v["id"].as_i64()?,
            username: text(v, "username")?,
            role: role(v)?,
            created_at: text(v, "created_at").unwrap_or_default(),
            updated_at: text(v, "updated_at").unwrap_or_default(),
        })
    }
}

impl Token {
    fn read(v: &Value) -> Option<Token> {
        Some(Token {
            id: v["id"].as_i64()?,
            name: text(v, "name")?,
            role: role(v)?,
            created_by: text(v, "created_by").unwrap_or_default(),
            expires_at: text(v, "expires_at").unwrap_or_default(),
            revoked_at: text(v, "revoked_at"),
            last_used_at: text(v, "last_used_at"),
        })
    }
}

/// The items of a JSON list that read as `T`.
fn items<T>(list: &Value, read: fn(&Value) -> Option<T>) -> Vec<T> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(read)
        .collect()
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.as_str()}</option> })
        .collect_view()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let users = RwSignal::new(Vec::<User>::new());
    let tokens = RwSignal::new(Vec::<Token>::new());
    let failure = RwSignal::new(None::<ApiFail>);
    // `POST /api/tokens`'s answer: the token, and its record.
    let minted = RwSignal::new(None::<Value>);
    let loading = RwSignal::new(true);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match (api::users().await, api::tokens().await) {
                (Ok(u), Ok(t)) => {
                    users.set(items(&u, User::read));
                    tokens.set(items(&t, Token::read));
                }
                (Err(e), _) | (_, Err(e)) => failure.set(Some(e)),
            }
            loading.set(false);
        });
    };
    reload();
    let act =
        move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiFail>>>>| {
            failure.set(None);
            leptos::task::spawn_local(async move {
                if let Err(e) = fut.await {
                    failure.set(Some(e));
                }
                reload();
            });
        };

    // Whose password is being set (the dialog is open), and what the last one came to.
    let setting = RwSignal::new(None::<(i64, String)>);
    let done = RwSignal::new(None::<String>);

    let (name, password, role) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(Role::Viewer),
    );
    let add_user = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = NewUser {
            username: name.get_untracked(),
            password: password.get_untracked(),
            role: role.get_untracked(),
        };
        failure.set(None);
        // The form keeps what was typed until the user exists: a refusal is fixed, not retyped.
        leptos::task::spawn_local(async move {
            match api::create_user(&user).await {
                Ok(_) => {
                    name.set(String::new());
                    password.set(String::new());
                }
                Err(e) => failure.set(Some(e)),
            }
            reload();
        });
    };
    let (token_name, token_role, token_days) = (
        RwSignal::new(String::new()),
        RwSignal::new(Role::Viewer),
        RwSignal::new(90u32),
    );
    let mint = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewToken {
            name: token_name.get_untracked(),
            role: token_role.get_untracked(),
            expires_in_days: token_days.get_untracked(),
        };
        failure.set(None);
        // As the user form: a refused name stays to be fixed.
        leptos::task::spawn_local(async move {
            match api::create_token(&new).await {
                Ok(t) => {
                    token_name.set(String::new());
                    minted.set(Some(t));
                }
                Err(e) => failure.set(Some(e)),
            }
            reload();
        });
    };

    view! {
        <section class="page">
            <header class="page-head"><h1>"Users"</h1></header>
            {move || failure.get().map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            {move || done.get().map(|d| view! { <p class="hint" role="status" id="password-done">{d}</p> })}
            <Show when=move || loading.get()>
                <p class="loading">"Loading users and tokens…"</p>
            </Show>
            {move || setting.get().map(|(id, who)| view! { <PasswordDialog id=id who=who open=setting done=done/> })}
            <table class="grid" id="users" aria-busy=move || loading.get().to_string()>
                <thead><tr><th scope="col">"User"</th><th scope="col">"Role"</th><th scope="col">"Since"</th><th scope="col">""</th></tr></thead>
                <tbody>
                    <For each=move || users.get() key=|u| (u.id, u.updated_at.clone()) let:u>
                        <tr data-user=u.username.clone()>
                            <td>{u.username.clone()}</td>
                            <td>
                                <select aria-label=format!("Role of {}", u.username) on:change={
                                    let (who, was) = (u.username.clone(), u.role);
                                    move |ev| {
                                        let role = Role::parse(&event_target_value(&ev));
                                        // A slip of the mouse wheel must not make a viewer an admin.
                                        let sure = role.is_some_and(|r| confirm(&format!("Make {who} {r}?")));
                                        if !sure {
                                            if let Some(select) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
                                                select.set_value(was.as_str());
                                            }
                                            return;
                                        }
                                        act(Box::pin(async move {
                                            api::update_user(u.id, &UserUpdate { role, password: None }).await.map(|_| ())
                                        }));
                                    }
                                }>{role_options(u.role)}</select>
                            </td>
                            <td><RelTime at=u.created_at.clone()/></td>
                            <td class="row-actions">
                                <button type="button" on:click={
                                    let who = u.username.clone();
                                    move |_| {
                                        done.set(None);
                                        setting.set(Some((u.id, who.clone())));
                                    }
                                }>"Set password"</button>
                                <button type="button" class="danger" on:click={
                                    let who = u.username.clone();
                                    move |_| if confirm(&format!("Remove {who}? Their sessions and the API tokens they made end at once.")) {
                                        act(Box::pin(api::delete_user(u.id)));
                                    }
                                }>"Remove"</button>
                            </td>
                        </tr>
                    </For>
                </tbody>
            </table>
            <form class="inline-form" on:submit=add_user aria-label="Add a user">
                <input aria-label="Username" placeholder="username" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <input aria-label="Password" type="password" autocomplete="new-password" placeholder="password (12+ characters)" required prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                <select aria-label="Role" on:change=move |ev| if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }>{role_options(Role::Viewer)}</select>
                <button type="submit" class="primary">"Add user"</button>
            </form>

            <h2>"API tokens"</h2>
            <p class="hint">"For automation: send " <code>"Authorization: Bearer <token>"</code> ". A token is shown once. It ends with its maker's right to make it: removing a user revokes the tokens they made, and lowering their role revokes those above it."</p>
            {move || minted.get().map(|m| {
                let token = text(&m, "token").unwrap_or_default();
                let said = |key: &str| text(&m["record"], key).unwrap_or_default();
                view! {
                <div class="minted" role="status">
                    <p>{format!("Token “{}” ({}) — copy it now, it will not be shown again:", said("name"), said("role"))}</p>
                    <code id="minted-token">{token.clone()}</code>
                    <CopyButton text=token/>
                    <button type="button" on:click=move |_| minted.set(None)>"Done"</button>
                </div>
            }})}
            <table class="grid" id="tokens">
                <thead><tr><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"By"</th><th scope="col">"Expires"</th><th scope="col">"Last used"</th><th scope="col">""</th></tr></thead>
                <tbody>
                    <For each=move || tokens.get() key=|t| (t.id, t.revoked_at.clone(), t.last_used_at.clone()) let:t>
                        <tr>
                            <td>{t.name.clone()}</td>
                            <td>{t.role.as_str()}</td>
                            <td>{t.created_by.clone()}</td>
                            <td title=t.expires_at.clone()>{t.expires_at.chars().take(10).collect::<String>()}</td>
                            <td>{t.last_used_at.clone().map(|at| view! { <RelTime at=at/> }.into_any()).unwrap_or_else(|| "never".into_any())}</td>
                            <td>{match t.revoked_at.clone() {
                                Some(_) => view! { <span class="tag warn">"revoked"</span> }.into_any(),
                                None => view! {
                                    <button type="button" class="danger" on:click={
                                        let which = t.name.clone();
                                        move |_| if confirm(&format!("Revoke the token “{which}”? Whatever uses it stops at once.")) {
                                            act(Box::pin(async move { api::revoke_token(t.id).await.map(|_| ()) }))
                                        }
                                    }>"Revoke"</button>
                                }.into_any(),
                            }}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            <form class="inline-form" on:submit=mint aria-label="Make an API token">
                <input aria-label="Token name" placeholder="name, e.g. nightly-export" required prop:value=move || token_name.get() on:input=move |ev| token_name.set(event_target_value(&ev))/>
                <select aria-label="Token role" on:change=move |ev| if let Some(r) = Role::parse(&event_target_value(&ev)) { token_role.set(r) }>{role_options(Role::Viewer)}</select>
                <input aria-label="Days valid" type="number" min="1" max="366" prop:value=move || token_days.get().to_string() on:input=move |ev| token_days.set(event_target_value(&ev).parse().unwrap_or(90))/>
                <button type="submit" class="primary">"Make token"</button>
            </form>
        </section>
    }
}

/// A new password for user `id` (`who`), typed twice, masked (never `window.prompt`, which shows it
/// as typed). A refusal (too short, say) keeps the dialog open with the reason and what was typed;
/// `open` closes it, and `done` says so once the password is set. Signals, not a callback: set after
/// the page was left, a signal is a no-op where a callback would panic.
#[component]
fn PasswordDialog(
    id: i64,
    who: String,
    open: RwSignal<Option<(i64, String)>>,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    let (first, again) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<String>);
    let said = format!("Password set for {who}.");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = first.get_untracked();
        if password != again.get_untracked() {
            problem.set(Some("The two passwords differ.".into()));
            return;
        }
        let said = said.clone();
        leptos::task::spawn_local(async move {
            let change = UserUpdate {
                role: None,
                password: Some(password),
            };
            match api::update_user(id, &change).await {
                Ok(_) => {
                    open.set(None);
                    done.set(Some(said));
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let input = move |label: &'static str, value: RwSignal<String>| {
        view! {
            <label>
                {label}
                <input type="password" autocomplete="new-password" minlength="12" required
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="password-title" id="password-dialog">
            <form on:submit=submit>
                <h2 id="password-title">{format!("New password for {who}")}</h2>
                {input("Password (12+ characters)", first)}
                {input("Again", again)}
                {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
                <button type="submit" class="primary">"Set password"</button>
                <button type="button" on:click=move |_| open.set(None)>"Cancel"</button>
            </form>
        </div>
    }
}
