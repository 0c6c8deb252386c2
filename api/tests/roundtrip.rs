//! Property tests: generated valid Pods, Nodes and Services survive JSON and
//! YAML round trips unchanged and stay valid after defaults.

// Helpers here are test code: a failed round trip should fail loudly.
#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::collections::BTreeMap;

use api::ApiObject;
use api::k8s_openapi::api::core::v1::{
    Container, Node, NodeSpec, Pod, PodSpec, ResourceRequirements, Service, ServicePort,
    ServiceSpec, Taint, Toleration,
};
use api::k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use api::manifest::{AnyObject, parse_manifest, to_json, to_yaml};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-z]{1,8}", "[a-z0-9]{0,8}", 0..4)
}

fn meta(namespaced: bool) -> impl Strategy<Value = ObjectMeta> {
    (name(), labels()).prop_map(move |(name, labels)| ObjectMeta {
        name: Some(name),
        namespace: namespaced.then(|| "default".to_string()),
        labels: (!labels.is_empty()).then_some(labels),
        ..ObjectMeta::default()
    })
}

fn quantity(units: &'static [&'static str]) -> impl Strategy<Value = Quantity> {
    (1u32..4000, prop::sample::select(units)).prop_map(|(n, unit)| Quantity(format!("{n}{unit}")))
}

fn container() -> impl Strategy<Value = Container> {
    (
        name(),
        "[a-z]{1,10}(:[0-9]\\.[0-9]{1,2})?",
        quantity(&["m", ""]),
        quantity(&["Mi", "Gi", "k"]),
    )
        .prop_map(|(name, image, cpu, memory)| Container {
            name,
            image: Some(image),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_string(), cpu),
                    ("memory".to_string(), memory),
                ])),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        })
}

fn pod() -> impl Strategy<Value = Pod> {
    let tolerations = prop::collection::vec(
        (
            "[a-z]{1,8}",
            prop::sample::select(vec!["NoSchedule", "PreferNoSchedule", "NoExecute"]),
        ),
        0..3,
    );
    (
        meta(true),
        prop::collection::vec(container(), 1..4),
        tolerations,
        labels(),
    )
        .prop_map(|(metadata, mut containers, tolerations, node_selector)| {
            for (i, container) in containers.iter_mut().enumerate() {
                container.name = format!("{}-{i}", container.name);
            }
            let tolerations = tolerations
                .into_iter()
                .map(|(key, effect)| Toleration {
                    key: Some(key),
                    operator: Some("Exists".into()),
                    effect: Some(effect.into()),
                    ..Toleration::default()
                })
                .collect::<Vec<_>>();
            Pod {
                metadata,
                spec: Some(PodSpec {
                    containers,
                    tolerations: (!tolerations.is_empty()).then_some(tolerations),
                    node_selector: (!node_selector.is_empty()).then_some(node_selector),
                    ..PodSpec::default()
                }),
                ..Pod::default()
            }
        })
}

fn node() -> impl Strategy<Value = Node> {
    (meta(false), any::<bool>(), prop::option::of("[a-z]{1,8}")).prop_map(
        |(metadata, unschedulable, taint)| Node {
            metadata,
            spec: Some(NodeSpec {
                unschedulable: unschedulable.then_some(true),
                taints: taint.map(|key| {
                    vec![Taint {
                        key,
                        effect: "NoSchedule".into(),
                        ..Taint::default()
                    }]
                }),
                ..NodeSpec::default()
            }),
            ..Node::default()
        },
    )
}

fn service() -> impl Strategy<Value = Service> {
    (
        meta(true),
        prop::collection::btree_set(1i32..65536, 1..4),
        labels(),
    )
        .prop_map(|(mut metadata, ports, selector)| {
            metadata.name = metadata.name.map(|n| format!("s{n}"));
            let ports = ports
                .into_iter()
                .map(|port| ServicePort {
                    name: Some(format!("p{port}")),
                    port,
                    ..ServicePort::default()
                })
                .collect();
            Service {
                metadata,
                spec: Some(ServiceSpec {
                    ports: Some(ports),
                    selector: (!selector.is_empty()).then_some(selector),
                    ..ServiceSpec::default()
                }),
                ..Service::default()
            }
        })
}

/// Defaults and validates `object`, then checks both round trips.
fn check(mut object: AnyObject) {
    object.apply_defaults();
    if let Err(errors) = object.validate_create() {
        panic!("generated object invalid: {errors}");
    }
    let objects = vec![object];
    assert_eq!(
        parse_manifest(&to_json(&objects).unwrap()).unwrap(),
        objects
    );
    assert_eq!(
        parse_manifest(&to_yaml(&objects).unwrap()).unwrap(),
        objects
    );
}

proptest! {
    #[test]
    fn pods_round_trip(pod in pod()) {
        check(AnyObject::Pod(pod));
    }

    #[test]
    fn nodes_round_trip(node in node()) {
        check(AnyObject::Node(node));
    }

    #[test]
    fn services_round_trip(service in service()) {
        check(AnyObject::Service(service));
    }
}

#[test]
fn kinds_report_their_identity() {
    assert_eq!(<Pod as ApiObject>::INFO.plural, "pods");
}
