//! One module per page.

pub mod audit;
pub mod callbacks;
pub mod command;
pub mod commands;
pub mod feed;
pub mod login;
pub mod overview;
pub mod send;
pub mod users;
