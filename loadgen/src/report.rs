//! The final report: throughput as scheduler_perf's SchedulingThroughput,
//! latency distributions, unschedulable reasons, resource use per
//! component, and what `--verify` found. Printed as a table, written as
//! JSON with `--json`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::procstat::ComponentUsage;

/// Pods bound per second, sampled the way scheduler_perf's throughput
/// collector does: one sample per full second from the start of the
/// measured phase, the first sample dropped; after seconds with no binds,
/// the next count is spread over all the seconds it took.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Throughput {
    /// Mean of the samples (scheduler_perf's "Average"), pods/s.
    pub average: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// Measured pods bound / (last bind − phase start), pods/s.
    pub overall: f64,
    pub samples: Vec<f64>,
    /// Measured pods bound in each second from the phase start (for plots).
    pub bound_per_second: Vec<u64>,
}

/// A latency distribution, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// (percentile, milliseconds) at 1% steps plus 99.9, for plots.
    pub quantiles: Vec<(f64, f64)>,
}

/// Pods the scheduler could not place, by reason.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Unschedulable {
    /// Pods that were reported unschedulable at least once.
    pub pods_ever: usize,
    /// Pods still unbound when the run ended.
    pub pending_at_end: usize,
    /// Reason (from FailedScheduling messages) → pods whose latest message
    /// gave it.
    pub reasons: BTreeMap<String, usize>,
}

/// A pod that was not done when the run ended, and why.
#[derive(Clone, Debug, Serialize)]
pub struct PendingPod {
    pub name: String,
    pub state: String,
    pub reason: String,
}

/// What the checker found, summarized.
#[derive(Clone, Debug, Serialize)]
pub struct VerifySummary {
    pub clean: bool,
    pub events_replayed: usize,
    pub binds: usize,
    pub preemption_victims: usize,
    pub violation_count: usize,
    /// The first violations, described.
    pub violations: Vec<String>,
    pub unchecked: Vec<String>,
}

/// Everything a run reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    pub scheduler: String,
    pub store: String,
    /// The face pods were created and watched through: `grpc` or `rest`.
    pub api: String,
    /// Whether the embedded apiserver's gRPC face used TLS, authentication
    /// and RBAC (`None`: an external cluster).
    pub grpc_security: Option<bool>,
    pub pods: usize,
    pub nodes: usize,
    pub rate: Option<f64>,
    pub clients: usize,
    pub seed: u64,
    /// From the start of the measured phase to the last pod done.
    pub measured_seconds: f64,
    pub created: usize,
    pub bound: usize,
    pub running: usize,
    pub deleted: usize,
    pub create_failures: usize,
    pub create_errors: Vec<String>,
    pub throughput: Throughput,
    pub created_to_bound: Latency,
    pub created_to_running: Latency,
    pub unschedulable: Unschedulable,
    pub components: Vec<ComponentUsage>,
    pub verify: Option<VerifySummary>,
    pub timed_out: bool,
    /// Pods not done when the run ended.
    pub pending_count: usize,
    /// The first of them, with why.
    pub pending: Vec<PendingPod>,
    pub warnings: Vec<String>,
}

/// Computes scheduler_perf-style throughput from the bind times of the
/// measured pods, relative to the start of the measured phase.
pub fn throughput(phase_start: Duration, mut bound_at: Vec<Duration>) -> Throughput {
    bound_at.sort();
    let Some(&last) = bound_at.last() else {
        return Throughput::default();
    };
    let span = last.saturating_sub(phase_start).as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let overall = if span > 0.0 {
        bound_at.len() as f64 / span
    } else {
        0.0
    };
    // Binds per whole second since the phase start.
    let seconds = last.saturating_sub(phase_start).as_secs();
    let mut per_second = vec![0u64; usize::try_from(seconds).unwrap_or(0) + 1];
    for at in &bound_at {
        let second = usize::try_from(at.saturating_sub(phase_start).as_secs()).unwrap_or(0);
        if let Some(slot) = per_second.get_mut(second) {
            *slot += 1;
        }
    }
    // Full seconds only: the last, partial second is not a sample.
    let full = &per_second[..per_second.len().saturating_sub(1)];
    let mut samples = Vec::new();
    let mut idle_ticks = 0u32;
    for &count in full {
        if count == 0 {
            idle_ticks += 1;
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = count as f64 / f64::from(idle_ticks + 1);
        for _ in 0..=idle_ticks {
            samples.push(rate);
        }
        idle_ticks = 0;
    }
    if samples.len() > 1 {
        samples.remove(0);
    }
    if samples.is_empty() {
        samples.push(overall);
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let average = samples.iter().sum::<f64>() / samples.len() as f64;
    Throughput {
        average,
        p50: percentile(&sorted, 50.0),
        p90: percentile(&sorted, 90.0),
        p99: percentile(&sorted, 99.0),
        overall,
        samples,
        bound_per_second: per_second,
    }
}

/// scheduler_perf's percentile: the sorted sample at ⌈len·p/100⌉−1.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let index = ((sorted.len() as f64 * p / 100.0).ceil() as usize).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

/// Summarizes latencies with an HDR histogram (microsecond resolution, 3
/// significant digits).
pub fn latency(values: impl IntoIterator<Item = Duration>) -> Latency {
    // 1 µs to one hour, 3 significant digits.
    let Ok(mut histogram) = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3) else {
        return Latency::default();
    };
    for value in values {
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX).max(1);
        histogram.saturating_record(micros);
    }
    if histogram.is_empty() {
        return Latency::default();
    }
    #[allow(clippy::cast_precision_loss)]
    let ms = |micros: u64| micros as f64 / 1000.0;
    let mut quantiles: Vec<(f64, f64)> = (0..=100)
        .map(|p| {
            (
                f64::from(p),
                ms(histogram.value_at_quantile(f64::from(p) / 100.0)),
            )
        })
        .collect();
    quantiles.insert(100, (99.9, ms(histogram.value_at_quantile(0.999))));
    Latency {
        count: histogram.len(),
        p50_ms: ms(histogram.value_at_quantile(0.50)),
        p90_ms: ms(histogram.value_at_quantile(0.90)),
        p99_ms: ms(histogram.value_at_quantile(0.99)),
        max_ms: ms(histogram.max()),
        quantiles,
    }
}

/// The reasons in a FailedScheduling message, e.g. `0/5 nodes are
/// available: 3 Insufficient cpu, 2 node(s) had untolerated taint {a: b}.
/// preemption: ...` → `["Insufficient cpu", "node(s) had untolerated taint {a: b}"]`.
pub fn scheduling_reasons(message: &str) -> Vec<String> {
    let body = message
        .split_once("are available: ")
        .map_or(message, |(_, rest)| rest);
    let body = body.split(". preemption:").next().unwrap_or(body);
    let body = body.trim().trim_end_matches('.');
    body.split(", ")
        .map(|part| {
            let part = part.trim();
            match part.split_once(' ') {
                Some((count, rest)) if count.chars().all(|c| c.is_ascii_digit()) => {
                    rest.to_string()
                }
                _ => part.to_string(),
            }
        })
        .filter(|reason| !reason.is_empty())
        .collect()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self
            .rate
            .map_or_else(|| "unlimited".to_string(), |r| format!("{r} pods/s"));
        writeln!(
            f,
            "loadgen: scenario {}, scheduler {}, store {}, api {}, grpc security {}, {} pods, {} nodes, rate {rate}, {} clients, seed {}",
            self.scenario,
            self.scheduler,
            self.store,
            self.api,
            match self.grpc_security {
                Some(true) => "on",
                Some(false) => "off",
                None => "external",
            },
            self.pods,
            self.nodes,
            self.clients,
            self.seed
        )?;
        writeln!(
            f,
            "  pods: {} created, {} bound, {} running, {} deleted, {} create failures",
            self.created, self.bound, self.running, self.deleted, self.create_failures
        )?;
        for error in &self.create_errors {
            writeln!(f, "    create error: {error}")?;
        }
        let t = &self.throughput;
        writeln!(
            f,
            "  {:<34} {:>10} {:>10} {:>10} {:>10}",
            "throughput (pods/s)", "average", "p50", "p90", "p99"
        )?;
        writeln!(
            f,
            "  {:<34} {:>10.0} {:>10.0} {:>10.0} {:>10.0}   (overall {:.0} over {:.2} s)",
            "  bound per second", t.average, t.p50, t.p90, t.p99, t.overall, self.measured_seconds
        )?;
        writeln!(
            f,
            "  {:<34} {:>10} {:>10} {:>10} {:>10}",
            "latency (ms)", "p50", "p90", "p99", "max"
        )?;
        for (name, latency) in [
            ("  created → bound", &self.created_to_bound),
            ("  created → running", &self.created_to_running),
        ] {
            writeln!(
                f,
                "  {:<34} {:>10.1} {:>10.1} {:>10.1} {:>10.1}   ({} pods)",
                name, latency.p50_ms, latency.p90_ms, latency.p99_ms, latency.max_ms, latency.count
            )?;
        }
        let u = &self.unschedulable;
        writeln!(
            f,
            "  unschedulable: {} pod(s) ever, {} pending at the end",
            u.pods_ever, u.pending_at_end
        )?;
        for (reason, count) in &u.reasons {
            writeln!(f, "    {count:>8}  {reason}")?;
        }
        if !self.components.is_empty() {
            writeln!(
                f,
                "  {:<34} {:>10} {:>14}",
                "component", "cpu (s)", "peak rss (MiB)"
            )?;
            for component in &self.components {
                #[allow(clippy::cast_precision_loss)]
                let mib = component.peak_rss_bytes as f64 / (1024.0 * 1024.0);
                writeln!(
                    f,
                    "  {:<34} {:>10.2} {:>14.1}",
                    format!("  {}", component.name),
                    component.cpu_seconds,
                    mib
                )?;
            }
        }
        if let Some(verify) = &self.verify {
            if verify.clean {
                writeln!(
                    f,
                    "  verify: OK ({} events replayed, {} binds, {} preemption victims)",
                    verify.events_replayed, verify.binds, verify.preemption_victims
                )?;
            } else {
                writeln!(f, "  verify: {} VIOLATION(S)", verify.violation_count)?;
                for violation in &verify.violations {
                    writeln!(f, "    {violation}")?;
                }
            }
            for note in &verify.unchecked {
                writeln!(f, "    not checked: {note}")?;
            }
        }
        for error in &self.warnings {
            writeln!(f, "  warning: {error}")?;
        }
        if self.timed_out {
            writeln!(
                f,
                "  TIMED OUT with {} pod(s) not done:",
                self.pending_count
            )?;
            for pod in &self.pending {
                writeln!(f, "    {} ({}): {}", pod.name, pod.state, pod.reason)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn throughput_drops_the_first_sample_and_spreads_idle_seconds() {
        // Second 0: 10 binds; 1: 20; 2: none; 3: 40; then 1 bind at 4.5 (partial, not a sample).
        let mut binds = Vec::new();
        binds.extend((0..10).map(|i| secs(0.05 * f64::from(i))));
        binds.extend((0..20).map(|i| secs(1.0 + 0.04 * f64::from(i))));
        binds.extend((0..40).map(|i| secs(3.0 + 0.02 * f64::from(i))));
        binds.push(secs(4.5));
        let t = throughput(Duration::ZERO, binds);
        assert_eq!(t.samples, vec![20.0, 20.0, 20.0]);
        assert_eq!(t.average, 20.0);
        assert_eq!(t.p99, 20.0);
        assert_eq!(t.bound_per_second, vec![10, 20, 0, 40, 1]);
        assert!((t.overall - 71.0 / 4.5).abs() < 1e-9);
    }

    #[test]
    fn short_runs_fall_back_to_the_overall_rate() {
        let t = throughput(secs(1.0), vec![secs(1.1), secs(1.2), secs(1.5)]);
        assert_eq!(t.samples, vec![6.0]);
        assert_eq!(t.average, 6.0);
    }

    #[test]
    fn percentiles_follow_scheduler_perf() {
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 5.0);
        assert_eq!(percentile(&sorted, 90.0), 9.0);
        assert_eq!(percentile(&sorted, 99.0), 10.0);
    }

    #[test]
    fn latency_percentiles() {
        let l = latency((1..=1000).map(Duration::from_millis));
        assert_eq!(l.count, 1000);
        assert!((l.p50_ms - 500.0).abs() < 1.0, "{l:?}");
        assert!((l.p99_ms - 990.0).abs() < 1.0, "{l:?}");
        assert!((l.max_ms - 1000.0).abs() < 1.0, "{l:?}");
    }

    #[test]
    fn reasons_are_parsed_from_failed_scheduling_messages() {
        let message = "0/5 nodes are available: 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.";
        assert_eq!(
            scheduling_reasons(message),
            [
                "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
                "Insufficient cpu"
            ]
        );
    }
}
