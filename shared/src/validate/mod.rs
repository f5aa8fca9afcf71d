//! What a command body must hold, as tables of its documented fields (docs/hermod.md §2.2–2.9), and
//! the check that walks them. One set of rules for both sides: the send form renders these tables
//! and shows each message next to its field; the simulator refuses a request with 400 naming the
//! first one.
//!
//! Pure functions over `serde_json::Value` rather than the typed wire structs: the form edits the
//! operator's own JSON, fields it does not know included, and the WebAssembly bundle is spared the
//! structs' serde code.

mod base64;
mod body;
mod check;
mod device;
mod field;
mod pem;
mod profile;
mod sign;

pub use base64::{base64_decode, base64_encode};
pub use body::fields;
pub use check::check;
pub use field::{Field, Kind, Need};
pub use pem::pem_blocks;

#[cfg(test)]
mod tests;
