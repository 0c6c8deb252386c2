//! The binder: one tokio task that turns the loop's placements into chunks
//! of up to `chunk_size` bindings for the backend (one `batch_bind` each on
//! Skiff's apiserver), with up to `max_in_flight` chunks outstanding, and
//! sends each chunk's results back to the loop. The loop keeps scheduling
//! meanwhile (pipelining).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::backend::ClusterApi;
use crate::event::{BindOutcome, BindRequest, LoopEvent};
use crate::metrics::Metrics;

/// Runs until the loop drops its sender and every request has finished.
pub(crate) async fn run<B: ClusterApi>(
    backend: B,
    mut requests: UnboundedReceiver<Vec<BindRequest>>,
    loop_tx: Sender<LoopEvent>,
    metrics: Arc<Metrics>,
    chunk_size: usize,
    max_in_flight: usize,
) {
    let mut waiting: VecDeque<BindRequest> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    let mut open = true;
    loop {
        while in_flight.len() < max_in_flight && !waiting.is_empty() {
            let take = waiting.len().min(chunk_size);
            let chunk: Vec<BindRequest> = waiting.drain(..take).collect();
            in_flight.push(backend.bind_chunk(chunk));
        }
        if !open && in_flight.is_empty() && waiting.is_empty() {
            return;
        }
        tokio::select! {
            received = requests.recv(), if open => match received {
                Some(batch) => waiting.extend(batch),
                None => open = false,
            },
            Some(outcomes) = in_flight.next(), if !in_flight.is_empty() => {
                let failures = outcomes.iter().filter(|outcome| outcome.result.is_err()).count();
                metrics.record(|recorder| recorder.bind_request(failures));
                if loop_tx.send(LoopEvent::Bound(outcomes)).is_err() {
                    // The loop is gone: nothing waits for results any more.
                    open = false;
                }
            }
        }
    }
}

/// Fails every request of `chunk` with `message`.
pub(crate) fn fail_all(chunk: Vec<BindRequest>, message: &str) -> Vec<BindOutcome> {
    chunk
        .into_iter()
        .map(|request| BindOutcome {
            uid: request.uid,
            result: Err(message.to_string()),
        })
        .collect()
}
