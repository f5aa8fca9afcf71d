//! The console's HTTPS certificate, read from its files at start and again on SIGHUP: a renewed
//! certificate (certbot, an internal CA) is served without a restart or a dropped connection. Each
//! handshake takes the newest pair read; a pair that does not load leaves the old one in place.

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

#[derive(Debug)]
pub struct TlsFiles {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl TlsFiles {
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<TlsFiles>, String> {
        Ok(Arc::new(TlsFiles {
            current: RwLock::new(read(cert_file, key_file)?),
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
        }))
    }

    /// Reads the files again; on success new handshakes use them.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = read(&self.cert_file, &self.key_file)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// What the listeners accept connections with: HTTP/1.1 over TLS, this certificate.
    pub fn acceptor(self: &Arc<Self>) -> TlsAcceptor {
        let mut config = ServerConfig::builder()
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

impl ResolvesServerCert for TlsFiles {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

fn read(cert_file: &Path, key_file: &Path) -> Result<Arc<CertifiedKey>, String> {
    let (certs, key) = hermod_simulator::tls::read_pem(cert_file, key_file)?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("tls.key_file {}: {e}", key_file.display()))?;
    let pair = CertifiedKey::new(certs, signing);
    pair.keys_match()
        .map_err(|e| format!("tls: the certificate and key do not fit together: {e}"))?;
    Ok(Arc::new(pair))
}

/// On SIGHUP, reads the certificate again (when there is one); the console never stops on it, as
/// it would by default.
pub fn reload_on_hangup(files: Option<Arc<TlsFiles>>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            match &files {
                None => tracing::info!("SIGHUP: no [tls] certificate to read again"),
                Some(files) => match files.reload() {
                    Ok(()) => tracing::info!(
                        cert_file = %files.cert_file.display(),
                        "SIGHUP: the TLS certificate was read again; new connections use it"
                    ),
                    Err(e) => tracing::warn!(
                        error = %e,
                        "SIGHUP: the TLS certificate could not be read; the one loaded before stays"
                    ),
                },
            }
        }
    });
    #[cfg(not(unix))]
    drop(files);
}
