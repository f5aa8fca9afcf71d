//! The page on the wire (issue 8): the wasm, js and css the page loads go out precompressed (brotli,
//! else gzip, else raw), byte for byte what the build wrote, with a year-long immutable Cache-Control;
//! the page itself stays `no-store`; a missing asset is a 404, never the page. Against the real
//! `dist/` (`make dist` builds it, with its `.br` and `.gz` files).

use hermod_console_tests::*;
use std::io::Read;
use std::path::{Path, PathBuf};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// What a first visit may transfer for the wasm (issue 8).
const WASM_BROTLI_BUDGET: usize = 240_000;

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (run `make dist` first: these tests check the built frontend)",
            path.display()
        )
    })
}

/// A console serving exactly the `dist/` these tests read.
async fn console() -> Console {
    Console::demo()
        .env(
            "HERMOD_CONSOLE__DIST_DIR",
            dist().to_str().expect("a UTF-8 path"),
        )
        .start()
        .await
}

/// The `/…` paths of the wasm, js and css that `index.html` names, each exactly once.
fn assets_of(html: &str) -> [String; 3] {
    let mut found: Vec<String> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with('/') && [".wasm", ".js", ".css"].iter().any(|e| s.ends_with(e)))
        .map(str::to_string)
        .collect();
    found.sort();
    found.dedup();
    let one = |ext: &str| {
        let named: Vec<&String> = found.iter().filter(|s| s.ends_with(ext)).collect();
        assert_eq!(named.len(), 1, "index.html names one {ext}: {found:?}");
        named[0].clone()
    };
    [one(".wasm"), one(".js"), one(".css")]
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `GET path` with `Accept-Encoding: accept` (none when `None`), the body as it came over the wire.
async fn get(c: &Console, path: &str, accept: Option<&str>) -> Got {
    // The harness's reqwest has no decompression built in: it neither asks for an encoding by
    // itself nor decodes one, so the body is what the server sent.
    let mut request = c.anonymous().get(format!("{}{path}", c.url));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.expect("send the request");
    Got {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("read the body").to_vec(),
    }
}

fn brotli_decode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(body, 64 * 1024)
        .read_to_end(&mut out)
        .expect("a valid brotli stream");
    out
}

fn gzip_decode(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

#[tokio::test]
async fn the_page_assets_go_out_precompressed_immutable_and_byte_exact() {
    let html = String::from_utf8(read(&dist().join("index.html"))).expect("UTF-8 index.html");
    let c = console().await;
    for path in assets_of(&html) {
        let file = dist().join(path.trim_start_matches('/'));
        let raw = read(&file);
        let on_disk = |ext: &str| read(&PathBuf::from(format!("{}.{ext}", file.display())));
        let content_type = match file.extension().and_then(|e| e.to_str()) {
            // `instantiateStreaming` refuses a wasm sent as anything else.
            Some("wasm") => "application/wasm",
            Some("js") => "text/javascript",
            _ => "text/css",
        };

        let mut sizes = Vec::new();
        // What browsers send, then each encoding alone, then none.
        for (accept, encoding) in [
            (Some("gzip, deflate, br, zstd"), Some("br")),
            (Some("br"), Some("br")),
            (Some("gzip"), Some("gzip")),
            (None, None),
            (Some("identity"), None),
        ] {
            let what = format!("GET {path} with Accept-Encoding {accept:?}");
            let got = get(&c, &path, accept).await;
            assert_eq!(got.status, 200, "{what}");
            assert_eq!(got.header("content-encoding"), encoding, "{what}");
            assert!(
                got.header("content-type")
                    .is_some_and(|t| t.starts_with(content_type)),
                "{what}: content-type {:?}",
                got.header("content-type")
            );
            assert_eq!(got.header("cache-control"), Some(IMMUTABLE), "{what}");
            let vary: Vec<&str> = got
                .headers
                .get_all("vary")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            assert!(
                vary.iter()
                    .any(|v| v.eq_ignore_ascii_case("accept-encoding")),
                "{what}: vary {vary:?}"
            );
            // What the build wrote, sent as it is, and it decodes to exactly the raw file.
            let decoded = match encoding {
                Some("br") => {
                    assert!(got.body == on_disk("br"), "{what}: not the .br file");
                    brotli_decode(&got.body)
                }
                Some("gzip") => {
                    assert!(got.body == on_disk("gz"), "{what}: not the .gz file");
                    gzip_decode(&got.body)
                }
                _ => got.body.clone(),
            };
            assert!(decoded == raw, "{what}: does not decode to {path}");
            sizes.push((encoding.unwrap_or("raw"), got.body.len()));
            if encoding == Some("br") && content_type == "application/wasm" {
                assert!(
                    got.body.len() <= WASM_BROTLI_BUDGET,
                    "the wasm a first visit transfers is {} B, over {WASM_BROTLI_BUDGET} B",
                    got.body.len()
                );
            }
        }
        sizes.dedup();
        println!("{path} on the wire: {sizes:?} bytes");
    }
}

#[tokio::test]
async fn the_page_stays_no_store_and_a_missing_asset_is_a_404() {
    // The built page, with the version the server puts in for the footer.
    let built = String::from_utf8(read(&dist().join("index.html"))).expect("UTF-8");
    let footer = format!(
        "<body><footer class=\"version\">Hermod Console {}</footer>",
        env!("CARGO_PKG_VERSION")
    );
    let html = built.replacen("<body>", &footer, 1).into_bytes();
    let c = console().await;
    for path in ["/", "/index.html", "/commands/12"] {
        for accept in [None, Some("gzip, deflate, br")] {
            let what = format!("GET {path} with Accept-Encoding {accept:?}");
            let got = get(&c, path, accept).await;
            assert_eq!(got.status, 200, "{what}");
            assert!(
                got.header("content-type")
                    .is_some_and(|t| t.starts_with("text/html")),
                "{what}"
            );
            assert_eq!(got.header("cache-control"), Some("no-store"), "{what}");
            assert_eq!(got.header("content-encoding"), None, "{what}");
            assert!(got.body == html, "{what}: not dist/index.html");
        }
    }
    for path in ["/missing.wasm", "/missing.js", "/missing.css"] {
        for accept in [None, Some("br"), Some("gzip")] {
            let what = format!("GET {path} with Accept-Encoding {accept:?}");
            let got = get(&c, path, accept).await;
            assert_eq!(got.status, 404, "{what}");
            assert!(
                !got.header("content-type")
                    .unwrap_or_default()
                    .starts_with("text/html"),
                "{what}: the page instead of a 404"
            );
            assert_ne!(got.header("cache-control"), Some(IMMUTABLE), "{what}");
        }
    }
}
