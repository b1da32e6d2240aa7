"""kubernetes.io's *Learn Kubernetes Basics* (modules 2 to 6), step by step with kubectl, on a served sandbox.

Its app is ``gcr.io/google-samples/kubernetes-bootcamp:v1`` (a Node ``server.js`` on 8080); it is reached
through ``kubectl proxy`` and the API server's ``pods/NAME:8080/proxy/`` subresource, exposed as a NodePort
Service, labelled, scaled to 4, updated to ``jocatalin/kubernetes-bootcamp:v2``, broken with a ``v10`` that
does not exist, and rolled back. The texts pinned here are the tutorial's.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
POD = r"kubernetes-bootcamp-[a-z0-9]+-[a-z0-9]{5}"


@pytest.fixture
def bootcamp(kubectl):
    kubectl("create", "deployment", "kubernetes-bootcamp", f"--image={V1}")
    _available(kubectl, 1)
    return kubectl


def _available(k, n: int) -> None:
    def done() -> bool:
        d = k.obj("deployments", "kubernetes-bootcamp") or {}
        st = d.get("status", {})
        return (st.get("availableReplicas"), st.get("updatedReplicas"), st.get("replicas")) == (n, n, n)
    k.wait(f"{n} available bootcamp replicas", done)


def _pods(k) -> list[str]:
    return sorted(p["metadata"]["name"] for p in k.objs("pods", "app=kubernetes-bootcamp")
                  if not p["metadata"].get("deletionTimestamp"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def proxy(bootcamp):
    """``kubectl proxy`` on a free port: the base URL."""
    port = _free_port()
    proc = subprocess.Popen([bootcamp.binary, "--cache-dir", str(bootcamp.cache_dir), "proxy", f"--port={port}"],
                            env=bootcamp.env, cwd=bootcamp.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline() == f"Starting to serve on 127.0.0.1:{port}\n"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_app_answers_through_kubectl_proxy_and_logs_each_request(bootcamp, proxy):
    [pod] = _pods(bootcamp)
    assert json.loads(_get(f"{proxy}/version")[1])["major"] == "1"
    assert _get(f"{proxy}/api/v1/namespaces/default/pods/{pod}:8080/proxy/") == (
        200, f"Hello Kubernetes bootcamp! | Running on: {pod} | v=1\n")
    log = bootcamp("logs", pod).out
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(rf"Kubernetes Bootcamp App Started At: {stamp} \| Running On:  {pod} \n\n"
                        rf"Running On: {pod} \| Total Requests: 1 \| App Uptime: \d+\.\d{{3}} seconds \| "
                        rf"Log Time: {stamp}\n", log), log


def test_the_proxy_subresource_says_what_it_could_not_reach(bootcamp, proxy):
    [pod] = _pods(bootcamp)
    code, body = _get(f"{proxy}/api/v1/namespaces/default/pods/{pod}/proxy/")  # no port declared: 80
    assert (code, json.loads(body)["reason"]) == (503, "ServiceUnavailable")
    assert re.fullmatch(r"error trying to reach service: dial tcp 10\.[\d.]+:80: connect: connection refused",
                        json.loads(body)["message"])
    code, body = _get(f"{proxy}/api/v1/namespaces/default/pods/nope:8080/proxy/")
    assert (code, json.loads(body)["message"]) == (404, 'pods "nope" not found')
    code, body = _get(f"{proxy}/api/v1/namespaces/default/services/kubernetes-bootcamp:8080/proxy/")
    assert (code, json.loads(body)["message"]) == (404, 'services "kubernetes-bootcamp" not found')


def test_exec_in_the_app_container_sees_its_env_and_curls_the_app(bootcamp):
    [pod] = _pods(bootcamp)
    assert f"HOSTNAME={pod}\n" in bootcamp("exec", pod, "--", "env").out
    assert bootcamp("exec", pod, "--", "curl", "-s", "http://localhost:8080").out == (
        f"Hello Kubernetes bootcamp! | Running on: {pod} | v=1\n")


def test_a_nodeport_service_and_a_label_select_the_app(bootcamp, proxy):
    bootcamp("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
    svc = bootcamp.obj("services", "kubernetes-bootcamp")
    assert svc["spec"]["type"] == "NodePort" and 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    [pod] = _pods(bootcamp)
    bootcamp("label", "pods", pod, "version=v1")
    assert [line.split()[0] for line in bootcamp("get", "pods", "-l", "version=v1").out.splitlines()[1:]] == [pod]
    bootcamp.wait("the service's endpoint", lambda: _get(
        f"{proxy}/api/v1/namespaces/default/services/kubernetes-bootcamp:8080/proxy/")[0] == 200)
    assert _get(f"{proxy}/api/v1/namespaces/default/services/kubernetes-bootcamp/proxy/")[1] == (
        f"Hello Kubernetes bootcamp! | Running on: {pod} | v=1\n")  # the service's only port


def test_scaled_to_four_the_service_spreads_requests_over_the_replicas(bootcamp):
    bootcamp("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
    bootcamp("scale", "deployments/kubernetes-bootcamp", "--replicas=4")
    _available(bootcamp, 4)
    pods = _pods(bootcamp)
    assert len(pods) == 4
    seen = set()
    for _ in range(8):
        out = bootcamp("exec", pods[0], "--", "curl", "-s", "http://kubernetes-bootcamp:8080").out
        seen.add(re.fullmatch(rf"Hello Kubernetes bootcamp! \| Running on: ({POD}) \| v=1\n", out).group(1))
    assert seen == set(pods)


def test_an_update_to_v2_rolls_out_a_missing_v10_backs_off_and_undo_brings_v2_back(bootcamp):
    bootcamp("scale", "deployments/kubernetes-bootcamp", "--replicas=4")
    _available(bootcamp, 4)
    bootcamp("set", "image", "deployments/kubernetes-bootcamp",
             "kubernetes-bootcamp=docker.io/jocatalin/kubernetes-bootcamp:v2")
    assert 'deployment "kubernetes-bootcamp" successfully rolled out' in bootcamp(
        "rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=90s", timeout=120).out
    _available(bootcamp, 4)
    pod = _pods(bootcamp)[0]
    assert bootcamp("exec", pod, "--", "curl", "-s", "http://localhost:8080").out.endswith("| v=2\n")
    bootcamp("set", "image", "deployments/kubernetes-bootcamp",
             "kubernetes-bootcamp=gcr.io/google-samples/kubernetes-bootcamp:v10")

    def backing_off() -> list[str]:
        return [p["metadata"]["name"] for p in bootcamp.objs("pods", "app=kubernetes-bootcamp")
                for s in p.get("status", {}).get("containerStatuses") or []
                if (s.get("state", {}).get("waiting") or {}).get("reason") == "ImagePullBackOff"]

    stuck = bootcamp.wait("the v10 pods to back off", backing_off)
    events = bootcamp("describe", "pod", stuck[0]).out
    assert 'failed to pull and unpack image "gcr.io/google-samples/kubernetes-bootcamp:v10"' in events, events
    bootcamp("rollout", "undo", "deployments/kubernetes-bootcamp")
    bootcamp("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=90s", timeout=120)
    _available(bootcamp, 4)
    deadline = time.monotonic() + 30
    while backing_off() and time.monotonic() < deadline:
        time.sleep(0.1)
    images = {c["image"] for p in bootcamp.objs("pods", "app=kubernetes-bootcamp") for c in p["spec"]["containers"]}
    assert images == {"docker.io/jocatalin/kubernetes-bootcamp:v2"}
