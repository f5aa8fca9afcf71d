//! Pieces the pages share.

pub mod ask;
pub mod compare;
pub mod copy;
pub mod decoded;
pub mod device;
pub mod json;
pub mod json_block;
pub mod mark;
pub mod paged;
pub mod qr;
pub mod state_badge;
pub mod time;
