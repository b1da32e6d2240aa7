"""Fixtures for the sandbox tier: a served sandbox and official-client APIs pointed at it."""

from __future__ import annotations

import time
from typing import Callable

import pytest
from kubernetes import client, watch
from kubernetes.stream import stream

from stsnb.sandbox import Sandbox

GUIDE_STS = {
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"labels": {"app": "nginx-stateful"}, "name": "nginx-stateful"},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx-stateful"}},
             "template": {"metadata": {"labels": {"app": "nginx-stateful"}},
                          "spec": {"containers": [{"image": "nginx", "name": "nginx"}]}}},
}


@pytest.fixture
def sandbox():
    with Sandbox(dns_port=None, seed=11) as sb:
        yield sb
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors


@pytest.fixture
def api(sandbox) -> client.ApiClient:
    """The official client as the sandbox configures it (its URL and bearer token)."""
    return sandbox.api_client()


@pytest.fixture
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def wait_until(list_fn: Callable, predicate: Callable, *args, timeout: float = 20, **kwargs):
    """Watch ``list_fn`` until ``predicate(object)`` holds for an event's object; fail after ``timeout``."""
    w = watch.Watch()
    deadline = time.monotonic() + timeout
    last = None
    for ev in w.stream(list_fn, *args, timeout_seconds=int(timeout) + 1, **kwargs):
        last = ev["object"]
        if predicate(last):
            w.stop()
            return last
        if time.monotonic() > deadline:
            break
    w.stop()
    raise AssertionError(f"condition not met within {timeout}s; last object seen: {last}")


def sts_settled(replicas: int) -> Callable:
    def check(s) -> bool:
        st = s.status
        return (s.spec.replicas == replicas and (st.ready_replicas or 0) == replicas and
                (st.replicas or 0) == replicas and (st.updated_replicas or 0) == replicas and
                st.current_revision == st.update_revision and st.observed_generation == s.metadata.generation)
    return check


class PodEvents:
    """Pod watch events (type, name, revision label, ready) since the moment it was created.

    ``stop()`` replays the watch from the starting resourceVersion (the server sends the
    whole history at once, then idles), so no event is lost to thread timing.
    """

    def __init__(self, core: client.CoreV1Api, namespace: str = "default", selector: str | None = None) -> None:
        self.events: list[tuple[str, str, str, bool]] = []
        self._core, self._ns = core, namespace
        self._kwargs = {"label_selector": selector} if selector else {}
        self._rv = core.list_namespaced_pod(namespace).metadata.resource_version

    def stop(self) -> None:
        for ev in watch.Watch().stream(self._core.list_namespaced_pod, self._ns, resource_version=self._rv,
                                       timeout_seconds=1, **self._kwargs):
            p = ev["object"]
            ready = any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
            self.events.append((ev["type"], p.metadata.name,
                                (p.metadata.labels or {}).get("controller-revision-hash", ""), ready))

    def first(self, type_: str) -> list[str]:
        """Pod names in the order their first ``type_`` event arrived."""
        seen: list[str] = []
        for t, name, _, _ in self.events:
            if t == type_ and name not in seen:
                seen.append(name)
        return seen


def run_exec(core: client.CoreV1Api, name: str, command: list[str], stdin: bytes | str | None = None,
             namespace: str = "default", **kw) -> tuple[str, str, int]:
    """``command`` in the pod through the official client's exec stream: ``(stdout, stderr, exit code)``."""
    resp = stream(core.connect_get_namespaced_pod_exec, name, namespace, command=command, stdout=True, stderr=True,
                  stdin=stdin is not None, tty=False, _preload_content=False, **kw)
    if stdin is not None:
        resp.write_stdin(stdin)
        resp.close_channel(0)
    resp.run_forever(timeout=20)
    out, err, code = resp.read_stdout(), resp.read_stderr(), resp.returncode
    finish(resp)
    return out, err, code


def finish(resp) -> None:
    """Close a stream completely: the client leaves its socket open when the server ended the WebSocket."""
    resp.close()
    resp.sock.shutdown()
