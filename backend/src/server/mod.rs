//! Listening and shutting down, the same way for the console and the simulator.

mod stream;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The server's certificate chain and key, for HTTPS.
pub fn tls_acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("tls.cert_file {}: {e}", cert_file.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.cert_file {}: no certificate in it",
            cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("tls.key_file {}: {e}", key_file.display()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls: the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The peer's address, for plain and TLS connections alike (`ConnectInfo<PeerAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Serves until `shutdown` flips to true, then lets open requests finish (the feed's streams end on the
/// same signal, so none holds the shutdown up). With `tls`, over HTTPS.
///
/// Connections are driven by hyper's HTTP/1 server directly (the console speaks HTTP/1.1 only), with
/// Nagle off: it would hold small feed events back until the client's delayed ACK. A plain connection
/// whose first request opens the live feed is served by [`stream`] instead, which keeps far less per
/// connection than hyper does for what is, from then on, one long response.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let connections = GracefulShutdown::new();
    let stop = wait_for_stop(shutdown);
    tokio::pin!(stop);
    loop {
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
        let router = router.clone();
        match &tls {
            Some(acceptor) => {
                let (acceptor, watcher) = (acceptor.clone(), connections.watcher());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => drop(watcher.watch(http1(stream, peer, router)).await),
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
            None => {
                let watcher = connections.watcher();
                tokio::spawn(async move {
                    if stream::opens_the_feed(&tcp).await {
                        stream::serve(tcp, peer, router).await;
                    } else {
                        // A connection that breaks off ends here; there is no one to tell.
                        let _ = watcher.watch(http1(tcp, peer, router)).await;
                    }
                });
            }
        }
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// One HTTP/1 connection served by hyper.
fn http1<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
) -> hyper::server::conn::http1::Connection<TokioIo<I>, WithPeer>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), WithPeer { router, peer })
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
