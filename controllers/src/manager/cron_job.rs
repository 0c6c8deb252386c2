//! The CronJob controller's I/O: a CronJob is synced when it or one of
//! its Jobs changes, and again at its next scheduled time; a sync carries
//! out [`crate::cron_job::plan`].

use std::sync::Arc;
use std::time::Duration;

use api::k8s_openapi::api::batch::v1::{CronJob, Job};
use client::{Client, DeleteParams, PropagationPolicy};
use runtime::{Action, Change, ObjectKey, Store};

use super::Error;
use crate::cron_job::{plan, with_active};
use crate::owner::controller_of;

/// A little past the scheduled time, so the clock has surely reached it.
const AFTER_SCHEDULE: Duration = Duration::from_millis(100);

pub struct CronJobs {
    client: Client,
    cron_jobs: Store<CronJob>,
    jobs: Store<Job>,
}

impl CronJobs {
    pub fn new(client: Client, cron_jobs: Store<CronJob>, jobs: Store<Job>) -> CronJobs {
        CronJobs {
            client,
            cron_jobs,
            jobs,
        }
    }

    pub fn cron_job_changed(&self, change: &Change<CronJob>) -> Vec<ObjectKey> {
        vec![ObjectKey::of(change.object().as_ref())]
    }

    /// A Job change syncs the CronJob that controls it.
    pub fn job_changed(&self, change: &Change<Job>) -> Vec<ObjectKey> {
        let job = change.object();
        controller_of(&job.metadata)
            .filter(|owner| owner.kind == "CronJob" && owner.api_version.starts_with("batch/"))
            .map(|owner| {
                ObjectKey::new(
                    job.metadata.namespace.clone().unwrap_or_default(),
                    owner.name.clone(),
                )
            })
            .into_iter()
            .collect()
    }

    async fn delete_job(&self, namespace: &str, name: &str) -> Result<(), Error> {
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match self.client.delete::<Job>(namespace, name, &params).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_not_found() => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let Some(cron_job) = self.cron_jobs.get(&key) else {
            return Ok(Action::Done);
        };
        let uid = cron_job.metadata.uid.as_deref().unwrap_or("");
        let owned: Vec<Arc<Job>> = self
            .jobs
            .owned_by(uid)
            .into_iter()
            .filter(|job| controller_of(&job.metadata).is_some_and(|owner| owner.uid == uid))
            .collect();
        let jobs: Vec<&Job> = owned.iter().map(Arc::as_ref).collect();
        let plan = match plan(&cron_job, &jobs, runtime::clock::now()) {
            Ok(plan) => plan,
            Err(error) => {
                // Retrying cannot fix the schedule; an edit requeues it.
                tracing::warn!("{error}");
                return Ok(Action::Done);
            }
        };
        if let Some(skipped) = &plan.skipped {
            tracing::info!(cronjob = %key, "{skipped}");
        }
        for name in plan.delete_history.iter().chain(&plan.delete_active) {
            self.delete_job(&key.namespace, name).await?;
        }
        let mut status = plan.status;
        if let Some(job) = &plan.create {
            match self.client.create(&key.namespace, job).await {
                Ok(created) => status = with_active(status, &created),
                // Created by an earlier sync whose status write was lost.
                Err(error) if error.is_already_exists() => {}
                Err(error) => return Err(error.into()),
            }
        }
        if cron_job.status.as_ref() != Some(&status) {
            let mut updated = (*cron_job).clone();
            updated.status = Some(status);
            self.client.update_status(&updated).await?;
        }
        Ok(match plan.requeue_after {
            Some(wait) => Action::requeue_after(wait + AFTER_SCHEDULE),
            None => Action::Done,
        })
    }
}

impl super::Reconciler for CronJobs {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
