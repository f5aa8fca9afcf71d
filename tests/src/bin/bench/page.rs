//! Measure 6: the page's wasm as a first visit gets it.

use crate::http::{self, Conn, Response};
use crate::load::{Kind, Target, thousands};
use crate::report::Outcome;

/// The path of the first `.wasm` named in `html` (`href="/x_bg.wasm"`, `'./x.wasm'`…).
fn wasm_path(html: &str) -> Option<String> {
    let end = html.find(".wasm")? + ".wasm".len();
    let start = html[..end].rfind(['"', '\'', '(', ' ', '='])? + 1;
    let path = html[start..end].trim_start_matches("./");
    Some(if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    })
}

async fn get(conn: &mut Conn, host: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let r = conn
        .send(&http::request("GET", path, host, headers, b""))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(r.head.status, 200, "GET {path}");
    r
}

pub async fn page(kind: Kind) -> Outcome {
    let target = Target::start(kind).await;
    let addr = target.addr();
    let mut conn = Conn::connect(&addr).await.expect("connect");
    let index = get(&mut conn, &addr, "/", &[]).await;
    let html = String::from_utf8_lossy(&index.body);
    let path = wasm_path(&html).expect("no .wasm named in index.html: was `make dist` run?");
    let wire = get(&mut conn, &addr, &path, &[("accept-encoding", "br, gzip")]).await;
    let raw = get(&mut conn, &addr, &path, &[("accept-encoding", "identity")]).await;
    let mut out = Outcome::default();
    out.cell(
        "page.wire",
        format!("{} B", thousands(wire.body.len() as u64)),
    );
    out.cell(
        "page.headers",
        format!(
            "{} / {}",
            wire.head.header("content-encoding").unwrap_or("none"),
            wire.head.header("cache-control").unwrap_or("none")
        ),
    );
    out.cell(
        "page.raw",
        format!("{} B", thousands(raw.body.len() as u64)),
    );
    out
}
