//! The commands list: filters and search in the URL (and the exports that follow them), paging, and
//! live changes under a filter.

use crate::pages::{open, sent, wait_listed};
use hermod_console_tests::browser::{
    click, eval, here, text_of, value_of, wait_css, wait_js, wait_text, with_browser,
};
use hermod_console_tests::{Console, ping_body, sign_body, unique};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_search_live_in_the_url_and_survive_reload_back_and_forward() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let needle = unique("needle");
    let a = sent(
        &console,
        "sign",
        sign_body(&format!("{needle}-a"), 60),
        "COMPLETED",
    )
    .await;
    let b = sent(
        &console,
        "sign",
        sign_body(&format!("reject-{needle}-b"), 60),
        "REJECTED",
    )
    .await;
    let c3 = sent(
        &console,
        "ping",
        ping_body(&format!("{needle}-c"), 60),
        "COMPLETED",
    )
    .await;
    let d = sent(
        &console,
        "sign",
        sign_body(&unique("other-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/commands").await;
        wait_listed(&c, &[d.id, c3.id, b.id, a.id]).await;

        // A search, then type and state on top of it, each applied as it is picked: each view
        // is in the URL, and Apply on a view already applied adds no step to Back.
        let search = wait_css(&c, "#command-search").await;
        search.send_keys(&needle).await.unwrap();
        click(&c, "#command-filter-apply").await;
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        assert_eq!(here(&c).await, format!("/commands?q={needle}"));
        wait_css(&c, "select[name=type]")
            .await
            .select_by_value("sign")
            .await
            .unwrap();
        wait_listed(&c, &[b.id, a.id]).await;
        assert_eq!(here(&c).await, format!("/commands?q={needle}&type=sign"));
        wait_css(&c, "select[name=state]")
            .await
            .select_by_value("COMPLETED")
            .await
            .unwrap();
        wait_listed(&c, &[a.id]).await;
        click(&c, "#command-filter-apply").await;
        let filtered = format!("/commands?q={needle}&type=sign&state=COMPLETED");
        assert_eq!(here(&c).await, filtered);

        // The exports carry the same filters, and hold the same rows.
        for (id, format) in [("#export-csv", "csv"), ("#export-json", "json")] {
            let href = wait_css(&c, id).await.attr("href").await.unwrap().unwrap();
            assert_eq!(
                href,
                format!(
                    "/api/commands/export?format={format}&q={needle}&type=sign&state=COMPLETED"
                )
            );
            let export = api.get(&href).await.expect(200).text;
            assert!(export.contains(&format!("{needle}-a")), "{export}");
            for other in [
                format!("{needle}-b"),
                format!("{needle}-c"),
                "other-".into(),
            ] {
                assert!(!export.contains(&other), "{format} export holds {other}");
            }
        }

        // Back and forward restore the earlier views, their inputs included.
        c.back().await.unwrap();
        wait_listed(&c, &[b.id, a.id]).await;
        assert_eq!(value_of(&c, "select[name=state]").await, "");
        c.back().await.unwrap();
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        assert_eq!(here(&c).await, format!("/commands?q={needle}"));
        assert_eq!(value_of(&c, "#command-search").await, needle);
        assert_eq!(value_of(&c, "select[name=type]").await, "");
        c.back().await.unwrap();
        wait_listed(&c, &[d.id, c3.id, b.id, a.id]).await;
        assert_eq!(value_of(&c, "#command-search").await, "");
        c.forward().await.unwrap();
        wait_listed(&c, &[c3.id, b.id, a.id]).await;
        c.forward().await.unwrap();
        wait_listed(&c, &[b.id, a.id]).await;
        c.forward().await.unwrap();
        wait_listed(&c, &[a.id]).await;
        assert_eq!(here(&c).await, filtered);

        // The URL alone, in a fresh page load, gives the same view.
        c.goto("about:blank").await.unwrap();
        c.goto(&format!("{url}{filtered}")).await.unwrap();
        wait_listed(&c, &[a.id]).await;
        assert_eq!(value_of(&c, "#command-search").await, needle);
        assert_eq!(value_of(&c, "select[name=type]").await, "sign");
        assert_eq!(value_of(&c, "select[name=state]").await, "COMPLETED");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn load_more_pages_through_a_filtered_list_and_live_changes_keep_their_place() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    // One more than a page of waiting pings, and a sign that the filter leaves out.
    let pings = (0..101).map(|_| console.send("ping", ping_body(&unique("hold-"), 300)));
    let mut pings = futures_util::future::join_all(pings).await;
    pings.sort_unstable_by_key(|r| std::cmp::Reverse(r.id));
    console.send("sign", sign_body(&unique("hold-"), 300)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        let mut ids: Vec<i64> = pings.iter().map(|r| r.id).collect();
        open(&c, &url, &password, "/commands?type=ping").await;
        wait_listed(&c, &ids[..100]).await;

        // The oldest ping, on the page not loaded yet, completes; then a new ping is sent. The new
        // one goes on top; the old one's change does not put it under the first page.
        let oldest = &pings[100];
        let command_id = oldest.command_id.as_deref().expect("a commandId");
        api.sim_post(&format!("/sim/commands/{command_id}/complete"))
            .await
            .expect(200);
        api.wait_for_state(oldest.id, "COMPLETED").await;
        let newest = api.send("ping", ping_body(&unique("hold-"), 300)).await;
        ids.insert(0, newest.id);
        wait_listed(&c, &ids[..101]).await;

        // "Load more" brings it, in its place and state, and there is nothing further.
        click(&c, "#load-more").await;
        wait_listed(&c, &ids).await;
        wait_text(
            &c,
            &format!("tr[data-id='{}'] [data-state]", oldest.id),
            "COMPLETED",
        )
        .await;
        wait_js(&c, "!document.getElementById('load-more')", "no more pages").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_list_holds_only_what_its_filters_select_live_updates_included() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let waiting = console.send("ping", ping_body(&unique("hold-"), 300)).await;
    let staying = console.send("ping", ping_body(&unique("hold-"), 300)).await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/commands?state=IN_PROGRESS").await;
        wait_listed(&c, &[staying.id, waiting.id]).await;
        // One completes: under "IN_PROGRESS" it leaves the list, live.
        let command_id = waiting.command_id.as_deref().expect("a commandId");
        api.sim_post(&format!("/sim/commands/{command_id}/complete"))
            .await
            .expect(200);
        api.wait_for_state(waiting.id, "COMPLETED").await;
        wait_listed(&c, &[staying.id]).await;
        // A refused filter shows no rows under it, and says why.
        c.goto(&format!(
            "{url}/commands?state=IN_PROGRESS&since=2026-12-02"
        ))
        .await
        .unwrap();
        wait_js(
            &c,
            "document.querySelectorAll('table.commands tbody tr').length === 0 \
             && document.body.textContent.includes('since')",
            "no rows and the reason",
        )
        .await;
    })
    .await;
}

/// Answers can come back out of order: one for filters no longer shown must not replace the rows
/// of the filters now applied. And the next page's cursor, opaque to the page, goes out encoded.
/// The page's `fetch` is wrapped to hold back one answer and to hand out an awkward cursor.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_latest_filters_answer_is_shown_and_the_cursor_goes_out_encoded() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let ping = sent(
        &console,
        "ping",
        ping_body(&unique("late-"), 60),
        "COMPLETED",
    )
    .await;
    let sign = sent(
        &console,
        "sign",
        sign_body(&unique("late-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/commands").await;
        wait_listed(&c, &[sign.id, ping.id]).await;
        eval(
            &c,
            "window.__asked = []; \
             const real = window.fetch; \
             window.fetch = async (request, ...rest) => { \
               const url = typeof request === 'string' ? request : request.url; \
               if (!url.includes('/api/commands?')) return real(request, ...rest); \
               window.__asked.push(url); \
               const answer = await real(request, ...rest); \
               const page = await answer.json(); \
               if (url.includes('type=ping')) { \
                 await new Promise(done => setTimeout(done, 1500)); \
                 window.__late = true; \
               } \
               if (answer.ok) page.next_cursor = 'a b&c=d/+é'; \
               return new Response(JSON.stringify(page), { status: answer.status, headers: answer.headers }); \
             };",
        )
        .await;

        // Pings, then at once signs: the pings' answer comes last, and changes nothing.
        let kind = wait_css(&c, "select[name=type]").await;
        kind.select_by_value("ping").await.unwrap();
        click(&c, "#command-filter-apply").await;
        wait_js(
            &c,
            "window.__asked.some(u => u.includes('type=ping'))",
            "the pings asked for",
        )
        .await;
        kind.select_by_value("sign").await.unwrap();
        click(&c, "#command-filter-apply").await;
        wait_listed(&c, &[sign.id]).await;
        wait_js(&c, "window.__late", "the late answer delivered").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        wait_listed(&c, &[sign.id]).await;

        click(&c, "#load-more").await;
        wait_js(
            &c,
            "window.__asked.some(u => new URL(u, location.href).searchParams.get('cursor') === 'a b&c=d/+é')",
            "the cursor encoded",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_apply_on_change_a_window_stays_relative_and_a_whole_row_opens_its_command() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let done = sent(
        &console,
        "ping",
        ping_body(&unique("row-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        open(&c, &url, &password, "/commands").await;
        wait_listed(&c, &[done.id]).await;

        // A window picked applies at once (no Apply), and the exports follow it.
        wait_css(&c, "select[name=window]")
            .await
            .select_by_value("1h")
            .await
            .unwrap();
        wait_js(
            &c,
            "location.search == '?window=1h'",
            "the window in the URL",
        )
        .await;
        wait_listed(&c, &[done.id]).await;
        let export = eval(&c, "return document.getElementById('export-csv').href").await;
        assert!(
            export.as_str().unwrap().ends_with("format=csv&window=1h"),
            "{export}"
        );
        wait_css(&c, "select[name=state]")
            .await
            .select_by_value("REJECTED")
            .await
            .unwrap();
        wait_js(
            &c,
            "location.search == '?state=REJECTED&window=1h'",
            "the state applied at once",
        )
        .await;
        wait_css(&c, "#commands-empty").await;
        c.back().await.unwrap();
        wait_listed(&c, &[done.id]).await;

        // Times: relative, then local, then UTC, remembered across a reload, then relative again.
        let age = format!("tr[data-id='{}'] time", done.id);
        let shown = || {
            let (c, age) = (&c, &age);
            async move { text_of(c, age).await }
        };
        assert!(shown().await.ends_with(" ago"), "{}", shown().await);
        click(&c, "#clock-toggle").await;
        wait_text(&c, "#clock-toggle", "Times: local").await;
        let local = shown().await;
        assert!(
            local.len() == 19 && local.as_bytes()[4] == b'-' && local.as_bytes()[10] == b' ',
            "{local}"
        );
        click(&c, "#clock-toggle").await;
        wait_text(&c, "#clock-toggle", "Times: UTC").await;
        c.refresh().await.unwrap();
        wait_listed(&c, &[done.id]).await;
        wait_text(&c, "#clock-toggle", "Times: UTC").await;
        let utc = shown().await;
        assert_eq!(
            utc,
            format!("{} UTC", &done.created_at[..19].replace('T', " "))
        );
        click(&c, "#clock-toggle").await;
        wait_text(&c, "#clock-toggle", "Times: relative").await;

        // A click anywhere on a row opens its command.
        click(&c, &format!("tr[data-id='{}'] td:nth-child(2)", done.id)).await;
        wait_js(
            &c,
            &format!("location.pathname == '/commands/{}'", done.id),
            "the command's page",
        )
        .await;
    })
    .await;
}

/// A search says how many it found, marks the text in the rows and says where each matched; since
/// and until are picked as local times and go to the API as instants.
#[tokio::test(flavor = "multi_thread")]
async fn a_search_counts_marks_and_says_where_and_dates_are_picked() {
    let console = Arc::new(Console::demo().start().await);
    let password = console.secrets.admin_password.clone();
    let ext = unique("Marked-");
    let found = sent(&console, "ping", ping_body(&ext, 60), "COMPLETED").await;
    let other = sent(
        &console,
        "ping",
        ping_body(&unique("other-"), 60),
        "COMPLETED",
    )
    .await;
    let api = console.clone();
    with_browser(move |c| async move {
        let url = api.url.clone();
        // Searched in another case than it was written: found, marked as written.
        let q = ext.to_lowercase();
        open(&c, &url, &password, &format!("/commands?q={q}")).await;
        wait_listed(&c, &[found.id]).await;
        wait_text(&c, "#list-count", "1 found").await;
        let row = format!("tr[data-id='{}']", found.id);
        assert_eq!(text_of(&c, &format!("{row} mark")).await, ext);
        assert!(
            text_of(&c, &format!("{row} [data-found]"))
                .await
                .contains("externalId")
        );

        // Unsearched: no marks, no "found in", and the count is the whole list's.
        c.goto(&format!("{url}/commands")).await.unwrap();
        wait_listed(&c, &[other.id, found.id]).await;
        wait_text(&c, "#list-count", "2 found").await;
        let marks = eval(
            &c,
            "return document.querySelectorAll('table.commands mark, [data-found]').length",
        )
        .await;
        assert_eq!(marks, serde_json::json!(0));

        // Dates from the picker: local times, sent as the instants they are.
        let pick = |name: &'static str, local: &'static str| {
            let c = &c;
            async move {
                eval(
                    c,
                    &format!(
                        "const i = document.querySelector('input[name={name}]'); i.value = '{local}'; \
                         i.dispatchEvent(new Event('change', {{bubbles: true}}));"
                    ),
                )
                .await;
            }
        };
        pick("since", "2020-01-01T00:00:30").await;
        let since = eval(&c, "return new Date('2020-01-01T00:00:30').toISOString()").await;
        let since = since.as_str().unwrap().to_string();
        wait_js(
            &c,
            &format!(
                "decodeURIComponent(location.search) == '?since={since}'"
            ),
            "since in the URL as an instant",
        )
        .await;
        wait_listed(&c, &[other.id, found.id]).await;
        assert_eq!(
            value_of(&c, "input[name=since]").await,
            "2020-01-01T00:00:30"
        );
        pick("until", "2020-01-02T00:00:00").await;
        wait_css(&c, "#commands-empty").await;
        wait_text(&c, "#list-count", "0 found").await;
    })
    .await;
}
