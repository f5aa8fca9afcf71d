//! What every list says besides its page (README.md, "Console API"): how many records its filters
//! select on all pages together (`total`), and, searched, where in each record the text was found
//! (`matched`).

use crate::harness::{Credential, TestApp, b64, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{AuditRecord, CallbackRecord, CommandRecord, ListPage, Role};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The page at `path`, once every record stored before it was searched (`unindexed` 0).
async fn listed<T: DeserializeOwned>(app: &TestApp, who: &Credential, path: &str) -> ListPage<T> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = app.call(Method::GET, path, who, None).await.expect(200);
        let page: ListPage<T> = answer.parse();
        if page.unindexed == 0 {
            return page;
        }
        assert!(Instant::now() < deadline, "{path}: not indexed in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_list_counts_what_its_filters_select_the_same_on_every_page() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let admin = app.session(Role::Admin).await;
    let run = unique("count-");
    for n in 0..5 {
        let sign = sign_body(&format!("hold-{run}-{n}"), 60);
        let (ty, body) = match n {
            0..3 => (
                "ping",
                json!({"commandHeader": sign["commandHeader"], "pingCommand": {"deviceinfo": "true"}}),
            ),
            _ => ("sign", sign),
        };
        app.sent(&operator, ty, body).await;
    }
    let (app, operator) = (&app, &operator);
    let commands = |query: String| {
        let path = format!("/api/commands?{query}");
        async move { listed::<CommandRecord>(app, operator, &path).await }
    };
    let all = commands(String::new()).await;
    assert_eq!(
        (all.items.len(), all.total, all.total_capped),
        (5, 5, false)
    );
    assert_eq!(commands("type=sign".into()).await.total, 2);
    // Each page counts the whole list, not itself and not what is left after its cursor.
    let first = commands("limit=2".into()).await;
    let cursor = first.next_cursor.expect("a second page");
    let second = commands(format!("limit=2&cursor={cursor}")).await;
    assert_eq!((first.total, second.total), (5, 5));
    assert_eq!(second.items.len(), 2);
    // A search counts what it finds; with a filter, what both select.
    let found = commands(format!("q={run}-1")).await;
    assert_eq!((found.items.len(), found.total), (1, 1));
    assert_eq!(
        commands(format!("q={run}&type=ping&limit=1")).await.total,
        3
    );
    assert_eq!(commands("q=no-such-text-anywhere".into()).await.total, 0);

    // Callbacks, the audit log and devices count the same way.
    for n in 0..3 {
        let body = json!({"commandId": format!("{run}-{n}"), "state": "COMPLETED", "n": n});
        app.sign_callback(body.to_string()).await.expect(200);
    }
    let callbacks: ListPage<CallbackRecord> =
        listed(app, operator, &format!("/api/callbacks?q={run}&limit=1")).await;
    assert_eq!((callbacks.items.len(), callbacks.total), (1, 3));
    let audit: ListPage<AuditRecord> =
        listed(app, &admin, "/api/audit?type=command_sent&limit=2").await;
    assert_eq!(audit.total, 5);
    let devices: Value = app
        .call(Method::GET, "/api/devices", operator, None)
        .await
        .expect(200)
        .json();
    assert_eq!(devices["total"], devices["items"].as_array().unwrap().len());
    // Under the cap, `total_capped` is not said at all.
    let raw: Value = app
        .call(Method::GET, "/api/commands", operator, None)
        .await
        .expect(200)
        .json();
    assert!(raw.get("total_capped").is_none(), "{raw}");
}

#[tokio::test]
async fn a_search_says_where_it_found_the_text_in_each_record_and_no_search_says_nothing() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let admin = app.session(Role::Admin).await;
    let external_id = unique("hold-where-");
    // A word only in the base64 of the text to sign: the request holds it decoded nowhere.
    let word = unique("zebrafinch");
    let mut body = sign_body(&external_id, 60);
    body["signCommand"]["params"]["tbs"][0]["data"] = json!(b64(format!("Pay 100 EUR, {word}")));
    let (id, command_id) = app.sent(&operator, "sign", body).await;
    // Its callback holds another word.
    let said = unique("callback-note-");
    let callback = json!({"commandId": command_id, "state": "COMPLETED", "note": said});
    app.sign_callback(callback.to_string()).await.expect(200);
    let matched = |page: ListPage<CommandRecord>| {
        assert_eq!(page.items.len(), 1, "{page:?}");
        assert_eq!(page.items[0].id, id);
        page.items[0].matched.clone()
    };

    let by_external_id =
        matched(listed(&app, &operator, &format!("/api/commands?q={external_id}")).await);
    assert!(
        by_external_id.contains(&"externalId".to_string()),
        "{by_external_id:?}"
    );
    assert!(
        by_external_id.contains(&"request /commandHeader/externalId".to_string()),
        "{by_external_id:?}"
    );
    let by_word = matched(
        listed(
            &app,
            &operator,
            &format!("/api/commands?q={}", word.to_uppercase()),
        )
        .await,
    );
    assert_eq!(by_word, ["decoded: tbs data item 'tbs'"]);

    let callbacks: ListPage<CallbackRecord> =
        listed(&app, &operator, &format!("/api/callbacks?q={said}")).await;
    let [callback] = &callbacks.items[..] else {
        panic!("{callbacks:?}")
    };
    assert_eq!(callback.command, Some(id));
    assert_eq!(callback.matched, ["body /note"]);
    let by_callback = matched(listed(&app, &operator, &format!("/api/commands?q={said}")).await);
    assert_eq!(by_callback, [format!("callback #{}", callback.id)]);

    // The audit log says which of its columns hold it.
    let audit: ListPage<AuditRecord> =
        listed(&app, &admin, "/api/audit?q=command_sent&limit=1").await;
    assert_eq!(audit.items[0].matched, ["action"]);

    // Without a search, no record says anything of it: not even an empty list.
    for path in ["/api/commands", "/api/callbacks", "/api/audit"] {
        let who = if path == "/api/audit" {
            &admin
        } else {
            &operator
        };
        let page: Value = app
            .call(Method::GET, path, who, None)
            .await
            .expect(200)
            .json();
        let items = page["items"].as_array().expect("items");
        assert!(!items.is_empty(), "{path}");
        assert!(
            items.iter().all(|i| i.get("matched").is_none()),
            "{path}: {page}"
        );
    }
}
