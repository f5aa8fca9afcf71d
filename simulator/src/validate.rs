//! What the simulator refuses with 400. Hermod's own rules are not documented; the simulator holds a
//! request to the same rules the console's send form shows (`hermod_shared::validate`), and names the
//! first field that breaks one.

use hermod_shared::hermod::{CommandBody, CommandType, FieldError};
use hermod_shared::validate;

pub fn command(ty: CommandType, value: &serde_json::Value) -> Result<CommandBody, FieldError> {
    // The typed read first: a mistyped field is named with serde's own words ("invalid type: …").
    let body = CommandBody::parse(ty, value)?;
    match validate::check(ty, value).into_iter().next() {
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
        for ty in CommandType::ALL {
            command(ty, &default_body(ty)).unwrap_or_else(|e| panic!("{ty}: {e}"));
        }
        let mut body = default_body(CommandType::Sign);
        body["commandHeader"]["timeout"] = json!("soon");
        let e = command(CommandType::Sign, &body).unwrap_err();
        assert_eq!(e.pointer, "/commandHeader/timeout");
        assert!(e.message.starts_with("invalid type"), "{e}");

        let mut body = default_body(CommandType::Sign);
        body["signCommand"]["params"]["tbs"] = json!([]);
        body["signCommand"]["params"]["format"] = json!("xmldsig");
        let e = command(CommandType::Sign, &body).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/signCommand/params/tbs: at least one tbs entry is required"
        );
    }
}
