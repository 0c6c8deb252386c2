//! Scheduler core benchmarks, measured from queue pop to committed decision.
//!
//! Cases (clusters filled to ~50% first, fixed seeds, scenarios from
//! `scheduler::workload`):
//! - `basic/{500,5000,15000}nodes` with the adaptive percentageOfNodesToScore,
//!   and `basic/5000nodes/exact` scoring every node;
//! - `node_affinity`, `anti_affinity` (required, hostname), `topology_spread`
//!   (zones, DoNotSchedule) and `mixed` at 5000 nodes;
//! - `preemption/500nodes`: a full cluster where every pod must preempt;
//! - `ratio/{basic,anti_affinity,topology_spread}/100nodes`: the naive
//!   reference and the fast path (one by one, and as a batch) on the same
//!   pods with exact scoring, for the speed ratio.
//!
//! `cargo bench --bench scheduler -- --profile-time 10` writes a flamegraph
//! per case to `target/criterion/<case>/profile/flamegraph.svg`.

use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::profiler::Profiler;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use scheduler::batch::schedule_batch;
use scheduler::model::PodInfo;
use scheduler::naive::{self, NaiveCluster};
use scheduler::preemption::{PreemptionConfig, PreemptionOutcome, preempt};
use scheduler::profile::{Profile, Profiles};
use scheduler::queue::{PluginMask, QueueConfig, SchedulingQueue};
use scheduler::rng::SplitMix64;
use scheduler::schedule::{Decision, SchedulingContext, schedule_one};
use scheduler::table::snapshot::Snapshot;
use scheduler::workload::{self, Scenario};

/// Samples the CPU with pprof while criterion profiles a case.
struct FlamegraphProfiler<'a> {
    frequency_hz: i32,
    guard: Option<pprof::ProfilerGuard<'a>>,
}

impl Profiler for FlamegraphProfiler<'_> {
    fn start_profiling(&mut self, _benchmark_id: &str, _benchmark_dir: &Path) {
        self.guard = pprof::ProfilerGuardBuilder::default()
            .frequency(self.frequency_hz)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .ok();
    }

    fn stop_profiling(&mut self, _benchmark_id: &str, benchmark_dir: &Path) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        if std::fs::create_dir_all(benchmark_dir).is_err() {
            return;
        }
        if let Ok(report) = guard.report().build()
            && let Ok(file) = File::create(benchmark_dir.join("flamegraph.svg"))
            && let Err(error) = report.flamegraph(file)
        {
            eprintln!("flamegraph not written: {error}");
        }
    }
}

fn queue_with(pods: &[Arc<PodInfo>]) -> SchedulingQueue {
    let mut queue = SchedulingQueue::new(QueueConfig::default());
    for pod in pods {
        queue.add(pod.clone(), Duration::ZERO);
    }
    queue
}

/// Pops every queued pod, schedules them as one optimistic batch and
/// commits the decisions; returns how many were scheduled.
fn batch_cycle(
    snapshot: &Snapshot,
    queue: &mut SchedulingQueue,
    profiles: &Profiles,
    context: &mut SchedulingContext,
) -> usize {
    let now = Duration::from_secs(1);
    let popped = queue.pop_batch(now, usize::MAX);
    let pods: Vec<Arc<PodInfo>> = popped.iter().map(|queued| queued.pod.clone()).collect();
    let outcome = schedule_batch(snapshot, &pods, profiles, context);
    let mut scheduled = 0;
    for (pod, decision) in pods.iter().zip(&outcome.decisions) {
        match decision {
            Some(Decision::Scheduled(_)) => {
                queue.done(&pod.uid);
                scheduled += 1;
            }
            Some(Decision::Unschedulable(error)) => {
                queue.requeue_unschedulable(&pod.uid, PluginMask::from_fit_error(error), now)
            }
            None => queue.done(&pod.uid),
        }
    }
    black_box(outcome.working);
    scheduled
}

fn bench_batch(
    c: &mut Criterion,
    name: &str,
    scenario: Scenario,
    node_count: usize,
    pod_count: usize,
    profile: Profile,
) {
    let workload = workload::build(scenario, node_count, pod_count);
    let snapshot = workload.cluster_state().publish();
    let pods: Vec<Arc<PodInfo>> = workload.measured.iter().cloned().map(Arc::new).collect();
    let profiles = Profiles::new([profile]);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(pod_count as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    let mut context = SchedulingContext::new(7);
    // The throughput counts every measured pod: check they all get placed.
    let scheduled = batch_cycle(&snapshot, &mut queue_with(&pods), &profiles, &mut context);
    assert_eq!(scheduled, pod_count, "{name}: pods left unscheduled");
    group.bench_function(format!("{pod_count}pods"), |bencher| {
        bencher.iter_batched(
            || queue_with(&pods),
            |mut queue| batch_cycle(&snapshot, &mut queue, &profiles, &mut context),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn basic(c: &mut Criterion) {
    bench_batch(
        c,
        "basic/500nodes",
        Scenario::Basic,
        500,
        1000,
        Profile::default(),
    );
    bench_batch(
        c,
        "basic/5000nodes",
        Scenario::Basic,
        5000,
        2000,
        Profile::default(),
    );
    bench_batch(
        c,
        "basic/5000nodes/exact",
        Scenario::Basic,
        5000,
        1000,
        Profile::exact(),
    );
    bench_batch(
        c,
        "basic/15000nodes",
        Scenario::Basic,
        15000,
        2000,
        Profile::default(),
    );
}

fn constrained(c: &mut Criterion) {
    bench_batch(
        c,
        "node_affinity/5000nodes",
        Scenario::NodeAffinity,
        5000,
        1000,
        Profile::default(),
    );
    bench_batch(
        c,
        "anti_affinity/5000nodes",
        Scenario::AntiAffinity,
        5000,
        1000,
        Profile::default(),
    );
    bench_batch(
        c,
        "topology_spread/5000nodes",
        Scenario::TopologySpread,
        5000,
        1000,
        Profile::default(),
    );
    bench_batch(
        c,
        "mixed/5000nodes",
        Scenario::Mixed,
        5000,
        1000,
        Profile::default(),
    );
}

fn preemption(c: &mut Criterion) {
    let pod_count = 50;
    let workload = workload::build(Scenario::Preemption, 500, pod_count);
    let snapshot = workload.cluster_state().publish();
    let pods: Vec<Arc<PodInfo>> = workload.measured.iter().cloned().map(Arc::new).collect();
    let profile = Profile::default();
    let config = PreemptionConfig::default();
    let mut group = c.benchmark_group("preemption/500nodes");
    group.throughput(Throughput::Elements(pod_count as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function(format!("{pod_count}pods"), |bencher| {
        bencher.iter_batched(
            || (queue_with(&pods), (*snapshot).clone()),
            |(mut queue, mut working)| {
                let now = Duration::from_secs(1);
                let mut context = SchedulingContext::new(7);
                let mut rng = SplitMix64::new(7);
                let mut nominated = 0;
                while let Some(queued) = queue.pop(now) {
                    let pod = &queued.pod;
                    match schedule_one(&working, pod, &profile, &mut context) {
                        Decision::Scheduled(placement) => {
                            working.add_pod(placement.node, pod.clone());
                            queue.done(&pod.uid);
                        }
                        Decision::Unschedulable(error) => {
                            if let PreemptionOutcome::Nominate(candidate) =
                                preempt(&working, pod, &profile, &error, &config, &mut rng)
                            {
                                for victim in &candidate.victims {
                                    working.remove_pod(candidate.node, &victim.uid);
                                }
                                working.add_nominated_pod(candidate.node, pod);
                                nominated += 1;
                            }
                            queue.requeue_unschedulable(
                                &pod.uid,
                                PluginMask::from_fit_error(&error),
                                now,
                            );
                        }
                    }
                }
                black_box(working);
                nominated
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The naive reference and the fast path on the same pods of one scenario
/// (exact scoring, 100 nodes: the naive reference re-reads every pod per
/// node). `skiff` decides the pods one by one like the reference does;
/// `skiff_batch` runs them as one batch, as the service does.
fn naive_ratio(c: &mut Criterion) {
    for scenario in [
        Scenario::Basic,
        Scenario::AntiAffinity,
        Scenario::TopologySpread,
    ] {
        naive_ratio_of(c, scenario);
    }
}

fn naive_ratio_of(c: &mut Criterion, scenario: Scenario) {
    let pod_count = 20;
    let workload = workload::build(scenario, 100, pod_count);
    let snapshot = workload.cluster_state().publish();
    let pods: Vec<Arc<PodInfo>> = workload.measured.iter().cloned().map(Arc::new).collect();
    let profile = Profile::exact();
    let profiles = Profiles::new([profile.clone()]);
    let cluster = NaiveCluster {
        nodes: workload.nodes.clone(),
        pods: workload.existing.clone(),
        ..NaiveCluster::default()
    };
    let naive_run = |mut cluster: NaiveCluster| {
        let mut scheduled = 0;
        for pod in &workload.measured {
            if let Ok((winners, _)) = naive::schedule(&cluster, pod, &profile) {
                let mut bound = pod.clone();
                bound.node_name = winners.first().cloned();
                cluster.pods.push(bound);
                scheduled += 1;
            }
        }
        scheduled
    };
    let skiff_run = |mut working: Snapshot| {
        let mut context = SchedulingContext::new(7);
        let mut scheduled = 0;
        for pod in &pods {
            if let Decision::Scheduled(placement) =
                schedule_one(&working, pod, &profile, &mut context)
            {
                working.add_pod(placement.node, pod.clone());
                scheduled += 1;
            }
        }
        scheduled
    };
    let batch_run = || {
        let mut context = SchedulingContext::new(7);
        batch_cycle(&snapshot, &mut queue_with(&pods), &profiles, &mut context)
    };
    let name = format!("ratio/{}/100nodes", scenario.name());
    for (path, scheduled) in [
        ("naive", naive_run(cluster.clone())),
        ("skiff", skiff_run((*snapshot).clone())),
        ("skiff_batch", batch_run()),
    ] {
        assert_eq!(scheduled, pod_count, "{name}/{path} left pods unscheduled");
    }
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(pod_count as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("naive", |bencher| {
        bencher.iter_batched(|| cluster.clone(), naive_run, BatchSize::LargeInput)
    });
    group.bench_function("skiff", |bencher| {
        bencher.iter_batched(|| (*snapshot).clone(), skiff_run, BatchSize::LargeInput)
    });
    group.bench_function("skiff_batch", |bencher| bencher.iter(batch_run));
    group.finish();
}

fn profiled() -> Criterion {
    Criterion::default().with_profiler(FlamegraphProfiler {
        frequency_hz: 997,
        guard: None,
    })
}

criterion_group! {
    name = benches;
    config = profiled();
    targets = basic, constrained, preemption, naive_ratio
}
criterion_main!(benches);
