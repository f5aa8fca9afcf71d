//! The tables of the commands about the device and its token rather than its keys: ping, and the
//! PIN reset's start and end.

use super::field::{Field, Kind, either, opt, req};

pub(super) static PING: [Field; 1] = [opt(
    "deviceinfo",
    Kind::Choice(&["true", "false"]),
    "Desktop App: also report device and profile information (a string).",
)];

static DRIVER: [Field; 2] = [
    opt(
        "Name",
        Kind::Choice(&["yubi", "cardos", "any", "c2300", "gemalto", "vsc"]),
        "Token driver.",
    ),
    opt(
        "Type",
        Kind::Choice(&["minidriver", "pkcs11"]),
        "Driver interface.",
    ),
];

pub(super) static START_PIN_RESET: [Field; 4] = [
    either("profileid", Kind::Text, "Operate on this profile's token."),
    either(
        "smartcardid",
        Kind::Text,
        "Operate on this token (profile-less); preferred when both are given.",
    ),
    either(
        "driver",
        Kind::Object(&DRIVER),
        "Operate on any token of this driver (profile-less).",
    ),
    opt(
        "operation",
        Kind::Choice(&["pinreset", "adminkeychange", "pinchange", "pukchange"]),
        "What to do; pinreset when left out.",
    ),
];

pub(super) static END_PIN_RESET: [Field; 3] = [
    req("smartcardid", Kind::Text, "The token."),
    req(
        "encryptednonce",
        Kind::Text,
        "The start's nonce, encrypted with the current admin key.",
    ),
    opt(
        "newadminkey",
        Kind::Hex(48),
        "48 hex digits (24 bytes): change the admin key instead of resetting the PIN.",
    ),
];
