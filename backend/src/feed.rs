//! The live half of the feed: events are published here after their transaction commits, in sequence
//! order (there is one writer). The stored half, for replay, is the `feed` table.

use std::sync::Arc;
use tokio::sync::broadcast;

/// A committed feed event, already serialised for SSE.
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: i64,
    /// SSE event name: `command` or `callback`.
    pub name: &'static str,
    /// One JSON `FeedEvent`.
    pub data: String,
}

#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Arc<Published>>,
}

impl Feed {
    pub fn new(capacity: usize) -> Feed {
        Feed {
            tx: broadcast::channel(capacity.max(1)).0,
        }
    }

    pub fn publish(&self, events: impl IntoIterator<Item = Published>) {
        for e in events {
            // No subscriber is not an error: the event is in the store for whoever comes later.
            let _ = self.tx.send(Arc::new(e));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }
}
