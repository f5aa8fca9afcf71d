//! A working body for every command type: what the send form starts from, shaped like the documented
//! examples (hermod-api.md §7) with real base64 where base64 is expected.

use crate::hermod::CommandType;
use serde_json::{Value, json};

/// Base64 of text (its UTF-8 bytes), as Hermod's examples carry text.
pub fn base64_text(text: &str) -> String {
    crate::validate::base64_encode(text.as_bytes())
}

fn text_item(key: &str, description: &str, text: &str) -> Value {
    json!({
        "key": key,
        "description": description,
        "content_type": "text/plain",
        "content_encoding": "base64",
        "data": base64_text(text),
        "visible": true
    })
}

pub fn default_body(ty: CommandType) -> Value {
    let header = json!({"lifespan": 300, "timeout": 300});
    match ty {
        CommandType::Provision => json!({
            "commandHeader": header,
            "provCommand": {
                "nonce": "n-8f1c",
                "userid": "jane.doe@example.com",
                "responsesignaturekey": "ATTESTATION",
                "responseformat": "jws",
                "profile": {
                    "servername": "Example IDM",
                    "name": "Example Mobile ID",
                    "keygenrequests": [{
                        "keyid": "signer",
                        "usage": "SIG",
                        "keytypeprios": [{"keytype": "RSA", "keylength": "2048", "responsemechanism": "RS256"}],
                        "storageprios": ["APP"],
                        "keystate": "ACTIVE"
                    }]
                }
            }
        }),
        CommandType::Certificate => json!({
            "commandHeader": header,
            "certCommand": {
                "profileid": "profile-1",
                "desktopKeyProtectionLevel": "CONSENT",
                "certificates": [{"keyid": "signer", "certificate": base64_text("replace with a DER certificate")}]
            }
        }),
        CommandType::Authenticate => json!({
            "commandHeader": {"lifespan": 120, "timeout": 120},
            "authCommand": {"params": {
                "description": [text_item("requester", "Log-in request from", "Example Bank")],
                "format": "jws",
                "mechanism": "CKM_SHA256_RSA_PKCS"
            }}
        }),
        CommandType::Sign => json!({
            "commandHeader": header,
            "signCommand": {"params": {
                "description": [text_item("requester", "Signing request from", "Example Bank")],
                "tbs": [text_item("tbs", "Text to sign", "Pay 100 EUR to ACME")],
                "filter": {"op": "eq", "param": "key.type", "value": "RSA"},
                "format": "pkcs7",
                "mechanism": "CKM_SHA256_RSA_PKCS"
            }}
        }),
        CommandType::Ping => json!({
            "commandHeader": {"lifespan": 60, "timeout": 60},
            "pingCommand": {"deviceinfo": "true"}
        }),
        CommandType::StartPinReset => json!({
            "commandHeader": header,
            "startpinresetCommand": {"profileid": "profile-1", "operation": "pinreset"}
        }),
        CommandType::EndPinReset => json!({
            "commandHeader": header,
            "endpinresetCommand": {"smartcardid": "token-1", "encryptednonce": "00112233445566778899aabbccddeeff"}
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hermod::CommandBody;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64_text(""), "");
        assert_eq!(base64_text("f"), "Zg==");
        assert_eq!(base64_text("fo"), "Zm8=");
        assert_eq!(base64_text("foo"), "Zm9v");
        assert_eq!(
            base64_text("Pay 100 EUR to ACME"),
            "UGF5IDEwMCBFVVIgdG8gQUNNRQ=="
        );
    }

    #[test]
    fn every_default_parses_as_its_type() {
        for ty in CommandType::ALL {
            let body = CommandBody::parse(ty, &default_body(ty)).unwrap();
            assert_eq!(body.payload.unwrap().command_type(), ty);
        }
    }
}
