//! The kinds Skiff serves, and the one trait the apiserver's generic registry
//! needs from each: identity (group/version/kind/plural, namespaced or not,
//! status subresource or not), defaults and validation.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::FieldErrors;

/// Static facts about one kind, as the REST paths and the store keys use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// API group, "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Lower-case plural used in URLs and store keys, e.g. "pods".
    pub plural: &'static str,
    pub namespaced: bool,
    /// Whether the kind has a `status` subresource (status is ignored on
    /// create/update and written only through update-status).
    pub has_status: bool,
}

impl KindInfo {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A kind the apiserver can store. Implemented for every kind listed in
/// [`ALL_KINDS`].
pub trait ApiObject:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + Send
    + Sync
    + 'static
{
    const INFO: KindInfo;

    /// Fill in the defaults Kubernetes applies on create (and on update).
    fn apply_defaults(&mut self);

    /// Validate a new object (metadata included).
    fn validate_create(&self) -> Result<(), FieldErrors>;

    /// Validate an update against the stored object (immutable fields).
    fn validate_update(&self, old: &Self) -> Result<(), FieldErrors>;
}
