//! The store's boundary: everything the routes may ask of the database, as the [`Store`] trait, with
//! the types that cross it. The routes see nothing else, so a second engine implements this trait and
//! no route changes. The one implementation today is SQLite ([`sqlite`]), described in
//! docs/ARCHITECTURE.md ("The store").

pub mod conn;
pub mod filter;
pub mod postgres;
pub mod search;
pub mod sql;
pub mod sqlite;

pub use filter::{AuditFilter, CallbackFilter, CommandFilter, DeviceFilter, Page, Paged, Query};

use crate::feed::Published;
use futures_util::future::BoxFuture;
use hermod_shared::console::{
    AuditChain, AuditRecord, CallbackRecord, CommandDetail, CommandRecord, CommandState,
    HermodReply, ListPage, PollRecord, Role, TemplateInput, TemplateRecord, TokenRecord,
    UserRecord,
};
use hermod_shared::devices::{DeviceDetail, DeviceRecord};
use hermod_shared::hermod::Destination;
use hermod_shared::overview::Overview;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The database failed (or is unavailable): nothing was written. Routes answer 503. The writer
/// answers every job of a failed transaction with it, so it is `Clone`: the cause is kept as text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("stored JSON: {e}"))
    }
}

/// A store call's future.
pub type Fut<'a, T, E = StoreError> = BoxFuture<'a, Result<T, E>>;

/// A command about to be sent: recorded as `SENDING` first, so nothing is lost if the send never ends.
pub struct NewCommand {
    pub client: String,
    pub command_type: String,
    pub external_id: Option<String>,
    pub request: Value,
    pub reissue_of: Option<i64>,
    pub created_by: Option<String>,
}

/// What came of sending a command to Hermod, and the audit line that says so: both are committed
/// together, so a send is never finished without its audit line or audited without its outcome.
pub struct SendResult {
    pub id: i64,
    pub state: CommandState,
    pub command_id: Option<String>,
    pub destinations: Vec<Destination>,
    pub reply: HermodReply,
    pub expires_at: Option<i64>,
    /// Why the send failed, when it did (kept only with a failed state: `states::failure`).
    pub reason: Option<String>,
    /// Written with the outcome; `detail` gains the command's `command_id` and `state` as stored.
    pub audit: AuditEntry,
}

#[derive(Clone)]
pub struct NewCallback {
    pub received_at: i64,
    pub client: Option<String>,
    pub callback_type: String,
    pub command_id: Option<String>,
    pub state: Option<String>,
    /// Its error as one line (`hermod::reason`), which becomes its command's when it ends it.
    pub reason: Option<String>,
    pub external_id: Option<String>,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub auth: String,
    /// The path it was posted to.
    pub path: String,
}

pub enum CallbackSaved {
    /// Stored under this id.
    Stored(i64),
    /// The same delivery was stored before, under this id.
    Duplicate(i64),
}

/// An operator's word that a command whose send ended unknown was created by Hermod as `command_id`.
pub struct Link {
    pub id: i64,
    pub command_id: String,
    pub audit: AuditEntry,
}

/// Why a command could not be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no such command")]
    NotFound,
    /// Only a send that ended unknown, with no commandId yet, is linked by hand.
    #[error("command {0} is {1}: only a SEND_UNKNOWN command without a commandId can be linked")]
    NotUnknown(i64, CommandState),
    #[error("command {0} of the same client already has that commandId")]
    Taken(i64),
}

pub struct NewPoll {
    pub command: i64,
    pub reply: HermodReply,
    /// The state the answer reports, if it reports one.
    pub state: Option<CommandState>,
    /// The error it reports, as one line.
    pub reason: Option<String>,
}

/// A command's detail as stored. The indexer decodes each body once, after it is acknowledged, and
/// keeps what it found: those steps carry it. `undecoded` holds the positions in the timeline of the
/// steps it has not reached yet (the newest, under load), which whoever shows them decodes.
#[derive(Debug)]
pub struct StoredDetail {
    pub detail: CommandDetail,
    pub undecoded: Vec<usize>,
}

/// Everything kept about one command, for its evidence file (routes/evidence.rs): its whole
/// detail, every callback and poll, and the audit entries about it (its send, polls, link).
#[derive(Debug)]
pub struct Evidence {
    pub detail: StoredDetail,
    pub audit: Vec<AuditRecord>,
}

/// A record as exported: with the words decoded from it (certificate subjects, serials, expiry…).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Exported{T}")]
pub struct Exported<T> {
    #[serde(flatten)]
    pub record: T,
    /// The words decoded from it: certificate subjects, serials, expiry, signers, decoded text.
    pub decoded: String,
}

/// A live session with its user, as the authentication middleware needs it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A session about to start; the store keeps only the token's hash.
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: i64,
    pub source: String,
}

/// An API token about to be minted.
pub struct NewApiToken {
    pub name: String,
    pub token_hash: String,
    pub role: Role,
    pub created_by: String,
    pub expires_at: i64,
}

/// What an audit line records; the id and time are the store's.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub actor_kind: &'static str,
    pub source: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: &'static str,
    pub request_id: Option<String>,
    pub detail: Value,
}

/// A user as a change left them, and the API tokens of theirs it revoked.
#[derive(Debug)]
pub struct UserChange {
    pub user: UserRecord,
    pub tokens_revoked: u64,
}

/// Why a user change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("that username is taken")]
    Exists,
    #[error("no such user")]
    NotFound,
    #[error("this would leave the console without an admin; make someone else admin first")]
    LastAdmin,
}

/// Why a template change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a template with that name exists")]
    NameTaken,
    #[error("no such template")]
    NotFound,
}

/// What retention lets go now, as times (ms since the epoch): a record whose last change is older
/// than its kind's cutoff goes; `None` keeps that kind. A command goes with its callbacks and polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cutoffs {
    pub commands: Option<i64>,
    pub unmatched_callbacks: Option<i64>,
    pub feed: Option<i64>,
    pub audit: Option<i64>,
}

impl Cutoffs {
    /// The cutoff each of [`Pruned::counts`] is counted against, in the same order.
    pub fn of_counts(&self) -> [Option<i64>; 6] {
        let c = self;
        [
            c.commands,
            c.commands,
            c.commands,
            c.unmatched_callbacks,
            c.feed,
            c.audit,
        ]
    }
}

/// Rows retention removed (or, in a dry run, would remove), by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub commands: u64,
    /// The callbacks and polls of those commands.
    pub callbacks: u64,
    pub polls: u64,
    pub unmatched_callbacks: u64,
    pub feed: u64,
    pub audit: u64,
}

impl Pruned {
    /// Each count with the name `/metrics` labels it with and `prune` prints it under.
    pub fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("commands", self.commands),
            ("callbacks", self.callbacks),
            ("polls", self.polls),
            ("unmatched_callbacks", self.unmatched_callbacks),
            ("feed", self.feed),
            ("audit", self.audit),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.counts().iter().all(|(_, n)| *n == 0)
    }
}

impl std::ops::AddAssign for Pruned {
    fn add_assign(&mut self, o: Pruned) {
        self.commands += o.commands;
        self.callbacks += o.callbacks;
        self.polls += o.polls;
        self.unmatched_callbacks += o.unmatched_callbacks;
        self.feed += o.feed;
        self.audit += o.audit;
    }
}

/// What a store measures of its own work: live handles onto the series `/metrics` shows.
#[derive(Clone)]
pub struct StoreInstruments {
    pub commits: Counter,
    /// Writes in those transactions (their ratio to commits is the batch size).
    pub writes: Counter,
    /// Writes per transaction.
    pub batch_size: Histogram,
    /// How long each COMMIT took, its sync to disk included.
    pub commit_seconds: Histogram,
}

impl Default for StoreInstruments {
    fn default() -> StoreInstruments {
        StoreInstruments {
            commits: Counter::default(),
            writes: Counter::default(),
            // 1 to 512 (the writer's largest batch).
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            // 0.1 ms to about 3 s.
            commit_seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
        }
    }
}

/// A key's failed logins within the login window: how many, and how long ago the oldest was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: usize,
    pub oldest: Duration,
}

/// Decides, from what an attempt's keys have failed so far, whether the attempt counts as one more
/// failure (auth/limiter.rs holds the rules).
pub type CountIf = Box<dyn FnOnce(&[Failures; 3]) -> bool + Send>;

/// What replicas sharing a database count together, so that a limit holds across all of them and
/// not per replica: failed logins (auth/limiter.rs) and open live-feed streams (auth/mod.rs). Each
/// call is one transaction, whose counting sees every replica's committed rows and waits for a
/// replica counting the same keys at the same moment.
pub trait SharedLimits: Send + Sync {
    /// The failed logins under each of `keys` in the last `window_ms` (older ones are forgotten), and,
    /// when `count` says so, this attempt recorded as a failure under every key.
    fn login_attempt(
        &self,
        keys: [String; 3],
        window_ms: i64,
        count: CountIf,
    ) -> Fut<'_, [Failures; 3]>;
    /// Forgets every failure under `forget`, and the newest under `take_back`.
    fn login_forgiven(&self, forget: Vec<String>, take_back: String) -> Fut<'_, ()>;
    /// Opens stream `id` under `key` for `ttl_ms`, unless `max` streams of `key` are open (those whose
    /// time ran out are not): whether it did.
    fn open_stream(&self, key: String, id: String, max: usize, ttl_ms: i64) -> Fut<'_, bool>;
    /// Keeps streams `ids` open for another `ttl_ms`.
    fn renew_streams(&self, ids: Vec<String>, ttl_ms: i64) -> Fut<'_, ()>;
    /// Closes stream `id`, freeing its place.
    fn close_stream(&self, id: String) -> Fut<'_, ()>;
}

/// Everything the console keeps. Writes are durable when their future resolves `Ok` (the callback
/// receiver acknowledges only then), and every feed event they make is published, in sequence order,
/// after its transaction commits.
pub trait Store: Send + Sync {
    /// Finishes the writes asked for so far and stops writing; later writes fail. For a clean stop.
    fn close(&self) -> Fut<'_, ()>;

    /// The store's measures of its own work, for `/metrics`.
    fn instruments(&self) -> StoreInstruments;

    /// Readiness: the database answers and its writer runs.
    fn ping(&self) -> Fut<'_, ()>;

    // Commands, their polls and callbacks.
    fn insert_command(&self, c: NewCommand) -> Fut<'_, CommandRecord>;
    fn finish_send(&self, s: SendResult) -> Fut<'_, CommandRecord>;
    fn insert_poll(&self, p: NewPoll) -> Fut<'_, (PollRecord, CommandRecord)>;
    /// Gives a SEND_UNKNOWN command the commandId Hermod created it under; its callbacks that came
    /// meanwhile are matched, as when the create answer names the id.
    fn link_command(&self, l: Link) -> Fut<'_, CommandRecord, LinkError>;
    fn insert_callback(&self, c: NewCallback) -> Fut<'_, CallbackSaved>;
    fn command(&self, id: i64) -> Fut<'_, Option<CommandRecord>>;
    /// Commands of `clients` to follow up: past their expiry by `after_ms` × 2^(polls since the
    /// expiry), with a commandId, no callback, and fewer than `max_polls` polls since the expiry.
    /// Oldest first.
    fn due_follow_ups(
        &self,
        clients: Vec<String>,
        after_ms: i64,
        max_polls: u32,
        limit: usize,
    ) -> Fut<'_, Vec<i64>>;
    /// Marks overdue the commands Hermod accepted whose callback has not come `after_ms` past their
    /// expiry (at most `limit`, the longest awaited first), each with an `overdue` feed event; a
    /// callback clears the mark. Gives the commands marked.
    fn mark_overdue(&self, after_ms: i64, limit: usize) -> Fut<'_, Vec<CommandRecord>>;
    /// One callback, whole.
    fn callback(&self, id: i64) -> Fut<'_, Option<CallbackRecord>>;
    /// One poll, whole.
    fn poll(&self, id: i64) -> Fut<'_, Option<PollRecord>>;
    /// One command and everything that happened to it, in time order, each step with what was
    /// decoded of it when it was indexed: with `most`, only its newest `most` callbacks and newest
    /// `most` polls, the rest counted in `omitted`.
    fn command_detail(&self, id: i64, most: Option<usize>) -> Fut<'_, Option<StoredDetail>>;
    /// Everything kept about command `id`, read at one moment.
    fn evidence(&self, id: i64) -> Fut<'_, Option<Evidence>>;
    fn list_commands(&self, f: CommandFilter) -> Fut<'_, ListPage<CommandRecord>>;
    fn list_callbacks(&self, f: CallbackFilter) -> Fut<'_, ListPage<CallbackRecord>>;
    fn export_commands(&self, f: CommandFilter) -> Fut<'_, ListPage<Exported<CommandRecord>>>;
    fn export_callbacks(&self, f: CallbackFilter) -> Fut<'_, ListPage<Exported<CallbackRecord>>>;
    fn list_devices(&self, f: DeviceFilter) -> Fut<'_, ListPage<DeviceRecord>>;
    /// Device `key` and the certificates it was seen with; None when no document names it.
    fn device(&self, key: String) -> Fut<'_, Option<DeviceDetail>>;
    /// The commands created in `[since, until)` (ms), per type and client (README, "The console": Overview).
    fn overview(&self, since: i64, until: i64) -> Fut<'_, Overview>;

    // The feed's history.
    /// Stored events after `after`, oldest first: at most `max_events`, and no more than about
    /// `max_bytes` of event data (always at least one event when there is one). When retention
    /// removed events after `after`, a `reset` event comes first (README, "The live feed").
    fn feed_after(
        &self,
        after: i64,
        max_events: usize,
        max_bytes: usize,
    ) -> Fut<'_, Vec<Published>>;
    /// The sequence of the newest committed event.
    fn current_seq(&self) -> i64;

    // Work on a timer.
    /// Takes or renews, for `holder` (a replica), the lease on `job` for `ttl_ms`: whether `holder`
    /// runs it now. Of replicas sharing a database one runs each job at a time; a store only one
    /// process uses (SQLite) always says yes.
    fn lease(&self, job: &'static str, holder: &str, ttl_ms: i64) -> Fut<'_, bool>;

    // Limits replicas count together.
    /// Where failed logins and open feed streams are counted, for a store replicas may share; `None`
    /// for one only this process uses (SQLite), whose counts stay in the process's memory.
    fn shared_limits(self: Arc<Self>) -> Option<Arc<dyn SharedLimits>>;

    // Retention.
    /// Removes one small batch of what `cutoffs` let go (about `batch` rows of one kind, a command's
    /// callbacks and polls counted with it), when no request is writing; what went. Nothing when
    /// nothing is left to go. Feed events go from the oldest on, and the newest stays.
    fn prune(&self, cutoffs: Cutoffs, batch: usize) -> Fut<'_, Pruned>;

    // Accounts.
    fn user_count(&self) -> Fut<'_, i64>;
    fn users(&self) -> Fut<'_, Vec<UserRecord>>;
    /// The user and their password hash.
    fn user_by_name(&self, username: String) -> Fut<'_, Option<(UserRecord, String)>>;
    fn create_user(
        &self,
        username: String,
        password_hash: String,
        role: Role,
    ) -> Fut<'_, UserRecord, AccountError>;
    /// Changes a user's role and/or password. Changing the password ends their sessions; lowering
    /// the role revokes the API tokens they made with a role above the new one.
    fn update_user(
        &self,
        id: i64,
        role: Option<Role>,
        password_hash: Option<String>,
    ) -> Fut<'_, UserChange, AccountError>;
    /// Removes a user (and so their sessions) and revokes every API token they made, unless they
    /// are the last admin.
    fn delete_user(&self, id: i64) -> Fut<'_, UserChange, AccountError>;

    // Sessions and API tokens.
    fn create_session(&self, s: NewSession) -> Fut<'_, ()>;
    fn session(&self, token_hash: String) -> Fut<'_, Option<SessionRow>>;
    fn touch_session(&self, token_hash: String) -> Fut<'_, ()>;
    fn revoke_session(&self, token_hash: String) -> Fut<'_, ()>;
    fn create_token(&self, t: NewApiToken) -> Fut<'_, TokenRecord>;
    fn tokens(&self) -> Fut<'_, Vec<TokenRecord>>;
    /// The token behind a hash; the caller checks expiry and revocation.
    fn token(&self, token_hash: String) -> Fut<'_, Option<TokenRecord>>;
    fn touch_token(&self, id: i64) -> Fut<'_, ()>;
    /// Revokes a token; `None` when there is no such token.
    fn revoke_token(&self, id: i64) -> Fut<'_, Option<TokenRecord>>;
    /// Ticks after each write that may have ended sessions or tokens (logout, revocation, a user
    /// changed or removed), so open feed streams check theirs at once.
    fn access_changes(&self) -> watch::Receiver<u64>;

    // The audit log (append-only).
    fn audit(&self, entry: AuditEntry) -> Fut<'_, ()>;
    fn list_audit(&self, f: AuditFilter) -> Fut<'_, ListPage<AuditRecord>>;
    /// Whether the audit log's hash chain holds, checked from its oldest kept entry to its newest.
    fn audit_chain(&self) -> Fut<'_, AuditChain>;

    // Templates.
    fn templates(&self) -> Fut<'_, Vec<TemplateRecord>>;
    /// Creates a template (`id` None) or replaces one.
    fn save_template(
        &self,
        id: Option<i64>,
        input: TemplateInput,
        by: String,
    ) -> Fut<'_, TemplateRecord, TemplateError>;
    fn delete_template(&self, id: i64) -> Fut<'_, Option<TemplateRecord>>;
}
