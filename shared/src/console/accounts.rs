//! The console's accounts: roles, sessions, users, API tokens, the audit log and the route table
//! (README.md, "Security").

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// What a signed-in caller may do; each role includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the feed, commands and callbacks.
    Viewer,
    /// Also sends, polls, re-issues and saves templates.
    Operator,
    /// Also manages users and API tokens and reads the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// `GET /api/session`: who is calling. `csrf_token` goes in `X-CSRF-Token` on every state-changing
/// request of a browser session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    pub user: String,
    pub role: Role,
    pub csrf_token: Option<String>,
    /// When the session (or token) ends at the latest.
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// `PUT /api/users/{id}`: what to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserUpdate {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub expires_in_days: u32,
}

/// The answer to `POST /api/tokens`: the only time the token itself is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MintedToken {
    pub token: String,
    pub record: TokenRecord,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// `user`, `token`, `anonymous` or `system`.
    pub actor_kind: String,
    /// The caller's address, as far as the trusted proxies tell.
    pub source: String,
    pub action: String,
    pub target: Option<String>,
    /// `ok`, `denied`, `failed`.
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: Value,
    /// In a list searched with `q`: where the text was found ("actor", "detail /user", …; see
    /// [`super::MOST_MATCHED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

/// `GET /api/routes`: every API route and the least role it needs (`None`: public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RouteInfo {
    pub method: String,
    pub path: String,
    pub role: Option<Role>,
}

/// `GET /api/audit/chain`: whether the audit log's hash chain holds, from its oldest kept entry to
/// its newest (README.md, "Audit log").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditChain {
    pub intact: bool,
    /// Entries checked (up to the break, when broken).
    pub entries: u64,
    /// The newest link's hash: recorded elsewhere, it shows later that no one rewrote the chain.
    pub head: Option<String>,
    /// The first entry that does not hold, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
