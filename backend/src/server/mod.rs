//! Listening and shutting down, the same way for the console and the simulator.

mod stream;
pub mod tls;

use stream::First;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// A burst of subscribers connecting at once overflows the default backlog of 128.
const BACKLOG: u32 = 4096;

/// Binds `addr` (port 0 picks a free port).
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let addr: SocketAddr = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot resolve {addr}"),
        )
    })?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The peer's address, for plain and TLS connections alike (`ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// What a listener holds its connections to.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's head (or a TLS handshake) must arrive within this long, counted from the
    /// connection's start or from the previous answer: a client that sends a request slowly, or keeps
    /// an idle connection open, is cut off.
    pub header_read_timeout: Duration,
    /// Connections beyond this many wait in the listen queue until one closes.
    pub max_connections: usize,
    /// On shutdown, open requests (a slow upload, an export, a TLS feed stream) get this long to
    /// finish; then the listener returns anyway, so a stop never hangs on a client.
    pub shutdown_deadline: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 16_384,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// Serves until `shutdown` flips to true, then lets open requests finish (the feed's streams end on the
/// same signal, so none holds the shutdown up), for at most `limits.shutdown_deadline`: the
/// connections still open then are left to the process's exit. With `tls`, over HTTPS.
///
/// Connections are driven by hyper's HTTP/1 server directly (the console speaks HTTP/1.1 only), with
/// Nagle off: it would hold small feed events back until the client's delayed ACK. A plain connection
/// whose first request opens the live feed is served by [`stream`] instead, which keeps far less per
/// connection than hyper does for what is, from then on, one long response.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let connections = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let stop = wait_for_stop(shutdown);
    tokio::pin!(stop);
    loop {
        // At the cap, the next connection waits in the listen queue rather than being taken.
        let place = tokio::select! {
            place = open.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let (router, http1) = (router.clone(), http1.clone());
        let watcher = connections.watcher();
        match &tls {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let handshake = acceptor.accept(tcp);
                    match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            let conn = http1
                                .serve_connection(TokioIo::new(stream), WithPeer { router, peer });
                            drop(watcher.watch(conn).await);
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                    drop(place);
                });
            }
            None => {
                tokio::spawn(async move {
                    match stream::first(&tcp, limits.header_read_timeout).await {
                        First::Feed => {
                            stream::serve(tcp, peer, router, limits.header_read_timeout).await;
                        }
                        First::Other => {
                            let conn = http1
                                .serve_connection(TokioIo::new(tcp), WithPeer { router, peer });
                            // A connection that breaks off ends here; there is no one to tell.
                            let _ = watcher.watch(conn).await;
                        }
                        First::Silent => tracing::debug!(%peer, "nothing sent in time; closed"),
                    }
                    drop(place);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_deadline, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline_secs = limits.shutdown_deadline.as_secs(),
            "requests still open at the shutdown deadline are cut off"
        );
    }
    Ok(())
}

/// The router, with the peer's address on every request.
#[derive(Clone)]
pub struct WithPeer {
    router: Router,
    peer: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for WithPeer {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut()
            .insert(ConnectInfo(PeerAddr(self.peer)));
        // The router is always ready: it needs no `poll_ready` first.
        self.router.clone().call(req)
    }
}

async fn wait_for_stop(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// A shutdown switch that flips on Ctrl-C or SIGTERM.
pub fn shutdown_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutting down");
        let _ = tx.send(true);
        // Keep the sender alive so receivers see `true` rather than a closed channel.
        std::future::pending::<()>().await;
    });
    rx
}
