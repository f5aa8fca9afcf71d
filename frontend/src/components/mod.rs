//! Pieces the pages share.

pub mod json_block;
pub mod state_badge;
pub mod time;
