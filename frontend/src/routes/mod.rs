//! One module per page.

pub mod command;
pub mod commands;
pub mod feed;
pub mod send;
