//! A working body for every command type: what the send form starts from, shaped like the
//! documented examples (docs/hermod.md §7) with real base64 where base64 is expected. Kept as one
//! JSON document rather than code: it costs the WebAssembly bundle a few bytes of data instead of
//! kilobytes of code.

use crate::hermod::CommandType;
use serde_json::Value;

const DEFAULTS: &str = include_str!("default-bodies.json");

pub fn default_body(ty: CommandType) -> Value {
    serde_json::from_str::<Value>(DEFAULTS)
        .ok()
        .and_then(|mut all| all.get_mut(ty.as_str()).map(Value::take))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hermod::CommandBody;
    use crate::validate::base64_decode;

    #[test]
    fn every_default_parses_as_its_type() {
        for ty in CommandType::ALL {
            let body = CommandBody::parse(ty, &default_body(ty)).unwrap();
            assert_eq!(body.payload.unwrap().command_type(), ty);
        }
    }

    #[test]
    fn the_sign_default_signs_the_documented_text() {
        let body = default_body(CommandType::Sign);
        let data = body["signCommand"]["params"]["tbs"][0]["data"]
            .as_str()
            .unwrap();
        assert_eq!(base64_decode(data).unwrap(), b"Pay 100 EUR to ACME");
    }
}
