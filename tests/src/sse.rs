//! Reading the live feed (`/api/events`) as a browser's EventSource would: server-sent events parsed
//! from the byte stream, every chunk kept in the transcript.

use crate::Transcript;
use hermod_shared::console::{FeedEvent, Heartbeat};
use reqwest::header::HeaderMap;
use std::future::Future;
use std::time::{Duration, Instant};

/// One server-sent event as framed on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// `event:`; `message` when absent.
    pub event: String,
    pub id: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
}

impl SseEvent {
    /// The `id:` as a sequence number.
    #[track_caller]
    pub fn seq(&self) -> i64 {
        self.id
            .as_deref()
            .unwrap_or_else(|| panic!("event without id: {self:?}"))
            .parse()
            .unwrap_or_else(|_| panic!("id is not an integer: {self:?}"))
    }

    /// The `data:` of a `command` or `callback` event, checked against its `id:` and name.
    #[track_caller]
    pub fn feed(&self) -> FeedEvent {
        let e: FeedEvent = serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("feed data is not a FeedEvent ({err}): {self:?}"));
        assert_eq!(e.seq(), self.seq(), "data seq and id: {self:?}");
        assert_eq!(e.name(), self.event, "event name: {self:?}");
        e
    }

    #[track_caller]
    pub fn heartbeat(&self) -> Heartbeat {
        assert_eq!(self.event, "heartbeat");
        serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("heartbeat data ({err}): {self:?}"))
    }

    pub fn is_heartbeat(&self) -> bool {
        self.event == "heartbeat"
    }
}

/// What reading the stream gave.
#[derive(Debug)]
pub enum Next {
    Event(SseEvent),
    /// The server ended the stream.
    End,
    /// Nothing complete arrived in time.
    Timeout,
}

/// A reader of `/api/events`: parses `event:`/`id:`/`data:`/`retry:` frames from the byte stream.
pub struct Sse {
    response: reqwest::Response,
    buf: Vec<u8>,
    ended: bool,
    event: Option<String>,
    id: Option<String>,
    data: Option<String>,
    retry: Option<u64>,
    transcript: Transcript,
}

impl Sse {
    pub fn new(response: reqwest::Response, transcript: Transcript) -> Sse {
        Sse {
            response,
            buf: Vec::new(),
            ended: false,
            event: None,
            id: None,
            data: None,
            retry: None,
            transcript,
        }
    }

    /// The stream's response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// Parses one complete line from the buffer; returns an event when a blank line completes one.
    fn parse_line(&mut self) -> Option<Option<SseEvent>> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8(line).expect("SSE is UTF-8");
        if line.is_empty() {
            if self.data.is_none() && self.event.is_none() && self.id.is_none() {
                return Some(None);
            }
            let event = SseEvent {
                event: self.event.take().unwrap_or_else(|| "message".into()),
                id: self.id.take(),
                data: self.data.take().unwrap_or_default(),
                retry: self.retry.take(),
            };
            return Some(Some(event));
        }
        if line.starts_with(':') {
            return Some(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
            None => (line.clone(), String::new()),
        };
        match field.as_str() {
            "event" => self.event = Some(value),
            "id" => self.id = Some(value),
            "retry" => self.retry = value.parse().ok(),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(&value);
                }
                None => self.data = Some(value),
            },
            _ => {}
        }
        Some(None)
    }

    /// The next event (heartbeats included), the end of the stream, or a timeout.
    pub async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(parsed) = self.parse_line() {
                if let Some(e) = parsed {
                    return Next::Event(e);
                }
            }
            if self.ended {
                return Next::End;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Timeout,
                Ok(Ok(Some(chunk))) => {
                    self.transcript
                        .lock()
                        .expect("transcript lock")
                        .push_str(&String::from_utf8_lossy(&chunk));
                    self.buf.extend_from_slice(&chunk);
                }
                Ok(Ok(None)) | Ok(Err(_)) => self.ended = true,
            }
        }
    }

    /// The next `command` or `callback` event, skipping heartbeats; panics on end or timeout.
    #[track_caller]
    pub fn next_feed(&mut self, wait: Duration) -> impl Future<Output = SseEvent> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            loop {
                match self.next(wait).await {
                    Next::Event(e) if e.is_heartbeat() => continue,
                    Next::Event(e) => return e,
                    other => panic!("{caller}: expected a feed event, got {other:?}"),
                }
            }
        }
    }

    /// Feed events up to and including the first for which `done` holds (heartbeats skipped).
    pub async fn feed_until(
        &mut self,
        wait: Duration,
        mut done: impl FnMut(&FeedEvent) -> bool,
    ) -> Vec<SseEvent> {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = match self.next(left).await {
                Next::Event(e) if e.is_heartbeat() => continue,
                Next::Event(e) => e,
                other => panic!(
                    "feed ended ({other:?}) before the awaited event; seen: {:?}",
                    seen.iter().map(SseEvent::seq).collect::<Vec<_>>()
                ),
            };
            let stop = done(&e.feed());
            seen.push(e);
            if stop {
                return seen;
            }
        }
    }

    /// Feed events until one with `seq >= last` (inclusive).
    pub async fn feed_to_seq(&mut self, last: i64, wait: Duration) -> Vec<SseEvent> {
        self.feed_until(wait, |e| e.seq() >= last).await
    }
}
