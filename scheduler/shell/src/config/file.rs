//! The YAML config file: kube-scheduler's `KubeSchedulerConfiguration`
//! shape (profiles, plugins, pluginConfig, leaderElection,
//! percentageOfNodesToScore, parallelism, backoffs) plus Skiff's options
//! (batching, shards, algorithm). Raw serde structs reject unknown fields
//! by name; `apply` turns them into a [`Config`] with field paths on errors.

use std::path::Path;
use std::time::Duration;

use scheduler::preemption::PreemptionConfig;
use serde::Deserialize;

use super::plugins::{PluginState, Point, RawPluginSet, apply_plugin_args};
use super::{Algorithm, Config, ConfigError, ProfileConfig, invalid};
use api::duration::parse_duration;

/// Reads `path` and applies it over `Config::default()`.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    load_file_over(path, Config::default())
}

/// Reads `path` and applies it over `base` (e.g. a backend's defaults).
pub fn load_file_over(path: &Path, base: Config) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config = base;
    apply_yaml(&mut config, &text).map_err(|error| match error {
        ConfigError::Invalid { field, message } => ConfigError::Parse {
            path: path.to_path_buf(),
            message: format!("{field}: {message}"),
        },
        other => other,
    })?;
    Ok(config)
}

/// Applies a YAML document to `config`.
pub(crate) fn apply_yaml(config: &mut Config, text: &str) -> Result<(), ConfigError> {
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|error| ConfigError::Parse {
        path: Default::default(),
        message: error.to_string(),
    })?;
    raw.apply(config)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    api_version: Option<String>,
    kind: Option<String>,
    server: Option<String>,
    algorithm: Option<String>,
    parallelism: Option<usize>,
    percentage_of_nodes_to_score: Option<u32>,
    batch_size: Option<usize>,
    bind_chunk_size: Option<usize>,
    max_binds_in_flight: Option<usize>,
    pod_initial_backoff_seconds: Option<u64>,
    pod_max_backoff_seconds: Option<u64>,
    pod_initial_backoff: Option<String>,
    pod_max_backoff: Option<String>,
    pod_max_in_unschedulable_pods_duration: Option<String>,
    unschedulable_flush_interval: Option<String>,
    failed_scheduling_report_interval: Option<String>,
    leader_election: Option<RawLeaderElection>,
    shards: Option<RawShards>,
    metrics_listen: Option<String>,
    seed: Option<u64>,
    profiles: Option<Vec<RawProfile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLeaderElection {
    leader_elect: Option<bool>,
    lease_duration: Option<String>,
    renew_deadline: Option<String>,
    retry_period: Option<String>,
    resource_lock: Option<String>,
    resource_name: Option<String>,
    resource_namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawShards {
    count: Option<u32>,
    index: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProfile {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<u32>,
    plugins: Option<RawPlugins>,
    plugin_config: Option<Vec<RawPluginConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPlugins {
    multi_point: Option<RawPluginSet>,
    filter: Option<RawPluginSet>,
    score: Option<RawPluginSet>,
    post_filter: Option<RawPluginSet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginConfig {
    name: String,
    args: Option<serde_json::Value>,
}

fn duration(field: &str, text: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).map_err(|error| invalid(field, error.to_string()))
}

impl RawConfig {
    fn apply(self, config: &mut Config) -> Result<(), ConfigError> {
        if let Some(api_version) = &self.api_version
            && !api_version.starts_with("kubescheduler.config.k8s.io/")
        {
            return Err(invalid(
                "apiVersion",
                format!("expected kubescheduler.config.k8s.io/v1, got {api_version:?}"),
            ));
        }
        if let Some(kind) = &self.kind
            && kind != "KubeSchedulerConfiguration"
        {
            return Err(invalid(
                "kind",
                format!("expected KubeSchedulerConfiguration, got {kind:?}"),
            ));
        }
        if let Some(server) = self.server {
            config.server = Some(server);
        }
        if let Some(algorithm) = self.algorithm {
            config.algorithm = match algorithm.as_str() {
                "default" | "skiff" => Algorithm::Default,
                "noop" => Algorithm::Noop,
                other => {
                    return Err(invalid(
                        "algorithm",
                        format!("expected default or noop, got {other:?}"),
                    ));
                }
            };
        }
        if let Some(parallelism) = self.parallelism {
            config.parallelism = parallelism;
        }
        if let Some(size) = self.batch_size {
            config.batch_size = size;
        }
        if let Some(size) = self.bind_chunk_size {
            config.bind_chunk_size = size;
        }
        if let Some(count) = self.max_binds_in_flight {
            config.max_binds_in_flight = count;
        }
        match (self.pod_initial_backoff_seconds, self.pod_initial_backoff) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "podInitialBackoff",
                    "set either podInitialBackoff or podInitialBackoffSeconds",
                ));
            }
            (Some(seconds), None) => config.queue.initial_backoff = Duration::from_secs(seconds),
            (None, Some(text)) => {
                config.queue.initial_backoff = duration("podInitialBackoff", &text)?
            }
            (None, None) => {}
        }
        match (self.pod_max_backoff_seconds, self.pod_max_backoff) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "podMaxBackoff",
                    "set either podMaxBackoff or podMaxBackoffSeconds",
                ));
            }
            (Some(seconds), None) => config.queue.max_backoff = Duration::from_secs(seconds),
            (None, Some(text)) => config.queue.max_backoff = duration("podMaxBackoff", &text)?,
            (None, None) => {}
        }
        if let Some(text) = self.pod_max_in_unschedulable_pods_duration {
            config.queue.max_unschedulable_duration =
                duration("podMaxInUnschedulablePodsDuration", &text)?;
        }
        if let Some(text) = self.unschedulable_flush_interval {
            config.queue.unschedulable_flush_interval =
                duration("unschedulableFlushInterval", &text)?;
        }
        if let Some(text) = self.failed_scheduling_report_interval {
            config.failed_scheduling_report_interval =
                duration("failedSchedulingReportInterval", &text)?;
        }
        if let Some(election) = self.leader_election {
            election.apply(config)?;
        }
        if let Some(shards) = self.shards {
            if let Some(count) = shards.count {
                config.shards.count = count;
            }
            if let Some(index) = shards.index {
                config.shards.index = index;
            }
        }
        if let Some(listen) = self.metrics_listen {
            config.metrics_listen =
                parse_listen(&listen).map_err(|message| invalid("metricsListen", message))?;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(profiles) = self.profiles {
            config.profiles = profiles
                .into_iter()
                .enumerate()
                .map(|(index, raw)| raw.build(index, self.percentage_of_nodes_to_score))
                .collect::<Result<Vec<_>, _>>()?;
        } else if let Some(percentage) = self.percentage_of_nodes_to_score {
            for profile in &mut config.profiles {
                profile.profile.percentage_of_nodes_to_score = Some(percentage);
            }
        }
        if let Some(percentage) = self.percentage_of_nodes_to_score
            && percentage > 100
        {
            return Err(invalid(
                "percentageOfNodesToScore",
                format!("must be in 0..=100, got {percentage}"),
            ));
        }
        Ok(())
    }
}

/// `host:port`, or `off` for none.
pub(crate) fn parse_listen(text: &str) -> Result<Option<std::net::SocketAddr>, String> {
    if text == "off" || text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("expected host:port or off, got {text:?}"))
}

impl RawLeaderElection {
    fn apply(self, config: &mut Config) -> Result<(), ConfigError> {
        let election = &mut config.leader_election;
        if let Some(on) = self.leader_elect {
            election.leader_elect = on;
        }
        if let Some(lock) = self.resource_lock
            && lock != "leases"
        {
            return Err(invalid(
                "leaderElection.resourceLock",
                format!("only leases is supported, got {lock:?}"),
            ));
        }
        if let Some(name) = self.resource_name {
            election.lease_name = name;
        }
        if let Some(namespace) = self.resource_namespace {
            election.namespace = namespace;
        }
        if let Some(text) = self.lease_duration {
            election.lease_duration = duration("leaderElection.leaseDuration", &text)?;
        }
        if let Some(text) = self.renew_deadline {
            election.renew_deadline = duration("leaderElection.renewDeadline", &text)?;
        }
        if let Some(text) = self.retry_period {
            election.retry_period = duration("leaderElection.retryPeriod", &text)?;
        }
        Ok(())
    }
}

impl RawProfile {
    fn build(
        self,
        index: usize,
        global_percentage: Option<u32>,
    ) -> Result<ProfileConfig, ConfigError> {
        let field = format!("profiles[{index}]");
        let name = self
            .scheduler_name
            .unwrap_or_else(|| "default-scheduler".to_string());
        let mut config = ProfileConfig::named(&name);
        let profile = &mut config.profile;
        profile.percentage_of_nodes_to_score =
            self.percentage_of_nodes_to_score.or(global_percentage);
        let mut state = PluginState {
            filters: [true; 8],
            weights: PluginState::default_weights(),
            preemption: true,
        };
        if let Some(plugins) = self.plugins {
            let lists = [
                ("multiPoint", None, plugins.multi_point),
                ("filter", Some(Point::Filter), plugins.filter),
                ("score", Some(Point::Score), plugins.score),
                ("postFilter", Some(Point::PostFilter), plugins.post_filter),
            ];
            for (name, point, set) in lists {
                if let Some(set) = set {
                    state.apply(&format!("{field}.plugins.{name}"), point, set)?;
                }
            }
        }
        state.write(profile);
        let mut preemption = PreemptionConfig::default();
        for (config_index, plugin) in self
            .plugin_config
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let at = format!("{field}.pluginConfig[{config_index}]");
            let args = plugin
                .args
                .unwrap_or(serde_json::Value::Object(Default::default()));
            apply_plugin_args(&at, &plugin.name, args, profile, &mut preemption)?;
        }
        config.preemption = state.preemption.then_some(preemption);
        Ok(config)
    }
}
