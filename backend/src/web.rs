//! Serves the built frontend (Trunk's `dist/`). Page routes (`/commands/12`) get `index.html` so the
//! browser's router can take over; missing asset files stay 404, so a broken build shows as one.
//!
//! Every other file Trunk writes has a hash of its content in its name, so a browser may keep it for a
//! year without asking again: a new build names new files, and the page that names them is never
//! cached. The build also writes `X.br` and `X.gz` beside each of them (`frontend/precompress.mjs`),
//! compressed once at the strongest settings; they are sent as they are, never compressed per request.

use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::ServeDir;

pub struct Web {
    dist: PathBuf,
    index: Option<Arc<str>>,
}

/// Where `make` puts the build, relative to this crate; used when no `dist_dir` is configured.
const BUILT_DIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dist");

impl Web {
    pub fn load(dist: Option<&Path>) -> Web {
        let dist = dist
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(BUILT_DIST));
        let index = std::fs::read_to_string(dist.join("index.html")).ok();
        if index.is_none() {
            tracing::warn!(dist = %dist.display(), "no built frontend here; run `make demo` or set dist_dir");
        }
        Web {
            dist,
            index: index.map(Arc::from),
        }
    }

    /// The headers every response carries. The page's CSP allows Trunk's inline loader by its hash,
    /// never `'unsafe-inline'`.
    pub fn security_headers(&self, https: bool) -> Vec<(HeaderName, HeaderValue)> {
        let script_hashes: String = self
            .inline_script_hashes()
            .iter()
            .map(|h| format!(" 'sha256-{h}'"))
            .collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; \
             img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&csp).expect("CSP is ASCII"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ];
        if https {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            ));
        }
        headers
    }

    /// SHA-256 (base64) of every inline `<script>` in `index.html`: Trunk's loader, which the CSP must
    /// allow by hash.
    pub fn inline_script_hashes(&self) -> Vec<String> {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let Some(html) = self.index.as_deref() else {
            return Vec::new();
        };
        let mut hashes = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find("<script") {
            let tag = &rest[start..];
            let Some(open_end) = tag.find('>') else { break };
            let Some(close) = tag.find("</script>") else {
                break;
            };
            let attributes = &tag[..open_end];
            if !attributes.contains(" src=") && open_end < close {
                let body = &tag[open_end + 1..close];
                hashes.push(base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body)));
            }
            rest = &tag[close + "</script>".len()..];
        }
        hashes
    }

    pub fn service(&self) -> BoxCloneSyncService<axum::extract::Request, Response, Infallible> {
        let index = self.index.clone();
        // No `fallback` and no index.html for directories: ServeDir's own 404 then tells a file apart
        // from everything else, so only files get the year-long Cache-Control.
        let files = ServeDir::new(&self.dist)
            .append_index_html_on_directories(false)
            .precompressed_br()
            .precompressed_gzip();
        BoxCloneSyncService::new(tower::service_fn(move |req: axum::extract::Request| {
            let files = files.clone();
            let index = index.clone();
            async move {
                let uri = req.uri().clone();
                // The page by its name is the page at `/`: never cached, and the copy read at start,
                // whose inline script is the one the CSP allows.
                if uri.path() == "/index.html" {
                    return Ok(page(index.as_deref()));
                }
                let Ok(response) = files.oneshot(req).await;
                let mut response = response.into_response();
                let status = response.status();
                if status == StatusCode::NOT_FOUND {
                    return Ok(spa_fallback(&uri, index.as_deref()));
                }
                if status.is_success() || status == StatusCode::NOT_MODIFIED {
                    let headers = response.headers_mut();
                    let html = headers
                        .get(header::CONTENT_TYPE)
                        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
                    // HTML here is index.html under another spelling (`/%69ndex.html`): still the page.
                    let cache = if html { NO_STORE } else { IMMUTABLE };
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                    // Which file was sent depended on Accept-Encoding: a shared cache must not hand
                    // the brotli one to a client that asked for none.
                    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
                }
                Ok(response)
            }
        }))
    }
}

/// The page must not come back from the back/forward cache after a logout.
const NO_STORE: &str = "no-store";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn spa_fallback(uri: &Uri, index: Option<&str>) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    page(index)
}

fn page(index: Option<&str>) -> Response {
    match index {
        Some(html) => ([(header::CACHE_CONTROL, NO_STORE)], Html(html.to_string())).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Html(
                "<!doctype html><title>Hermod Console</title><p>The console's frontend is not built. \
                 Run <code>make demo</code>, or set <code>dist_dir</code> to Trunk's <code>dist/</code>."
                    .to_string(),
            ),
        )
            .into_response(),
    }
}
