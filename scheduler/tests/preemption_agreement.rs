//! Property tests: fast preemption picks a node the naive reference ranks
//! best, with exactly the victims the naive dry run selects there.

// Test helpers outside `#[test]` functions may panic on broken fixtures.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use scheduler::naive_preemption;
use scheduler::preemption::{PreemptionConfig, PreemptionOutcome, preempt};
use scheduler::profile::Profile;
use scheduler::rng::SplitMix64;
use scheduler::schedule::{Decision, SchedulingContext, schedule_one};

use support::random_scenario;

fn check_preemption(seed: u64) {
    let mut scenario = random_scenario(seed, 4);
    // Nominated pods of at least the preemptor's priority reserve room on
    // their node in the dry run, as in the filter.
    if seed.is_multiple_of(2) {
        scenario.nominate_some(seed);
    }
    for (index, pod) in scenario.incoming.iter_mut().enumerate() {
        pod.priority = [1000, 50, 10, 0][index % 4];
    }
    let mut state = scenario.cluster_state();
    let snapshot = state.publish();
    let cluster = scenario.naive();
    let profile = Profile::exact();
    for pod in &scenario.incoming {
        let mut context = SchedulingContext::new(seed);
        let Decision::Unschedulable(fit_error) =
            schedule_one(&snapshot, pod, &profile, &mut context)
        else {
            continue;
        };
        let mut rng = SplitMix64::new(seed);
        let outcome = preempt(
            &snapshot,
            pod,
            &profile,
            &fit_error,
            &PreemptionConfig::default(),
            &mut rng,
        );
        let naive_candidates = naive_preemption::candidates(&cluster, pod);
        match outcome {
            PreemptionOutcome::Nominate(candidate) => {
                let name = snapshot.node_name(candidate.node).to_string();
                let best = naive_preemption::best_nodes(&naive_candidates);
                assert!(
                    best.contains(&name),
                    "seed {seed} pod {}: {name} not in {best:?}",
                    pod.name
                );
                let naive = naive_candidates
                    .iter()
                    .find(|c| c.node == name)
                    .expect("candidate");
                let fast_victims: Vec<&str> =
                    candidate.victims.iter().map(|v| v.uid.as_str()).collect();
                let naive_victims: Vec<&str> =
                    naive.victims.iter().map(|v| v.uid.as_str()).collect();
                assert_eq!(
                    fast_victims, naive_victims,
                    "seed {seed} pod {} node {name}",
                    pod.name
                );
                assert_eq!(
                    candidate.pdb_violations, naive.pdb_violations,
                    "seed {seed}"
                );
            }
            PreemptionOutcome::NoCandidate { .. } | PreemptionOutcome::NotEligible => {
                assert!(
                    naive_candidates.is_empty(),
                    "seed {seed} pod {}: naive found {naive_candidates:?}",
                    pod.name
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn fast_and_naive_preemption_agree(seed in any::<u64>()) {
        check_preemption(seed);
    }
}

#[test]
fn preemption_generator_finds_victims() {
    let mut found = 0;
    for seed in 0..300 {
        let mut scenario = random_scenario(seed, 4);
        for pod in scenario.incoming.iter_mut() {
            pod.priority = 1000;
        }
        let cluster = scenario.naive();
        for pod in &scenario.incoming {
            found += naive_preemption::candidates(&cluster, pod)
                .iter()
                .filter(|c| !c.victims.is_empty())
                .count();
        }
    }
    assert!(found > 50, "only {found} candidates with victims");
}
