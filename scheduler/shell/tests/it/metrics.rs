//! The HTTP endpoint: Prometheus metrics with kube-scheduler's names,
//! health, and a flamegraph.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_profile() {
    let apiserver = start_apiserver().await;
    let client = &apiserver.client;
    create_nodes(client, &[node("n1", "1", "4Gi", 110)]).await;
    let scheduler = start_scheduler(config(&apiserver)).await;
    let address = scheduler.metrics_address().unwrap();
    create_pods(
        client,
        &[pod("fits", "1", "64Mi"), pod("waits", "1", "64Mi")],
    )
    .await;
    wait_until(Duration::from_secs(20), || async {
        bound_count(client).await == 1
    })
    .await;
    wait_until(Duration::from_secs(20), || async {
        let (status, body) = http_get(address, "/metrics").await;
        let text = String::from_utf8(body).unwrap();
        status == 200
            && text.contains(
                "scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 1",
            )
            && text.contains("scheduler_pending_pods{queue=\"unschedulable\"} 1")
            && text.contains("scheduler_preemption_attempts_total ")
            && text.contains("scheduler_pod_scheduling_attempts_bucket{le=\"1\"} 1")
            && text.contains(
                "scheduler_scheduling_attempt_duration_seconds_count{profile=\"default-scheduler\",result=\"unschedulable\"}",
            )
    })
    .await;
    let (status, body) = http_get(address, "/healthz").await;
    assert_eq!((status, body.as_slice()), (200, b"ok".as_slice()));
    let (status, _) = http_get(address, "/nothing").await;
    assert_eq!(status, 404);
    let (status, body) = http_get(address, "/debug/pprof/profile?seconds=abc").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8(body).unwrap().starts_with("seconds:"));
    // Keep a core busy until the profile is answered, however long the
    // profiler takes to start: it samples CPU time, so the busy thread is
    // what it sees.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut spins: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..100_000 {
                    spins = std::hint::black_box(spins.wrapping_mul(31).wrapping_add(1));
                }
            }
            spins
        }
    });
    let (status, body) = http_get(address, "/debug/pprof/profile?seconds=1").await;
    stop.store(true, Ordering::Relaxed);
    busy.join().unwrap();
    assert_eq!(status, 200);
    let svg = String::from_utf8(body).unwrap();
    assert!(svg.contains("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(
        svg.contains("Flame Graph"),
        "stacks of the busy thread were drawn: {}",
        &svg[..svg.len().min(300)]
    );
    scheduler.stop().await.unwrap();
}
