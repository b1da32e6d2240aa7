"""Helpers after upstream's e2e framework (``test/e2e/framework/statefulset``, ``test/e2e/apps/statefulset.go``)."""

from __future__ import annotations

import copy
import time

import pytest

from ..conftest import run_exec, wait_until

HTTPD = "registry.k8s.io/e2e-test-images/httpd:2.4.38-4"
PAUSE = "registry.k8s.io/pause:3.9"
#: ``httpProbe.HTTPGet.Path``
PROBE_PATH = "/index.html"


def new_statefulset(name: str, replicas: int, labels: dict, *, service: str = "test",
                    stateful_pod_mounts: list | None = None, pod_mounts: list | None = None) -> dict:
    """``e2estatefulset.NewStatefulSet``: ``stateful_pod_mounts`` are backed by claims (one template each, 1 byte
    ReadWriteOnce: ``NewStatefulSetPVC``), ``pod_mounts`` by hostPath volumes at ``/tmp/<name>``."""
    stateful_pod_mounts, pod_mounts = list(stateful_pod_mounts or []), list(pod_mounts or [])
    claims = [{"metadata": {"name": m["name"]}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                         "resources": {"requests": {"storage": "1"}}}}
              for m in stateful_pod_mounts]
    volumes = [{"name": m["name"], "hostPath": {"path": f"/tmp/{m['name']}"}} for m in pod_mounts]
    container: dict = {"name": "webserver", "image": HTTPD}
    if stateful_pod_mounts or pod_mounts:
        container["volumeMounts"] = stateful_pod_mounts + pod_mounts
    spec: dict = {"containers": [container]}
    if volumes:
        spec["volumes"] = volumes
    ss = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
          "spec": {"selector": {"matchLabels": dict(labels)}, "replicas": replicas, "serviceName": service,
                   "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
                   "updateStrategy": {"type": "RollingUpdate"}}}
    if claims:
        ss["spec"]["volumeClaimTemplates"] = claims
    return ss


#: ``statefulPodMounts`` and ``podMounts`` of the "Basic StatefulSet functionality" BeforeEach.
STATEFUL_POD_MOUNTS = [{"name": "datadir", "mountPath": "/data/"}]
POD_MOUNTS = [{"name": "home", "mountPath": "/home"}]
#: ``pauseProbe``: ready once ``/data/statefulset-continue`` exists.
PAUSE_PROBE = {"exec": {"command": ["test", "-f", "/data/statefulset-continue"]}, "periodSeconds": 1,
               "successThreshold": 1, "failureThreshold": 1}


def pause_new_pods(ss: dict) -> dict:
    """``PauseNewPods``: new pods stay unready until :func:`resume_next_pod` lets one continue."""
    ss = copy.deepcopy(ss)
    ss["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = copy.deepcopy(PAUSE_PROBE)
    return ss


def resume_next_pod(core, ss: dict) -> None:
    """``ResumeNextPod``: the one paused pod (Running, not ready, with the pause probe) may continue."""
    resumed = ""
    for p in pods_of(core, ss):
        assert p.status.phase == "Running", f"Found pod in phase {p.status.phase!r}, cannot resume"
        probe = p.spec.containers[0].readiness_probe
        if ready(p) or probe is None or probe.var_exec is None or probe.var_exec.command != PAUSE_PROBE["exec"]["command"]:
            continue
        assert not resumed, f"Found multiple paused stateful pods: {p.metadata.name} and {resumed}"
        run_host_cmd(core, p.metadata.name, "dd if=/dev/zero of=/data/statefulset-continue bs=1 count=1 conv=fsync")
        resumed = p.metadata.name


def ordinal(p) -> int:
    return int(p.metadata.name.rsplit("-", 1)[1])


def wait_for_running(core, running: int, ready_count: int, ss: dict, timeout: float = 60) -> None:
    """``WaitForRunning``: ``running`` pods, all Running, those below ordinal ``ready_count`` ready and the
    others not; more pods than ``running`` fails at once ("too many pods scheduled")."""
    def done(_) -> bool:
        pods = pods_of(core, ss)
        assert len(pods) <= running, f"too many pods scheduled, expected {running} got {len(pods)}"
        return len(pods) == running and all(
            p.status.phase == "Running" and ready(p) == (ordinal(p) < ready_count) for p in pods)
    wait_until(core.list_namespaced_pod, done, "default", timeout=timeout)


def saturate(core, ss: dict) -> None:
    """``Saturate``: let each paused pod continue in turn, waiting for it to be Running first."""
    for i in range(ss["spec"]["replicas"]):
        wait_for_running(core, i + 1, i, ss)
        resume_next_pod(core, ss)


def check_mount(core, ss: dict, mount_path: str) -> None:
    """``CheckMount``: the mount can be listed, walked and written in every pod."""
    for cmd in (f"ls -idlh {mount_path}", f"find {mount_path}", f"touch {mount_path}/{time.time_ns()}"):
        exec_in_stateful_pods(core, ss, cmd)


def check_hostname(core, ss: dict) -> None:
    """``CheckHostname``: each pod's hostname is its name."""
    for p in pods_of(core, ss):
        hostname = run_host_cmd(core, p.metadata.name, "printf $(hostname)")
        assert hostname == p.metadata.name, \
            f"unexpected hostname ({hostname}) and stateful pod name ({p.metadata.name}) not equal"


def restart(apps, core, ss: dict) -> None:
    """``Restart``: scale to 0, wait for the controller to count none, scale back."""
    replicas = apps.read_namespaced_stateful_set(ss["metadata"]["name"], "default").spec.replicas
    update_replicas(apps, ss, 0)
    wait_until(core.list_namespaced_pod, lambda _: not pods_of(core, ss), "default")
    wait_until(apps.list_namespaced_stateful_set, lambda s: s.metadata.name == ss["metadata"]["name"] and
               (s.status.replicas or 0) == 0, "default")
    update_replicas(apps, ss, replicas)


def delete_stateful_pod_at_index(core, index: int, ss: dict) -> None:
    """``deleteStatefulPodAtIndex``: delete pod ``<name>-<index>`` with no grace."""
    core.delete_namespaced_pod(f"{ss['metadata']['name']}-{index}", "default", grace_period_seconds=0)


def wait_for_state(apps, core, ss: dict, until, timeout: float = 60):
    """``WaitForState``: until ``until(set, pods)`` holds, checked at each change of the set; the last set."""
    name = ss["metadata"]["name"]
    return wait_until(apps.list_namespaced_stateful_set,
                      lambda s: s.metadata.name == name and until(s, pods_of(core, ss)), "default", timeout=timeout)


def wait_for_status(apps, core, ss: dict):
    """``waitForStatus``: the controller has seen the set's latest generation."""
    return wait_for_state(apps, core, ss, lambda s, _: (s.status.observed_generation or 0) >= s.metadata.generation)


def wait_for_pod_ready(apps, core, ss: dict, pod_name: str):
    """``WaitForPodReady``."""
    return wait_for_state(apps, core, ss, lambda s, pods: any(p.metadata.name == pod_name and ready(p) for p in pods))


def wait_for_pod_not_ready(apps, core, ss: dict, pod_name: str):
    """``waitForPodNotReady``."""
    return wait_for_state(apps, core, ss,
                          lambda s, pods: any(p.metadata.name == pod_name and not ready(p) for p in pods))


def wait_for_rolling_update(apps, core, ss: dict):
    """``waitForRollingUpdate``: all replicas there and the current revision caught up with the update revision;
    the set and its pods (by ordinal)."""
    seen: dict = {}

    def done(s, pods) -> bool:
        seen["pods"] = sorted(pods, key=ordinal)
        return len(pods) >= s.spec.replicas and s.status.update_revision == s.status.current_revision
    s = wait_for_state(apps, core, ss, done)
    return s, seen["pods"]


def update_statefulset_with_retries(apps, ss: dict, apply) -> object:
    """``updateStatefulSetWithRetries``: get, change, update; again on a conflict."""
    from kubernetes.client.exceptions import ApiException
    for _ in range(10):
        current = apps.read_namespaced_stateful_set(ss["metadata"]["name"], "default")
        apply(current)
        try:
            return apps.replace_namespaced_stateful_set(ss["metadata"]["name"], "default", current)
        except ApiException as e:
            if e.status != 409:
                raise
    raise AssertionError(f"couldn't apply the provided update to stateful set {ss['metadata']['name']!r}")


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
