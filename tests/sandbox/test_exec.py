"""exec, attach and port-forward through the official client's stream API, and what the containers see."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward, stream

from .conftest import finish, run_exec, sts_settled, wait_until

HTML = "/usr/share/nginx/html"


def pod(name: str, image: str = "nginx", **container) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "main", "image": image, **container}]}}


def running(core: client.CoreV1Api, manifest: dict, namespace: str = "default") -> str:
    core.create_namespaced_pod(namespace, manifest)
    name = manifest["metadata"]["name"]
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and p.status.phase == "Running",
               namespace)
    return name


def storage_class(name: str, reclaim: str) -> dict:
    """A class beside the sandbox's default ``standard``, binding as soon as a claim asks."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": reclaim, "volumeBindingMode": "Immediate"}


def web_sts(replicas: int = 2) -> dict:
    """The StatefulSet of kubernetes.io's "StatefulSet Basics" (examples/application/web/web.yaml)."""
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"serviceName": "nginx", "replicas": replicas, "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{
                         "name": "nginx", "image": "registry.k8s.io/nginx-slim:0.8",
                         "ports": [{"containerPort": 80, "name": "web"}],
                         "volumeMounts": [{"name": "www", "mountPath": HTML}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}


HEADLESS = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {"ports": [{"port": 80, "name": "web"}], "clusterIP": "None", "selector": {"app": "nginx"}}}


def test_exec_returns_stdout_stderr_and_the_exit_code_from_the_error_channel(core):
    name = running(core, pod("web"))
    assert run_exec(core, name, ["hostname"]) == ("web\n", "", 0)
    assert run_exec(core, name, ["sh", "-c", "echo out; echo err >&2; exit 3"]) == ("out\n", "err\n", 3)
    assert run_exec(core, name, ["cat", "/nope"]) == ("", "cat: /nope: No such file or directory\n", 1)


def test_the_error_channel_carries_upstreams_status_for_a_non_zero_exit(core):
    name = running(core, pod("web"))
    resp = stream(core.connect_get_namespaced_pod_exec, name, "default", command=["sh", "-c", "exit 7"],
                  stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=20)
    status = json.loads(resp.read_channel(3))
    finish(resp)
    assert status == {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": "command terminated with non-zero exit code: error executing command "
                                 "[sh -c exit 7], exit code 7",
                      "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}}


def test_exec_reads_stdin_until_the_v5_close_signal(core):
    name = running(core, pod("box", "busybox", command=["sleep", "3600"]))
    out, err, code = run_exec(core, name, ["sh", "-c", "cat > /tmp/in; wc -c < /tmp/in; cat /tmp/in | grep b"],
                              stdin="a\nb\n")
    assert (out, err, code) == ("4\nb\n", "", 0)


def test_a_tty_exec_sends_one_stream_with_crlf(core):
    name = running(core, pod("web"))
    resp = stream(core.connect_get_namespaced_pod_exec, name, "default", command=["sh", "-c", "echo a; echo b >&2"],
                  stdout=True, stderr=True, stdin=False, tty=True, _preload_content=False)
    resp.run_forever(timeout=20)
    result = (resp.read_stdout(), resp.read_stderr(), resp.returncode)
    finish(resp)
    assert result == ("a\r\nb\r\n", "", 0)


def test_exec_is_refused_with_upstreams_wording(core, sandbox):
    running(core, pod("web"))
    with pytest.raises(ApiException) as e:
        stream(core.connect_get_namespaced_pod_exec, "nope", "default", command=["ls"], stdout=True, stderr=True,
               stdin=False, tty=False)
    assert 'pods \\"nope\\" not found' in str(e.value.reason) or 'pods "nope" not found' in str(e.value.reason)
    with pytest.raises(ApiException) as e:
        stream(core.connect_get_namespaced_pod_exec, "web", "default", command=["ls"], container="sidecar",
               stdout=True, stderr=True, stdin=False, tty=False)
    assert "container sidecar is not valid for pod web" in str(e.value.reason)
    assert not sandbox.internal_errors


def test_an_exec_session_keeps_the_api_serving_and_ends_when_the_client_leaves(core, sandbox):
    name = running(core, pod("box", "busybox", command=["sleep", "3600"]))
    resp = stream(core.connect_get_namespaced_pod_exec, name, "default", command=["sh"], stdout=True, stderr=True,
                  stdin=True, tty=False, _preload_content=False)
    resp.write_stdin("echo first\n")
    deadline = time.monotonic() + 10
    out = ""
    while "first" not in out and time.monotonic() < deadline:
        resp.update(timeout=1)
        out += resp.read_stdout() or ""
    assert out == "first\n"
    assert core.read_namespaced_pod(name, "default").status.phase == "Running"  # other requests are served
    finish(resp)
    state = sandbox.kubelet.runtime.pods[core.read_namespaced_pod(name, "default").metadata.uid]
    wait = time.monotonic() + 10
    while state.execs and time.monotonic() < wait:
        time.sleep(0.05)
    assert not state.execs  # the process ended with the connection


def test_data_written_to_a_claim_is_read_back_from_the_re_created_pod(core, apps, sandbox):
    core.create_namespaced_service("default", HEADLESS)
    apps.create_namespaced_stateful_set("default", web_sts())
    wait_until(apps.list_namespaced_stateful_set, sts_settled(2), "default")
    for i in (0, 1):
        assert run_exec(core, f"web-{i}", ["sh", "-c", f'echo "$(hostname)" > {HTML}/index.html'])[2] == 0
    before = {i: run_exec(core, f"web-{i}", ["curl", "-s", "http://localhost/"])[0] for i in (0, 1)}
    uids = {p.metadata.name: p.metadata.uid for p in core.list_namespaced_pod("default").items}
    core.delete_collection_namespaced_pod("default", label_selector="app=nginx")
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "web-1" and p.metadata.uid != uids["web-1"]
               and p.status.phase == "Running", "default")
    wait_until(apps.list_namespaced_stateful_set, sts_settled(2), "default")
    after = {i: run_exec(core, f"web-{i}", ["curl", "-s", "http://localhost/"])[0] for i in (0, 1)}
    assert before == after == {0: "web-0\n", 1: "web-1\n"}
    assert {p.metadata.uid for p in core.list_namespaced_pod("default").items}.isdisjoint(uids.values())


def test_pods_reach_each_other_by_headless_name_and_services_by_cluster_ip(core, apps, sandbox):
    core.create_namespaced_service("default", HEADLESS)
    apps.create_namespaced_stateful_set("default", web_sts())
    wait_until(apps.list_namespaced_stateful_set, sts_settled(2), "default")
    for i in (0, 1):
        run_exec(core, f"web-{i}", ["sh", "-c", f"hostname > {HTML}/index.html"])
    core.create_namespaced_service("default", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc"},
                                                "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 8080,
                                                                                                  "targetPort": 80}]}})
    time.sleep(0.2)
    sandbox.wait_idle()
    box = running(core, pod("box", "busybox:1.28", command=["sleep", "3600"]))
    assert run_exec(core, box, ["wget", "-qO-", "http://web-0.nginx"]) == ("web-0\n", "", 0)
    assert run_exec(core, box, ["wget", "-qO-", "http://web-1.nginx.default.svc.cluster.local"])[0] == "web-1\n"
    seen = {run_exec(core, box, ["wget", "-qO-", "http://web-svc:8080/"])[0] for _ in range(4)}
    assert seen == {"web-0\n", "web-1\n"}  # a Service balances across its ready endpoints
    out, err, code = run_exec(core, box, ["wget", "-qO-", "http://nope.nginx"])
    assert (out, err, code) == ("", "wget: bad address 'nope.nginx'\n", 1)


def test_an_empty_dir_lives_as_long_as_its_pod(core, sandbox):
    spec = pod("scratch", "busybox", command=["sleep", "3600"], volumeMounts=[{"name": "s", "mountPath": "/s"}])
    spec["spec"]["volumes"] = [{"name": "s", "emptyDir": {}}]
    name = running(core, spec)
    uid = core.read_namespaced_pod(name, "default").metadata.uid
    run_exec(core, name, ["sh", "-c", "echo kept > /s/f"])
    assert run_exec(core, name, ["cat", "/s/f"])[0] == "kept\n"
    assert sandbox.kubelet.runtime.volumes.has(("emptydir", uid, "s"))
    core.delete_namespaced_pod(name, "default", grace_period_seconds=0)
    deadline = time.monotonic() + 10
    while sandbox.kubelet.runtime.volumes.has(("emptydir", uid, "s")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sandbox.kubelet.runtime.volumes.has(("emptydir", uid, "s"))


@pytest.mark.parametrize("reclaim", ["Delete", "Retain"])
def test_a_volumes_data_follows_its_reclaim_policy(core, sandbox, reclaim):
    sandbox.registry.create("storageclasses", None, storage_class(f"local-{reclaim.lower()}", reclaim))
    core.create_namespaced_persistent_volume_claim("default", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"storageClassName": f"local-{reclaim.lower()}", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    spec = pod("writer", "busybox", command=["sleep", "3600"], volumeMounts=[{"name": "d", "mountPath": "/d"}])
    spec["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    running(core, spec)
    run_exec(core, "writer", ["sh", "-c", "echo precious > /d/f"])
    pv = core.read_namespaced_persistent_volume_claim("data", "default").spec.volume_name
    pv_uid = core.read_persistent_volume(pv).metadata.uid
    core.delete_namespaced_pod("writer", "default", grace_period_seconds=0)
    deadline = time.monotonic() + 10
    while core.list_namespaced_pod("default").items and time.monotonic() < deadline:
        time.sleep(0.05)
    core.delete_namespaced_persistent_volume_claim("data", "default")
    if reclaim == "Delete":
        deadline = time.monotonic() + 10
        while any(p.metadata.name == pv for p in core.list_persistent_volume().items) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(p.metadata.name == pv for p in core.list_persistent_volume().items)
        assert not sandbox.kubelet.runtime.volumes.has(("pv", pv_uid))
    else:
        wait_until(core.list_persistent_volume, lambda p: p.metadata.name == pv and p.status.phase == "Released")
        assert sandbox.kubelet.runtime.volumes.has(("pv", pv_uid))


def test_the_official_clients_portforward_reaches_the_pods_port(core):
    name = running(core, pod("web", ports=[{"containerPort": 80}]))
    run_exec(core, name, ["sh", "-c", f"echo forwarded > {HTML}/index.html"])
    pf = portforward(core.connect_get_namespaced_pod_portforward, name, "default", ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while not data.endswith(b"forwarded\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.close()
    pf.close()
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nforwarded\n")


def test_a_runaway_program_neither_stalls_the_controllers_nor_outlives_its_budget(core, apps, sandbox):
    bomb = pod("bomb", "busybox", command=["sh", "-c", "a=0123456789abcdef; while true; do a=$a$a; done"])
    loop = pod("loop", "busybox", command=["sh", "-c", "while true; do :; done"])
    bomb["spec"]["restartPolicy"] = loop["spec"]["restartPolicy"] = "Never"
    core.create_namespaced_pod("default", bomb)
    core.create_namespaced_pod("default", loop)
    sts = web_sts(3)
    del sts["spec"]["volumeClaimTemplates"]
    sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = []
    sts["spec"]["podManagementPolicy"] = "Parallel"
    apps.create_namespaced_stateful_set("default", sts)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    done = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "bomb" and p.status.phase == "Failed",
                      "default")
    term = done.status.container_statuses[0].state.terminated
    assert (term.exit_code, term.reason) == (137, "OOMKilled")
    done = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "loop" and p.status.phase == "Failed",
                      "default")
    assert done.status.container_statuses[0].state.terminated.exit_code == 137
    assert "without sleeping or waiting for input" in core.read_namespaced_pod_log("loop", "default")


def test_an_interactive_shell_pod_is_attached_to_and_exits_with_its_stdin(core, sandbox):
    spec = pod("shell", "busybox", command=["sh"], stdin=True, stdinOnce=True, tty=True)
    spec["spec"]["restartPolicy"] = "Never"
    name = running(core, spec)
    resp = stream(core.connect_get_namespaced_pod_attach, name, "default", container="main", stdin=True,
                  stdout=True, stderr=False, tty=True, _preload_content=False)
    resp.write_channel(4, json.dumps({"Width": 120, "Height": 40}))  # the client's terminal size
    resp.write_stdin("echo attached $(hostname)\r")
    out = ""
    deadline = time.monotonic() + 10
    while "attached shell\r\n/ # " not in out and time.monotonic() < deadline:
        resp.update(timeout=1)
        out += resp.read_stdout() or ""
    assert "echo attached $(hostname)\r\nattached shell\r\n/ # " in out
    uid = core.read_namespaced_pod(name, "default").metadata.uid
    assert sandbox.kubelet.runtime.pods[uid].main["main"].size == (120, 40)  # the resize was taken
    resp.write_stdin("exit 5\r")
    resp.run_forever(timeout=10)
    finish(resp)
    done = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and p.status.phase == "Failed",
                      "default")
    assert done.status.container_statuses[0].state.terminated.exit_code == 5
    assert "attached shell" in core.read_namespaced_pod_log(name, "default")


def test_concurrent_exec_sessions_do_not_mix_their_output(core):
    name = running(core, pod("web"))
    results: dict[int, tuple] = {}

    def one(i: int) -> None:
        results[i] = run_exec(core, name, ["sh", "-c", f"for x in 1 2 3; do echo {i}-$x; done"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: (f"{i}-1\n{i}-2\n{i}-3\n", "", 0) for i in range(4)}


def test_a_request_without_websocket_is_refused_after_the_same_checks(core, sandbox, api):
    running(core, pod("web"))
    for name, code, text in (("nope", 404, 'pods "nope" not found'),
                             ("web", 400, "exec over SPDY is not served by the stsnb sandbox")):
        req = api.param_serialize("POST", f"/api/v1/namespaces/default/pods/{name}/exec",
                                  query_params=[("command", "ls"), ("stdout", "true")],
                                  header_params={"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                                                 "X-Stream-Protocol-Version": "v4.channel.k8s.io"},
                                  auth_settings=["BearerToken"])
        resp = api.call_api(*req)
        body = resp.read().decode()
        assert resp.status == code and text in json.loads(body)["message"], body
    assert not sandbox.internal_errors


@pytest.mark.parametrize("subresource, query, says", [
    ("exec", [("command", "ls"), ("stdout", "true")], "kubectl 1.30 and newer"),
    ("portforward", [("ports", "80")], "kubectl 1.31 and newer (1.30 with KUBECTL_PORT_FORWARD_WEBSOCKETS=true)"),
])
def test_the_spdy_refusal_names_the_kubectl_that_speaks_websocket_for_that_subresource(core, api, subresource,
                                                                                      query, says):
    running(core, pod("web"))
    req = api.param_serialize("POST", f"/api/v1/namespaces/default/pods/web/{subresource}", query_params=query,
                              header_params={"Connection": "Upgrade", "Upgrade": "SPDY/3.1"},
                              auth_settings=["BearerToken"])
    resp = api.call_api(*req)
    message = json.loads(resp.read().decode())["message"]
    assert resp.status == 400 and f"{subresource} over SPDY is not served" in message and says in message, message


@pytest.mark.parametrize("protocol", ["v4.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io",
                                      "v4.base64.channel.k8s.io"])
def test_the_older_channel_protocols_carry_output_and_the_error_as_upstream(core, sandbox, protocol):
    import base64

    import websocket
    running(core, pod("web"))
    url = (sandbox.url.replace("http", "ws") + "/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c"
           "&command=echo%20hi%3B%20exit%202&stdout=true&stderr=true")
    token = sandbox.api_client().configuration.get_api_key_with_prefix("authorization")
    ws = websocket.create_connection(url, subprotocols=[protocol],
                                     header=[f"Authorization: {token}"] if token else None)
    messages = []
    try:
        assert ws.getsubprotocol() == protocol
        while True:
            op, data = ws.recv_data(control_frame=False)
            if op == websocket.ABNF.OPCODE_CLOSE:
                break
            messages.append(data)
    finally:
        ws.close()
        ws.shutdown()
    if "base64" in protocol:
        decoded = [(m[0] - ord("0"), base64.b64decode(m[1:])) for m in messages]
    else:
        decoded = [(m[0], m[1:]) for m in messages]
    assert decoded[0] == (1, b"") and (1, b"hi\n") in decoded
    error = b"".join(d for ch, d in decoded if ch == 3)
    if protocol.startswith("v4"):
        assert json.loads(error)["details"]["causes"] == [{"reason": "ExitCode", "message": "2"}]
    else:  # before v4 the error channel carries only a failure's message
        assert error == b"command terminated with non-zero exit code: error executing command [sh -c echo hi; exit 2], exit code 2"


def test_no_path_in_a_container_reaches_the_hosts_files_not_even_a_host_path_volume(core, tmp_path):
    (tmp_path / "secret").write_text("host data\n")
    spec = pod("box", "busybox", command=["sleep", "3600"],
               volumeMounts=[{"name": "host", "mountPath": "/host"}, {"name": "tmp", "mountPath": "/hosttmp"}])
    spec["spec"]["volumes"] = [{"name": "host", "hostPath": {"path": "/etc"}},
                               {"name": "tmp", "hostPath": {"path": str(tmp_path)}}]
    running(core, spec)
    out, err, code = run_exec(core, "box", ["sh", "-c", "ls /host /hosttmp; cat /hosttmp/secret; "
                                                        "echo written > /hosttmp/new; cat ../../../../etc/passwd"])
    assert out.startswith("/host:\n\n/hosttmp:\nroot:x:0:0:root:/root:/bin/sh\n")  # empty dirs, busybox's passwd
    assert err == "cat: can't open '/hosttmp/secret': No such file or directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret"]  # nothing was written on the host


def test_leaving_the_first_attach_closes_a_stdin_once_shells_input(core):
    spec = pod("once", "busybox", command=["sh"], stdin=True, stdinOnce=True, tty=False)
    spec["spec"]["restartPolicy"] = "Never"
    name = running(core, spec)
    resp = stream(core.connect_get_namespaced_pod_attach, name, "default", container="main", stdin=True,
                  stdout=True, stderr=True, tty=False, _preload_content=False)
    resp.write_stdin("echo before leaving\n")
    out = ""
    deadline = time.monotonic() + 10
    while "before leaving" not in out and time.monotonic() < deadline:
        resp.update(timeout=1)
        out += resp.read_stdout() or ""
    finish(resp)  # the client goes away without typing exit
    done = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and p.status.phase == "Succeeded",
                      "default")
    assert done.status.container_statuses[0].state.terminated.exit_code == 0  # the shell read end of input


def test_the_official_clients_pod_proxy_reaches_nginx_and_passes_its_status_through(core, sandbox):
    running(core, pod("web", ports=[{"containerPort": 80}]))
    page = core.connect_get_namespaced_pod_proxy_with_path("web", "default", "index.html")
    assert "<title>Welcome to nginx!</title>" in page
    assert "<title>Welcome to nginx!</title>" in core.connect_get_namespaced_pod_proxy("web", "default")
    with pytest.raises(client.exceptions.ApiException) as missing:
        core.connect_get_namespaced_pod_proxy_with_path("web:80", "default", "nope.html")
    body = missing.value.body if isinstance(missing.value.body, str) else missing.value.body.decode()
    assert missing.value.status == 404 and "<center>nginx/1.27.3</center>" in body  # nginx's own 404 page
    with pytest.raises(client.exceptions.ApiException) as https:
        core.connect_get_namespaced_pod_proxy("https:web:443", "default")
    assert https.value.status == 400 and "plain HTTP" in json.loads(https.value.body)["message"]
    assert not sandbox.internal_errors
