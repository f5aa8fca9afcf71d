//! Serves the built frontend (Trunk's `dist/`). Page routes (`/commands/12`) get `index.html` so the
//! browser's router can take over; missing asset files stay 404, so a broken build shows as one.

use axum::http::{StatusCode, Uri, header};
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
        let fallback = tower::service_fn(move |req: axum::extract::Request| {
            let index = index.clone();
            async move { Ok::<_, Infallible>(spa_fallback(req.uri(), index.as_deref())) }
        });
        BoxCloneSyncService::new(
            ServeDir::new(&self.dist)
                .fallback(fallback)
                .map_response(IntoResponse::into_response),
        )
    }
}

fn spa_fallback(uri: &Uri, index: Option<&str>) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    match index {
        // no-store: the page must not come back from the back/forward cache after a logout.
        Some(html) => (
            [(header::CACHE_CONTROL, "no-store")],
            Html(html.to_string()),
        )
            .into_response(),
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
