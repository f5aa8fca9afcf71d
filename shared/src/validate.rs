//! What a command body must hold, as tables of its documented fields (docs/hermod.md §2.2–2.9), and
//! the check that walks them. One set of rules for both sides: the send form renders these tables
//! and shows each message next to its field; the simulator refuses a request with 400 naming the
//! first one.
//!
//! Pure functions over `serde_json::Value` rather than the typed wire structs: the form edits the
//! operator's own JSON, fields it does not know included, and the WebAssembly bundle is spared the
//! structs' serde code.

use crate::hermod::{CommandType, FieldError, MAX_SECONDS};
use serde_json::{Map, Value};

/// What a field holds: how the form edits it and what the check demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any string.
    Text,
    /// Any string; these values are known and offered. Not enforced: Hermod's full list is not public.
    Suggest(&'static [&'static str]),
    /// A string, one of these: the documentation gives the whole list.
    Choice(&'static [&'static str]),
    /// A JSON whole number of seconds, more than zero.
    Seconds,
    /// Decimal digits in a string (`"2048"`).
    Digits,
    /// Base64 (standard alphabet, padded) in a string.
    Base64,
    /// Exactly this many hex digits in a string.
    Hex(usize),
    /// A JSON boolean.
    Flag,
    /// A data item's payload: base64 when the item's `content_encoding` is `base64`.
    Data,
    /// A list of strings; these values are known and offered.
    Strings(&'static [&'static str]),
    /// An object with these fields.
    Object(&'static [Field]),
    /// A list of objects with these fields.
    List(&'static [Field]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Optional,
    /// Present and not null; a list also not empty.
    Required,
    /// At least one of the object's `Either` fields is present.
    Either,
}

/// One documented field. `key` is a plain JSON key (no `/` or `~`), so pointers are built by joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub need: Need,
    /// What it is for, in the documentation's words, for the operator.
    pub hint: &'static str,
}

const fn opt(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Optional,
        hint,
    }
}

const fn req(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Required,
        hint,
    }
}

const fn either(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Either,
        hint,
    }
}

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

static KEY_TYPE: [Field; 3] = [
    req("keytype", Kind::Suggest(&["RSA", "EC"]), "Key algorithm."),
    opt(
        "keylength",
        Kind::Digits,
        "Key size in bits, as a string: \"2048\".",
    ),
    opt(
        "responsemechanism",
        Kind::Suggest(&["RS256", "ES256"]),
        "JWA algorithm of the response signature.",
    ),
];

static KEYGEN: [Field; 6] = [
    req("keyid", Kind::Text, "Your label for the key: \"signer\"."),
    opt(
        "usage",
        Kind::Suggest(&["SIG", "AUTH", "ENC"]),
        "Key usage.",
    ),
    req(
        "keytypeprios",
        Kind::List(&KEY_TYPE),
        "Acceptable key types, most preferred first.",
    ),
    opt(
        "storageprios",
        Kind::Strings(&["APP"]),
        "Where the key may be stored, most preferred first.",
    ),
    opt(
        "keystate",
        Kind::Suggest(&["ACTIVE"]),
        "State of the new key.",
    ),
    opt(
        "certreq",
        Kind::Base64,
        "Template PKCS#10 (base64 DER): the subject to keep; the device puts in its own key.",
    ),
];

const CARD_DATA_TYPE: Field = opt(
    "dataType",
    Kind::Suggest(&["IMAGE", "JOSE"]),
    "IMAGE on the front, JOSE on the back.",
);
const CARD_KEY: Field = opt("key", Kind::Suggest(&["front", "back"]), "front or back.");
const CARD_TEXT_COLOR: Field = opt(
    "textColor",
    Kind::Suggest(&["WHITE"]),
    "Colour of the text.",
);

static CARD_FRONT: [Field; 4] = [
    opt(
        "data",
        Kind::Base64,
        "A JPEG in base64, aspect ratio 1200:757.",
    ),
    CARD_DATA_TYPE,
    CARD_KEY,
    CARD_TEXT_COLOR,
];

static CARD_BACK: [Field; 5] = [
    opt(
        "data",
        Kind::Text,
        "A JWS signed with Nexus-issued certificates; shown only after the PIN.",
    ),
    CARD_DATA_TYPE,
    CARD_KEY,
    CARD_TEXT_COLOR,
    opt(
        "protection",
        Kind::Suggest(&["NONE"]),
        "Older documentation only.",
    ),
];

static PROFILE_CARD: [Field; 2] = [
    opt("front", Kind::Object(&CARD_FRONT), "The card's front."),
    opt("back", Kind::Object(&CARD_BACK), "The card's back."),
];

static VISUAL_DATA: [Field; 2] = [
    opt(
        "contentId",
        Kind::Text,
        "PROV:<uuid>, resolved by the client's content provider; card data wins over it.",
    ),
    opt(
        "profileCard",
        Kind::Object(&PROFILE_CARD),
        "The card drawn inline.",
    ),
];

static PROFILE: [Field; 4] = [
    opt(
        "servername",
        Kind::Text,
        "The issuing server's name, shown to the user.",
    ),
    opt(
        "name",
        Kind::Text,
        "Profile name in the app; leave it out to update an existing profile.",
    ),
    req(
        "keygenrequests",
        Kind::List(&KEYGEN),
        "One entry per key the device generates.",
    ),
    opt(
        "visualData",
        Kind::Object(&VISUAL_DATA),
        "Card layout of a mobile virtual smart card (Hermod 3.1.1+).",
    ),
];

static PROV: [Field; 5] = [
    opt(
        "nonce",
        Kind::Text,
        "Your nonce, echoed inside the signed response.",
    ),
    opt(
        "userid",
        Kind::Text,
        "The user, shown in the profile (often the e-mail address).",
    ),
    opt(
        "responsesignaturekey",
        Kind::Suggest(&["ATTESTATION"]),
        "Attestation key the device signs its response with.",
    ),
    opt(
        "responseformat",
        Kind::Suggest(&["jws"]),
        "Format of the device's signed response.",
    ),
    req("profile", Kind::Object(&PROFILE), "The profile to create."),
];

static DATA_ITEM: [Field; 6] = [
    opt(
        "key",
        Kind::Suggest(&["requester", "tbs", "auth_image", "challenge"]),
        "Item name.",
    ),
    opt("description", Kind::Text, "Label shown with the item."),
    opt(
        "content_type",
        Kind::Suggest(&["text/plain", "image/jpeg", "application/hermod+content-id"]),
        "MIME type; application/hermod+content-id makes data a content-provider reference.",
    ),
    opt(
        "content_encoding",
        Kind::Suggest(&["base64"]),
        "base64 when data is encoded.",
    ),
    req(
        "data",
        Kind::Data,
        "The payload: type text or load a file, it is base64-encoded for you.",
    ),
    opt("visible", Kind::Flag, "Whether the device shows the item."),
];

static FILTER: [Field; 3] = [
    opt("op", Kind::Suggest(&["eq"]), "Comparison."),
    opt("param", Kind::Suggest(&["key.type"]), "What is compared."),
    opt("value", Kind::Text, "Compared with: RSA."),
];

/// `signCommand.params` and `authCommand.params`: authenticate is a specialised sign (§2.7), which
/// the simulator also lets go without data to be signed (the device signs a fresh challenge).
const fn sign_params(tbs: Need) -> [Field; 5] {
    [
        opt(
            "description",
            Kind::List(&DATA_ITEM),
            "Texts and images shown around the request.",
        ),
        Field {
            key: "tbs",
            kind: Kind::List(&DATA_ITEM),
            need: tbs,
            hint: "The data to be signed.",
        },
        opt(
            "filter",
            Kind::Object(&FILTER),
            "Which key or certificate may be used.",
        ),
        opt(
            "format",
            Kind::Choice(&["pkcs7", "jws"]),
            "Signature container.",
        ),
        opt(
            "mechanism",
            Kind::Suggest(&["CKM_SHA256_RSA_PKCS"]),
            "PKCS#11 mechanism.",
        ),
    ]
}

static SIGN_PARAMS: [Field; 5] = sign_params(Need::Required);
static AUTH_PARAMS: [Field; 5] = sign_params(Need::Optional);
static SIGN: [Field; 1] = [req("params", Kind::Object(&SIGN_PARAMS), "")];
static AUTH: [Field; 1] = [req("params", Kind::Object(&AUTH_PARAMS), "")];

static CERT_ITEM: [Field; 2] = [
    opt("keyid", Kind::Text, "The key the certificate belongs to."),
    req(
        "certificate",
        Kind::Base64,
        "The certificate, base64 DER: paste it or load the file.",
    ),
];

static CERT: [Field; 4] = [
    opt("profileid", Kind::Text, "The profile to install into."),
    opt(
        "smartcardid",
        Kind::Text,
        "The token, when its id differs from the profile id.",
    ),
    opt(
        "desktopKeyProtectionLevel",
        Kind::Suggest(&["NONE", "CONSENT"]),
        "Desktop App: NONE uses the key silently, CONSENT asks the user.",
    ),
    req(
        "certificates",
        Kind::List(&CERT_ITEM),
        "The certificates to install.",
    ),
];

static PING: [Field; 1] = [opt(
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

static START_PIN_RESET: [Field; 4] = [
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

static END_PIN_RESET: [Field; 3] = [
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

/// `commandHeader` and the command's own object, for every type.
macro_rules! body {
    ($key:literal, $fields:expr) => {
        [
            req(
                "commandHeader",
                Kind::Object(&HEADER),
                "Common to every command.",
            ),
            req($key, Kind::Object($fields), "This command's parameters."),
        ]
    };
}

static PROVISION_BODY: [Field; 2] = body!("provCommand", &PROV);
static CERTIFICATE_BODY: [Field; 2] = body!("certCommand", &CERT);
static AUTHENTICATE_BODY: [Field; 2] = body!("authCommand", &AUTH);
static SIGN_BODY: [Field; 2] = body!("signCommand", &SIGN);
static PING_BODY: [Field; 2] = body!("pingCommand", &PING);
static START_PIN_RESET_BODY: [Field; 2] = body!("startpinresetCommand", &START_PIN_RESET);
static END_PIN_RESET_BODY: [Field; 2] = body!("endpinresetCommand", &END_PIN_RESET);

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

/// Every rule `body` breaks, in the tables' order, each naming its field by JSON pointer. Fields the
/// tables do not know are not looked at.
pub fn check(ty: CommandType, body: &Value) -> Vec<FieldError> {
    let mut found = Vec::new();
    match body.as_object() {
        Some(map) => object(map, fields(ty), "", &mut found),
        None => found.push(FieldError::new(
            "",
            "the command body must be a JSON object",
        )),
    }
    found
}

fn object(map: &Map<String, Value>, fields: &[Field], at: &str, found: &mut Vec<FieldError>) {
    let present = |key: &str| map.get(key).is_some_and(|v| !v.is_null());
    let alternatives: Vec<&str> = fields
        .iter()
        .filter(|f| f.need == Need::Either)
        .map(|f| f.key)
        .collect();
    if !alternatives.is_empty() && !alternatives.iter().any(|k| present(k)) {
        found.push(FieldError::new(
            at,
            format!("{} is required", or_list(&alternatives)),
        ));
    }
    for f in fields {
        let ptr = format!("{at}/{}", f.key);
        match map.get(f.key).filter(|v| !v.is_null()) {
            Some(v) => value(v, f, map, &ptr, found),
            None if f.need == Need::Required => {
                found.push(FieldError::new(ptr, format!("{} is required", f.key)));
            }
            None => {}
        }
    }
}

/// `a, b or c`.
fn or_list(keys: &[&str]) -> String {
    match keys.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn value(
    v: &Value,
    f: &Field,
    siblings: &Map<String, Value>,
    ptr: &str,
    found: &mut Vec<FieldError>,
) {
    let text = v.as_str();
    let problem: Option<String> = match f.kind {
        Kind::Text | Kind::Suggest(_) => text.is_none().then(|| "must be text".into()),
        Kind::Choice(options) => match text {
            Some(s) if options.contains(&s) => None,
            _ => Some(format!("must be one of {}", options.join(", "))),
        },
        Kind::Seconds => match v.as_u64() {
            Some(0) => Some("must be positive".into()),
            Some(s) if s > MAX_SECONDS => Some(format!("at most {MAX_SECONDS} (366 days)")),
            Some(_) => None,
            None => Some("must be a whole number of seconds".into()),
        },
        Kind::Digits => match text {
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => None,
            _ => Some("must be a number written as a string, like \"2048\"".into()),
        },
        Kind::Base64 => match text {
            Some(s) if base64_decode(s).is_some() => None,
            _ => Some("must be base64".into()),
        },
        Kind::Hex(n) => match text {
            Some(s) if s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit()) => None,
            _ => Some(format!("must be {n} hex digits")),
        },
        Kind::Flag => (!v.is_boolean()).then(|| "must be true or false".into()),
        Kind::Data => match text {
            None => Some("must be text".into()),
            Some(s)
                if siblings.get("content_encoding").and_then(Value::as_str) == Some("base64")
                    && base64_decode(s).is_none() =>
            {
                Some("content_encoding is base64 but data is not".into())
            }
            Some(_) => None,
        },
        Kind::Strings(_) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        found.push(FieldError::new(format!("{ptr}/{i}"), "must be text"));
                    }
                }
                None
            }
            None => Some("must be a list".into()),
        },
        Kind::Object(fields) => match v.as_object() {
            Some(map) => {
                object(map, fields, ptr, found);
                None
            }
            None => Some("must be an object".into()),
        },
        Kind::List(fields) => match v.as_array() {
            Some(items) if items.is_empty() && f.need == Need::Required => {
                Some(format!("at least one {} entry is required", f.key))
            }
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{ptr}/{i}");
                    match item.as_object() {
                        Some(map) => object(map, fields, &at, found),
                        None => found.push(FieldError::new(at, "must be an object")),
                    }
                }
                None
            }
            None => Some("must be a list".into()),
        },
    };
    if let Some(message) = problem {
        found.push(FieldError::new(ptr, message));
    }
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with the standard alphabet and padding, without pulling a base64 crate into the bundle.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes what [`base64_encode`] writes; `None` for anything else. As strict as the `base64` crate's
/// standard engine the simulator used before (padding required, unused bits zero), except that
/// whitespace around the whole text is ignored.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let s = text.trim().as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (n, chunk) in s.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && (n + 1) * 4 != s.len()) {
            return None;
        }
        let mut acc = 0u32;
        for c in &chunk[..4 - pad] {
            let sextet = BASE64_ALPHABET.iter().position(|a| a == c)?;
            acc = acc << 6 | sextet as u32;
        }
        acc <<= 6 * pad;
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        // The bits after the last whole byte must be zero, or two texts would decode alike.
        if bytes[3 - pad..].iter().any(|b| *b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::default_body;
    use crate::hermod::CommandBody;
    use serde_json::json;

    fn pointers(ty: CommandType, body: &Value) -> Vec<String> {
        check(ty, body).into_iter().map(|e| e.pointer).collect()
    }

    #[test]
    fn every_default_body_passes() {
        for ty in CommandType::ALL {
            assert_eq!(check(ty, &default_body(ty)), vec![], "{ty}");
        }
    }

    #[test]
    fn the_top_level_keys_are_the_types_own() {
        for ty in CommandType::ALL {
            let keys: Vec<&str> = fields(ty).iter().map(|f| f.key).collect();
            assert_eq!(keys, ["commandHeader", ty.body_key()]);
        }
    }

    /// A valid value of every kind, for a body with every documented field filled in.
    fn sample(f: &Field) -> Value {
        match f.kind {
            Kind::Text | Kind::Data => json!("text"),
            Kind::Suggest(known) | Kind::Choice(known) => json!(known[0]),
            Kind::Strings(known) => json!(known),
            Kind::Seconds => json!(30),
            Kind::Digits => json!("2048"),
            Kind::Base64 => json!(base64_encode(b"DER")),
            Kind::Hex(n) => json!("a".repeat(n)),
            Kind::Flag => json!(true),
            Kind::Object(fields) => filled(fields),
            Kind::List(fields) => json!([filled(fields), filled(fields)]),
        }
    }

    fn filled(fields: &[Field]) -> Value {
        Value::Object(
            fields
                .iter()
                .map(|f| (f.key.to_string(), sample(f)))
                .collect(),
        )
    }

    /// The tables and the typed wire structs agree on every field's JSON type.
    #[test]
    fn a_body_with_every_field_filled_in_passes_and_parses() {
        for ty in CommandType::ALL {
            let body = filled(fields(ty));
            assert_eq!(check(ty, &body), vec![], "{ty}: {body}");
            if let Err(e) = CommandBody::parse(ty, &body) {
                panic!("{ty}: {e}");
            }
        }
    }

    #[test]
    fn missing_and_empty_required_fields_are_named() {
        let mut body = default_body(CommandType::Sign);
        body["signCommand"]["params"]["tbs"] = json!([]);
        body["signCommand"]["params"]["description"][0]
            .as_object_mut()
            .unwrap()
            .remove("data");
        assert_eq!(
            check(CommandType::Sign, &body),
            vec![
                FieldError::new("/signCommand/params/description/0/data", "data is required"),
                FieldError::new(
                    "/signCommand/params/tbs",
                    "at least one tbs entry is required"
                ),
            ]
        );
        // Authenticate may go without tbs.
        let mut auth = default_body(CommandType::Authenticate);
        auth["authCommand"]["params"]["tbs"] = json!([]);
        assert_eq!(check(CommandType::Authenticate, &auth), vec![]);
        // Null is as good as missing.
        assert_eq!(
            pointers(CommandType::Ping, &json!({"commandHeader": null})),
            ["/commandHeader", "/pingCommand"]
        );
        assert_eq!(
            pointers(CommandType::Ping, &json!([])),
            [""],
            "not an object"
        );
    }

    #[test]
    fn types_numbers_and_enumerations() {
        let mut body = default_body(CommandType::Sign);
        body["commandHeader"]["lifespan"] = json!(0);
        body["commandHeader"]["timeout"] = json!("soon");
        body["commandHeader"]["to"] = json!(["@tmp", 5]);
        body["signCommand"]["params"]["format"] = json!("xmldsig");
        body["signCommand"]["params"]["tbs"][0]["visible"] = json!("yes");
        body["signCommand"]["params"]["tbs"][0]["data"] = json!("not base64!");
        body["signCommand"]["params"]["filter"] = json!("RSA");
        let found = check(CommandType::Sign, &body);
        let by = |p: &str| {
            found
                .iter()
                .find(|e| e.pointer == p)
                .map(|e| e.message.as_str())
                .unwrap_or_else(|| panic!("{p} in {found:?}"))
        };
        assert_eq!(by("/commandHeader/lifespan"), "must be positive");
        body["commandHeader"]["lifespan"] = json!(u64::MAX);
        assert!(
            check(CommandType::Sign, &body)
                .iter()
                .any(|e| e.pointer == "/commandHeader/lifespan" && e.message.starts_with("at most")),
        );
        assert_eq!(
            by("/commandHeader/timeout"),
            "must be a whole number of seconds"
        );
        assert_eq!(by("/commandHeader/to/1"), "must be text");
        assert_eq!(
            by("/signCommand/params/format"),
            "must be one of pkcs7, jws"
        );
        assert_eq!(
            by("/signCommand/params/tbs/0/visible"),
            "must be true or false"
        );
        assert_eq!(
            by("/signCommand/params/tbs/0/data"),
            "content_encoding is base64 but data is not"
        );
        assert_eq!(by("/signCommand/params/filter"), "must be an object");
        assert_eq!(found.len(), 7, "{found:?}");

        // Without content_encoding base64, data is anything: a content-provider reference.
        let mut body = default_body(CommandType::Authenticate);
        body["authCommand"]["params"]["description"][0] =
            json!({"content_type": "application/hermod+content-id", "data": "AUTH:4018"});
        assert_eq!(check(CommandType::Authenticate, &body), vec![]);

        let mut ping = default_body(CommandType::Ping);
        ping["pingCommand"]["deviceinfo"] = json!(true);
        assert_eq!(
            pointers(CommandType::Ping, &ping),
            ["/pingCommand/deviceinfo"]
        );

        let mut end = default_body(CommandType::EndPinReset);
        end["endpinresetCommand"]["newadminkey"] = json!("abc");
        assert_eq!(
            pointers(CommandType::EndPinReset, &end),
            ["/endpinresetCommand/newadminkey"]
        );
        end["endpinresetCommand"]["newadminkey"] = json!("0123456789ABCDEF".repeat(3));
        assert_eq!(check(CommandType::EndPinReset, &end), vec![]);
    }

    #[test]
    fn provision_lists_and_keylength() {
        let mut body = default_body(CommandType::Provision);
        let request = &mut body["provCommand"]["profile"]["keygenrequests"][0];
        request["keytypeprios"][0]["keylength"] = json!("2k");
        request["certreq"] = json!("MIIC=");
        request["storageprios"] = json!("APP");
        assert_eq!(
            pointers(CommandType::Provision, &body),
            [
                "/provCommand/profile/keygenrequests/0/keytypeprios/0/keylength",
                "/provCommand/profile/keygenrequests/0/storageprios",
                "/provCommand/profile/keygenrequests/0/certreq",
            ]
        );
        body["provCommand"]["profile"]["keygenrequests"] = json!([{"keytypeprios": []}, 3]);
        assert_eq!(
            check(CommandType::Provision, &body),
            vec![
                FieldError::new(
                    "/provCommand/profile/keygenrequests/0/keyid",
                    "keyid is required"
                ),
                FieldError::new(
                    "/provCommand/profile/keygenrequests/0/keytypeprios",
                    "at least one keytypeprios entry is required"
                ),
                FieldError::new("/provCommand/profile/keygenrequests/1", "must be an object"),
            ]
        );
    }

    #[test]
    fn startpinreset_needs_a_profile_a_token_or_a_driver() {
        let body = json!({"commandHeader": {}, "startpinresetCommand": {"operation": "unlock"}});
        assert_eq!(
            check(CommandType::StartPinReset, &body),
            vec![
                FieldError::new(
                    "/startpinresetCommand",
                    "profileid, smartcardid or driver is required"
                ),
                FieldError::new(
                    "/startpinresetCommand/operation",
                    "must be one of pinreset, adminkeychange, pinchange, pukchange"
                ),
            ]
        );
        let body = json!({"commandHeader": {}, "startpinresetCommand": {"driver": {"Name": "yubi", "Type": "usb"}}});
        assert_eq!(
            pointers(CommandType::StartPinReset, &body),
            ["/startpinresetCommand/driver/Type"]
        );
    }

    #[test]
    fn unknown_fields_are_left_alone() {
        let mut body = default_body(CommandType::Sign);
        body["mine"] = json!({"anything": [1, 2]});
        body["signCommand"]["params"]["tbs"][0]["extra"] = json!(null);
        assert_eq!(check(CommandType::Sign, &body), vec![]);
    }

    #[test]
    fn base64_round_trips_and_refuses_what_the_standard_engine_refuses() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            &[0, 255, 128, 7, 63],
        ] {
            assert_eq!(base64_decode(&base64_encode(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(
            base64_encode(b"Pay 100 EUR to ACME"),
            "UGF5IDEwMCBFVVIgdG8gQUNNRQ=="
        );
        assert_eq!(base64_decode(" Zm8=\n").as_deref(), Some(&b"fo"[..]));
        for bad in [
            "Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zg==Zg==", "Zm 9v", "Zm9v-_==", "@@@@",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }
}
