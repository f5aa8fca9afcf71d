//! A lean HTTP/1.1 client over plain TCP. The load generator shares two cores with the server it
//! measures, so every microsecond it spends is taken from the server: a general client (reqwest) costs
//! several times what writing a prepared request and reading `Content-Length` or chunked bytes does.
//! It speaks just enough HTTP for the servers measured here (keep-alive, `Content-Length` or chunked
//! answers), and is not meant for anything else.

use memchr::memmem;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The status line and headers of an answer.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    length: Option<usize>,
    chunked: bool,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Response {
    pub head: Head,
    /// As transferred: chunk framing removed, any content coding kept.
    pub body: Vec<u8>,
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn parse_head(bytes: &[u8]) -> io::Result<Head> {
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("status line {status_line:?}")))?;
    let mut head = Head {
        status,
        headers: Vec::new(),
        length: None,
        chunked: false,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        match name.as_str() {
            "content-length" => head.length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
        head.headers.push((name, value));
    }
    Ok(head)
}

/// `METHOD path HTTP/1.1` with `Host`, `headers`, and `body` with its length.
pub fn request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Conn {
    pub async fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        // Requests are written whole; Nagle would only hold the next one back.
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(16 * 1024),
            pos: 0,
        })
    }

    /// Writes a request made by [`request`] and reads the whole answer.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<Response> {
        self.stream.write_all(request).await?;
        let head = self.read_head().await?;
        let mut body = Vec::new();
        if head.chunked {
            while self.next_chunk(|c| body.extend_from_slice(c)).await? {}
        } else if let Some(n) = head.length {
            self.fill_to(n).await?;
            body.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
        }
        Ok(Response { head, body })
    }

    /// Writes a request and reads only the answer's head: the start of a stream.
    pub async fn open(&mut self, request: &[u8]) -> io::Result<Head> {
        self.stream.write_all(request).await?;
        self.read_head().await
    }

    /// The next piece of a streamed body (`head` is the stream's), handed to `each` without a copy;
    /// `false` at the end of the body.
    pub async fn stream_data(&mut self, head: &Head, each: impl FnMut(&[u8])) -> io::Result<bool> {
        if head.chunked {
            return self.next_chunk(each).await;
        }
        let mut each = each;
        if self.pos == self.buf.len() {
            self.fill().await?;
        }
        each(&self.buf[self.pos..]);
        self.pos = self.buf.len();
        Ok(true)
    }

    async fn read_head(&mut self) -> io::Result<Head> {
        loop {
            if let Some(end) = memmem::find(&self.buf[self.pos..], b"\r\n\r\n") {
                let head = parse_head(&self.buf[self.pos..self.pos + end])?;
                self.pos += end + 4;
                return Ok(head);
            }
            self.fill().await?;
        }
    }

    /// One chunk of a chunked body to `each`; `false` after the last (empty) chunk.
    async fn next_chunk(&mut self, mut each: impl FnMut(&[u8])) -> io::Result<bool> {
        let line = self.line().await?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| invalid(format!("chunk size {size_text:?}")))?;
        if size == 0 {
            while !self.line().await?.is_empty() {}
            return Ok(false);
        }
        self.fill_to(size + 2).await?;
        each(&self.buf[self.pos..self.pos + size]);
        self.pos += size + 2;
        Ok(true)
    }

    async fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = memmem::find(&self.buf[self.pos..], b"\r\n") {
                let line =
                    String::from_utf8_lossy(&self.buf[self.pos..self.pos + end]).into_owned();
                self.pos += end + 2;
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    /// Reads until at least `n` unread bytes are buffered.
    async fn fill_to(&mut self, n: usize) -> io::Result<()> {
        while self.buf.len() - self.pos < n {
            self.fill().await?;
        }
        Ok(())
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.reserve(16 * 1024);
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// Opens a stream and keeps only the socket: for holding thousands of idle streams, where a buffer
/// per connection would cost the load generator more than the server's side costs the server.
pub async fn open_idle(addr: &str, request: &[u8]) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut head = [0u8; 2048];
    let mut len = 0;
    loop {
        let n = stream.read(&mut head[len..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        len += n;
        if let Some(end) = memmem::find(&head[..len], b"\r\n\r\n") {
            let parsed = parse_head(&head[..end])?;
            if parsed.status != 200 {
                return Err(invalid(format!("answered {}", parsed.status)));
            }
            return Ok(stream);
        }
        if len == head.len() {
            return Err(invalid("head over 2 KB"));
        }
    }
}

/// Splits server-sent events out of a byte stream (`\n\n` between events, as axum writes them).
#[derive(Default)]
pub struct SseSplitter {
    pending: Vec<u8>,
}

impl SseSplitter {
    /// Adds received bytes and hands each complete event to `each` as its `id:` (if any) and its
    /// whole text.
    pub fn push(&mut self, data: &[u8], mut each: impl FnMut(Option<u64>, &[u8])) {
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = memmem::find(&self.pending[start..], b"\n\n") {
            let event = &self.pending[start..start + end];
            each(event_id(event), event);
            start += end + 2;
        }
        self.pending.drain(..start);
    }
}

fn event_id(event: &[u8]) -> Option<u64> {
    // A data line cannot hold a newline, so a line starting `id:` is the id field wherever it is.
    let start = if event.starts_with(b"id:") {
        3
    } else {
        memmem::find(event, b"\nid:")? + 4
    };
    let rest = &event[start..];
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.trim().parse().ok()
}
