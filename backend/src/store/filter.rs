//! What every list takes: one [`Query`] (time window, text search, page) inside each list's filter,
//! and one way to page through it.

use hermod_shared::console::ListPage;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// The part of a list filter every list shares. Times in milliseconds, already parsed.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Text to look for (case-insensitive substring).
    pub q: Option<String>,
    pub page: Page,
}

/// Newest first, `limit` at a time, below the previous page's last id.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub before_id: Option<i64>,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: DEFAULT_LIMIT,
            before_id: None,
        }
    }
}

impl Query {
    /// The search text, trimmed and lower-cased, when there is one.
    pub fn search(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase)
    }
}

/// Filters of `GET /api/commands`.
#[derive(Debug, Default, Clone)]
pub struct CommandFilter {
    pub command_type: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    /// Only those whose callback is overdue (`true`), or none of them.
    pub overdue: Option<bool>,
    /// Those whose `reason` holds this text, in any case.
    pub reason: Option<String>,
    /// Those of this device (its key).
    pub device: Option<String>,
    pub query: Query,
}

/// Filters of `GET /api/callbacks`.
#[derive(Debug, Default, Clone)]
pub struct CallbackFilter {
    pub callback_type: Option<String>,
    pub state: Option<String>,
    pub client: Option<String>,
    pub unmatched: Option<bool>,
    pub command: Option<i64>,
    /// Those of this device (its key).
    pub device: Option<String>,
    pub query: Query,
}

/// Filters of `GET /api/devices`: `q` is held by the key, the window is on when last seen.
#[derive(Debug, Default, Clone)]
pub struct DeviceFilter {
    pub query: Query,
}

/// Filters of `GET /api/audit`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub query: Query,
}

/// A list filter: exports walk its whole view page by page.
pub trait Paged: Clone + Send + Sync + 'static {
    fn query(&self) -> &Query;
    fn query_mut(&mut self) -> &mut Query;

    /// This filter for the export page of ids below `before_id`, in the largest pages.
    fn export_page(&self, before_id: Option<i64>) -> Self {
        let mut f = self.clone();
        f.query_mut().page = Page {
            limit: MAX_LIMIT,
            before_id,
        };
        f
    }
}

macro_rules! paged {
    ($($t:ty),*) => {$(
        impl Paged for $t {
            fn query(&self) -> &Query {
                &self.query
            }
            fn query_mut(&mut self) -> &mut Query {
                &mut self.query
            }
        }
    )*};
}
paged!(CommandFilter, CallbackFilter, AuditFilter, DeviceFilter);

/// A list page from the rows read (one more than the limit, when there are more): the items and the
/// cursor of the next page.
pub fn page<T>(
    mut items: Vec<T>,
    page: Page,
    id: impl Fn(&T) -> i64,
    feed_seq: i64,
) -> ListPage<T> {
    let next_cursor = if items.len() as i64 > page.limit {
        items.truncate(page.limit as usize);
        items.last().map(|i| id(i).to_string())
    } else {
        None
    };
    ListPage {
        items,
        next_cursor,
        feed_seq,
        unindexed: 0,
        total: 0,
        total_capped: false,
    }
}
