//! Prometheus metrics with kube-scheduler's names and buckets, written in
//! the text exposition format by hand (a few counters and histograms do not
//! need a client library).
//!
//! The loop records once per batch or per bind result under one
//! `std::sync::Mutex` (nothing awaits under it); scrapes lock it briefly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use scheduler::queue::QueueLengths;

/// The result label of `schedule_attempts_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    Scheduled,
    Unschedulable,
    Error,
}

impl AttemptResult {
    const ALL: [AttemptResult; 3] = [
        AttemptResult::Scheduled,
        AttemptResult::Unschedulable,
        AttemptResult::Error,
    ];

    fn label(self) -> &'static str {
        match self {
            AttemptResult::Scheduled => "scheduled",
            AttemptResult::Unschedulable => "unschedulable",
            AttemptResult::Error => "error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A cumulative histogram with fixed upper bounds.
#[derive(Clone, Debug)]
struct Histogram {
    bounds: Vec<f64>,
    /// Observations ≤ each bound (non-cumulative per bucket; summed on render).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// `count` buckets from `start`, each `factor` times the previous.
    fn exponential(start: f64, factor: f64, count: usize) -> Histogram {
        let bounds: Vec<f64> = (0..count)
            .scan(start, |bound, _| {
                let current = *bound;
                *bound *= factor;
                Some(current)
            })
            .collect();
        Histogram {
            counts: vec![0; bounds.len()],
            bounds,
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        self.observe_many(value, 1);
    }

    fn observe_many(&mut self, value: f64, times: u64) {
        if let Some(bucket) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[bucket] += times;
        }
        self.sum += value * times as f64;
        self.count += times;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Per-profile attempt counters and durations, by result.
#[derive(Clone, Debug)]
struct ProfileMetrics {
    attempts: [u64; 3],
    durations: [Histogram; 3],
}

impl ProfileMetrics {
    fn new() -> ProfileMetrics {
        // kube: ExponentialBuckets(0.001, 2, 15).
        let histogram = Histogram::exponential(0.001, 2.0, 15);
        ProfileMetrics {
            attempts: [0; 3],
            durations: [histogram.clone(), histogram.clone(), histogram],
        }
    }
}

#[derive(Debug)]
struct Inner {
    profiles: BTreeMap<String, ProfileMetrics>,
    pending: QueueLengths,
    preemption_attempts: u64,
    preemption_victims: Histogram,
    pod_scheduling_attempts: Histogram,
    bind_requests: u64,
    bind_failures: u64,
    batches: u64,
    is_leader: bool,
}

/// The scheduler's metrics; shared by the loop, the writers and the HTTP server.
#[derive(Debug)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

/// Recording handle: one lock for several observations.
pub(crate) struct Recorder<'a> {
    inner: &'a mut Inner,
}

impl Metrics {
    pub(crate) fn new(profile_names: impl IntoIterator<Item = String>) -> Metrics {
        Metrics {
            inner: Mutex::new(Inner {
                profiles: profile_names
                    .into_iter()
                    .map(|name| (name, ProfileMetrics::new()))
                    .collect(),
                pending: QueueLengths::default(),
                preemption_attempts: 0,
                // kube: ExponentialBuckets(1, 2, 7).
                preemption_victims: Histogram::exponential(1.0, 2.0, 7),
                // kube: ExponentialBuckets(1, 2, 5).
                pod_scheduling_attempts: Histogram::exponential(1.0, 2.0, 5),
                bind_requests: 0,
                bind_failures: 0,
                batches: 0,
                is_leader: false,
            }),
        }
    }

    /// Runs `record` with the lock held.
    pub(crate) fn record(&self, record: impl FnOnce(&mut Recorder<'_>)) {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        record(&mut Recorder { inner: &mut guard });
    }

    /// The text exposition of every metric.
    pub(crate) fn render(&self) -> String {
        let guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let inner = &*guard;
        let mut out = String::with_capacity(16 * 1024);
        header(
            &mut out,
            "scheduler_schedule_attempts_total",
            "counter",
            "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
        );
        for (profile, metrics) in &inner.profiles {
            for result in AttemptResult::ALL {
                let _ = writeln!(
                    out,
                    "scheduler_schedule_attempts_total{{profile=\"{}\",result=\"{}\"}} {}",
                    escape(profile),
                    result.label(),
                    metrics.attempts[result.index()]
                );
            }
        }
        header(
            &mut out,
            "scheduler_scheduling_attempt_duration_seconds",
            "histogram",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding).",
        );
        for (profile, metrics) in &inner.profiles {
            for result in AttemptResult::ALL {
                metrics.durations[result.index()].render(
                    &mut out,
                    "scheduler_scheduling_attempt_duration_seconds",
                    &format!(
                        "profile=\"{}\",result=\"{}\"",
                        escape(profile),
                        result.label()
                    ),
                );
            }
        }
        header(
            &mut out,
            "scheduler_pending_pods",
            "gauge",
            "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
        );
        for (queue, value) in [
            ("active", inner.pending.active),
            ("backoff", inner.pending.backoff),
            ("gated", 0),
            ("unschedulable", inner.pending.unschedulable),
        ] {
            let _ = writeln!(out, "scheduler_pending_pods{{queue=\"{queue}\"}} {value}");
        }
        header(
            &mut out,
            "scheduler_preemption_attempts_total",
            "counter",
            "Total preemption attempts in the cluster till now",
        );
        let _ = writeln!(
            out,
            "scheduler_preemption_attempts_total {}",
            inner.preemption_attempts
        );
        header(
            &mut out,
            "scheduler_preemption_victims",
            "histogram",
            "Number of selected preemption victims",
        );
        inner
            .preemption_victims
            .render(&mut out, "scheduler_preemption_victims", "");
        header(
            &mut out,
            "scheduler_pod_scheduling_attempts",
            "histogram",
            "Number of attempts to successfully schedule a pod.",
        );
        inner
            .pod_scheduling_attempts
            .render(&mut out, "scheduler_pod_scheduling_attempts", "");
        header(
            &mut out,
            "skiff_scheduler_bind_requests_total",
            "counter",
            "batch_bind requests sent to the apiserver.",
        );
        let _ = writeln!(
            out,
            "skiff_scheduler_bind_requests_total {}",
            inner.bind_requests
        );
        header(
            &mut out,
            "skiff_scheduler_bind_failures_total",
            "counter",
            "Bindings the apiserver refused (conflict, arbiter, gone) or that failed in transit.",
        );
        let _ = writeln!(
            out,
            "skiff_scheduler_bind_failures_total {}",
            inner.bind_failures
        );
        header(
            &mut out,
            "skiff_scheduler_batches_total",
            "counter",
            "Scheduling batches run.",
        );
        let _ = writeln!(out, "skiff_scheduler_batches_total {}", inner.batches);
        header(
            &mut out,
            "skiff_scheduler_is_leader",
            "gauge",
            "1 while this process holds its lease and schedules.",
        );
        let _ = writeln!(
            out,
            "skiff_scheduler_is_leader {}",
            u8::from(inner.is_leader)
        );
        out
    }
}

impl Recorder<'_> {
    /// `count` attempts of `profile` with `result`, each taking `seconds`.
    pub(crate) fn attempts(
        &mut self,
        profile: &str,
        result: AttemptResult,
        seconds: f64,
        count: u64,
    ) {
        if count == 0 {
            return;
        }
        if !self.inner.profiles.contains_key(profile) {
            self.inner
                .profiles
                .insert(profile.to_string(), ProfileMetrics::new());
        }
        if let Some(metrics) = self.inner.profiles.get_mut(profile) {
            metrics.attempts[result.index()] += count;
            metrics.durations[result.index()].observe_many(seconds, count);
        }
    }

    /// A pod was bound after `attempts` attempts.
    pub(crate) fn scheduled_after(&mut self, attempts: u32) {
        self.inner
            .pod_scheduling_attempts
            .observe(f64::from(attempts));
    }

    /// A preemption attempt; `victims` when it chose a node.
    pub(crate) fn preemption(&mut self, victims: Option<usize>) {
        self.inner.preemption_attempts += 1;
        if let Some(victims) = victims {
            self.inner.preemption_victims.observe(victims as f64);
        }
    }

    pub(crate) fn pending(&mut self, lengths: QueueLengths) {
        self.inner.pending = lengths;
    }

    pub(crate) fn bind_request(&mut self, failures: usize) {
        self.inner.bind_requests += 1;
        self.inner.bind_failures += failures as u64;
    }

    pub(crate) fn batch(&mut self) {
        self.inner.batches += 1;
    }

    pub(crate) fn leader(&mut self, is_leader: bool) {
        self.inner.is_leader = is_leader;
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::new(["default-scheduler".to_string()]);
        metrics.record(|recorder| {
            recorder.attempts("default-scheduler", AttemptResult::Scheduled, 0.003, 2);
            recorder.attempts("default-scheduler", AttemptResult::Unschedulable, 0.5, 1);
            recorder.preemption(Some(3));
            recorder.scheduled_after(1);
        });
        let text = metrics.render();
        assert!(text.contains(
            "scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 2"
        ));
        assert!(text.contains(
            "scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\",result=\"scheduled\",le=\"0.004\"} 2"
        ));
        assert!(text.contains(
            "scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\",result=\"scheduled\",le=\"0.002\"} 0"
        ));
        assert!(text.contains("scheduler_preemption_attempts_total 1"));
        assert!(text.contains("scheduler_preemption_victims_bucket{le=\"4\"} 1"));
        assert!(text.contains("scheduler_preemption_victims_bucket{le=\"2\"} 0"));
        assert!(text.contains("scheduler_pod_scheduling_attempts_count 1"));
        assert!(text.contains("scheduler_pending_pods{queue=\"gated\"} 0"));
    }
}
