//! What every component that keeps a cache of the apiserver's objects
//! shares, between [`client`] and its users (the scheduler shell, the
//! kubelet, the controllers, loadgen), split as kube-runtime splits it:
//!
//! - [`watcher`]: list, then watch, relisting when the watch is too old;
//! - [`reflector`]: one writer applying watcher items to a cache that many
//!   readers share, returning what changed (the relist diff included);
//! - [`queue`]: a deduplicating, rate-limited work queue of keys;
//! - [`informer`]: one list + watch per kind shared by a process, with
//!   handlers called on each change;
//! - [`controller`]: workers that reconcile keys from a queue;
//! - [`leader_election`]: one active process among replicas, through a
//!   Lease.

pub mod clock;
pub mod controller;
pub mod informer;
pub mod leader_election;
pub mod queue;
pub mod reflector;
pub mod watcher;

pub use controller::Action;
pub use informer::{Informer, Informers};
pub use queue::{RateLimits, TokenBucket, WorkQueue};
pub use reflector::{Change, IndexFn, ObjectKey, Store, Writer};
pub use watcher::{WatcherEvent, watcher};
