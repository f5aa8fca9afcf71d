//! Every example of docs/hermod.md §7 (copied under `tests/examples/`) parses into the typed view
//! and serialises back to equal JSON; unknown fields survive; type errors name the field.

use hermod_shared::console::{CommandState, FeedEvent};
use hermod_shared::hermod::{
    BodyKeys, CommandBody, CommandPayload, CommandType, CreateAnswer, CreateResponse, Envelope,
    EnvelopeKeys, set_pointer,
};
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = format!("{}/tests/examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn every_request_example_round_trips() {
    for ty in CommandType::ALL {
        let raw = example(&format!("{ty}.request"));
        let body = CommandBody::parse(ty, &raw).unwrap_or_else(|e| panic!("{ty}: {e}"));
        let payload = body
            .payload
            .as_ref()
            .unwrap_or_else(|| panic!("{ty}: payload"));
        assert_eq!(payload.command_type(), ty);
        assert!(body.header.is_some(), "{ty}: header");
        assert_eq!(body.to_value(), raw, "{ty}");
    }
}

#[test]
fn typed_view_holds_the_documented_fields() {
    let body = CommandBody::parse(CommandType::Provision, &example("provision.request")).unwrap();
    assert_eq!(body.external_id(), Some("order-42"));
    assert_eq!(body.timeout_secs(), Some(300));
    let Some(CommandPayload::Provision(p)) = body.payload else {
        panic!("provision payload")
    };
    let kg = &p.profile.unwrap().keygenrequests.unwrap()[0];
    assert_eq!(
        kg.keytypeprios.as_ref().unwrap()[0].keylength.as_deref(),
        Some("2048")
    );
    assert_eq!(kg.storageprios.as_ref().unwrap(), &vec!["APP".to_string()]);

    let sign = CommandBody::parse(CommandType::Sign, &example("sign.request")).unwrap();
    let Some(CommandPayload::Sign(s)) = sign.payload else {
        panic!("sign payload")
    };
    let params = s.params.unwrap();
    assert_eq!(params.format.as_deref(), Some("pkcs7"));
    assert_eq!(params.tbs.unwrap()[0].visible, Some(true));
}

#[test]
fn create_response_round_trips() {
    let raw = example("provision.response");
    let r: CreateResponse = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(r.command_id.as_deref(), Some("1011"));
    assert_eq!(
        r.destinations.as_ref().unwrap()[0].to.as_deref(),
        Some("@tmp")
    );
    assert_eq!(serde_json::to_value(&r).unwrap(), raw);
}

#[test]
fn callback_envelope_keeps_the_raw_body_whole() {
    let raw = example("callback.sign");
    let e = Envelope::with_defaults(raw.clone());
    assert_eq!(e.command_id.as_deref(), Some("688"));
    assert_eq!(e.external_id.as_deref(), Some("order-42"));
    assert_eq!(e.state.as_deref(), Some("COMPLETED"));
    assert_eq!(e.command_type.as_deref(), Some("SIGN"));
    assert_eq!(serde_json::to_value(&e).unwrap(), raw);
    let back: Envelope = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(back, e);
}

#[test]
fn envelope_is_tolerant_of_numbers_and_other_spellings() {
    let e = Envelope::with_defaults(json!({"command_id": 77, "status": "expired", "extra": [1]}));
    assert_eq!(e.command_id.as_deref(), Some("77"));
    assert_eq!(e.state.as_deref(), Some("EXPIRED"));
    let garbage = Envelope::with_defaults(json!(["not", "an", "object"]));
    assert_eq!(garbage.command_id, None);
    assert_eq!(
        serde_json::to_value(&garbage).unwrap(),
        json!(["not", "an", "object"])
    );
}

#[test]
fn configured_envelope_shape_is_written_and_read_back() {
    let keys = EnvelopeKeys {
        command_id: vec!["/command/id".into()],
        state: vec!["/result/status".into()],
        ..EnvelopeKeys::default()
    };
    let mut doc = json!({});
    set_pointer(&mut doc, &keys.command_id[0], json!("5"));
    set_pointer(&mut doc, &keys.state[0], json!("FAILED"));
    assert_eq!(
        doc,
        json!({"command": {"id": "5"}, "result": {"status": "FAILED"}})
    );
    let e = Envelope::extract(doc, &keys);
    assert_eq!(e.command_id.as_deref(), Some("5"));
    assert_eq!(e.state.as_deref(), Some("FAILED"));

    // A state name of Hermod's own is read as the state it is configured to mean, in any case.
    let keys = EnvelopeKeys {
        states: [("cancelled".to_string(), "rejected".to_string())].into(),
        ..EnvelopeKeys::default()
    };
    let read = |state: &str| Envelope::extract(json!({ "state": state }), &keys).state;
    assert_eq!(read("Cancelled").as_deref(), Some("REJECTED"));
    assert_eq!(read("done").as_deref(), Some("DONE"), "others as they came");
}

#[test]
fn a_guessed_body_key_goes_to_hermod_as_configured_and_comes_back() {
    let keys = BodyKeys {
        certificate: "certificateCommand".into(),
        ..BodyKeys::default()
    };
    let written = json!({"commandHeader": {}, "certCommand": {"profileid": "p1"}});
    let mut body = written.clone();
    keys.to_hermod(CommandType::Certificate, &mut body);
    assert_eq!(
        body,
        json!({"commandHeader": {}, "certificateCommand": {"profileid": "p1"}})
    );
    keys.from_hermod(CommandType::Certificate, &mut body);
    assert_eq!(body, written);
    // Documented keys and unconfigured ones stay; a body already in Hermod's words, or with both
    // keys, is sent as written.
    for ty in [CommandType::Sign, CommandType::Ping] {
        let mut body = json!({ ty.body_key(): {} });
        keys.to_hermod(ty, &mut body);
        assert_eq!(body, json!({ ty.body_key(): {} }));
    }
    let both = json!({"certCommand": 1, "certificateCommand": 2});
    let mut body = both.clone();
    keys.to_hermod(CommandType::Certificate, &mut body);
    assert_eq!(body, both);
}

#[test]
fn unknown_fields_survive_at_every_level() {
    let raw = json!({
        "commandHeader": {"lifespan": 30, "timeout": 30, "futureHeader": {"x": 1}},
        "signCommand": {"params": {
            "tbs": [{"key": "tbs", "data": "aGk=", "visible": false, "hint": "new"}],
            "filter": {"op": "eq", "param": "key.type", "value": "RSA", "strict": true},
            "newParam": [1, 2]
        }, "sibling": null},
        "topLevelExtra": "kept"
    });
    let body = CommandBody::parse(CommandType::Sign, &raw).unwrap();
    assert_eq!(body.to_value(), raw);
}

#[test]
fn type_errors_name_the_field() {
    let raw = json!({
        "commandHeader": {"lifespan": 30},
        "provCommand": {"profile": {"keygenrequests": [{"keyid": "a"}, {"keytypeprios": [{"keylength": 2048}]}]}}
    });
    let err = CommandBody::parse(CommandType::Provision, &raw).unwrap_err();
    assert_eq!(
        err.pointer,
        "/provCommand/profile/keygenrequests/1/keytypeprios/0/keylength"
    );
    assert!(err.message.contains("expected a string"), "{}", err.message);

    let err = CommandBody::parse(
        CommandType::Ping,
        &json!({"commandHeader": {"timeout": "soon"}}),
    )
    .unwrap_err();
    assert_eq!(err.pointer, "/commandHeader/timeout");

    let err = CommandBody::parse(CommandType::Ping, &json!([1])).unwrap_err();
    assert_eq!(err.pointer, "");
}

#[test]
fn command_types_and_states_parse_their_wire_names() {
    for ty in CommandType::ALL {
        assert_eq!(CommandType::parse(ty.as_str()), Some(ty));
        assert_eq!(serde_json::to_value(ty).unwrap(), json!(ty.as_str()));
    }
    assert_eq!(CommandType::parse("reboot"), None);
    assert_eq!(CommandType::Sign.wire_name(), "SIGN");
    for s in CommandState::KNOWN {
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(serde_json::from_value::<CommandState>(v).unwrap(), s);
    }
    assert_eq!(
        CommandState::parse("cancelled"),
        CommandState::Other("CANCELLED".into())
    );
}

#[test]
fn feed_events_are_named_by_kind() {
    let ev: FeedEvent = serde_json::from_value(json!({"callback": {
        "seq": 9,
        "callback": {"id": 1, "received_at": "2026-01-01T00:00:00Z", "client": "idm", "type": "sign",
            "command_id": "5", "command": null, "state": "COMPLETED", "external_id": null,
            "body": "{}", "headers": [["content-type", "application/json"]], "auth": "basic ok (idm)"}
    }}))
    .unwrap();
    assert_eq!(ev.seq(), 9);
    assert_eq!(ev.name(), "callback");
    let FeedEvent::Callback { callback, .. } = &ev else {
        panic!()
    };
    assert!(callback.unmatched());
}

#[test]
fn feed_events_round_trip_to_equal_json() {
    let events = [
        json!({"command": {"seq": 3, "command": {
            "id": 7, "client": "idm", "type": "sign", "state": "IN_PROGRESS", "command_id": "1011",
            "external_id": "my-id", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:01Z", "expires_at": "2026-01-01T00:05:00Z",
            "destinations": [{"to": "@tmp", "bid": "b", "mid": "m", "uri": "u", "location": "l",
                "extra": "kept"}],
            "request": {"commandHeader": {"timeout": 300}, "x": [1, 2]},
            "answer": null, "reissue_of": 5, "created_by": "admin"
        }}}),
        json!({"callback": {"seq": 9, "callback": {
            "id": 1, "received_at": "2026-01-01T00:00:00Z", "client": null, "type": "frobnicate",
            "command_id": null, "command": null, "state": null, "external_id": null,
            "body": "<not json>", "headers": [], "auth": "basic ok (idm)"
        }}}),
    ];
    for event in events {
        let typed: FeedEvent = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), event);
    }
}

#[test]
fn a_create_answer_is_read_like_a_callback_and_one_odd_destination_loses_no_other() {
    let raw = json!({
        "commandId": 1011,
        "state": "in_progress",
        "destinations": [
            {"to": "@tmp", "uri": "https://h/x"},
            {"to": 7},
            "not an object",
            {"to": "alice@example", "extra": true}
        ],
        "fqdn": ["unexpected", "type"]
    });
    let a = CreateAnswer::read(&raw, &EnvelopeKeys::default());
    assert_eq!(a.command_id.as_deref(), Some("1011"));
    assert_eq!(a.state.as_deref(), Some("IN_PROGRESS"));
    let to: Vec<_> = a.destinations.iter().map(|d| d.to.as_deref()).collect();
    assert_eq!(to, [Some("@tmp"), Some("alice@example")]);
}
