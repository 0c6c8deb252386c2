//! Resource kinds: what is particular to each kind, behind one
//! [`Strategy`] trait, and the kind table that maps a resource plural to it.
//!
//! The verbs (`verbs/`) are written once, generic over `K: Strategy`; a
//! kind's file overrides only the hooks where it differs from the default
//! (status on create, admission, how a new object is written, what a write
//! changes elsewhere in the same transaction, delete grace). Adding a kind
//! is a line in `api::for_each_kind!` plus, if it needs any hook, one file
//! here; no verb changes.
//!
//! The kinds CustomResourceDefinitions add at runtime (`custom`) are one
//! more [`KindOps`] implementation, looked up only when the static table
//! has no built-in kind of that name.

mod crd;
pub(crate) mod custom;
mod event;
mod job;
mod lease;
mod namespace;
mod node;
mod pod;
mod priority_class;
mod quota;
mod service;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use api::{ApiObject, KindInfo};
use prost::bytes::Bytes;
use store::Op;

use crate::admission::NamespaceFacts;
use crate::admission::resource_quota::{self, Usage};
use crate::arbiter::CountChange;
use crate::error::ApiError;
use crate::request::Attributes;
use crate::state::ApiState;
use crate::verbs::{self, DeleteOptions, Deleted, Patcher, WriteOptions};

pub(crate) use custom::{CustomKind, CustomResources};
pub(crate) use event::EventLeases;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What is particular to one kind. Every hook has the default most kinds
/// want; time-independent hooks are plain functions, hooks that read the
/// store are async.
pub(crate) trait Strategy: ApiObject + StatusPart {
    /// The status a new object starts with, after defaults: kinds with a
    /// status subresource start with none (their controllers write it).
    fn prepare_for_create(&mut self) {
        if Self::HAS_STATUS {
            self.clear_status();
        }
    }

    /// Kind-specific admission of a create, after NamespaceLifecycle (whose
    /// read of the namespace gave `namespace`) and before defaults
    /// (mutating plugins first, then validating ones).
    fn admit_create(
        _state: &ApiState,
        _attributes: &Attributes,
        _namespace: &NamespaceFacts,
        _object: &mut Self,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        async { Ok(()) }
    }

    /// What an update keeps of the stored object besides server-owned
    /// metadata and status (e.g. a service's allocations), and the
    /// immutability checks that need the raw request.
    fn prepare_for_update(&mut self, _old: &Self) -> Result<(), ApiError> {
        Ok(())
    }

    /// Kind-specific admission of an update replacing `old` (mutating,
    /// then validating).
    fn admit_update(
        _state: &ApiState,
        _attributes: &Attributes,
        _old: &Self,
        _object: &mut Self,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        async { Ok(()) }
    }

    /// Kind-specific admission of a delete of the stored object.
    fn admit_delete(
        _state: &ApiState,
        _attributes: &Attributes,
        _object: &Self,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        async { Ok(()) }
    }

    /// What the object counts toward its namespace's ResourceQuotas
    /// (by default its object counts).
    fn quota_usage(&self) -> Usage {
        resource_quota::object_usage(&Self::INFO)
    }

    /// The object as a pod, for the plugins that treat pods apart.
    fn as_pod(&self) -> Option<&api::k8s_openapi::api::core::v1::Pod> {
        None
    }

    /// Writes a new, fully prepared object at the free `key` and returns
    /// it as sent to clients. The default is a create-if-absent; kinds that
    /// allocate or account do it in the same transaction.
    fn store_new<'a>(
        state: &'a ApiState,
        key: &'a str,
        object: &'a mut Self,
    ) -> impl Future<Output = Result<Bytes, ApiError>> + Send + 'a {
        verbs::store_new_plain(state, key, object)
    }

    /// How replacing `old` by `new` (`None`: deleting it for good) changes
    /// the usage record of a node, written in the same transaction.
    fn count_change(_old: &Self, _new: Option<&Self>) -> Option<CountChange> {
        None
    }

    /// Store operations that release what the object holds once it is
    /// deleted for good, in the same transaction as the delete.
    fn release_ops(&self) -> Vec<Op> {
        Vec::new()
    }

    /// Seconds a delete waits before the object goes (0: at once); pods
    /// wait for their kubelet.
    fn delete_grace_seconds(&self, _requested: Option<i64>) -> i64 {
        0
    }

    /// How a write through `subresource` (other than `status`) replaces its
    /// part of the object; `None` when the kind has no such subresource.
    fn part_update(_subresource: &str) -> Option<PartUpdate<Self>> {
        None
    }
}

/// A subresource that writes one part of an object (as `status` writes the
/// status): the verbs start from the stored object, `take` moves the part
/// from the request's object into it, and `validate` checks the result
/// against the stored one instead of the kind's update validation.
pub(crate) struct PartUpdate<K> {
    pub(crate) take: fn(&mut K, &mut K),
    pub(crate) validate: fn(&K, &K) -> Result<(), api::FieldErrors>,
}

/// Typed access to a kind's `status` (a no-op for kinds without one), so
/// the verbs split status from the rest without knowing the kind.
pub(crate) trait StatusPart {
    /// Whether the kind has a status (must match `KindInfo::has_status`).
    const HAS_STATUS: bool;
    /// Moves `from`'s status into `self` (none if `from` has none).
    fn take_status_from(&mut self, from: &mut Self);
    /// Copies `from`'s status into `self`.
    fn copy_status_from(&mut self, from: &Self);
    fn clear_status(&mut self);
}

macro_rules! with_status {
    ($($t:ty),* $(,)?) => {$(
        impl StatusPart for $t {
            const HAS_STATUS: bool = true;
            fn take_status_from(&mut self, from: &mut Self) {
                self.status = from.status.take();
            }
            fn copy_status_from(&mut self, from: &Self) {
                self.status.clone_from(&from.status);
            }
            fn clear_status(&mut self) {
                self.status = None;
            }
        }
    )*};
}

macro_rules! without_status {
    ($($t:ty),* $(,)?) => {$(
        impl StatusPart for $t {
            const HAS_STATUS: bool = false;
            fn take_status_from(&mut self, _from: &mut Self) {}
            fn copy_status_from(&mut self, _from: &Self) {}
            fn clear_status(&mut self) {}
        }
    )*};
}

/// Kinds with no hook of their own.
macro_rules! default_strategy {
    ($($t:ty),* $(,)?) => {$( impl Strategy for $t {} )*};
}

mod status_parts {
    use super::{StatusPart, Strategy};
    use api::k8s_openapi::api::{
        apps, autoscaling, batch, coordination, core, discovery, networking, policy, rbac,
        scheduling,
    };
    use api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

    with_status!(
        CustomResourceDefinition,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::Pod,
        core::v1::Service,
        apps::v1::ReplicaSet,
        core::v1::ReplicationController,
        apps::v1::Deployment,
        apps::v1::DaemonSet,
        apps::v1::StatefulSet,
        batch::v1::Job,
        batch::v1::CronJob,
        autoscaling::v2::HorizontalPodAutoscaler,
        policy::v1::PodDisruptionBudget,
        networking::v1::Ingress,
        core::v1::ResourceQuota,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
    );
    without_status!(
        core::v1::Endpoints,
        discovery::v1::EndpointSlice,
        scheduling::v1::PriorityClass,
        coordination::v1::Lease,
        core::v1::Event,
        core::v1::Binding,
        networking::v1::IngressClass,
        core::v1::Secret,
        core::v1::ConfigMap,
        core::v1::ServiceAccount,
        rbac::v1::Role,
        rbac::v1::ClusterRole,
        rbac::v1::RoleBinding,
        rbac::v1::ClusterRoleBinding,
        core::v1::LimitRange,
    );
    default_strategy!(
        core::v1::Endpoints,
        discovery::v1::EndpointSlice,
        core::v1::Binding,
        networking::v1::IngressClass,
        core::v1::Secret,
        core::v1::ConfigMap,
        core::v1::ServiceAccount,
        rbac::v1::Role,
        rbac::v1::ClusterRole,
        rbac::v1::RoleBinding,
        rbac::v1::ClusterRoleBinding,
        apps::v1::ReplicaSet,
        core::v1::ReplicationController,
        apps::v1::Deployment,
        apps::v1::DaemonSet,
        apps::v1::StatefulSet,
        batch::v1::CronJob,
        autoscaling::v2::HorizontalPodAutoscaler,
        policy::v1::PodDisruptionBudget,
        networking::v1::Ingress,
        core::v1::PersistentVolume,
    );
}

/// The verbs of one kind behind a trait object, so a request dispatches
/// on its resource plural once.
pub(crate) trait KindOps: Send + Sync {
    fn info(&self) -> &'static KindInfo;

    /// The custom resource behind this kind (`None` for built-in kinds).
    fn custom(&self) -> Option<&CustomKind> {
        None
    }

    /// The fields of `body` the kind does not have (`fieldValidation`).
    fn unknown_fields(&self, body: &[u8]) -> Vec<String>;

    /// Creates an object from a request body; returns it as sent to clients.
    fn create<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>>;

    /// Replaces an object (or, for the `status` subresource, its status)
    /// from a request body; returns it as sent to clients.
    fn update<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>>;

    /// Patches the stored object with `patcher`; returns it as sent to clients.
    fn patch<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        patcher: &'a Patcher,
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>>;

    /// What a stored object of this kind counts toward `quota` (`None` if
    /// the quota's scopes leave it out).
    fn quota_usage(
        &self,
        stored: &[u8],
        quota: &api::k8s_openapi::api::core::v1::ResourceQuota,
    ) -> Result<Option<Usage>, ApiError>;

    /// Deletes an object (or starts its graceful deletion).
    fn delete<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        options: &'a DeleteOptions,
    ) -> BoxFuture<'a, Result<Deleted, ApiError>>;
}

struct Typed<K>(PhantomData<fn() -> K>);

impl<K: Strategy> KindOps for Typed<K> {
    fn info(&self) -> &'static KindInfo {
        &K::INFO
    }

    fn unknown_fields(&self, body: &[u8]) -> Vec<String> {
        verbs::unknown_fields::<K>(body)
    }

    fn create<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::create::<K>(state, attributes, body, options))
    }

    fn update<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        body: &'a [u8],
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::update::<K>(state, attributes, body, options))
    }

    fn patch<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        patcher: &'a Patcher,
        options: &'a WriteOptions,
    ) -> BoxFuture<'a, Result<Bytes, ApiError>> {
        Box::pin(verbs::patch::<K>(state, attributes, patcher, options))
    }

    fn quota_usage(
        &self,
        stored: &[u8],
        quota: &api::k8s_openapi::api::core::v1::ResourceQuota,
    ) -> Result<Option<Usage>, ApiError> {
        resource_quota::stored_usage::<K>(stored, quota)
    }

    fn delete<'a>(
        &'a self,
        state: &'a ApiState,
        attributes: &'a Attributes,
        options: &'a DeleteOptions,
    ) -> BoxFuture<'a, Result<Deleted, ApiError>> {
        Box::pin(verbs::delete::<K>(state, attributes, options))
    }
}

/// Every served kind: the built-in ones by plural (`bindings` is served by
/// the bind path only), then the custom resources by resource key.
pub(crate) struct KindTable {
    by_plural: HashMap<&'static str, Arc<dyn KindOps>>,
    /// The kinds CustomResourceDefinitions add, swapped whole on change.
    pub(crate) custom: CustomResources,
}

impl KindTable {
    pub(crate) fn new() -> KindTable {
        let mut by_plural: HashMap<&'static str, Arc<dyn KindOps>> = HashMap::new();
        macro_rules! register {
            ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
                if $plural != "bindings" {
                    by_plural.insert($plural, Arc::new(Typed::<$t>(PhantomData)));
                }
            };
        }
        api::for_each_kind!(register);
        by_plural.insert(
            custom::CRD_PLURAL,
            Arc::new(Typed::<
                api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            >(PhantomData)),
        );
        KindTable {
            by_plural,
            custom: CustomResources::default(),
        }
    }

    /// The kind stored under `resource_key`: a built-in plural, or a
    /// custom resource's `<plural>.<group>`.
    pub(crate) fn get(&self, resource_key: &str) -> Result<Arc<dyn KindOps>, ApiError> {
        if let Some(kind) = self.by_plural.get(resource_key) {
            return Ok(kind.clone());
        }
        self.custom
            .get(resource_key)
            .ok_or_else(|| ApiError::UnknownResource(resource_key.to_string()))
    }

    /// The kind served at `group`/`version`/`plural` of a URL.
    pub(crate) fn resolve(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Result<Arc<dyn KindOps>, ApiError> {
        if let Some(kind) = self.by_plural.get(plural)
            && kind.info().group == group
        {
            return Ok(kind.clone());
        }
        if !group.is_empty()
            && let Some(kind) = self.custom.resolve(group, version, plural)
        {
            return Ok(kind);
        }
        Err(ApiError::UnknownResource(plural.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parts_match_the_kind_table() {
        macro_rules! check {
            ($t:ty, $variant:ident, $plural:literal, $status:literal) => {
                assert_eq!(<$t as StatusPart>::HAS_STATUS, $status, $plural);
            };
        }
        api::for_each_kind!(check);
    }
}
