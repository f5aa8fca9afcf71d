//! Who is signed in, for every page: the backend is the guard, this only hides what a role cannot do.

use hermod_shared::console::{Role, SessionInfo};
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    Checking,
    LoggedOut,
    LoggedIn(SessionInfo),
}

pub type Session = RwSignal<SessionState>;

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Whether the signed-in user has at least `role`.
pub fn allows(session: Session, role: Role) -> bool {
    session.with(|s| matches!(s, SessionState::LoggedIn(info) if info.role >= role))
}
