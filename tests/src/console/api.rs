//! The console's API as the tests call it, as `admin`: requests, commands, callbacks posted as Hermod
//! posts them, the live feed, and the demo simulator's own endpoints.

use super::Console;
use crate::{IDM_CALLBACK_USER, Resp, Sse, WAIT, b64, wait_until};
use hermod_shared::console::{CallbackRecord, CommandDetail, CommandRecord, ListPage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

impl Console {
    // ---- HTTP

    pub async fn read(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("send the request");
        Resp::read(response, &self.transcript).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.read(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.read(self.http.post(format!("{}{path}", self.url)).json(body))
            .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Resp {
        self.read(self.http.put(format!("{}{path}", self.url)).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.read(self.http.delete(format!("{}{path}", self.url)))
            .await
    }

    /// A POST with exactly this content type (or none) and body.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut request = self.http.post(format!("{}{path}", self.url)).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        self.read(request).await
    }

    /// `GET /healthz` answers 200: the process is alive and well.
    pub async fn assert_healthy(&self) {
        let r = self.get("/healthz").await;
        assert_eq!(r.status, StatusCode::OK, "/healthz: {}", r.text);
        let r = self.get("/readyz").await;
        assert_eq!(r.status, StatusCode::OK, "/readyz: {}", r.text);
    }

    /// `/metrics` has this sample line (`name{labels} value`), exactly.
    pub async fn assert_metric(&self, line: &str) {
        let metrics = self.get("/metrics").await.expect(200).text;
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in:\n{metrics}"
        );
    }

    // ---- Commands

    /// `POST /api/commands` as `client`.
    pub async fn send_as(&self, client: &str, ty: &str, body: Value) -> Resp {
        self.post_json(
            "/api/commands",
            &json!({"client": client, "type": ty, "body": body}),
        )
        .await
    }

    /// `POST /api/commands` as `idm`; must answer 201 with the record.
    pub async fn send(&self, ty: &str, body: Value) -> CommandRecord {
        self.send_as("idm", ty, body).await.expect(201).parse()
    }

    /// A page of the commands list. A search waits, as the page does, until every stored record is
    /// indexed (`unindexed` is 0): indexing runs beside the writes (docs/ARCHITECTURE.md, "Search").
    pub async fn commands(&self, query: &str) -> ListPage<CommandRecord> {
        self.list_page(&format!("/api/commands{query}")).await
    }

    /// A page of the callbacks list; a search waits for the indexer as [`Console::commands`] does.
    pub async fn callbacks(&self, query: &str) -> ListPage<CallbackRecord> {
        self.list_page(&format!("/api/callbacks{query}")).await
    }

    async fn list_page<T: serde::de::DeserializeOwned>(&self, path: &str) -> ListPage<T> {
        wait_until(&format!("{path} to search every record"), WAIT, || async {
            let page: ListPage<T> = self.get(path).await.expect(200).parse();
            (page.unindexed == 0).then_some(page)
        })
        .await
    }

    pub async fn detail(&self, id: i64) -> CommandDetail {
        self.get(&format!("/api/commands/{id}"))
            .await
            .expect(200)
            .parse()
    }

    /// Waits until command `id` is in `state`.
    pub async fn wait_for_state(&self, id: i64, state: &str) -> CommandRecord {
        wait_until(
            &format!("command {id} to be {state}"),
            WAIT,
            || async move {
                let c = self.detail(id).await.command;
                (c.state.as_str() == state).then_some(c)
            },
        )
        .await
    }

    /// Waits until `n` callbacks for command `id` are stored.
    pub async fn wait_for_callbacks(&self, id: i64, n: usize) -> Vec<CallbackRecord> {
        wait_until(
            &format!("{n} callback(s) for command {id}"),
            WAIT,
            || async move {
                let items = self.callbacks(&format!("?command={id}")).await.items;
                (items.len() >= n).then_some(items)
            },
        )
        .await
    }

    /// The current feed sequence (from a list's `feed_seq`).
    pub async fn feed_seq(&self) -> i64 {
        self.commands("?limit=1").await.feed_seq
    }

    // ---- Receiver

    /// Posts a callback body to `path` with `auth` as Basic credential (`None`: no Authorization), as
    /// Hermod does: no session, no cookie.
    pub async fn post_callback(
        &self,
        path: &str,
        auth: Option<(&str, &str)>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let mut request = self
            .anonymous()
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body.into());
        if let Some((user, password)) = auth {
            request = request.header(
                "authorization",
                format!("Basic {}", b64(format!("{user}:{password}"))),
            );
        }
        self.read(request).await
    }

    /// Posts callback `n` of a burst as Hermod does (a sign callback of about 1 KiB, commandId
    /// [`burst_id`]`(n)`), on `http`'s own connections; its status, or `None` when no answer came
    /// (the console died mid-request, say).
    pub async fn deliver(&self, http: &reqwest::Client, n: u64) -> Option<u16> {
        let (user, password) = self.idm_auth();
        let body = serde_json::json!({
            "commandId": burst_id(n),
            "state": "COMPLETED",
            "externalId": format!("burst-{n}"),
            "padding": "p".repeat(1024),
        })
        .to_string();
        http.post(format!("{}/clients/idm/rest/callback/sign", self.url))
            .basic_auth(user, Some(password))
            .header("content-type", "application/json")
            .body(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// Posts again, as Hermod retries, every callback of a burst that got no 2xx (`outcomes`: each
    /// callback's first answer), then checks that every one of them is stored exactly once.
    pub async fn assert_burst_stored_once(&self, outcomes: &HashMap<u64, Option<u16>>) {
        let http = reqwest::Client::new();
        for (n, answer) in outcomes {
            if *answer != Some(200) {
                let again = self.deliver(&http, *n).await;
                assert_eq!(again, Some(200), "callback {n} on its retry");
            }
        }
        let export: Value = self
            .get("/api/callbacks/export?format=json")
            .await
            .expect(200)
            .json();
        let mut stored: HashMap<String, usize> = HashMap::new();
        for row in export.as_array().expect("a JSON array") {
            let id = row["command_id"].as_str().unwrap_or_default().to_string();
            *stored.entry(id).or_default() += 1;
        }
        for n in outcomes.keys() {
            let once = stored.get(&burst_id(*n));
            assert_eq!(once, Some(&1), "callback {n} stored once");
        }
        assert_eq!(stored.len(), outcomes.len(), "one row per callback posted");
    }

    /// `idm`'s correct callback credential.
    pub fn idm_auth(&self) -> (&str, &str) {
        (IDM_CALLBACK_USER, &self.secrets.idm_password)
    }

    // ---- Feed

    /// Opens `/api/events`, with `Last-Event-ID: last_event_id` and/or `?after=after`; checks the
    /// answer is a stream.
    pub async fn events(&self, last_event_id: Option<&str>, after: Option<i64>) -> Sse {
        self.events_as(&self.http, last_event_id, after).await
    }

    /// `/api/events` opened with `http`'s credentials.
    pub async fn events_as(
        &self,
        http: &reqwest::Client,
        last_event_id: Option<&str>,
        after: Option<i64>,
    ) -> Sse {
        let mut url = format!("{}/api/events", self.url);
        if let Some(a) = after {
            url.push_str(&format!("?after={a}"));
        }
        let mut request = http.get(url).timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("open /api/events");
        assert_eq!(response.status(), StatusCode::OK, "/api/events answered");
        let ct = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        Sse::new(response, self.transcript.clone())
    }

    /// A live feed subscription that is known to be registered: it replays from `feed_seq` (so nothing
    /// after now is missed, whatever the timing).
    pub async fn subscribe(&self) -> Sse {
        let seq = self.feed_seq().await;
        self.events(None, Some(seq)).await
    }

    // ---- Simulator

    pub async fn sim_get(&self, path: &str) -> Resp {
        self.read(self.anonymous().get(format!("{}{path}", self.sim())))
            .await
    }

    pub async fn sim_post(&self, path: &str) -> Resp {
        self.read(self.anonymous().post(format!("{}{path}", self.sim())))
            .await
    }
}

/// The commandId of callback `n` of a burst ([`Console::deliver`]).
pub fn burst_id(n: u64) -> String {
    format!("{}", 7_000_000_000u64 + n)
}
