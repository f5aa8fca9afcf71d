//! The rules' tests: every table against the default bodies and the typed wire structs, then each
//! kind of field broken in turn.

use serde_json::{Value, json};

use super::{Field, Kind, base64_decode, base64_encode, check, fields};
use crate::examples::default_body;
use crate::hermod::{CommandBody, CommandType, FieldError};

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
        Kind::Base64 | Kind::Der(_) => json!(base64_encode(b"DER")),
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
        pointers(CommandType::Sign, &json!({"commandHeader": null})),
        ["/commandHeader", "/signCommand"]
    );
    // A guessed part is never required (docs/hermod.md §2.2, §2.5): not the four guessed command
    // objects, not the certificate list; what one holds, when it is there, is still checked.
    assert_eq!(
        pointers(CommandType::Ping, &json!({"commandHeader": {}})),
        Vec::<String>::new()
    );
    let mut cert = default_body(CommandType::Certificate);
    cert["certCommand"]
        .as_object_mut()
        .unwrap()
        .remove("certificates");
    assert_eq!(check(CommandType::Certificate, &cert), vec![]);
    cert["certCommand"]["certificates"] =
        json!([{"keyid": "signer", "certificate": "not base64!"}]);
    assert_eq!(
        pointers(CommandType::Certificate, &cert),
        ["/certCommand/certificates/0/certificate"]
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
    // A format beyond the documented ones is Hermod's to judge.
    assert!(
        found
            .iter()
            .all(|e| e.pointer != "/signCommand/params/format")
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
    assert_eq!(found.len(), 6, "{found:?}");

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

#[test]
fn der_fields_take_base64_or_pem_and_pem_blocks_are_read_in_order() {
    use super::pem_blocks;
    let pem = |label: &str, der: &[u8]| {
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            base64_encode(der)
        )
    };
    // openssl's `subject=` lines around and between blocks are passed over.
    let chain = format!(
        "subject=CN=a\n{}subject=CN=b\n{}",
        pem("CERTIFICATE", b"one"),
        pem("CERTIFICATE", b"two")
    );
    assert_eq!(
        pem_blocks(&chain, "CERTIFICATE"),
        Some(vec![b"one".to_vec(), b"two".to_vec()])
    );
    assert_eq!(pem_blocks(&chain, "CERTIFICATE REQUEST"), None);
    assert_eq!(
        pem_blocks(
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
            "CERTIFICATE"
        ),
        None
    );
    assert_eq!(
        pem_blocks("-----BEGIN CERTIFICATE-----\nb25l\n", "CERTIFICATE"),
        None,
        "no end"
    );

    let mut body = json!({
        "commandHeader": {"externalId": "x", "lifespan": 60, "timeout": 60},
        "certCommand": {"certificates": [{"keyid": "k", "certificate": ""}]}
    });
    let ptr = "/certCommand/certificates/0/certificate";
    // The check only recognises PEM; what its blocks hold is the console's to parse.
    for (value, ok) in [
        (base64_encode(b"DER"), true),
        (pem("CERTIFICATE", b"DER"), true),
        ("not base64!".to_string(), false),
        ("BEGIN CERTIFICATE".to_string(), false),
    ] {
        *body.pointer_mut(ptr).unwrap() = json!(value);
        let errors = check(CommandType::Certificate, &body);
        assert_eq!(
            errors.iter().any(|e| e.pointer == ptr),
            !ok,
            "{value}: {errors:?}"
        );
    }
}
