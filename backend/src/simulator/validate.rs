//! What the simulator refuses with 400. Hermod's own rules are not documented; these are the ones a
//! request must meet for the simulator to act on it, each naming the field.

use base64::Engine;
use hermod_shared::hermod::{
    CommandBody, CommandPayload, CommandType, DataItem, FieldError, SignParams,
};

type Check = Result<(), FieldError>;

fn need<T>(v: &Option<T>, at: &str, what: &str) -> Result<(), FieldError> {
    match v {
        Some(_) => Ok(()),
        None => Err(FieldError::new(at, format!("{what} is required"))),
    }
}

fn base64_ok(data: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .is_ok()
}

pub fn command(ty: CommandType, value: &serde_json::Value) -> Result<CommandBody, FieldError> {
    let body = CommandBody::parse(ty, value)?;
    let header = body
        .header
        .as_ref()
        .ok_or_else(|| FieldError::new("/commandHeader", "commandHeader is required"))?;
    for (v, at) in [(header.lifespan, "lifespan"), (header.timeout, "timeout")] {
        if v == Some(0) {
            return Err(FieldError::new(
                format!("/commandHeader/{at}"),
                "must be positive",
            ));
        }
    }
    let at = format!("/{}", ty.body_key());
    let payload = body
        .payload
        .as_ref()
        .ok_or_else(|| FieldError::new(&at, format!("{} is required", ty.body_key())))?;
    match payload {
        CommandPayload::Provision(p) => {
            let profile = p
                .profile
                .as_ref()
                .ok_or_else(|| FieldError::new(format!("{at}/profile"), "profile is required"))?;
            let requests = profile.keygenrequests.as_deref().unwrap_or_default();
            if requests.is_empty() {
                return Err(FieldError::new(
                    format!("{at}/profile/keygenrequests"),
                    "at least one key generation request is required",
                ));
            }
            for (i, r) in requests.iter().enumerate() {
                let at = format!("{at}/profile/keygenrequests/{i}");
                need(&r.keyid, &format!("{at}/keyid"), "keyid")?;
                let prios = r.keytypeprios.as_deref().unwrap_or_default();
                if prios.is_empty() {
                    return Err(FieldError::new(
                        format!("{at}/keytypeprios"),
                        "at least one key type is required",
                    ));
                }
                for (j, k) in prios.iter().enumerate() {
                    need(
                        &k.keytype,
                        &format!("{at}/keytypeprios/{j}/keytype"),
                        "keytype",
                    )?;
                    if let Some(len) = &k.keylength
                        && len.parse::<u32>().is_err()
                    {
                        return Err(FieldError::new(
                            format!("{at}/keytypeprios/{j}/keylength"),
                            "must be a number written as a string, like \"2048\"",
                        ));
                    }
                }
                if let Some(c) = &r.certreq
                    && !base64_ok(c)
                {
                    return Err(FieldError::new(
                        format!("{at}/certreq"),
                        "must be base64 DER",
                    ));
                }
            }
        }
        CommandPayload::Sign(s) | CommandPayload::Authenticate(s) => {
            let params = s
                .params
                .as_ref()
                .ok_or_else(|| FieldError::new(format!("{at}/params"), "params is required"))?;
            sign_params(params, &format!("{at}/params"), ty == CommandType::Sign)?;
        }
        CommandPayload::Certificate(c) => {
            let certs = c.certificates.as_deref().unwrap_or_default();
            if certs.is_empty() {
                return Err(FieldError::new(
                    format!("{at}/certificates"),
                    "at least one certificate is required",
                ));
            }
            for (i, cert) in certs.iter().enumerate() {
                match &cert.certificate {
                    Some(c) if base64_ok(c) => {}
                    _ => {
                        return Err(FieldError::new(
                            format!("{at}/certificates/{i}/certificate"),
                            "a base64 DER certificate is required",
                        ));
                    }
                }
            }
        }
        CommandPayload::Ping(p) => {
            if let Some(d) = &p.deviceinfo
                && d != "true"
                && d != "false"
            {
                return Err(FieldError::new(
                    format!("{at}/deviceinfo"),
                    "must be \"true\" or \"false\"",
                ));
            }
        }
        CommandPayload::StartPinReset(p) => {
            if p.profileid.is_none() && p.smartcardid.is_none() && p.driver.is_none() {
                return Err(FieldError::new(
                    &at,
                    "profileid, smartcardid or driver is required",
                ));
            }
            if let Some(op) = &p.operation
                && !["pinreset", "adminkeychange", "pinchange", "pukchange"].contains(&op.as_str())
            {
                return Err(FieldError::new(
                    format!("{at}/operation"),
                    "must be pinreset, adminkeychange, pinchange or pukchange",
                ));
            }
        }
        CommandPayload::EndPinReset(p) => {
            need(&p.smartcardid, &format!("{at}/smartcardid"), "smartcardid")?;
            need(
                &p.encryptednonce,
                &format!("{at}/encryptednonce"),
                "encryptednonce",
            )?;
            if let Some(k) = &p.newadminkey
                && (k.len() != 48 || !k.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(FieldError::new(
                    format!("{at}/newadminkey"),
                    "must be 48 hex characters (a 24-byte key)",
                ));
            }
        }
    }
    Ok(body)
}

fn sign_params(p: &SignParams, at: &str, needs_tbs: bool) -> Check {
    if let Some(f) = &p.format
        && !["pkcs7", "jws"].contains(&f.to_ascii_lowercase().as_str())
    {
        return Err(FieldError::new(
            format!("{at}/format"),
            "this simulator signs as pkcs7 or jws",
        ));
    }
    let tbs = p.tbs.as_deref().unwrap_or_default();
    if needs_tbs && tbs.is_empty() {
        return Err(FieldError::new(
            format!("{at}/tbs"),
            "at least one data item to be signed is required",
        ));
    }
    for (list, items) in [
        ("description", p.description.as_deref()),
        ("tbs", Some(tbs)),
    ] {
        for (i, item) in items.unwrap_or_default().iter().enumerate() {
            data_item(item, &format!("{at}/{list}/{i}"))?;
        }
    }
    Ok(())
}

fn data_item(item: &DataItem, at: &str) -> Check {
    let data = item
        .data
        .as_deref()
        .ok_or_else(|| FieldError::new(format!("{at}/data"), "data is required"))?;
    if item.content_encoding.as_deref() == Some("base64") && !base64_ok(data) {
        return Err(FieldError::new(
            format!("{at}/data"),
            "content_encoding is base64 but data is not",
        ));
    }
    Ok(())
}
