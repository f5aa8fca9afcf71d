//! The whole body of each command type: the common `commandHeader` and the type's own object, the
//! tables the form starts from and the check walks down.

use super::device::{END_PIN_RESET, PING, START_PIN_RESET};
use super::field::{Field, Kind, guess, opt, req};
use super::profile::{CERT, PROV};
use super::sign::{AUTH, SIGN};
use crate::hermod::CommandType;

static HEADER: [Field; 4] = [
    opt(
        "lifespan",
        Kind::Seconds,
        "Seconds the command lives before Hermod expires it.",
    ),
    opt(
        "timeout",
        Kind::Seconds,
        "Seconds Hermod waits for the device's answer.",
    ),
    opt(
        "to",
        Kind::Strings(&["@tmp"]),
        "Destinations. None: one temporary @tmp link or QR code.",
    ),
    opt(
        "externalId",
        Kind::Text,
        "Your own correlation id. The simulator steers by prefix: reject-, fail-, expire-, hold-.",
    ),
];

/// `commandHeader` and the command's own object, for every type. The object's key is documented
/// (`req`) for three types and guessed (`guess`) for the other four (docs/hermod.md §2.2).
macro_rules! body {
    ($need:ident, $key:literal, $fields:expr) => {
        [
            req(
                "commandHeader",
                Kind::Object(&HEADER),
                "Common to every command.",
            ),
            $need($key, Kind::Object($fields), "This command's parameters."),
        ]
    };
}

static PROVISION_BODY: [Field; 2] = body!(req, "provCommand", &PROV);
static CERTIFICATE_BODY: [Field; 2] = body!(guess, "certCommand", &CERT);
static AUTHENTICATE_BODY: [Field; 2] = body!(req, "authCommand", &AUTH);
static SIGN_BODY: [Field; 2] = body!(req, "signCommand", &SIGN);
static PING_BODY: [Field; 2] = body!(guess, "pingCommand", &PING);
static START_PIN_RESET_BODY: [Field; 2] = body!(guess, "startpinresetCommand", &START_PIN_RESET);
static END_PIN_RESET_BODY: [Field; 2] = body!(guess, "endpinresetCommand", &END_PIN_RESET);

/// The top-level fields of a body of type `ty`: `commandHeader` and the type's own object
/// (`CommandType::body_key`).
pub fn fields(ty: CommandType) -> &'static [Field] {
    match ty {
        CommandType::Provision => &PROVISION_BODY,
        CommandType::Certificate => &CERTIFICATE_BODY,
        CommandType::Authenticate => &AUTHENTICATE_BODY,
        CommandType::Sign => &SIGN_BODY,
        CommandType::Ping => &PING_BODY,
        CommandType::StartPinReset => &START_PIN_RESET_BODY,
        CommandType::EndPinReset => &END_PIN_RESET_BODY,
    }
}
