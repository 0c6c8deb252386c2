use super::*;
use serde_json::{Value, json};

fn service(spec: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "svc-uid"},
        "spec": spec
    }))
    .expect("a service")
}

fn web() -> Service {
    service(
        json!({"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}),
    )
}

fn pod(name: &str, ip: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]
        }
    }))
    .expect("a pod")
}

fn pods(count: usize) -> Vec<Pod> {
    (0..count)
        .map(|i| {
            pod(
                &format!("p{i:03}"),
                &format!("10.0.{}.{}", i / 200, i % 200 + 1),
                true,
            )
        })
        .collect()
}

fn zone(_: &str) -> Option<String> {
    Some("zone-a".to_string())
}

/// Applies a plan to `slices` as the apiserver would, naming new slices.
fn apply(
    slices: &mut Vec<EndpointSlice>,
    plan: SlicePlan<'_>,
    next: &mut usize,
) -> (usize, usize, usize) {
    let counts = (plan.create.len(), plan.update.len(), plan.delete.len());
    let deleted: Vec<Option<String>> = plan
        .delete
        .iter()
        .map(|s| s.metadata.name.clone())
        .collect();
    let updated = plan.update;
    slices.retain(|slice| !deleted.contains(&slice.metadata.name));
    for update in updated {
        if let Some(slice) = slices
            .iter_mut()
            .find(|s| s.metadata.name == update.metadata.name)
        {
            *slice = update;
        }
    }
    for mut created in plan.create {
        created.metadata.name = Some(format!("web-{next}"));
        *next += 1;
        slices.push(created);
    }
    (counts.0, counts.1, counts.2)
}

fn sync(slices: &mut Vec<EndpointSlice>, pods: &[Pod], next: &mut usize) -> (usize, usize, usize) {
    let existing: Vec<EndpointSlice> = slices.clone();
    let refs: Vec<&EndpointSlice> = existing.iter().collect();
    let plan = reconcile(
        &web(),
        &refs,
        desired_endpoints(&web(), pods, zone),
        MAX_ENDPOINTS_PER_SLICE,
    );
    apply(slices, plan, next)
}

fn total(slices: &[EndpointSlice]) -> usize {
    slices.iter().map(|slice| slice.endpoints.len()).sum()
}

#[test]
fn endpoints_carry_conditions_zone_and_reference() {
    let mut going = pod("going", "10.0.0.9", true);
    going.metadata.deletion_timestamp =
        Some(api::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            api::k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
    let groups = desired_endpoints(
        &web(),
        &[
            pod("a", "10.0.0.1", true),
            pod("b", "10.0.0.2", false),
            going,
        ],
        zone,
    );
    assert_eq!(groups.len(), 1);
    let (key, endpoints) = groups.iter().next().unwrap();
    assert_eq!(key.0, "IPv4");
    assert_eq!(key.1[0].port, 8080);
    let conditions: Vec<(bool, bool, bool)> = endpoints
        .iter()
        .map(|e| {
            let c = e.conditions.clone().unwrap_or_default();
            (
                c.ready.unwrap_or(false),
                c.serving.unwrap_or(false),
                c.terminating.unwrap_or(false),
            )
        })
        .collect();
    // a: ready; b: not ready; going: still serving while it terminates.
    assert_eq!(
        conditions,
        [
            (true, true, false),
            (false, false, false),
            (false, true, true)
        ]
    );
    assert_eq!(endpoints[0].zone.as_deref(), Some("zone-a"));
    assert_eq!(endpoints[0].node_name.as_deref(), Some("n1"));
    assert_eq!(
        endpoints[0]
            .target_ref
            .as_ref()
            .and_then(|r| r.name.as_deref()),
        Some("a")
    );
}

#[test]
fn slices_hold_at_most_the_maximum_and_change_little() {
    let mut slices = Vec::new();
    let mut next = 0;
    // 250 endpoints: three slices (100, 100, 50).
    let mut all = pods(250);
    assert_eq!(sync(&mut slices, &all, &mut next), (3, 0, 0));
    assert_eq!(total(&slices), 250);
    assert!(
        slices
            .iter()
            .all(|slice| slice.endpoints.len() <= MAX_ENDPOINTS_PER_SLICE)
    );
    let labels = slices[0].metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get(SERVICE_NAME_LABEL).map(String::as_str),
        Some("web")
    );
    assert_eq!(
        labels.get(MANAGED_BY_LABEL).map(String::as_str),
        Some(CONTROLLER_NAME)
    );
    assert_eq!(slices[0].metadata.generate_name.as_deref(), Some("web-"));
    // Nothing changed: nothing written.
    assert_eq!(sync(&mut slices, &all, &mut next), (0, 0, 0));
    // One pod goes not ready: one slice updated in place.
    all[10] = pod("p010", "10.0.0.11", false);
    assert_eq!(sync(&mut slices, &all, &mut next), (0, 1, 0));
    // One pod gone and one new: the new one fills the slice being updated.
    all.remove(20);
    all.push(pod("new", "10.9.9.9", true));
    assert_eq!(sync(&mut slices, &all, &mut next), (0, 1, 0));
    assert_eq!(total(&slices), 250);
    // Ten new pods with no slice being written: into the slice with room.
    all.extend((0..10).map(|i| pod(&format!("more{i}"), &format!("10.8.0.{}", i + 1), true)));
    assert_eq!(sync(&mut slices, &all, &mut next), (0, 1, 0));
    assert_eq!(slices.len(), 3);
    assert_eq!(total(&slices), 260);
    // Every pod gone: one empty placeholder slice stays.
    assert_eq!(sync(&mut slices, &[], &mut next), (1, 0, 3));
    assert_eq!(slices.len(), 1);
    assert!(slices[0].endpoints.is_empty() && slices[0].ports.is_none());
    assert_eq!(sync(&mut slices, &[], &mut next), (0, 0, 0));
    // Pods again: the placeholder (another key) goes, a real slice comes.
    assert_eq!(sync(&mut slices, &pods(3), &mut next), (1, 0, 1));
    assert_eq!(total(&slices), 3);
}
