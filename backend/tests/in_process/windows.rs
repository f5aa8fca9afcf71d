//! Relative windows (README.md, "Console API"): `window=1h` on any list or export is the last hour
//! up to the moment of the request, so a bookmarked or exported view stays "the last hour".

use crate::harness::{TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CallbackRecord, CommandRecord, ListPage, Role};
use serde_json::json;

#[tokio::test]
async fn a_window_selects_the_last_minutes_hours_or_days_on_every_list_and_export() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let admin = app.session(Role::Admin).await;
    let (id, command_id) = app
        .sent(&operator, "sign", sign_body(&unique("hold-window-"), 60))
        .await;
    app.sign_callback(json!({"commandId": command_id, "state": "COMPLETED"}).to_string())
        .await
        .expect(200);
    let get = |path: String| {
        let (app, admin) = (&app, &admin);
        async move { app.call(Method::GET, &path, admin, None).await.expect(200) }
    };
    for window in ["15m", "1h", "7d"] {
        let commands: ListPage<CommandRecord> =
            get(format!("/api/commands?window={window}")).await.parse();
        assert_eq!(
            commands.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            [id]
        );
        let callbacks: ListPage<CallbackRecord> =
            get(format!("/api/callbacks?window={window}")).await.parse();
        assert_eq!(callbacks.items.len(), 1, "{window}");
        let audit: serde_json::Value = get(format!("/api/audit?window={window}")).await.json();
        assert!(!audit["items"].as_array().unwrap().is_empty(), "{window}");
        let csv = get(format!("/api/commands/export?format=csv&window={window}"))
            .await
            .text();
        assert_eq!(csv.lines().count(), 2, "a header and the command: {csv}");
    }
    // `until` still applies beside a window, and `since` with it: the later bound wins.
    for narrower in [
        "window=1h&until=2020-01-01T00:00:00Z",
        "window=7d&since=2999-01-01T00:00:00Z",
    ] {
        let page: ListPage<CommandRecord> = get(format!("/api/commands?{narrower}")).await.parse();
        assert!(page.items.is_empty(), "{narrower}");
    }
    let wider: ListPage<CommandRecord> =
        get("/api/commands?window=1h&since=2020-01-01T00:00:00Z".into())
            .await
            .parse();
    assert_eq!(wider.items.len(), 1, "the window is the later bound");
}
