//! Preemptions the loop decided: which victims are still going, and which
//! preemptors are nominated where.
//!
//! Three rules follow from it, as in kube-scheduler:
//! - a preemptor does not preempt again while victims on its nominated node
//!   are still going (kube-scheduler: terminating victims on the nominated
//!   node), since it would pick more victims for room being freed;
//! - when a victim is seen gone, the preemptors nominated to its node are
//!   retried at once, instead of waiting out a backoff grown by the attempts
//!   they failed meanwhile;
//! - a watch event of a preemptor written before its nomination reached the
//!   store does not release the room it holds (kube-scheduler's nominator
//!   keeps it the same way).

use std::collections::{HashMap, HashSet};

/// Victims and nominations of the preemptions in progress.
#[derive(Default)]
pub(super) struct Preemptions {
    /// Preemptor uid → the node it is nominated to.
    nominated: HashMap<String, String>,
    /// Node → the preemptors nominated to it.
    by_node: HashMap<String, HashSet<String>>,
    /// Victim uid → its node, from the decision until it is seen gone (or
    /// its deletion failed).
    going: HashMap<String, String>,
    /// Node → how many of `going` are on it.
    going_on_node: HashMap<String, usize>,
}

impl Preemptions {
    /// The loop nominated `preemptor` to `node` and asked for `victims` to
    /// go.
    pub(super) fn start(
        &mut self,
        preemptor: &str,
        node: &str,
        victims: impl IntoIterator<Item = String>,
    ) {
        self.forget(preemptor);
        for victim in victims {
            if self.going.insert(victim, node.to_string()).is_none() {
                *self.going_on_node.entry(node.to_string()).or_default() += 1;
            }
        }
        self.nominated
            .insert(preemptor.to_string(), node.to_string());
        self.by_node
            .entry(node.to_string())
            .or_default()
            .insert(preemptor.to_string());
    }

    /// Whether `preemptor` may preempt: not while victims on the node it is
    /// nominated to are still going.
    pub(super) fn may_preempt(&self, preemptor: &str) -> bool {
        self.nominated
            .get(preemptor)
            .is_none_or(|node| !self.going_on_node.contains_key(node))
    }

    /// The node `preemptor` was nominated to by this loop.
    pub(super) fn nominated_node(&self, preemptor: &str) -> Option<&str> {
        self.nominated.get(preemptor).map(String::as_str)
    }

    /// The preemptor task could not delete these victims (or nominate their
    /// preemptor, so it deleted none): they are not going after all.
    pub(super) fn not_going(&mut self, victims: &[String]) {
        for victim in victims {
            self.release(victim);
        }
    }

    /// A pod was deleted. Returns the preemptors nominated to the node it
    /// was a victim on: room there is free.
    pub(super) fn pod_gone(&mut self, uid: &str) -> Vec<String> {
        self.forget(uid);
        match self.release(uid).and_then(|node| self.by_node.get(&node)) {
            Some(preemptors) => preemptors.iter().cloned().collect(),
            None => Vec::new(),
        }
    }

    /// The preemptor was bound or deleted: it holds no nomination now.
    pub(super) fn forget(&mut self, preemptor: &str) {
        let Some(node) = self.nominated.remove(preemptor) else {
            return;
        };
        if let Some(preemptors) = self.by_node.get_mut(&node) {
            preemptors.remove(preemptor);
            if preemptors.is_empty() {
                self.by_node.remove(&node);
            }
        }
    }

    /// Stops counting `victim` as going; returns its node.
    fn release(&mut self, victim: &str) -> Option<String> {
        let node = self.going.remove(victim)?;
        if let Some(count) = self.going_on_node.get_mut(&node) {
            *count -= 1;
            if *count == 0 {
                self.going_on_node.remove(&node);
            }
        }
        Some(node)
    }

    /// Whether nothing is tracked (for tests).
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.nominated.is_empty()
            && self.by_node.is_empty()
            && self.going.is_empty()
            && self.going_on_node.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn victims(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_victim_gone_retries_the_preemptors_nominated_to_its_node() {
        let mut preemptions = Preemptions::default();
        preemptions.start("p", "n1", victims(&["v1", "v2"]));
        preemptions.start("q", "n2", victims(&["v3"]));
        assert!(!preemptions.may_preempt("p"));
        assert_eq!(preemptions.pod_gone("v1"), ["p"]);
        assert!(!preemptions.may_preempt("p"), "v2 is still going");
        assert!(preemptions.pod_gone("unrelated").is_empty());
        assert_eq!(preemptions.pod_gone("v2"), ["p"]);
        assert!(preemptions.may_preempt("p"), "its room was freed");
        assert_eq!(preemptions.nominated_node("p"), Some("n1"));
        preemptions.forget("p");
        assert_eq!(preemptions.pod_gone("v3"), ["q"]);
        preemptions.forget("q");
        assert!(preemptions.is_empty());
    }

    #[test]
    fn victims_of_another_preemption_on_the_node_hold_back_a_preemptor() {
        let mut preemptions = Preemptions::default();
        preemptions.start("p", "n", victims(&["v1"]));
        // q needs more room on n: p's victim and one more.
        preemptions.start("q", "n", victims(&["v1", "v2"]));
        let mut woken = preemptions.pod_gone("v1");
        woken.sort();
        assert_eq!(woken, ["p", "q"]);
        // Whichever of them does not fit yet waits for v2.
        assert!(!preemptions.may_preempt("p"));
        assert!(!preemptions.may_preempt("q"));
        preemptions.pod_gone("v2");
        assert!(preemptions.may_preempt("p"));
    }

    #[test]
    fn victims_not_deleted_stop_holding_the_node() {
        let mut preemptions = Preemptions::default();
        preemptions.start("p", "n", victims(&["v1", "v2"]));
        preemptions.not_going(&victims(&["v1", "v2"]));
        assert!(preemptions.may_preempt("p"));
        assert!(preemptions.pod_gone("v1").is_empty());
    }

    #[test]
    fn a_new_preemption_moves_the_nomination() {
        let mut preemptions = Preemptions::default();
        preemptions.start("p", "n1", victims(&[]));
        preemptions.start("p", "n2", victims(&["v"]));
        assert_eq!(preemptions.nominated_node("p"), Some("n2"));
        assert_eq!(preemptions.pod_gone("v"), ["p"]);
        preemptions.pod_gone("p");
        assert!(preemptions.is_empty());
    }
}
