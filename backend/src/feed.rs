//! The live half of the feed: events are published here after their transaction commits, in sequence
//! order (there is one writer). The stored half, for replay, is the store's. Each event is framed for
//! server-sent events once, here; every stream writes the same bytes.

use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A committed feed event, framed for SSE.
#[derive(Debug, Clone)]
pub struct Published {
    pub seq: i64,
    /// `id: …`, `event: …` and `data: …` lines and the blank line that ends the event.
    pub frame: Bytes,
}

impl Published {
    /// `data` is one JSON `FeedEvent`; compact JSON has no line breaks, so it is one `data:` line.
    pub fn new(seq: i64, name: &str, data: &str) -> Published {
        Published::writing(seq, name, data.len(), |frame| frame.push_str(data))
    }

    /// [`Published::new`] for data written straight into the frame (`size`: about how long it is),
    /// so a big event is copied once.
    pub fn writing(seq: i64, name: &str, size: usize, data: impl FnOnce(&mut String)) -> Published {
        let mut frame = String::with_capacity(size + name.len() + 40);
        frame.push_str("id: ");
        frame.push_str(&seq.to_string());
        frame.push_str("\nevent: ");
        frame.push_str(name);
        frame.push_str("\ndata: ");
        data(&mut frame);
        frame.push_str("\n\n");
        Published {
            seq,
            frame: Bytes::from(frame),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::Published;

    #[test]
    fn an_event_is_framed_once_as_sse() {
        let p = Published::new(7, "callback", r#"{"a":"b\nc"}"#);
        assert_eq!(
            &p.frame[..],
            b"id: 7\nevent: callback\ndata: {\"a\":\"b\\nc\"}\n\n"
        );
    }
}
