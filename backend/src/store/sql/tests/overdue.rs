//! Silence as an event (overdue.rs) in the store: which commands are marked overdue and when, the
//! event each gets, the list filter, and the callback that clears the mark.

use super::*;

fn ids(commands: &[CommandRecord]) -> Vec<i64> {
    commands.iter().map(|c| c.id).collect()
}

async fn listed(store: &SqlStore, overdue: bool) -> Vec<i64> {
    let f = CommandFilter {
        overdue: Some(overdue),
        ..CommandFilter::default()
    };
    ids(&store.list_commands(f).await.unwrap().items)
}

fn overdue_events(replay: &[crate::feed::Published]) -> Vec<CommandRecord> {
    replay
        .iter()
        .filter_map(|p| match event(p) {
            FeedEvent::Overdue { command, .. } => Some(command),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_silent_past_its_expiry_is_marked_once_and_a_late_callback_clears_the_mark() {
    let f = Fixture::new("overdue");
    let now = crate::clock::now_ms();
    let answer = |id: &str| format!(r#"{{"commandId":"{id}"}}"#);
    let past = Some(now - 10_000);
    let oldest = sent(
        &f.store,
        "2001",
        "oldest",
        &answer("2001"),
        None,
        Some(now - 12_000),
    )
    .await;
    let late = sent(&f.store, "2002", "late", &answer("2002"), None, past).await;
    let answered = sent(&f.store, "2003", "answered", &answer("2003"), None, past).await;
    let waiting = sent(
        &f.store,
        "2004",
        "waiting",
        &answer("2004"),
        None,
        Some(now + 600_000),
    )
    .await;
    let no_expiry = sent(&f.store, "2005", "no-expiry", &answer("2005"), None, None).await;
    f.store
        .insert_callback(callback("2003", answer("2003")))
        .await
        .unwrap();

    // Not yet: 10 s past their expiry is within 20 s of grace.
    assert!(f.store.mark_overdue(20_000, 100).await.unwrap().is_empty());
    // The longest awaited first, `limit` at a time; never the answered, the waiting, nor one with
    // no expiry to wait for.
    let first = f.store.mark_overdue(5_000, 1).await.unwrap();
    assert_eq!(ids(&first), vec![oldest.id]);
    let rest = f.store.mark_overdue(5_000, 100).await.unwrap();
    assert_eq!(ids(&rest), vec![late.id]);
    assert!(rest[0].overdue_at.is_some());
    assert!(
        f.store.mark_overdue(0, 100).await.unwrap().is_empty(),
        "marked once"
    );
    assert_eq!(listed(&f.store, true).await, vec![late.id, oldest.id]);
    assert_eq!(
        listed(&f.store, false).await,
        vec![no_expiry.id, waiting.id, answered.id]
    );
    let events = overdue_events(&f.store.feed_after(0, 100, 1 << 20).await.unwrap());
    assert_eq!(ids(&events), vec![oldest.id, late.id]);

    // The callback that finally comes clears the mark and moves the command on.
    f.store
        .insert_callback(callback("2002", answer("2002")))
        .await
        .unwrap();
    let cleared = f.store.command(late.id).await.unwrap().unwrap();
    assert_eq!(cleared.overdue_at, None);
    assert_eq!(cleared.state, CommandState::Completed);
    assert_eq!(listed(&f.store, true).await, vec![oldest.id]);
    assert!(f.store.mark_overdue(0, 100).await.unwrap().is_empty());
    // The feed's history still tells what happened then.
    let replay = f.store.feed_after(0, 100, 1 << 20).await.unwrap();
    let events = overdue_events(&replay);
    assert_eq!(ids(&events), vec![oldest.id, late.id]);
    assert!(events.iter().all(|c| c.overdue_at.is_some()), "{events:?}");
    let FeedEvent::Command { command, .. } = event(replay.last().unwrap()) else {
        panic!("the clearing callback's command event comes last");
    };
    assert_eq!((command.id, command.overdue_at), (late.id, None));
}
