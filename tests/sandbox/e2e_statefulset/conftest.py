"""Helpers after upstream's e2e framework (``test/e2e/framework/statefulset``, ``test/e2e/apps/statefulset.go``)."""

from __future__ import annotations

import copy

import pytest

from ..conftest import run_exec, wait_until

HTTPD = "registry.k8s.io/e2e-test-images/httpd:2.4.38-4"
PAUSE = "registry.k8s.io/pause:3.9"
#: ``httpProbe.HTTPGet.Path``
PROBE_PATH = "/index.html"


def new_statefulset(name: str, replicas: int, labels: dict, *, service: str = "test") -> dict:
    """``e2estatefulset.NewStatefulSet`` (without claims: the conformance tests pass none)."""
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": dict(labels)}, "replicas": replicas, "serviceName": service,
                     "template": {"metadata": {"labels": dict(labels)}, "spec": {
                         "containers": [{"name": "webserver", "image": HTTPD}]}},
                     "updateStrategy": {"type": "RollingUpdate"}}}


def set_http_probe(ss: dict) -> dict:
    """``setHTTPProbe``: readiness over HTTP on /index.html, every second, one failure counts."""
    ss = copy.deepcopy(ss)
    ss["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "httpGet": {"path": PROBE_PATH, "port": 80}, "periodSeconds": 1, "successThreshold": 1, "failureThreshold": 1}
    return ss


def pods_of(core, ss: dict) -> list:
    sel = ",".join(f"{k}={v}" for k, v in ss["spec"]["selector"]["matchLabels"].items())
    return sorted(core.list_namespaced_pod("default", label_selector=sel).items, key=lambda p: p.metadata.name)


def run_host_cmd(core, pod_name: str, cmd: str) -> str:
    """``e2eoutput.RunHostCmd``: ``/bin/sh -c cmd`` in the pod through exec; its stdout, or the test fails."""
    out, err, code = run_exec(core, pod_name, ["/bin/sh", "-c", cmd])
    assert code == 0, f"error running {cmd!r} in {pod_name}: exit code {code}, stderr: {err!r}"
    return out


def exec_in_stateful_pods(core, ss: dict, cmd: str) -> list[str]:
    """``ExecInStatefulPods``: ``cmd`` in every pod of ``ss``; the stdout of each."""
    return [run_host_cmd(core, p.metadata.name, cmd) for p in pods_of(core, ss)]


def break_http_probe(core, ss: dict) -> None:
    """``breakHTTPProbe``: move the probed page away in every pod (``|| true``: idempotent)."""
    exec_in_stateful_pods(core, ss, f"mv -v /usr/local/apache2/htdocs{PROBE_PATH} /tmp/ || true")


def restore_http_probe(core, ss: dict) -> None:
    """``restoreHTTPProbe``: move the probed page back in every pod."""
    exec_in_stateful_pods(core, ss, f"mv -v /tmp{PROBE_PATH} /usr/local/apache2/htdocs/ || true")


def break_pod_http_probe(core, pod_name: str) -> None:
    """``breakPodHTTPProbe``: the same in one pod."""
    run_host_cmd(core, pod_name, f"mv -v /usr/local/apache2/htdocs{PROBE_PATH} /tmp/ || true")


def restore_pod_http_probe(core, pod_name: str) -> None:
    """``restorePodHTTPProbe``: the same in one pod."""
    run_host_cmd(core, pod_name, f"mv -v /tmp{PROBE_PATH} /usr/local/apache2/htdocs/ || true")


def ready(p) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])


def wait_for_running_and_ready(core, count: int, ss: dict, timeout: float = 60):
    """``WaitForRunningAndReady``: exactly ``count`` pods, all Running and Ready."""
    def done(_) -> bool:
        pods = pods_of(core, ss)
        return len(pods) == count and all(p.status.phase == "Running" and ready(p) for p in pods)
    wait_until(core.list_namespaced_pod, done, "default", timeout=timeout)


def wait_for_running_and_not_ready(core, count: int, ss: dict, timeout: float = 60):
    def done(_) -> bool:
        pods = pods_of(core, ss)
        return len(pods) == count and all(p.status.phase == "Running" and not ready(p) for p in pods)
    wait_until(core.list_namespaced_pod, done, "default", timeout=timeout)


def wait_for_status_ready_replicas(apps, ss: dict, n: int):
    return wait_until(apps.list_namespaced_stateful_set, lambda s: s.metadata.name == ss["metadata"]["name"] and
                      (s.status.ready_replicas or 0) == n and s.status.observed_generation == s.metadata.generation,
                      "default")


def confirm_stateful_pod_count(sandbox, core, count: int, ss: dict) -> None:
    """``confirmStatefulPodCount``: the count holds for the rest of time; on the sandbox, once nothing is
    pending (no timer, no work) nothing can change it any more."""
    assert sandbox.wait_idle(30)
    assert len(pods_of(core, ss)) == count


def update_replicas(apps, ss: dict, n: int) -> None:
    apps.patch_namespaced_stateful_set(ss["metadata"]["name"], "default", {"spec": {"replicas": n}})


@pytest.fixture
def headless(core):
    core.create_namespaced_service("default", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test"},
                                               "spec": {"clusterIP": "None", "selector": {"foo": "bar", "baz": "blah"},
                                                        "ports": [{"port": 80, "name": "http"}]}})
