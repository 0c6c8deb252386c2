//! The scheduler service: list+watch, queue, batched binds, events, leader election, shards, metrics.
