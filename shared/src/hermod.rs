//! Hermod's wire format, as far as public documentation shows it (docs/hermod.md §1–2, §7).
//!
//! Every documented field is typed and optional: Hermod does not document which are required, and the
//! console must be able to show and resend whatever an operator or Hermod wrote. Every struct keeps the
//! fields it does not know in `extra`, so a parse followed by a serialise gives back equal JSON.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

mod envelope;
mod keys;
pub use envelope::{Correlation, CreateAnswer, Envelope, REASON_MAX, one_line, reason};
pub use keys::{BodyKeys, EnvelopeKeys, HERMOD_STATES};

/// Fields a struct does not know, kept verbatim.
pub type Extra = Map<String, Value>;

/// Declares a wire struct whose documented fields are all optional and whose unknown fields survive.
macro_rules! wire {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields this version does not know; kept so that nothing is lost on the way through.
            /// The page only reads wire structs (a command's destinations), never sends them back,
            /// so it skips them: reading them cost the bundle serde's whole buffering of a map.
            #[cfg_attr(feature = "server", serde(flatten))]
            #[cfg_attr(not(feature = "server"), serde(skip))]
            pub extra: Extra,
        }
    };
}

/// The command types Hermod accepts, named as in its paths (`…/command/<type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandType {
    Provision,
    Certificate,
    Authenticate,
    Sign,
    Ping,
    #[serde(rename = "startpinreset")]
    StartPinReset,
    #[serde(rename = "endpinreset")]
    EndPinReset,
}

impl CommandType {
    pub const ALL: [CommandType; 7] = [
        CommandType::Provision,
        CommandType::Certificate,
        CommandType::Authenticate,
        CommandType::Sign,
        CommandType::Ping,
        CommandType::StartPinReset,
        CommandType::EndPinReset,
    ];

    /// The path segment: `provision`, `sign`, …
    pub fn as_str(self) -> &'static str {
        match self {
            CommandType::Provision => "provision",
            CommandType::Certificate => "certificate",
            CommandType::Authenticate => "authenticate",
            CommandType::Sign => "sign",
            CommandType::Ping => "ping",
            CommandType::StartPinReset => "startpinreset",
            CommandType::EndPinReset => "endpinreset",
        }
    }

    /// The key of the command-specific object in the request body. `provCommand`, `signCommand` and
    /// `authCommand` are documented; the others follow the same pattern by inference
    /// (docs/hermod.md §2.2).
    pub fn body_key(self) -> &'static str {
        match self {
            CommandType::Provision => "provCommand",
            CommandType::Certificate => "certCommand",
            CommandType::Authenticate => "authCommand",
            CommandType::Sign => "signCommand",
            CommandType::Ping => "pingCommand",
            CommandType::StartPinReset => "startpinresetCommand",
            CommandType::EndPinReset => "endpinresetCommand",
        }
    }

    /// The upper-case `commandType` Hermod answers with (`SIGN` is documented, the rest inferred).
    pub fn wire_name(self) -> String {
        self.as_str().to_ascii_uppercase()
    }

    pub fn parse(s: &str) -> Option<CommandType> {
        CommandType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for CommandType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

wire! {
    /// `commandHeader`, common to every command (§2.2).
    pub struct CommandHeader {
        #[serde(deserialize_with = "seconds")]
        lifespan: u64,
        #[serde(deserialize_with = "seconds")]
        timeout: u64,
        to: Vec<String>,
        #[serde(rename = "externalId")]
        external_id: String,
    }
}

/// Seconds as a number or as a string of digits: the documentation shows numbers, and a Java
/// service would likely take either (docs/hermod.md).
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(d)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(n)),
        Some(Seconds::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a number of seconds"))),
    }
}

wire! {
    /// `provCommand` (§2.4).
    pub struct ProvCommand {
        nonce: String,
        userid: String,
        responsesignaturekey: String,
        responseformat: String,
        profile: Profile,
    }
}

wire! {
    pub struct Profile {
        servername: String,
        name: String,
        keygenrequests: Vec<KeyGenRequest>,
        #[serde(rename = "visualData")]
        visual_data: VisualData,
    }
}

wire! {
    pub struct KeyGenRequest {
        keyid: String,
        usage: String,
        keytypeprios: Vec<KeyTypePrio>,
        storageprios: Vec<String>,
        keystate: String,
        /// Template PKCS#10 request, base64 DER.
        certreq: String,
    }
}

wire! {
    pub struct KeyTypePrio {
        keytype: String,
        /// A string on the wire (`"2048"`), not a number.
        keylength: String,
        responsemechanism: String,
    }
}

wire! {
    pub struct VisualData {
        #[serde(rename = "contentId")]
        content_id: String,
        #[serde(rename = "profileCard")]
        profile_card: ProfileCard,
    }
}

wire! {
    pub struct ProfileCard {
        front: CardSide,
        back: CardSide,
    }
}

wire! {
    pub struct CardSide {
        data: String,
        #[serde(rename = "dataType")]
        data_type: String,
        key: String,
        #[serde(rename = "textColor")]
        text_color: String,
        protection: String,
    }
}

wire! {
    /// `signCommand` and `authCommand`: authenticate is a specialised sign with the same parameters
    /// (§2.7).
    pub struct SignCommand {
        params: SignParams,
    }
}

wire! {
    pub struct SignParams {
        description: Vec<DataItem>,
        tbs: Vec<DataItem>,
        filter: Filter,
        format: String,
        mechanism: String,
    }
}

wire! {
    /// A text or image shown to the user or signed (§2.6).
    pub struct DataItem {
        key: String,
        description: String,
        data: String,
        content_type: String,
        content_encoding: String,
        visible: bool,
    }
}

wire! {
    pub struct Filter {
        op: String,
        param: String,
        value: String,
    }
}

wire! {
    /// `certCommand` (§2.5, §7.4; the certificate list's shape is inferred).
    pub struct CertCommand {
        profileid: String,
        smartcardid: String,
        #[serde(rename = "desktopKeyProtectionLevel")]
        desktop_key_protection_level: String,
        certificates: Vec<CertItem>,
    }
}

wire! {
    pub struct CertItem {
        keyid: String,
        /// Base64 DER.
        certificate: String,
    }
}

wire! {
    /// `pingCommand` (§2.8). `deviceinfo` is the string `"true"` or `"false"`.
    pub struct PingCommand {
        deviceinfo: String,
    }
}

wire! {
    /// `startpinresetCommand` (§2.9).
    pub struct StartPinResetCommand {
        profileid: String,
        smartcardid: String,
        driver: Driver,
        operation: String,
    }
}

wire! {
    pub struct Driver {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Type")]
        kind: String,
    }
}

wire! {
    /// `endpinresetCommand` (§2.9).
    pub struct EndPinResetCommand {
        smartcardid: String,
        encryptednonce: String,
        newadminkey: String,
    }
}

/// The command-specific object of a request body.
// One per request, never in bulk: boxing the large variant would only add noise for every user.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CommandPayload {
    Provision(ProvCommand),
    Certificate(CertCommand),
    Authenticate(SignCommand),
    Sign(SignCommand),
    Ping(PingCommand),
    StartPinReset(StartPinResetCommand),
    EndPinReset(EndPinResetCommand),
}

impl CommandPayload {
    pub fn command_type(&self) -> CommandType {
        match self {
            CommandPayload::Provision(_) => CommandType::Provision,
            CommandPayload::Certificate(_) => CommandType::Certificate,
            CommandPayload::Authenticate(_) => CommandType::Authenticate,
            CommandPayload::Sign(_) => CommandType::Sign,
            CommandPayload::Ping(_) => CommandType::Ping,
            CommandPayload::StartPinReset(_) => CommandType::StartPinReset,
            CommandPayload::EndPinReset(_) => CommandType::EndPinReset,
        }
    }

    /// An empty payload of the given type, for bodies that leave it out.
    pub fn empty(ty: CommandType) -> CommandPayload {
        match ty {
            CommandType::Provision => CommandPayload::Provision(Default::default()),
            CommandType::Certificate => CommandPayload::Certificate(Default::default()),
            CommandType::Authenticate => CommandPayload::Authenticate(Default::default()),
            CommandType::Sign => CommandPayload::Sign(Default::default()),
            CommandType::Ping => CommandPayload::Ping(Default::default()),
            CommandType::StartPinReset => CommandPayload::StartPinReset(Default::default()),
            CommandType::EndPinReset => CommandPayload::EndPinReset(Default::default()),
        }
    }

    fn parse(ty: CommandType, value: &Value) -> Result<CommandPayload, FieldError> {
        let at = format!("/{}", ty.body_key());
        Ok(match ty {
            CommandType::Provision => CommandPayload::Provision(typed(value, &at)?),
            CommandType::Certificate => CommandPayload::Certificate(typed(value, &at)?),
            CommandType::Authenticate => CommandPayload::Authenticate(typed(value, &at)?),
            CommandType::Sign => CommandPayload::Sign(typed(value, &at)?),
            CommandType::Ping => CommandPayload::Ping(typed(value, &at)?),
            CommandType::StartPinReset => CommandPayload::StartPinReset(typed(value, &at)?),
            CommandType::EndPinReset => CommandPayload::EndPinReset(typed(value, &at)?),
        })
    }
}

/// A whole command request body: `commandHeader`, the type's own object, and anything else kept verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandBody {
    pub header: Option<CommandHeader>,
    pub payload: Option<CommandPayload>,
    pub extra: Extra,
}

/// The longest `lifespan` or `timeout` taken (366 days): Hermod documents no bound, but times are
/// computed from it, and a number near the integer limit would overflow them.
pub const MAX_SECONDS: u64 = 366 * 24 * 3600;

impl CommandBody {
    /// Reads a body for `ty`, checking the documented fields' types and the header's durations
    /// ([`MAX_SECONDS`]). The error names the field as a JSON pointer relative to the body.
    pub fn parse(ty: CommandType, value: &Value) -> Result<CommandBody, FieldError> {
        CommandBody::parse_with(Some(ty), value)
    }

    /// Reads the body of a command type the console does not know (`custom_commands`): only the
    /// header is checked, as for any type; the rest is kept as it came.
    pub fn parse_custom(value: &Value) -> Result<CommandBody, FieldError> {
        CommandBody::parse_with(None, value)
    }

    fn parse_with(ty: Option<CommandType>, value: &Value) -> Result<CommandBody, FieldError> {
        let Value::Object(map) = value else {
            return Err(FieldError::new(
                "",
                "the command body must be a JSON object",
            ));
        };
        let mut body = CommandBody {
            header: None,
            payload: None,
            extra: Extra::new(),
        };
        for (key, v) in map {
            if key == "commandHeader" {
                body.header = Some(typed(v, "/commandHeader")?);
            } else if let Some(ty) = ty.filter(|t| key == t.body_key()) {
                body.payload = Some(CommandPayload::parse(ty, v)?);
            } else {
                body.extra.insert(key.clone(), v.clone());
            }
        }
        if let Some(h) = &body.header {
            for (name, seconds) in [("lifespan", h.lifespan), ("timeout", h.timeout)] {
                if seconds.is_some_and(|s| s > MAX_SECONDS) {
                    return Err(FieldError::new(
                        format!("/commandHeader/{name}"),
                        format!("at most {MAX_SECONDS} seconds (366 days)"),
                    ));
                }
            }
        }
        Ok(body)
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("wire types always serialise")
    }

    pub fn external_id(&self) -> Option<&str> {
        self.header.as_ref()?.external_id.as_deref()
    }

    /// Seconds until Hermod expires the command: `timeout`, else `lifespan`.
    pub fn timeout_secs(&self) -> Option<u64> {
        let h = self.header.as_ref()?;
        h.timeout.or(h.lifespan)
    }
}

impl Serialize for CommandBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        if let Some(h) = &self.header {
            map.serialize_entry("commandHeader", h)?;
        }
        if let Some(p) = &self.payload {
            map.serialize_entry(p.command_type().body_key(), p)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A field that failed validation: where (JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub pointer: String,
    pub message: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// The same error seen from a document that holds this one at `prefix`.
    pub fn under(mut self, prefix: &str) -> FieldError {
        self.pointer = format!("{prefix}{}", self.pointer);
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// Deserialises `value` as `T`; on failure the error carries the JSON pointer of the offending field,
/// prefixed with `at`.
pub fn typed<T: DeserializeOwned>(value: &Value, at: &str) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = at.to_string();
        for seg in e.path().iter() {
            use serde_path_to_error::Segment;
            match seg {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => push_pointer(&mut pointer, key),
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        FieldError::new(pointer, strip_position(&e.into_inner().to_string()))
    })
}

/// serde_json appends "at line 1 column 5" even for in-memory values; the pointer says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

wire! {
    /// Hermod's synchronous answer to a create request (§2.3).
    pub struct CreateResponse {
        #[serde(rename = "commandId")]
        command_id: String,
        destinations: Vec<Destination>,
        #[serde(rename = "commandType")]
        command_type: String,
        state: String,
        fqdn: String,
    }
}

wire! {
    /// One destination of a created command: the link that starts the app, and the message's URL.
    pub struct Destination {
        to: String,
        bid: String,
        mid: String,
        uri: String,
        location: String,
    }
}

/// Appends `key` to `pointer` as one segment (RFC 6901: `~` as `~0`, `/` as `~1`).
pub fn push_pointer(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

/// Sets `value` at a JSON pointer, creating the objects on the way. Used to write a configured
/// envelope shape.
pub fn set_pointer(doc: &mut Value, pointer: &str, value: Value) {
    let mut cur = doc;
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("made an object above");
        if i + 1 == parts.len() {
            obj.insert(part.clone(), value);
            return;
        }
        cur = obj.entry(part.clone()).or_insert(Value::Null);
    }
}
