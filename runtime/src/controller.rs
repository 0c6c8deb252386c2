//! The controller runner: workers that take keys from a [`WorkQueue`],
//! reconcile them and act on the outcome, as a Kubernetes controller's
//! `processNextWorkItem` loop does.
//!
//! A reconcile returns an [`Action`] (done, or look again after a while)
//! or an error, which retries the key with its rate-limited backoff.

use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::time::Duration;

use crate::queue::WorkQueue;

/// What to do with a key after a successful reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the key is added again (a watched change).
    Done,
    /// Reconcile again after this long (e.g. when a pod becomes available).
    RequeueAfter(Duration),
}

impl Action {
    pub fn requeue_after(delay: Duration) -> Action {
        Action::RequeueAfter(delay)
    }
}

/// Runs `workers` workers over `queue` until it shuts down; each key is
/// reconciled by one worker at a time. `name` labels the logs.
pub async fn run<T, F, Fut, E>(name: &str, queue: WorkQueue<T>, workers: usize, reconcile: F)
where
    T: Hash + Eq + Clone + Display + Send + Sync + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Action, E>> + Send,
    E: Display,
{
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let (queue, reconcile, name) = (queue.clone(), reconcile.clone(), name.to_string());
        tasks.spawn(async move {
            while let Some(key) = queue.get().await {
                match reconcile(key.clone()).await {
                    Ok(Action::Done) => queue.forget(&key),
                    Ok(Action::RequeueAfter(delay)) => {
                        queue.forget(&key);
                        queue.add_after(key.clone(), delay);
                    }
                    Err(error) => {
                        tracing::warn!(
                            controller = %name,
                            %key,
                            retries = queue.failures(&key),
                            "sync failed: {error}"
                        );
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::RateLimits;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    /// Every reconcile of a key fails `failures` times, then asks for one
    /// more look after a second, then is done.
    #[tokio::test(start_paused = true)]
    async fn errors_retry_with_backoff_and_requeues_come_back() {
        let queue = WorkQueue::new(RateLimits::default());
        let calls: Arc<Mutex<HashMap<String, Vec<tokio::time::Instant>>>> = Arc::default();
        let start = tokio::time::Instant::now();
        queue.add("a".to_string());
        queue.add("b".to_string());
        let runner = tokio::spawn({
            let (queue, calls) = (queue.clone(), Arc::clone(&calls));
            async move {
                run("test", queue, 2, move |key: String| {
                    let calls = Arc::clone(&calls);
                    async move {
                        let count = {
                            let mut calls = calls.lock().unwrap_or_else(|p| p.into_inner());
                            let seen = calls.entry(key.clone()).or_default();
                            seen.push(tokio::time::Instant::now());
                            seen.len()
                        };
                        let failures = if key == "a" { 2 } else { 0 };
                        match count {
                            n if n <= failures => Err(format!("failure {n}")),
                            n if n == failures + 1 => {
                                Ok(Action::requeue_after(Duration::from_secs(1)))
                            }
                            _ => Ok(Action::Done),
                        }
                    }
                })
                .await;
            }
        });
        let done = |calls: &Arc<Mutex<HashMap<String, Vec<tokio::time::Instant>>>>| {
            let calls = calls.lock().unwrap_or_else(|p| p.into_inner());
            calls.get("a").map_or(0, Vec::len) == 4 && calls.get("b").map_or(0, Vec::len) == 2
        };
        while !done(&calls) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        queue.shut_down();
        runner.await.unwrap_or_default();
        let calls = calls.lock().unwrap_or_else(|p| p.into_inner());
        let offsets = |key: &str| -> Vec<u128> {
            calls[key]
                .iter()
                .map(|at| (*at - start).as_millis())
                .collect()
        };
        // a: fails at 0, retried after 5 ms, fails, after 10 ms more
        // succeeds with a requeue, looked at again a second later.
        assert_eq!(offsets("a"), [0, 5, 15, 1015]);
        assert_eq!(offsets("b"), [0, 1000]);
        // Success forgot the failures.
        assert_eq!(queue.failures(&"a".to_string()), 0);
    }
}
