"""The kubelet through the official client: images, crash loops and their logs, probes, status it owns, termination."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Callable

import pytest
from kubernetes import client, watch

from stsnb.sandbox import Sandbox

from .conftest import run_exec


def pod(name: str, image: str = "nginx", *, command: list[str] | None = None, policy: str | None = None,
        **container) -> dict:
    c = {"name": "c", "image": image, **container}
    if command:
        c["command"] = command
    spec: dict = {"containers": [c]}
    if policy:
        spec["restartPolicy"] = policy
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def follow(core: client.CoreV1Api, name: str, predicate: Callable[[dict], bool], *, timeout: float = 30,
           seen: list | None = None) -> dict:
    """Watch pod ``name`` (raw dicts) until ``predicate`` holds; every version seen goes to ``seen``."""
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, "default", field_selector=f"metadata.name={name}",
                       timeout_seconds=int(timeout), _preload_content=False):
        obj = ev["raw_object"] if "raw_object" in ev else ev["object"]
        if seen is not None:
            seen.append((ev["type"], obj))
        if predicate(obj):
            w.stop()
            return obj
    raise AssertionError(f"pod {name}: condition not met within {timeout}s; last: {seen[-1] if seen else None}")


def state(p: dict) -> dict:
    return (p["status"].get("containerStatuses") or [{}])[0]


def ready(p: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])


def events(core: client.CoreV1Api, name: str) -> list:
    return [e for e in core.list_namespaced_event("default").items if e.involved_object.name == name]


def raw_log(sb: Sandbox, name: str, **query) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    req = urllib.request.Request(f"{sb.url}/api/v1/namespaces/default/pods/{name}/log?{qs}",
                                 headers={"Authorization": f"Bearer {sb.token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


# ---------------------------------------------------------------------- images
@pytest.mark.parametrize("image, banner", [
    ("registry.k8s.io/nginx-slim:0.8", ""),
    ("httpd", "AH00489: Apache/2.4.58 (Unix) configured"),
    ("registry.k8s.io/pause:3.9", ""),
    ("registry.k8s.io/coredns/coredns:v1.10.1", "CoreDNS-1.10.1"),
])
def test_catalogue_images_run_their_default_process_and_keep_running(core, sandbox, image, banner):
    core.create_namespaced_pod("default", pod("p", image))
    p = follow(core, "p", ready)
    assert p["status"]["phase"] == "Running" and "running" in state(p)["state"]
    assert banner in raw_log(sandbox, "p")


@pytest.mark.parametrize("image", ["busybox", "alpine:3.19", "python:3.12"])
def test_images_whose_default_command_exits_without_a_terminal_complete(core, image):
    core.create_namespaced_pod("default", pod("p", image, policy="Never"))
    p = follow(core, "p", lambda p: p["status"].get("phase") == "Succeeded")
    assert state(p)["state"]["terminated"]["reason"] == "Completed"


def test_an_unknown_image_runs_as_a_generic_container_and_an_event_says_so(core):
    core.create_namespaced_pod("default", pod("p", "ghcr.io/example/inventory-service:2.3"))
    p = follow(core, "p", ready)
    assert state(p)["image"] == "ghcr.io/example/inventory-service:2.3"
    generic = [e for e in events(core, "p") if e.reason == "GenericContainer"]
    assert len(generic) == 1 and generic[0].type == "Normal"
    assert "not in the sandbox's image catalogue" in generic[0].message


def test_a_malformed_image_reference_is_invalid_image_name_without_a_pull(core):
    core.create_namespaced_pod("default", pod("p", "NGINX"))
    p = follow(core, "p", lambda p: state(p).get("state", {}).get("waiting", {}).get("reason") == "InvalidImageName")
    assert "repository name (library/NGINX) must be lowercase" in state(p)["state"]["waiting"]["message"]
    reasons = [e.reason for e in events(core, "p")]
    assert "InspectFailed" in reasons and "Pulling" not in reasons


def test_an_unresolvable_tag_fails_to_pull_and_is_retried_with_back_off(core):
    core.create_namespaced_pod("default", pod("p", "nginx:does-not-exist"))
    seen: list = []
    follow(core, "p", lambda p: state(p).get("state", {}).get("waiting", {}).get("reason") == "ImagePullBackOff",
           seen=seen)
    follow(core, "p", lambda p: sum(e.count for e in events(core, "p") if e.reason == "Pulling") >= 2)
    failed = [e for e in events(core, "p") if e.reason == "Failed" and "Failed to pull image" in e.message]
    assert 'failed to resolve reference "docker.io/library/nginx:does-not-exist"' in failed[0].message
    assert failed[0].count >= 2


# ---------------------------------------------------------------------- crash loops
def crashing(core, name="crash", script="echo run; exit 1"):
    core.create_namespaced_pod("default", pod(name, "busybox", command=["sh", "-c", script]))


def test_a_crash_loop_counts_restarts_and_backs_off_from_10s_doubling_to_a_5m_cap(core):
    crashing(core)
    seen: list = []
    follow(core, "crash", lambda p: state(p).get("restartCount", 0) >= 6 and
           "5m0s" in state(p).get("state", {}).get("waiting", {}).get("message", ""), seen=seen, timeout=60)
    counts = [state(p).get("restartCount", 0) for _, p in seen]
    assert counts == sorted(counts), "restartCount never goes back"
    waits = []
    for _, p in seen:
        msg = state(p).get("state", {}).get("waiting", {}).get("message", "")
        m = re.match(r"back-off (\S+) restarting failed container=c pod=crash_default\(", msg)
        if m and (not waits or waits[-1] != m.group(1)):
            waits.append(m.group(1))
    assert waits == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s"]
    backoff = [e for e in events(core, "crash") if e.reason == "BackOff"]
    assert len(backoff) == 1 and backoff[0].type == "Warning" and backoff[0].count >= 5
    assert backoff[0].message.startswith("Back-off restarting failed container c in pod crash_default(")


def test_logs_show_one_run_and_previous_shows_the_run_before(core, sandbox):
    crashing(core)
    follow(core, "crash", lambda p: state(p).get("restartCount", 0) >= 3)
    assert raw_log(sandbox, "crash") == "run\n"
    assert raw_log(sandbox, "crash", previous="true") == "run\n"


def test_previous_logs_of_a_container_that_never_restarted_are_not_found(core, sandbox):
    core.create_namespaced_pod("default", pod("p", "nginx"))
    follow(core, "p", ready)
    with pytest.raises(urllib.error.HTTPError) as e:
        raw_log(sandbox, "p", previous="true")
    assert e.value.code == 400
    assert json.loads(e.value.read())["message"] == 'previous terminated container "c" in pod "p" not found'


def test_timestamps_and_since_time_select_lines_by_when_they_were_written(core, sandbox):
    core.create_namespaced_pod("default", pod("p", "busybox", command=["sh", "-c", "echo one; sleep 30; echo two"],
                                              policy="Never"))
    p = follow(core, "p", lambda p: p["status"].get("phase") == "Succeeded")
    terminated = state(p)["state"]["terminated"]
    lines = raw_log(sandbox, "p", timestamps="true").splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["one", "two"]
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", s) for s in stamps)
    assert stamps[0][:19] == terminated["startedAt"][:19] and stamps[1][:19] == terminated["finishedAt"][:19]
    assert raw_log(sandbox, "p", sinceTime=terminated["finishedAt"]) == "two\n"
    assert raw_log(sandbox, "p", tailLines="1") == "two\n"


def test_following_with_a_tail_sends_each_line_once(core, sandbox):
    core.create_namespaced_pod("default", pod("p", "busybox", command=["sh", "-c", "echo a; echo b; sleep 5; echo c"],
                                              policy="Never"))
    follow(core, "p", lambda p: "running" in state(p).get("state", {}))
    assert raw_log(sandbox, "p", follow="true", tailLines="1") == "b\nc\n"


# ---------------------------------------------------------------------- probes, gates, owned status
def probed(name: str, **probe) -> dict:
    spec = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10, "failureThreshold": 3, **probe}
    return pod(name, "nginx", readinessProbe=spec, ports=[{"containerPort": 80}])


def annotate(core, name: str, value: str | None) -> None:
    core.patch_namespaced_pod(name, "default", {"metadata": {"annotations": {
        "readiness.probe.sandbox.stsnb.io/c": value}}})


def test_a_readiness_probe_gates_ready_and_a_failing_one_makes_the_pod_unready_after_the_threshold(core):
    core.create_namespaced_pod("default", probed("p", initialDelaySeconds=5))
    p = follow(core, "p", ready)
    started = p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    became = next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready")
    assert became >= started  # not before the first probe
    annotate(core, "p", "fail")
    p = follow(core, "p", lambda p: not ready(p))
    assert state(p)["ready"] is False and p["status"]["phase"] == "Running"
    unhealthy = [e for e in events(core, "p") if e.reason == "Unhealthy"]
    assert unhealthy and unhealthy[0].count == 3 and unhealthy[0].message.startswith("Readiness probe failed:")
    annotate(core, "p", None)
    follow(core, "p", ready)


def test_an_http_probe_of_a_path_the_server_lacks_never_succeeds(core):
    core.create_namespaced_pod("default", probed("p", httpGet={"path": "/healthz", "port": 80}))
    follow(core, "p", lambda p: any(e.reason == "Unhealthy" for e in events(core, "p")))
    msg = next(e.message for e in events(core, "p") if e.reason == "Unhealthy")
    assert msg == "Readiness probe failed: HTTP probe failed with statuscode: 404"
    conditions = core.read_namespaced_pod("p", "default").status.conditions
    assert [c.status for c in conditions if c.type == "Ready"] == ["False"]


def raw(core, name: str) -> dict:
    return json.loads(core.read_namespaced_pod(name, "default", _preload_content=False).data)


def exec_in(core, name: str, script: str) -> str:
    """``sh -c script`` in the pod through the official client's exec stream; its stdout (it must exit 0)."""
    out, err, code = run_exec(core, name, ["sh", "-c", script])
    assert code == 0, (out, err)
    return out


@pytest.mark.parametrize("image, docroot", [
    ("nginx", "/usr/share/nginx/html"),
    ("registry.k8s.io/e2e-test-images/httpd:2.4.38-4", "/usr/local/apache2/htdocs"),
])
def test_an_http_probe_answers_from_the_containers_own_files_and_an_exec_that_moves_one_is_noticed_at_once(
        core, image, docroot):
    body = pod("p", image, readinessProbe={"httpGet": {"path": "/index.html", "port": 80}, "periodSeconds": 1,
                                           "successThreshold": 1, "failureThreshold": 1})
    core.create_namespaced_pod("default", body)
    follow(core, "p", ready)  # the image's own index.html is in the fresh container's filesystem
    assert exec_in(core, "p", f"mv -v {docroot}/index.html /tmp/ || true") == \
        f"renamed '{docroot}/index.html' -> '/tmp/index.html'\n"
    p = follow(core, "p", lambda p: not ready(p), timeout=10)
    assert state(p)["ready"] is False and p["status"]["phase"] == "Running"
    assert "Readiness probe failed: HTTP probe failed with statuscode: 404" in \
        [e.message for e in events(core, "p") if e.reason == "Unhealthy"]
    exec_in(core, "p", f"mv -v /tmp/index.html {docroot}/ || true")
    follow(core, "p", ready, timeout=10)


def test_an_http_probe_of_a_directory_without_an_index_is_refused_by_nginx_and_listed_by_httpd(core):
    probe = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1, "failureThreshold": 1}
    core.create_namespaced_pod("default", pod("n", "nginx", readinessProbe=probe))
    core.create_namespaced_pod("default", pod("h", "httpd", readinessProbe=probe))
    follow(core, "n", ready)
    follow(core, "h", ready)
    exec_in(core, "n", "rm /usr/share/nginx/html/index.html")
    exec_in(core, "h", "rm /usr/local/apache2/htdocs/index.html")
    follow(core, "n", lambda p: not ready(p), timeout=10)
    assert "Readiness probe failed: HTTP probe failed with statuscode: 403" in \
        [e.message for e in events(core, "n") if e.reason == "Unhealthy"]
    assert ready(raw(core, "h")), "httpd lists a directory without an index (Options Indexes)"
    assert not [e for e in events(core, "h") if e.reason == "Unhealthy"]


def test_an_exec_probe_sees_what_an_exec_wrote_into_the_container(core):
    body = pod("p", "busybox", command=["sleep", "3600"], readinessProbe={
        "exec": {"command": ["test", "-f", "/data/go"]}, "periodSeconds": 1, "failureThreshold": 1})
    core.create_namespaced_pod("default", body)
    follow(core, "p", lambda p: "running" in state(p).get("state", {}))
    assert not ready(raw(core, "p"))
    exec_in(core, "p", "mkdir -p /data && touch /data/go")
    follow(core, "p", ready, timeout=10)
    exec_in(core, "p", "rm /data/go")
    follow(core, "p", lambda p: not ready(p), timeout=10)


def test_a_failing_liveness_probe_restarts_the_container(core):
    body = pod("p", "nginx", livenessProbe={"exec": {"command": ["false"]}, "periodSeconds": 5, "failureThreshold": 2})
    core.create_namespaced_pod("default", body)
    p = follow(core, "p", lambda p: state(p).get("restartCount", 0) >= 1)
    assert "Container c failed liveness probe, will be restarted" in [e.message for e in events(core, "p")]
    assert p["status"]["phase"] == "Running"


def test_a_readiness_gate_keeps_the_pod_unready_until_its_condition_is_true(core):
    body = pod("p", "nginx")
    body["spec"]["readinessGates"] = [{"conditionType": "example.com/in-rotation"}]
    core.create_namespaced_pod("default", body)
    p = follow(core, "p", lambda p: state(p).get("ready") is True)
    cond = next(c for c in p["status"]["conditions"] if c["type"] == "Ready")
    assert cond["status"] == "False" and cond["reason"] == "ReadinessGatesNotReady"
    assert cond["message"] == 'corresponding condition of pod readiness gate "example.com/in-rotation" does not exist.'
    core.patch_namespaced_pod_status("p", "default", {"status": {"conditions": [
        {"type": "example.com/in-rotation", "status": "True"}]}})
    p = follow(core, "p", ready)
    assert [c["type"] for c in p["status"]["conditions"]][0] == "example.com/in-rotation"


def test_a_patch_of_the_ready_condition_is_written_back_by_the_kubelet(core):
    core.create_namespaced_pod("default", pod("p", "nginx"))
    p = follow(core, "p", ready)
    since = next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready")
    core.patch_namespaced_pod_status("p", "default", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "Vandalised"}]}})
    p = follow(core, "p", ready)
    cond = next(c for c in p["status"]["conditions"] if c["type"] == "Ready")
    assert cond["lastTransitionTime"] == since and "reason" not in cond


# ---------------------------------------------------------------------- termination
def test_a_deleted_pod_is_seen_terminating_with_its_containers_not_ready_then_gone(core):
    core.create_namespaced_pod("default", pod("p", "nginx"))
    follow(core, "p", ready)
    seen: list = []
    core.delete_namespaced_pod("p", "default")
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, "default", field_selector="metadata.name=p", timeout_seconds=20,
                       _preload_content=False):
        seen.append((ev["type"], ev["raw_object"]))
        if ev["type"] == "DELETED":
            w.stop()
    terminating = [(t, ready(p), state(p).get("ready")) for t, p in seen if p["metadata"].get("deletionTimestamp")]
    assert ("MODIFIED", False, False) in terminating, "0/1 Terminating was visible"
    assert seen[-1][0] == "DELETED"
    last = seen[-1][1]
    assert last["status"]["phase"] == "Succeeded"  # 1.27: a deleted pod reaches a terminal phase first
    assert state(last)["state"]["terminated"]["reason"] == "Completed"


def test_a_pod_held_by_a_finalizer_stays_stopped_until_the_finalizer_goes(core, sandbox):
    body = pod("p", "nginx")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_pod("default", body)
    follow(core, "p", ready)
    core.delete_namespaced_pod("p", "default")
    p = follow(core, "p", lambda p: p["metadata"].get("deletionGracePeriodSeconds") == 0)
    assert not ready(p) and "terminated" in state(p)["state"]
    core.patch_namespaced_pod("p", "default", {"metadata": {"finalizers": None}})
    assert sandbox.wait_idle(10)
    assert not core.list_namespaced_pod("default", field_selector="metadata.name=p").items


@pytest.mark.parametrize("version, has_host_ips", [("1.27", False), ("1.28", False), ("1.29", True)])
def test_host_ips_appear_when_the_pod_host_ips_gate_is_on_by_default(version, has_host_ips):
    with Sandbox(dns_port=None, seed=4, k8s_version=version) as sb:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_pod("default", pod("p", "nginx"))
        p = follow(core, "p", ready)
        assert ("hostIPs" in p["status"]) is has_host_ips
        assert p["status"]["hostIP"]
