//! Property tests: the fast scheduler and the naive reference agree on every
//! filter verdict (with reason texts), on every plugin score in exact mode,
//! and batch commits never produce a placement the naive filter rejects.

// Test helpers outside `#[test]` functions may panic on broken fixtures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use scheduler::batch::schedule_batch;
use scheduler::naive;
use scheduler::profile::{Profile, Profiles};
use scheduler::schedule::{
    Decision, SchedulingContext, filter_node, plugin_scores, prepare, schedule_one,
};
use scheduler::table::snapshot::Snapshot;

use support::random_scenario;

fn fast_reasons(
    snapshot: &Snapshot,
    result: Result<(), scheduler::status::Rejection>,
    unknown: &[String],
) -> Result<(), Vec<String>> {
    result.map_err(|rejection| {
        let mut messages = rejection.messages(snapshot, unknown);
        messages.sort();
        messages
    })
}

/// Checks filter and score agreement for every incoming pod of a seed.
fn check_agreement(seed: u64) {
    let scenario = random_scenario(seed, 4);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let cluster = scenario.naive();
    let profile = Profile::exact();
    for pod in &scenario.incoming {
        let prepared = prepare(&snapshot, pod, &profile);
        let mut fast_feasible = Vec::new();
        for node in &scenario.nodes {
            let index = snapshot.node_by_name(&node.name).expect("node indexed");
            let fast = fast_reasons(
                &snapshot,
                filter_node(&snapshot, &prepared, index),
                &prepared.fit.unknown_resources,
            );
            let slow = naive::filter(&cluster, pod, node).map_err(|rejection| {
                let mut reasons = rejection.reasons;
                reasons.sort();
                reasons
            });
            assert_eq!(
                fast, slow,
                "seed {seed} pod {} node {}",
                pod.name, node.name
            );
            if fast.is_ok() {
                fast_feasible.push(index);
            }
        }
        let naive_feasible = naive::feasible_nodes(&cluster, pod);
        let fast_rows = plugin_scores(&snapshot, &prepared, &fast_feasible);
        let naive_rows = naive::plugin_scores(&cluster, pod, &naive_feasible, &profile);
        assert_eq!(fast_rows, naive_rows, "seed {seed} pod {} scores", pod.name);

        let mut context = SchedulingContext::new(seed);
        let decision = schedule_one(&snapshot, pod, &profile, &mut context);
        match (decision, naive::schedule(&cluster, pod, &profile)) {
            (Decision::Scheduled(placement), Ok((winners, best))) => {
                let name = snapshot.node_name(placement.node).to_string();
                assert!(
                    winners.contains(&name),
                    "seed {seed}: {name} not in {winners:?}"
                );
                assert_eq!(placement.score, best, "seed {seed}");
            }
            (Decision::Unschedulable(error), Err(message)) => {
                assert_eq!(error.message(), message, "seed {seed}");
            }
            (fast, slow) => panic!("seed {seed}: fast {fast:?} vs naive {slow:?}"),
        }
    }
}

/// Schedules a batch and replays the commits through the naive filter.
fn check_batch_never_overcommits(seed: u64, percentage: Option<u32>) {
    let scenario = random_scenario(seed, 12);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let profile = Profile {
        percentage_of_nodes_to_score: percentage,
        ..Profile::default()
    };
    let profiles = Profiles::new([profile]);
    let pods: Vec<Arc<_>> = scenario.incoming.iter().cloned().map(Arc::new).collect();
    let mut context = SchedulingContext::new(seed);
    let outcome = schedule_batch(&snapshot, &pods, &profiles, &mut context);
    let mut cluster = scenario.naive();
    for index in &outcome.commit_order {
        let Some(Decision::Scheduled(placement)) = &outcome.decisions[*index] else {
            panic!("seed {seed}: committed pod without placement");
        };
        let node_name = outcome.working.node_name(placement.node).to_string();
        let node = cluster
            .nodes
            .iter()
            .find(|n| n.name == node_name)
            .expect("node")
            .clone();
        let pod = &scenario.incoming[*index];
        assert_eq!(
            naive::filter(&cluster, pod, &node),
            Ok(()),
            "seed {seed}: pod {} committed to {node_name} but naive rejects",
            pod.name
        );
        let mut bound = pod.clone();
        bound.node_name = Some(node_name);
        cluster.pods.push(bound);
    }
}

proptest! {
    #[test]
    fn fast_and_naive_agree(seed in any::<u64>()) {
        check_agreement(seed);
    }

    #[test]
    fn batch_commits_pass_naive_filters_exact(seed in any::<u64>()) {
        check_batch_never_overcommits(seed, Some(100));
    }

    #[test]
    fn batch_commits_pass_naive_filters_sampling(seed in any::<u64>()) {
        check_batch_never_overcommits(seed, None);
    }
}

/// Guards against a vacuous generator: across a fixed set of seeds every
/// filter reason shows up at least once.
#[test]
fn generator_exercises_every_filter_reason() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let scenario = random_scenario(seed, 4);
        let cluster = scenario.naive();
        for pod in &scenario.incoming {
            for node in &scenario.nodes {
                if let Err(rejection) = naive::filter(&cluster, pod, node) {
                    for reason in rejection.reasons {
                        let kind = reason.split(" {").next().unwrap_or("").to_string();
                        seen.insert(kind);
                    }
                }
            }
        }
    }
    for expected in [
        "node(s) were unschedulable",
        "node(s) didn't match the requested node name",
        "node(s) had untolerated taint",
        "node(s) didn't match Pod's node affinity/selector",
        "node(s) didn't have free ports for the requested pod ports",
        "Too many pods",
        "Insufficient cpu",
        "Insufficient memory",
        "Insufficient example.com/gpu",
        "Insufficient example.com/fpga",
        "node(s) didn't match pod topology spread constraints",
        "node(s) didn't match pod topology spread constraints (missing required label)",
        "node(s) didn't match pod affinity rules",
        "node(s) didn't match pod anti-affinity rules",
        "node(s) didn't satisfy existing pods anti-affinity rules",
    ] {
        assert!(
            seen.contains(expected),
            "generator never produced {expected:?}; saw {seen:?}"
        );
    }
}

/// A pod decided from its class's shared evaluation gets exactly the
/// decision `schedule_one` gives it.
fn check_equivalence_matches_schedule_one(seed: u64) {
    use scheduler::equivalence::{decide, equivalence_key, evaluate_all};
    let scenario = random_scenario(seed, 6);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    for profile in [Profile::exact(), Profile::default()] {
        for (index, pod) in scenario.incoming.iter().enumerate() {
            if equivalence_key(pod).is_none() {
                continue;
            }
            let Some(shared) = evaluate_all(&snapshot, pod, &profile) else {
                continue;
            };
            let mut context = SchedulingContext::new(seed ^ index as u64);
            context.next_start_node_index = index;
            let mut reference_context = context.clone();
            let reference = schedule_one(&snapshot, pod, &profile, &mut reference_context);
            match decide(&snapshot, &shared, &profile, &mut context) {
                Some(decision) => {
                    assert_eq!(decision, reference, "seed {seed} pod {}", pod.name);
                    assert_eq!(
                        context.next_start_node_index,
                        reference_context.next_start_node_index
                    );
                }
                None => assert!(
                    matches!(reference, Decision::Unschedulable(_)),
                    "seed {seed}"
                ),
            }
        }
    }
}

proptest! {
    #[test]
    fn shared_evaluation_matches_schedule_one(seed in any::<u64>()) {
        check_equivalence_matches_schedule_one(seed);
    }
}
