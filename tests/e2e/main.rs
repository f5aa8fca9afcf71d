//! Black-box tests of the `hermod-console` binary: real processes, real ports, a real SQLite file.
//! One module per feature; each test starts its own console, so they run in parallel.

mod bad_input;
mod browser;
mod deployment;
mod feed;
mod lagging;
mod receiver;
mod restart;
mod roundtrip;
mod secrets;
