//! What the simulator refuses with 400. Hermod's own rules are not documented; the simulator holds a
//! request to the same rules the console's send form shows (`hermod_shared::validate`), and names the
//! first field that breaks one.

use hermod_shared::hermod::{BodyKeys, CommandBody, CommandType, FieldError};
use hermod_shared::validate;
use serde_json::Value;

/// Reads a request of type `ty` whose object comes under `keys.key(ty)`, as the Hermod it stands in
/// for names it. That object is required, as Hermod surely needs it, though the form does not
/// require a guessed one.
pub fn command(ty: CommandType, keys: &BodyKeys, value: &Value) -> Result<CommandBody, FieldError> {
    let key = keys.key(ty);
    if value.get(key).is_none_or(Value::is_null) && value.is_object() {
        return Err(FieldError::new(
            format!("/{key}"),
            format!("{key} is required"),
        ));
    }
    let mut value = value.clone();
    keys.from_hermod(ty, &mut value);
    // The typed read first: a mistyped field is named with serde's own words ("invalid type: …").
    // It takes seconds as strings of digits too, as a Java Hermod likely would; the form's rules
    // then see them as the numbers they were read as.
    let body = CommandBody::parse(ty, &value)?;
    if let (Some(header), Some(read)) = (value.get_mut("commandHeader"), &body.header) {
        for (name, seconds) in [("lifespan", read.lifespan), ("timeout", read.timeout)] {
            if let (Some(slot), Some(s)) = (header.get_mut(name), seconds) {
                *slot = s.into();
            }
        }
    }
    match validate::check(ty, &value).into_iter().next() {
        Some(broken) => Err(broken),
        None => Ok(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hermod_shared::examples::default_body;
    use serde_json::json;

    #[test]
    fn defaults_pass_and_the_first_broken_field_is_named() {
        let keys = BodyKeys::default();
        for ty in CommandType::ALL {
            command(ty, &keys, &default_body(ty)).unwrap_or_else(|e| panic!("{ty}: {e}"));
        }
        // Seconds as a string of digits are taken, as a Java Hermod likely would.
        let mut body = default_body(CommandType::Sign);
        body["commandHeader"]["timeout"] = json!("45");
        let read = command(CommandType::Sign, &keys, &body).unwrap();
        assert_eq!(read.timeout_secs(), Some(45));
        body["commandHeader"]["timeout"] = json!("soon");
        let e = command(CommandType::Sign, &keys, &body).unwrap_err();
        assert_eq!(e.pointer, "/commandHeader/timeout");
        assert!(e.message.contains("is not a number of seconds"), "{e}");

        let mut body = default_body(CommandType::Sign);
        body["signCommand"]["params"]["tbs"] = json!([]);
        body["signCommand"]["params"]["format"] = json!("xmldsig");
        let e = command(CommandType::Sign, &keys, &body).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/signCommand/params/tbs: at least one tbs entry is required"
        );
    }

    #[test]
    fn the_command_object_is_read_under_the_configured_key_and_required() {
        let keys = BodyKeys {
            ping: "pingRequest".into(),
            ..BodyKeys::default()
        };
        let mut body = default_body(CommandType::Ping);
        let e = command(CommandType::Ping, &keys, &body).unwrap_err();
        assert_eq!(e.to_string(), "/pingRequest: pingRequest is required");
        let object = body.as_object_mut().unwrap().remove("pingCommand").unwrap();
        body["pingRequest"] = object;
        let read = command(CommandType::Ping, &keys, &body).unwrap();
        assert_eq!(read.payload.unwrap().command_type(), CommandType::Ping);
    }
}
