//! How a body is walked: data items and images, what is reported as broken, what is passed
//! over, and the caps that hold against hostile input.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hermod_shared::decoded::{Decoded, DecodedItem};
use serde_json::{Value, json};

use super::{b64, check, decode_body, decode_text, identity, only, unparsed_reason};
use crate::decode::walk::MAX_ITEMS;
use crate::decode::{MAX_DEPTH, search_text};
use hermod_simulator::material;

/// A 1×1 grayscale PNG (signature, IHDR, zlib IDAT, IEND, with their CRCs).
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x0f, 0x00, 0x01,
    0x01, 0x01, 0x00, 0xb1, 0x38, 0xf6, 0x14, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

#[test]
fn sign_request_data_items_are_text_and_references_are_skipped() {
    // docs/hermod.md §7.2/§7.3.
    let body = json!({
        "commandHeader": {"lifespan": 30, "timeout": 30, "to": ["@tmp"]},
        "signCommand": {"params": {
            "description": [
                {"key": "requester", "description": "Signing request from",
                 "content_type": "text/plain", "content_encoding": "base64",
                 "data": b64("Example Bank"), "visible": true},
                {"key": "auth_image", "description": "Verify that image is equal",
                 "content_type": "application/hermod+content-id", "data": "AUTH:4018-aaaa-bbbb-cccc",
                 "visible": true},
            ],
            "tbs": [
                {"key": "tbs", "description": "Text to sign",
                 "content_type": "text/plain; charset=utf-8", "content_encoding": "base64",
                 "data": b64("Pay 100 EUR to ACME ✓"), "visible": true},
            ],
            "filter": {"op": "eq", "param": "key.type", "value": "RSA"},
            "format": "pkcs7",
            "mechanism": "CKM_SHA256_RSA_PKCS",
        }},
    });
    let items = decode_body(&body);
    let expected = [
        DecodedItem {
            pointer: "/signCommand/params/description/0/data".into(),
            label: "description data item 'requester'".into(),
            decoded: Decoded::Text {
                content_type: "text/plain".into(),
                text: "Example Bank".into(),
            },
            raw: None,
        },
        DecodedItem {
            pointer: "/signCommand/params/tbs/0/data".into(),
            label: "tbs data item 'tbs'".into(),
            decoded: Decoded::Text {
                content_type: "text/plain; charset=utf-8".into(),
                text: "Pay 100 EUR to ACME ✓".into(),
            },
            raw: None,
        },
    ];
    assert_eq!(items, expected);
    assert_eq!(search_text(&items), "Example Bank Pay 100 EUR to ACME ✓");

    // Data items decode even when short; a certificate sent as a data item is material.
    let cert_item = json!({"tbs": [{"key": "c", "content_type": "application/pkix-cert",
        "content_encoding": "base64", "data": b64(identity().ca_cert_der())}]});
    let items = decode_body(&cert_item);
    assert_eq!(only(&items).label, "tbs data item 'c' (X.509 certificate)");
    let json_item = json!({"tbs": [{"key": "j", "content_type": "application/json",
        "content_encoding": "base64", "data": b64("{}")}]});
    assert!(
        matches!(&only(&decode_body(&json_item)).decoded, Decoded::Text { text, .. } if text == "{}")
    );
}

#[test]
fn image_items_need_the_declared_magic_number() {
    let item = |content_type: &str, data: &[u8]| {
        let body = json!({"description": [{"key": "logo", "content_type": content_type,
            "content_encoding": "base64", "data": b64(data)}]});
        decode_body(&body).remove(0)
    };
    let png = item("image/png", &PNG);
    assert_eq!(png.label, "description data item 'logo'");
    assert_eq!(
        png.decoded,
        Decoded::Image {
            content_type: "image/png".into(),
            base64: b64(PNG)
        }
    );
    let reason = unparsed_reason(&item("image/jpeg", &PNG), "image");
    assert!(reason.contains("image/png"), "{reason}");
    let reason = unparsed_reason(&item("image/png", b"<svg onload=alert(1)>"), "image");
    assert!(reason.contains("not a PNG"), "{reason}");

    // A visualData card front: base64 JPEG marked only by dataType.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let card = json!({"profileCard": {"front": {"key": "front", "dataType": "IMAGE",
        "data": b64(jpeg), "textColor": "WHITE"}}});
    let items = decode_body(&card);
    assert_eq!(only(&items).pointer, "/profileCard/front/data");
    assert!(
        matches!(&items[0].decoded, Decoded::Image { content_type, .. } if content_type == "image/jpeg")
    );
}

#[test]
fn broken_material_is_reported_with_a_reason() {
    let cert = b64(identity().device_cert_der());
    let truncated = &cert[..cert.len() / 8 * 4];
    let body = json!({"certificates": [{"keyid": "signer", "certificate": truncated}]});
    let items = decode_body(&body);
    let item = only(&items);
    assert_eq!(item.pointer, "/certificates/0/certificate");
    assert_eq!(item.label, "certificate for key 'signer' (unreadable DER)");
    assert!(unparsed_reason(item, "DER").contains("truncated"));

    // Cut mid-quantum it is not even base64; under a material key that is worth saying.
    let items = decode_body(&json!({"certificate": format!("{truncated}A")}));
    assert!(unparsed_reason(only(&items), "base64").contains("base64"));
    // Base64 that is not DER, under a material key.
    let items = decode_body(&json!({"signature": b64("this is certainly no signature at all")}));
    assert!(unparsed_reason(only(&items), "base64").contains("not DER"));
    // DER, but nothing this console knows: a SEQUENCE holding one long INTEGER.
    let mut odd = vec![0x30, 0x81, 0x83, 0x02, 0x81, 0x80];
    odd.extend([0x11; 128]);
    let reason = unparsed_reason(only(&decode_body(&json!({"x": b64(&odd)}))), "DER");
    assert!(reason.contains("certificate request"), "{reason}");
    // A JWS shape whose header has no alg.
    let token = format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#));
    let reason = unparsed_reason(only(&decode_body(&json!({"response": token}))), "JWS");
    assert!(reason.contains("alg"), "{reason}");
    // PEM without its END line, and an x5c entry that is no certificate.
    let broken_pem = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n";
    assert_eq!(
        unparsed_reason(only(&decode_text(broken_pem)), "PEM"),
        "no END line for the PEM CERTIFICATE"
    );
    let header = json!({"alg": "RS256", "x5c": ["bm90IGEgY2VydA=="]});
    let token = format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(header.to_string()));
    let items = decode_body(&json!(token));
    assert_eq!(items.len(), 2, "{items:#?}");
    assert_eq!(items[1].pointer, "#header/x5c/0");
    let Decoded::Jws { checks, .. } = &items[0].decoded else {
        panic!("{items:#?}")
    };
    assert_eq!(check(checks, "signature").passed, None);
    // A data item that does not decode.
    let bad = json!({"tbs": [{"key": "t", "content_type": "text/plain", "content_encoding": "base64", "data": "%%%"}]});
    unparsed_reason(only(&decode_body(&bad)), "base64 data item");
}

#[test]
fn the_pin_resets_transported_key_is_a_public_key_not_an_alarm() {
    let spki = material::transport_key_spki_der().expect("spki");
    let items = decode_body(&json!({"transportedkey": b64(spki)}));
    let item = only(&items);
    assert_eq!(item.label, "transportedkey (public key)");
    match &item.decoded {
        Decoded::PublicKey(key) => {
            assert_eq!((key.algorithm.as_str(), key.bits), ("RSA", Some(2048)))
        }
        other => panic!("{other:?}"),
    }
    assert!(search_text(&items).contains("RSA"));
}

#[test]
fn garbage_and_short_strings_yield_nothing() {
    let body = json!({
        "commandId": "1733838383838383",
        "state": "COMPLETED",
        "short": "MIIB",
        "profileId": "0c5e9f1a-2b7d-4c1e-9a3f-5d6e7f809a1b",
        "message": "The device declined the signing request.",
        "location": "https://hermod.example.com:20400/hermod/rest/ms/482ae2ba",
        "fqdn": "hermod.example.com.very.long.name",
        "nonce": b64("just some ordinary text, not material"),
        "hex": "deadbeefdeadbeefdeadbeefdeadbeef",
        "almostJws": "eyJhbGciOi",
        "numbers": [1, 2.5, -3],
        "flags": [true, false, null],
        "nested": {"deeper": [{"state": "EXPIRED"}]},
        "contentId": "PROV:0c5e9f1a-2b7d-4c1e-9a3f",
    });
    assert_eq!(decode_body(&body), []);
    assert_eq!(decode_text(&body.to_string()), []);
    assert_eq!(decode_text("plain text, not JSON and not material"), []);
    assert_eq!(decode_text(""), []);
    assert_eq!(search_text(&[]), "");
}

#[test]
fn nesting_is_looked_into_up_to_the_cap() {
    let cert = json!(b64(identity().ca_cert_der()));
    let nested = |levels: usize| {
        (0..levels).fold(cert.clone(), |inner, i| {
            if i % 2 == 0 {
                json!([inner])
            } else {
                json!({"cert": inner})
            }
        })
    };
    assert_eq!(decode_body(&nested(MAX_DEPTH)).len(), 1);
    assert_eq!(decode_body(&nested(MAX_DEPTH + 1)), []);
    // serde_json's own recursion limit turns absurd text into "not JSON", which is no material.
    let deep = "[".repeat(100_000);
    assert_eq!(decode_text(&deep), []);
}

#[test]
fn never_panics_on_hostile_input() {
    // xorshift: reproducible noise without a seeded RNG crate feature.
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect()
    };
    let cert = identity().device_cert_der().to_vec();
    let p7 = identity().pkcs7(b"some content").unwrap();
    let jws = identity()
        .jws_rs256(br#"{"certreqs":[{"certreq":"MIIB"}]}"#)
        .unwrap();

    let mut strings: Vec<String> = vec![
        String::new(),
        "=".repeat(40),
        "-----BEGIN CERTIFICATE----------END CERTIFICATE-----".into(),
        "-----BEGIN PKCS7-----\n!!!\n-----END PKCS7-----".into(),
        "-----BEGIN ".repeat(10),
        "eyJ.eyJ.eyJ".repeat(3),
        "eyJhbGciOiJSUzI1NiJ9..".into(),
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","x5c":[1,null,{}]}"#),
            "e30"
        ),
        format!(
            "{}.{}.AA",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES384","x5c":"nope"}"#),
            "e30"
        ),
        format!(
            "{}..",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"PS512","x5c":[]}"#)
        ),
        "MIIB".repeat(100),
        "\u{feff}MIIC\u{0}\u{7f}ünïcödé".repeat(5),
    ];
    for len in [0, 1, 2, 3, 4, 5, 16, 100, 1000] {
        for prefix in [
            &[][..],
            &[0x30, 0x80],
            &[0x30, 0x82, 0x01, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x7f],
        ] {
            let mut bytes = prefix.to_vec();
            bytes.extend(noise(len));
            strings.push(b64(&bytes));
            strings.push(URL_SAFE_NO_PAD.encode(&bytes));
            strings.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for der in [&cert, &p7] {
        let text = b64(der);
        strings.extend((0..text.len()).step_by(11).map(|n| text[..n].to_string()));
        for at in (0..der.len()).step_by(17) {
            let mut flipped = der.clone();
            flipped[at] ^= 0xff;
            strings.push(b64(&flipped));
        }
    }
    strings.extend((0..jws.len()).step_by(11).map(|n| jws[..n].to_string()));
    for at in (0..jws.len()).step_by(29) {
        let mut altered = jws.clone().into_bytes();
        altered[at] = if altered[at] == b'.' { b'x' } else { b'.' };
        strings.push(String::from_utf8(altered).unwrap());
    }

    for s in &strings {
        // Every path at once: a material key, data items of each kind, a visualData side.
        let body = json!({
            "response": s,
            "tbs": [
                {"key": s, "content_type": "image/png", "content_encoding": "base64", "data": s},
                {"content_type": s, "content_encoding": "BASE64", "data": s},
                {"content_type": "application/x", "content_encoding": "base64", "data": s, "keyid": s},
            ],
            "front": {"dataType": "image", "data": s},
        });
        let _ = search_text(&decode_body(&body));
        let _ = search_text(&decode_text(s));
    }
    let odd = [
        json!(null),
        json!({}),
        json!([]),
        json!({"data": 5, "content_encoding": "base64"}),
        json!({"data": null, "dataType": "IMAGE"}),
        json!({"content_encoding": 7, "data": "x"}),
        json!({"": "", "~/": "~/"}),
    ];
    for body in &odd {
        let _ = search_text(&decode_body(body));
    }
    let many: Vec<Value> = (0..MAX_ITEMS + 10).map(|_| json!(b64(&cert))).collect();
    assert_eq!(decode_body(&Value::Array(many)).len(), MAX_ITEMS);
}
