"""A container's environment and lifecycle hooks, as the kubelet makes them, through the official client.

The variables follow ``makeEnvironmentVariables`` and ``envvars.FromServices``: ``envFrom``, then
``env`` in order (``$(VAR)``, ``fieldRef``, ``configMapKeyRef``, ``secretKeyRef``), then every
Service's Docker-link variables (its namespace's with ``enableServiceLinks``, ``kubernetes``'s
always). A reference to a ConfigMap or key that is missing holds the container in
``CreateContainerConfigError`` until it exists. ``postStart`` and ``preStop`` exec hooks run in the
container, and a failing one gets upstream's event.
"""

from __future__ import annotations

import base64
import time

from kubernetes import client

from .test_kubelet import events, follow, raw_log, state
from .test_kubelet_programs import out


def _pod(name: str, command: list[str], *, image: str = "busybox", policy: str = "Never", **container) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": policy, "containers": [{"name": "c", "image": image, "command": command, **container}]}}


def _env(sandbox, core, body: dict) -> dict[str, str]:
    core.create_namespaced_pod("default", body)
    name = body["metadata"]["name"]
    follow(core, name, lambda p: p["status"].get("phase") == "Succeeded")
    return dict(line.split("=", 1) for line in raw_log(sandbox, name).splitlines())


def test_the_command_and_arguments_task_prints_the_pods_hostname_and_the_kubernetes_port(core, sandbox):
    body = _pod("command-demo", ["printenv"], image="debian", policy="OnFailure", args=["HOSTNAME", "KUBERNETES_PORT"])
    core.create_namespaced_pod("default", body)
    follow(core, "command-demo", lambda p: p["status"].get("phase") == "Succeeded")
    assert raw_log(sandbox, "command-demo") == "command-demo\ntcp://10.96.0.1:443\n"


def test_services_of_the_namespace_give_their_docker_link_variables(core, sandbox):
    core.create_namespaced_service("default", client.V1Service(
        metadata=client.V1ObjectMeta(name="my-db"),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(name="sql", port=5432),
                                         client.V1ServicePort(name="dns", port=53, protocol="UDP")])))
    ip = core.read_namespaced_service("my-db", "default").spec.cluster_ip
    env = _env(sandbox, core, _pod("p", ["env"]))
    assert {k: v for k, v in env.items() if k.startswith("MY_DB_")} == {
        "MY_DB_SERVICE_HOST": ip, "MY_DB_SERVICE_PORT": "5432", "MY_DB_SERVICE_PORT_SQL": "5432",
        "MY_DB_SERVICE_PORT_DNS": "53", "MY_DB_PORT": f"tcp://{ip}:5432",
        "MY_DB_PORT_5432_TCP": f"tcp://{ip}:5432", "MY_DB_PORT_5432_TCP_PROTO": "tcp",
        "MY_DB_PORT_5432_TCP_PORT": "5432", "MY_DB_PORT_5432_TCP_ADDR": ip,
        "MY_DB_PORT_53_UDP": f"udp://{ip}:53", "MY_DB_PORT_53_UDP_PROTO": "udp",
        "MY_DB_PORT_53_UDP_PORT": "53", "MY_DB_PORT_53_UDP_ADDR": ip}
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1" and env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    unlinked = _pod("q", ["env"])
    unlinked["spec"]["enableServiceLinks"] = False
    env = _env(sandbox, core, unlinked)
    assert not [k for k in env if k.startswith("MY_DB_")]
    assert env["KUBERNETES_PORT"] == "tcp://10.96.0.1:443", "the master service's variables are always there"


def test_variables_come_from_config_maps_secrets_fields_and_each_other(core, sandbox):
    core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="special-config"), data={"SPECIAL_LEVEL": "very", "SPECIAL_TYPE": "charm"}))
    core.create_namespaced_secret("default", client.V1Secret(
        metadata=client.V1ObjectMeta(name="backend-user"), data={"backend-username": base64.b64encode(b"admin").decode()}))
    body = _pod("p", ["env"], envFrom=[{"configMapRef": {"name": "special-config"}, "prefix": "CFG_"}], env=[
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "special-config", "key": "SPECIAL_LEVEL"}}},
        {"name": "SECRET_USERNAME", "valueFrom": {"secretKeyRef": {"name": "backend-user", "key": "backend-username"}}},
        {"name": "GREETING", "value": "$(LEVEL) $(CFG_SPECIAL_TYPE) on $(MY_NODE) $$(LEVEL)"},
        {"name": "MY_NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "MISSING_OK", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}}}])
    env = _env(sandbox, core, body)
    assert env["CFG_SPECIAL_LEVEL"] == "very" and env["CFG_SPECIAL_TYPE"] == "charm"
    assert env["LEVEL"] == "very" and env["SECRET_USERNAME"] == "admin"
    assert env["GREETING"] == "very charm on $(MY_NODE) $(LEVEL)", "a variable declared later is not expanded yet"
    assert env["MY_NODE"].startswith("k8s-worker")
    assert "MISSING_OK" not in env
    keys = list(env)
    assert keys[:2] == ["PATH", "HOSTNAME"] and keys.index("CFG_SPECIAL_LEVEL") < keys.index("LEVEL") \
        < keys.index("KUBERNETES_SERVICE_HOST") and keys[-1] == "HOME"


def test_a_missing_config_map_holds_the_container_in_create_container_config_error_until_it_exists(core, sandbox):
    body = _pod("dapi-test-pod", ["sh", "-c", "echo $SPECIAL_LEVEL_KEY"], env=[
        {"name": "SPECIAL_LEVEL_KEY", "valueFrom": {"configMapKeyRef": {"name": "special-config", "key": "special.how"}}}])
    core.create_namespaced_pod("default", body)
    p = follow(core, "dapi-test-pod", lambda p: "waiting" in state(p).get("state", {}) and
               state(p)["state"]["waiting"]["reason"] == "CreateContainerConfigError")
    assert state(p)["state"]["waiting"]["message"] == 'configmap "special-config" not found'
    assert 'Error: configmap "special-config" not found' in [e.message for e in events(core, "dapi-test-pod")]
    core.create_namespaced_config_map("default", client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="special-config"), data={"other": "x"}))
    p = follow(core, "dapi-test-pod", lambda p: "couldn't find key" in
               (state(p).get("state", {}).get("waiting") or {}).get("message", ""), timeout=60)
    assert state(p)["state"]["waiting"]["message"] == "couldn't find key special.how in ConfigMap default/special-config"
    core.patch_namespaced_config_map("special-config", "default", {"data": {"special.how": "very"}})
    follow(core, "dapi-test-pod", lambda p: p["status"].get("phase") == "Succeeded", timeout=60)
    assert raw_log(sandbox, "dapi-test-pod") == "very\n"


def test_a_post_start_hook_runs_in_the_container_once_it_started(core):
    body = _pod("lifecycle-demo", None, image="nginx", policy="Always", lifecycle={
        "postStart": {"exec": {"command": ["/bin/sh", "-c", "echo Hello from the postStart handler > /usr/share/message"]}},
        "preStop": {"exec": {"command": ["/bin/sh", "-c", "nginx -s quit; while killall -0 nginx; do sleep 1; done"]}}})
    del body["spec"]["containers"][0]["command"]
    core.create_namespaced_pod("default", body)
    follow(core, "lifecycle-demo", lambda p: state(p).get("ready"))
    assert out(core, "lifecycle-demo", ["cat", "/usr/share/message"]) == "Hello from the postStart handler\n"


def test_a_failing_post_start_hook_kills_the_container_and_says_why(core):
    body = _pod("p", None, image="nginx", policy="Always",
                lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo broken >&2; exit 2"]}}})
    del body["spec"]["containers"][0]["command"]
    core.create_namespaced_pod("default", body)
    p = follow(core, "p", lambda p: state(p).get("restartCount", 0) >= 1)
    uid = p["metadata"]["uid"]
    failed = [e for e in events(core, "p") if e.reason == "FailedPostStartHook"]
    assert failed[0].type == "Warning" and failed[0].message == (
        f'Exec lifecycle hook ([sh -c echo broken >&2; exit 2]) for Container "c" in Pod "p_default({uid})" failed - '
        "error: command 'sh -c echo broken >&2; exit 2' exited with 2: broken\n, message: \"broken\\n\"")
    assert "FailedPostStartHook" in [e.message for e in events(core, "p") if e.reason == "Killing"]


def test_a_failing_pre_stop_hook_is_reported_and_the_pod_still_goes(core):
    body = _pod("p", None, image="nginx", policy="Always", lifecycle={"preStop": {"exec": {"command": ["false"]}}})
    del body["spec"]["containers"][0]["command"]
    core.create_namespaced_pod("default", body)
    follow(core, "p", lambda p: state(p).get("ready"))
    core.delete_namespaced_pod("p", "default")
    # the kubelet sees the deletion and runs the hook on its own thread: the event follows the DELETE's answer
    deadline = time.monotonic() + 30
    while not [e for e in events(core, "p") if e.type == "Warning"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e.reason for e in events(core, "p") if e.type == "Warning"] == ["FailedPreStopHook"]


def test_a_volume_of_a_missing_secret_holds_the_pod_in_container_creating_until_the_secret_exists(core):
    """kubernetes.io's *Distribute Credentials Securely Using Secrets*, with the Secret created second."""
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "secret-test-pod"}, "spec": {
        "containers": [{"name": "test-container", "image": "nginx", "volumeMounts": [
            {"name": "secret-volume", "mountPath": "/etc/secret-volume", "readOnly": True}]}],
        "volumes": [{"name": "secret-volume", "secret": {"secretName": "test-secret"}}]}}
    core.create_namespaced_pod("default", body)
    # the event and the status are written apart (as a kubelet's event recorder and status manager do): wait for both
    p = follow(core, "secret-test-pod", lambda p: bool(p["status"].get("containerStatuses")))
    deadline = time.monotonic() + 30
    while not any(e.reason == "FailedMount" for e in events(core, "secret-test-pod")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [failed] = [e for e in events(core, "secret-test-pod") if e.reason == "FailedMount"]
    assert failed.type == "Warning" and failed.message == \
        'MountVolume.SetUp failed for volume "secret-volume" : secret "test-secret" not found'
    assert "podIP" not in p["status"] and state(p)["state"] == {"waiting": {"reason": "ContainerCreating"}}
    core.create_namespaced_secret("default", client.V1Secret(
        metadata=client.V1ObjectMeta(name="test-secret"), string_data={"username": "my-app", "password": "39528$vdg7Jb"}))
    follow(core, "secret-test-pod", lambda p: state(p).get("ready"), timeout=60)
    assert out(core, "secret-test-pod", ["ls", "/etc/secret-volume"]).split() == ["password", "username"]
    assert out(core, "secret-test-pod", ["cat", "/etc/secret-volume/password"]) == "39528$vdg7Jb"


def test_an_optional_config_map_volume_that_is_missing_does_not_hold_the_pod(core):
    body = _pod("p", ["sh", "-c", "ls /etc/config; sleep 3600"], policy="Always",
                volumeMounts=[{"name": "config", "mountPath": "/etc/config"}])
    body["spec"]["volumes"] = [{"name": "config", "configMap": {"name": "nope", "optional": True}}]
    core.create_namespaced_pod("default", body)
    follow(core, "p", lambda p: state(p).get("ready"))
    assert not [e for e in events(core, "p") if e.reason == "FailedMount"]
