//! Hermod Console's backend: serves the console, holds the Hermod API keys and proxies commands,
//! receives Hermod's callbacks, stores them and streams them to browsers. `simulate` and `demo` also
//! run the Hermod simulator (`simulator/`, the `hermod-simulator` crate).

pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod decode;
pub mod diff;
pub mod error;
pub mod feed;
pub mod follow_up;
pub mod hermod;
pub mod launch;
pub mod lock;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod overdue;
pub mod pem;
pub mod rate;
pub mod request_id;
pub mod retention;
pub mod routes;
pub mod server;
pub mod state;
pub mod store;
pub mod timer;
pub mod web;
pub mod zip;

/// The clock lives in `hermod-shared` (the `server` feature) because the simulator reads it too.
pub use hermod_shared::clock;

/// rustls needs one process-wide crypto provider; ring builds quickly and needs no C toolchain tricks.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
