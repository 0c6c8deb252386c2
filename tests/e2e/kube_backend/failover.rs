//! Two replicas of the scheduler's Kubernetes backend against the
//! apiserver's REST face, electing a leader through the
//! `kube-system/skiff-scheduler` Lease, and the leader killed with SIGKILL.
//!
//! What must hold: one replica leads at a time (the lease names it, only it
//! reports `skiff_scheduler_is_leader 1`, only it schedules); the standby
//! takes the lease over only once the dead leader's last renewal is a lease
//! duration old, and soon after that; the new leader binds the pods
//! created after the kill; every pod is bound once, to a node that exists,
//! and no node holds more than its allocatable.
//!
//! Everything the test reads goes through the REST face with the admin
//! kubeconfig, as the replicas do.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use api::ApiObject;
use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Node, Pod};
use api::quantity::Quantity;
use client::{Client, ListParams, WatchEvent, WatchParams};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixtures::{create_all, marked_unschedulable, node, node_of, placements, pod};
use crate::process::{Process, RestApiserver, free_address, wait_for};

/// Lease timing of the replicas: short so the failover is quick, long
/// enough that a loaded two-core machine does not miss renewals.
const LEASE_DURATION: Duration = Duration::from_secs(4);
const RENEW_DEADLINE: Duration = Duration::from_secs(3);
const RETRY_PERIOD: Duration = Duration::from_millis(250);

/// The leader lease of the Kubernetes backend's default profile.
const LEASE_NAMESPACE: &str = "kube-system";
const LEASE_NAME: &str = "skiff-scheduler";

/// Three nodes of one CPU; every pod asks for a quarter, so twelve fit.
const NODES: usize = 3;
const PODS_BEFORE_KILL: usize = 8;
const PODS_AFTER_KILL: usize = 4;

/// One scheduler replica: its process, its lease identity and its
/// `/metrics` address.
struct Replica {
    process: Process,
    identity: &'static str,
    metrics: SocketAddr,
}

fn start_replica(kubeconfig: &Path, identity: &'static str) -> Replica {
    let metrics = free_address();
    let millis = |duration: Duration| format!("{}ms", duration.as_millis());
    let process = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_scheduler"))
            .args(["--backend", "kubernetes", "--kubeconfig"])
            .arg(kubeconfig)
            .args(["--identity", identity])
            .args(["--leader-elect-lease-duration", &millis(LEASE_DURATION)])
            .args(["--leader-elect-renew-deadline", &millis(RENEW_DEADLINE)])
            .args(["--leader-elect-retry-period", &millis(RETRY_PERIOD)])
            .args(["--failed-scheduling-report-interval", "100ms"])
            .args([
                "--pod-initial-backoff",
                "50ms",
                "--pod-max-backoff",
                "200ms",
            ])
            .args(["--metrics-listen", &metrics.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    );
    Replica {
        process,
        identity,
        metrics,
    }
}

/// The body of `GET /metrics`, or `None` when the replica does not answer
/// (not up yet, or dead).
async fn scrape(address: SocketAddr) -> Option<String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        let answer = String::from_utf8(answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_string())
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()
        .flatten()
}

/// The value of the sample `series` (name plus labels, as rendered) in a
/// metrics body.
fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

/// Whether a replica reports that it leads; `None` when it does not
/// answer.
async fn is_leader(replica_metrics: SocketAddr) -> Option<bool> {
    let body = scrape(replica_metrics).await?;
    metric(&body, "skiff_scheduler_is_leader").map(|value| value == 1.0)
}

/// Pods a replica has placed (scheduling attempts that ended in a node).
async fn scheduled_count(replica_metrics: SocketAddr) -> f64 {
    let body = scrape(replica_metrics).await.unwrap();
    metric(
        &body,
        "scheduler_schedule_attempts_total{profile=\"skiff-scheduler\",result=\"scheduled\"}",
    )
    .unwrap()
}

async fn bind_failures(replica_metrics: SocketAddr) -> f64 {
    let body = scrape(replica_metrics).await.unwrap();
    metric(&body, "skiff_scheduler_bind_failures_total").unwrap()
}

/// Every object of kind `K` a watch of `namespace` delivered, in order,
/// from a watch started before the test's writes; the watch is resumed
/// from the last resourceVersion seen if the server ends it.
fn record_watch<K: ApiObject>(client: Client, namespace: &'static str) -> Arc<Mutex<Vec<K>>> {
    let seen: Arc<Mutex<Vec<K>>> = Arc::default();
    let recorder = seen.clone();
    tokio::spawn(async move {
        let mut from = String::new();
        loop {
            let params = WatchParams::from_version(from.clone());
            let Ok(mut stream) = client.watch::<K>(namespace, &params).await else {
                // The apiserver is gone (the test ended) or not ready yet.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            while let Some(Ok(events)) = stream.next().await {
                for event in events {
                    let object = match event {
                        WatchEvent::Added(object)
                        | WatchEvent::Modified(object)
                        | WatchEvent::Deleted(object) => object,
                        WatchEvent::Bookmark { resource_version } => {
                            from = resource_version;
                            continue;
                        }
                    };
                    if let Some(version) = object.metadata().resource_version.clone() {
                        from = version;
                    }
                    // Nothing awaits under this lock.
                    recorder.lock().unwrap().push(object);
                }
            }
            // Ended or failed: resume from the last version after a pause.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    seen
}

/// `(a leads, b leads)` as the two replicas reported it, `None` for one
/// that did not answer, in the order sampled.
type LeaderSamples = Arc<Mutex<Vec<(Option<bool>, Option<bool>)>>>;

/// Samples both replicas' `skiff_scheduler_is_leader` every 20 ms until
/// `stop` is set.
fn sample_leaders(a: SocketAddr, b: SocketAddr, stop: Arc<AtomicBool>) -> LeaderSamples {
    let samples: LeaderSamples = Arc::default();
    let recorder = samples.clone();
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let sample = (is_leader(a).await, is_leader(b).await);
            recorder.lock().unwrap().push(sample);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    samples
}

async fn create_pods(client: &Client, names: &[String]) {
    let pods: Vec<Pod> = names
        .iter()
        .map(|name| pod(name, Some("skiff-scheduler"), "250m"))
        .collect();
    create_all(client, "default", &pods).await;
}

fn holder(lease: &Lease) -> &str {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.holder_identity.as_deref())
        .unwrap_or("")
}

fn transitions(lease: &Lease) -> i32 {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.lease_transitions)
        .unwrap_or(0)
}

/// The wall time a lease time field names.
fn wall_time(
    time: Option<&api::k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>,
) -> SystemTime {
    SystemTime::from(time.unwrap().0)
}

/// The lease records the watch saw, for our lease only.
fn lease_history(leases: &Mutex<Vec<Lease>>) -> Vec<Lease> {
    leases
        .lock()
        .unwrap()
        .iter()
        .filter(|lease| lease.metadata.name.as_deref() == Some(LEASE_NAME))
        .cloned()
        .collect()
}

/// Milli-CPU and bytes of memory a pod's containers request.
fn requests(pod: &Pod) -> (i64, i64) {
    let mut cpu = 0;
    let mut memory = 0;
    for container in &pod.spec.as_ref().unwrap().containers {
        let requests = container
            .resources
            .as_ref()
            .and_then(|resources| resources.requests.as_ref());
        for (name, quantity) in requests.into_iter().flatten() {
            let quantity = Quantity::parse(&quantity.0).unwrap();
            match name.as_str() {
                "cpu" => cpu += quantity.milli_value(),
                "memory" => memory += quantity.value(),
                _ => {}
            }
        }
    }
    (cpu, memory)
}

fn allocatable(node: &Node, resource: &str) -> Quantity {
    let list = node.status.as_ref().unwrap().allocatable.as_ref().unwrap();
    Quantity::parse(&list[resource].0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_kubernetes_backend_leader_fails_over_after_kill() {
    let dir = tempfile::tempdir().unwrap();
    let apiserver = RestApiserver::start(dir.path(), "memory").await;
    let client = &apiserver.client;
    let leases = record_watch::<Lease>(client.clone(), LEASE_NAMESPACE);
    let pod_history = record_watch::<Pod>(client.clone(), "default");
    let nodes: Vec<Node> = (0..NODES)
        .map(|index| node(&format!("node-{index}")))
        .collect();
    create_all(client, "", &nodes).await;

    let mut replicas = vec![
        start_replica(&apiserver.kubeconfig, "replica-a"),
        start_replica(&apiserver.kubeconfig, "replica-b"),
    ];
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let samples = sample_leaders(
        replicas[0].metrics,
        replicas[1].metrics,
        stop_sampling.clone(),
    );

    // One replica wins the lease and says so; the other stands by.
    wait_for("a replica leads", Duration::from_secs(30), || async {
        let Ok(lease) = client.get::<Lease>(LEASE_NAMESPACE, LEASE_NAME).await else {
            return false;
        };
        let Some(leader) = replicas.iter().find(|r| r.identity == holder(&lease)) else {
            return false;
        };
        is_leader(leader.metrics).await == Some(true)
    })
    .await;
    let lease: Lease = client.get(LEASE_NAMESPACE, LEASE_NAME).await.unwrap();
    let leader_index = replicas
        .iter()
        .position(|replica| replica.identity == holder(&lease))
        .unwrap();
    let standby_index = 1 - leader_index;
    wait_for("the standby's metrics", Duration::from_secs(30), || async {
        is_leader(replicas[standby_index].metrics).await == Some(false)
    })
    .await;

    let before: Vec<String> = (0..PODS_BEFORE_KILL)
        .map(|index| format!("before-{index}"))
        .collect();
    create_pods(client, &before).await;
    wait_for(
        "the leader binds the first pods",
        Duration::from_secs(30),
        || async {
            let bound = placements(client).await;
            before.iter().all(|name| bound.contains_key(name))
        },
    )
    .await;
    // The leader placed them all (counted once it handled each bind's
    // answer); the standby placed none.
    wait_for(
        "the leader counts its placements",
        Duration::from_secs(10),
        || async {
            scheduled_count(replicas[leader_index].metrics).await >= PODS_BEFORE_KILL as f64
        },
    )
    .await;
    assert_eq!(
        scheduled_count(replicas[leader_index].metrics).await,
        PODS_BEFORE_KILL as f64
    );
    assert_eq!(scheduled_count(replicas[standby_index].metrics).await, 0.0);
    let history = lease_history(&leases);
    assert!(
        history
            .iter()
            .all(|lease| holder(lease) == replicas[leader_index].identity),
        "the lease stayed with the first leader while it lived: {:?}",
        history.iter().map(holder).collect::<Vec<_>>()
    );

    // SIGKILL: no release of the lease; the standby must wait it out.
    let killed_at = SystemTime::now();
    let leader = replicas.remove(leader_index);
    let standby = replicas.remove(0);
    let (dead_identity, dead_metrics) = (leader.identity, leader.metrics);
    leader.process.kill();
    let after: Vec<String> = (0..PODS_AFTER_KILL)
        .map(|index| format!("after-{index}"))
        .collect();
    create_pods(client, &after).await;

    // The standby takes over once the last renewal is a lease duration
    // old: then, not earlier, and within two retry periods more (the one
    // in which it first saw that renewal and the one it acts in), plus
    // room for a loaded machine.
    let took_over = wait_for(
        "the standby takes the lease over",
        LEASE_DURATION + RETRY_PERIOD * 2 + Duration::from_secs(10),
        || async {
            lease_history(&leases)
                .iter()
                .any(|lease| holder(lease) == standby.identity)
        },
    )
    .await;
    let history = lease_history(&leases);
    let first_new = history
        .iter()
        .position(|lease| holder(lease) == standby.identity)
        .unwrap();
    let last_old = &history[first_new - 1];
    assert_eq!(holder(last_old), dead_identity);
    assert!(
        history[first_new..]
            .iter()
            .all(|lease| holder(lease) == standby.identity),
        "the dead leader never holds the lease again"
    );
    assert_eq!(transitions(&history[first_new]), transitions(last_old) + 1);
    let new_spec = history[first_new].spec.as_ref().unwrap();
    let acquired = wall_time(new_spec.acquire_time.as_ref());
    let last_renewal = wall_time(last_old.spec.as_ref().unwrap().renew_time.as_ref());
    let waited = acquired.duration_since(last_renewal).unwrap();
    assert!(
        waited >= LEASE_DURATION,
        "the standby took the lease {waited:?} after the last renewal, inside the lease duration"
    );
    let after_kill = acquired.duration_since(killed_at).unwrap_or_default();
    let bound = LEASE_DURATION + RETRY_PERIOD * 2 + Duration::from_secs(1);
    assert!(
        after_kill <= bound,
        "the standby took the lease {after_kill:?} after the kill, over {bound:?}"
    );
    wait_for(
        "the new leader says so",
        Duration::from_secs(10),
        || async { is_leader(standby.metrics).await == Some(true) },
    )
    .await;

    wait_for(
        "the new leader binds the pods created after the kill",
        Duration::from_secs(30),
        || async {
            let bound = placements(client).await;
            after.iter().all(|name| bound.contains_key(name))
        },
    )
    .await;
    // The scheduler counts a placement when it handles the bind's answer,
    // which can come after the bind is visible in the store.
    wait_for(
        "the new leader counts its placements",
        Duration::from_secs(10),
        || async { scheduled_count(standby.metrics).await >= PODS_AFTER_KILL as f64 },
    )
    .await;
    assert_eq!(
        scheduled_count(standby.metrics).await,
        PODS_AFTER_KILL as f64,
        "the new leader placed exactly the pods created after the kill"
    );
    assert_eq!(bind_failures(standby.metrics).await, 0.0);

    // The nodes are full: one more pod stays unbound and is reported
    // Unschedulable rather than squeezed in.
    create_pods(client, &["overflow".to_string()]).await;
    wait_for(
        "the overflow pod is marked unschedulable",
        Duration::from_secs(30),
        || async {
            let overflow: Pod = client.get("default", "overflow").await.unwrap();
            marked_unschedulable(&overflow)
        },
    )
    .await;

    stop_sampling.store(true, Ordering::Relaxed);
    let final_pods = client
        .list::<Pod>("default", &ListParams::default())
        .await
        .unwrap()
        .items;
    let final_nodes = client
        .list::<Node>("", &ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(final_pods.len(), PODS_BEFORE_KILL + PODS_AFTER_KILL + 1);

    // Every pod the watch saw bound was bound once: one node, never changed.
    let mut nodes_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pod in pod_history.lock().unwrap().iter() {
        if let (Some(name), Some(node)) = (pod.metadata.name.clone(), node_of(pod)) {
            nodes_of.entry(name).or_default().insert(node.to_string());
        }
    }
    for (pod, nodes) in &nodes_of {
        assert_eq!(nodes.len(), 1, "{pod} was bound to {nodes:?}");
    }
    let node_names: BTreeSet<String> = final_nodes
        .iter()
        .filter_map(|node| node.metadata.name.clone())
        .collect();
    let mut used: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    for pod in &final_pods {
        let name = pod.metadata.name.as_deref().unwrap();
        if name == "overflow" {
            assert_eq!(node_of(pod), None, "the overflow pod was bound");
            continue;
        }
        let node = node_of(pod).unwrap_or_else(|| panic!("{name} is not bound"));
        assert!(node_names.contains(node), "{name} is bound to {node}");
        assert_eq!(
            nodes_of.get(name),
            Some(&BTreeSet::from([node.to_string()])),
            "the watch saw {name} bound to {node} once"
        );
        let (cpu, memory) = requests(pod);
        let entry = used.entry(node).or_default();
        *entry = (entry.0 + cpu, entry.1 + memory, entry.2 + 1);
    }
    for node in &final_nodes {
        let name = node.metadata.name.as_deref().unwrap();
        let (cpu, memory, pods) = used.get(name).copied().unwrap_or_default();
        assert!(
            cpu <= allocatable(node, "cpu").milli_value(),
            "{name}: {cpu}m"
        );
        assert!(
            memory <= allocatable(node, "memory").value(),
            "{name}: {memory} bytes"
        );
        assert!(
            pods <= allocatable(node, "pods").value(),
            "{name}: {pods} pods"
        );
    }

    // One leader at a time, as each replica itself reported: never both;
    // while both lived, once elected, always exactly one.
    let samples = samples.lock().unwrap().clone();
    assert!(
        samples
            .iter()
            .all(|sample| *sample != (Some(true), Some(true))),
        "both replicas reported leading at once"
    );
    let dead_is_a = dead_identity == "replica-a";
    let leading = |sample: &(Option<bool>, Option<bool>)| {
        if dead_is_a {
            (sample.0, sample.1)
        } else {
            (sample.1, sample.0)
        }
    };
    let first_led = samples
        .iter()
        .position(|sample| leading(sample).0 == Some(true))
        .unwrap();
    let last_led = samples
        .iter()
        .rposition(|sample| leading(sample).0 == Some(true))
        .unwrap();
    for sample in &samples[first_led..=last_led] {
        assert_ne!(
            leading(sample).1,
            Some(true),
            "the standby led while the leader lived"
        );
    }
    assert!(
        samples[last_led + 1..]
            .iter()
            .all(|s| leading(s).0.is_none())
    );
    assert!(scrape(dead_metrics).await.is_none(), "the leader is dead");
    eprintln!(
        "failover: the standby took the lease {after_kill:?} after the kill \
         ({waited:?} after the last renewal; seen by the test after {took_over:?})"
    );
}
