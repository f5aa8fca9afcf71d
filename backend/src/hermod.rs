//! The console's client for one Hermod API user: it holds the `X-Api-Key`, builds the command and poll
//! URLs, and turns every way an exchange can end into an [`Exchange`] the caller can record.

use crate::clock::{now_ms, rfc3339};
use crate::config::{ClientConfig, ConfigError, Secret};
use crate::metrics::{CallLabels, HermodCalls};
use base64::Engine;
use hermod_shared::console::HermodReply;
use hermod_shared::hermod::{FieldError, MAX_SECONDS};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How an exchange with Hermod failed, when it did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing reached Hermod: refused, no route, DNS, connect timeout.
    Unreachable,
    /// Hermod's certificate (or ours) was not accepted.
    Certificate,
    /// The request went out but no answer came in time: Hermod may have acted on it.
    Timeout,
    /// The answer was cut off or over the size cap.
    BrokenAnswer,
}

/// The outcome of one exchange, always recordable.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub reply: HermodReply,
    pub failure: Option<Failure>,
}

impl Exchange {
    /// The answer as JSON, when Hermod answered 2xx with JSON.
    pub fn success_json(&self) -> Option<Value> {
        let status = self.reply.status?;
        if !(200..300).contains(&status) {
            return None;
        }
        serde_json::from_str(self.reply.body.as_deref()?).ok()
    }
}

/// Whether a commandId is of the form Hermod gives (numeric text in its examples; letters, digits
/// and `-._~` allowed, up to 128): only such an id is put in a URL to Hermod.
pub fn pollable(command_id: &str) -> bool {
    (1..=128).contains(&command_id.len())
        && command_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// What the console itself reads of a command body before it sends it: the header's `lifespan` and
/// `timeout` (its countdown) and `externalId` (matching a callback to a send whose answer never came).
/// Nothing else is checked: the rest of the body's shape is inferred from Hermod's documentation,
/// not fixed by it (docs/hermod.md), so Hermod decides what it takes, and refuses the rest itself.
/// Read leniently, as a Java service would: a number may come as a string of digits, an
/// `externalId` as a number.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sending {
    pub external_id: Option<String>,
    /// Seconds until Hermod expires the command: `timeout`, else `lifespan`.
    pub timeout_secs: Option<u64>,
}

impl Sending {
    pub fn read(body: &Value) -> Result<Sending, FieldError> {
        let Value::Object(body) = body else {
            return Err(FieldError::new(
                "",
                "the command body must be a JSON object",
            ));
        };
        let header = match body.get("commandHeader") {
            None => return Ok(Sending::default()),
            Some(Value::Object(h)) => h,
            Some(_) => {
                return Err(FieldError::new("/commandHeader", "must be an object"));
            }
        };
        let seconds = |name: &str| -> Result<Option<u64>, FieldError> {
            let n = match header.get(name) {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                Some(_) => None,
            };
            let error = |why: String| FieldError::new(format!("/commandHeader/{name}"), why);
            match n {
                Some(n) if n <= MAX_SECONDS => Ok(Some(n)),
                Some(_) => Err(error(format!("at most {MAX_SECONDS} seconds (366 days)"))),
                None => Err(error(
                    "whole seconds, as a number or a string of digits".into(),
                )),
            }
        };
        let external_id = match header.get("externalId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                let why = "a text (or a number)";
                return Err(FieldError::new("/commandHeader/externalId", why));
            }
        };
        let (lifespan, timeout) = (seconds("lifespan")?, seconds("timeout")?);
        Ok(Sending {
            external_id,
            timeout_secs: timeout.or(lifespan),
        })
    }
}

#[derive(Clone)]
pub struct HermodClient {
    id: String,
    command_url: String,
    http: reqwest::Client,
    max_answer: usize,
    /// How long an exchange may take (`request_timeout_secs`), named when one ran out.
    request_timeout_secs: u64,
    /// Where each exchange's duration goes (`/metrics`), by client, call and outcome.
    calls: Option<HermodCalls>,
}

impl HermodClient {
    pub fn new(id: &str, config: &ClientConfig) -> Result<HermodClient, ConfigError> {
        let key = config.resolve_key(id)?;
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", api_key_header(id, &key)?);
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .timeout(Duration::from_secs(config.request_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hermod-console/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let pem = read(ca, &format!("clients.{id}.ca_file"))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ConfigError(format!("clients.{id}.ca_file: not a PEM bundle: {e}")))?;
            builder = builder.tls_certs_only(certs);
        }
        match (&config.client_cert_file, &config.client_key_file) {
            (Some(cert), Some(key)) => {
                let mut pem = read(cert, &format!("clients.{id}.client_cert_file"))?;
                pem.extend(read(key, &format!("clients.{id}.client_key_file"))?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    ConfigError(format!("clients.{id}: client certificate or key: {e}"))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError(format!(
                    "clients.{id}: set both client_cert_file and client_key_file"
                )));
            }
        }
        let http = builder
            .build()
            .map_err(|e| ConfigError(format!("clients.{id}: HTTP client: {e}")))?;
        Ok(HermodClient {
            id: id.to_string(),
            command_url: config.command_url.trim_end_matches('/').to_string(),
            http,
            max_answer: config.max_answer_bytes,
            request_timeout_secs: config.request_timeout_secs,
            calls: None,
        })
    }

    /// The client, timing each exchange into `calls`.
    pub fn measured(self, calls: HermodCalls) -> HermodClient {
        HermodClient {
            calls: Some(calls),
            ..self
        }
    }

    pub fn command_url(&self) -> &str {
        &self.command_url
    }

    /// `POST <command_url>/<type>`: `command_type` is a known type's path segment, or a configured
    /// custom one (lower-case letters).
    pub async fn create(&self, command_type: &str, body: &Value) -> Exchange {
        let url = format!("{}/{command_type}", self.command_url);
        self.exchange("create", self.http.post(url).json(body))
            .await
    }

    /// `GET <command_url>/poll/<commandId>`. Call it only with a [`pollable`] id.
    pub async fn poll(&self, command_id: &str) -> Exchange {
        self.exchange("poll", self.http.get(self.poll_url(command_id)))
            .await
    }

    /// The id goes in as one path segment, percent-encoded: whatever it holds, it cannot reach
    /// another path or a query on Hermod.
    pub fn poll_url(&self, command_id: &str) -> String {
        match reqwest::Url::parse(&self.command_url) {
            Ok(mut url) if !url.cannot_be_a_base() => {
                url.path_segments_mut()
                    .expect("a base URL has path segments")
                    .pop_if_empty()
                    .extend(["poll", command_id]);
                url.into()
            }
            // The configuration's check lets no such URL through; the request then fails as sent.
            _ => self.command_url.clone(),
        }
    }

    /// What an exchange of `call` that got no answer in time leaves the operator to know. The one
    /// that matters is a create's: Hermod may have made the command all the same, and the console
    /// cannot tell, so the message says how it finds out (README.md, "Console API", errors).
    fn timed_out(&self, call: &str) -> String {
        let waited = format!(
            "within {} s (clients.{}.request_timeout_secs)",
            self.request_timeout_secs, self.id
        );
        if call == "create" {
            format!(
                "Hermod did not answer {waited} and may still have created the command. It is \
                 recorded as SEND_UNKNOWN: its callback, if Hermod made it, is matched by \
                 externalId; else Link on its page (the commandId from Hermod's log) and a poll \
                 settle it"
            )
        } else {
            format!("Hermod did not answer the {call} {waited}; the command keeps its state")
        }
    }

    async fn exchange(&self, call: &'static str, request: reqwest::RequestBuilder) -> Exchange {
        let at = now_ms();
        let started = Instant::now();
        let result = async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > self.max_answer {
                    return Ok((status, body, true));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, body, false))
        }
        .await;
        let mut reply = HermodReply {
            at: rfc3339(at),
            status: None,
            body: None,
            error: None,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        let failure = match result {
            Ok((status, body, truncated)) => {
                reply.status = Some(status);
                reply.body = Some(String::from_utf8_lossy(&body).into_owned());
                truncated.then(|| {
                    reply.error = Some(format!(
                        "Hermod's answer is over the {} byte cap (max_answer_bytes); it was cut off",
                        self.max_answer
                    ));
                    Failure::BrokenAnswer
                })
            }
            Err(e) => {
                let (failure, message) = classify(&e, || self.timed_out(call));
                reply.error = Some(message);
                Some(failure)
            }
        };
        if let Some(calls) = &self.calls {
            let labels = CallLabels {
                client: self.id.clone(),
                call,
                outcome: outcome(failure, reply.status),
            };
            calls
                .get_or_create(&labels)
                .observe(started.elapsed().as_secs_f64());
        }
        Exchange { reply, failure }
    }
}

/// An exchange's outcome as `/metrics` labels it: how it failed, or the class of Hermod's status.
fn outcome(failure: Option<Failure>, status: Option<u16>) -> &'static str {
    match (failure, status) {
        (Some(Failure::Unreachable), _) => "unreachable",
        (Some(Failure::Certificate), _) => "certificate",
        (Some(Failure::Timeout), _) => "timeout",
        (Some(Failure::BrokenAnswer), _) | (None, None) => "broken_answer",
        (None, Some(200..=299)) => "2xx",
        (None, Some(400..=499)) => "4xx",
        (None, Some(500..=599)) => "5xx",
        (None, Some(_)) => "other",
    }
}

/// `X-Api-Key: base64(<client-id>:<key>)`, marked sensitive so it is never logged by the HTTP stack.
fn api_key_header(id: &str, key: &Secret) -> Result<HeaderValue, ConfigError> {
    let raw = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{}", key.expose()));
    let mut value = HeaderValue::from_str(&raw)
        .map_err(|_| ConfigError(format!("clients.{id}.key: not usable in a header")))?;
    value.set_sensitive(true);
    Ok(value)
}

fn read(path: &std::path::Path, key: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError(format!("{key}: cannot read {}: {e}", path.display())))
}

/// Names the failure for the operator (`timed_out`: what a timeout means for this exchange). The URL
/// is left out of the message on purpose: it is shown elsewhere, and a URL may carry credentials.
fn classify(e: &reqwest::Error, timed_out: impl FnOnce() -> String) -> (Failure, String) {
    let chain = error_chain(e);
    if let Some(tls) = find_rustls_error(e) {
        return (
            Failure::Certificate,
            format!("TLS certificate problem talking to Hermod: {tls}"),
        );
    }
    if e.is_connect() {
        return (
            Failure::Unreachable,
            format!("cannot connect to Hermod: {chain}"),
        );
    }
    if e.is_timeout() {
        return (Failure::Timeout, timed_out());
    }
    if e.is_body() || e.is_decode() {
        return (
            Failure::BrokenAnswer,
            format!("Hermod's answer broke off: {chain}"),
        );
    }
    // Failures writing the request (the connection dropped) leave the outcome unknown.
    (
        Failure::Timeout,
        format!("the exchange with Hermod broke off: {chain}"),
    )
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.without_url_ref()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

fn find_rustls_error(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        // An io::Error's `source()` is the *wrapped* error's source, so it skips the wrapped error
        // itself; and the TLS stack nests io errors (Other around InvalidData around rustls's).
        source = match s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => s.source(),
        };
    }
    None
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let text = self.to_string();
        match self.url() {
            Some(url) => text
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "<url>"),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_id_is_one_encoded_path_segment_and_only_hermods_form_is_polled() {
        crate::install_crypto();
        let config: ClientConfig = toml::from_str(
            "command_url = \"https://hermod:20400/hermod/rest/command/\"\nkey = \"k\"",
        )
        .unwrap();
        let client = HermodClient::new("idm", &config).unwrap();
        assert_eq!(
            client.poll_url("1011"),
            "https://hermod:20400/hermod/rest/command/poll/1011"
        );
        assert_eq!(
            client.poll_url("../x?y#z"),
            "https://hermod:20400/hermod/rest/command/poll/..%2Fx%3Fy%23z"
        );
        for good in ["1011", "688", "3f2a-11e9.b_~"] {
            assert!(pollable(good), "{good}");
        }
        let long = "9".repeat(129);
        for bad in ["", "a/b", "../x", "1 2", "a?b", "%2F", long.as_str(), "é"] {
            assert!(!pollable(bad), "{bad}");
        }
    }

    /// A TLS server with a certificate from one test CA; a client that trusts another.
    #[tokio::test]
    async fn an_untrusted_server_certificate_is_a_certificate_failure() {
        crate::install_crypto();
        let hosts = ["127.0.0.1".to_string()];
        let served = hermod_simulator::material::dev_pki(&hosts).expect("pki");
        let trusted = hermod_simulator::material::dev_pki(&hosts).expect("other pki");
        let dir = std::env::temp_dir().join(format!("hermod-tls-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("server.pem"), &served.server_cert).expect("cert");
        std::fs::write(dir.join("server.key"), &served.server_key).expect("key");
        let acceptor =
            crate::server::tls::TlsFiles::load(&dir.join("server.pem"), &dir.join("server.key"))
                .unwrap()
                .acceptor();
        let _ = std::fs::remove_dir_all(&dir);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = acceptor.accept(tcp).await;
            }
        });
        let roots = reqwest::Certificate::from_pem_bundle(trusted.ca_cert.as_bytes()).unwrap();
        let client = reqwest::Client::builder()
            .tls_certs_only(roots)
            .build()
            .unwrap();
        let e = client
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await
            .expect_err("an untrusted certificate");
        let (failure, message) = classify(&e, String::new);
        assert_eq!(failure, Failure::Certificate, "{message}");
        assert!(message.contains("UnknownIssuer"), "{message}");
    }
}
