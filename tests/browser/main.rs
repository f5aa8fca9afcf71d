//! The console in a real headless Chromium (tests/src/browser.rs), against the real binary and its
//! simulator: one module per page, each test with its own console and browser, so they run in
//! parallel. Needs `dist/` built and chromedriver (`CHROMEDRIVER`); the e2e target needs neither.

mod admin_pages;
mod callbacks;
mod command_detail;
mod commands_list;
mod feed;
mod login;
mod overview;
mod pages;
mod send_answer;
mod send_form;
mod send_page;
mod shell;
