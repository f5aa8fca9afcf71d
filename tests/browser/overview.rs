//! The Overview page: the commands of a window per type and client, each count a link to the list
//! it counts.

use crate::pages::{open, sent, wait_listed};
use hermod_console_tests::browser::{click, eval, here, text_of, wait_css, with_browser};
use hermod_console_tests::{Console, ping_body, sign_body, unique};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_counts_outcomes_per_type_and_client_and_each_count_opens_its_list() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let rejected = sent(
        &console,
        "sign",
        sign_body(&unique("reject-overview-"), 60),
        "REJECTED",
    )
    .await;
    sent(&console, "sign", sign_body(&unique("ov-"), 60), "COMPLETED").await;
    for _ in 0..2 {
        sent(&console, "ping", ping_body(&unique("ov-"), 60), "COMPLETED").await;
    }
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/overview").await;
        let sign = "#overview tr[data-type=sign][data-client=idm]";
        wait_css(&c, sign).await;
        // Type, client, sent, COMPLETED, REJECTED, FAILED, EXPIRED, other.
        let cells = |row: &'static str| {
            let c = &c;
            async move {
                eval(
                    c,
                    &format!(
                        "return [...document.querySelectorAll('{row} td')].slice(0, 8).map(td => td.textContent)"
                    ),
                )
                .await
            }
        };
        assert_eq!(
            cells(sign).await,
            json!(["sign", "idm", "2", "1", "1", "0", "0", "0"])
        );
        assert_eq!(
            cells("#overview tr[data-type=ping][data-client=idm]").await,
            json!(["ping", "idm", "2", "2", "0", "0", "0", "0"])
        );
        let p50 = text_of(&c, &format!("{sign} td:nth-child(10)")).await;
        assert!(p50.ends_with(" ms") || p50.ends_with(" s"), "{p50}");
        assert_eq!(
            eval(&c, "return document.querySelector('.windows [aria-current=page]').textContent").await,
            json!("last 24 h")
        );

        // The REJECTED count opens the list of exactly those, over the same window.
        click(&c, &format!("{sign} td:nth-child(5) a")).await;
        wait_listed(&c, &[rejected.id]).await;
        let at = here(&c).await;
        assert!(
            at.starts_with("/commands?type=sign&client=idm&state=REJECTED&since="),
            "{at}"
        );
        assert!(at.contains("&until="), "{at}");

        // Another window is a link of its own.
        c.back().await.unwrap();
        click(&c, ".windows a[href='/overview?window=15m']").await;
        wait_css(&c, ".windows a[href='/overview?window=15m'][aria-current=page]").await;
        wait_css(&c, sign).await;
    })
    .await;
}
