//! Connections that open the live feed. A browser tab holds one for as long as it is open, so a
//! console watched by many holds thousands, nearly all idle. hyper keeps two 8 KiB buffers and its
//! connection state for each of them, for a response that is, from its head on, one long write; here
//! such a connection costs its socket and the feed stream's own state (docs/ARCHITECTURE.md, "The live
//! feed").
//!
//! The request still goes through the whole router (authentication, the guard, every header); only
//! the reading of its head and the writing of the answer are done here. The answer is close-delimited
//! (`Connection: close`, no length): the connection carries this one response and ends with it.

use super::PeerAddr;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, StatusCode, Uri, Version, header};
use futures_util::StreamExt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower::ServiceExt;

/// What the first bytes of a feed request are.
const FEED: &[u8] = b"GET /api/events";
/// A request head larger than this is refused (431).
const MOST_HEAD: usize = 16 << 10;
const MOST_HEADERS: usize = 64;
/// An error answer bigger than this is cut (they are small JSON problems).
const MOST_ERROR_BODY: usize = 64 << 10;

/// What a connection's first bytes say it is.
pub enum First {
    /// A request for the live feed.
    Feed,
    /// Anything else: hyper's.
    Other,
    /// Nothing came in time: a connection to close.
    Silent,
}

/// Looks at the connection's first bytes without reading them, so that any other connection goes to
/// hyper untouched. They must come within `head_timeout`.
pub async fn first(tcp: &TcpStream, head_timeout: Duration) -> First {
    let mut first = [0u8; FEED.len() + 1];
    let deadline = tokio::time::Instant::now() + head_timeout;
    loop {
        let n = match tokio::time::timeout_at(deadline, tcp.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => n,
            Ok(_) => return First::Other,
            Err(_) => return First::Silent,
        };
        let seen = &first[..n];
        if n == first.len() {
            return if seen.starts_with(FEED) && matches!(seen[FEED.len()], b' ' | b'?') {
                First::Feed
            } else {
                First::Other
            };
        }
        if !FEED.starts_with(seen) {
            return First::Other;
        }
        // The request line is arriving in pieces: look again shortly.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The head must arrive within `head_timeout` of the connection's start.
pub async fn serve(mut tcp: TcpStream, peer: SocketAddr, router: Router, head_timeout: Duration) {
    let request = match tokio::time::timeout(head_timeout, read_head(&mut tcp)).await {
        Ok(Ok(Ok(request))) => request,
        Ok(Ok(Err(status))) => return drop(answer(&mut tcp, refused(status)).await),
        Ok(Err(_)) => return,
        Err(_) => return drop(answer(&mut tcp, refused(StatusCode::REQUEST_TIMEOUT)).await),
    };
    let mut request = request;
    request.extensions_mut().insert(ConnectInfo(PeerAddr(peer)));
    let Ok(response) = router.oneshot(request).await;
    let _ = answer(&mut tcp, response).await;
}

/// A refusal before the router saw the request.
fn refused(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// Reads and parses the request head. The outer `Err` is a broken connection; the inner one the
/// answer to give a request that cannot be served.
async fn read_head(tcp: &mut TcpStream) -> io::Result<Result<Request<Body>, StatusCode>> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        tcp.readable().await?;
        let mut chunk = [0u8; 1024];
        match tcp.try_read(&mut chunk) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        let mut headers = [httparse::EMPTY_HEADER; MOST_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => return Ok(request(&parsed)),
            Ok(httparse::Status::Partial) if buf.len() < MOST_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Ok(Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Ok(Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
            }
            Err(_) => return Ok(Err(StatusCode::BAD_REQUEST)),
        }
    }
}

/// The parsed head as a request for the router. A feed request has no body; one that says it has
/// is refused rather than half-read.
fn request(parsed: &httparse::Request<'_, '_>) -> Result<Request<Body>, StatusCode> {
    let bad = || StatusCode::BAD_REQUEST;
    let uri: Uri = parsed.path.ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let version = match parsed.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .version(version)
        .body(Body::empty())
        .map_err(|_| bad())?;
    for h in parsed.headers.iter() {
        let name = header::HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad())?;
        let value = header::HeaderValue::from_bytes(h.value).map_err(|_| bad())?;
        request.headers_mut().append(name, value);
    }
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return Err(bad());
    }
    Ok(request)
}

/// Writes the response: a stream as it comes (ending when it ends, or when the client goes), any
/// other answer whole, with its length.
async fn answer(tcp: &mut TcpStream, response: Response<Body>) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let streaming = parts.status == StatusCode::OK;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"date: ");
    head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
    head.extend_from_slice(b"\r\nconnection: close\r\n");
    let mut body = body.into_data_stream();
    if !streaming {
        let mut whole = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            whole.extend_from_slice(&chunk);
            if whole.len() > MOST_ERROR_BODY {
                break;
            }
        }
        head.extend_from_slice(format!("content-length: {}\r\n\r\n", whole.len()).as_bytes());
        head.extend_from_slice(&whole);
        tcp.write_all(&head).await?;
        return tcp.shutdown().await;
    }
    head.extend_from_slice(b"\r\n");
    tcp.write_all(&head).await?;
    drop(head);
    loop {
        tokio::select! {
            chunk = body.next() => match chunk {
                Some(Ok(bytes)) => tcp.write_all(&bytes).await?,
                _ => break,
            },
            // The client sends nothing more on this connection; readable means it went away (or
            // broke the protocol, which ends it too).
            ready = tcp.readable() => {
                ready?;
                let mut sink = [0u8; 64];
                match tcp.try_read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
        }
    }
    tcp.shutdown().await
}
