//! The in-memory backend: writes are planned and applied inline under the
//! core's write lock. Nothing is durable.

use std::sync::Arc;

use crate::StoreFuture;
use crate::engine::{Committer, Shared};
use crate::mvcc::{Planner, Reply, Request};

/// Executes each write request inline.
pub(crate) struct MemoryCommitter {
    pub(crate) shared: Arc<Shared>,
}

impl Committer for MemoryCommitter {
    fn submit(&self, request: Request) -> StoreFuture<'_, Reply> {
        let now = self.shared.config.lease_clock.now();
        let mut core = self.shared.write_core();
        let mut changes = Vec::new();
        let result = Planner::new(&core, &self.shared.config, now).plan(request, &mut changes);
        if result.is_ok() {
            self.shared.apply(&mut core, &changes, now);
        }
        drop(core);
        Box::pin(std::future::ready(result))
    }
}
