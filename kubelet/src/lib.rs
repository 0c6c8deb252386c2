//! Skiff's node agent. It talks to the apiserver only through
//! `client::Client`, making the calls a Kubernetes kubelet makes: register
//! the Node, renew its Lease in `kube-node-lease`, post node status, watch
//! the pods bound to the node, write their status, and finish their
//! deletion.
//!
//! Hollow mode ([`hollow`]) simulates thousands of nodes in one process:
//! pods go through their life cycle (admission, Pending → Running with an IP
//! and conditions, completion, graceful deletion) without running anything,
//! with synthetic CPU and memory usage served as the kubelet's
//! `/metrics/resource`. What is not specific to simulating — node status,
//! leases, pod statuses, admission, IPAM, usage exposition — lives in
//! modules a real mode shares.
//!
//! Entry points: [`Args`] + [`run`] (flags, as the binary and in-process
//! launchers use them), or [`hollow::HollowKubelet::start`] with a
//! `Client` and a [`hollow::HollowConfig`] (tests, load generators).
//!
//! **Invariant:** no store access and no apiserver internals; everything
//! goes over the gRPC API.

mod admission;
mod args;
mod clock;
mod error;
pub mod hollow;
pub mod ipam;
pub mod lease;
mod metrics;
mod mix;
pub mod node_status;
pub mod pod_status;
mod template;
pub mod usage;

pub use admission::{NodeUsed, Rejection};
pub use args::{Args, run};
pub use error::{Error, TemplateError};
pub use template::{BUILT_IN_TEMPLATE, NodeResources, NodeTemplate};
