"""What the parts of the sandbox may use of the cluster they run in.

The API server (:mod:`stsnb.sandbox.apiserver`), the controllers
(:mod:`stsnb.sandbox.controllers`) and the node components
(:mod:`stsnb.sandbox.node`) are built by :class:`stsnb.sandbox.Sandbox`, the
composition root, and handed it as a :class:`Cluster`. They depend on this
protocol, never on ``Sandbox`` itself, which satisfies it structurally. The
members are exactly what they use; all are read-only here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..apiserver.codec import Codec
    from ..apiserver.registry import Registry
    from ..dns import ClusterDns
    from ..profile import Profile
    from .clock import Clock
    from .engine import Engine
    from .store import Store

__all__ = ["Cluster", "PodRuntime", "WorkerNode"]


class WorkerNode(Protocol):
    """A worker node as the cluster was given it (``node.scheduler.NodeSpec`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def internal_ip(self) -> str: ...

    @property
    def pod_cidr(self) -> str: ...

    @property
    def first_pod_ip(self) -> str: ...


class PodRuntime(Protocol):
    """What the others ask of the kubelet (``node.kubelet.Kubelet`` is one)."""

    def pod_stopped(self, uid: str) -> bool:
        """True when nothing of the pod runs (never started, or shut down)."""
        ...

    def pod_log(self, namespace: str, name: str, query: dict[str, str]) -> str | Iterator[str]:
        """``GET pods/NAME/log`` with its query (container, previous, timestamps, sinceSeconds, sinceTime,
        tailLines, limitBytes, follow): the text, or with ``follow`` an iterator of it as it is written
        (empty strings are idle ticks)."""
        ...

    def reprobe(self, uid: str) -> None:
        """Something the probes of pod ``uid`` look at changed (a file, a process): probe again soon if it matters."""
        ...

    def check_running(self, namespace: str, name: str, container: str) -> Any:
        """Raise the kubelet's refusal unless the container is running (before a stream is upgraded)."""
        ...

    def exec(self, namespace: str, name: str, container: str, command: list[str], *, tty: bool, stdin: bool,
             on_output: Any, on_exit: Any) -> Any:
        """Start ``command`` in the container; output as ``on_output(channel, bytes)``, then ``on_exit(code, reason)``."""
        ...

    def attach(self, namespace: str, name: str, container: str, on_output: Any) -> Any:
        """Join the container's main process: its output, and its stdin if it reads one."""
        ...

    def container_running(self, uid: str, container: str) -> bool:
        """True while the container of the pod with ``uid`` runs."""
        ...

    def http_request(self, ip: str, port: int, method: str, target: str, headers: list[tuple[str, str]],
                     body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP request to ``ip:port`` in the pod network (the ``proxy`` subresource): ``(status, headers,
        body)`` of the answer; ``ConnectionRefusedError`` when nothing listens there."""
        ...

    def port_forward(self, namespace: str, name: str, port: int, send: Any, close: Any) -> Any:
        """A TCP connection to ``port`` of the pod: ``feed(bytes)`` it; replies come through ``send``."""
        ...


class Cluster(Protocol):
    """The composition root as its parts see it."""

    @property
    def store(self) -> Store:
        """The objects, their resource versions and watches."""
        ...

    @property
    def registry(self) -> Registry:
        """Kubernetes object semantics over the store (what the API and the controllers write through)."""
        ...

    @property
    def schemas(self) -> Codec:
        """Decoding, patching and OpenAPI by the imitated version's API schemas."""
        ...

    @property
    def clock(self) -> Clock:
        """Sandbox time."""
        ...

    @property
    def engine(self) -> Engine:
        """The controller loop: queues and timers in sandbox time."""
        ...

    @property
    def rng(self) -> random.Random:
        """The one source of randomness (IPs, name suffixes, uids), seeded for reproducibility."""
        ...

    @property
    def profile(self) -> Profile:
        """The imitated Kubernetes version and its behaviour switches."""
        ...

    @property
    def nodes(self) -> tuple[WorkerNode, ...]:
        """The worker nodes."""
        ...

    @property
    def zone(self) -> str:
        """The cluster DNS domain (``cluster.local``)."""
        ...

    @property
    def data_dir(self) -> Path | None:
        """The directory PersistentVolumes keep their files in, one subdirectory per PV uid (None: in memory)."""
        ...

    @property
    def kubelet(self) -> PodRuntime:
        """The node agent of every worker node."""
        ...

    @property
    def cluster_dns(self) -> ClusterDns:
        """The cluster DNS (the programs in pods resolve through it)."""
        ...

    @property
    def stopping(self) -> bool:
        """True once the sandbox is stopping: long-running requests end."""
        ...

    def node(self, name: str) -> WorkerNode:
        """The worker node called ``name``."""
        ...

    def log_internal_error(self, req: object, exc: BaseException) -> None:
        """Record a sandbox bug met while serving ``req``."""
        ...

    def version_info(self) -> dict[str, Any]:
        """The ``/version`` document."""
        ...

    def table(self, plural: str, objects: list[dict], include_object: str, list_meta: dict) -> dict:
        """A ``meta.k8s.io/v1`` Table of ``objects``, as the imitated version prints them."""
        ...
