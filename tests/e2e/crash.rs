//! Nothing acknowledged is lost (invariant 2), even to `kill -9`: callbacks posted by several senders
//! at once, the console killed in the middle of the burst, started again on the same data directory,
//! and every callback that got no answer posted again, as Hermod would retry it. Every callback that
//! was ever answered 2xx is then stored, exactly once.

use futures_util::future::join_all;
use hermod_console_tests::*;
use std::collections::HashMap;
use std::time::Duration;

const SENDERS: usize = 8;
/// The burst runs this long before the kill.
const BEFORE_KILL: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_callback_survives_a_kill_mid_burst_once() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let mut c = Console::demo().start().await;
        let http = reqwest::Client::new();
        // Each sender posts its own callbacks one after another, until one gets no answer: the one in
        // flight when the console died, or the first after.
        let senders = (0..SENDERS as u64).map(|s| {
            let (c, http) = (&c, http.clone());
            async move {
                let mut outcomes = Vec::new();
                for i in 0.. {
                    let n = s * 1_000_000 + i;
                    let answer = c.deliver(&http, n).await;
                    outcomes.push((n, answer));
                    if answer.is_none() {
                        break;
                    }
                }
                outcomes
            }
        });
        let burst = join_all(senders);
        let kill = async {
            tokio::time::sleep(BEFORE_KILL).await;
            // The senders are mid-request: some callbacks are in a transaction, some answered.
            let pid = c.pid().expect("running");
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .expect("kill -9");
        };
        let (outcomes, ()) = tokio::join!(burst, kill);
        let outcomes: HashMap<u64, Option<u16>> = outcomes.into_iter().flatten().collect();
        let answered = outcomes.values().filter(|a| *a == &Some(200)).count();
        let unanswered: Vec<u64> = outcomes
            .iter()
            .filter(|(_, a)| **a != Some(200))
            .map(|(n, _)| *n)
            .collect();
        assert!(
            answered >= SENDERS,
            "the burst was under way: {answered} answered"
        );
        assert!(
            unanswered.len() >= SENDERS,
            "every sender's last callback went unanswered"
        );
        eprintln!(
            "{answered} callbacks answered before the kill, {} unanswered",
            unanswered.len()
        );

        c.kill();
        c.start_again().await;
        // Hermod retries what got no 2xx: each is stored now, or was stored already (a duplicate).
        // Every callback, answered the first time or on its retry, is stored exactly once.
        c.assert_burst_stored_once(&outcomes).await;
        c.assert_healthy().await;
    })
    .await
    .expect("the crash test ran within its time bound");
}
