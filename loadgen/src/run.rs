//! One load run: start (or connect to) a cluster, watch it from the start,
//! create the scenario's pods, wait until every pod is done or the timeout
//! passes, and build the report (and the recording for `--verify`).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use client::{Client, ListParams};
use tokio::time::Instant;

use crate::cli::{ApiFace, RunArgs, Until};
use crate::cluster::{Cluster, ClusterSpec};
use crate::driver::{CreateOutcome, churn, create_phase};
use crate::observe::{Observed, Observer};
use crate::progress::Progress;
use crate::report::{
    PendingPod, Report, Unschedulable, VerifySummary, latency, scheduling_reasons, throughput,
};
use crate::scenario::{Plan, Sizes};
use crate::verify::{Recording, verify};
use crate::{Error, procstat, profile, templates};

/// How often the driver looks at progress, deadlines and children.
const POLL: Duration = Duration::from_millis(50);
/// Longest wait for the watch to deliver what the final listing shows; a
/// healthy watch is milliseconds behind.
const WATCH_CATCH_UP: Duration = Duration::from_secs(30);
/// Violations listed in the report (all are counted).
const LISTED_VIOLATIONS: usize = 50;
/// Pending pods listed on timeout.
const LISTED_PENDING: usize = 30;

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: Report,
    /// The watch recording, when `--verify` or `--record` asked for it.
    pub recording: Option<Recording>,
}

impl RunOutcome {
    /// Whether the run should exit with success: not timed out, and clean
    /// when verified.
    pub fn succeeded(&self) -> bool {
        !self.report.timed_out && self.report.verify.as_ref().is_none_or(|v| v.clean)
    }
}

/// Runs the load described by `args`. `exe` is the binary with the hidden
/// `component` subcommand (for the embedded cluster).
pub async fn run(args: &RunArgs, exe: PathBuf) -> Result<RunOutcome, Error> {
    args.validate()?;
    let node_template = templates::node_template(args.node_template.as_deref())?;
    let pod_template = templates::pod_template(args.pod_template.as_deref())?;
    let sizes = Sizes {
        pods: args.pods,
        nodes: args.nodes,
        shards: args.shards,
    };
    let plan = Arc::new(Plan::new(
        args.scenario,
        sizes,
        &node_template,
        pod_template,
    ));
    let spec = ClusterSpec {
        exe,
        store: args.store,
        data_dir: args.data_dir.clone(),
        scheduler: args.scheduler,
        shards: plan.scheduler_shards,
        scheduler_names: plan.scheduler_names.clone(),
        node_groups: plan.node_groups.clone(),
        zones: args.zones,
        seed: args.seed,
        pod_start_delay: args.pod_start_delay.clone(),
        log_dir: args.log_dir.clone(),
        log_filter: args.component_log.clone(),
        grpc_security: !args.grpc_plain_http,
        controllers: args.controllers,
    };
    let mut cluster = match &args.server {
        Some(_) => None,
        None => Some(Cluster::start(&spec).await?),
    };
    let client = connect(args, cluster.as_ref()).await?;
    let namespace = format!("loadgen-{}-{}", args.seed, unique_suffix());
    let record = args.verify || args.record.is_some();
    let observer = Observer::new(&namespace, record);
    let watches = observer.start(&client).await;
    let result = drive(
        args,
        &plan,
        &spec,
        cluster.as_mut(),
        &client,
        &namespace,
        &observer,
    )
    .await;
    for watch in &watches {
        watch.abort();
    }
    let mut outcome = result?;
    if let Some(cluster) = &cluster {
        outcome.report.components = cluster.usage();
    }
    if let Some(own) = procstat::usage("loadgen", std::process::id()) {
        outcome.report.components.push(own);
    }
    drop(cluster);
    Ok(outcome)
}

/// A client of the cluster over `--api`: of `--server` (with
/// `--kubeconfig`'s credentials) or of the embedded cluster. Each call
/// makes its own connection.
async fn connect(args: &RunArgs, cluster: Option<&Cluster>) -> Result<Client, Error> {
    match (&args.server, cluster, args.api) {
        (None, Some(cluster), api) => cluster.client(api).await,
        (Some(address), _, ApiFace::Grpc) => {
            let connection = client::kubeconfig::Connection::resolve(
                args.kubeconfig.as_deref(),
                Some(address),
                address,
            )
            .map_err(|source| Error::api("--kubeconfig", source.into()))?;
            Client::grpc(&connection)
                .await
                .map_err(|source| Error::api(format!("connecting to --server {address}"), source))
        }
        (server, _, ApiFace::Rest) => {
            let Some(path) = &args.kubeconfig else {
                return Err(Error::Flag {
                    flag: "--kubeconfig",
                    message: "--api rest against --server needs the cluster's kubeconfig".into(),
                });
            };
            let mut connection =
                client::kubeconfig::Connection::from_kubeconfig(path).map_err(|source| {
                    Error::api(format!("--kubeconfig {}", path.display()), source.into())
                })?;
            if let Some(server) = server {
                connection.server = server.clone();
            }
            Client::rest(&connection).map_err(|source| {
                Error::api(format!("a REST client of {}", connection.server), source)
            })
        }
        (None, None, ApiFace::Grpc) => Err(Error::Component {
            component: "cluster".to_string(),
            message: "neither --server nor an embedded cluster".to_string(),
        }),
    }
}

/// A suffix that keeps namespaces of runs against one server apart.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}", nanos % 0xffff_ffff)
}

#[allow(clippy::too_many_arguments, reason = "the whole context of one run")]
async fn drive(
    args: &RunArgs,
    plan: &Arc<Plan>,
    spec: &ClusterSpec,
    mut cluster: Option<&mut Cluster>,
    client: &Client,
    namespace: &str,
    observer: &Observer,
) -> Result<RunOutcome, Error> {
    let until_running = args.until == Until::Running;
    let progress = Progress::new(args.quiet, plan.planned_pods(), plan.planned_nodes());
    // Components that need the apiserver, then their nodes.
    let expected_nodes = if let Some(cluster) = cluster.as_deref_mut() {
        cluster.start_kubelets(spec)?;
        cluster.start_schedulers(spec)?;
        cluster.start_controllers(spec)?;
        plan.planned_nodes()
    } else {
        1
    };
    let setup_budget = Duration::from_secs(120) + Duration::from_millis(20 * expected_nodes as u64);
    let setup_deadline = Instant::now() + setup_budget;
    loop {
        let ready = observer.lock().nodes_ready;
        progress.nodes(ready);
        if ready >= expected_nodes {
            break;
        }
        if let Some(cluster) = cluster.as_deref_mut() {
            cluster.check_alive()?;
        }
        if Instant::now() > setup_deadline {
            return Err(Error::NodesNotReady {
                ready,
                expected: expected_nodes,
                seconds: setup_budget.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
    progress.nodes_done();
    create_namespace(client, namespace, plan).await?;
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(connect(args, cluster.as_deref()).await?);
    }

    let started = Instant::now();
    let deadline = started + args.timeout();
    let mut created = CreateOutcome::default();
    let mut measure_start = None;
    let mut profile_task = None;
    let (stop_churn, churn_stopped) = tokio::sync::watch::channel(false);
    let mut churn_task = None;
    let mut timed_out = false;
    'phases: for phase in &plan.phases {
        if phase.barrier_before {
            let expected = created.created;
            let reached = wait_until(&progress, observer, cluster.as_deref_mut(), deadline, |o| {
                o.created >= expected && o.unbound() == 0
            })
            .await?;
            if !reached {
                timed_out = true;
                break 'phases;
            }
        }
        if phase.measured && measure_start.is_none() {
            measure_start = Some(observer.lock().start.elapsed());
            if let (Some(path), Some(cluster)) = (&args.profile, cluster.as_deref()) {
                profile_task = Some(tokio::spawn(profile::record(
                    cluster.scheduler_metrics.first().copied(),
                    cluster.apiserver_debug,
                    path.clone(),
                    args.profile_seconds,
                )));
            }
            if let Some(churn_plan) = plan.churn {
                churn_task = Some(tokio::spawn(churn(
                    client.clone(),
                    namespace.to_string(),
                    plan.clone(),
                    churn_plan,
                    observer.clone(),
                    churn_stopped.clone(),
                )));
            }
        }
        let creating = create_phase(&clients, namespace, plan, phase, args.rate, args.batch_size);
        let outcome = tokio::select! {
            outcome = creating => outcome?,
            () = tokio::time::sleep_until(deadline) => {
                timed_out = true;
                break 'phases;
            }
        };
        created.created += outcome.created;
        created.failed += outcome.failed;
        created.errors.extend(outcome.errors);
    }
    if !timed_out {
        let expected = created.created;
        let reached = wait_until(&progress, observer, cluster, deadline, |o| {
            let measured_bound = o.created >= expected && o.unbound() == 0;
            measured_bound && o.not_done(until_running) == 0
        })
        .await?;
        timed_out = !reached;
    }
    let _ = stop_churn.send(true);
    if let Some(task) = churn_task {
        match task.await {
            Ok(Ok(outcome)) => {
                created.created += outcome.created;
                created.failed += outcome.failed;
                created.errors.extend(outcome.errors);
            }
            Ok(Err(error)) => return Err(error),
            Err(error) => created.errors.push(format!("churn: {error}")),
        }
    }
    progress.finish();
    let mut warnings = Vec::new();
    if let Some(task) = profile_task {
        match tokio::time::timeout(Duration::from_secs(args.profile_seconds + 60), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => warnings.push(format!("--profile: {error}")),
            Ok(Err(error)) => warnings.push(format!("--profile: {error}")),
            Err(_) => warnings.push("--profile: no flamegraph in time".to_string()),
        }
    }
    let failed_scheduling = failed_scheduling_messages(client, namespace).await;
    let final_pods = if observer.lock().recording.is_some() {
        let listed = client
            .list_all::<Pod>("", &ListParams::default())
            .await
            .map_err(|source| Error::api("listing the final pods", source))?;
        let behind = watch_catch_up(observer, &listed.items).await;
        if behind > 0 {
            warnings.push(format!(
                "the watch had not delivered {behind} pod(s) of the final listing after {} s: the final-state check reports them",
                WATCH_CATCH_UP.as_secs()
            ));
        }
        Some(listed)
    } else {
        None
    };
    let (mut report, recording) = {
        let mut observed = observer.lock();
        let mut recording = observed.recording.take();
        if let (Some(recording), Some(listed)) = (recording.as_mut(), final_pods.as_ref()) {
            recording.set_final_pods(&listed.items, &listed.resource_version);
        }
        if observed.relists > 0 {
            warnings.push(format!(
                "the watch fell behind and relisted {} time(s): pods bound or running during a gap are timed when the relist saw them",
                observed.relists
            ));
        }
        warnings.extend(observed.watch_errors.iter().take(10).cloned());
        let report = build_report(
            args,
            plan,
            &observed,
            measure_start.unwrap_or_default(),
            &created,
            &failed_scheduling,
            timed_out,
            until_running,
            warnings,
            recording.as_ref(),
        );
        (report, recording)
    };
    add_server_view(client, namespace, &mut report.pending).await;
    Ok(RunOutcome { report, recording })
}

/// Adds to each pod listed as not done what the apiserver says of it now,
/// so a pod the cluster finished but the run's watch never reported (a
/// lost event) reads differently from one the cluster never finished.
async fn add_server_view(client: &Client, namespace: &str, pending: &mut [PendingPod]) {
    for pod in pending {
        let view = match client.get::<Pod>(namespace, &pod.name).await {
            Ok(server) => {
                let node = server.spec.as_ref().and_then(|s| s.node_name.as_deref());
                let phase = server.status.as_ref().and_then(|s| s.phase.as_deref());
                let version = server.metadata.resource_version.as_deref();
                format!(
                    "server: node {}, phase {}, resourceVersion {}",
                    node.unwrap_or("none"),
                    phase.unwrap_or("none"),
                    version.unwrap_or("none")
                )
            }
            Err(error) if error.is_not_found() => "server: not found".to_string(),
            Err(error) => format!("server: {error}"),
        };
        pod.state = format!("{} ({view})", pod.state);
    }
}

/// Waits (at most [`WATCH_CATCH_UP`]) until the recording holds every pod
/// of `listed` at its listed revision or later; returns how many it still
/// lacks.
async fn watch_catch_up(observer: &Observer, listed: &[Pod]) -> usize {
    let deadline = Instant::now() + WATCH_CATCH_UP;
    loop {
        let behind = observer
            .lock()
            .recording
            .as_ref()
            .map_or(0, |recording| recording.not_yet_seen(listed));
        if behind == 0 || Instant::now() >= deadline {
            return behind;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until `done` holds for the observed state, updating the progress
/// bars; `false` when the deadline passed first.
async fn wait_until(
    progress: &Progress,
    observer: &Observer,
    mut cluster: Option<&mut Cluster>,
    deadline: Instant,
    done: impl Fn(&Observed) -> bool,
) -> Result<bool, Error> {
    loop {
        {
            let observed = observer.lock();
            progress.pods(observed.created, observed.bound, observed.running);
            if done(&observed) {
                return Ok(true);
            }
        }
        if let Some(cluster) = cluster.as_deref_mut() {
            cluster.check_alive()?;
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn create_namespace(client: &Client, namespace: &str, plan: &Plan) -> Result<(), Error> {
    let object = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    client
        .create("", &object)
        .await
        .map_err(|source| Error::api(format!("creating namespace {namespace}"), source))?;
    for class in &plan.priority_classes {
        match client.create("", class).await {
            Ok(_) => {}
            Err(error) if error.is_already_exists() => {}
            Err(source) => {
                let name = class.metadata.name.clone().unwrap_or_default();
                return Err(Error::api(
                    format!("creating priority class {name}"),
                    source,
                ));
            }
        }
    }
    Ok(())
}

/// The latest FailedScheduling message per pod of the run.
async fn failed_scheduling_messages(client: &Client, namespace: &str) -> HashMap<String, String> {
    let Ok(events) = client
        .list_all::<Event>(namespace, &ListParams::default())
        .await
    else {
        return HashMap::new();
    };
    events
        .items
        .into_iter()
        .filter(|event| event.reason.as_deref() == Some("FailedScheduling"))
        .filter_map(|event| Some((event.involved_object.name?, event.message?)))
        .collect()
}

#[allow(
    clippy::too_many_arguments,
    reason = "everything the report is made of"
)]
fn build_report(
    args: &RunArgs,
    plan: &Plan,
    observed: &Observed,
    measure_start: Duration,
    created: &CreateOutcome,
    failed_scheduling: &HashMap<String, String>,
    timed_out: bool,
    until_running: bool,
    warnings: Vec<String>,
    recording: Option<&Recording>,
) -> Report {
    let measured: BTreeSet<&str> = plan
        .phases
        .iter()
        .filter(|p| p.measured)
        .map(|p| p.name)
        .collect();
    let measured_pods: Vec<_> = observed
        .pods
        .values()
        .filter(|t| measured.contains(t.phase.as_str()))
        .collect();
    let bound_at: Vec<Duration> = measured_pods.iter().filter_map(|t| t.bound).collect();
    let last_done = measured_pods
        .iter()
        .filter_map(|t| {
            if until_running {
                t.running.or(t.bound)
            } else {
                t.bound
            }
        })
        .max()
        .unwrap_or(measure_start);
    let since =
        |later: Option<Duration>, earlier: Option<Duration>| Some(later?.saturating_sub(earlier?));
    let mut unschedulable = Unschedulable::default();
    let mut pending = Vec::new();
    let mut pending_count = 0;
    let mut names: Vec<&String> = observed.pods.keys().collect();
    names.sort();
    for name in names {
        let times = &observed.pods[name];
        let message = times
            .unschedulable_message
            .as_ref()
            .or_else(|| failed_scheduling.get(name));
        if let Some(message) = message {
            unschedulable.pods_ever += 1;
            for reason in scheduling_reasons(message) {
                *unschedulable.reasons.entry(reason).or_insert(0) += 1;
            }
        }
        if times.deleted {
            continue;
        }
        if times.bound.is_none() {
            unschedulable.pending_at_end += 1;
        }
        let not_done = if until_running {
            times.running.is_none()
        } else {
            times.bound.is_none()
        };
        pending_count += usize::from(not_done);
        if timed_out && not_done && pending.len() < LISTED_PENDING {
            pending.push(PendingPod {
                name: name.clone(),
                state: if times.bound.is_some() {
                    "bound, not running".to_string()
                } else {
                    "unbound".to_string()
                },
                reason: message
                    .cloned()
                    .unwrap_or_else(|| "no FailedScheduling reported".to_string()),
            });
        }
    }
    let verify = args
        .verify
        .then(|| recording.map(summarize_verify))
        .flatten();
    Report {
        scenario: plan.scenario.name().to_string(),
        scheduler: if args.server.is_some() {
            "external".to_string()
        } else {
            args.scheduler.name().to_string()
        },
        store: if args.server.is_some() {
            "external".to_string()
        } else {
            format!("{:?}", args.store).to_lowercase()
        },
        api: format!("{:?}", args.api).to_lowercase(),
        grpc_security: args.server.is_none().then_some(!args.grpc_plain_http),
        pods: plan.planned_pods(),
        nodes: observed.nodes.len(),
        rate: args.rate,
        clients: args.clients,
        seed: args.seed,
        measured_seconds: last_done.saturating_sub(measure_start).as_secs_f64(),
        created: observed.created,
        bound: observed.bound,
        running: observed.running,
        deleted: observed.deleted,
        create_failures: created.failed,
        create_errors: created.errors.iter().take(5).cloned().collect(),
        throughput: throughput(measure_start, bound_at),
        created_to_bound: latency(
            measured_pods
                .iter()
                .filter_map(|t| since(t.bound, t.created)),
        ),
        created_to_running: latency(
            measured_pods
                .iter()
                .filter_map(|t| since(t.running, t.created)),
        ),
        unschedulable,
        components: Vec::new(),
        verify,
        timed_out,
        pending_count,
        pending,
        warnings,
    }
}

fn summarize_verify(recording: &Recording) -> VerifySummary {
    let result = verify(recording);
    VerifySummary {
        clean: result.is_clean(),
        events_replayed: result.events_replayed,
        binds: result.binds,
        preemption_victims: result.preemption_victims,
        violation_count: result.violations.len(),
        violations: result
            .violations
            .iter()
            .take(LISTED_VIOLATIONS)
            .map(ToString::to_string)
            .collect(),
        unchecked: result.unchecked,
    }
}

/// Verifies a recording file (`loadgen verify FILE`).
pub fn verify_file(path: &std::path::Path) -> Result<VerifySummary, Error> {
    let text = std::fs::read(path).map_err(|source| Error::ReadFile {
        flag: "verify FILE",
        path: path.to_path_buf(),
        source,
    })?;
    let recording: Recording =
        serde_json::from_slice(&text).map_err(|source| Error::Recording {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(summarize_verify(&recording))
}

/// Writes the recording as JSON.
pub fn write_recording(path: &std::path::Path, recording: &Recording) -> Result<(), Error> {
    let file = std::fs::File::create(path).map_err(|source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::to_writer(std::io::BufWriter::new(file), recording).map_err(|source| {
        Error::Recording {
            path: path.to_path_buf(),
            source,
        }
    })
}
