//! HTTP as the tests speak it: clients (trusting a test CA when the console serves HTTPS) and answers
//! read whole, their headers and bodies kept in the transcript the secrets scan reads.

use hermod_shared::console::Problem;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Installs the crypto provider reqwest needs, once, and builds a client.
pub fn http_client() -> reqwest::Client {
    client_builder(None, HeaderMap::new())
        .build()
        .expect("build an HTTP client")
}

/// A client builder with the suite's timeout, `headers` on every request, and (when `ca` is given)
/// trusting only that PEM CA for HTTPS.
pub fn client_builder(ca: Option<&Path>, headers: HeaderMap) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .default_headers(headers);
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap_or_else(|e| panic!("read {}: {e}", ca.display()));
        let certs = reqwest::Certificate::from_pem_bundle(&pem).expect("a PEM CA bundle");
        builder = builder.tls_certs_only(certs);
    }
    builder
}

/// Everything the tests received (response bodies and feed data), for the secrets scan.
pub type Transcript = Arc<Mutex<String>>;

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    /// Reads the whole answer, and adds its headers and body to `transcript`.
    pub async fn read(response: reqwest::Response, transcript: &Transcript) -> Resp {
        let r = Resp::read_unrecorded(response).await;
        let mut t = transcript.lock().expect("transcript lock");
        for (name, value) in &r.headers {
            t.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        t.push_str(&r.text);
        t.push('\n');
        r
    }

    /// Reads the whole answer, keeping it out of the transcript: only for the answers whose job is
    /// to hand out a credential (a login, a minted token), which the secrets scan would flag.
    pub async fn read_unrecorded(response: reqwest::Response) -> Resp {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the response body");
        Resp {
            status,
            headers,
            text,
        }
    }

    /// Panics (showing the body) unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text))
    }

    #[track_caller]
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "unexpected JSON shape ({e}), status {}: {}",
                self.status, self.text
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON problem body of an error answer (docs/ARCHITECTURE.md): `error` and `detail`
    /// present and not empty, served as JSON.
    #[track_caller]
    pub fn problem(&self) -> Problem {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "an error must be JSON, got content-type {content_type:?}, status {}: {}",
            self.status,
            self.text
        );
        let p: Problem = self.parse();
        assert!(!p.error.is_empty(), "empty `error`: {}", self.text);
        assert!(!p.detail.is_empty(), "empty `detail`: {}", self.text);
        p
    }

    /// Asserts the status and the problem body, and (when given) its `error` code and `field`.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, error: Option<&str>, field: Option<&str>) -> Problem {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        let p = self.problem();
        if let Some(error) = error {
            assert_eq!(p.error, error, "error code of {}", self.text);
        }
        if let Some(field) = field {
            assert_eq!(p.field.as_deref(), Some(field), "field of {}", self.text);
        }
        p
    }
}
