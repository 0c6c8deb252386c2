"""End-to-end check of Skiff's REST face with the official Kubernetes Python client.

The client is configured from the command line only (server URL, CA file,
bearer token; no kubeconfig) and, in one namespace, checks that:

- a ConfigMap is created and read back with its data;
- two labelled Pods are created; a label selector lists exactly the matching
  ones, a field selector (metadata.name) exactly the named one, and
  limit/continue pages through them;
- a strategic merge patch of a Pod's labels is applied and read back;
- a watch from the list's resourceVersion sees the ADDED and MODIFIED events
  of changes made after the list, and one made while it is open;
- a second watch resumed from the last event's resourceVersion sees only
  later events: the DELETED of a Pod deleted with grace period 0;
- reading a missing object is an ApiException with status 404 and a
  Kubernetes Status body;
- listing Nodes, which the namespace's `edit` role does not allow, is an
  ApiException with status 403.

It prints each check as it passes and exits non-zero with a message on the
first failure.
"""

import argparse
import json
import sys
import time

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

# The longest a watch is left open waiting for an expected event, in seconds.
WATCH_TIMEOUT = 20


class CheckFailed(Exception):
    """A check did not hold."""


def check(condition, message):
    """Raises CheckFailed with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


def passed(message):
    """Reports one passed check."""
    print(f"ok: {message}", flush=True)


def pod(name, labels):
    """A minimal Pod named `name` with `labels`."""
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="nginx")]
        ),
    )


def names(pod_list):
    """The sorted names of the items of a list."""
    return sorted(item.metadata.name for item in pod_list.items)


def status_body(error):
    """The Kubernetes Status object in an ApiException's body."""
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError) as parse_error:
        raise CheckFailed(
            f"status {error.status} came with a body that is not JSON: {error.body!r}"
        ) from parse_error
    check(
        body.get("kind") == "Status" and body.get("apiVersion") == "v1",
        f"status {error.status} body is not a v1 Status: {body}",
    )
    check(
        body.get("code") == error.status,
        f"Status code {body.get('code')} differs from the HTTP status {error.status}",
    )
    return body


def expect_api_error(status, call, what):
    """Runs `call`, which must fail with an ApiException of `status`; returns its Status body."""
    try:
        call()
    except ApiException as error:
        check(
            error.status == status,
            f"{what}: expected status {status}, got {error.status}: {error.body}",
        )
        return status_body(error)
    raise CheckFailed(f"{what}: expected status {status}, but the call succeeded")


class Watcher:
    """One watch of Pods from a resourceVersion, read an event at a time."""

    def __init__(self, v1, namespace, resource_version):
        self.watch = watch.Watch()
        self.stream = self.watch.stream(
            v1.list_namespaced_pod,
            namespace,
            resource_version=resource_version,
            timeout_seconds=WATCH_TIMEOUT,
        )
        self.deadline = time.monotonic() + WATCH_TIMEOUT

    def next(self, what):
        """The next event other than a bookmark; fails if the watch ends first."""
        while time.monotonic() < self.deadline:
            try:
                event = next(self.stream)
            except StopIteration:
                break
            if event["type"] == "BOOKMARK":
                continue
            check(
                event["type"] != "ERROR",
                f"watch sent an ERROR event while waiting for {what}: {event['raw_object']}",
            )
            return event
        raise CheckFailed(f"watch ended without {what}")

    def stop(self):
        """Closes the watch."""
        self.watch.stop()


def describe(event):
    """An event as 'TYPE name@resourceVersion'."""
    metadata = event["object"].metadata
    return f"{event['type']} {metadata.name}@{metadata.resource_version}"


def expect_event(watcher, event_type, name, what):
    """The next event, which must be `event_type` for Pod `name`."""
    event = watcher.next(what)
    check(
        (event["type"], event["object"].metadata.name) == (event_type, name),
        f"expected {event_type} {name} ({what}), got {describe(event)}",
    )
    return event


def run(v1, namespace):
    """All the checks, in order."""
    config_map = v1.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="settings"), data={"mode": "fast"}
        ),
    )
    check(config_map.metadata.uid, f"created ConfigMap has no uid: {config_map}")
    read = v1.read_namespaced_config_map("settings", namespace)
    check(read.data == {"mode": "fast"}, f"ConfigMap data read back: {read.data}")
    passed("created a ConfigMap and read it back")

    for name, tier in (("web-a", "front"), ("web-b", "back")):
        created = v1.create_namespaced_pod(
            namespace, pod(name, {"app": "web", "tier": tier})
        )
        check(
            created.metadata.name == name and created.metadata.resource_version,
            f"created Pod {name}: {created.metadata}",
        )
    passed("created Pods web-a and web-b")

    listed = v1.list_namespaced_pod(namespace, label_selector="app=web")
    check(names(listed) == ["web-a", "web-b"], f"app=web listed {names(listed)}")
    front = v1.list_namespaced_pod(namespace, label_selector="app=web,tier=front")
    check(names(front) == ["web-a"], f"app=web,tier=front listed {names(front)}")
    not_back = v1.list_namespaced_pod(namespace, label_selector="tier!=back")
    check(names(not_back) == ["web-a"], f"tier!=back listed {names(not_back)}")
    none = v1.list_namespaced_pod(namespace, label_selector="app=db")
    check(names(none) == [], f"app=db listed {names(none)}")
    passed("label selectors list exactly the matching Pods")

    by_name = v1.list_namespaced_pod(namespace, field_selector="metadata.name=web-b")
    check(names(by_name) == ["web-b"], f"metadata.name=web-b listed {names(by_name)}")
    passed("field selector metadata.name=web-b lists exactly web-b")

    first_page = v1.list_namespaced_pod(namespace, limit=1)
    check(
        len(first_page.items) == 1 and first_page.metadata._continue,
        f"limit=1 gave {names(first_page)} and continue {first_page.metadata._continue!r}",
    )
    second_page = v1.list_namespaced_pod(
        namespace, limit=1, _continue=first_page.metadata._continue
    )
    paged = names(first_page) + names(second_page)
    check(
        sorted(paged) == ["web-a", "web-b"] and not second_page.metadata._continue,
        f"pages gave {paged}, last continue {second_page.metadata._continue!r}",
    )
    passed("limit/continue pages through both Pods")

    patched = v1.patch_namespaced_pod(
        "web-a", namespace, {"metadata": {"labels": {"tier": "middle"}}}
    )
    check(
        patched.metadata.labels == {"app": "web", "tier": "middle"},
        f"patch response labels: {patched.metadata.labels}",
    )
    read = v1.read_namespaced_pod("web-a", namespace)
    check(
        read.metadata.labels == {"app": "web", "tier": "middle"},
        f"labels read back after the patch: {read.metadata.labels}",
    )
    check(
        int(read.metadata.resource_version) > int(listed.metadata.resource_version),
        f"patch did not advance resourceVersion: {read.metadata.resource_version}",
    )
    passed("strategic merge patch of web-a's labels is read back")

    listed = v1.list_namespaced_pod(namespace)
    list_version = listed.metadata.resource_version
    check(list_version, f"Pod list has no resourceVersion: {listed.metadata}")
    v1.create_namespaced_pod(namespace, pod("web-c", {"app": "web", "tier": "new"}))
    v1.patch_namespaced_pod(
        "web-b", namespace, {"metadata": {"labels": {"tier": "patched"}}}
    )

    watcher = Watcher(v1, namespace, list_version)
    added = expect_event(watcher, "ADDED", "web-c", "the Pod created after the list")
    modified = expect_event(
        watcher, "MODIFIED", "web-b", "the Pod patched after the list"
    )
    check(
        modified["object"].metadata.labels.get("tier") == "patched",
        f"MODIFIED web-b carries labels {modified['object'].metadata.labels}",
    )
    # This change is made while the watch is open and is delivered live.
    v1.patch_namespaced_pod(
        "web-a", namespace, {"metadata": {"labels": {"tier": "live"}}}
    )
    live = expect_event(watcher, "MODIFIED", "web-a", "the Pod patched during the watch")
    watcher.stop()
    versions = [
        int(event["object"].metadata.resource_version)
        for event in (added, modified, live)
    ]
    check(
        int(list_version) < versions[0] < versions[1] < versions[2],
        f"event resourceVersions {versions} do not rise from the list's {list_version}",
    )
    passed(
        f"watch from resourceVersion {list_version} saw {describe(added)}, "
        f"{describe(modified)}, {describe(live)}"
    )

    last_version = live["object"].metadata.resource_version
    v1.delete_namespaced_pod("web-c", namespace, grace_period_seconds=0)
    resumed = Watcher(v1, namespace, last_version)
    deleted = resumed.next("the DELETED of web-c")
    while deleted["type"] == "MODIFIED" and deleted["object"].metadata.name == "web-c":
        # A deletion may first set deletionTimestamp; the DELETED follows.
        deleted = resumed.next("the DELETED of web-c")
    resumed.stop()
    check(
        (deleted["type"], deleted["object"].metadata.name) == ("DELETED", "web-c"),
        f"resumed watch from {last_version} sent {describe(deleted)} instead of DELETED web-c",
    )
    check(
        int(deleted["object"].metadata.resource_version) > int(last_version),
        f"resumed watch replayed {describe(deleted)} from before {last_version}",
    )
    remaining = v1.list_namespaced_pod(namespace)
    check(
        names(remaining) == ["web-a", "web-b"],
        f"after deleting web-c the list is {names(remaining)}",
    )
    passed(
        f"watch resumed from resourceVersion {last_version} saw only {describe(deleted)}"
    )

    body = expect_api_error(
        404,
        lambda: v1.read_namespaced_config_map("missing", namespace),
        "reading a missing ConfigMap",
    )
    check(
        body.get("reason") == "NotFound" and body.get("status") == "Failure",
        f"404 Status: {body}",
    )
    check(
        body.get("details", {}).get("name") == "missing",
        f"404 Status details: {body.get('details')}",
    )
    passed(f"missing ConfigMap is 404 NotFound: {body.get('message')}")

    body = expect_api_error(403, v1.list_node, "listing Nodes with the edit role")
    check(body.get("reason") == "Forbidden", f"403 Status: {body}")
    passed(f"listing Nodes is 403 Forbidden: {body.get('message')}")


def main():
    """Parses the arguments, configures the client and runs the checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="https://host:port of the REST face")
    parser.add_argument("--ca", required=True, help="CA certificate file of the server")
    parser.add_argument("--token", required=True, help="bearer token")
    parser.add_argument("--namespace", required=True, help="namespace to work in")
    args = parser.parse_args()

    configuration = client.Configuration(
        host=args.server,
        api_key={"authorization": f"Bearer {args.token}"},
    )
    # Set as an attribute: client versions before 32 take no ssl_ca_cert argument.
    configuration.ssl_ca_cert = args.ca
    configuration.verify_ssl = True
    check_started = time.monotonic()
    with client.ApiClient(configuration) as api_client:
        try:
            run(client.CoreV1Api(api_client), args.namespace)
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            return 1
        except ApiException as error:
            print(
                f"FAILED: unexpected API error {error.status} {error.reason}: {error.body}",
                file=sys.stderr,
            )
            return 1
    print(f"all checks passed in {time.monotonic() - check_started:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
