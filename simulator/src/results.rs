//! What a device "answers" in the simulator: real signatures, real certificate requests. The result
//! shapes are not publicly documented (docs/hermod.md §3.2); these follow the neutral default of
//! §7.6.

use super::SimCommand;
use super::material::{self, Identity};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hermod_shared::hermod::{CommandPayload, DataItem, SignCommand};
use serde_json::{Value, json};

pub fn error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// The result of a completed command. Runs on a blocking thread: it may generate RSA keys.
pub fn complete(c: &SimCommand) -> Result<Value, String> {
    let identity = || Identity::shared().map_err(|e| e.to_string());
    match c.body.payload.as_ref() {
        Some(CommandPayload::Sign(s)) => signature(identity()?, s, "pkcs7"),
        Some(CommandPayload::Authenticate(s)) => signature(identity()?, s, "jws"),
        Some(CommandPayload::Provision(p)) => {
            let mut certreqs = Vec::new();
            let profile = p.profile.clone().unwrap_or_default();
            for r in profile.keygenrequests.unwrap_or_default() {
                let keyid = r.keyid.clone().unwrap_or_default();
                let subject = p.userid.clone().unwrap_or_else(|| keyid.clone());
                // The device takes the first key type it supports, as a real one would.
                let mut last_err = String::from("no key type asked");
                let mut made = None;
                for k in r.keytypeprios.unwrap_or_default() {
                    let keytype = k.keytype.unwrap_or_default();
                    let keylength = k.keylength.unwrap_or_else(|| "2048".into());
                    match material::pkcs10(&keytype, &keylength, &subject) {
                        Ok(der) => {
                            made = Some(json!({
                                "keyid": keyid,
                                "keytype": keytype,
                                "keylength": keylength,
                                "certreq": B64.encode(der),
                            }));
                            break;
                        }
                        Err(e) => last_err = e.to_string(),
                    }
                }
                certreqs.push(made.ok_or_else(|| format!("key {keyid}: {last_err}"))?);
            }
            let payload = json!({
                "nonce": p.nonce,
                "profileId": uuid::Uuid::new_v4().to_string(),
                "certreqs": certreqs,
            });
            let jws = identity()?
                .jws_rs256(payload.to_string().as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(json!(jws))
        }
        Some(CommandPayload::Certificate(cert)) => Ok(json!({
            "profileid": cert.profileid,
            "installed": cert.certificates.clone().unwrap_or_default().iter()
                .map(|c| c.keyid.clone()).collect::<Vec<_>>(),
        })),
        Some(CommandPayload::Ping(p)) => {
            let mut answer = json!({"alive": true});
            if p.deviceinfo.as_deref() == Some("true") {
                answer["deviceinfo"] = json!({
                    "operatingsystem": "Linux (simulated)",
                    "appversion": concat!("hermod-console-simulator ", env!("CARGO_PKG_VERSION")),
                    "profiles": [],
                });
            }
            Ok(answer)
        }
        Some(CommandPayload::StartPinReset(_)) => {
            let nonce: String = (0..16)
                .map(|_| format!("{:02x}", rand::random::<u8>()))
                .collect();
            let key = material::transport_key_spki_der().map_err(|e| e.to_string())?;
            Ok(json!({"nonce": nonce, "transportedkey": B64.encode(key)}))
        }
        Some(CommandPayload::EndPinReset(p)) => Ok(json!({
            "result": "OK",
            "adminkeychanged": p.newadminkey.is_some(),
        })),
        None => Err("the command has no payload".into()),
    }
}

/// Signs the concatenated `tbs` items (decoded when base64) in the asked format.
fn signature(identity: &Identity, s: &SignCommand, default_format: &str) -> Result<Value, String> {
    let params = s.params.clone().unwrap_or_default();
    let mut data = Vec::new();
    for item in params.tbs.unwrap_or_default() {
        data.extend(item_bytes(&item));
    }
    if data.is_empty() {
        // An authenticate without tbs: the device signs a fresh challenge.
        data = (0..32).map(|_| rand::random::<u8>()).collect();
    }
    let format = params
        .format
        .unwrap_or_else(|| default_format.to_string())
        .to_ascii_lowercase();
    match format.as_str() {
        "jws" => identity.jws_rs256(&data).map(|jws| json!(jws)),
        _ => identity.pkcs7(&data).map(|der| json!(B64.encode(der))),
    }
    .map_err(|e| e.to_string())
}

fn item_bytes(item: &DataItem) -> Vec<u8> {
    let data = item.data.clone().unwrap_or_default();
    if item.content_encoding.as_deref() == Some("base64") {
        B64.decode(data.trim()).unwrap_or_default()
    } else {
        data.into_bytes()
    }
}
