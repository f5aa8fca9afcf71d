//! Serves the built frontend (Trunk's `dist/`). Page routes (`/commands/12`) get `index.html` so the
//! browser's router can take over; missing asset files stay 404, so a broken build shows as one.
//!
//! Every other file Trunk writes has a hash of its content in its name, so a browser may keep it for a
//! year without asking again: a new build names new files, and the page that names them is never
//! cached. The build also writes `X.br` and `X.gz` beside each of them (`frontend/precompress.mjs`),
//! compressed once at the strongest settings; they are sent as they are, never compressed per request.
//!
//! The files are held in memory, read once at start: from the binary itself when it was built with
//! the `embed` feature (`make release`: one file to deploy, see build.rs), else from `dist_dir`, else
//! from the source tree's `dist/` (a development build). A configured `dist_dir` always wins.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::util::BoxCloneSyncService;

/// The frontend built into the binary: `(name, content)` of every file of `dist/`, written by build.rs.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub struct Web {
    files: Arc<HashMap<String, Asset>>,
    index: Option<Arc<str>>,
    /// Where the files came from, for `config check` and the start's log line.
    from: String,
}

/// One file, with the compressed copies the build made of it.
struct Asset {
    raw: Bytes,
    br: Option<Bytes>,
    gz: Option<Bytes>,
    content_type: &'static str,
}

/// Where `make` puts the build, relative to this crate; used when no `dist_dir` is configured and
/// nothing is embedded.
const BUILT_DIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../dist");

impl Web {
    pub fn load(dist: Option<&Path>) -> Web {
        let (entries, from) = match dist {
            None if !embedded::FILES.is_empty() => (
                embedded::FILES
                    .iter()
                    .map(|(name, bytes)| (name.to_string(), Bytes::from_static(bytes)))
                    .collect(),
                "embedded in the binary".to_string(),
            ),
            _ => {
                let dir = dist.map_or_else(|| PathBuf::from(BUILT_DIST), Path::to_path_buf);
                let mut entries = Vec::new();
                read_dir(&dir, "", &mut entries);
                (entries, dir.display().to_string())
            }
        };
        let files = assemble(entries);
        let index = files
            .get("index.html")
            .and_then(|a| std::str::from_utf8(&a.raw).ok())
            .map(Arc::from);
        if index.is_none() {
            tracing::warn!(dist = %from, "no built frontend here; run `make demo` or set dist_dir");
        }
        Web {
            files: Arc::new(files),
            index,
            from,
        }
    }

    /// The page with what this console adds around the app, as markup before the app's own (which
    /// the app mounts after): the environment banner (`ui.banner`) and the version, for the footer.
    pub fn framed(mut self, banner: Option<&str>) -> Web {
        if let Some(html) = &self.index {
            let mut frame = String::new();
            if let Some(text) = banner {
                frame.push_str(&format!(
                    "<div class=\"env-banner\" role=\"note\">{}</div>",
                    escape(text)
                ));
            }
            frame.push_str(&format!(
                "<footer class=\"version\">Hermod Console {}</footer>",
                env!("CARGO_PKG_VERSION")
            ));
            self.index = Some(Arc::from(html.replacen(
                "<body>",
                &format!("<body>{frame}"),
                1,
            )));
        }
        self
    }

    /// Where the page is served from, and how many files it has.
    pub fn source(&self) -> String {
        match self.index {
            Some(_) => format!("{} ({} files)", self.from, self.files.len()),
            None => format!("none: nothing built at {}", self.from),
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

    pub fn service(&self) -> BoxCloneSyncService<Request, Response, Infallible> {
        let files = self.files.clone();
        let index = self.index.clone();
        BoxCloneSyncService::new(tower::service_fn(move |req: Request| {
            let response = serve(&files, index.as_deref(), &req);
            async move { Ok(response) }
        }))
    }
}

fn serve(files: &HashMap<String, Asset>, index: Option<&str>, req: &Request) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let Some(path) = percent_decoded(req.uri().path().trim_start_matches('/')) else {
        return not_found();
    };
    // The page by its name is the page at `/`: never cached, and the copy whose inline script is
    // the one the CSP allows.
    if path == "index.html" {
        return page(index);
    }
    let Some(asset) = files.get(&path) else {
        return spa_fallback(&path, index);
    };
    let accepted = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (encoding, body) = match (&asset.br, &asset.gz) {
        (Some(br), _) if accepts(accepted, "br") => (Some("br"), br),
        (_, Some(gz)) if accepts(accepted, "gzip") => (Some("gzip"), gz),
        _ => (None, &asset.raw),
    };
    let mut response = Response::new(if req.method() == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body.clone())
    });
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let Some(e) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    // HTML here is a page other than index.html: not a hashed file, so not for keeping.
    let html = asset.content_type.starts_with("text/html");
    let cache = if html { NO_STORE } else { IMMUTABLE };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Which copy was sent depended on Accept-Encoding: a shared cache must not hand the brotli one
    // to a client that asked for none.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` accepts `coding` (by name or `*`, with a weight above zero).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name.eq_ignore_ascii_case(coding) || name == "*") && weight > 0.0
    })
}

/// `%69ndex.html` is `index.html`; `None` for an escape that is not one, or bytes that are not UTF-8.
fn percent_decoded(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every file under `dir`, named by its path below it.
fn read_dir(dir: &Path, prefix: &str, into: &mut Vec<(String, Bytes)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        if path.is_dir() {
            read_dir(&path, &format!("{name}/"), into);
        } else if let Ok(bytes) = std::fs::read(&path) {
            into.push((name, Bytes::from(bytes)));
        }
    }
}

/// The files by name, each with its `.br` and `.gz` copies (which are not served by their own names).
fn assemble(entries: Vec<(String, Bytes)>) -> HashMap<String, Asset> {
    let mut copies: HashMap<String, Bytes> = HashMap::new();
    let mut raw = Vec::new();
    for (name, bytes) in entries {
        if name.ends_with(".br") || name.ends_with(".gz") {
            copies.insert(name, bytes);
        } else {
            raw.push((name, bytes));
        }
    }
    raw.into_iter()
        .map(|(name, bytes)| {
            let asset = Asset {
                br: copies.remove(&format!("{name}.br")),
                gz: copies.remove(&format!("{name}.gz")),
                content_type: content_type(&name),
                raw: bytes,
            };
            (name, asset)
        })
        .collect()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        // `instantiateStreaming` refuses a wasm sent as anything else.
        Some("wasm") => "application/wasm",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such file").into_response()
}

/// The page must not come back from the back/forward cache after a logout.
const NO_STORE: &str = "no-store";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn spa_fallback(path: &str, index: Option<&str>) -> Response {
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return not_found();
    }
    page(index)
}

/// `text` as HTML text.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_gets_the_banner_as_text_and_the_version_before_the_app() {
        let web = |index: &str| Web {
            files: Arc::new(HashMap::new()),
            index: Some(Arc::from(index)),
            from: String::new(),
        };
        let framed = web("<html><body></body></html>").framed(Some("PROD <b>&'\""));
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            framed.index.as_deref(),
            Some(
                format!(
                    "<html><body><div class=\"env-banner\" role=\"note\">PROD &lt;b&gt;&amp;&#39;\
                     &quot;</div><footer class=\"version\">Hermod Console {version}</footer>\
                     </body></html>"
                )
                .as_str()
            )
        );
        let plain = web("<body></body>").framed(None);
        let footer =
            format!("<body><footer class=\"version\">Hermod Console {version}</footer></body>");
        assert_eq!(plain.index.as_deref(), Some(footer.as_str()));
    }

    #[test]
    fn an_encoding_is_accepted_by_name_or_star_unless_weighed_zero() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(accepts("*", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "br"));
    }

    #[test]
    fn a_path_is_percent_decoded_or_refused() {
        assert_eq!(
            percent_decoded("%69ndex.html").as_deref(),
            Some("index.html")
        );
        assert_eq!(percent_decoded("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decoded("%zz"), None);
        assert_eq!(percent_decoded("%6"), None);
        assert_eq!(percent_decoded("%ff"), None);
    }

    #[test]
    fn each_file_keeps_its_compressed_copies_which_are_not_files_of_their_own() {
        let entries = vec![
            ("app.wasm".to_string(), Bytes::from_static(b"raw")),
            ("app.wasm.br".to_string(), Bytes::from_static(b"br")),
            ("app.wasm.gz".to_string(), Bytes::from_static(b"gz")),
            ("index.html".to_string(), Bytes::from_static(b"<html>")),
        ];
        let files = assemble(entries);
        assert_eq!(files.len(), 2);
        let wasm = &files["app.wasm"];
        assert_eq!(wasm.content_type, "application/wasm");
        assert_eq!(wasm.br.as_deref(), Some(&b"br"[..]));
        assert_eq!(wasm.gz.as_deref(), Some(&b"gz"[..]));
        assert!(files["index.html"].br.is_none());
    }
}
