//! The configuration's checks: unknown keys, secrets, credentials, hosts, the examples.

use super::*;
use crate::store::Cutoffs;

const MINIMAL: &str = r#"
    [clients.idm]
    command_url = "https://hermod:20400/hermod/rest/command"
    key = "k"
"#;

#[test]
fn callback_credentials_are_each_clients_own_and_never_empty() {
    let two = |a: &str, b: &str| {
        Config::from_toml(
            &format!(
                "[clients.idm]\ncommand_url = \"https://h/command\"\nkey = \"k\"\n{a}\n\
                 [clients.ra]\ncommand_url = \"https://h/command\"\nkey = \"k\"\n{b}"
            ),
            [],
        )
    };
    let cb = |user: &str, password: &str| {
        format!("callback_user = \"{user}\"\ncallback_password = \"{password}\"")
    };
    let err = two(&cb("hermod", "one"), &cb("hermod", "two")).unwrap_err();
    assert!(
        err.0.contains("clients.idm") && err.0.contains("clients.ra") && err.0.contains("hermod"),
        "{err}"
    );
    assert!(!err.0.contains("one") && !err.0.contains("two"), "{err}");
    let err = two(&cb("", "pw"), "").unwrap_err();
    assert!(err.0.contains("must not be empty"), "{err}");
    let err = two(&cb("a", ""), "").unwrap_err();
    assert!(err.0.contains("must not be empty"), "{err}");
    two(&cb("a", "pw"), &cb("b", "pw")).unwrap();
}

#[test]
fn the_hosts_answered_default_to_where_the_console_is_reached() {
    for (text, host) in [
        ("Console.Example.:443", "console.example"),
        ("[::1]:8080", "::1"),
        ("::1", "::1"),
        ("10.0.0.1", "10.0.0.1"),
        ("user@host:1/path?q", "host"),
    ] {
        assert_eq!(host_name(text), host, "{text}");
    }
    let c = Config::from_toml(
        "listen = \"0.0.0.0:8080\"\npublic_url = \"https://Console.Example/\"\n\
         callback_public_url = \"https://hooks.example:8444\"",
        [],
    )
    .unwrap();
    assert_eq!(
        c.answered_hosts(),
        [
            "0.0.0.0",
            "127.0.0.1",
            "::1",
            "console.example",
            "hooks.example",
            "localhost"
        ]
    );
    let c = Config::from_toml(
        "listen = \"10.1.2.3:8080\"\nallowed_hosts = [\"A.example:1\"]",
        [],
    )
    .unwrap();
    assert_eq!(c.answered_hosts(), ["a.example"]);
}

#[test]
fn a_command_url_with_credentials_in_it_is_refused() {
    let err = Config::from_toml(
        "[clients.idm]\ncommand_url = \"https://u:secret@hermod/rest/command\"\nkey = \"k\"",
        [],
    )
    .unwrap_err();
    assert!(err.0.contains("clients.idm.command_url"), "{err}");
    assert!(!err.0.contains("secret"), "{err}");
    // An @ further on (a path or query) is not a credential.
    Config::from_toml(
        "[clients.idm]\ncommand_url = \"https://hermod/rest/command?by=a@b\"\nkey = \"k\"",
        [],
    )
    .unwrap();
}

#[test]
fn unknown_keys_are_named() {
    let err = Config::from_toml("lisen = 1", []).unwrap_err();
    assert!(err.0.contains("lisen"), "{err}");
    let err = Config::from_toml(&format!("{MINIMAL}\nkee = 2"), []).unwrap_err();
    assert!(
        err.0.contains("clients.idm") && err.0.contains("kee"),
        "{err}"
    );
}

#[test]
fn env_overrides_reach_nested_keys_and_secrets_stay_hidden() {
    let env = [
        (
            "HERMOD_CONSOLE__LISTEN".to_string(),
            "0.0.0.0:9000".to_string(),
        ),
        (
            "HERMOD_CONSOLE__CLIENTS__IDM__CALLBACK_USER".into(),
            "cb".into(),
        ),
        (
            "HERMOD_CONSOLE__CLIENTS__IDM__CALLBACK_PASSWORD".into(),
            "1234".into(),
        ),
        ("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS".into(), "2".into()),
        ("OTHER".into(), "x".into()),
    ];
    let c = Config::from_toml(MINIMAL, env).unwrap();
    assert_eq!(c.listen, "0.0.0.0:9000");
    assert_eq!(c.feed.heartbeat_secs, 2);
    let (user, pass) = c.clients["idm"].resolve_callback("idm").unwrap().unwrap();
    assert_eq!((user.as_str(), pass.expose()), ("cb", "1234"));
    assert_eq!(
        format!("{pass} {pass:?} {:?}", c.clients["idm"])
            .matches("1234")
            .count(),
        0
    );
}

#[test]
fn secrets_from_the_environment_keep_their_exact_text() {
    for secret in [
        "1_000", "0x1F", "1e3", "nan", "+5", "007", "3.10", "inf", "true",
    ] {
        let env = [
            (
                "HERMOD_CONSOLE__CLIENTS__IDM__KEY".to_string(),
                secret.to_string(),
            ),
            ("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS".into(), "7".into()),
        ];
        let c = Config::from_toml(MINIMAL, env).unwrap();
        let key = c.clients["idm"].resolve_key("idm").unwrap();
        assert_eq!(key.expose(), secret);
        assert_eq!(c.feed.heartbeat_secs, 7);
    }
}

#[test]
fn a_client_timeout_must_end_before_the_request_does() {
    let err = Config::from_toml(&format!("{MINIMAL}\nrequest_timeout_secs = 85"), []).unwrap_err();
    assert!(err.0.contains("clients.idm.request_timeout_secs"), "{err}");
    Config::from_toml(&format!("{MINIMAL}\nrequest_timeout_secs = 84"), []).unwrap();
}

#[test]
fn the_annotated_examples_hold_only_known_keys() {
    let text = include_str!("../../../hermod-console.example.toml");
    let c: Config = parse_with_env(text, ENV_PREFIX, []).unwrap();
    assert_eq!(
        c.clients["idm"].callback_user.as_deref(),
        Some("idm-callback")
    );
    let sim = include_str!("../../../hermod-simulator.example.toml");
    hermod_simulator::SimConfig::from_toml(sim, []).unwrap();
}

#[test]
fn a_client_needs_a_key_and_a_whole_callback_credential() {
    let err = Config::from_toml("[clients.a]\ncommand_url = \"http://h/command\"", []).unwrap_err();
    assert!(err.0.contains("key"), "{err}");
    let err = Config::from_toml(&format!("{MINIMAL}\ncallback_user = \"u\""), []).unwrap_err();
    assert!(err.0.contains("callback_password"), "{err}");
}

#[test]
fn custom_command_types_are_lower_case_words_the_console_does_not_know() {
    for bad in ["Rotate", "rot-ate", "", "sign"] {
        let err = Config::from_toml(&format!("custom_commands = [\"{bad}\"]\n{MINIMAL}"), [])
            .unwrap_err();
        assert!(err.0.contains("custom_commands"), "{bad}: {err}");
    }
    let c = Config::from_toml(&format!("custom_commands = [\"rotate\"]\n{MINIMAL}"), []).unwrap();
    assert_eq!(c.custom_commands, ["rotate"]);
}

#[test]
fn body_keys_and_state_names_are_checked_at_load() {
    let with = |table: &str| Config::from_toml(&format!("[body_keys]\n{table}\n{MINIMAL}"), []);
    let c = with("ping = \"pingRequest\"").unwrap();
    assert_eq!(c.body_keys.ping, "pingRequest");
    assert_eq!(
        c.body_keys.certificate, "certCommand",
        "the rest keep the guess"
    );
    for (table, named) in [
        ("ping = \"\"", "body_keys.ping"),
        ("endpinreset = \"commandHeader\"", "body_keys.endpinreset"),
        // Documented keys are not for changing.
        ("sign = \"signRequest\"", "sign"),
    ] {
        let err = with(table).unwrap_err();
        assert!(err.0.contains(named), "{table}: {err}");
    }
    let c = Config::from_toml(
        &format!("[envelope.states]\nCANCELLED = \"rejected\"\n{MINIMAL}"),
        [],
    )
    .unwrap();
    assert_eq!(c.envelope.state("cancelled"), "REJECTED");
    let err = Config::from_toml(
        &format!("[envelope.states]\nCANCELLED = \"GONE\"\n{MINIMAL}"),
        [],
    )
    .unwrap_err();
    assert!(err.0.contains("envelope.states.CANCELLED"), "{err}");
    let env = [(
        "HERMOD_CONSOLE__BODY_KEYS__CERTIFICATE".into(),
        "certificateCommand".into(),
    )];
    let c = Config::from_toml(MINIMAL, env).unwrap();
    assert_eq!(c.body_keys.certificate, "certificateCommand");
}

#[test]
fn urls_and_proxies_are_parsed_at_load_and_a_bad_one_is_named() {
    for (key, value) in [
        ("public_url", "\"console.example\""),
        ("public_url", "\"ftp://console.example\""),
        ("callback_public_url", "\"http://\""),
        ("trusted_proxies", "[\"10.0.0.0/33\"]"),
        ("trusted_proxies", "[\"proxy.example\"]"),
    ] {
        let err = Config::from_toml(&format!("{key} = {value}\n{MINIMAL}"), []).unwrap_err();
        assert!(err.0.contains(key), "{key} = {value}: {err}");
    }
    let c = Config::from_toml(
        &format!(
            "public_url = \"HTTPS://Console.Example:8443/\"\ntrusted_proxies = [\"10.0.0.0/8\", \
             \"::1\"]\n{MINIMAL}"
        ),
        [],
    )
    .unwrap();
    assert!(c.is_https());
    assert_eq!(c.public_url().host_str(), Some("console.example"));
    assert_eq!(c.trusted_proxies.len(), 2);
}

#[test]
fn retention_keeps_everything_by_default_and_the_feed_never_outlives_its_records() {
    let now = 1_790_000_000_000;
    let day = 86_400_000;
    let c = Config::from_toml(MINIMAL, []).unwrap();
    assert_eq!(c.retention.cutoffs(now), Cutoffs::default());
    let with = |text: &str| Config::from_toml(&format!("[retention]\n{text}"), []);
    let c = with("commands_days = 90\nunmatched_callbacks_days = 30\naudit_days = 400").unwrap();
    assert_eq!(
        c.retention.cutoffs(now),
        Cutoffs {
            commands: Some(now - 90 * day),
            unmatched_callbacks: Some(now - 30 * day),
            // Left out: as long as the shorter of the records it points at.
            feed: Some(now - 30 * day),
            audit: Some(now - 400 * day),
        }
    );
    let c = with("commands_days = 90\nfeed_days = 7").unwrap();
    assert_eq!(c.retention.cutoffs(now).feed, Some(now - 7 * day));
    let c = with("feed_days = 7").unwrap();
    assert_eq!(c.retention.cutoffs(now).commands, None);
    for (text, key) in [
        (
            "commands_days = 30\nfeed_days = 31",
            "retention.commands_days",
        ),
        (
            "unmatched_callbacks_days = 3\nfeed_days = 4",
            "retention.unmatched_callbacks_days",
        ),
        ("every_secs = 0", "retention.every_secs"),
        ("batch = 0", "retention.batch"),
        ("batch = 5001", "retention.batch"),
        ("days = 3", "days"),
    ] {
        let err = with(text).unwrap_err();
        assert!(err.0.contains(key), "{text}: {err}");
    }
}

#[test]
fn the_banner_is_one_short_line() {
    let with = |banner: &str| Config::from_toml(&format!("[ui]\nbanner = {banner:?}"), []);
    assert_eq!(with("TEST").unwrap().ui.banner.as_deref(), Some("TEST"));
    assert_eq!(Config::from_toml("", []).unwrap().ui.banner, None);
    for bad in ["", "   ", "two\nlines", &"x".repeat(65)] {
        let e = with(bad).unwrap_err();
        assert!(e.0.contains("ui.banner"), "{bad:?}: {e}");
    }
}

#[test]
fn the_overdue_notify_url_is_checked_at_load_and_never_repeated_in_an_error() {
    let with = |overdue: &str| Config::from_toml(&format!("{MINIMAL}\n[overdue]\n{overdue}"), []);
    let config = with(r#"notify_url = "https://chat.example/hooks/T0-secret""#).unwrap();
    let url = config.overdue.notify_url().unwrap().unwrap();
    assert_eq!(url.path(), "/hooks/T0-secret");
    assert!(
        !format!("{config:?}").contains("T0-secret"),
        "Debug shows the URL"
    );
    for bad in [
        "ftp://chat.example/T0-secret",
        "T0-secret",
        "mailto:T0-secret@chat.example",
    ] {
        let err = with(&format!("notify_url = \"{bad}\"")).unwrap_err();
        assert!(err.0.contains("overdue.notify_url"), "{err}");
        assert!(!err.0.contains("T0-secret"), "{err}");
    }
    let err = with("notify_attempts = 0").unwrap_err();
    assert!(err.0.contains("notify_attempts"), "{err}");
    // From the environment too, as every secret.
    let config = Config::from_toml(
        MINIMAL,
        [(
            "HERMOD_CONSOLE__OVERDUE__NOTIFY_URL".to_string(),
            "http://127.0.0.1:9/hook".to_string(),
        )],
    )
    .unwrap();
    assert!(config.overdue.notify_url().unwrap().is_some());
    assert_eq!(
        Config::from_toml(MINIMAL, [])
            .unwrap()
            .overdue
            .notify_url()
            .unwrap(),
        None
    );
}
