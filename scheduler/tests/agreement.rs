//! Property tests: the fast scheduler and the naive reference agree on every
//! filter verdict (with reason texts), on every plugin score in exact mode,
//! and batch commits never produce a placement the naive filter rejects.

// Test helpers outside `#[test]` functions may panic on broken fixtures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use proptest::prelude::*;
use scheduler::batch::schedule_batch;
use scheduler::class_run::ClassRun;
use scheduler::equivalence::equivalence_key;
use scheduler::model::{
    InclusionPolicy, LabelRequirement, LabelSelector, PodAffinityTerm, PodInfo, SelectorOperator,
    TopologySpreadConstraint, UnsatisfiableAction,
};
use scheduler::naive;
use scheduler::profile::{Profile, Profiles};
use scheduler::rng::SplitMix64;
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
/// With `runs`, replicas of class templates (spread or anti-affinity
/// selecting the template) are interleaved with the random pods, so class
/// runs, shared evaluations and single pods commit into one working state.
fn check_batch_never_overcommits(seed: u64, percentage: Option<u32>, runs: bool) {
    let scenario = random_scenario(seed, 12);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let profile = Profile {
        percentage_of_nodes_to_score: percentage,
        ..Profile::default()
    };
    let profiles = Profiles::new([profile]);
    let mut incoming = scenario.incoming.clone();
    if runs {
        let mut rng = SplitMix64::new(seed ^ 0x3a11);
        for (template_index, pod) in scenario.incoming.iter().take(4).enumerate() {
            let template = class_template(pod, &mut rng);
            incoming.extend(replicas(
                &template,
                template_index,
                2 + rng.below(4) as usize,
            ));
        }
        let mut keyed: Vec<(u64, PodInfo)> = incoming
            .into_iter()
            .map(|pod| (rng.next_u64(), pod))
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        incoming = keyed.into_iter().map(|(_, pod)| pod).collect();
    }
    let pods: Vec<Arc<_>> = incoming.iter().cloned().map(Arc::new).collect();
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
        let pod = &incoming[*index];
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
        check_batch_never_overcommits(seed, Some(100), false);
    }

    #[test]
    fn batch_commits_pass_naive_filters_sampling(seed in any::<u64>()) {
        check_batch_never_overcommits(seed, None, false);
    }

    #[test]
    fn mixed_batches_with_class_runs_pass_naive_filters(seed in any::<u64>()) {
        check_batch_never_overcommits(seed, None, true);
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
    use scheduler::equivalence::{decide, evaluate_all};
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

/// A template for a class run: the incoming pod stripped of what keeps
/// pods out of runs (most of the time, so the qualification check is also
/// exercised), often with an anti-affinity term or a hard spread constraint
/// selecting the template itself, so the run's pods constrain each other.
fn class_template(pod: &PodInfo, rng: &mut SplitMix64) -> PodInfo {
    let mut template = pod.clone();
    let mut chance = |percent: u64| rng.below(100) < percent;
    if chance(90) {
        template.host_ports.clear();
        template.required_affinity.clear();
        template.preferred_affinity.clear();
        template.preferred_anti_affinity.clear();
        template.node_name = None;
    }
    if chance(70) {
        template.preferred_node_terms.clear();
    }
    if chance(70) {
        template.images.clear();
    }
    if chance(70) {
        template.topology_spread.retain(|constraint| {
            constraint.when_unsatisfiable == UnsatisfiableAction::DoNotSchedule
        });
        template.default_spread_selector = None;
    }
    let own_app = LabelSelector {
        requirements: vec![LabelRequirement {
            key: "app".into(),
            operator: SelectorOperator::In,
            values: vec![template.labels.get("app").cloned().unwrap_or_default()],
        }],
        matches_nothing: false,
    };
    let key = |rng: &mut SplitMix64| {
        [support::HOSTNAME, support::ZONE, support::ZONE, "disk"][rng.below(4) as usize].to_string()
    };
    if rng.below(100) < 45 {
        template.required_anti_affinity.push(PodAffinityTerm {
            selector: own_app.clone(),
            namespaces: [template.namespace.clone()].into(),
            namespace_selector: None,
            topology_key: key(rng),
        });
    }
    if rng.below(100) < 55 {
        template.topology_spread.push(TopologySpreadConstraint {
            max_skew: 1 + rng.below(2) as i64,
            topology_key: key(rng),
            when_unsatisfiable: UnsatisfiableAction::DoNotSchedule,
            selector: own_app,
            min_domains: 1 + rng.below(4) as i64,
            node_affinity_policy: if rng.below(2) == 0 {
                InclusionPolicy::Honor
            } else {
                InclusionPolicy::Ignore
            },
            node_taints_policy: if rng.below(3) == 0 {
                InclusionPolicy::Honor
            } else {
                InclusionPolicy::Ignore
            },
        });
    }
    template
}

fn replicas(template: &PodInfo, template_index: usize, count: usize) -> Vec<PodInfo> {
    (0..count)
        .map(|replica| {
            let mut pod = template.clone();
            pod.uid = format!("uid-t{template_index}-{replica}");
            pod.name = format!("t{template_index}-{replica}");
            pod
        })
        .collect()
}

/// What a class-run check covered, to guard against a vacuous generator.
#[derive(Default)]
struct ClassRunCoverage {
    runs: usize,
    scheduled_with_spread: usize,
    scheduled_with_anti: usize,
    unschedulable: usize,
}

/// Each pod of a class run gets exactly the decision `schedule_one` gives
/// it on the state holding the run's earlier pods.
fn check_class_run_matches_schedule_one(seed: u64, coverage: &mut ClassRunCoverage) {
    let scenario = random_scenario(seed, 3);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    for (template_index, incoming) in scenario.incoming.iter().enumerate() {
        let template = class_template(incoming, &mut rng);
        let pods = replicas(&template, template_index, 2 + rng.below(6) as usize);
        for profile in [Profile::exact(), Profile::default()] {
            let mut working = (*snapshot).clone();
            let Some(mut run) = ClassRun::start(&working, &template, &profile) else {
                continue;
            };
            coverage.runs += 1;
            for (replica, pod) in pods.iter().enumerate() {
                let mut context = SchedulingContext::new(seed ^ replica as u64);
                context.next_start_node_index = replica * 3;
                context.node_parallelism = false;
                let mut reference_context = context.clone();
                let reference = schedule_one(&working, pod, &profile, &mut reference_context);
                match run.decide(&working, &mut context) {
                    Some(decision) => {
                        assert_eq!(
                            decision, reference,
                            "seed {seed} template {template_index} replica {replica}"
                        );
                        assert_eq!(
                            context.next_start_node_index, reference_context.next_start_node_index,
                            "seed {seed} template {template_index} replica {replica}"
                        );
                    }
                    None => assert!(
                        matches!(reference, Decision::Unschedulable(_)),
                        "seed {seed} template {template_index} replica {replica}: \
                         run found no node, schedule_one gave {reference:?}"
                    ),
                }
                match reference {
                    Decision::Scheduled(placement) => {
                        working.add_pod(placement.node, Arc::new(pod.clone()));
                        run.record_commit(&working, placement.node);
                        coverage.scheduled_with_spread +=
                            usize::from(!pod.topology_spread.is_empty());
                        coverage.scheduled_with_anti +=
                            usize::from(!pod.required_anti_affinity.is_empty());
                    }
                    Decision::Unschedulable(_) => coverage.unschedulable += 1,
                }
            }
        }
    }
}

/// A batch of class templates only: every pod is decided by a class run,
/// so each commit must be among the naive reference's best nodes on the
/// state holding the commits before it, and each pod left unschedulable
/// must be unschedulable there too.
fn check_batch_class_runs_pick_best_nodes(seed: u64) {
    let scenario = random_scenario(seed, 3);
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let profile = Profile::default();
    let mut rng = SplitMix64::new(seed ^ 0xba7c);
    let mut incoming = Vec::new();
    for (template_index, pod) in scenario.incoming.iter().enumerate() {
        let template = class_template(pod, &mut rng);
        let qualifies = equivalence_key(&template).is_some_and(|key| key.interacts())
            && ClassRun::qualifies(&snapshot, &template, &profile);
        if qualifies {
            incoming.extend(replicas(
                &template,
                template_index,
                2 + rng.below(5) as usize,
            ));
        }
    }
    // Interleave the classes, as a queue would.
    let mut order: Vec<usize> = (0..incoming.len()).collect();
    order.sort_by_key(|index| rng.next_u64() ^ *index as u64);
    let pods: Vec<Arc<PodInfo>> = order
        .iter()
        .map(|index| Arc::new(incoming[*index].clone()))
        .collect();
    let profiles = Profiles::new([profile.clone()]);
    let outcome = schedule_batch(
        &snapshot,
        &pods,
        &profiles,
        &mut SchedulingContext::new(seed),
    );
    assert_eq!(
        outcome.conflicts, 0,
        "seed {seed}: class runs never conflict"
    );
    let mut cluster = scenario.naive();
    let mut committed = vec![false; pods.len()];
    for index in &outcome.commit_order {
        let Some(Decision::Scheduled(placement)) = &outcome.decisions[*index] else {
            panic!("seed {seed}: committed pod without placement");
        };
        let node_name = outcome.working.node_name(placement.node).to_string();
        let pod = &pods[*index];
        let (winners, _) = naive::schedule(&cluster, pod, &profile)
            .unwrap_or_else(|message| panic!("seed {seed}: {} placed, naive: {message}", pod.name));
        assert!(
            winners.contains(&node_name),
            "seed {seed}: {} placed on {node_name}, naive best {winners:?}",
            pod.name
        );
        let mut bound = (**pod).clone();
        bound.node_name = Some(node_name);
        cluster.pods.push(bound);
        committed[*index] = true;
    }
    let existing = cluster.pods.len() - outcome.commit_order.len();
    for (index, pod) in pods.iter().enumerate() {
        if !committed[index] {
            assert!(
                matches!(outcome.decisions[index], Some(Decision::Unschedulable(_))),
                "seed {seed}: {} neither committed nor unschedulable",
                pod.name
            );
            // A class run decides against the commits before it, which are
            // a prefix of the commit order; which prefix is not recorded.
            // Later commits can take the last room, but they can also make
            // room (pods of another template with the same labels raise a
            // spread's minimum), so the pod must be unschedulable on at
            // least one prefix rather than on the final state.
            let unschedulable_on_some_prefix = (existing..=cluster.pods.len()).any(|end| {
                let mut prefix = cluster.clone();
                prefix.pods.truncate(end);
                naive::schedule(&prefix, pod, &profile).is_err()
            });
            assert!(
                unschedulable_on_some_prefix,
                "seed {seed}: {} left unschedulable but fits after every prefix of the commits",
                pod.name
            );
        }
    }
}

proptest! {
    #[test]
    fn class_run_matches_schedule_one(seed in any::<u64>()) {
        check_class_run_matches_schedule_one(seed, &mut ClassRunCoverage::default());
    }

    #[test]
    fn batch_class_runs_pick_best_nodes(seed in any::<u64>()) {
        check_batch_class_runs_pick_best_nodes(seed);
    }
}

/// A seed that once failed `batch_class_runs_pick_best_nodes`: a pod left
/// unschedulable by its class run fits the final state, because pods of
/// another template with the same labels, decided after it, raised its
/// spread's minimum.
#[test]
fn batch_class_runs_regression() {
    check_batch_class_runs_pick_best_nodes(8998609946338733496);
}

/// Guards against a vacuous class-run generator: across fixed seeds, runs
/// start, place pods with spread and with anti-affinity, and leave some
/// pods unschedulable.
#[test]
fn class_run_generator_exercises_runs() {
    let mut coverage = ClassRunCoverage::default();
    for seed in 0..300 {
        check_class_run_matches_schedule_one(seed, &mut coverage);
    }
    assert!(coverage.runs >= 100, "{} runs", coverage.runs);
    assert!(
        coverage.scheduled_with_spread >= 100,
        "{}",
        coverage.scheduled_with_spread
    );
    assert!(
        coverage.scheduled_with_anti >= 100,
        "{}",
        coverage.scheduled_with_anti
    );
    assert!(coverage.unschedulable >= 50, "{}", coverage.unschedulable);
}
