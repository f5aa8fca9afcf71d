//! In the browser, the records the page lists and follows are read from JSON by hand, field by
//! field, rather than by serde's derived readers: those cost the WebAssembly bundle some 8 KB of
//! brotli more (docs/ARCHITECTURE.md, "The page's size"). Every other build (the backend, the
//! tests) derives them as usual, and the tests below hold the two to the same result.
//!
//! Read by hand, what is missing or of another type reads as empty: the console wrote it.

use super::{
    AuditRecord, CallbackRecord, ClientInfo, CommandDetail, CommandRecord, CommandState, FeedEvent,
    HermodReply, ListPage, PollRecord, Problem, QrCode, TimelineEntry,
};
use crate::hermod::Destination;
use serde_json::Value;

/// `Self` from JSON the console API wrote; `None` for what it cannot be (an enum's unknown kind).
pub trait FromJson: Sized {
    fn from_json(v: Value) -> Option<Self>;
}

fn text(v: &mut Value) -> String {
    opt(v).unwrap_or_default()
}

fn opt(v: &mut Value) -> Option<String> {
    match v.take() {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn status(v: &Value) -> Option<u16> {
    v.as_u64().and_then(|s| u16::try_from(s).ok())
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_default()
}

fn list<T: FromJson>(v: &mut Value) -> Vec<T> {
    match v.take() {
        Value::Array(items) => items.into_iter().filter_map(T::from_json).collect(),
        _ => Vec::new(),
    }
}

/// `None` for null (or nothing), else what it reads as.
fn maybe<T: FromJson>(v: &mut Value) -> Option<T> {
    match v.take() {
        Value::Null => None,
        v => T::from_json(v),
    }
}

/// The one key of an externally tagged enum's JSON, and what it holds.
fn tagged(v: Value) -> Option<(String, Value)> {
    match v {
        Value::Object(o) if o.len() == 1 => o.into_iter().next(),
        _ => None,
    }
}

impl FromJson for String {
    fn from_json(mut v: Value) -> Option<Self> {
        opt(&mut v)
    }
}

impl FromJson for Value {
    fn from_json(v: Value) -> Option<Self> {
        Some(v)
    }
}

impl FromJson for Destination {
    fn from_json(v: Value) -> Option<Self> {
        serde_json::from_value(v).ok()
    }
}

impl FromJson for HermodReply {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(HermodReply {
            at: text(&mut v["at"]),
            status: status(&v["status"]),
            body: opt(&mut v["body"]),
            error: opt(&mut v["error"]),
            duration_ms: v["duration_ms"].as_u64().unwrap_or_default(),
        })
    }
}

impl FromJson for CommandRecord {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(CommandRecord {
            id: int(&v["id"]),
            client: text(&mut v["client"]),
            command_type: text(&mut v["type"]),
            state: CommandState::parse(v["state"].as_str().unwrap_or_default()),
            command_id: opt(&mut v["command_id"]),
            external_id: opt(&mut v["external_id"]),
            created_at: text(&mut v["created_at"]),
            updated_at: text(&mut v["updated_at"]),
            expires_at: opt(&mut v["expires_at"]),
            destinations: list(&mut v["destinations"]),
            request: v["request"].take(),
            answer: maybe(&mut v["answer"]),
            reissue_of: v["reissue_of"].as_i64(),
            created_by: opt(&mut v["created_by"]),
            overdue_at: opt(&mut v["overdue_at"]),
            reason: opt(&mut v["reason"]),
            matched: list(&mut v["matched"]),
        })
    }
}

impl FromJson for CallbackRecord {
    fn from_json(mut v: Value) -> Option<Self> {
        let headers = list::<Value>(&mut v["headers"])
            .into_iter()
            .map(|mut pair| (text(&mut pair[0]), text(&mut pair[1])))
            .collect();
        Some(CallbackRecord {
            id: int(&v["id"]),
            received_at: text(&mut v["received_at"]),
            client: opt(&mut v["client"]),
            callback_type: text(&mut v["type"]),
            command_id: opt(&mut v["command_id"]),
            command: v["command"].as_i64(),
            state: opt(&mut v["state"]),
            external_id: opt(&mut v["external_id"]),
            body: text(&mut v["body"]),
            headers,
            auth: text(&mut v["auth"]),
            path: opt(&mut v["path"]),
            body_truncated: v["body_truncated"].as_bool().unwrap_or_default(),
            matched: list(&mut v["matched"]),
        })
    }
}

impl FromJson for PollRecord {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(PollRecord {
            id: int(&v["id"]),
            command: int(&v["command"]),
            reply: HermodReply::from_json(v["reply"].take())?,
        })
    }
}

impl FromJson for AuditRecord {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(AuditRecord {
            id: int(&v["id"]),
            at: text(&mut v["at"]),
            actor: text(&mut v["actor"]),
            actor_kind: text(&mut v["actor_kind"]),
            source: text(&mut v["source"]),
            action: text(&mut v["action"]),
            target: opt(&mut v["target"]),
            outcome: text(&mut v["outcome"]),
            request_id: opt(&mut v["request_id"]),
            detail: v["detail"].take(),
            matched: list(&mut v["matched"]),
        })
    }
}

impl<I: FromJson> FromJson for TimelineEntry<I> {
    fn from_json(v: Value) -> Option<Self> {
        let (kind, mut v) = tagged(v)?;
        let decoded = list(&mut v["decoded"]);
        Some(match kind.as_str() {
            "sent" => TimelineEntry::Sent {
                at: text(&mut v["at"]),
                decoded,
            },
            "answer" => TimelineEntry::Answer {
                reply: HermodReply::from_json(v["reply"].take())?,
                decoded,
            },
            "callback" => TimelineEntry::Callback {
                callback: CallbackRecord::from_json(v["callback"].take())?,
                decoded,
            },
            "poll" => TimelineEntry::Poll {
                poll: PollRecord::from_json(v["poll"].take())?,
                decoded,
            },
            _ => return None,
        })
    }
}

impl FromJson for FeedEvent {
    fn from_json(v: Value) -> Option<Self> {
        let (kind, mut v) = tagged(v)?;
        let seq = int(&v["seq"]);
        let mut command = || CommandRecord::from_json(v["command"].take());
        Some(match kind.as_str() {
            "command" => FeedEvent::Command {
                seq,
                command: command()?,
            },
            "overdue" => FeedEvent::Overdue {
                seq,
                command: command()?,
            },
            "callback" => FeedEvent::Callback {
                seq,
                callback: CallbackRecord::from_json(v["callback"].take())?,
            },
            _ => return None,
        })
    }
}

impl FromJson for ClientInfo {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(ClientInfo {
            id: text(&mut v["id"]),
            label: text(&mut v["label"]),
            command_url: text(&mut v["command_url"]),
            callback_url: text(&mut v["callback_url"]),
            callback_user: opt(&mut v["callback_user"]),
            allowed_clients_entry: text(&mut v["allowed_clients_entry"]),
            custom_commands: list(&mut v["custom_commands"]),
        })
    }
}

impl FromJson for Problem {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(Problem {
            error: text(&mut v["error"]),
            detail: text(&mut v["detail"]),
            field: opt(&mut v["field"]),
            hermod_status: status(&v["hermod_status"]),
            hermod_body: opt(&mut v["hermod_body"]),
            record: maybe(&mut v["record"]),
        })
    }
}

impl FromJson for QrCode {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(QrCode {
            size: v["size"].as_u64().and_then(|s| u32::try_from(s).ok())?,
            modules: text(&mut v["modules"]),
        })
    }
}

impl<I: FromJson> FromJson for CommandDetail<I> {
    fn from_json(mut v: Value) -> Option<Self> {
        let qr = match v["qr"].take() {
            Value::Array(codes) => codes.into_iter().map(QrCode::from_json).collect(),
            _ => Vec::new(),
        };
        Some(CommandDetail {
            command: CommandRecord::from_json(v["command"].take())?,
            timeline: list(&mut v["timeline"]),
            omitted: v["omitted"].as_u64().unwrap_or_default(),
            qr,
            curl: text(&mut v["curl"]),
            reissued_as: match v["reissued_as"].take() {
                Value::Array(ids) => ids.iter().filter_map(Value::as_i64).collect(),
                _ => Vec::new(),
            },
            devices: list(&mut v["devices"]),
        })
    }
}

impl<T: FromJson> FromJson for ListPage<T> {
    fn from_json(mut v: Value) -> Option<Self> {
        Some(ListPage {
            items: list(&mut v["items"]),
            next_cursor: opt(&mut v["next_cursor"]),
            feed_seq: int(&v["feed_seq"]),
            unindexed: v["unindexed"].as_u64().unwrap_or_default(),
            total: v["total"].as_u64().unwrap_or_default(),
            total_capped: v["total_capped"].as_bool().unwrap_or_default(),
        })
    }
}

/// The browser's `Deserialize` of each type read by hand.
#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use serde::de::{Deserialize, Deserializer, Error};

    fn read<'de, T: FromJson, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::from_json(Value::deserialize(d)?).ok_or_else(|| D::Error::custom("an unknown kind"))
    }

    macro_rules! by_hand {
        ($($t:ty),*) => {$(
            impl<'de> Deserialize<'de> for $t {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    read(d)
                }
            }
        )*};
    }

    by_hand!(
        HermodReply,
        CommandRecord,
        CallbackRecord,
        PollRecord,
        AuditRecord,
        FeedEvent,
        ClientInfo,
        Problem
    );

    impl<'de, I: FromJson> Deserialize<'de> for TimelineEntry<I> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            read(d)
        }
    }

    impl<'de, I: FromJson> Deserialize<'de> for CommandDetail<I> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            read(d)
        }
    }

    impl<'de, T: FromJson> Deserialize<'de> for ListPage<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            read(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::json;
    use std::fmt::Debug;

    /// Read by hand, `x` as the API writes it is `x`, as the derived reader makes it.
    fn same<T: FromJson + Serialize + DeserializeOwned + PartialEq + Debug>(x: T) {
        let v = serde_json::to_value(&x).unwrap();
        assert_eq!(serde_json::from_value::<T>(v.clone()).unwrap(), x);
        assert_eq!(T::from_json(v), Some(x));
    }

    fn reply(status: Option<u16>) -> HermodReply {
        HermodReply {
            at: "2026-12-04T08:00:00.000Z".into(),
            status,
            body: status.map(|s| format!("{{\"status\": {s}}}")),
            error: status.is_none().then(|| "timed out".into()),
            duration_ms: 30_000,
        }
    }

    fn command() -> CommandRecord {
        CommandRecord {
            id: 7,
            client: "idm".into(),
            command_type: "sign".into(),
            state: CommandState::Other("ARCHIVED".into()),
            command_id: Some("123".into()),
            external_id: Some("ext-1".into()),
            created_at: "2026-12-04T08:00:00.000Z".into(),
            updated_at: "2026-12-04T08:00:01.000Z".into(),
            expires_at: Some("2026-12-04T08:05:00.000Z".into()),
            destinations: vec![Destination {
                to: Some("device".into()),
                uri: Some("https://example.invalid/m/1".into()),
                ..Destination::default()
            }],
            request: json!({"commandHeader": {"externalId": "ext-1"}}),
            answer: Some(reply(Some(200))),
            reissue_of: Some(3),
            created_by: Some("alice".into()),
            overdue_at: Some("2026-12-04T08:06:00.000Z".into()),
            reason: Some("USER_REJECTED: no".into()),
            matched: vec!["externalId".into()],
        }
    }

    fn callback() -> CallbackRecord {
        CallbackRecord {
            id: 9,
            received_at: "2026-12-04T08:00:02.000Z".into(),
            client: Some("idm".into()),
            callback_type: "sign".into(),
            command_id: Some("123".into()),
            command: Some(7),
            state: Some("COMPLETED".into()),
            external_id: Some("ext-1".into()),
            body: "{\"state\": \"COMPLETED\"}".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            auth: "basic ok (hermod)".into(),
            path: Some("/clients/idm/rest/callback/sign".into()),
            body_truncated: true,
            matched: vec!["body /state".into()],
        }
    }

    #[test]
    fn records_read_by_hand_are_what_the_derived_readers_make() {
        same(command());
        same(CommandRecord {
            answer: None,
            destinations: Vec::new(),
            matched: Vec::new(),
            ..command()
        });
        same(callback());
        same(AuditRecord {
            id: 1,
            at: "2026-12-04T08:00:00.000Z".into(),
            actor: "alice".into(),
            actor_kind: "user".into(),
            source: "127.0.0.1".into(),
            action: "command_sent".into(),
            target: Some("command 7".into()),
            outcome: "ok".into(),
            request_id: None,
            detail: json!({"type": "sign"}),
            matched: vec!["action".into()],
        });
        same(ClientInfo {
            id: "idm".into(),
            label: "Identity Manager".into(),
            command_url: "https://hermod.invalid".into(),
            callback_url: "https://console.invalid/clients/idm".into(),
            callback_user: None,
            allowed_clients_entry: "- client-id: idm".into(),
            custom_commands: vec!["archive".into()],
        });
        same(Problem {
            error: "hermod_timeout".into(),
            detail: "Hermod did not answer".into(),
            field: Some("/body".into()),
            hermod_status: Some(504),
            hermod_body: Some("gateway".into()),
            record: Some(command()),
        });
        same(ListPage {
            items: vec![command()],
            next_cursor: Some("c1".into()),
            feed_seq: 42,
            unindexed: 2,
            total: 1_000,
            total_capped: true,
        });
    }

    #[test]
    fn a_commands_page_and_the_feed_read_by_hand_as_derived() {
        let decoded = vec![json!({"label": "tbs", "decoded": {"text": {"text": "Pay"}}})];
        same(CommandDetail::<Value> {
            command: command(),
            timeline: vec![
                TimelineEntry::Sent {
                    at: "2026-12-04T08:00:00.000Z".into(),
                    decoded: decoded.clone(),
                },
                TimelineEntry::Answer {
                    reply: reply(None),
                    decoded: Vec::new(),
                },
                TimelineEntry::Callback {
                    callback: callback(),
                    decoded,
                },
                TimelineEntry::Poll {
                    poll: PollRecord {
                        id: 2,
                        command: 7,
                        reply: reply(Some(200)),
                    },
                    decoded: Vec::new(),
                },
            ],
            omitted: 3,
            qr: vec![
                Some(QrCode {
                    size: 21,
                    modules: "01".into(),
                }),
                None,
            ],
            curl: "curl …".into(),
            reissued_as: vec![8, 9],
            devices: vec!["profile:p1".into()],
        });
        same(FeedEvent::Command {
            seq: 1,
            command: command(),
        });
        same(FeedEvent::Overdue {
            seq: 2,
            command: command(),
        });
        same(FeedEvent::Callback {
            seq: 3,
            callback: callback(),
        });
        assert_eq!(FeedEvent::from_json(json!({"archived": {"seq": 4}})), None);
        assert_eq!(TimelineEntry::<Value>::from_json(json!([])), None);
    }
}
