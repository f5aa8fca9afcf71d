//! Measure 4: what the console adds to a send. A standalone simulator and a console serving a config
//! that points at it, as two processes; the same ping commands sent through the console
//! (`POST /api/commands`) and straight at the simulator; then, beside them, the two synced commits a
//! send needs and nothing else (`floor.rs`).

use crate::floor;
use crate::http;
use crate::load::{Load, Stop, closed_loop, host_port, ms, thousands};
use crate::report::Outcome;
use hermod_console_tests::{
    Console, IDM_CALLBACK_USER, Secrets, TempDir, free_port, ping_body, simulator,
};
use hermod_shared::console::Role;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub const CONCURRENCY: usize = 8;
pub const WARMUP: Duration = Duration::from_secs(1);
pub const WINDOW: Duration = Duration::from_secs(5);
/// Long enough that no command expires while measured.
const HOLD_SECS: u64 = 600;

fn ping(seq: u64) -> serde_json::Value {
    // `hold-`: the simulator keeps the command open, so no callback comes back to load the console
    // while it is measured.
    ping_body(&format!("hold-bench-{seq}"), HOLD_SECS)
}

async fn run(addr: &str, make: impl Fn(u64) -> Vec<u8> + Send + Sync + 'static) -> Load {
    closed_loop(
        addr,
        CONCURRENCY,
        Stop::Time {
            warmup: WARMUP,
            window: WINDOW,
        },
        Arc::new(move |seq| {
            let r = make(seq);
            let len = r.len();
            (r, len)
        }),
    )
    .await
}

fn cell(load: &Load) -> String {
    let mut s = format!(
        "{} p50, {}/s",
        ms(load.p(0.50)),
        thousands(load.rate() as u64)
    );
    if load.non_2xx + load.errors > 0 {
        s.push_str(&format!(
            " ({} failed, first: {})",
            load.non_2xx + load.errors,
            load.first_failure.as_deref().unwrap_or_default()
        ));
    }
    s
}

pub async fn proxy_overhead() -> Outcome {
    let dir = TempDir::new("bench-proxy");
    let secrets = Secrets::random();
    let console_port = free_port();
    let (_sim, sim_addr) = simulator(dir.path(), &secrets, console_port, "").await;
    let console_toml = dir.path().join("hermod-console.toml");
    std::fs::write(
        &console_toml,
        format!(
            r#"listen = "127.0.0.1:{console_port}"

[clients.idm]
command_url = "http://{sim_addr}/hermod/rest/command"
key = "{key}"
callback_user = "{IDM_CALLBACK_USER}"
callback_password = "{password}"
"#,
            key = secrets.idm_key,
            password = secrets.idm_password,
        ),
    )
    .expect("write the console's config");
    let console = Console::serve(&console_toml, secrets.clone())
        .listen(format!("127.0.0.1:{console_port}"))
        .start()
        .await;
    let token = console.mint_token("bench", Role::Operator, 1).await.token;

    // Straight first, on a fresh simulator: the console's run then meets the simulator holding the
    // commands of this one, a small handicap on the console's side, not the baseline's.
    eprintln!("[bench]   straight at the simulator");
    let key = secrets.idm_api_key_header();
    let host = sim_addr.clone();
    let direct = run(&sim_addr, move |seq| {
        http::request(
            "POST",
            "/hermod/rest/command/ping",
            &host,
            &[("content-type", "application/json"), ("x-api-key", &key)],
            ping(seq).to_string().as_bytes(),
        )
    })
    .await;
    eprintln!("[bench]   through the console");
    let console_addr = host_port(&console.url);
    let host = console_addr.clone();
    let through = run(&console_addr, move |seq| {
        let body = json!({"client": "idm", "type": "ping", "body": ping(seq)});
        http::request(
            "POST",
            "/api/commands",
            &host,
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {token}")),
            ],
            body.to_string().as_bytes(),
        )
    })
    .await;
    drop(console);
    eprintln!("[bench]   two synced commits a send, nothing else");
    let floor_dir = dir.path().to_path_buf();
    let floor = tokio::task::spawn_blocking(move || {
        floor::two_commits(&floor_dir, CONCURRENCY, WARMUP, WINDOW)
    })
    .await
    .expect("the floor's measure");
    let mut out = Outcome::default();
    out.cell("proxy.console", cell(&through));
    out.cell("proxy.direct", cell(&direct));
    let overhead = through.p(0.50).as_secs_f64() - direct.p(0.50).as_secs_f64();
    out.cell("proxy.overhead", format!("+{:.2} ms", overhead * 1000.0));
    out.cell("proxy.floor", cell(&floor));
    out
}
