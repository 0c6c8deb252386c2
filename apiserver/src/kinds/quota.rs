//! The kinds admission keeps track of: ResourceQuotas (their status is
//! `hard` mirrored from the spec and `used` computed from what exists on
//! create and whenever `spec.hard` changes, then kept by every charged
//! write) and LimitRanges, both noted in the namespace index before they
//! are written; PersistentVolumeClaims count their storage.

use api::k8s_openapi::api::core::v1::{LimitRange, PersistentVolumeClaim, ResourceQuota};
use prost::bytes::Bytes;

use crate::admission::namespace_index::Tracked;
use crate::admission::resource_quota::{self, Usage};
use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::request::Attributes;
use crate::state::ApiState;
use crate::verbs::store_new_plain;

/// Writes a new object of a tracked kind, noted in the index first (and
/// forgotten again if the write fails and the index did not know it).
async fn store_noted<K: Strategy>(
    state: &ApiState,
    tracked: Tracked,
    key: &str,
    object: &mut K,
) -> Result<Bytes, ApiError> {
    let namespace = object.metadata().namespace.clone().unwrap_or_default();
    let name = object.metadata().name.clone().unwrap_or_default();
    let noted = state.namespace_index.note(tracked, &namespace, &name);
    let result = store_new_plain(state, key, object).await;
    if result.is_err() && noted {
        state.namespace_index.forget(tracked, &namespace, &name);
    }
    result
}

impl Strategy for ResourceQuota {
    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        quota: &'a mut ResourceQuota,
    ) -> Result<Bytes, ApiError> {
        let own = quota.quota_usage();
        quota.status = Some(resource_quota::initial_status(state, quota, Some(&own)).await?);
        store_noted(state, Tracked::ResourceQuota, key, quota).await
    }

    async fn admit_update(
        state: &ApiState,
        attributes: &Attributes,
        old: &ResourceQuota,
        quota: &mut ResourceQuota,
    ) -> Result<(), ApiError> {
        let hard = |q: &ResourceQuota| q.spec.as_ref().and_then(|s| s.hard.clone());
        if attributes.subresource == "status" || hard(old) == hard(quota) {
            return Ok(());
        }
        let own = quota.quota_usage();
        quota.status = Some(resource_quota::initial_status(state, quota, Some(&own)).await?);
        Ok(())
    }
}

impl Strategy for LimitRange {
    async fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        range: &'a mut LimitRange,
    ) -> Result<Bytes, ApiError> {
        store_noted(state, Tracked::LimitRange, key, range).await
    }
}

impl Strategy for PersistentVolumeClaim {
    fn quota_usage(&self) -> Usage {
        resource_quota::claim_usage(self)
    }
}
