//! Real `kubectl` against the `apiserver` binary's REST face over HTTPS,
//! with the admin kubeconfig the apiserver writes on start: each command a
//! user would run, asserted on kubectl's output and on the stored objects.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::process::{Process, free_address};

/// An apiserver process serving REST; killed on drop.
pub(crate) struct Cluster {
    process: Process,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

pub(crate) fn start() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let grpc_address = free_address().to_string();
    let process = Process::spawn(
        Command::new(env!("CARGO_BIN_EXE_apiserver"))
            .args(["--store", "memory", "--data-dir"])
            .arg(dir.path())
            .args(["--listen", &grpc_address])
            .args(["--rest-listen", &free_address().to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    );
    let kubeconfig = dir.path().join("pki").join("admin.kubeconfig");
    let mut cluster = Cluster {
        process,
        kubeconfig,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(!cluster.process.has_exited(), "apiserver exited early");
        if cluster.kubeconfig.exists() && cluster.try_kubectl(&["get", "ns", "default"]).0 {
            return cluster;
        }
        assert!(Instant::now() < deadline, "apiserver did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Cluster {
    /// The kubeconfig (in the apiserver's PKI directory) of one of Skiff's
    /// components, which names the gRPC face: `kubelet.kubeconfig`, ….
    pub(crate) fn component_kubeconfig(&self, file: &str) -> PathBuf {
        self.kubeconfig.with_file_name(file)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(Stdio::null());
        command
    }

    /// Runs kubectl; whether it succeeded, its stdout and stderr.
    pub(crate) fn try_kubectl(&self, args: &[&str]) -> (bool, String, String) {
        let output = self.command(args).output().expect("kubectl runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    }

    /// Runs kubectl and returns its stdout; panics (with stderr) on failure.
    pub(crate) fn kubectl(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.try_kubectl(args);
        assert!(ok, "kubectl {args:?} failed: {stderr}{stdout}");
        stdout
    }

    /// Runs kubectl with `input` on stdin.
    pub(crate) fn kubectl_stdin(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl(&args)).unwrap()
    }
}

const MANIFEST: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - {name: A, value: one}
        - {name: B, value: two}
---
apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: demo
  labels: {app: web, tier: front}
spec:
  containers:
  - name: c
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: p2
  namespace: demo
  labels: {app: db}
spec:
  containers:
  - name: c
    image: busybox
";

const NODE: &str = "apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/hostname: n1, node-role.kubernetes.io/worker: ''}
status:
  capacity: {cpu: '4', memory: 8Gi, pods: '110'}
  allocatable: {cpu: '4', memory: 8Gi, pods: '110'}
  conditions:
  - {type: Ready, status: 'True'}
";

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn e2e_kubectl_discovery_apply_get_and_edit() {
    let cluster = start();
    let scratch = tempfile::tempdir().unwrap();

    let info = cluster.kubectl(&["cluster-info"]);
    assert!(info.contains("is running at https://127.0.0.1:"), "{info}");
    let resources = cluster.kubectl(&["api-resources"]);
    let pods_row = resources
        .lines()
        .find(|line| line.starts_with("pods "))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(pods_row, ["pods", "po", "v1", "true", "Pod"], "{resources}");
    assert!(resources.contains("deployments"), "{resources}");
    let versions = cluster.kubectl(&["api-versions"]);
    for version in ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1"] {
        assert!(versions.lines().any(|line| line == version), "{versions}");
    }
    let explained = cluster.kubectl(&["explain", "pod.spec.affinity"]);
    assert!(
        explained.contains("FIELD: affinity <Affinity>"),
        "{explained}"
    );
    assert!(explained.contains("nodeAffinity"), "{explained}");

    // apply of a multi-document manifest, then again with a change: a patch.
    let manifest = write(scratch.path(), "app.yaml", MANIFEST);
    let manifest = manifest.to_str().unwrap();
    let applied = cluster.kubectl(&["apply", "-f", manifest]);
    for line in [
        "namespace/demo created",
        "deployment.apps/web created",
        "pod/p1 created",
        "pod/p2 created",
    ] {
        assert!(applied.contains(line), "{applied}");
    }
    let created = cluster.json(&["get", "deploy", "web", "-n", "demo"]);
    let uid = created["metadata"]["uid"].clone();
    write(
        scratch.path(),
        "app.yaml",
        &MANIFEST.replace("nginx:1.25", "nginx:1.26"),
    );
    let reapplied = cluster.kubectl(&["apply", "-f", manifest]);
    assert!(
        reapplied.contains("deployment.apps/web configured"),
        "{reapplied}"
    );
    assert!(reapplied.contains("pod/p1 unchanged"), "{reapplied}");
    let patched = cluster.json(&["get", "deploy", "web", "-n", "demo"]);
    assert_eq!(patched["metadata"]["uid"], uid, "a patch, not a replace");
    let container = &patched["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.26");
    assert_eq!(container["env"].as_array().unwrap().len(), 2);
    assert_eq!(patched["metadata"]["generation"], 2);

    // Server-side apply takes over the fields.
    let server_side = cluster.kubectl(&["apply", "--server-side", "-f", manifest]);
    assert!(
        server_side.contains("deployment.apps/web serverside-applied"),
        "{server_side}"
    );
    let managed = cluster.json(&[
        "get",
        "deploy",
        "web",
        "-n",
        "demo",
        "--show-managed-fields",
    ]);
    let managers: Vec<&str> = managed["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");

    // get in every output format, with selectors.
    let wide = cluster.kubectl(&["get", "pods", "-n", "demo", "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    assert!(wide.contains("Pending"), "{wide}");
    let yaml = cluster.kubectl(&["get", "pod", "p1", "-n", "demo", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Pod") && yaml.contains("name: p1"),
        "{yaml}"
    );
    let image = cluster.kubectl(&[
        "get",
        "pod",
        "p1",
        "-n",
        "demo",
        "-o",
        "jsonpath={.spec.containers[0].image}",
    ]);
    assert_eq!(image, "busybox");
    let labelled = cluster.kubectl(&["get", "pods", "-n", "demo", "-l", "app=web", "-o", "name"]);
    assert_eq!(labelled.trim(), "pod/p1");
    let by_field = cluster.kubectl(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "metadata.name=p2",
        "-o",
        "name",
    ]);
    assert_eq!(by_field.trim(), "pod/p2");
    let everywhere = cluster.kubectl(&["get", "pods", "-A"]);
    assert!(everywhere.starts_with("NAMESPACE"), "{everywhere}");
    assert_eq!(everywhere.lines().count(), 3, "{everywhere}");

    // label, annotate, edit (through an EDITOR script), describe.
    cluster.kubectl(&["label", "pod", "p1", "-n", "demo", "env=prod"]);
    cluster.kubectl(&["annotate", "pod", "p1", "-n", "demo", "note=hello"]);
    let editor = write(
        scratch.path(),
        "editor.sh",
        "#!/bin/sh\nsed -i 's/image: busybox$/image: busybox:1.36/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let edited = cluster
        .command(&["edit", "pod", "p1", "-n", "demo"])
        .env("EDITOR", &editor)
        .output()
        .unwrap();
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    let pod = cluster.json(&["get", "pod", "p1", "-n", "demo"]);
    assert_eq!(pod["metadata"]["labels"]["env"], "prod");
    assert_eq!(pod["metadata"]["annotations"]["note"], "hello");
    assert_eq!(pod["spec"]["containers"][0]["image"], "busybox:1.36");
    let described = cluster.kubectl(&["describe", "pod", "p1", "-n", "demo"]);
    assert!(
        described
            .lines()
            .any(|line| line.starts_with("Namespace:") && line.trim_end().ends_with(" demo")),
        "{described}"
    );
    assert!(
        described.contains("Service Account:  default"),
        "{described}"
    );
    assert!(described.contains("env=prod"), "{described}");

    // scale through the scale subresource.
    let scaled = cluster.kubectl(&["scale", "deploy", "web", "-n", "demo", "--replicas=5"]);
    assert!(scaled.contains("deployment.apps/web scaled"), "{scaled}");
    let deployment = cluster.json(&["get", "deploy", "web", "-n", "demo"]);
    assert_eq!(deployment["spec"]["replicas"], 5);

    // delete
    let deleted = cluster.kubectl(&["delete", "pod", "p2", "-n", "demo"]);
    assert!(deleted.contains("pod \"p2\" deleted"), "{deleted}");
    let (found, _, stderr) = cluster.try_kubectl(&["get", "pod", "p2", "-n", "demo"]);
    assert!(!found);
    assert!(
        stderr.contains("Error from server (NotFound): pods \"p2\" not found"),
        "{stderr}"
    );
}

#[test]
fn e2e_kubectl_nodes_watch_and_errors() {
    let cluster = start();
    cluster.kubectl_stdin(&["create", "-f", "-"], NODE);
    cluster.kubectl(&["cordon", "n1"]);
    cluster.kubectl(&["taint", "nodes", "n1", "dedicated=gpu:NoSchedule"]);
    let nodes = cluster.kubectl(&["get", "nodes"]);
    let row: Vec<&str> = nodes.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..3],
        ["n1", "Ready,SchedulingDisabled", "worker"],
        "{nodes}"
    );
    let node = cluster.json(&["get", "node", "n1"]);
    assert_eq!(node["spec"]["unschedulable"], true);
    assert_eq!(node["spec"]["taints"][0]["key"], "dedicated");
    let described = cluster.kubectl(&["describe", "node", "n1"]);
    assert!(
        described.contains("dedicated=gpu:NoSchedule"),
        "{described}"
    );
    cluster.kubectl(&["uncordon", "n1"]);
    cluster.kubectl(&["taint", "nodes", "n1", "dedicated-"]);
    let node = cluster.json(&["get", "node", "n1"]);
    assert!(node["spec"].get("unschedulable").is_none_or(|v| v == false));
    assert!(
        node["spec"]
            .get("taints")
            .is_none_or(|taints| taints.as_array().is_some_and(Vec::is_empty))
    );

    // get -w sees a change made while it watches.
    cluster.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {a: '1'}\n",
    );
    let mut watcher = cluster
        .command(&["get", "configmaps", "-w", "--request-timeout=20s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (lines_sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_sender.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(first.starts_with("NAME"), "{first}");
    let listed = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(listed.starts_with("settings"), "{listed}");
    cluster.kubectl(&["label", "configmap", "settings", "changed=yes"]);
    let changed = lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(changed.starts_with("settings"), "{changed}");
    let _ = watcher.kill();
    let _ = watcher.wait();

    // Errors are Kubernetes Status messages.
    let (ok, _, stderr) = cluster.try_kubectl(&["get", "widgets"]);
    assert!(!ok);
    assert!(
        stderr.contains("the server doesn't have a resource type \"widgets\""),
        "{stderr}"
    );
    let invalid = "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec:\n  containers: [{name: c, image: i}]\n";
    let (ok, _, stderr) = {
        use std::io::Write;
        let mut child = cluster
            .command(&["create", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(invalid.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    assert!(!ok);
    assert!(
        stderr.contains(
            "The Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""
        ),
        "{stderr}"
    );
}

#[test]
fn e2e_kubectl_typed_commands_can_i_and_drain() {
    let cluster = start();
    // Commands whose bodies kubectl sends as protobuf.
    let created = cluster.kubectl(&["create", "namespace", "apps"]);
    assert!(created.contains("namespace/apps created"), "{created}");
    let created = cluster.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
        "-n",
        "apps",
    ]);
    assert!(created.contains("deployment.apps/web created"), "{created}");
    let deployment = cluster.json(&["get", "deploy", "web", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx"
    );
    assert_eq!(deployment["spec"]["selector"]["matchLabels"]["app"], "web");
    let wide = cluster.kubectl(&["get", "deploy", "-n", "apps", "-o", "wide"]);
    assert!(wide.contains("app=web"), "{wide}");

    // auth can-i agrees with what the admin may do.
    assert_eq!(
        cluster.kubectl(&["auth", "can-i", "list", "pods"]).trim(),
        "yes"
    );
    assert_eq!(
        cluster
            .kubectl(&["auth", "can-i", "delete", "nodes"])
            .trim(),
        "yes"
    );
    let whoami = cluster.kubectl(&["auth", "whoami"]);
    assert!(whoami.contains("skiff-admin"), "{whoami}");

    // drain: cordon, then evict the pods bound to the node.
    cluster.kubectl_stdin(&["create", "-f", "-"], NODE);
    cluster.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bound, namespace: apps}\nspec:\n  nodeName: n1\n  containers: [{name: c, image: i}]\n",
    );
    // debug: an ephemeral container added through its subresource (no
    // attach: that needs the kubelet).
    cluster.kubectl(&[
        "debug",
        "bound",
        "-n",
        "apps",
        "--image=busybox:1.36",
        "-c",
        "dbg",
        "--target=c",
    ]);
    let debugged = cluster.json(&["get", "pod", "bound", "-n", "apps"]);
    assert_eq!(debugged["spec"]["ephemeralContainers"][0]["name"], "dbg");
    assert_eq!(
        debugged["spec"]["ephemeralContainers"][0]["targetContainerName"],
        "c"
    );
    let drained = cluster.kubectl(&[
        "drain",
        "n1",
        "--force",
        "--grace-period=0",
        "--timeout=30s",
    ]);
    assert!(drained.contains("node/n1 drained"), "{drained}");
    assert!(drained.contains("evicting pod apps/bound"), "{drained}");
    let (found, _, _) = cluster.try_kubectl(&["get", "pod", "bound", "-n", "apps"]);
    assert!(!found, "the evicted pod is gone");
    let node = cluster.json(&["get", "node", "n1"]);
    assert_eq!(node["spec"]["unschedulable"], true);
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a test resource.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10, description: How big the widget is.}
              replicas: {type: integer}
              color: {type: string, enum: [red, blue], default: red}
          status:
            type: object
            properties:
              replicas: {type: integer}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: default
spec:
  size: 3
";

#[test]
fn e2e_kubectl_custom_resource_definitions() {
    let cluster = start();
    let dir = tempfile::tempdir().unwrap();
    let crd = write(dir.path(), "crd.yaml", CRD);
    let widget = write(dir.path(), "widget.yaml", WIDGET);

    let applied = cluster.kubectl(&["apply", "-f", crd.to_str().unwrap()]);
    assert!(
        applied
            .contains("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"),
        "{applied}"
    );
    cluster.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=30s",
    ]);
    let resources = cluster.kubectl(&["api-resources", "--api-group=example.com"]);
    assert!(resources.contains("widgets"), "{resources}");
    assert!(resources.contains("wd"), "{resources}");
    assert!(resources.contains("example.com/v1"), "{resources}");

    let (ok, _, stderr) = cluster.try_kubectl(&["get", "widgets"]);
    assert!(ok, "{stderr}");
    let applied = cluster.kubectl(&["apply", "-f", widget.to_str().unwrap()]);
    assert!(
        applied.contains("widget.example.com/w1 created"),
        "{applied}"
    );
    let listed = cluster.kubectl(&["get", "widgets"]);
    let header: Vec<&str> = listed.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "SIZE", "COLOR", "AGE"], "{listed}");
    let row: Vec<&str> = listed.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["w1", "3", "red"], "{listed}");

    // Re-applying a change patches it; the short name works.
    let changed = write(
        dir.path(),
        "widget2.yaml",
        &WIDGET.replace("size: 3", "size: 5"),
    );
    let reapplied = cluster.kubectl(&["apply", "-f", changed.to_str().unwrap()]);
    assert!(
        reapplied.contains("widget.example.com/w1 configured"),
        "{reapplied}"
    );
    let object = cluster.json(&["get", "wd", "w1"]);
    assert_eq!(object["spec"]["size"], 5);
    assert_eq!(object["spec"]["color"], "red");

    // An invalid object is refused with the field named.
    let invalid = write(
        dir.path(),
        "bad.yaml",
        &WIDGET.replace("size: 3", "size: 11").replace("w1", "bad"),
    );
    let (ok, _, stderr) = cluster.try_kubectl(&["apply", "-f", invalid.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("spec.size"), "{stderr}");
    assert!(
        stderr.contains("should be less than or equal to 10"),
        "{stderr}"
    );

    // kubectl scale goes through the scale subresource.
    let scaled = cluster.kubectl(&["scale", "widget", "w1", "--replicas=4"]);
    assert!(scaled.contains("widget.example.com/w1 scaled"), "{scaled}");
    assert_eq!(
        cluster.json(&["get", "widget", "w1"])["spec"]["replicas"],
        4
    );

    let explained = cluster.kubectl(&["explain", "widgets.spec"]);
    assert!(
        explained.contains("What the widget should be."),
        "{explained}"
    );
    assert!(explained.contains("size"), "{explained}");
    assert!(explained.contains("How big the widget is."), "{explained}");

    let deleted = cluster.kubectl(&["delete", "crd", "widgets.example.com"]);
    assert!(deleted.contains("deleted"), "{deleted}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ok, _, stderr) = cluster.try_kubectl(&["get", "widgets.example.com"]);
        if !ok {
            assert!(
                stderr.contains("the server doesn't have a resource type"),
                "{stderr}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "widgets still served");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The rows of `kubectl describe quota`'s resource table, as
/// `(resource, used, hard)`.
fn quota_rows(described: &str) -> Vec<(String, String, String)> {
    described
        .lines()
        .skip_while(|line| !line.starts_with("--------"))
        .skip(1)
        .map(|line| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .take_while(|fields| fields.len() == 3)
        .map(|fields| (fields[0].clone(), fields[1].clone(), fields[2].clone()))
        .collect()
}

#[test]
fn e2e_kubectl_quota_usage_scopes_and_describe() {
    let cluster = start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "quotas.yaml",
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: quota-e2e
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
  namespace: quota-e2e
spec:
  hard:
    pods: "3"
    requests.cpu: "1"
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: high-priority
  namespace: quota-e2e
spec:
  hard:
    pods: "1"
  scopeSelector:
    matchExpressions:
    - scopeName: PriorityClass
      operator: In
      values: ["high"]
"#,
    );
    cluster.kubectl(&["apply", "-f", manifest.to_str().unwrap()]);
    let pod = |name: &str, class: Option<&str>| {
        let class = class
            .map(|class| format!("  priorityClassName: {class}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: quota-e2e\nspec:\n{class}  containers:\n  - name: c\n    image: nginx\n    resources:\n      requests:\n        cpu: 300m\n"
        )
    };
    cluster.kubectl_stdin(&["create", "-f", "-"], &pod("plain", None));
    cluster.kubectl_stdin(&["create", "-f", "-"], &pod("urgent", Some("high")));
    // A second high-priority pod exceeds the scoped quota, and nothing is
    // stored.
    let (ok, _, stderr) = {
        let path = write(dir.path(), "urgent-2.yaml", &pod("urgent-2", Some("high")));
        cluster.try_kubectl(&["create", "-f", path.to_str().unwrap()])
    };
    assert!(!ok);
    assert!(
        stderr.contains(
            "exceeded quota: high-priority, requested: pods=1, used: pods=1, limited: pods=1"
        ),
        "{stderr}"
    );
    let (found, _, _) = cluster.try_kubectl(&["get", "pod", "urgent-2", "-n", "quota-e2e"]);
    assert!(!found);

    let compute = cluster.kubectl(&["describe", "quota", "compute", "-n", "quota-e2e"]);
    assert!(
        compute.contains("Name:") && compute.contains("compute"),
        "{compute}"
    );
    assert_eq!(
        quota_rows(&compute),
        vec![
            ("pods".to_string(), "2".to_string(), "3".to_string()),
            (
                "requests.cpu".to_string(),
                "600m".to_string(),
                "1".to_string()
            ),
        ],
        "{compute}"
    );
    let high = cluster.kubectl(&["describe", "quota", "high-priority", "-n", "quota-e2e"]);
    assert_eq!(
        quota_rows(&high),
        vec![("pods".to_string(), "1".to_string(), "1".to_string())],
        "{high}"
    );
    // The compute quota refuses the CPU a third pod would add (600m used
    // plus 500m is over 1).
    let (ok, _, stderr) = {
        let path = write(
            dir.path(),
            "big.yaml",
            &pod("third", None).replace("300m", "500m"),
        );
        cluster.try_kubectl(&["create", "-f", path.to_str().unwrap()])
    };
    assert!(!ok);
    assert!(stderr.contains("exceeded quota: compute"), "{stderr}");

    // Deleting a pod releases what it used.
    cluster.kubectl(&[
        "delete",
        "pod",
        "urgent",
        "-n",
        "quota-e2e",
        "--grace-period=0",
        "--force",
    ]);
    let high = cluster.kubectl(&["describe", "quota", "high-priority", "-n", "quota-e2e"]);
    assert_eq!(
        quota_rows(&high),
        vec![("pods".to_string(), "0".to_string(), "1".to_string())],
        "{high}"
    );
}
