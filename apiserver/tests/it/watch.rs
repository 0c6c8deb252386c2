//! Watch: ordering under concurrent writers, resuming inside the window,
//! too-old errors, slow watchers, bookmarks.

use std::collections::HashSet;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use apiserver::Config;
use client::{Client, Error, ListParams, WatchEvent, WatchParams, WatchStream};
use futures::StreamExt;
use runtime::WatcherEvent::{self, Applied, Restarted};

use crate::common::{TestServer, memory_store, pod, rv, start, start_with};

/// Reads events until `count` object events arrived (panics after 30 s).
async fn collect(stream: &mut WatchStream<Pod>, count: usize) -> Vec<WatchEvent<Pod>> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while events.len() < count {
        let batch = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("watch timed out");
        let batch = batch.expect("watch ended").expect("watch failed");
        events.extend(batch.into_iter().filter(|event| event.object().is_some()));
    }
    events
}

fn rv_of(event: &WatchEvent<Pod>) -> i64 {
    rv(event.object().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_seen_in_order_without_gaps() {
    let server = start().await;
    let client = &server.client;
    let list = client
        .list::<Pod>("", &ListParams::default())
        .await
        .unwrap();
    let mut stream = client
        .watch::<Pod>("", &WatchParams::from_version(list.resource_version))
        .await
        .unwrap();
    let writers = 4;
    let per_writer = 50;
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let client: Client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for index in 0..per_writer {
                let created = client
                    .create("default", &pod(&format!("w{writer}-{index}")))
                    .await
                    .unwrap();
                revisions.push(rv(&created));
                let mut changed = created.clone();
                changed
                    .metadata
                    .labels
                    .get_or_insert_default()
                    .insert("step".into(), "2".into());
                revisions.push(rv(&client.update(&changed).await.unwrap()));
            }
            revisions
        }));
    }
    let mut expected = HashSet::new();
    for task in tasks {
        expected.extend(task.await.unwrap());
    }
    let events = collect(&mut stream, writers * per_writer * 2).await;
    let revisions: Vec<i64> = events.iter().map(rv_of).collect();
    assert!(
        revisions.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing"
    );
    assert_eq!(
        revisions.iter().copied().collect::<HashSet<_>>(),
        expected,
        "nothing missing"
    );
    let added = events
        .iter()
        .filter(|e| matches!(e, WatchEvent::Added(_)))
        .count();
    assert_eq!(added, writers * per_writer);
}

#[tokio::test]
async fn watch_from_old_version_in_window_replays() {
    let server = start().await;
    let client = &server.client;
    let first = client.create("default", &pod("a")).await.unwrap();
    client.create("default", &pod("b")).await.unwrap();
    client
        .delete::<Pod>("default", "a", &Default::default())
        .await
        .unwrap();
    // Start a watch first so the cache exists, then resume from before "b".
    let mut stream = client
        .watch::<Pod>(
            "default",
            &WatchParams::from_version(rv(&first).to_string()),
        )
        .await
        .unwrap();
    let events = collect(&mut stream, 2).await;
    assert!(matches!(&events[0], WatchEvent::Added(p) if p.metadata.name.as_deref() == Some("b")));
    assert!(
        matches!(&events[1], WatchEvent::Deleted(p) if p.metadata.name.as_deref() == Some("a"))
    );

    // No resourceVersion: current objects first, then changes.
    let mut fresh = client
        .watch::<Pod>("default", &WatchParams::default())
        .await
        .unwrap();
    let initial = collect(&mut fresh, 1).await;
    assert!(matches!(&initial[0], WatchEvent::Added(p) if p.metadata.name.as_deref() == Some("b")));
    client.create("default", &pod("c")).await.unwrap();
    let next = collect(&mut fresh, 1).await;
    assert!(matches!(&next[0], WatchEvent::Added(p) if p.metadata.name.as_deref() == Some("c")));
}

#[tokio::test]
async fn too_old_version_is_a_distinct_error() {
    let mut config = Config::new(memory_store());
    config.watch_window_events = 5;
    let server = start_with(config).await;
    let client = &server.client;
    // Create the cache, then push the window past the first pod.
    let first = client.create("default", &pod("p0")).await.unwrap();
    let _warm = client
        .watch::<Pod>("", &WatchParams::from_version(rv(&first).to_string()))
        .await
        .unwrap();
    for index in 1..20 {
        client
            .create("default", &pod(&format!("p{index}")))
            .await
            .unwrap();
    }
    crate::common::wait_until(Duration::from_secs(10), || {
        let client = client.clone();
        let from = rv(&first).to_string();
        async move {
            match client
                .watch::<Pod>("", &WatchParams::from_version(from))
                .await
            {
                Err(Error::TooOld(message)) => message.contains("relist"),
                Err(other) => panic!("expected too old, got {other:?}"),
                Ok(_) => false,
            }
        }
    })
    .await;
}

/// A server whose watch cache keeps `window` events per resource, a pod
/// watch from the start that nobody reads, and 600 pods created meanwhile,
/// each padded with `pad_bytes` of annotation.
async fn unread_watch(window: usize, pad_bytes: usize) -> (TestServer, WatchStream<Pod>) {
    let mut config = Config::new(memory_store());
    config.watch_window_events = window;
    let server = start_with(config).await;
    let client = &server.client;
    let list = client
        .list::<Pod>("", &ListParams::default())
        .await
        .unwrap();
    let slow = client
        .watch::<Pod>("", &WatchParams::from_version(list.resource_version))
        .await
        .unwrap();
    let mut big = pod("big");
    big.metadata.annotations = Some([("pad".to_string(), "x".repeat(pad_bytes))].into());
    for index in 0..600 {
        let mut p = big.clone();
        p.metadata.name = Some(format!("big{index}"));
        client.create("default", &p).await.unwrap();
    }
    (server, slow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_watcher_is_closed_not_buffered() {
    // Never read while writing: transport buffers fill, the window moves
    // past the watcher's cursor, and the server ends its watch.
    let (_server, mut slow) = unread_watch(64, 16 * 1024).await;
    let mut received = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, slow.next())
            .await
            .expect("watch neither ended nor failed")
        {
            Some(Ok(batch)) => received += batch.len(),
            Some(Err(error)) => {
                assert!(error.is_too_old(), "{error:?}");
                break;
            }
            None => panic!("watch ended without an error"),
        }
    }
    assert!(
        received < 600,
        "the slow watcher was cut off ({received} events)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_behind_inside_the_window_catches_up() {
    // Far more unread writes than fit in transport buffers, all inside the
    // window: the watcher gets every one, in order.
    let (_server, mut slow) = unread_watch(1000, 4 * 1024).await;
    let events = collect(&mut slow, 600).await;
    let revisions: Vec<i64> = events.iter().map(rv_of).collect();
    assert!(revisions.windows(2).all(|pair| pair[0] < pair[1]));
}

#[tokio::test]
async fn bookmarks_arrive_when_asked() {
    let mut config = Config::new(memory_store());
    config.bookmark_interval = Duration::from_millis(50);
    let server = start_with(config).await;
    let client = &server.client;
    let created = client.create("default", &pod("p")).await.unwrap();
    let before = rv(&created) - 1;
    let mut stream = client
        .watch::<Pod>(
            "",
            &WatchParams::from_version(before.to_string()).bookmarks(),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut saw_added = false;
    loop {
        let batch = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        for event in batch {
            match event {
                WatchEvent::Added(_) => saw_added = true,
                WatchEvent::Bookmark { resource_version } => {
                    assert!(saw_added, "bookmark never overtakes events");
                    assert_eq!(resource_version, rv(&created).to_string());
                    return;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_lists_watches_and_relists_when_behind() {
    let mut config = Config::new(memory_store());
    config.watch_window_events = 64;
    let server = start_with(config).await;
    let client = &server.client;
    client.create("default", &pod("existing")).await.unwrap();
    let watcher = runtime::watcher::<Pod>(client.clone(), "default", ListParams::default());
    futures::pin_mut!(watcher);
    let next = |item: Option<Result<WatcherEvent<Pod>, Error>>| item.unwrap().unwrap();
    let Restarted { objects, .. } = next(watcher.next().await) else {
        panic!("list first")
    };
    assert_eq!(objects.len(), 1);
    client.create("default", &pod("new")).await.unwrap();
    let Applied(events) = next(watcher.next().await) else {
        panic!("then changes")
    };
    assert!(
        matches!(&events[0], WatchEvent::Added(p) if p.metadata.name.as_deref() == Some("new"))
    );

    // Fall behind without polling: the server drops the watch and the
    // watcher relists, ending up with every pod.
    let mut big = pod("big");
    big.metadata.annotations = Some([("pad".to_string(), "x".repeat(16 * 1024))].into());
    for index in 0..600 {
        let mut p = big.clone();
        p.metadata.name = Some(format!("big{index}"));
        client.create("default", &p).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let item = tokio::time::timeout_at(deadline, watcher.next())
            .await
            .expect("no relist");
        if let Restarted { objects, .. } = next(item) {
            assert_eq!(objects.len(), 602);
            break;
        }
    }
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let server = start().await;
    let mut stream = server
        .client
        .watch::<Pod>("", &WatchParams::default())
        .await
        .unwrap();
    server.client.create("default", &pod("p")).await.unwrap();
    collect(&mut stream, 1).await;
    // `stop` waits (with a deadline) for `run` to return.
    server.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap();
    assert!(end.is_none_or(|item| item.is_err()));
}
