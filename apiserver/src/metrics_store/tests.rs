use std::time::{Duration, SystemTime};

use client::proto;

use super::*;

const TTL: Duration = Duration::from_secs(60);

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
}

fn container(name: &str, milli_cpu: u64, memory_bytes: u64) -> ContainerSample {
    ContainerSample {
        name: name.to_string(),
        usage: Usage {
            cpu_nanocores: milli_cpu * 1_000_000,
            memory_bytes,
        },
    }
}

fn pod(namespace: &str, name: &str, containers: Vec<ContainerSample>) -> PodSample {
    PodSample {
        namespace: namespace.to_string(),
        name: name.to_string(),
        containers,
    }
}

fn node(name: &str, milli_cpu: u64, pods: Vec<PodSample>) -> NodeSample {
    NodeSample {
        name: name.to_string(),
        window: Window {
            timestamp_unix_millis: 1_800_000_000_000,
            window: Duration::from_secs(15),
        },
        usage: Usage {
            cpu_nanocores: milli_cpu * 1_000_000,
            memory_bytes: 1 << 30,
        },
        pods,
    }
}

fn cpu_of(store: &MetricsStore, name: &str, now: SystemTime) -> Option<u64> {
    store
        .node(name, now)
        .map(|sample| sample.usage.cpu_nanocores / 1_000_000)
}

fn pod_containers(
    store: &MetricsStore,
    namespace: &str,
    name: &str,
    now: SystemTime,
) -> Option<Vec<String>> {
    store
        .pods([(namespace, name)], now)
        .pop()
        .flatten()
        .map(|pod| pod.containers.into_iter().map(|c| c.name).collect())
}

#[test]
fn the_latest_sample_of_a_node_wins() {
    let store = MetricsStore::new(TTL);
    store.report(
        vec![node("n-0", 100, vec![]), node("n-1", 200, vec![])],
        at(0),
    );
    store.report(vec![node("n-0", 300, vec![])], at(10));
    assert_eq!(cpu_of(&store, "n-0", at(11)), Some(300));
    assert_eq!(cpu_of(&store, "n-1", at(11)), Some(200));
    assert_eq!(cpu_of(&store, "n-2", at(11)), None);
}

#[test]
fn samples_past_the_ttl_are_not_served_and_are_dropped() {
    let store = MetricsStore::new(TTL);
    let web = pod("default", "web", vec![container("c", 10, 1024)]);
    store.report(vec![node("old", 100, vec![web])], at(0));
    store.report(vec![node("new", 100, vec![])], at(50));
    assert_eq!(cpu_of(&store, "old", at(60)), Some(100));
    assert!(pod_containers(&store, "default", "web", at(60)).is_some());
    // Past the TTL: not served, though still held until the next report.
    assert_eq!(cpu_of(&store, "old", at(61)), None);
    assert_eq!(pod_containers(&store, "default", "web", at(61)), None);
    assert_eq!(cpu_of(&store, "new", at(61)), Some(100));
    // A clock that stepped back still serves what it received "later".
    assert_eq!(cpu_of(&store, "new", at(40)), Some(100));
    store.report(vec![node("new", 150, vec![])], at(70));
    let held = store.lock();
    assert!(!held.nodes.contains_key("old"));
    assert!(held.pods.is_empty());
}

#[test]
fn a_pod_gone_from_its_nodes_sample_is_gone() {
    let store = MetricsStore::new(TTL);
    let web = || {
        pod(
            "default",
            "web",
            vec![container("app", 10, 1024), container("sidecar", 1, 512)],
        )
    };
    let db = pod("data", "db", vec![container("pg", 50, 4096)]);
    store.report(vec![node("n-0", 100, vec![web(), db])], at(0));
    assert_eq!(
        pod_containers(&store, "default", "web", at(1)),
        Some(vec!["app".to_string(), "sidecar".to_string()])
    );
    assert!(pod_containers(&store, "data", "db", at(1)).is_some());
    // The pod stopped: the next sample of its node leaves it out.
    store.report(vec![node("n-0", 100, vec![web()])], at(10));
    assert_eq!(pod_containers(&store, "data", "db", at(11)), None);
    assert!(pod_containers(&store, "default", "web", at(11)).is_some());
    // The same name in another namespace is another pod.
    assert_eq!(pod_containers(&store, "other", "web", at(11)), None);
}

#[test]
fn a_pod_that_moved_is_read_from_its_new_node() {
    let store = MetricsStore::new(TTL);
    let web = |milli_cpu| pod("default", "web", vec![container("app", milli_cpu, 1024)]);
    store.report(vec![node("n-0", 100, vec![web(10)])], at(0));
    store.report(vec![node("n-1", 100, vec![web(20)])], at(5));
    // The old node's next sample without the pod does not forget it.
    store.report(vec![node("n-0", 100, vec![])], at(10));
    let pods = store.pods([("default", "web")], at(11));
    let containers = &pods[0].as_ref().unwrap().containers;
    assert_eq!(containers[0].usage.cpu_nanocores, 20_000_000);
}

fn request(nodes: Vec<proto::NodeUsage>) -> proto::ReportUsageRequest {
    proto::ReportUsageRequest { nodes }
}

fn wire_node(name: &str, pods: Vec<proto::PodUsage>) -> proto::NodeUsage {
    proto::NodeUsage {
        name: name.to_string(),
        timestamp_unix_millis: 1_800_000_000_000,
        window_millis: 15_000,
        cpu_nanocores: 1,
        memory_working_set_bytes: 2,
        pods,
    }
}

fn wire_pod(namespace: &str, name: &str, containers: &[&str]) -> proto::PodUsage {
    proto::PodUsage {
        namespace: namespace.to_string(),
        name: name.to_string(),
        containers: containers
            .iter()
            .map(|name| proto::ContainerUsage {
                name: name.to_string(),
                cpu_nanocores: 3,
                memory_working_set_bytes: 4,
            })
            .collect(),
    }
}

fn fields_of(error: ApiError) -> Vec<String> {
    match error {
        ApiError::Invalid { errors, .. } => errors.0.iter().map(ToString::to_string).collect(),
        other => panic!("not an Invalid error: {other}"),
    }
}

#[test]
fn valid_reports_become_samples() {
    let samples = validate_report(request(vec![wire_node(
        "n-0",
        vec![wire_pod("default", "web", &["app"])],
    )]))
    .unwrap();
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].window.window, Duration::from_secs(15));
    assert_eq!(
        samples[0].usage,
        Usage {
            cpu_nanocores: 1,
            memory_bytes: 2
        }
    );
    assert_eq!(
        samples[0].pods[0].containers[0],
        ContainerSample {
            name: "app".to_string(),
            usage: Usage {
                cpu_nanocores: 3,
                memory_bytes: 4
            }
        }
    );
}

#[test]
fn bad_reports_name_each_field() {
    let mut bad_window = wire_node("n-1", vec![]);
    bad_window.window_millis = 0;
    bad_window.timestamp_unix_millis = -5;
    let error = validate_report(request(vec![
        wire_node("", vec![]),
        wire_node(
            "n-0",
            vec![wire_pod("", "web", &[""]), wire_pod("default", "", &["c"])],
        ),
        wire_node("n-0", vec![]),
        bad_window,
        wire_node(&"n".repeat(254), vec![]),
    ]))
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("NodeMetrics \"\" is invalid: "),
        "{error}"
    );
    assert_eq!(
        fields_of(error),
        [
            "nodes[0].name: Required value",
            "nodes[1].pods[0].namespace: Required value",
            "nodes[1].pods[0].containers[0].name: Required value",
            "nodes[1].pods[1].name: Required value",
            "nodes[2].name: Duplicate value: \"n-0\"",
            "nodes[3].timestampUnixMillis: Invalid value: -5: must be after the Unix epoch",
            "nodes[3].windowMillis: Invalid value: 0: must be positive",
            "nodes[4].name: Too long: may not be more than 253 bytes",
        ]
    );
    let crowded = wire_node(
        "n-0",
        (0..=MAX_PODS_PER_NODE)
            .map(|index| wire_pod("default", &format!("p-{index}"), &["c"]))
            .collect(),
    );
    assert_eq!(
        fields_of(validate_report(request(vec![crowded])).unwrap_err()),
        ["nodes[0].pods: Too many: 1001: must have at most 1000 items"]
    );
}
