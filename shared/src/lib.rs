//! Types both sides of Hermod Console compile: Hermod's wire format ([`hermod`]) and the console's own
//! API and live feed ([`console`]). Serde only, so the WebAssembly bundle stays small.
//!
//! The `server` feature (off by default, so the browser never compiles it) adds what the backend and
//! the simulator both need and neither may take from the other: configuration files (`config`) and
//! the clock (`clock`).

#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod config;
pub mod console;
pub mod decoded;
pub mod devices;
pub mod examples;
pub mod hermod;
pub mod overview;
pub mod validate;
