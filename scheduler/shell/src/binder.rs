//! The binder: one tokio task that turns the loop's placements into
//! `batch_bind` requests of up to `chunk_size` bindings, with up to
//! `max_in_flight` requests outstanding, and sends each request's results
//! back to the loop. The loop keeps scheduling meanwhile (pipelining).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use client::{Binding, Client};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::event::{BindOutcome, BindRequest, LoopEvent};
use crate::metrics::Metrics;

/// Runs until the loop drops its sender and every request has finished.
pub(crate) async fn run(
    client: Client,
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
            in_flight.push(bind_chunk(client.clone(), chunk));
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

async fn bind_chunk(client: Client, chunk: Vec<BindRequest>) -> Vec<BindOutcome> {
    let bindings: Vec<Binding> = chunk
        .iter()
        .map(|request| Binding {
            namespace: request.namespace.clone(),
            pod: request.name.clone(),
            node: request.node.clone(),
        })
        .collect();
    match client.batch_bind(&bindings).await {
        Ok(results) if results.len() == chunk.len() => chunk
            .into_iter()
            .zip(results)
            .map(|(request, result)| BindOutcome {
                uid: request.uid,
                result: result.map_err(|error| error.to_string()),
            })
            .collect(),
        Ok(results) => {
            let message = format!(
                "batch_bind answered {} results for {} bindings",
                results.len(),
                chunk.len()
            );
            fail_all(chunk, &message)
        }
        Err(error) => {
            tracing::warn!(%error, bindings = chunk.len(), "batch_bind failed");
            fail_all(chunk, &error.to_string())
        }
    }
}

fn fail_all(chunk: Vec<BindRequest>, message: &str) -> Vec<BindOutcome> {
    chunk
        .into_iter()
        .map(|request| BindOutcome {
            uid: request.uid,
            result: Err(message.to_string()),
        })
        .collect()
}
