//! Config file parsing, validation and flag precedence.

use std::time::Duration;

use clap::Parser;
use scheduler::profile::ScoringStrategy;

use super::file::apply_yaml;
use super::*;
use crate::Args;

fn parse(yaml: &str) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    apply_yaml(&mut config, yaml)?;
    config.validate()?;
    Ok(config)
}

/// Asserts the error mentions every fragment (field names, values).
fn check_error(yaml: &str, fragments: &[&str]) {
    let error = parse(yaml)
        .expect_err("config must be rejected")
        .to_string();
    for fragment in fragments {
        assert!(error.contains(fragment), "{error:?} lacks {fragment:?}");
    }
}

#[test]
fn empty_file_keeps_defaults() {
    let config = parse("{}").unwrap();
    assert_eq!(
        config.profiles,
        vec![ProfileConfig::named("default-scheduler")]
    );
    assert_eq!(config.queue.initial_backoff, Duration::from_secs(1));
    assert_eq!(config.queue.max_backoff, Duration::from_secs(10));
    assert!(config.leader_election.leader_elect);
    assert_eq!(
        config.leader_election.lease_duration,
        Duration::from_secs(15)
    );
}

#[test]
fn kube_scheduler_configuration_shape() {
    let config = parse(
        r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
parallelism: 3
percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
leaderElection:
  leaderElect: false
  leaseDuration: 4s
  renewDeadline: 3s
  retryPeriod: 500ms
  resourceLock: leases
  resourceName: my-scheduler
  resourceNamespace: sched
profiles:
  - schedulerName: default-scheduler
  - schedulerName: packer
    percentageOfNodesToScore: 100
    plugins:
      score:
        disabled:
          - name: NodeResourcesBalancedAllocation
          - name: ImageLocality
        enabled:
          - name: NodeAffinity
            weight: 7
      filter:
        disabled:
          - name: NodePorts
      postFilter:
        disabled:
          - name: DefaultPreemption
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: cpu
                weight: 2
              - name: memory
      - name: InterPodAffinity
        args:
          hardPodAffinityWeight: 5
"#,
    )
    .unwrap();
    assert_eq!(config.parallelism, 3);
    assert_eq!(config.queue.initial_backoff, Duration::from_secs(2));
    assert_eq!(config.queue.max_backoff, Duration::from_secs(20));
    let election = &config.leader_election;
    assert!(!election.leader_elect);
    assert_eq!(election.retry_period, Duration::from_millis(500));
    assert_eq!(
        (election.namespace.as_str(), election.lease_name.as_str()),
        ("sched", "my-scheduler")
    );
    let [default, packer] = &config.profiles[..] else {
        panic!("two profiles expected");
    };
    assert_eq!(default.profile.percentage_of_nodes_to_score, Some(30));
    assert!(default.preemption.is_some());
    assert_eq!(packer.profile.scheduler_name, "packer");
    assert_eq!(packer.profile.percentage_of_nodes_to_score, Some(100));
    assert!(packer.preemption.is_none());
    assert!(!packer.profile.filters.node_ports);
    assert!(packer.profile.filters.node_resources_fit);
    assert_eq!(packer.profile.weights.balanced_allocation, 0);
    assert_eq!(packer.profile.weights.image_locality, 0);
    assert_eq!(packer.profile.weights.node_affinity, 7);
    assert_eq!(packer.profile.weights.taint_toleration, 3);
    assert_eq!(packer.profile.fit_strategy, ScoringStrategy::MostAllocated);
    assert_eq!(packer.profile.fit_resources[0].weight, 2);
    assert_eq!(packer.profile.fit_resources[1].weight, 1);
    assert_eq!(packer.profile.hard_pod_affinity_weight, 5);
}

#[test]
fn multi_point_disables_every_extension_point() {
    let config = parse(
        r#"
profiles:
  - plugins:
      multiPoint:
        disabled:
          - name: TaintToleration
          - name: VolumeBinding
"#,
    )
    .unwrap();
    let profile = &config.profiles[0].profile;
    assert!(!profile.filters.taint_toleration);
    assert_eq!(profile.weights.taint_toleration, 0);
    assert!(profile.filters.node_affinity);
}

#[test]
fn wildcard_disables_then_enabled_list_restores() {
    let config = parse(
        r#"
profiles:
  - plugins:
      score:
        disabled: [{name: "*"}]
        enabled: [{name: NodeResourcesFit, weight: 1}]
"#,
    )
    .unwrap();
    let weights = &config.profiles[0].profile.weights;
    assert_eq!(weights.node_resources_fit, 1);
    assert_eq!(
        weights.taint_toleration + weights.image_locality + weights.node_affinity,
        0
    );
}

#[test]
fn requested_to_capacity_ratio_shape() {
    let config = parse(
        r#"
profiles:
  - pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: RequestedToCapacityRatio
            requestedToCapacityRatio:
              shape:
                - {utilization: 0, score: 10}
                - {utilization: 100, score: 0}
"#,
    )
    .unwrap();
    assert!(matches!(
        config.profiles[0].profile.fit_strategy,
        ScoringStrategy::RequestedToCapacityRatio { ref shape } if shape.len() == 2
    ));
}

#[test]
fn skiff_options() {
    let config = parse(
        r#"
algorithm: noop
batchSize: 64
bindChunkSize: 32
maxBindsInFlight: 2
podInitialBackoff: 50ms
podMaxBackoff: 200ms
podMaxInUnschedulablePodsDuration: 1m
unschedulableFlushInterval: 2s
failedSchedulingReportInterval: 100ms
shards: {count: 3, index: 2}
metricsListen: off
seed: 7
"#,
    )
    .unwrap();
    assert_eq!(config.algorithm, Algorithm::Noop);
    assert_eq!(
        (
            config.batch_size,
            config.bind_chunk_size,
            config.max_binds_in_flight
        ),
        (64, 32, 2)
    );
    assert_eq!(config.queue.initial_backoff, Duration::from_millis(50));
    assert_eq!(
        config.queue.max_unschedulable_duration,
        Duration::from_secs(60)
    );
    assert_eq!(config.shards, ShardConfig { count: 3, index: 2 });
    assert_eq!(config.metrics_listen, None);
    assert_eq!(config.own_lease_name(), "kube-scheduler-shard-2");
    assert!(config.uses_leases());
}

#[test]
fn unknown_fields_are_rejected_by_name() {
    check_error("percentageOfNodesToScor: 5", &["percentageOfNodesToScor"]);
    check_error(
        "leaderElection: {leaseDurationSeconds: 5}",
        &["leaseDurationSeconds"],
    );
    check_error("profiles: [{schedulerName: a, plugin: {}}]", &["plugin"]);
    check_error(
        "profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {typ: MostAllocated}}}]}]",
        &["profiles[0].pluginConfig[0].args", "typ"],
    );
}

#[test]
fn invalid_values_name_their_field() {
    check_error("batchSize: 0", &["batchSize", "at least 1"]);
    check_error("shards: {count: 2, index: 2}", &["shards.index"]);
    check_error(
        "percentageOfNodesToScore: 101",
        &["percentageOfNodesToScore"],
    );
    check_error("podInitialBackoff: soon", &["podInitialBackoff", "soon"]);
    check_error(
        "podInitialBackoff: 1s\npodInitialBackoffSeconds: 1",
        &["podInitialBackoff"],
    );
    check_error(
        "leaderElection: {leaseDuration: 2s, renewDeadline: 3s}",
        &["leaderElection.renewDeadline"],
    );
    check_error(
        "leaderElection: {resourceLock: endpoints}",
        &["resourceLock"],
    );
    check_error(
        "profiles: [{schedulerName: a}, {schedulerName: a}]",
        &["profiles[1].schedulerName", "duplicate"],
    );
    check_error(
        "profiles: [{plugins: {score: {enabled: [{name: Magic}]}}}]",
        &["profiles[0].plugins.score.enabled[0].name", "Magic"],
    );
    check_error(
        "profiles: [{plugins: {filter: {enabled: [{name: ImageLocality}]}}}]",
        &["profiles[0].plugins.filter.enabled[0].name"],
    );
    check_error(
        "profiles: [{plugins: {score: {enabled: [{name: NodeAffinity, weight: 0}]}}}]",
        &["weight"],
    );
    check_error(
        "profiles: [{plugins: {filter: {enabled: [{name: VolumeBinding}]}}}]",
        &["VolumeBinding"],
    );
    check_error(
        "profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: RequestedToCapacityRatio}}}]}]",
        &["requestedToCapacityRatio", "required"],
    );
    check_error(
        "profiles: [{pluginConfig: [{name: DefaultPreemption, args: {minCandidateNodesPercentage: 120}}]}]",
        &["minCandidateNodesPercentage"],
    );
    check_error("kind: Pod", &["kind"]);
    check_error("algorithm: fastest", &["algorithm", "fastest"]);
}

#[test]
fn flags_override_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        "batchSize: 64\npercentageOfNodesToScore: 20\nshards: {count: 4, index: 1}\n",
    )
    .unwrap();
    let args = Args::parse_from([
        "scheduler",
        "--config",
        path.to_str().unwrap(),
        "--batch-size",
        "128",
        "--shard-index",
        "3",
        "--percentage-of-nodes-to-score",
        "100",
        "--leader-elect=false",
        "--pod-initial-backoff",
        "10ms",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let config = args.into_config().unwrap();
    assert_eq!(config.batch_size, 128);
    assert_eq!(config.shards, ShardConfig { count: 4, index: 3 });
    assert_eq!(
        config.profiles[0].profile.percentage_of_nodes_to_score,
        Some(100)
    );
    assert!(!config.leader_election.leader_elect);
    assert_eq!(config.queue.initial_backoff, Duration::from_millis(10));
    assert_eq!(config.metrics_listen, Some("127.0.0.1:0".parse().unwrap()));
}

#[test]
fn scheduler_names_copy_the_single_profile() {
    let config = Args::parse_from([
        "scheduler",
        "--apiserver",
        "10.0.0.1:6443",
        "--algorithm",
        "skiff",
        "--percentage-of-nodes-to-score",
        "100",
        "--scheduler-name",
        "a",
        "--scheduler-name",
        "b",
    ])
    .into_config()
    .unwrap();
    assert_eq!(config.server.as_deref(), Some("10.0.0.1:6443"));
    assert_eq!(config.algorithm, Algorithm::Default);
    let names: Vec<&str> = config
        .profiles
        .iter()
        .map(|profile| profile.profile.scheduler_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(
        config
            .profiles
            .iter()
            .all(|profile| profile.profile.percentage_of_nodes_to_score == Some(100))
    );
}

#[test]
fn bad_flags_and_files_are_reported() {
    let error = Args::parse_from(["scheduler", "--shards", "2", "--shard-index", "5"])
        .into_config()
        .unwrap_err();
    assert!(error.to_string().contains("shards.index"), "{error}");
    let error = Args::parse_from(["scheduler", "--config", "/nonexistent/skiff.yaml"])
        .into_config()
        .unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/skiff.yaml"),
        "{error}"
    );
    assert!(Args::try_parse_from(["scheduler", "--pod-max-backoff", "ten"]).is_err());
}

#[test]
fn kubernetes_defaults_name_profile_and_lease_skiff_scheduler() {
    let config = Config::for_backend(BackendKind::Kubernetes);
    assert_eq!(config.backend, BackendKind::Kubernetes);
    assert_eq!(
        config.profiles,
        vec![ProfileConfig::named("skiff-scheduler")]
    );
    assert_eq!(config.leader_election.lease_name, "skiff-scheduler");
    assert_eq!(config.leader_election.namespace, "kube-system");
    assert_eq!(
        config.leader_election.lease_duration,
        Duration::from_secs(15)
    );
    assert_eq!(
        config.leader_election.renew_deadline,
        Duration::from_secs(10)
    );
    assert_eq!(config.leader_election.retry_period, Duration::from_secs(2));
    let skiff = Config::default();
    assert_eq!(skiff.backend, BackendKind::Skiff);
    assert_eq!(skiff.leader_election.lease_name, "kube-scheduler");
}

/// The flags of the Kubernetes backend, and the file applied over its
/// defaults; without the `kube-backend` feature the backend is refused.
#[test]
fn backend_flags_and_file_over_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "batchSize: 64\n").unwrap();
    let result = Args::parse_from([
        "scheduler",
        "--backend",
        "kubernetes",
        "--kubeconfig",
        "/etc/skiff/admin.kubeconfig",
        "--config",
        path.to_str().unwrap(),
        "--scheduler-name",
        "skiff-a",
        "--scheduler-name",
        "skiff-b",
    ])
    .into_config();
    if !cfg!(feature = "kube-backend") {
        let error = result.unwrap_err().to_string();
        assert!(error.contains("kube-backend"), "{error}");
        return;
    }
    let config = result.unwrap();
    assert_eq!(config.backend, BackendKind::Kubernetes);
    assert_eq!(
        config.kubeconfig.as_deref(),
        Some(std::path::Path::new("/etc/skiff/admin.kubeconfig"))
    );
    assert_eq!(config.batch_size, 64);
    let names: Vec<&str> = config
        .profiles
        .iter()
        .map(|profile| profile.profile.scheduler_name.as_str())
        .collect();
    assert_eq!(names, ["skiff-a", "skiff-b"]);
    assert_eq!(config.leader_election.lease_name, "skiff-scheduler");
}

#[test]
fn a_file_naming_its_profiles_wins_over_the_backend_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        "profiles:\n  - schedulerName: gpu-scheduler\nleaderElection:\n  resourceName: gpu\n",
    )
    .unwrap();
    let config = load_file_over(&path, Config::for_backend(BackendKind::Kubernetes)).unwrap();
    assert_eq!(config.profiles, vec![ProfileConfig::named("gpu-scheduler")]);
    assert_eq!(config.leader_election.lease_name, "gpu");
    assert_eq!(config.backend, BackendKind::Kubernetes);
}
