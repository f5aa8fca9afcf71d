//! Pieces the pages share.

pub mod copy;
pub mod decoded;
pub mod json_block;
pub mod qr;
pub mod search_lag;
pub mod state_badge;
pub mod time;
