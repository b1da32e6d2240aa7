"""Ephemeral containers (``pods/NAME/ephemeralcontainers``, what ``kubectl debug`` patches), through the official client.

The subresource changes only ``spec.ephemeralContainers``, checked as upstream's
``ValidatePodEphemeralContainersUpdate``; the kubelet starts each new one once (never restarted,
never ready) and reports it in ``ephemeralContainerStatuses``; logs, exec and attach accept it.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from .test_kubelet import follow, raw_log
from .test_kubelet_programs import out


def _debugger(name: str = "debugger", **extra) -> dict:
    return {"name": name, "image": "busybox:1.28", "command": ["sh", "-c", "echo hello from the debugger; sleep 3600"],
            **extra}


def _add(core, *containers: dict, pod: str = "target") -> dict:
    return core.patch_namespaced_pod_ephemeralcontainers(
        pod, "default", {"spec": {"ephemeralContainers": list(containers)}}, _preload_content=False)


def _status(p: dict) -> dict:
    return {s["name"]: s for s in p["status"].get("ephemeralContainerStatuses") or []}


@pytest.fixture
def target(core):
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "target"},
                                           "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
    follow(core, "target", lambda p: p["status"].get("phase") == "Running")
    return core


def test_an_ephemeral_container_runs_beside_the_pods_containers_and_is_reported_apart(target, sandbox):
    body = json.loads(_add(target, _debugger(targetContainerName="app")).data)
    [added] = body["spec"]["ephemeralContainers"]
    assert added["terminationMessagePolicy"] == "File" and added["imagePullPolicy"] == "IfNotPresent"
    p = follow(target, "target", lambda p: "running" in (_status(p).get("debugger") or {}).get("state", {}))
    st = _status(p)["debugger"]
    assert st["ready"] is False and st["restartCount"] == 0
    assert [s["name"] for s in p["status"]["containerStatuses"]] == ["app"]
    assert list(p["status"]).index("ephemeralContainerStatuses") > list(p["status"]).index("containerStatuses")
    assert raw_log(sandbox, "target", container="debugger") == "hello from the debugger\n"
    assert out(target, "target", ["hostname"], container="debugger") == "target\n"


def test_an_ephemeral_container_that_ends_is_not_restarted(target):
    _add(target, {"name": "once", "image": "busybox:1.28", "command": ["sh", "-c", "exit 3"]})
    p = follow(target, "target", lambda p: "terminated" in (_status(p).get("once") or {}).get("state", {}))
    assert _status(p)["once"]["state"]["terminated"]["exitCode"] == 3
    target.patch_namespaced_pod("target", "default", {"metadata": {"labels": {"poke": "1"}}})  # a sync of the pod
    p = follow(target, "target", lambda p: p["metadata"].get("labels", {}).get("poke") == "1")
    assert _status(p)["once"]["restartCount"] == 0 and p["status"]["phase"] == "Running"


@pytest.mark.parametrize("change, message", [
    ({"name": "app", "image": "busybox"}, 'spec.ephemeralContainers[0].name: Duplicate value: "app"'),
    ({"name": "d", "image": "busybox", "ports": [{"containerPort": 80}]},
     "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"),
    ({"name": "d", "image": "busybox", "readinessProbe": {"exec": {"command": ["true"]}}},
     "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container"),
    ({"name": "d"}, "spec.ephemeralContainers[0].image: Required value"),
    ({"name": "d", "image": "busybox", "targetContainerName": "nope"},
     'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"'),
])
def test_an_ephemeral_container_that_breaks_the_rules_is_refused_with_upstreams_cause(target, change, message):
    with pytest.raises(client.ApiException) as e:
        _add(target, change)
    assert e.value.status == 422
    assert message in json.loads(e.value.body)["message"]
    assert not target.read_namespaced_pod("target", "default").spec.ephemeral_containers


def test_an_existing_ephemeral_container_may_not_be_removed_or_changed(target):
    _add(target, _debugger())
    pod = target.read_namespaced_pod("target", "default", _preload_content=False)
    current = json.loads(pod.data)["spec"]["ephemeralContainers"]
    with pytest.raises(client.ApiException) as e:
        target.replace_namespaced_pod_ephemeralcontainers(
            "target", "default", {**json.loads(pod.data), "spec": {**json.loads(pod.data)["spec"], "ephemeralContainers": []}})
    assert 'Forbidden: existing ephemeral containers "debugger" may not be removed' in json.loads(e.value.body)["message"]
    changed = [{**current[0], "image": "busybox:1.36"}]
    with pytest.raises(client.ApiException) as e:
        target.replace_namespaced_pod_ephemeralcontainers(
            "target", "default", {**json.loads(pod.data), "spec": {**json.loads(pod.data)["spec"],
                                                                     "ephemeralContainers": changed}})
    assert 'Forbidden: existing ephemeral containers "debugger" may not be changed' in json.loads(e.value.body)["message"]


def test_the_pod_itself_cannot_gain_an_ephemeral_container_by_an_update(target):
    with pytest.raises(client.ApiException) as e:
        target.patch_namespaced_pod("target", "default", {"spec": {"ephemeralContainers": [_debugger()]}})
    assert e.value.status == 422
    assert "spec: Forbidden: pod updates may not change fields" in json.loads(e.value.body)["message"]
