//! The store, on SQLite (one file in WAL mode beside its journal: `store/sqlite/`) or PostgreSQL
//! (several replicas on one database: `store/postgres/`). One thread writes ([`writer`]), in batches,
//! on its own connection with prepared statements; reads use their own connections ([`readers`]); a
//! second thread indexes bodies for search after they are acknowledged ([`indexer`]); on PostgreSQL
//! a third publishes every replica's events ([`listener`]). One module per kind of record holds that
//! record's SQL, written once for both engines (`store/conn.rs`).

mod audit;
mod callbacks;
pub mod chain;
mod commands;
mod devices;
mod feed;
mod find;
mod indexer;
mod listener;
mod matched;
mod overview;
mod readers;
pub mod retention;
mod select;
mod sessions;
mod states;
mod templates;
mod tokens;
mod users;
mod writer;

use crate::clock::now_ms;
use crate::config::Secret;
use crate::feed::{Feed, Published};
use crate::store::postgres::limits;
use crate::store::sqlite::{self, DB_FILE, schema};
use crate::store::{
    AccountError, AuditEntry, AuditFilter, CallbackFilter, CallbackSaved, CommandFilter, Cutoffs,
    DeviceFilter, Evidence, Exported, Fut, Link, LinkError, NewApiToken, NewCallback, NewCommand,
    NewPoll, NewSession, Pruned, SendResult, SessionRow, Store, StoreError, StoreInstruments,
    StoredDetail, TemplateError, UserChange,
};
use crate::store::{CountIf, Failures, SharedLimits};
use hermod_shared::console::{
    AuditChain, AuditRecord, CallbackRecord, CommandRecord, ListPage, PollRecord, Role,
    TemplateInput, TemplateRecord, TokenRecord, UserRecord,
};
use hermod_shared::devices::{DeviceDetail, DeviceRecord};
use hermod_shared::overview::Overview;
use readers::{Readers, Source};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use writer::{Writer, Writing};

/// How long a search or export waits for the indexer to catch up with what was written before it.
const INDEX_WAIT: Duration = Duration::from_secs(2);

use crate::store::conn::Conn;

/// A stored time (ms) as the API shows it.
fn time(ms: i64) -> String {
    crate::clock::rfc3339(ms)
}

pub struct SqlStore {
    /// Ends the writer thread with the store.
    _stop: writer::StopOnDrop,
    /// On PostgreSQL, what publishes every replica's events here; ends with the store.
    listener: Option<listener::Listener>,
    writer: Writer,
    readers: Readers,
    indexer: indexer::Handle,
    /// Ticks when a session or token ends early (logout, revocation, a user changed or removed).
    access: watch::Sender<u64>,
    /// How much of a callback's body lists and the feed carry.
    summary: usize,
}

/// Opens (or creates) the database under `data_dir`, brings its layout up to date, and starts the
/// writer, which publishes committed events to `feed`, and the indexer. Lists and the feed carry
/// callbacks' bodies cut to `summary` bytes.
pub fn open(data_dir: &Path, feed: Feed, summary: usize) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore::open(data_dir, feed, summary)?))
}

/// [`open`] for a PostgreSQL database at `url`, which other replicas may share: its listener
/// publishes every replica's events to `feed`.
pub async fn open_postgres(
    url: Secret,
    feed: Feed,
    summary: usize,
) -> Result<Arc<dyn Store>, StoreError> {
    // The driver blocks, on a runtime of its own, which it may not start on the server's threads.
    tokio::task::spawn_blocking(move || SqlStore::open_postgres(url.expose(), feed, summary))
        .await
        .map_err(|e| StoreError(format!("opening the store: {e}")))?
        .map(|s| Arc::new(s) as Arc<dyn Store>)
}

impl SqlStore {
    fn open_postgres(url: &str, feed: Feed, summary: usize) -> Result<SqlStore, StoreError> {
        let conn = crate::store::postgres::connect(url)?;
        crate::store::postgres::schema::migrate(&conn)?;
        let mut store = SqlStore::start(
            Writing::Postgres {
                conn: Box::new(conn),
                url: url.to_string(),
            },
            Source::Postgres(url.to_string()),
            feed.clone(),
            summary,
        )?;
        store.listener = Some(listener::start(listener::Ears {
            url: url.to_string(),
            feed,
            progress: store.writer.progress.clone(),
            access: store.access.clone(),
            summary,
        })?);
        Ok(store)
    }

    fn open(data_dir: &Path, feed: Feed, summary: usize) -> Result<SqlStore, StoreError> {
        let path = data_dir.join(DB_FILE);
        sqlite::make(data_dir, &path)?;
        let mut conn = schema::connect(&path, false)?;
        schema::migrate(&mut conn)?;
        SqlStore::start(Writing::Sqlite(conn), Source::Sqlite(path), feed, summary)
    }

    /// The store on a database whose layout is up to date: its writer and indexer started.
    fn start(
        conn: Writing,
        source: Source,
        feed: Feed,
        summary: usize,
    ) -> Result<SqlStore, StoreError> {
        let queued = indexer::waiting(conn.conn())?;
        let writer = Writer::start(conn, feed, queued)?;
        let readers = Readers::new(source);
        let indexer = indexer::start(&writer, readers.clone())?;
        Ok(SqlStore {
            _stop: writer.stop_on_drop(),
            listener: None,
            writer,
            readers,
            indexer,
            access: watch::channel(0).0,
            summary,
        })
    }

    /// Waits (briefly) until what was written before this call is searchable; how many records are
    /// still not.
    async fn searchable(&self) -> u64 {
        self.indexer
            .caught_up(
                self.writer.progress.docs_queued.load(Ordering::Acquire),
                INDEX_WAIT,
            )
            .await
    }

    /// Passes `r` on, first telling open streams to check their session or token when it
    /// succeeded: this replica's at once, the others' through the database.
    async fn ended_access<T, E>(&self, r: Result<T, E>) -> Result<T, E> {
        if r.is_ok() {
            self.access.send_modify(|n| *n = n.wrapping_add(1));
            if self.listener.is_some() {
                let announced = self
                    .writer
                    .write(|b| {
                        b.db().query_row(
                            "SELECT pg_notify(?, '')",
                            &crate::params![listener::ACCESS],
                            |_| Ok(()),
                        )
                    })
                    .await;
                if let Err(e) = announced {
                    // Their streams still check their session at the next heartbeat.
                    tracing::warn!(error = %e, "other replicas were not told of an ended session");
                }
            }
        }
        r
    }
}

impl Store for SqlStore {
    fn close(&self) -> Fut<'_, ()> {
        let writer = self.writer.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || writer.close())
                .await
                .map_err(|e| StoreError(format!("closing the store: {e}")))
        })
    }

    fn instruments(&self) -> StoreInstruments {
        self.writer.progress.instruments.clone()
    }

    fn ping(&self) -> Fut<'_, ()> {
        Box::pin(async move {
            if self.writer.stopped() {
                return Err(StoreError("the store's writer is stopped".into()));
            }
            self.readers
                .lookup(|c| c.one::<i64>("SELECT 1", &[]).map(drop))
                .await?;
            self.writer.write(|_| Ok::<_, StoreError>(())).await
        })
    }

    fn insert_command(&self, c: NewCommand) -> Fut<'_, CommandRecord> {
        Box::pin(
            self.writer
                .write_repeatable(move |b| commands::insert(b, &c)),
        )
    }

    fn finish_send(&self, s: SendResult) -> Fut<'_, CommandRecord> {
        Box::pin(
            self.writer
                .write_repeatable(move |b| commands::finish_send(b, &s)),
        )
    }

    fn insert_poll(&self, p: NewPoll) -> Fut<'_, (PollRecord, CommandRecord)> {
        Box::pin(self.writer.write(move |b| commands::insert_poll(b, p)))
    }

    fn link_command(&self, l: Link) -> Fut<'_, CommandRecord, LinkError> {
        Box::pin(self.writer.write(move |b| commands::link(b, l)))
    }

    fn insert_callback(&self, c: NewCallback) -> Fut<'_, CallbackSaved> {
        // Prepared here, on the request's thread, so the writer's own work per callback stays small.
        match callbacks::Prepared::new(c, self.summary) {
            Ok(p) => Box::pin(
                self.writer
                    .write_repeatable(move |b| callbacks::insert(b, &p)),
            ),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn command(&self, id: i64) -> Fut<'_, Option<CommandRecord>> {
        Box::pin(self.readers.lookup(move |c| states::by_id(c, id)))
    }

    fn due_follow_ups(
        &self,
        clients: Vec<String>,
        after_ms: i64,
        max_polls: u32,
        limit: usize,
    ) -> Fut<'_, Vec<i64>> {
        Box::pin(self.readers.scan(move |c| {
            let due = commands::Due {
                now: now_ms(),
                after_ms,
                max_polls,
                limit,
            };
            commands::due_follow_ups(c, &clients, due)
        }))
    }

    fn mark_overdue(&self, after_ms: i64, limit: usize) -> Fut<'_, Vec<CommandRecord>> {
        Box::pin(
            self.writer
                .write(move |b| commands::mark_overdue(b, after_ms, limit)),
        )
    }

    fn callback(&self, id: i64) -> Fut<'_, Option<CallbackRecord>> {
        // Bodies may be megabytes: off the request threads.
        Box::pin(self.readers.scan(move |c| callbacks::by_id(c, id)))
    }

    fn poll(&self, id: i64) -> Fut<'_, Option<PollRecord>> {
        Box::pin(self.readers.scan(move |c| commands::poll(c, id)))
    }

    fn command_detail(&self, id: i64, most: Option<usize>) -> Fut<'_, Option<StoredDetail>> {
        Box::pin(self.readers.scan(move |c| commands::detail(c, id, most)))
    }

    fn evidence(&self, id: i64) -> Fut<'_, Option<Evidence>> {
        Box::pin(self.readers.scan(move |c| commands::evidence(c, id)))
    }

    fn list_commands(&self, f: CommandFilter) -> Fut<'_, ListPage<CommandRecord>> {
        Box::pin(async move {
            self.searchable_list(f.query.search().is_some(), move |c| commands::list(c, &f))
                .await
        })
    }

    fn list_devices(&self, f: DeviceFilter) -> Fut<'_, ListPage<DeviceRecord>> {
        Box::pin(self.readers.scan(move |c| devices::list(c, &f)))
    }

    fn device(&self, key: String) -> Fut<'_, Option<DeviceDetail>> {
        Box::pin(self.readers.scan(move |c| devices::detail(c, &key)))
    }

    fn overview(&self, since: i64, until: i64) -> Fut<'_, Overview> {
        Box::pin(
            self.readers
                .scan(move |c| overview::overview(c, since, until)),
        )
    }

    fn list_callbacks(&self, f: CallbackFilter) -> Fut<'_, ListPage<CallbackRecord>> {
        Box::pin(async move {
            let mut page = self
                .searchable_list(f.query.search().is_some(), move |c| callbacks::list(c, &f))
                .await?;
            page.items = page
                .items
                .into_iter()
                .map(|c| c.summarized(self.summary))
                .collect();
            Ok(page)
        })
    }

    fn export_commands(&self, f: CommandFilter) -> Fut<'_, ListPage<Exported<CommandRecord>>> {
        Box::pin(async move {
            self.searchable_list(true, move |c| commands::export(c, &f))
                .await
        })
    }

    fn export_callbacks(&self, f: CallbackFilter) -> Fut<'_, ListPage<Exported<CallbackRecord>>> {
        Box::pin(async move {
            self.searchable_list(true, move |c| callbacks::export(c, &f))
                .await
        })
    }

    fn feed_after(
        &self,
        after: i64,
        max_events: usize,
        max_bytes: usize,
    ) -> Fut<'_, Vec<Published>> {
        let summary = self.summary;
        Box::pin(
            self.readers
                .scan(move |c| feed::after(c, after, max_events, max_bytes, summary)),
        )
    }

    fn current_seq(&self) -> i64 {
        self.writer.progress.seq.load(Ordering::Acquire)
    }

    fn lease(&self, job: &'static str, holder: &str, ttl_ms: i64) -> Fut<'_, bool> {
        if self.listener.is_none() {
            return Box::pin(std::future::ready(Ok(true)));
        }
        let holder = holder.to_string();
        Box::pin(self.writer.write(move |b| {
            let until = b.now().saturating_add(ttl_ms);
            crate::store::postgres::lease::take(b.db(), job, &holder, b.now(), until)
        }))
    }

    fn shared_limits(self: Arc<Self>) -> Option<Arc<dyn SharedLimits>> {
        if self.listener.is_some() {
            Some(self)
        } else {
            None
        }
    }

    fn prune(&self, cutoffs: Cutoffs, batch: usize) -> Fut<'_, Pruned> {
        Box::pin(async move {
            // Nothing waits on it: it gives way to requests as the indexer does.
            indexer::wait_for_a_pause(&self.writer).await;
            self.writer
                .write_in_background(move |b| retention::prune(b, &cutoffs, batch))
                .await
        })
    }

    fn user_count(&self) -> Fut<'_, i64> {
        Box::pin(self.readers.lookup(users::count))
    }

    fn users(&self) -> Fut<'_, Vec<UserRecord>> {
        Box::pin(self.readers.scan(users::all))
    }

    fn user_by_name(&self, username: String) -> Fut<'_, Option<(UserRecord, String)>> {
        Box::pin(self.readers.lookup(move |c| users::by_name(c, &username)))
    }

    fn create_user(
        &self,
        username: String,
        password_hash: String,
        role: Role,
    ) -> Fut<'_, UserRecord, AccountError> {
        Box::pin(
            self.writer
                .write(move |b| users::create(b, &username, &password_hash, role)),
        )
    }

    fn update_user(
        &self,
        id: i64,
        role: Option<Role>,
        password_hash: Option<String>,
    ) -> Fut<'_, UserChange, AccountError> {
        Box::pin(async move {
            let r = self
                .writer
                .write(move |b| users::update(b, id, role, password_hash))
                .await;
            self.ended_access(r).await
        })
    }

    fn delete_user(&self, id: i64) -> Fut<'_, UserChange, AccountError> {
        Box::pin(async move {
            let r = self.writer.write(move |b| users::delete(b, id)).await;
            self.ended_access(r).await
        })
    }

    fn create_session(&self, s: NewSession) -> Fut<'_, ()> {
        Box::pin(self.writer.write(move |b| sessions::create(b, s)))
    }

    fn session(&self, token_hash: String) -> Fut<'_, Option<SessionRow>> {
        Box::pin(
            self.readers
                .lookup(move |c| sessions::by_hash(c, &token_hash)),
        )
    }

    fn touch_session(&self, token_hash: String) -> Fut<'_, ()> {
        Box::pin(self.writer.write(move |b| sessions::touch(b, &token_hash)))
    }

    fn revoke_session(&self, token_hash: String) -> Fut<'_, ()> {
        Box::pin(async move {
            let r = self
                .writer
                .write(move |b| sessions::revoke(b, &token_hash))
                .await;
            self.ended_access(r).await
        })
    }

    fn create_token(&self, t: NewApiToken) -> Fut<'_, TokenRecord> {
        Box::pin(self.writer.write(move |b| tokens::create(b, t)))
    }

    fn tokens(&self) -> Fut<'_, Vec<TokenRecord>> {
        Box::pin(self.readers.scan(tokens::all))
    }

    fn token(&self, token_hash: String) -> Fut<'_, Option<TokenRecord>> {
        Box::pin(
            self.readers
                .lookup(move |c| tokens::by_hash(c, &token_hash)),
        )
    }

    fn touch_token(&self, id: i64) -> Fut<'_, ()> {
        Box::pin(self.writer.write(move |b| tokens::touch(b, id)))
    }

    fn revoke_token(&self, id: i64) -> Fut<'_, Option<TokenRecord>> {
        Box::pin(async move {
            let r = self.writer.write(move |b| tokens::revoke(b, id)).await;
            self.ended_access(r).await
        })
    }

    fn access_changes(&self) -> watch::Receiver<u64> {
        self.access.subscribe()
    }

    fn audit(&self, entry: AuditEntry) -> Fut<'_, ()> {
        Box::pin(self.writer.write(move |b| audit::append(b, &entry)))
    }

    fn list_audit(&self, f: AuditFilter) -> Fut<'_, ListPage<AuditRecord>> {
        Box::pin(self.readers.scan(move |c| audit::list(c, &f)))
    }

    fn audit_chain(&self) -> Fut<'_, AuditChain> {
        // One read transaction: the chain as of one moment, however long the walk.
        Box::pin(self.readers.scan(|c| c.snapshot(chain::verify)))
    }

    fn templates(&self) -> Fut<'_, Vec<TemplateRecord>> {
        Box::pin(self.readers.scan(templates::all))
    }

    fn save_template(
        &self,
        id: Option<i64>,
        input: TemplateInput,
        by: String,
    ) -> Fut<'_, TemplateRecord, TemplateError> {
        Box::pin(
            self.writer
                .write(move |b| templates::save(b, id, &input, &by)),
        )
    }

    fn delete_template(&self, id: i64) -> Fut<'_, Option<TemplateRecord>> {
        Box::pin(self.writer.write(move |b| templates::delete(b, id)))
    }
}

/// Only on PostgreSQL ([`Store::shared_limits`]): the SQL is its own.
impl SharedLimits for SqlStore {
    fn login_attempt(
        &self,
        keys: [String; 3],
        window_ms: i64,
        count: CountIf,
    ) -> Fut<'_, [Failures; 3]> {
        Box::pin(
            self.writer
                .write(move |b| limits::login_attempt(b.db(), b.now(), &keys, window_ms, count)),
        )
    }

    fn login_forgiven(&self, forget: Vec<String>, take_back: String) -> Fut<'_, ()> {
        Box::pin(
            self.writer
                .write(move |b| limits::login_forgiven(b.db(), &forget, &take_back)),
        )
    }

    fn open_stream(&self, key: String, id: String, max: usize, ttl_ms: i64) -> Fut<'_, bool> {
        Box::pin(self.writer.write(move |b| {
            let until = b.now().saturating_add(ttl_ms);
            limits::open_stream(b.db(), b.now(), &key, &id, max, until)
        }))
    }

    fn renew_streams(&self, ids: Vec<String>, ttl_ms: i64) -> Fut<'_, ()> {
        Box::pin(self.writer.write(move |b| {
            let until = b.now().saturating_add(ttl_ms);
            limits::renew_streams(b.db(), b.now(), &ids, until)
        }))
    }

    fn close_stream(&self, id: String) -> Fut<'_, ()> {
        Box::pin(
            self.writer
                .write(move |b| limits::close_stream(b.db(), &id)),
        )
    }
}

impl SqlStore {
    /// A list read. With `search`, it first waits (briefly) for the indexer, and says how many of the
    /// newest records it could not search yet.
    async fn searchable_list<T: Send + 'static>(
        &self,
        search: bool,
        read: impl FnOnce(Conn<'_>) -> Result<ListPage<T>, StoreError> + Send + 'static,
    ) -> Result<ListPage<T>, StoreError> {
        let unindexed = if search { self.searchable().await } else { 0 };
        let mut page = self.readers.scan(read).await?;
        page.unindexed = unindexed;
        Ok(page)
    }
}

#[cfg(test)]
mod tests;
