//! Lists, search, follow-ups, overdue marks, the feed's replay, retention, the indexer and repeated
//! deliveries, on PostgreSQL.

use super::*;

#[test]
fn commands_are_listed_by_state_client_time_page_and_text_on_postgres() {
    let pg = database();
    let now = now_ms();
    let alpha = accepted(&pg, "alpha", None).id;
    let bravo = accepted(&pg, "bravo", None).id;
    let charlie = recorded(&pg, "charlie").id;
    back_in_time(
        &pg,
        &format!(
            "UPDATE commands SET created_at = {} WHERE id = {alpha}",
            now - DAY
        ),
    );
    index(&pg);
    let listed = |f: CommandFilter| commands_listed(&pg, f);
    let by_state = CommandFilter {
        state: Some("IN_PROGRESS".into()),
        ..CommandFilter::default()
    };
    assert_eq!(listed(by_state), [bravo, alpha]);
    let by_client = CommandFilter {
        client: Some("other".into()),
        ..CommandFilter::default()
    };
    assert!(listed(by_client).is_empty());
    let query = |query| CommandFilter {
        query,
        ..CommandFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [charlie, bravo]);
    let first = commands::list(Conn::from(&pg), &query(page(2, None))).unwrap();
    assert_eq!(first.next_cursor, Some(bravo.to_string()));
    assert_eq!(listed(query(page(2, Some(bravo)))), [alpha]);
    // Through the index, and, too short for it, through the records; either way as typed.
    for q in ["Bravo", "ext-bravo", "av"] {
        assert_eq!(listed(query(text(q))), [bravo], "{q}");
    }
}

#[test]
fn callbacks_are_listed_by_state_client_time_page_and_text_on_postgres() {
    let pg = database();
    let now = now_ms();
    let alpha = stored(
        &pg,
        NewCallback {
            received_at: now - DAY,
            ..callback("h1", r#"{"n":"alpha"}"#.into())
        },
    );
    let bravo = stored(
        &pg,
        NewCallback {
            state: Some("FAILED".into()),
            reason: None,
            ..callback("h2", r#"{"n":"bravo"}"#.into())
        },
    );
    let charlie = stored(
        &pg,
        NewCallback {
            client: Some("other".into()),
            ..callback("h3", r#"{"n":"charlie"}"#.into())
        },
    );
    index(&pg);
    let listed = |f: CallbackFilter| callbacks_listed(&pg, f);
    let by_state = CallbackFilter {
        state: Some("FAILED".into()),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(by_state), [bravo]);
    let by_client = CallbackFilter {
        client: Some("other".into()),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(by_client), [charlie]);
    let unmatched = CallbackFilter {
        unmatched: Some(true),
        ..CallbackFilter::default()
    };
    assert_eq!(listed(unmatched), [charlie, bravo, alpha]);
    let query = |query| CallbackFilter {
        query,
        ..CallbackFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [charlie, bravo]);
    assert_eq!(listed(query(page(1, Some(charlie)))), [bravo]);
    for q in ["Bravo", "h2", "av"] {
        assert_eq!(listed(search(q)), [bravo], "{q}");
    }
}

#[test]
fn a_list_counts_its_whole_view_on_every_page_up_to_a_cap_on_postgres() {
    let pg = database();
    for i in 0..5 {
        stored(
            &pg,
            callback(&format!("h{i}"), format!(r#"{{"n":"count-{i}"}}"#)),
        );
    }
    index(&pg);
    let all = select::Sql::new("SELECT 1 FROM callbacks WHERE 1 = 1");
    let counted = |cap| all.count(Conn::from(&pg), cap).unwrap();
    assert_eq!(counted(3), (3, true));
    assert_eq!(counted(4), (4, true));
    assert_eq!(counted(5), (5, false));
    assert_eq!(counted(hermod_shared::console::TOTAL_CAP), (5, false));
    let listed = |query| {
        let f = CallbackFilter {
            query,
            ..CallbackFilter::default()
        };
        callbacks::list(Conn::from(&pg), &f).unwrap()
    };
    let first = listed(page(2, None));
    let cursor = first.next_cursor.as_deref().map(|c| c.parse().unwrap());
    let second = listed(page(2, cursor));
    assert_eq!(
        [
            (first.items.len(), first.total),
            (second.items.len(), second.total)
        ],
        [(2, 5), (2, 5)]
    );
    let found = listed(text("count-3"));
    assert_eq!((found.items.len(), found.total), (1, 1));
}

#[test]
fn a_search_text_is_found_as_it_is_not_as_a_pattern_on_postgres() {
    let pg = database();
    let literal = stored(&pg, callback("h1", r#"{"n":"zebra_1%"}"#.into()));
    let lookalike = stored(&pg, callback("h2", r#"{"n":"zebraX1"}"#.into()));
    index(&pg);
    let found = |q: &str| callbacks_listed(&pg, search(q));
    assert_eq!(found("zebra"), [lookalike, literal]);
    for q in ["zebra_1", "a_1%", "_1"] {
        assert_eq!(found(q), [literal], "{q}");
    }
    assert!(found("zebra%").is_empty());
}

#[test]
fn the_audit_log_is_listed_by_actor_action_time_page_and_text_on_postgres() {
    let pg = database();
    batch(&pg, |b| {
        audit::append(b, &entry("login"))?;
        audit::append(b, &entry("logout"))?;
        let bob = AuditEntry {
            actor: "bob".into(),
            ..entry("login")
        };
        audit::append(b, &bob)
    })
    .unwrap();
    let now = now_ms();
    back_in_time(
        &pg,
        &format!("UPDATE audit SET at = {} WHERE id = 1", now - DAY),
    );
    let listed = |f: AuditFilter| audit_listed(&pg, f);
    let by_action = AuditFilter {
        action: Some("login".into()),
        ..AuditFilter::default()
    };
    assert_eq!(listed(by_action), [3, 1]);
    let by_actor = AuditFilter {
        actor: Some("bob".into()),
        ..AuditFilter::default()
    };
    assert_eq!(listed(by_actor), [3]);
    let query = |query| AuditFilter {
        query,
        ..AuditFilter::default()
    };
    assert_eq!(listed(query(since(now - 60_000))), [3, 2]);
    assert_eq!(listed(query(page(1, Some(3)))), [2]);
    assert_eq!(listed(query(text("BO"))), [3]);
    assert_eq!(listed(query(text("logout"))), [2]);
}

/// Commands of `idm` Hermod took, each awaiting its callback: expired 40 s, 30 s and 1 s before
/// `now`, one to expire in ten minutes, and one expired 50 s before but called back.
fn awaiting(pg: &PgConn, now: i64) -> [i64; 5] {
    let expiring = |command_id: &str, at: i64| accepted(pg, command_id, Some(at)).id;
    let answered = expiring("h5", now - 50_000);
    stored(pg, callback("h5", "{}".into()));
    [
        expiring("h1", now - 40_000),
        expiring("h2", now - 30_000),
        expiring("h3", now - 1_000),
        expiring("h4", now + 600_000),
        answered,
    ]
}

#[test]
fn follow_ups_are_due_for_the_silent_past_their_expiry_fewer_as_they_are_polled_on_postgres() {
    let pg = database();
    let now = now_ms();
    let [old, late, ..] = awaiting(&pg, now);
    let due = |clients: &[&str], max_polls: u32| {
        let clients: Vec<String> = clients.iter().map(|c| c.to_string()).collect();
        let due = Due {
            now: now_ms(),
            after_ms: 5_000,
            max_polls,
            limit: 10,
        };
        commands::due_follow_ups(Conn::from(&pg), &clients, due).unwrap()
    };
    assert_eq!(due(&["idm"], 2), [old, late]);
    assert_eq!(due(&["other", "idm"], 2), [old, late]);
    assert!(due(&["other"], 2).is_empty());
    assert!(due(&[], 2).is_empty());
    // Polled once: due again only after twice the wait, and never past the most polls.
    poll(&pg, old, None);
    assert_eq!(due(&["idm"], 2), [old, late]);
    assert_eq!(due(&["idm"], 1), [late]);
}

#[test]
fn the_silent_are_marked_overdue_once_and_a_late_callback_clears_the_mark_on_postgres() {
    let pg = database();
    let now = now_ms();
    let [old, late, ..] = awaiting(&pg, now);
    let mark = |after_ms: i64, limit: usize| -> Vec<i64> {
        let marked = batch(&pg, |b| commands::mark_overdue(b, after_ms, limit)).unwrap();
        marked.iter().map(|c| c.id).collect()
    };
    assert!(mark(60_000, 100).is_empty());
    assert_eq!(mark(5_000, 1), [old]);
    assert_eq!(mark(5_000, 100), [late]);
    assert!(mark(5_000, 100).is_empty(), "marked once");
    let overdue = CommandFilter {
        overdue: Some(true),
        ..CommandFilter::default()
    };
    assert_eq!(commands_listed(&pg, overdue.clone()), [late, old]);
    let marks: Vec<i64> = replay(&pg, 0)
        .iter()
        .filter_map(|p| match event(p) {
            FeedEvent::Overdue { command, .. } => Some(command.id),
            _ => None,
        })
        .collect();
    assert_eq!(marks, [old, late]);
    stored(&pg, callback("h2", "{}".into()));
    let cleared = current(&pg, late);
    assert_eq!(
        (cleared.overdue_at, cleared.state),
        (None, CommandState::Completed)
    );
    assert_eq!(commands_listed(&pg, overdue), [old]);
}

#[test]
fn the_feed_replays_each_event_as_it_was_then_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None).id;
    let id = stored(&pg, callback("h1", "{}".into()));
    let shown: Vec<(i64, String)> = replay(&pg, 0)
        .iter()
        .map(|p| match event(p) {
            FeedEvent::Command { seq, command } => {
                (seq, format!("{} {}", command.id, command.state))
            }
            FeedEvent::Callback { seq, callback } => (seq, format!("callback {}", callback.id)),
            FeedEvent::Overdue { seq, .. } => (seq, "overdue".into()),
        })
        .collect();
    let expected = [
        (1, format!("{sent} SENDING")),
        (2, format!("{sent} IN_PROGRESS")),
        (3, format!("callback {id}")),
        (4, format!("{sent} COMPLETED")),
    ];
    assert_eq!(shown, expected);
    let later = feed::after(Conn::from(&pg), 2, 1, 1 << 20, SUMMARY_BODY_BYTES).unwrap();
    assert_eq!(later.iter().map(|p| p.seq).collect::<Vec<_>>(), [3]);
}

/// A command Hermod took as `command_id`, with a callback and a poll.
fn with_callback_and_poll(pg: &PgConn, command_id: &str) -> i64 {
    let sent = accepted(pg, command_id, None);
    stored(pg, callback(command_id, "{}".into()));
    poll(pg, sent.id, None);
    sent.id
}

#[test]
fn old_commands_go_with_their_callbacks_polls_and_search_rows_on_postgres() {
    let pg = database();
    let now = now_ms();
    let old = with_callback_and_poll(&pg, "h1");
    let young = with_callback_and_poll(&pg, "h2");
    index(&pg);
    let old_at = now - 40 * DAY;
    back_in_time(
        &pg,
        &format!(
            "UPDATE commands SET created_at = {old_at}, updated_at = {old_at} WHERE id = {old}; \
             UPDATE callbacks SET received_at = {old_at} WHERE command = {old}; \
             UPDATE polls SET at = {old_at} WHERE command = {old}"
        ),
    );
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM search"), 8);
    let cutoffs = Cutoffs {
        commands: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    let expected = Pruned {
        commands: 1,
        callbacks: 1,
        polls: 1,
        ..Pruned::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 10), expected);
    assert!(states::by_id(Conn::from(&pg), old).unwrap().is_none());
    assert_eq!(current(&pg, young).id, young);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM search"), 4);
    let orphans = "SELECT COUNT(*) FROM search WHERE (doc >> 2) NOT IN \
                   (SELECT id FROM commands UNION SELECT id FROM callbacks UNION SELECT id FROM polls)";
    assert_eq!(count(&pg, orphans), 0);
}

#[test]
fn old_unmatched_callbacks_go_but_the_newest_on_postgres() {
    let pg = database();
    let now = now_ms();
    let stray = |command_id: &str| {
        stored(
            &pg,
            NewCallback {
                received_at: now - 40 * DAY,
                ..callback(command_id, "{}".into())
            },
        )
    };
    let first = stray("h1");
    let newest = stray("h2");
    index(&pg);
    let cutoffs = Cutoffs {
        unmatched_callbacks: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 10).unmatched_callbacks, 1);
    assert!(callbacks::by_id(Conn::from(&pg), first).unwrap().is_none());
    assert_eq!(matched(&pg, newest), None, "kept, unmatched");
}

#[test]
fn the_feed_goes_from_its_oldest_event_on_and_a_replay_from_before_is_reset_on_postgres() {
    let pg = database();
    let now = now_ms();
    for n in 0..5 {
        stored(&pg, callback(&format!("h{n}"), "{}".into()));
    }
    back_in_time(
        &pg,
        &format!(
            "UPDATE feed SET at = {} WHERE seq IN (1, 2, 4)",
            now - 40 * DAY
        ),
    );
    let cutoffs = Cutoffs {
        feed: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 500).feed, 2);
    let replayed = replay(&pg, 0);
    let seqs: Vec<i64> = replayed.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5], "a reset standing at 2, then 3 on");
    let reset = crate::feed::Published::new(2, "reset", "3");
    assert_eq!(replayed[0].frame, reset.frame);
    assert_eq!(replay(&pg, 2)[0].seq, 3, "from a kept position, no reset");
}

#[test]
fn old_audit_entries_go_through_the_pruner_alone_and_the_chain_holds_on_postgres() {
    let pg = database();
    let now = now_ms();
    batch(&pg, |b| {
        (0..4).try_for_each(|_| audit::append(b, &entry("login")))
    })
    .unwrap();
    back_in_time(
        &pg,
        &format!("UPDATE audit SET at = {} WHERE id <= 2", now - 40 * DAY),
    );
    let db = Conn::from(&pg);
    assert!(db.execute("DELETE FROM audit WHERE id = 1", &[]).is_err());
    let cutoffs = Cutoffs {
        audit: Some(now - 30 * DAY),
        ..Cutoffs::default()
    };
    assert_eq!(prune_all(&pg, cutoffs, 1).audit, 2);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM audit"), 2);
    let cleared = "SELECT COUNT(*) FROM audit_retention WHERE before IS NULL";
    assert_eq!(count(&pg, cleared), 1);
    let verified = db.snapshot(chain::verify).unwrap();
    assert!(verified.intact && verified.entries == 2, "{verified:?}");
}

#[test]
fn a_body_is_decoded_once_when_indexed_and_read_back_on_postgres() {
    let pg = database();
    let sent = accepted(&pg, "h1", None);
    // A base64 text data item, as Hermod's results carry them.
    let body = r#"{"commandId":"h1","result":{"tbs":[{"key":"t","content_type":"text/plain",
        "content_encoding":"base64","data":"S2VwdCBkZWNvZGVk"}]}}"#;
    let id = stored(&pg, callback("h1", body.into()));
    let db = Conn::from(&pg);
    let doc = Doc::Callback.key(id);
    assert_eq!(
        indexer::waiting(db).unwrap(),
        3,
        "request, answer, callback"
    );
    assert_eq!(indexer::decoded(db, doc).unwrap(), None);
    let far = Doc::Callback.key(1 << 40);
    assert_eq!(
        indexer::decoded(db, far).unwrap(),
        None,
        "a key past 32 bits"
    );
    index(&pg);
    let items = indexer::decoded(db, doc).unwrap().expect("indexed");
    assert_eq!(items.len(), 1);
    assert_eq!(
        indexer::decoded(db, Doc::Answer.key(sent.id)).unwrap(),
        Some(Vec::new())
    );
    // The decoded words are searched, and exported, with the records.
    assert_eq!(callbacks_listed(&pg, search("kept decoded")), [id]);
    let exported = callbacks::export(db, &CallbackFilter::default()).unwrap();
    assert_eq!(exported.items[0].decoded, "Kept decoded");
    let exported = commands::export(db, &CommandFilter::default()).unwrap();
    assert_eq!(exported.items[0].decoded, "Kept decoded");
}

/// Two replicas taking the same delivery at the same moment store it once: the second waits for the
/// first's commit, then finds it.
#[test]
fn one_delivery_taken_by_two_replicas_at_once_is_stored_once() {
    let url = cluster().database();
    let first = connect(&url).unwrap();
    schema::migrate(&first).unwrap();
    let prepared =
        callbacks::Prepared::new(callback("h1", "{}".into()), SUMMARY_BODY_BYTES).unwrap();
    sequence::prepare(Conn::from(&first)).unwrap();
    first.batch("BEGIN").unwrap();
    let CallbackSaved::Stored(id) =
        callbacks::insert(&mut Batch::start(Conn::from(&first), None), &prepared).unwrap()
    else {
        panic!("the first stores it")
    };
    let second = std::thread::spawn({
        let prepared =
            callbacks::Prepared::new(callback("h1", "{}".into()), SUMMARY_BODY_BYTES).unwrap();
        move || {
            let pg = connect(&url).unwrap();
            sequence::prepare(Conn::from(&pg)).unwrap();
            pg.batch("BEGIN").unwrap();
            let saved = callbacks::insert(&mut Batch::start(Conn::from(&pg), None), &prepared);
            pg.batch("COMMIT").unwrap();
            saved.unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!second.is_finished(), "the second waits for the first");
    assert_eq!(sequence::number(Conn::from(&first)).unwrap(), 1);
    first.batch("COMMIT").unwrap();
    assert!(matches!(second.join().unwrap(), CallbackSaved::Duplicate(d) if d == id));
    let stored: i64 = Conn::from(&first)
        .one("SELECT COUNT(*) FROM callbacks", &[])
        .unwrap();
    assert_eq!(stored, 1);
}
