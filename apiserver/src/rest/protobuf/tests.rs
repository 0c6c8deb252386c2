//! Tests of the protobuf decoder: bodies captured from `kubectl` 1.32
//! (`testdata/kubectl-*.bin`) against the JSON the same kubectl writes for
//! the same command (`testdata/kubectl-*.json`, from `--dry-run=client -o
//! json`) and against explicit JSON; bodies built with a small writer for
//! the special types; and malformed bodies.

use serde_json::{Value, json};

use super::decode::{self, FieldPath, MAX_DEPTH};
use super::schema::{self, FieldShape, Message, ValueType, field};
use super::{ProtobufError, decode_request};

/// A protobuf message under construction, laid out as go-to-protobuf
/// writes it.
#[derive(Clone, Default)]
struct Proto(Vec<u8>);

impl Proto {
    fn new() -> Self {
        Proto::default()
    }

    fn varint(mut self, number: u32, value: u64) -> Self {
        put_varint(&mut self.0, u64::from(number) << 3);
        put_varint(&mut self.0, value);
        self
    }

    fn bytes(mut self, number: u32, value: &[u8]) -> Self {
        put_varint(&mut self.0, (u64::from(number) << 3) | 2);
        put_varint(&mut self.0, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    fn string(self, number: u32, value: &str) -> Self {
        self.bytes(number, value.as_bytes())
    }

    fn message(self, number: u32, value: Proto) -> Self {
        self.bytes(number, &value.0)
    }

    /// One entry of a `map<string, string>`.
    fn entry(self, number: u32, key: &str, value: &str) -> Self {
        self.message(number, Proto::new().string(1, key).string(2, value))
    }

    /// One entry of a map whose values are messages.
    fn message_entry(self, number: u32, key: &str, value: Proto) -> Self {
        self.message(number, Proto::new().string(1, key).message(2, value))
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The magic and `runtime.Unknown` around `raw`, as client-go sends them.
fn envelope(api_version: &str, kind: &str, raw: Proto) -> Vec<u8> {
    let type_meta = Proto::new().string(1, api_version).string(2, kind);
    let unknown = Proto::new()
        .message(1, type_meta)
        .message(2, raw)
        .string(3, "")
        .string(4, "");
    let mut body = b"k8s\0".to_vec();
    body.extend_from_slice(&unknown.0);
    body
}

fn quantity(value: &str) -> Proto {
    Proto::new().string(1, value)
}

fn object_meta(name: &str) -> Proto {
    Proto::new().string(1, name).string(2, "").string(3, "")
}

fn check(body: &[u8], expected: Value) {
    assert_eq!(decode_request(body).unwrap(), expected);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/src/rest/protobuf/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The commands whose body and `--dry-run=client -o json` were captured.
const KUBECTL_CREATE_CAPTURES: &[&str] = &[
    "namespace",
    "deployment",
    "deployment-port",
    "secret",
    "configmap",
    "serviceaccount",
    "role",
    "rolebinding",
    "clusterrole-aggregate",
    "clusterrolebinding",
    "job",
    "cronjob",
    "quota",
    "priorityclass",
    "pdb",
    "service",
    "ingress",
];

/// Go's JSON writes `creationTimestamp: null` and nil slices as `null`;
/// the decoder leaves such fields out.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn kubectl_bodies_decode_to_kubectls_own_json() {
    for name in KUBECTL_CREATE_CAPTURES {
        let decoded = decode_request(&fixture(&format!("kubectl-{name}.bin"))).unwrap();
        let json: Value =
            serde_json::from_slice(&fixture(&format!("kubectl-{name}.json"))).unwrap();
        assert_eq!(decoded, without_nulls(json), "kubectl create {name}");
    }
}

#[test]
fn kubectl_create_namespace() {
    check(
        &fixture("kubectl-namespace.bin"),
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "demo"},
            "spec": {},
            "status": {},
        }),
    );
}

#[test]
fn kubectl_create_deployment() {
    check(
        &fixture("kubectl-deployment.bin"),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]},
                },
                "strategy": {},
            },
            "status": {},
        }),
    );
}

#[test]
fn kubectl_auth_can_i_list_pods() {
    check(
        &fixture("kubectl-ssar.bin"),
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "list", "resource": "pods"}},
            "status": {"allowed": false},
        }),
    );
}

#[test]
fn kubectl_create_token() {
    check(
        &fixture("kubectl-token.bin"),
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {},
            "spec": {"expirationSeconds": 600},
            "status": {"token": ""},
        }),
    );
}

#[test]
fn kubectl_auth_whoami() {
    check(
        &fixture("kubectl-whoami.bin"),
        json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {},
            "status": {"userInfo": {}},
        }),
    );
}

/// The decoded JSON passes the same typed parse, defaulting and validation
/// the JSON path applies.
fn check_accepted<T: api::ApiObject>(name: &str) {
    let mut decoded = decode_request(&fixture(&format!("kubectl-{name}.bin"))).unwrap();
    if T::INFO.namespaced {
        decoded["metadata"]["namespace"] = json!("default");
    }
    decoded["metadata"]["uid"] = json!("uid-1");
    let mut object: T = serde_json::from_value(decoded).unwrap();
    object.apply_defaults();
    // What the Job strategy adds on create before validation.
    if let Some(job) =
        (&mut object as &mut dyn std::any::Any).downcast_mut::<k8s_openapi::api::batch::v1::Job>()
    {
        api::job::generate_selector(job);
    }
    if let Err(errors) = object.validate_create() {
        panic!("kubectl create {name}: {errors:?}");
    }
}

#[test]
fn kubectl_bodies_pass_defaults_and_validation() {
    use k8s_openapi::api::{apps, batch, core, networking, policy, rbac, scheduling};
    check_accepted::<core::v1::Namespace>("namespace");
    check_accepted::<apps::v1::Deployment>("deployment");
    check_accepted::<apps::v1::Deployment>("deployment-port");
    check_accepted::<core::v1::Secret>("secret");
    check_accepted::<core::v1::ConfigMap>("configmap");
    check_accepted::<core::v1::ServiceAccount>("serviceaccount");
    check_accepted::<rbac::v1::Role>("role");
    check_accepted::<rbac::v1::RoleBinding>("rolebinding");
    check_accepted::<rbac::v1::ClusterRole>("clusterrole-aggregate");
    check_accepted::<rbac::v1::ClusterRoleBinding>("clusterrolebinding");
    check_accepted::<batch::v1::Job>("job");
    check_accepted::<batch::v1::CronJob>("cronjob");
    check_accepted::<core::v1::ResourceQuota>("quota");
    check_accepted::<scheduling::v1::PriorityClass>("priorityclass");
    check_accepted::<policy::v1::PodDisruptionBudget>("pdb");
    check_accepted::<core::v1::Service>("service");
    check_accepted::<networking::v1::Ingress>("ingress");
}

#[test]
fn secret_bytes_become_base64_and_a_false_pointer_stays() {
    let secret = Proto::new()
        .message(1, object_meta("s"))
        .message(2, Proto::new().string(1, "blob").bytes(2, &[0, 0x9f, 0xff]))
        .message(2, Proto::new().string(1, "empty"))
        .string(3, "Opaque")
        .varint(5, 0);
    check(
        &envelope("v1", "Secret", secret),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"blob": "AJ//", "empty": ""},
            "type": "Opaque",
            "immutable": false,
        }),
    );
}

#[test]
fn eviction_with_delete_options() {
    let delete_options = Proto::new()
        .varint(1, 0)
        .message(2, Proto::new().string(1, "uid-1"))
        .string(4, "Foreground")
        .string(5, "All");
    let eviction = Proto::new()
        .message(1, object_meta("web-1").string(3, "default"))
        .message(2, delete_options);
    check(
        &envelope("policy/v1", "Eviction", eviction),
        json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "web-1", "namespace": "default"},
            "deleteOptions": {
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "uid-1"},
                "propagationPolicy": "Foreground",
                "dryRun": ["All"],
            },
        }),
    );
}

#[test]
fn delete_options_decode_under_any_api_version() {
    let options = Proto::new().varint(1, 30).varint(3, 1);
    check(
        &envelope("v1", "DeleteOptions", options),
        json!({
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 30,
            "orphanDependents": true,
        }),
    );
}

#[test]
fn container_quantities_int_or_strings_and_inlined_messages() {
    let resources = Proto::new()
        .message_entry(1, "cpu", quantity("500m"))
        .message_entry(2, "memory", quantity("64Mi"));
    let port = Proto::new()
        .string(1, "http")
        .varint(2, 0)
        .varint(3, 8080)
        .string(4, "TCP")
        .string(5, "");
    let http_get = Proto::new()
        .string(1, "/healthz")
        .message(2, Proto::new().varint(1, 1).string(3, "http"));
    let tcp_socket = Proto::new().message(1, Proto::new().varint(1, 0).varint(2, 8080));
    let liveness = Proto::new()
        .message(1, Proto::new().message(2, http_get))
        .varint(2, 3)
        .varint(3, 0);
    let readiness = Proto::new().message(1, Proto::new().message(3, tcp_socket));
    let container = Proto::new()
        .string(1, "app")
        .string(2, "nginx")
        .message(6, port)
        .message(8, resources)
        .message(10, liveness)
        .message(11, readiness)
        .string(14, "");
    let empty_dir = Proto::new().string(1, "").message(2, quantity("1Gi"));
    let volume = Proto::new()
        .string(1, "scratch")
        .message(2, Proto::new().message(2, empty_dir));
    let spec = Proto::new()
        .message(1, volume)
        .message(2, container)
        .string(3, "")
        .varint(11, 0);
    let pod = Proto::new().message(1, object_meta("p")).message(2, spec);
    check(
        &envelope("v1", "Pod", pod),
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
                "containers": [{
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 3},
                    "readinessProbe": {"tcpSocket": {"port": 8080}},
                }],
            },
        }),
    );
}

#[test]
fn zero_replicas_behind_a_pointer_are_kept() {
    let spec = Proto::new().varint(1, 0).varint(5, 0);
    let deployment = Proto::new().message(1, object_meta("d")).message(2, spec);
    check(
        &envelope("apps/v1", "Deployment", deployment),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"replicas": 0},
        }),
    );
}

#[test]
fn times_become_rfc3339() {
    let metadata = object_meta("l")
        .message(
            8,
            Proto::new().varint(1, 1_700_000_000).varint(2, 500_000_000),
        )
        .message(9, Proto::new());
    let spec = Proto::new().string(1, "holder").message(
        3,
        Proto::new().varint(1, 1_700_000_000).varint(2, 123_456_789),
    );
    let lease = Proto::new().message(1, metadata).message(2, spec);
    check(
        &envelope("coordination.k8s.io/v1", "Lease", lease),
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": "l",
                "creationTimestamp": "2023-11-14T22:13:20Z",
            },
            "spec": {"holderIdentity": "holder", "acquireTime": "2023-11-14T22:13:20.123456Z"},
        }),
    );
}

#[test]
fn negative_int32_is_sign_extended() {
    let class = Proto::new()
        .message(1, object_meta("pc"))
        .varint(2, (-5_i64) as u64);
    let decoded =
        decode_request(&envelope("scheduling.k8s.io/v1", "PriorityClass", class)).unwrap();
    assert_eq!(decoded["value"], json!(-5));
}

#[test]
fn unknown_fields_are_skipped() {
    let namespace = Proto::new()
        .message(1, object_meta("demo").varint(999, 7))
        .string(77, "ignored")
        .bytes(78, &[0xff, 0xfe]);
    check(
        &envelope("v1", "Namespace", namespace),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}),
    );
}

#[test]
fn missing_magic_is_not_protobuf() {
    assert_eq!(
        decode_request(b"{\"kind\":\"Namespace\"}"),
        Err(ProtobufError::MissingMagic)
    );
    assert_eq!(decode_request(b""), Err(ProtobufError::MissingMagic));
}

/// A cut at a field boundary leaves a shorter valid message; any other
/// cut is `Truncated`, and none panics.
#[test]
fn truncated_bodies_are_errors() {
    let body = fixture("kubectl-deployment.bin");
    for length in 4..body.len() {
        match decode_request(&body[..length]) {
            Ok(_) | Err(ProtobufError::Truncated { .. } | ProtobufError::UnknownKind { .. }) => {}
            Err(error) => panic!("{length}: {error}"),
        }
    }
    let cut_inside_raw = &body[..body.len() - 10];
    assert_eq!(
        decode_request(cut_inside_raw),
        Err(ProtobufError::Truncated {
            field: "Unknown".into()
        })
    );
    let cut_inside_a_varint = [b"k8s\0".as_slice(), &[0x08, 0x80]].concat();
    assert_eq!(
        decode_request(&cut_inside_a_varint),
        Err(ProtobufError::Truncated {
            field: "Unknown".into()
        })
    );
}

#[test]
fn unknown_kind_is_named() {
    let error = decode_request(&envelope("example.com/v1", "Widget", Proto::new())).unwrap_err();
    assert_eq!(
        error,
        ProtobufError::UnknownKind {
            api_version: "example.com/v1".into(),
            kind: "Widget".into()
        }
    );
    assert!(error.to_string().contains("\"Widget\""));
}

#[test]
fn invalid_utf8_names_the_field() {
    let container = Proto::new().string(1, "app").bytes(2, &[b'n', 0xff]);
    let pod = Proto::new()
        .message(1, object_meta("p"))
        .message(2, Proto::new().message(2, container));
    let error = decode_request(&envelope("v1", "Pod", pod)).unwrap_err();
    assert_eq!(
        error,
        ProtobufError::InvalidUtf8 {
            field: "Pod.spec.containers.image".into()
        }
    );
}

#[test]
fn wrong_wire_type_names_the_field() {
    let namespace = Proto::new().varint(1, 3);
    let error = decode_request(&envelope("v1", "Namespace", namespace)).unwrap_err();
    assert_eq!(
        error,
        ProtobufError::BadWireType {
            field: "Namespace.metadata".into(),
            expected: 2,
            found: 0
        }
    );
}

/// A message that holds itself, to reach any depth.
static NESTED: Message = Message {
    name: "Nested",
    fields: &[field(
        1,
        "child",
        ValueType::Message(&NESTED),
        FieldShape::Pointer,
    )],
};

fn nested(depth: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for _ in 0..depth {
        bytes = Proto::new().bytes(1, &bytes).0;
    }
    bytes
}

#[test]
fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
    let path = FieldPath::root("Nested");
    let error = decode::decode_message(&nested(10_000), &NESTED, &path, 1).unwrap_err();
    assert!(matches!(
        error,
        ProtobufError::TooDeep {
            limit: MAX_DEPTH,
            message: "Nested",
            ..
        }
    ));
    assert!(decode::decode_message(&nested(MAX_DEPTH - 1), &NESTED, &path, 1).is_ok());
    assert!(decode::decode_message(&nested(MAX_DEPTH), &NESTED, &path, 1).is_err());
}

#[test]
fn a_deep_bomb_in_unknown_fields_is_skipped() {
    let namespace = Proto::new()
        .message(1, object_meta("demo"))
        .bytes(50, &nested(10_000));
    check(
        &envelope("v1", "Namespace", namespace),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}),
    );
}

#[test]
fn every_served_kind_has_a_message() {
    for info in api::ALL_KINDS {
        assert!(
            schema::root_message(&info.api_version(), info.kind).is_some(),
            "{}",
            info.kind
        );
    }
}

#[test]
fn field_numbers_are_unique_in_every_message() {
    fn visit(message: &'static Message, seen: &mut Vec<&'static str>) {
        if seen.contains(&message.name) {
            return;
        }
        seen.push(message.name);
        for (index, field) in message.fields.iter().enumerate() {
            assert!(
                message.fields[index + 1..]
                    .iter()
                    .all(|other| other.number != field.number),
                "{}: field {} twice",
                message.name,
                field.number
            );
            if let ValueType::Message(inner) = field.value_type {
                visit(inner, seen);
            }
        }
    }
    let mut seen = Vec::new();
    for (_, _, message) in schema::ROOTS {
        visit(message, &mut seen);
    }
    assert!(seen.len() > 300, "{}", seen.len());
}

#[test]
fn map_entries_keep_order_and_a_missing_value_is_empty() {
    let config_map = Proto::new()
        .message(1, object_meta("cm").entry(11, "app", "web"))
        .entry(2, "b", "2")
        .message(2, Proto::new().string(1, "a"));
    check(
        &envelope("v1", "ConfigMap", config_map),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm", "labels": {"app": "web"}},
            "data": {"b": "2", "a": ""},
        }),
    );
}

#[test]
fn kubectl_drain_without_eviction_sends_delete_options() {
    check(
        &fixture("kubectl-delete-options.bin"),
        json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 5}),
    );
}

#[test]
fn repeated_numbers_may_be_packed_or_not() {
    let on_exit_codes = Proto::new().string(2, "In").bytes(3, &[1, 42]).varint(3, 7);
    let rule = Proto::new().string(1, "FailJob").message(2, on_exit_codes);
    let spec = Proto::new().message(11, Proto::new().message(1, rule));
    let job = Proto::new().message(1, object_meta("j")).message(2, spec);
    let decoded = decode_request(&envelope("batch/v1", "Job", job)).unwrap();
    assert_eq!(
        decoded["spec"]["podFailurePolicy"],
        json!({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [1, 42, 7]}}]})
    );
}

#[test]
fn a_message_seen_twice_merges() {
    let namespace = Proto::new()
        .message(1, Proto::new().string(1, "first").entry(11, "a", "1"))
        .message(1, Proto::new().string(1, "second").entry(11, "b", "2"));
    check(
        &envelope("v1", "Namespace", namespace),
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "second", "labels": {"a": "1", "b": "2"}},
        }),
    );
}

#[test]
fn env_from_a_config_map_key_and_a_secret_volume() {
    let key_selector = Proto::new()
        .message(1, Proto::new().string(1, "settings"))
        .string(2, "level")
        .varint(3, 0);
    let env = Proto::new()
        .string(1, "LEVEL")
        .string(2, "")
        .message(3, Proto::new().message(3, key_selector));
    let container = Proto::new().string(1, "app").message(7, env);
    let secret_volume = Proto::new()
        .string(1, "tls")
        .message(2, Proto::new().string(1, "tls.crt").string(2, "cert.pem"))
        .varint(3, 0o440);
    let volume = Proto::new()
        .string(1, "certs")
        .message(2, Proto::new().message(6, secret_volume));
    let spec = Proto::new().message(1, volume).message(2, container);
    let pod = Proto::new().message(1, object_meta("p")).message(2, spec);
    let decoded = decode_request(&envelope("v1", "Pod", pod)).unwrap();
    assert_eq!(
        decoded["spec"],
        json!({
            "volumes": [{
                "name": "certs",
                "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "cert.pem"}], "defaultMode": 288},
            }],
            "containers": [{
                "name": "app",
                "env": [{"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level", "optional": false}}}],
            }],
        })
    );
}
