//! The console's router driven in-process (harness.rs): request-to-answer checks that need no
//! process, port or browser. What does need one (TLS, restarts, signals, the browser) is in `tests/`.

mod access;
mod bad_input;
mod body_keys;
mod callback_decoded;
mod csrf;
mod custom;
mod detail;
mod devices;
mod diff;
mod evidence;
mod harness;
mod headers;
mod health;
mod link;
mod lists;
mod logging;
mod login;
mod metrics;
mod next;
mod openapi;
mod overview;
mod pem;
mod reasons;
mod receiver;
mod replicas;
mod request_id;
mod verification;
mod windows;
