//! A replica whose connections the database drops (a restart, a failover) carries on: the writer
//! connects again, the listener connects again and catches up, and no event is lost on the way.

use super::*;
use crate::config::Secret;
use crate::feed::Feed;
use crate::store::sql::open_postgres;
use std::time::Duration;

/// Ends every session on the database but the one asking: what a restart does to a replica.
async fn drop_connections(url: &str) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let admin = connect(&url).unwrap();
        let ended: i64 = Conn::from(&admin)
            .one(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended",
                &[],
            )
            .unwrap();
        assert!(
            ended >= 2,
            "the writer's and the listener's sessions ended: {ended}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_connections_are_dropped_connects_again_and_loses_no_event() {
    let url = cluster().database();
    let feed = Feed::new(64);
    let mut live = feed.subscribe();
    let store = open_postgres(Secret::new(url.clone()), feed, SUMMARY_BODY_BYTES)
        .await
        .unwrap();
    let wait = Duration::from_secs(10);
    store
        .insert_callback(callback("h1", "{}".into()))
        .await
        .unwrap();
    let first = tokio::time::timeout(wait, live.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.seq, 1);

    drop_connections(&url).await;
    // The write that finds the writer's connection gone fails, as Hermod is told with a 503; it
    // sends again, and a later try is stored.
    let mut tries = 0;
    while store
        .insert_callback(callback("h2", "{}".into()))
        .await
        .is_err()
    {
        tries += 1;
        assert!(tries < 50, "the writer never connected again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The listener connects again, catches up, and publishes it, next in the sequence.
    let second = tokio::time::timeout(wait, live.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.seq, 2);
    assert!(String::from_utf8_lossy(&second.frame).contains("h2"));
    store.close().await.unwrap();
}
