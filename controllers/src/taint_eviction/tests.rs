use super::*;
use api::k8s_openapi::api::core::v1::Toleration;
use api::taints::{self, NO_SCHEDULE, exists, taint};

fn pod(tolerations: Vec<Toleration>) -> Pod {
    let mut pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]}
    }))
    .expect("a pod");
    if let Some(spec) = pod.spec.as_mut() {
        spec.tolerations = Some(tolerations);
    }
    pod
}

fn for_seconds(mut toleration: Toleration, seconds: i64) -> Toleration {
    toleration.toleration_seconds = Some(seconds);
    toleration
}

#[test]
fn a_pod_goes_now_later_or_never_as_its_tolerations_say() {
    let unreachable = taint(taints::UNREACHABLE, NO_EXECUTE);
    let dedicated = taint("dedicated", NO_EXECUTE);
    let soft = taint("soft", NO_SCHEDULE);
    let node_taints = [unreachable.clone(), soft.clone()];
    assert_eq!(no_execute(&node_taints), [&unreachable]);
    // No NoExecute taint: nothing to do, whatever the pod tolerates.
    assert_eq!(eviction(&pod(vec![]), &[]), Eviction::Never);
    // Not tolerated.
    assert_eq!(eviction(&pod(vec![]), &[&unreachable]), Eviction::Now);
    // The default 300 s admission adds.
    let default = for_seconds(exists(taints::UNREACHABLE, NO_EXECUTE), 300);
    assert_eq!(
        eviction(&pod(vec![default.clone()]), &[&unreachable]),
        Eviction::After(Duration::from_secs(300))
    );
    // Forever.
    assert_eq!(
        eviction(
            &pod(vec![exists(taints::UNREACHABLE, NO_EXECUTE)]),
            &[&unreachable]
        ),
        Eviction::Never
    );
    // Two taints: the shortest of the tolerations used; one untolerated
    // taint means now.
    let short = for_seconds(exists("dedicated", ""), 30);
    assert_eq!(
        eviction(
            &pod(vec![default.clone(), short.clone()]),
            &[&unreachable, &dedicated]
        ),
        Eviction::After(Duration::from_secs(30))
    );
    assert_eq!(
        eviction(&pod(vec![default.clone()]), &[&unreachable, &dedicated]),
        Eviction::Now
    );
    // Only the first matching toleration of a taint counts.
    let forever_first = vec![exists(taints::UNREACHABLE, ""), default.clone()];
    assert_eq!(
        eviction(&pod(forever_first), &[&unreachable]),
        Eviction::Never
    );
    // Zero or negative seconds: now.
    assert_eq!(
        eviction(
            &pod(vec![for_seconds(exists(taints::UNREACHABLE, ""), 0)]),
            &[&unreachable]
        ),
        Eviction::Now
    );
}

#[test]
fn the_timer_keeps_its_start_while_taints_last() {
    let start = Instant::now();
    let wait = Eviction::After(Duration::from_secs(300));
    assert_eq!(
        deadline(wait, None, start),
        Some((start, start + Duration::from_secs(300)))
    );
    // Seen again later, perhaps under another tolerated taint with a
    // shorter time: the deadline counts from the first sighting.
    let later = start + Duration::from_secs(100);
    assert_eq!(
        deadline(Eviction::After(Duration::from_secs(60)), Some(start), later),
        Some((start, start + Duration::from_secs(60)))
    );
    assert_eq!(
        deadline(Eviction::Now, Some(start), later),
        Some((start, later))
    );
    assert_eq!(deadline(Eviction::Never, Some(start), later), None);
}

#[test]
fn an_evicted_pod_says_why_once() {
    let now = Timestamp::UNIX_EPOCH;
    let status = disruption_target(&pod(vec![]), now).expect("a change");
    let condition = &status.conditions.as_deref().unwrap_or_default()[0];
    assert_eq!(condition.type_, "DisruptionTarget");
    assert_eq!(condition.reason.as_deref(), Some("DeletionByTaintManager"));
    let mut marked = pod(vec![]);
    marked.status = Some(status);
    assert_eq!(disruption_target(&marked, now), None);
}
