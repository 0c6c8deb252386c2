//! Create: decode, fill in server-owned metadata, admission, defaults,
//! validation, then create-if-absent — with service allocations in the same
//! transaction. Nothing is stored on any error.

use api::k8s_openapi::api::core::v1::Pod;
use serde_json::{Map, Value};
use store::{Bytes, Compare, CompareTarget, Op, Revision, Txn};

use crate::arbiter::{PodUsage, pod_usage};
use crate::error::ApiError;
use crate::keys;
use crate::object;
use crate::state::{ApiState, CAS_RETRIES};

/// Characters Kubernetes uses for generateName suffixes (no vowels, no
/// look-alikes).
const NAME_SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl ApiState {
    /// Creates one object of `plural` in `namespace` from its JSON.
    pub(crate) async fn create(
        &self,
        plural: &str,
        namespace: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        self.check_size(body.len())?;
        let kind = self.kinds.get(plural)?.clone();
        let info = kind.info();
        let mut value = object::parse_object(body)?;
        object::check_type(&mut value, info)?;
        set_namespace(&mut value, info, namespace)?;
        set_name(&mut value, info)?;
        init_metadata(&mut value);
        init_status(&mut value, info);
        self.admit_create(info, &mut value).await?;
        let value = kind.prepare_create(value)?;
        if info.plural == "events" {
            return self.create_event(value).await;
        }
        if info.plural == "pods" {
            let node = object::field_string(&value, "/spec/nodeName");
            if !node.is_empty() {
                return self.store_new_bound_pod(info, value, &node).await;
            }
        }
        self.store_new(info, value).await
    }

    /// Writes a new, fully prepared object if its key is free; services get
    /// their allocations in the same transaction.
    pub(crate) async fn store_new(
        &self,
        info: &api::KindInfo,
        value: Value,
    ) -> Result<Value, ApiError> {
        let name = object::name(&value).to_string();
        let key = keys::object_key(info, object::namespace(&value), &name);
        let mut original = value;
        for _ in 0..CAS_RETRIES {
            // Only services change the object per attempt (allocations).
            let mut value = if info.plural == "services" {
                original.clone()
            } else {
                std::mem::take(&mut original)
            };
            let mut txn = Txn {
                compares: vec![Compare {
                    key: key.clone(),
                    target: CompareTarget::ModRevision(0),
                }],
                ..Default::default()
            };
            if info.plural == "services" {
                self.allocate_service(&mut value, &mut txn).await?;
            }
            txn.success.push(Op::Put {
                key: key.clone(),
                value: object::to_store(&mut value)?,
                lease: 0,
            });
            let response = self.txn(txn).await?;
            if response.succeeded {
                object::set_resource_version(&mut value, response.revision);
                return Ok(value);
            }
            if self.get_kv(&key).await?.is_some() {
                return Err(ApiError::already_exists(info.plural, &name));
            }
            // An allocation was taken concurrently (or the key was deleted
            // again in between): try again.
            if info.plural != "services" {
                original = value;
            }
        }
        Err(ApiError::modified(info.plural, &name))
    }
}

impl ApiState {
    /// Writes a new pod that arrives with `spec.nodeName` set: checked
    /// against the node's record like a bind (capacity only if the Node
    /// exists) and counted in the same transaction as the create.
    async fn store_new_bound_pod(
        &self,
        info: &api::KindInfo,
        mut value: Value,
        node: &str,
    ) -> Result<Value, ApiError> {
        let name = object::name(&value).to_string();
        let key = keys::object_key(info, object::namespace(&value), &name);
        let typed: Pod = serde_json::from_value(value.clone())
            .map_err(|error| ApiError::Internal(format!("cannot decode Pod: {error}")))?;
        let usage = pod_usage(&typed);
        let bytes = object::to_store(&mut value)?;
        let revision = self
            .put_new_bound_pod(info, &key, &name, bytes, &usage, node)
            .await?;
        object::set_resource_version(&mut value, revision);
        Ok(value)
    }

    /// Writes the encoded pod `bytes` at the free `key`, counted on `node`
    /// (see [`ApiState::store_new_bound_pod`]); returns the revision.
    pub(crate) async fn put_new_bound_pod(
        &self,
        info: &api::KindInfo,
        key: &str,
        name: &str,
        bytes: Bytes,
        usage: &PodUsage,
        node: &str,
    ) -> Result<Revision, ApiError> {
        for _ in 0..CAS_RETRIES {
            let account = self.open_account(node).await?;
            let capacity = account.loaded().capacity.clone();
            let mut node_usage = account.loaded().usage.clone();
            let verdict = self
                .check_pod_fits(capacity.as_ref(), &node_usage, usage)
                .await?;
            if let Err(unfit) = verdict {
                if account.is_fresh() || self.account_is_current(&account).await? {
                    account.close();
                    return Err(ApiError::conflict(
                        info.plural,
                        name,
                        format!("node {node}: {unfit}"),
                    ));
                }
                // Checked against a stale cached record: read it again.
                continue;
            }
            node_usage.add(usage);
            let mut txn = Txn {
                compares: vec![Compare {
                    key: key.to_string(),
                    target: CompareTarget::ModRevision(0),
                }],
                success: vec![Op::Put {
                    key: key.to_string(),
                    value: bytes.clone(),
                    lease: 0,
                }],
                failure: vec![],
            };
            account.stage(&node_usage, true, &mut txn);
            let response = self.txn(txn).await?;
            account.finish(node_usage, &response);
            if response.succeeded {
                return Ok(response.revision);
            }
            if self.get_kv(key).await?.is_some() {
                return Err(ApiError::already_exists(info.plural, name));
            }
        }
        Err(ApiError::modified(info.plural, name))
    }

    /// Writes the encoded object `bytes` at `key` if the key is free (kinds
    /// without allocations); returns the revision.
    pub(crate) async fn put_new(
        &self,
        info: &api::KindInfo,
        key: &str,
        name: &str,
        bytes: Bytes,
    ) -> Result<Revision, ApiError> {
        for _ in 0..CAS_RETRIES {
            let txn = Txn {
                compares: vec![Compare {
                    key: key.to_string(),
                    target: CompareTarget::ModRevision(0),
                }],
                success: vec![Op::Put {
                    key: key.to_string(),
                    value: bytes.clone(),
                    lease: 0,
                }],
                failure: vec![],
            };
            let response = self.txn(txn).await?;
            if response.succeeded {
                return Ok(response.revision);
            }
            if self.get_kv(key).await?.is_some() {
                return Err(ApiError::already_exists(info.plural, name));
            }
            // The key was deleted again in between: try again.
        }
        Err(ApiError::modified(info.plural, name))
    }
}

/// Namespaced kinds take the request's namespace (the object's must match
/// or be empty); cluster-scoped kinds carry none.
fn set_namespace(value: &mut Value, info: &api::KindInfo, namespace: &str) -> Result<(), ApiError> {
    match resolve_namespace(info, namespace, object::namespace(value))? {
        None => {
            object::meta_mut(value).remove("namespace");
        }
        Some(namespace) => object::set_meta(value, "namespace", Value::String(namespace)),
    }
    Ok(())
}

/// The namespace a new object gets from the request's and its own: `None`
/// for cluster-scoped kinds.
pub(crate) fn resolve_namespace(
    info: &api::KindInfo,
    namespace: &str,
    given: &str,
) -> Result<Option<String>, ApiError> {
    if !info.namespaced {
        return Ok(None);
    }
    Ok(Some(match (namespace.is_empty(), given.is_empty()) {
        (false, false) if namespace != given => {
            return Err(ApiError::BadRequest(format!(
                "the namespace of the provided object ({given:?}) does not match the namespace sent on the request ({namespace:?})"
            )));
        }
        (false, _) => namespace.to_string(),
        (true, false) => given.to_string(),
        (true, true) => "default".to_string(),
    }))
}

/// Fills in the name from `generateName`, or rejects a missing name.
fn set_name(value: &mut Value, info: &api::KindInfo) -> Result<(), ApiError> {
    if !object::name(value).is_empty() {
        return Ok(());
    }
    let name = generate_name(info, object::meta_str(value, "generateName"))?;
    object::set_meta(value, "name", Value::String(name));
    Ok(())
}

/// A name from `generateName` (`prefix` plus a random suffix), or the
/// error for an object with neither name nor generateName.
pub(crate) fn generate_name(info: &api::KindInfo, prefix: &str) -> Result<String, ApiError> {
    if prefix.is_empty() {
        let mut errors = api::FieldErrors::default();
        errors.push(api::FieldError::required(
            api::FieldPath::root("metadata").child("name"),
            "name or generateName is required",
        ));
        return Err(ApiError::Invalid {
            kind: info.kind,
            name: String::new(),
            errors,
        });
    }
    let random = uuid::Uuid::new_v4();
    let suffix: String = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|byte| {
            char::from(NAME_SUFFIX_ALPHABET[usize::from(*byte) % NAME_SUFFIX_ALPHABET.len()])
        })
        .collect();
    Ok(format!("{prefix}{suffix}"))
}

/// Server-owned metadata: uid, creationTimestamp, generation; clears what
/// a client may not set on create.
fn init_metadata(value: &mut Value) {
    let meta = object::meta_mut(value);
    meta.insert(
        "uid".to_string(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    meta.insert("creationTimestamp".to_string(), object::now());
    meta.insert("generation".to_string(), Value::from(1));
    for field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        meta.remove(field);
    }
}

/// Status on create, as Kubernetes' strategies do: nodes keep theirs (the
/// kubelet registers with it), namespaces start Active, pods get theirs in
/// `prepare_create` (Pending + qosClass), every other kind with a status
/// subresource starts with none. Kinds without one keep what was sent.
fn init_status(value: &mut Value, info: &api::KindInfo) {
    let map = object::as_map(value);
    match info.plural {
        "nodes" => {}
        "namespaces" => {
            let mut status = Map::new();
            status.insert("phase".to_string(), Value::String("Active".to_string()));
            map.insert("status".to_string(), Value::Object(status));
        }
        _ if info.has_status => {
            map.remove("status");
        }
        _ => {}
    }
}
