//! Types both sides of Hermod Console compile: Hermod's wire format ([`hermod`]) and the console's own
//! API and live feed ([`console`]). Serde only, so the WebAssembly bundle stays small.

pub mod console;
pub mod decoded;
pub mod examples;
pub mod hermod;
pub mod validate;
