"""Container commands in sandbox time, init containers and the kubelet's volumes, through the official client.

A container's command runs live: what it does after ``sleep 30`` happens 30 sandbox seconds after
what it did before (kubernetes.io's liveness-probe task removes ``/tmp/healthy`` that way). Init
containers run one after the other, each to completion, before the app containers start
(``computeInitContainerActions``), and the pod's phase, conditions and statuses say so as upstream's
kubelet writes them. Every container sees the ServiceAccount volume (``token``, ``ca.crt``,
``namespace``), and ``downwardAPI`` volumes hold the pod's own fields.
"""

from __future__ import annotations

import json
import time
import urllib.error
from datetime import datetime

import pytest
from kubernetes import client

from .conftest import run_exec
from .test_kubelet import events, follow, raw_log, state


def out(core, pod: str, command: list[str], **kw) -> str:
    stdout, stderr, code = run_exec(core, pod, command, **kw)
    assert code == 0, (command, stderr)
    return stdout

UNTIL = "until nslookup {0}.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; " \
        "do echo waiting for {0}; sleep 2; done"


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")


def _init_pod(name: str, inits: dict[str, str], *, app: str = "echo The app is running! && sleep 3600",
              policy: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": "myapp-container", "image": "busybox:1.28", "command": ["sh", "-c", app]}],
                  "initContainers": [{"name": n, "image": "busybox:1.28", "command": ["sh", "-c", script]}
                                     for n, script in inits.items()]}
    if policy:
        spec["restartPolicy"] = policy
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"protocol": "TCP", "port": 80, "targetPort": 9376}]}}


def _cond(p: dict, type_: str) -> dict:
    return next(c for c in p["status"]["conditions"] if c["type"] == type_)


def _inits(p: dict) -> dict[str, dict]:
    return {s["name"]: s for s in p["status"].get("initContainerStatuses") or []}


# ---------------------------------------------------------------------- commands in sandbox time
def test_what_a_command_does_after_a_sleep_happens_when_the_sleep_is_over(core, sandbox):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "liveness-exec"}, "spec": {"containers": [{
        "name": "liveness", "image": "registry.k8s.io/busybox:1.27.2",
        "args": ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5}}]}}
    core.create_namespaced_pod("default", body)
    p = follow(core, "liveness-exec", lambda p: "running" in state(p).get("state", {}))
    assert out(core, "liveness-exec", ["ls", "/tmp"]).strip() == "healthy"  # still there, 30 s not over
    started = _time(state(p)["state"]["running"]["startedAt"])
    follow(core, "liveness-exec", lambda p: any(e.reason == "Unhealthy" for e in events(core, "liveness-exec")),
           timeout=120)
    unhealthy = [e for e in events(core, "liveness-exec") if e.reason == "Unhealthy"]
    assert unhealthy[0].message == "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
    first_failure = unhealthy[0].first_timestamp.replace(tzinfo=None)
    assert (first_failure - started).total_seconds() >= 30, (started, first_failure)
    p = follow(core, "liveness-exec", lambda p: state(p).get("restartCount", 0) >= 1, timeout=120)
    assert "Container liveness failed liveness probe, will be restarted" in \
        [e.message for e in events(core, "liveness-exec")]
    killed = state(p)["lastState"]["terminated"]
    lived = (_time(killed["finishedAt"]) - _time(killed["startedAt"])).total_seconds()
    assert killed["exitCode"] == 137 and 30 + 15 <= lived < 30 + 15 + 30 + 5, killed  # 3 failures, then the grace period


def test_date_after_a_sleep_prints_the_time_the_sleep_ended(core, sandbox):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "date +%s; sleep 20; date +%s"]}]}}
    core.create_namespaced_pod("default", body)
    follow(core, "p", lambda p: p["status"].get("phase") == "Succeeded", timeout=60)
    before, after = (int(line) for line in raw_log(sandbox, "p").split())
    assert after - before == 20


def test_a_command_that_sleeps_in_a_loop_writes_on_each_turn_and_stops_with_its_pod(core, sandbox):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "while true; do echo tick; sleep 5; done"]}]}}
    core.create_namespaced_pod("default", body)
    p = follow(core, "p", lambda p: "running" in state(p).get("state", {}))
    uid = p["metadata"]["uid"]
    deadline = time.monotonic() + 60
    while raw_log(sandbox, "p").count("tick") < 3 and time.monotonic() < deadline:
        sandbox.wait_idle(timeout=0.2)  # a waiter: the discrete clock jumps to the loop's next wake-up
    lines = raw_log(sandbox, "p", timestamps="true").splitlines()[:3]
    seconds = [int(_time(line.split()[0]).timestamp()) for line in lines]
    assert [b - a for a, b in zip(seconds, seconds[1:])] == [5, 5]
    process = sandbox.kubelet.runtime.pods[uid].main["c"]
    core.delete_namespaced_pod("p", "default")
    assert process.done.wait(30), "the container's process was not stopped with its pod"
    assert process.exit_code == 137


# ---------------------------------------------------------------------- init containers
def test_init_containers_hold_the_pod_pending_until_each_has_completed_in_turn(core, sandbox):
    core.create_namespaced_pod("default", _init_pod("myapp-pod", {"init-myservice": UNTIL.format("myservice"),
                                                                   "init-mydb": UNTIL.format("mydb")}))
    p = follow(core, "myapp-pod", lambda p: "running" in _inits(p).get("init-myservice", {}).get("state", {}))
    assert p["status"]["phase"] == "Pending"
    init = _cond(p, "Initialized")
    assert (init["status"], init.get("reason"), init.get("message")) == (
        "False", "ContainersNotInitialized", "containers with incomplete status: [init-myservice init-mydb]")
    assert _inits(p)["init-myservice"]["ready"] is False
    assert _inits(p)["init-mydb"]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert state(p)["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert list(p["status"])[list(p["status"]).index("initContainerStatuses") + 1] == "containerStatuses"
    follow(core, "myapp-pod", lambda p: "waiting for myservice" in raw_log(sandbox, "myapp-pod", container="init-myservice"))
    log = raw_log(sandbox, "myapp-pod", container="init-myservice")
    assert "nslookup: can't resolve 'myservice.default.svc.cluster.local'\nwaiting for myservice\n" in log
    with pytest.raises(urllib.error.HTTPError) as e:
        raw_log(sandbox, "myapp-pod", container="init-mydb")
    assert json.loads(e.value.read())["message"] == \
        'container "init-mydb" in pod "myapp-pod" is waiting to start: PodInitializing'

    core.create_namespaced_service("default", _service("myservice"))
    p = follow(core, "myapp-pod", lambda p: "running" in _inits(p).get("init-mydb", {}).get("state", {}))
    assert _inits(p)["init-myservice"]["state"]["terminated"]["reason"] == "Completed"
    assert _inits(p)["init-myservice"]["ready"] is True
    assert _cond(p, "Initialized")["message"] == "containers with incomplete status: [init-mydb]"

    core.create_namespaced_service("default", _service("mydb"))
    p = follow(core, "myapp-pod", lambda p: p["status"]["phase"] == "Running" and state(p).get("ready"))
    assert (_cond(p, "Initialized")["status"], _cond(p, "Ready")["status"]) == ("True", "True")
    assert [s["state"]["terminated"]["exitCode"] for s in p["status"]["initContainerStatuses"]] == [0, 0]
    assert raw_log(sandbox, "myapp-pod") == "The app is running!\n"
    assert "Name:      mydb.default.svc.cluster.local\n" in raw_log(sandbox, "myapp-pod", container="init-mydb")
    started = [e.message for e in events(core, "myapp-pod") if e.reason == "Started"]
    assert started == ["Started container init-myservice", "Started container init-mydb",
                       "Started container myapp-container"]


def test_a_failed_init_container_fails_the_pod_whose_policy_is_never(core):
    core.create_namespaced_pod("default", _init_pod("p", {"setup": "echo no; exit 3"}, policy="Never"))
    p = follow(core, "p", lambda p: p["status"]["phase"] == "Failed")
    assert _inits(p)["setup"]["state"]["terminated"]["exitCode"] == 3
    assert _inits(p)["setup"]["ready"] is False
    assert state(p)["state"] == {"waiting": {"reason": "PodInitializing"}}


def test_a_failed_init_container_is_retried_with_back_off_and_the_pod_stays_pending(core):
    core.create_namespaced_pod("default", _init_pod("p", {"setup": "exit 1"}))
    p = follow(core, "p", lambda p: _inits(p).get("setup", {}).get("restartCount", 0) >= 2 and
               "CrashLoopBackOff" in json.dumps(_inits(p)["setup"]["state"]), timeout=60)
    assert p["status"]["phase"] == "Pending"
    assert state(p)["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert _inits(p)["setup"]["lastState"]["terminated"]["exitCode"] == 1


def test_logs_without_a_container_name_list_the_init_containers_too(core, sandbox):
    body = _init_pod("p", {"setup": "true"})
    body["spec"]["containers"].append({"name": "side", "image": "nginx"})
    core.create_namespaced_pod("default", body)
    with pytest.raises(urllib.error.HTTPError) as e:
        raw_log(sandbox, "p")
    assert json.loads(e.value.read())["message"] == ("a container name must be specified for pod p, choose one of: "
                                                     "[myapp-container side] or one of the init containers: [setup]")
    with pytest.raises(urllib.error.HTTPError) as e:
        raw_log(sandbox, "p", container="nope")
    assert json.loads(e.value.read())["message"] == "container nope is not valid for pod p"


def test_an_init_container_writes_a_file_the_app_container_serves(core):
    """kubernetes.io's *Configure Pod Initialization*: the init container fills an emptyDir nginx serves."""
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "init-demo"}, "spec": {
        "containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}],
                        "volumeMounts": [{"name": "workdir", "mountPath": "/usr/share/nginx/html"}]}],
        "initContainers": [{"name": "install", "image": "busybox:1.28",
                            "command": ["sh", "-c", "echo '<html>hello from init</html>' > /work-dir/index.html"],
                            "volumeMounts": [{"name": "workdir", "mountPath": "/work-dir"}]}],
        "volumes": [{"name": "workdir", "emptyDir": {}}]}}
    core.create_namespaced_pod("default", body)
    follow(core, "init-demo", lambda p: p["status"]["phase"] == "Running" and state(p).get("ready"))
    assert out(core, "init-demo", ["cat", "/usr/share/nginx/html/index.html"], container="nginx") == "<html>hello from init</html>\n"


# ---------------------------------------------------------------------- volumes the kubelet fills
def test_every_container_sees_the_service_account_volume(core):
    core.create_namespaced_pod("default", _init_pod("p", {"setup": "ls /var/run/secrets/kubernetes.io/serviceaccount"}))
    follow(core, "p", lambda p: p["status"]["phase"] == "Running")
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert out(core, "p", ["cat", f"{sa}/namespace"]) == "default"
    assert out(core, "p", ["ls", sa]).split() == ["ca.crt", "namespace", "token"]
    token = out(core, "p", ["cat", f"{sa}/token"])
    header, claims, _ = token.split(".")
    payload = json.loads(__import__("base64").urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["sub"] == "system:serviceaccount:default:default"
    assert payload["kubernetes.io"]["pod"]["name"] == "p"
    assert out(core, "p", ["cat", f"{sa}/ca.crt"]).startswith("-----BEGIN CERTIFICATE-----")


def test_a_downward_api_volume_holds_the_pods_labels_and_name(core):
    """kubernetes.io's *Expose Pod Information to Containers Through Files*, its first example."""
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "kubernetes-downwardapi-volume-example", "labels": {"zone": "us-est-coast", "cluster": "test-cluster1",
                                                                     "rack": "rack-22"},
        "annotations": {"build": "two", "builder": "john-doe"}}, "spec": {"containers": [{
            "name": "client-container", "image": "registry.k8s.io/busybox:1.27.2",
            "command": ["sh", "-c"], "args": ["sleep 3600"],
            "volumeMounts": [{"name": "podinfo", "mountPath": "/etc/podinfo"}]}],
            "volumes": [{"name": "podinfo", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                {"path": "rack", "fieldRef": {"fieldPath": "metadata.labels['rack']"}}]}}]}}
    core.create_namespaced_pod("default", body)
    follow(core, "kubernetes-downwardapi-volume-example", lambda p: p["status"]["phase"] == "Running")
    cat = lambda f: out(core, "kubernetes-downwardapi-volume-example", ["cat", f"/etc/podinfo/{f}"])  # noqa: E731
    assert cat("labels") == 'cluster="test-cluster1"\nrack="rack-22"\nzone="us-est-coast"'
    assert cat("annotations").startswith('build="two"\nbuilder="john-doe"')
    assert cat("name") == "kubernetes-downwardapi-volume-example"
    assert cat("rack") == "rack-22"


def test_a_config_map_volume_with_items_puts_each_key_at_its_path(core):
    core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="special-config"), data={"SPECIAL_LEVEL": "very", "SPECIAL_TYPE": "charm"}))
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{
        "name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 3600"],
        "volumeMounts": [{"name": "config", "mountPath": "/etc/config"}]}],
        "volumes": [{"name": "config", "configMap": {"name": "special-config",
                                                     "items": [{"key": "SPECIAL_LEVEL", "path": "keys"}]}}]}}
    core.create_namespaced_pod("default", body)
    follow(core, "p", lambda p: p["status"]["phase"] == "Running")
    assert out(core, "p", ["ls", "/etc/config"]).split() == ["keys"]
    assert out(core, "p", ["cat", "/etc/config/keys"]) == "very"


def test_stopping_the_sandbox_ends_the_threads_of_its_containers_commands():
    """A sandbox that stops leaves no container process polling behind (a test run starts hundreds of sandboxes)."""
    from stsnb.sandbox import Sandbox
    sb = Sandbox().start()
    try:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "while true; do sleep 5; done"]}]}})
        follow(core, "p", lambda p: "running" in state(p).get("state", {}))
        [process] = [proc for st in sb.kubelet.runtime.pods.values() for proc in st.main.values()]
    finally:
        sb.stop()
    assert process.done.wait(5), "the container's process still runs after the sandbox stopped"
    process.thread.join(2)
    assert not process.thread.is_alive()


def test_a_container_that_ends_leaves_its_termination_message_in_its_state(core):
    """kubernetes.io's *Determine the Reason for Pod Failure*: the message file, and the log as a fallback."""
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "termination-demo"}, "spec": {"containers": [{
        "name": "termination-demo-container", "image": "debian", "command": ["/bin/sh"],
        "args": ["-c", "sleep 10 && echo Sleep expired > /dev/termination-log"]}]}}
    core.create_namespaced_pod("default", body)
    p = follow(core, "termination-demo", lambda p: "terminated" in (state(p).get("lastState") or {}), timeout=60)
    assert state(p)["lastState"]["terminated"]["message"] == "Sleep expired\n"
    assert list(state(p)["lastState"]["terminated"]).index("message") == 2  # exitCode, reason, message, …
    fallback = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "f"}, "spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "terminationMessagePolicy": "FallbackToLogsOnError",
                                "command": ["sh", "-c", "echo one; echo two; exit 3"]}]}}
    core.create_namespaced_pod("default", fallback)
    p = follow(core, "f", lambda p: p["status"].get("phase") == "Failed")
    assert state(p)["state"]["terminated"]["message"] == "one\ntwo\n"
    quiet = {**fallback, "metadata": {"name": "g"}}
    quiet["spec"] = {**fallback["spec"], "containers": [{**fallback["spec"]["containers"][0],
                                                          "terminationMessagePolicy": "File"}]}
    core.create_namespaced_pod("default", quiet)
    p = follow(core, "g", lambda p: p["status"].get("phase") == "Failed")
    assert "message" not in state(p)["state"]["terminated"]
