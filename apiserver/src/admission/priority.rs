//! Priority: a pod's `spec.priority` comes from its PriorityClass (or the
//! globalDefault class, else 0) and may not be given otherwise; at most one
//! PriorityClass may be the global default.

use api::k8s_openapi::api::core::v1::Pod;
use api::k8s_openapi::api::scheduling::v1::PriorityClass;
use serde::Deserialize;

use crate::admission::decode_stored_part;
use crate::error::ApiError;
use crate::state::ApiState;

/// Sets a pod's priority (and preemption policy) from its class.
pub(crate) async fn admit_pod(state: &ApiState, pod: &mut Pod) -> Result<(), ApiError> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let Some(spec) = pod.spec.as_mut() else {
        return Ok(());
    };
    let class_name = spec.priority_class_name.clone().unwrap_or_default();
    let given = spec.priority.map(i64::from);
    let resolved = pod_priority(state, &name, &class_name, given).await?;
    spec.priority = Some(i32::try_from(resolved.priority).map_err(|_| {
        ApiError::BadRequest(format!(
            "cannot decode Pod: priority {} out of range",
            resolved.priority
        ))
    })?);
    if let Some((class, policy)) = resolved.class {
        spec.priority_class_name = Some(class);
        spec.preemption_policy = Some(policy);
    }
    Ok(())
}

/// At most one PriorityClass may be the global default.
pub(crate) async fn admit_priority_class(
    state: &ApiState,
    class: &PriorityClass,
) -> Result<(), ApiError> {
    if class.global_default != Some(true) {
        return Ok(());
    }
    let name = class.metadata.name.as_deref().unwrap_or("");
    if let Some(existing) = global_default_class(state).await?
        && existing.name() != name
    {
        return Err(ApiError::Forbidden(format!(
            "PriorityClass {} is already marked as default. Only one default can exist",
            existing.name()
        )));
    }
    Ok(())
}

/// What priority admission decided for a pod.
struct ResolvedPriority {
    priority: i64,
    /// The class's name and preemption policy, if the pod has a class.
    class: Option<(String, String)>,
}

/// The priority a pod gets from its PriorityClass (`class_name`, or the
/// globalDefault class when empty), checked against the priority it was
/// sent with (`given`).
async fn pod_priority(
    state: &ApiState,
    pod_name: &str,
    class_name: &str,
    given: Option<i64>,
) -> Result<ResolvedPriority, ApiError> {
    let class = if class_name.is_empty() {
        global_default_class(state).await?
    } else {
        let key = format!("/registry/priorityclasses/{class_name}");
        match state.get_kv(&key).await? {
            Some(kv) => Some(decode_stored_part::<PriorityClassInfo>(&kv)?),
            None => {
                return Err(ApiError::Forbidden(format!(
                    "pods {pod_name:?} is forbidden: no PriorityClass with name {class_name} was found"
                )));
            }
        }
    };
    let priority = class.as_ref().and_then(|c| c.value).unwrap_or(0);
    if let Some(given) = given
        && given != priority
    {
        return Err(ApiError::Forbidden(format!(
            "pods {pod_name:?} is forbidden: the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        )));
    }
    Ok(ResolvedPriority {
        priority,
        class: class.map(|class| {
            let name = class.name();
            let policy = class
                .preemption_policy
                .unwrap_or_else(|| "PreemptLowerPriority".to_string());
            (name, policy)
        }),
    })
}

async fn global_default_class(state: &ApiState) -> Result<Option<PriorityClassInfo>, ApiError> {
    let classes = state.store.range(store::RangeRequest {
        prefix: "/registry/priorityclasses/".to_string(),
        ..Default::default()
    });
    for kv in classes.await?.kvs {
        let class: PriorityClassInfo = decode_stored_part(&kv)?;
        if class.global_default == Some(true) {
            return Ok(Some(class));
        }
    }
    Ok(None)
}

/// The fields of a stored PriorityClass this plugin reads.
#[derive(Deserialize)]
struct PriorityClassInfo {
    metadata: Option<NameOnly>,
    value: Option<i64>,
    #[serde(rename = "preemptionPolicy")]
    preemption_policy: Option<String>,
    #[serde(rename = "globalDefault")]
    global_default: Option<bool>,
}

impl PriorityClassInfo {
    fn name(&self) -> String {
        self.metadata
            .as_ref()
            .and_then(|meta| meta.name.clone())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct NameOnly {
    name: Option<String>,
}
