//! The TTL-after-finished controller's I/O: a finished Job with a TTL is
//! looked at again when the TTL expires, then read fresh (its TTL may have
//! changed since the cache saw it) and deleted in the foreground with a UID
//! precondition, as Kubernetes' controller does, so the Job goes only after
//! its pods.

use api::k8s_openapi::api::batch::v1::Job;
use client::{Client, DeleteParams, PropagationPolicy};
use runtime::{Action, Change, ObjectKey, Store};

use super::Error;
use crate::ttl_after_finished::{Ttl, decide};

pub struct TtlAfterFinished {
    client: Client,
    jobs: Store<Job>,
}

impl TtlAfterFinished {
    pub fn new(client: Client, jobs: Store<Job>) -> TtlAfterFinished {
        TtlAfterFinished { client, jobs }
    }

    /// A Job that may be due enqueues itself.
    pub fn job_changed(&self, change: &Change<Job>) -> Vec<ObjectKey> {
        let job = change.object();
        if matches!(change, Change::Deleted(_)) || decide(job, runtime::clock::now()) == Ttl::Keep {
            return Vec::new();
        }
        vec![ObjectKey::of(job.as_ref())]
    }

    pub async fn sync(&self, key: ObjectKey) -> Result<Action, Error> {
        let Some(job) = self.jobs.get(&key) else {
            return Ok(Action::Done);
        };
        match decide(&job, runtime::clock::now()) {
            Ttl::Keep => return Ok(Action::Done),
            Ttl::After(left) => return Ok(Action::requeue_after(left)),
            Ttl::Expired => {}
        }
        let fresh: Job = match self.client.get(&key.namespace, &key.name).await {
            Ok(fresh) => fresh,
            Err(error) if error.is_not_found() => return Ok(Action::Done),
            Err(error) => return Err(error.into()),
        };
        match decide(&fresh, runtime::clock::now()) {
            Ttl::Keep => return Ok(Action::Done),
            Ttl::After(left) => return Ok(Action::requeue_after(left)),
            Ttl::Expired => {}
        }
        let params = DeleteParams {
            precondition_uid: fresh.metadata.uid.clone(),
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        };
        match self
            .client
            .delete::<Job>(&key.namespace, &key.name, &params)
            .await
        {
            Ok(_) => Ok(Action::Done),
            // Gone, or another Job of that name now.
            Err(error) if error.is_not_found() || error.is_conflict() => Ok(Action::Done),
            Err(error) => Err(error.into()),
        }
    }
}

impl super::Reconciler for TtlAfterFinished {
    type Key = ObjectKey;

    fn reconcile(&self, key: ObjectKey) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(key)
    }
}
