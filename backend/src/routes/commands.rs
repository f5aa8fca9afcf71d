//! Commands: send one (recorded before it leaves), list them, show one with its timeline, poll Hermod,
//! link one whose send ended unknown to what Hermod created.

use super::{Created, Export, ListQuery, export, flag, invalid, record_id};
use crate::audit::{self, AuditLog, Event};
use crate::auth::{Caller, RequestMeta};
use crate::clock::now_ms;
use crate::decode::{self, TrustBundle};
use crate::error::{ApiError, ApiJson, ApiQuery, Code};
use crate::hermod::{Exchange, Failure, Sending, pollable};
use crate::metrics::Metrics;
use crate::pem;
use crate::state::Clients;
use crate::store::{
    CommandFilter, Exported, Link, LinkError, NewCommand, NewPoll, SendResult, Store, StoredDetail,
};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{
    CommandDetail, CommandRecord, CommandState, HermodReply, LinkCommand, ListPage, PollResult,
    QrCode, SendCommand, TimelineEntry,
};
use hermod_shared::hermod::{
    self, CommandType, Correlation, CreateAnswer, Destination, EnvelopeKeys,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

fn filter(q: &ListQuery) -> Result<CommandFilter, ApiError> {
    let c = q.common()?;
    Ok(CommandFilter {
        command_type: c.kind,
        state: c.state,
        client: c.client,
        overdue: flag("overdue", &q.overdue)?,
        reason: q.reason()?,
        device: q.device()?,
        query: c.query,
    })
}

pub async fn list(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListPage<CommandRecord>>, ApiError> {
    Ok(Json(store.list_commands(filter(&q)?).await?))
}

const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "client",
    "type",
    "state",
    "command_id",
    "external_id",
    "expires_at",
    "reissue_of",
    "created_by",
    "overdue_at",
    "reason",
    "answer_status",
    "request",
    "decoded",
];

fn export_row(e: &Exported<CommandRecord>) -> Vec<String> {
    let c = &e.record;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        c.id.to_string(),
        c.created_at.clone(),
        c.updated_at.clone(),
        c.client.clone(),
        c.command_type.clone(),
        c.state.to_string(),
        opt(&c.command_id),
        opt(&c.external_id),
        opt(&c.expires_at),
        c.reissue_of.map(|r| r.to_string()).unwrap_or_default(),
        opt(&c.created_by),
        opt(&c.overdue_at),
        opt(&c.reason),
        c.answer
            .as_ref()
            .and_then(|a| a.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        c.request.to_string(),
        e.decoded.clone(),
    ]
}

/// `GET /api/commands/export?format=csv|json` with the list's filters: the whole view, streamed.
pub async fn export(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Export<Exported<CommandRecord>>, ApiError> {
    export::stream_pages(
        &q.format,
        "commands",
        EXPORT_COLUMNS,
        export_row,
        filter(&q)?,
        move |f| {
            let store = store.clone();
            async move { store.export_commands(f).await }
        },
    )
}

#[derive(Deserialize, JsonSchema)]
pub struct DetailQuery {
    /// `true`: every callback and poll, not only the newest 100 of each.
    all: Option<String>,
}

/// The callbacks and the polls a command's page shows at first: the newest this many of each
/// (`?all=true` shows every one).
pub const DETAIL_STEPS: usize = 100;

pub async fn detail(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> Result<Json<CommandDetail>, ApiError> {
    let id = record_id(&id, "command")?;
    let most = (!flag("all", &q.all)?.unwrap_or(false)).then_some(DETAIL_STEPS);
    let StoredDetail { detail, undecoded } = store
        .command_detail(id, most)
        .await?
        .ok_or_else(|| ApiError::not_found("command"))?;
    let hermod = clients.client(&detail.command.client).map(|c| &c.hermod);
    let command_url = hermod.map_or_else(
        || "<command URL of a client no longer configured>".into(),
        |h| h.command_url().to_string(),
    );
    // Once Hermod has named the command, its poll too, as the console sends it.
    let poll_url = hermod
        .zip(detail.command.command_id.as_deref())
        .and_then(|(h, id)| pollable(id).then(|| h.poll_url(id)));
    let trust = clients.trust(&detail.command.client);
    let detail = with_decoded(StoredDetail { detail, undecoded }, trust, move |detail| {
        enrich(detail, &command_url, poll_url.as_deref())
    })
    .await?;
    Ok(Json(detail))
}

/// Commands decoded at once (each decode has its own budget of signature checks:
/// decode/verify.rs); more wait their turn.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// `then` of the detail with every step decoded: the steps the indexer has not reached yet are
/// decoded here. That checks signatures, milliseconds each, so it runs off the async threads, and a
/// few commands at a time however many ask at once.
/// The indexer chains signers to no trust bundle, so with `trust` every step is decoded here.
pub async fn with_decoded<T: Send + 'static>(
    StoredDetail {
        mut detail,
        mut undecoded,
    }: StoredDetail,
    trust: Option<Arc<TrustBundle>>,
    then: impl FnOnce(CommandDetail) -> T + Send + 'static,
) -> Result<T, ApiError> {
    if trust.is_some() {
        undecoded = (0..detail.timeline.len()).collect();
    }
    if undecoded.is_empty() {
        return tokio::task::spawn_blocking(move || then(detail))
            .await
            .map_err(ApiError::internal);
    }
    decoding(move || {
        decode_steps(&mut detail, &undecoded, trust.as_deref());
        then(detail)
    })
    .await
}

/// Runs `work`, which decodes, off the async threads and in its turn ([`DECODING`]).
pub async fn decoding<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = DECODING.acquire().await.expect("never closed");
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)
}

/// Adds what the page shows beside the stored facts: a QR code per destination, and the request
/// (and its poll, at `poll_url`) as curl commands, key redacted.
fn enrich(mut detail: CommandDetail, command_url: &str, poll_url: Option<&str>) -> CommandDetail {
    detail.qr = detail
        .command
        .destinations
        .iter()
        .map(|d| d.uri.as_deref().and_then(qr))
        .collect();
    let request = &detail.command.request;
    detail.curl = curl(command_url, &detail.command.command_type, request);
    if let Some(url) = poll_url {
        detail.curl.push_str(&format!(
            "\n\n# Its poll:\ncurl -sS {} \\\n  -H 'X-Api-Key: <redacted>'",
            quote(url)
        ));
    }
    detail
}

/// Decodes the steps at `undecoded`.
fn decode_steps(detail: &mut CommandDetail, undecoded: &[usize], trust: Option<&TrustBundle>) {
    let request = &detail.command.request;
    let text = |body: &Option<String>| {
        body.as_deref()
            .map(|body| decode::decode_text(body, trust))
            .unwrap_or_default()
    };
    for &i in undecoded {
        let entry = &mut detail.timeline[i];
        let items = match &*entry {
            TimelineEntry::Sent { .. } => decode::decode_body(request, trust),
            TimelineEntry::Answer { reply, .. } => text(&reply.body),
            TimelineEntry::Callback { callback, .. } => decode::decode_text(&callback.body, trust),
            TimelineEntry::Poll { poll, .. } => text(&poll.reply.body),
        };
        *entry.decoded_mut() = items;
    }
}

fn qr(text: &str) -> Option<QrCode> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let modules = code
        .to_colors()
        .into_iter()
        .map(|c| if c == qrcode::Color::Dark { '1' } else { '0' })
        .collect();
    Some(QrCode {
        size: code.width() as u32,
        modules,
    })
}

/// `s` as one shell word.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The request as it went to Hermod, runnable by pasting the real key in.
fn curl(command_url: &str, command_type: &str, request: &serde_json::Value) -> String {
    let body = serde_json::to_string_pretty(request).unwrap_or_default();
    format!(
        "curl -sS -X POST {} \\\n  -H 'X-Api-Key: <redacted>' \\\n  -H 'Content-Type: application/json' \\\n  --data-binary @- <<'JSON'\n{body}\nJSON",
        quote(&format!(
            "{}/{command_type}",
            command_url.trim_end_matches('/')
        ))
    )
}

pub async fn send(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    State(metrics): State<Arc<Metrics>>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(mut req): ApiJson<SendCommand>,
) -> Result<Created<CommandRecord>, ApiError> {
    let Some(client) = clients.client(&req.client) else {
        let known: Vec<&str> = clients.all().map(|c| c.id.as_str()).collect();
        return Err(invalid(
            "/client",
            format!(
                "no API client `{}`; configured: {}",
                req.client,
                known.join(", ")
            ),
        ));
    };
    let ty = CommandType::parse(&req.command_type);
    let known = ty.is_some() || clients.custom_commands.contains(&req.command_type);
    if !known {
        let types: Vec<&str> = CommandType::ALL
            .iter()
            .map(|t| t.as_str())
            .chain(clients.custom_commands.iter().map(String::as_str))
            .collect();
        return Err(invalid(
            "/type",
            format!(
                "unknown command type `{}`; one of {} (others go in custom_commands)",
                req.command_type,
                types.join(", ")
            ),
        ));
    }
    // Recorded as sent: certificates and requests as base64 DER (PEM converted, each parsed), the
    // object under the key Hermod is configured to take it under.
    if let Some(ty) = ty {
        pem::to_der(ty, &mut req.body).map_err(|e| ApiError::invalid(&e.under("/body")))?;
        clients.body_keys.to_hermod(ty, &mut req.body);
    }
    // Only what the console itself reads is checked; Hermod decides the rest (hermod.rs, Sending).
    let body = Sending::read(&req.body).map_err(|e| ApiError::invalid(&e.under("/body")))?;
    let command_type = req.command_type.clone();
    if let Some(origin) = req.reissue_of
        && store.command(origin).await?.is_none()
    {
        return Err(invalid(
            "/reissue_of",
            format!("no command {origin} to re-issue"),
        ));
    }
    let record = store
        .insert_command(NewCommand {
            client: client.id.clone(),
            command_type: command_type.clone(),
            external_id: body.external_id.clone(),
            request: req.body.clone(),
            reissue_of: req.reissue_of,
            created_by: Some(caller.name.clone()),
        })
        .await?;
    // The exchange runs in its own task, its audit line included: a browser that goes away mid-send
    // (or the API's request timeout) must neither leave the command at SENDING forever nor leave
    // the send out of the audit log.
    let hermod = client.hermod.clone();
    let client_id = client.id.clone();
    let timeout = body.timeout_secs;
    let task = tokio::spawn(async move {
        let exchange = hermod.create(&command_type, &req.body).await;
        let (created, problem) = interpret_create(&exchange, timeout, &clients.envelope);
        let event = Event::ok("command_sent", None)
            .outcome(if problem.is_none() { "ok" } else { "failed" })
            .detail(json!({
                "type": command_type,
                "client": client_id,
                "reissue_of": req.reissue_of,
            }));
        let finished = store
            .finish_send(SendResult {
                id: record.id,
                state: created.state,
                command_id: created.command_id,
                destinations: created.destinations,
                reason: send_reason(&exchange.reply),
                reply: exchange.reply,
                expires_at: created.expires_at,
                audit: audit::entry(&meta, Some(&caller), event),
            })
            .await;
        metrics.commands_sent.inc();
        if problem.is_some() || finished.is_err() {
            metrics.commands_failed.inc();
        }
        match (finished, problem) {
            (Ok(record), None) => Ok(record),
            (Ok(record), Some(p)) => Err(p.with_record(record)),
            (Err(e), _) => Err(ApiError::store(e)),
        }
    });
    let outcome = task
        .await
        .map_err(|e| ApiError::internal(format!("the send task failed: {e}")))?;
    Ok(Created(outcome?))
}

/// What Hermod's answer to a create request says was created.
struct Made {
    state: CommandState,
    command_id: Option<String>,
    destinations: Vec<Destination>,
    expires_at: Option<i64>,
}

/// Reads Hermod's answer to a create request: what to record, and the error to answer with, if any.
fn interpret_create(
    exchange: &Exchange,
    timeout_secs: Option<u64>,
    keys: &EnvelopeKeys,
) -> (Made, Option<ApiError>) {
    let mut created = Made {
        state: CommandState::SendFailed,
        command_id: None,
        destinations: Vec::new(),
        expires_at: None,
    };
    if let Some(failure) = exchange.failure {
        created.state = match failure {
            Failure::Unreachable | Failure::Certificate => CommandState::SendFailed,
            Failure::Timeout | Failure::BrokenAnswer => CommandState::SendUnknown,
        };
        return (created, Some(exchange_error(exchange, failure)));
    }
    let status = exchange.reply.status.unwrap_or_default();
    if matches!(status, 500 | 502 | 503 | 504) {
        // A server error, or a gateway in front of Hermod: Hermod may have created the command
        // before it failed, or may never have seen the request. Only a callback or a poll can tell.
        created.state = CommandState::SendUnknown;
        let detail = format!(
            "Hermod (or a proxy in front of it) answered {status}; the command may or may not \
             exist in Hermod. Its callback, if it comes, is matched by externalId."
        );
        return (
            created,
            Some(bad_gateway(Code::HermodServerError, detail, exchange)),
        );
    }
    if !(200..300).contains(&status) {
        return (created, Some(refused(exchange)));
    }
    let answer = exchange
        .success_json()
        .map(|v| CreateAnswer::read(&v, keys))
        .unwrap_or_default();
    let Some(command_id) = answer.command_id else {
        created.state = CommandState::SendUnknown;
        let detail = format!(
            "Hermod answered {status} without a commandId; the command may or may not exist in \
             Hermod. Its answer is kept with the record."
        );
        return (
            created,
            Some(bad_gateway(Code::HermodBadAnswer, detail, exchange)),
        );
    };
    created.state = answer
        .state
        .as_deref()
        .map(CommandState::parse)
        .unwrap_or(CommandState::InProgress);
    created.command_id = Some(command_id);
    created.destinations = answer.destinations;
    created.expires_at = timeout_secs.map(|s| {
        now_ms().saturating_add(i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000))
    });
    (created, None)
}

/// What became of a send, in one line: why no answer came, or Hermod's status and the message of
/// its body (Spring Boot's `message` or `error`, else the body itself). Kept only if it failed.
fn send_reason(reply: &HermodReply) -> Option<String> {
    if let Some(error) = &reply.error {
        return hermod::one_line(error);
    }
    let status = reply.status?;
    let body = reply.body.as_deref().unwrap_or_default();
    let said = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            ["message", "error"]
                .iter()
                .find_map(|k| hermod::reason(v.get(k)?))
        })
        .or_else(|| hermod::one_line(body));
    Some(match said {
        Some(said) => format!("Hermod answered {status}: {said}"),
        None => format!("Hermod answered {status}"),
    })
}

/// A 502 `code`, with Hermod's status and body.
fn bad_gateway(code: Code, detail: String, exchange: &Exchange) -> ApiError {
    let mut e = ApiError::new(code, detail);
    e.problem.hermod_status = exchange.reply.status;
    e.problem.hermod_body = exchange.reply.body.clone();
    e
}

/// 502 for "Hermod said no", with its status and body.
fn refused(exchange: &Exchange) -> ApiError {
    let status = exchange.reply.status.unwrap_or_default();
    let detail = format!("Hermod answered {status}; see hermod_body for its reason");
    bad_gateway(Code::HermodRefused, detail, exchange)
}

/// 502 or 504 for an exchange that produced no usable answer.
fn exchange_error(exchange: &Exchange, failure: Failure) -> ApiError {
    let detail = exchange.reply.error.clone().unwrap_or_default();
    let code = match failure {
        Failure::Unreachable => Code::HermodUnreachable,
        Failure::Certificate => Code::HermodCertificate,
        Failure::Timeout => Code::HermodTimeout,
        Failure::BrokenAnswer => Code::HermodBadAnswer,
    };
    let mut e = ApiError::new(code, detail);
    e.problem.hermod_status = exchange.reply.status;
    e
}

pub async fn poll(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PollResult>, ApiError> {
    let id = record_id(&id, "command")?;
    let asker = Asker::Caller(&meta, &caller);
    poll_command(store.as_ref(), &clients, &audit, id, asker)
        .await
        .map(Json)
}

/// Tells the console which command Hermod created for a send whose answer never came, so its
/// callbacks match it and it can be polled.
pub async fn link(
    State(store): State<Arc<dyn Store>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LinkCommand>,
) -> Result<Json<CommandRecord>, ApiError> {
    let id = record_id(&id, "command")?;
    let command_id = req.command_id.trim().to_string();
    if !pollable(&command_id) {
        return Err(invalid(
            "/command_id",
            "a commandId as Hermod gives them: 1 to 128 letters, digits or -._~",
        ));
    }
    let event =
        Event::ok("command_linked", id.to_string()).detail(json!({"command_id": command_id}));
    let linked = store
        .link_command(Link {
            id,
            command_id,
            audit: audit::entry(&meta, Some(&caller), event),
        })
        .await;
    match linked {
        Ok(record) => Ok(Json(record)),
        Err(LinkError::Store(e)) => Err(e.into()),
        Err(LinkError::NotFound) => Err(ApiError::not_found("command")),
        Err(e @ LinkError::NotUnknown(..)) => Err(ApiError::new(Code::NotLinkable, e.to_string())),
        Err(e @ LinkError::Taken(_)) => Err(ApiError::new(Code::CommandIdTaken, e.to_string())),
    }
}

/// Who asks for a poll, for the audit log.
pub enum Asker<'a> {
    Caller(&'a RequestMeta, &'a Caller),
    /// The console itself, following up a command whose callback never came.
    FollowUp,
}

/// Asks Hermod for the command's state and stores the answer, whatever it is; a state it reports
/// moves the command (unless a callback already decided it).
pub async fn poll_command(
    store: &dyn Store,
    clients: &Clients,
    audit: &AuditLog,
    id: i64,
    asker: Asker<'_>,
) -> Result<PollResult, ApiError> {
    let command = store
        .command(id)
        .await?
        .ok_or_else(|| ApiError::not_found("command"))?;
    let Some(hermod_id) = command.command_id.clone() else {
        return Err(ApiError::new(
            Code::NoCommandId,
            "Hermod never gave this command a commandId, so there is nothing to poll",
        ));
    };
    if !pollable(&hermod_id) {
        let shown: String = hermod_id.chars().take(64).collect();
        return Err(ApiError::new(
            Code::UnexpectedCommandId,
            format!(
                "this command's commandId `{shown}` is not of the form Hermod gives (letters, \
                 digits, '-', '.', '_' or '~', up to 128), so the console does not put it in a URL"
            ),
        ));
    }
    let Some(client) = clients.client(&command.client) else {
        return Err(ApiError::new(
            Code::ClientGone,
            format!("API client `{}` is no longer configured", command.client),
        ));
    };
    let exchange = client.hermod.poll(&hermod_id).await;
    let said = exchange
        .success_json()
        .map(|v| Correlation::of(&v, &clients.envelope))
        .unwrap_or_default();
    let reported = said.state;
    let (poll, command) = store
        .insert_poll(NewPoll {
            command: id,
            reply: exchange.reply.clone(),
            state: reported.as_deref().map(CommandState::parse),
            reason: said.reason,
        })
        .await?;
    let detail = json!({
        "command_id": hermod_id,
        "status": exchange.reply.status,
        "error": exchange.reply.error,
    });
    match asker {
        Asker::Caller(meta, caller) => {
            let event = Event::ok("poll", id.to_string()).detail(detail);
            audit.record(meta, Some(caller), event).await;
        }
        Asker::FollowUp => {
            let line = audit::system_entry("follow-up", "poll", &id.to_string(), detail);
            audit.append(line).await;
        }
    }
    if let Some(failure) = exchange.failure {
        return Err(exchange_error(&exchange, failure).with_record(command));
    }
    if !(200..300).contains(&exchange.reply.status.unwrap_or_default()) {
        return Err(refused(&exchange).with_record(command));
    }
    Ok(PollResult {
        poll,
        command,
        reported,
    })
}
