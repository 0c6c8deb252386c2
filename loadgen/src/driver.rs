//! Creating pods: `--clients` concurrent clients send `batch_create` calls
//! on an open-loop schedule (pod `i` is due `i / rate` seconds after the
//! phase starts, whatever the server's answers; unlimited when no rate is
//! given), and churn that deletes bound pods and creates new ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Pod;
use client::{Client, DeleteParams};
use tokio::time::Instant;

use crate::Error;
use crate::observe::Observer;
use crate::scenario::{Churn, Phase, Plan};

/// Attempts of one batch on a retryable error (server busy or restarting).
const BATCH_ATTEMPTS: u32 = 20;
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// How creating one phase went.
#[derive(Clone, Debug, Default)]
pub(crate) struct CreateOutcome {
    pub(crate) created: usize,
    pub(crate) failed: usize,
    /// The first few item errors, for the report.
    pub(crate) errors: Vec<String>,
}

/// Creates the pods of `phase` from `clients` on the open-loop schedule.
pub(crate) async fn create_phase(
    clients: &[Client],
    namespace: &str,
    plan: &Arc<Plan>,
    phase: &Phase,
    rate: Option<f64>,
    batch_size: usize,
) -> Result<CreateOutcome, Error> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in clients {
        let client = client.clone();
        let next = next.clone();
        let plan = plan.clone();
        let phase = phase.clone();
        let namespace = namespace.to_string();
        tasks.spawn(async move {
            create_loop(
                &client, &namespace, &plan, &phase, &next, start, rate, batch_size,
            )
            .await
        });
    }
    let mut outcome = CreateOutcome::default();
    while let Some(result) = tasks.join_next().await {
        let part = result.map_err(|error| Error::Component {
            component: "pod creation".to_string(),
            message: error.to_string(),
        })??;
        outcome.created += part.created;
        outcome.failed += part.failed;
        for error in part.errors {
            if outcome.errors.len() < 5 {
                outcome.errors.push(error);
            }
        }
    }
    Ok(outcome)
}

#[allow(clippy::too_many_arguments, reason = "one task's whole context")]
async fn create_loop(
    client: &Client,
    namespace: &str,
    plan: &Plan,
    phase: &Phase,
    next: &AtomicUsize,
    start: Instant,
    rate: Option<f64>,
    batch_size: usize,
) -> Result<CreateOutcome, Error> {
    let mut outcome = CreateOutcome::default();
    let total = phase.count;
    loop {
        let due = match rate {
            None => total,
            Some(rate) => {
                let elapsed = start.elapsed().as_secs_f64();
                // Truncation is the schedule: pod i is due at i / rate.
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let due = (elapsed * rate) as usize + 1;
                due.min(total)
            }
        };
        let claimed = next.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < due).then(|| (n + batch_size).min(due))
        });
        let first = match claimed {
            Ok(first) => first,
            Err(current) if current >= total => return Ok(outcome),
            Err(current) => {
                if let Some(rate) = rate {
                    #[allow(clippy::cast_precision_loss)]
                    let at = start + Duration::from_secs_f64(current as f64 / rate);
                    tokio::time::sleep_until(at).await;
                }
                continue;
            }
        };
        let last = (first + batch_size).min(due);
        let pods: Vec<Pod> = (first..last).map(|index| plan.pod(phase, index)).collect();
        create_batch(client, namespace, &pods, &mut outcome).await?;
    }
}

/// Sends one batch, retrying while the server is busy or unreachable.
pub(crate) async fn create_batch(
    client: &Client,
    namespace: &str,
    pods: &[Pod],
    outcome: &mut CreateOutcome,
) -> Result<(), Error> {
    let mut attempt = 0;
    let results = loop {
        attempt += 1;
        match client.batch_create(namespace, pods).await {
            Ok(results) => break results,
            Err(error) if error.is_retryable() && attempt < BATCH_ATTEMPTS => {
                tracing::debug!(%error, attempt, "batch create retried");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(error) => {
                return Err(Error::api(
                    format!("creating {} pods in {namespace}", pods.len()),
                    error,
                ));
            }
        }
    };
    for result in results {
        match result {
            Ok(_) => outcome.created += 1,
            // A retried batch may have been applied the first time.
            Err(error) if error.is_already_exists() => outcome.created += 1,
            Err(error) => {
                outcome.failed += 1;
                if outcome.errors.len() < 5 {
                    outcome.errors.push(error.to_string());
                }
            }
        }
    }
    Ok(())
}

/// Deletes the oldest bound pods and creates as many new ones every tick
/// until `stop` turns true. Deleted pods are marked in the recording so the
/// checker does not take them for preemption victims.
pub(crate) async fn churn(
    client: Client,
    namespace: String,
    plan: Arc<Plan>,
    churn: Churn,
    observer: Observer,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<CreateOutcome, Error> {
    let mut outcome = CreateOutcome::default();
    let created = AtomicUsize::new(0);
    let mut ticker = tokio::time::interval(churn.tick);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return Ok(outcome),
        }
        if *stop.borrow() {
            return Ok(outcome);
        }
        let victims = {
            let mut observed = observer.lock();
            let victims = observed.take_bound(churn.pods_per_tick);
            if let Some(recording) = observed.recording.as_mut() {
                recording
                    .driver_deleted
                    .extend(victims.iter().map(|(_, uid)| uid.clone()));
            }
            victims
        };
        let params = DeleteParams::immediate();
        let deletes = victims
            .iter()
            .map(|(name, _)| client.delete::<Pod>(&namespace, name, &params));
        for result in futures::future::join_all(deletes).await {
            if let Err(error) = result
                && !error.is_not_found()
            {
                return Err(Error::api("deleting a churn pod", error));
            }
        }
        let first = created.fetch_add(victims.len(), Ordering::Relaxed);
        let pods: Vec<Pod> = (first..first + victims.len())
            .map(|index| plan.churn_pod(index))
            .collect();
        if !pods.is_empty() {
            create_batch(&client, &namespace, &pods, &mut outcome).await?;
        }
    }
}
