//! Black-box tests of the `hermod-console` binary: real processes, real ports, a real SQLite file.
//! One module per feature; each test starts its own console, so they run in parallel. What needs no
//! process (request-to-answer checks) runs in-process instead: backend/tests/in_process/. The browser
//! tests are a target of their own (tests/browser/), so these need no Chromium.

mod accounts;
mod assets;
mod audit;
mod bad_input;
mod console;
mod crash;
mod deployment;
mod feed;
mod files;
mod lagging;
mod login;
mod monitoring;
mod overdue;
mod receiver;
mod replicas;
mod restart;
mod retention;
mod roundtrip;
mod secrets;
mod slow_clients;
mod streams;
mod tls;
