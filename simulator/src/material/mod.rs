//! Real PKI material for the Hermod simulator: a throw-away test CA with a device certificate,
//! RS256 JWS, CMS SignedData and PKCS#10 requests. Also `hermod-console dev-pki`'s throw-away CA with
//! TLS server and client certificates ([`dev_pki`]).
//!
//! Everything here is CPU-bound and synchronous (RSA key generation takes a noticeable fraction
//! of a second), so async callers should run it under `spawn_blocking`.
//!
//! One module per thing made: the keys (`keys.rs`), certificates and the CAs that issue them
//! (`certificate.rs`), the simulated device's signatures (`identity.rs`), certificate requests
//! (`request.rs`) and `dev-pki`'s files (`dev_pki.rs`).

mod certificate;
mod dev_pki;
mod identity;
mod keys;
mod request;
#[cfg(test)]
mod tests;

pub use dev_pki::{DevPki, dev_pki};
pub use identity::Identity;
pub use keys::transport_key_spki_der;
pub use request::pkcs10;

use std::fmt;

/// Why some piece of material could not be produced; the text is meant for logs and API errors.
#[derive(Debug)]
pub struct MaterialError(String);

impl fmt::Display for MaterialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MaterialError {}

/// The crates involved each have their own error type; all we need from them is a message,
/// prefixed with what we were doing so a failure is traceable without a backtrace.
fn fail<E: fmt::Display>(context: &'static str) -> impl FnOnce(E) -> MaterialError {
    move |e| MaterialError(format!("{context}: {e}"))
}
