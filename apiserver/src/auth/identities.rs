//! The users Skiff's own components authenticate as. On start the
//! apiserver issues each a client certificate and writes its kubeconfig
//! into the security directory (as kubeadm writes `scheduler.conf` and
//! `kubelet.conf`); the components speak gRPC, so these name the gRPC
//! address.

/// The scheduler, as kube-scheduler (bound to `system:kube-scheduler`,
/// `system:volume-scheduler` and Skiff's `skiff:scheduler`).
pub const SCHEDULER_USER: &str = "system:kube-scheduler";
/// The controller manager, as kube-controller-manager.
pub const CONTROLLER_MANAGER_USER: &str = "system:kube-controller-manager";
/// A hollow kubelet process (many simulated nodes; bound to `system:node`).
pub const HOLLOW_KUBELET_USER: &str = "skiff:hollow-kubelet";
/// The group of kubelets.
pub const NODES_GROUP: &str = "system:nodes";

/// File names of the components' kubeconfigs in the security directory.
pub const SCHEDULER_KUBECONFIG: &str = "scheduler.kubeconfig";
pub const CONTROLLER_MANAGER_KUBECONFIG: &str = "controller-manager.kubeconfig";
pub const KUBELET_KUBECONFIG: &str = "kubelet.kubeconfig";

/// One component's kubeconfig in the security directory.
#[derive(Clone, Copy, Debug)]
pub struct ComponentIdentity {
    /// File name in the security directory.
    pub file: &'static str,
    pub user: &'static str,
    pub groups: &'static [&'static str],
}

/// The kubeconfigs the apiserver writes for its components.
pub const COMPONENT_IDENTITIES: [ComponentIdentity; 3] = [
    ComponentIdentity {
        file: SCHEDULER_KUBECONFIG,
        user: SCHEDULER_USER,
        groups: &[],
    },
    ComponentIdentity {
        file: CONTROLLER_MANAGER_KUBECONFIG,
        user: CONTROLLER_MANAGER_USER,
        groups: &[],
    },
    ComponentIdentity {
        file: KUBELET_KUBECONFIG,
        user: HOLLOW_KUBELET_USER,
        groups: &[NODES_GROUP],
    },
];
