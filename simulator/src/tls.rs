//! The simulator's HTTPS, and the one place PEM certificate files are read: the console's listeners
//! (`backend/src/server/tls.rs`) use [`read_pem`] too. It lives here because the
//! backend depends on this crate and not the other way round.

use crate::SimTls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WantsServerCert;
use rustls::{ConfigBuilder, ServerConfig};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The chain in `cert_file` (leaf first) and the key in `key_file`. Errors name the setting and the
/// file, for the operator.
pub fn read_pem(
    cert_file: &Path,
    key_file: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
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
    Ok((certs, key))
}

/// `builder` finished with the pair [`read_pem`] reads, offering HTTP/1.1 (all either server speaks).
pub fn single_cert(
    builder: ConfigBuilder<ServerConfig, WantsServerCert>,
    cert_file: &Path,
    key_file: &Path,
) -> Result<ServerConfig, String> {
    let (certs, key) = read_pem(cert_file, key_file)?;
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("tls: the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The simulator's certificate, and when `client_ca_file` is set, a required client certificate
/// chaining to that CA (as a Hermod behind mutual TLS would).
pub fn acceptor(tls: &SimTls) -> Result<TlsAcceptor, String> {
    let Some(ca_file) = &tls.client_ca_file else {
        let builder = ServerConfig::builder().with_no_client_auth();
        let config = single_cert(builder, &tls.cert_file, &tls.key_file)?;
        return Ok(TlsAcceptor::from(Arc::new(config)));
    };
    let read_certs = |path: &Path| {
        CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in read_certs(ca_file)? {
        roots
            .add(ca)
            .map_err(|e| format!("tls.client_ca_file: {e}"))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| format!("tls.client_ca_file: {e}"))?;
    let key =
        PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| format!("tls.key_file: {e}"))?;
    let config = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(read_certs(&tls.cert_file)?, key)
        .map_err(|e| format!("tls: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
