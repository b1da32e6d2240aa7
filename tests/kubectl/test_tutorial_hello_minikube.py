"""kubernetes.io's *Hello Minikube* tutorial, step by step with kubectl, on a served sandbox.

The tutorial runs upstream's e2e image ``agnhost`` as ``/agnhost netexec --http-port=8080``,
reads its log, exposes it as a ``LoadBalancer`` Service and opens it in a browser (``minikube
service``; here ``kubectl port-forward``, which is what that command amounts to on kind). The
texts pinned here are the tutorial's and upstream's ``test/images/agnhost/netexec``.
"""

from __future__ import annotations

import re
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.39"
#: agnhost's log.Printf through klog, as the tutorial prints it: ``I0911 09:19:26.677397       1 log.go:195] …``
KLOG = r"I\d{4} \d\d:\d\d:\d\d\.\d{6}       1 log\.go:195\] "


@pytest.fixture
def hello(kubectl):
    kubectl("create", "deployment", "hello-node", f"--image={IMAGE}", "--", "/agnhost", "netexec",
            "--http-port=8080")
    kubectl.wait("hello-node to be available", lambda: (kubectl.obj("deployments", "hello-node") or {})
                 .get("status", {}).get("availableReplicas") == 1)
    return kubectl


def _pod(k) -> str:
    [pod] = [p["metadata"]["name"] for p in k.objs("pods", "app=hello-node")]
    return pod


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_deployment_and_its_pod_run_as_the_tutorial_shows(hello):
    deploy = hello("get", "deployments").out.splitlines()
    assert deploy[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert deploy[1].split()[:4] == ["hello-node", "1/1", "1", "1"]
    pods = hello("get", "pods").out.splitlines()
    assert re.fullmatch(r"hello-node-[a-z0-9]+-[a-z0-9]{5}", pods[1].split()[0])
    assert pods[1].split()[1:4] == ["1/1", "Running", "0"]


def test_the_pods_log_says_netexec_started_its_http_and_udp_servers(hello):
    log = hello("logs", _pod(hello)).out
    assert re.fullmatch(KLOG + r"Started HTTP server on port 8080\n" + KLOG + r"Started UDP server on port  8081\n",
                        log), log


def test_the_exposed_service_answers_through_port_forward_and_each_request_is_logged(hello):
    hello("expose", "deployment", "hello-node", "--type=LoadBalancer", "--port=8080")
    svc = hello("get", "services", "hello-node").out.splitlines()[1].split()
    assert svc[1] == "LoadBalancer" and svc[3] == "<pending>" and re.fullmatch(r"8080:3\d{4}/TCP", svc[4]), svc
    port = _free_port()
    proc = subprocess.Popen([hello.binary, "--cache-dir", str(hello.cache_dir), "port-forward", "service/hello-node",
                             f"{port}:8080"], env=hello.env, cwd=hello.workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == f"Forwarding from 127.0.0.1:{port} -> 8080\n"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            body = r.read().decode()
            assert (r.status, r.headers["Content-Type"]) == (200, "text/plain; charset=utf-8")
        # Go's time.Now(): wall clock, zone, then the monotonic reading since the process started
        assert re.fullmatch(r"NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC m=\+\d+\.\d{9}", body), body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname", timeout=10) as r:
            assert r.read().decode() == _pod(hello)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/echo?msg=hello%20world", timeout=10) as r:
            assert r.read() == b"hello world"
        with pytest.raises(urllib.error.HTTPError) as teapot:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/echo?msg=tea&code=418", timeout=10)
        assert (teapot.value.code, teapot.value.reason, teapot.value.read()) == (418, "I'm a teapot", b"tea")
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    lines = hello("logs", "deployment/hello-node").out.splitlines()
    assert [re.sub(KLOG, "", line) for line in lines[2:]] == [
        "GET /", "GET /hostname", "GET /echo?msg=hello world&code=", "GET /echo?msg=tea&code=418"]
    hello("delete", "service", "hello-node")
    hello("delete", "deployment", "hello-node")
    hello.wait("the tutorial's objects to be gone", lambda: not hello.objs("pods", "app=hello-node")
               and hello.obj("services", "hello-node") is None)


def test_a_pod_in_the_cluster_reaches_netexec_by_its_service_name(hello):
    hello("expose", "deployment", "hello-node", "--port=8080")
    out = hello("run", "probe", "--image=busybox", "--restart=Never", "--rm", "-i", "--",
                "wget", "-qO-", "http://hello-node:8080/hostname").out
    assert out.startswith(_pod(hello)), out


def test_netexecs_endpoints_that_act_on_the_world_say_they_are_not_simulated(hello):
    hello("expose", "deployment", "hello-node", "--port=8080")
    res = hello("run", "probe", "--image=busybox", "--restart=Never", "--rm", "-i", "--",
                "wget", "-qO-", "http://hello-node:8080/shell?cmd=ls", check=False)
    assert "501 Not Implemented" in res.out + res.err, res


PROBED = """\
apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  containers:
  - name: netexec
    image: registry.k8s.io/e2e-test-images/agnhost:2.39
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
  - name: elsewhere
    image: registry.k8s.io/e2e-test-images/agnhost:2.39
    args: ["netexec", "--http-port=9090", "--udp-port=-1"]
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
"""


def test_an_http_probe_asks_netexec_itself_on_the_port_it_listens_on(kubectl):
    (kubectl.workdir / "probed.yaml").write_text(PROBED)
    kubectl("apply", "-f", str(kubectl.workdir / "probed.yaml"))

    def statuses() -> dict | None:
        pod = kubectl.obj("pods", "probed") or {}
        got = {c["name"]: c["ready"] for c in pod.get("status", {}).get("containerStatuses") or []}
        return got if got.get("netexec") else None

    assert kubectl.wait("the netexec container to be ready", statuses) == {"netexec": True, "elsewhere": False}
    assert "dial tcp" in kubectl("describe", "pod", "probed").out and "connection refused" in kubectl(
        "describe", "pod", "probed").out
    assert re.sub(KLOG, "", kubectl("logs", "probed", "-c", "netexec").out.splitlines()[-1]) == "GET /healthz"
