//! Pod admission against the node's allocatable resources, as the
//! kubelet's resource check does before it runs a pod: the pod is rejected
//! (phase Failed, reason `OutOfcpu`, `OutOfmemory` or `OutOfpods`) when the
//! pods already admitted plus this one exceed what the node offers. A
//! scheduler never causes this; a binder that skips the checks does.

use api::quantity::PodRequests;

use crate::template::NodeResources;

/// Why a pod does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// `cpu`, `memory` or `pods`.
    pub resource: &'static str,
    pub requested: i64,
    pub used: i64,
    pub capacity: i64,
}

impl Rejection {
    /// The pod status reason, e.g. `OutOfcpu`.
    pub fn reason(&self) -> String {
        format!("OutOf{}", self.resource)
    }

    /// The pod status message, in the kubelet's words.
    pub fn message(&self) -> String {
        format!(
            "Pod was rejected: Node didn't have enough resource: {}, requested: {}, used: {}, capacity: {}",
            self.resource, self.requested, self.used, self.capacity
        )
    }
}

/// What admitted pods use of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeUsed {
    pub milli_cpu: i64,
    pub memory_bytes: i64,
    pub pods: i64,
}

impl NodeUsed {
    /// Admits a pod with `requests` if it fits in `allocatable`, counting it.
    pub fn admit(
        &mut self,
        allocatable: NodeResources,
        requests: PodRequests,
    ) -> Result<(), Rejection> {
        let checks = [
            ("pods", 1, self.pods, allocatable.pods),
            (
                "cpu",
                requests.milli_cpu.0,
                self.milli_cpu,
                allocatable.milli_cpu,
            ),
            (
                "memory",
                requests.memory.0,
                self.memory_bytes,
                allocatable.memory_bytes,
            ),
        ];
        for (resource, requested, used, capacity) in checks {
            if requested > 0 && used.saturating_add(requested) > capacity {
                return Err(Rejection {
                    resource,
                    requested,
                    used,
                    capacity,
                });
            }
        }
        self.pods += 1;
        self.milli_cpu = self.milli_cpu.saturating_add(requests.milli_cpu.0);
        self.memory_bytes = self.memory_bytes.saturating_add(requests.memory.0);
        Ok(())
    }

    /// Counts a pod admitted earlier (found running after a restart) even
    /// if it no longer fits.
    pub fn force_admit(&mut self, requests: PodRequests) {
        self.pods += 1;
        self.milli_cpu = self.milli_cpu.saturating_add(requests.milli_cpu.0);
        self.memory_bytes = self.memory_bytes.saturating_add(requests.memory.0);
    }

    /// Forgets an admitted pod (it finished or was deleted).
    pub fn release(&mut self, requests: PodRequests) {
        self.pods = (self.pods - 1).max(0);
        self.milli_cpu = (self.milli_cpu - requests.milli_cpu.0).max(0);
        self.memory_bytes = (self.memory_bytes - requests.memory.0).max(0);
    }
}

#[cfg(test)]
mod tests {
    use api::quantity::{Bytes, MilliCpu};

    use super::*;

    fn requests(milli_cpu: i64, memory: i64) -> PodRequests {
        PodRequests {
            milli_cpu: MilliCpu(milli_cpu),
            memory: Bytes(memory),
            ephemeral_storage: Bytes(0),
        }
    }

    #[test]
    fn admits_until_full_then_names_the_resource() {
        let allocatable = NodeResources {
            milli_cpu: 1000,
            memory_bytes: 1 << 30,
            pods: 3,
        };
        let mut used = NodeUsed::default();
        used.admit(allocatable, requests(600, 0)).unwrap();
        let rejection = used.admit(allocatable, requests(600, 0)).unwrap_err();
        assert_eq!(rejection.reason(), "OutOfcpu");
        assert_eq!(
            rejection.message(),
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 600, used: 600, capacity: 1000"
        );
        used.admit(allocatable, requests(0, 0)).unwrap();
        used.admit(allocatable, requests(100, 1 << 20)).unwrap();
        assert_eq!(
            used.admit(allocatable, requests(0, 0))
                .unwrap_err()
                .reason(),
            "OutOfpods"
        );
        used.release(requests(600, 0));
        used.admit(allocatable, requests(800, 0)).unwrap();
        assert_eq!(
            used.admit(allocatable, requests(0, 2 << 30))
                .unwrap_err()
                .reason(),
            "OutOfpods"
        );
    }
}
