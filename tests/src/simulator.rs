//! The Hermod side: a `simulate` process of a test's own, and sample command and callback bodies
//! (docs/hermod.md §7) whose `externalId` steers the simulator.

use crate::{IDM_CALLBACK_USER, Process, Secrets, args, b64, unique};
use serde_json::{Value, json};
use std::path::Path;

/// A `hermod-console simulate` process with its config in `dir`: `idm` as its client, calling back to a
/// console on `console_port`, `extra` added to the config's top level. The process and its address.
pub async fn simulator(
    dir: &Path,
    secrets: &Secrets,
    console_port: u16,
    extra: &str,
) -> (Process, String) {
    let toml = dir.join("hermod-simulator.toml");
    std::fs::write(
        &toml,
        format!(
            r#"listen = "127.0.0.1:0"
public_url = "https://hermod.test/hermod/rest/ms"
fqdn = "hermod.test"
{extra}
[clients.idm]
key = "{key}"
callback_url = "http://127.0.0.1:{console_port}/clients/idm/rest"
callback_basic_auth = "{IDM_CALLBACK_USER}:{password}"
"#,
            key = secrets.idm_key,
            password = secrets.idm_password,
        ),
    )
    .expect("write the simulator's config");
    let mut sim_args = args(["simulate", "--config"]);
    sim_args.push(toml.into_os_string());
    let (process, addrs) = Process::spawn(
        &sim_args,
        &[],
        &dir.join("simulator.log"),
        &["simulator listening"],
    )
    .await;
    (process, addrs[0].clone())
}

/// `commandHeader` with `timeout` and `lifespan` of `timeout_secs`.
pub fn header(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "lifespan": timeout_secs,
        "timeout": timeout_secs,
        "to": ["@tmp"],
        "externalId": external_id,
    })
}

/// A sign request as in §7.2, with real base64.
pub fn sign_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "signCommand": { "params": {
            "description": [ { "key": "requester", "description": "Signing request from",
                               "content_type": "text/plain", "content_encoding": "base64",
                               "data": b64("Example Bank"), "visible": true } ],
            "tbs": [ { "key": "tbs", "description": "Text to sign",
                       "content_type": "text/plain", "content_encoding": "base64",
                       "data": b64("Pay 100 EUR to ACME"), "visible": true } ],
            "filter": { "op": "eq", "param": "key.type", "value": "RSA" },
            "format": "pkcs7",
            "mechanism": "CKM_SHA256_RSA_PKCS"
        } }
    })
}

/// §7.3.
pub fn authenticate_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "authCommand": { "params": {
            "description": [ { "key": "auth_image", "description": "Verify that image is equal",
                               "content_type": "application/hermod+content-id",
                               "data": "AUTH:4018", "visible": true } ],
            "tbs": [ { "key": "challenge", "content_type": "text/plain", "content_encoding": "base64",
                       "data": b64(unique("challenge-")), "visible": false } ],
            "format": "jws",
            "mechanism": "CKM_SHA256_RSA_PKCS"
        } }
    })
}

/// §7.4, with device info.
pub fn ping_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "pingCommand": { "deviceinfo": "true" }
    })
}

/// §7.1, asking for a P-256 key (quick to make).
pub fn provision_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "provCommand": {
            "nonce": unique("n-"),
            "userid": "jane.doe@example.com",
            "responsesignaturekey": "ATTESTATION",
            "responseformat": "jws",
            "profile": {
                "servername": "Example IDM",
                "name": "Example Mobile ID",
                "keygenrequests": [ {
                    "keyid": "signer",
                    "usage": "SIG",
                    "keytypeprios": [ { "keytype": "EC", "keylength": "256", "responsemechanism": "ES256" } ],
                    "storageprios": [ "APP" ],
                    "keystate": "ACTIVE"
                } ],
                "visualData": { "contentId": "PROV:0c5e" }
            }
        }
    })
}

/// §7.4.
pub fn certificate_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "certCommand": { "profileid": "profile-1", "smartcardid": "token-1",
                         "desktopKeyProtectionLevel": "CONSENT",
                         "certificates": [ { "keyid": "signer", "certificate": example_certificate() } ] }
    })
}

/// The send form's example certificate: one the console parses, as it parses every certificate
/// before sending.
fn example_certificate() -> Value {
    let example =
        hermod_shared::examples::default_body(hermod_shared::hermod::CommandType::Certificate);
    example["certCommand"]["certificates"][0]["certificate"].clone()
}

/// §7.5.
pub fn startpinreset_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "startpinresetCommand": { "profileid": "profile-1", "operation": "pinreset" }
    })
}

/// §7.5.
pub fn endpinreset_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "endpinresetCommand": { "smartcardid": "token-1", "encryptednonce": b64("nonce"),
                                "newadminkey": "0123456789abcdef0123456789abcdef0123456789abcdef" }
    })
}

/// A valid body for every command type.
pub fn body_for(ty: &str, external_id: &str, timeout_secs: u64) -> Value {
    match ty {
        "sign" => sign_body(external_id, timeout_secs),
        "authenticate" => authenticate_body(external_id, timeout_secs),
        "ping" => ping_body(external_id, timeout_secs),
        "provision" => provision_body(external_id, timeout_secs),
        "certificate" => certificate_body(external_id, timeout_secs),
        "startpinreset" => startpinreset_body(external_id, timeout_secs),
        "endpinreset" => endpinreset_body(external_id, timeout_secs),
        other => panic!("no sample body for {other}"),
    }
}

/// Every command type, as in Hermod's paths.
pub const TYPES: [&str; 7] = [
    "provision",
    "certificate",
    "authenticate",
    "sign",
    "ping",
    "startpinreset",
    "endpinreset",
];

/// A callback body in the simulator's default shape (docs/hermod.md §7.6).
pub fn callback_body(command_id: &str, external_id: &str, state: &str) -> String {
    json!({
        "commandId": command_id,
        "externalId": external_id,
        "commandType": "SIGN",
        "state": state,
        "response": b64(unique("signature-")),
        "error": null,
    })
    .to_string()
}
