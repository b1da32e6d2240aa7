"""The embedded sandbox cluster: a miniature Kubernetes control plane on 127.0.0.1.

A :class:`Sandbox` is a server, not a mock: it speaks the Kubernetes REST API
(discovery, CRUD, patches, watches, ``Status`` errors, server-side tables) on a
loopback port, so the official ``kubernetes`` client, kubectl and ``dig``
(against its DNS port) talk to it exactly as to a real cluster.

What it simulates, faithfully to upstream (see ``reference/kubernetes-semantics.md``):

* the StatefulSet controller: ordinals and pod identity, OrderedReady and
  Parallel, RollingUpdate (partition, maxUnavailable from 1.35) and OnDelete,
  ControllerRevisions with the exact upstream hash and name, rollback reuse,
  history truncation, per-pod PVCs and the retention policy, every status field;
* Deployments → ReplicaSets → pods with upstream naming; EndpointSlices and
  Endpoints; a dynamic provisioner; a scheduler with per-node pod IP blocks;
  garbage collection through ownerReferences; namespace deletion;
* a kubelet that "runs" a few known programs (nginx, busybox ``nslookup``,
  ``hostname``, ``sleep``, ``sh`` with files, pipes and loops, ``wget``/``curl`` …)
  in sandbox time, with pull failures and back-off; each container has an
  in-memory filesystem from its image plus its volumes, and a claim's data
  lives with its PersistentVolume, in memory or under ``data_dir``
  (``node/containers.py``, ``node/disk.py``, ``node/runtime.py``);
* ``pods/exec``, ``attach`` and ``portforward`` over WebSocket as kubectl 1.30+
  and the official client speak them (``apiserver/streaming.py``);
* CoreDNS's kubernetes plugin on a real UDP/TCP DNS port.

What it does not: no real containers run (nothing executes on the host; the
programs are simulations, bounded in steps and memory), no packets between
pods (HTTP to pod and Service IPs is routed in process), no SPDY without
WebSocket, no RBAC (one user, who may do anything; ``SelfSubjectAccessReview``
answers allowed), no server-side apply, no admission webhooks, no CRDs. It
authenticates: a bearer token made at each start (:attr:`Sandbox.token`) is in
the kubeconfig and in every client it hands out; without it every endpoint but
health and ``/version`` answers 401. A Deployment's
``pod-template-hash`` has upstream's alphabet and length but not its exact
value (upstream hashes a Go-specific dump).

Time (:mod:`.core.clock`): by default a discrete-event clock that skips
simulated delays whenever somebody waits and the cluster is quiet, starting an
hour behind the wall clock so that no timestamp is ever ahead of it;
``clock="realtime"`` makes sandbox time the wall clock itself (``stsnb sandbox
serve``'s default, for kubectl).

All state lives in the object; nothing is created at import time. ``Sandbox``
is the composition root: it builds the store, the API server, the controllers
and the node components, and hands itself to them as a
:class:`~stsnb.sandbox.core.cluster.Cluster`, the protocol they depend on.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import uuid
from pathlib import Path


from .core.clock import DEFAULT_LAG, Clock
from .apiserver.codec import Codec
from .core.engine import Engine
from .bootstrap import ClusterDefaults
from .node.kubelet import Kubelet
from .node.node_agent import NodeAgent
from .node.scheduler import DEFAULT_NODES, NodeSpec, Scheduler, cluster_nodes
from .profile import Profile
from .apiserver.registry import Registry
from .controllers.statefulset import StatefulSetController
from .core.store import Store

__all__ = ["Sandbox", "NodeSpec", "ClusterDefaults"]

log = logging.getLogger(__name__)


class Sandbox:
    """A miniature Kubernetes control plane, served on 127.0.0.1.

    Args:
        port: API port (0 picks a free one).
        dns_port: DNS port for UDP and TCP (0 picks a free one, ``None`` serves no DNS socket;
            in-pod lookups work either way).
        k8s_version: the Kubernetes version to imitate ("1.27", the guide's cluster, by default).
        clock: ``"discrete"`` (skip simulated delays while somebody waits; lessons and tests),
            ``"realtime"`` (sandbox time is the wall clock; for people using kubectl), or a
            :class:`~stsnb.sandbox.core.clock.Clock`.
        speed: how many times faster than the wall clock a discrete clock flows between jumps (1).
        lag: how far behind the wall clock a discrete clock starts: the most its jumps may gain.
        seed: makes IPs, name suffixes and uids reproducible.
        nodes: the nodes (default: the control plane ``k8s-master``, tainted, and the guide's workers
            ``k8s-worker1`` and ``k8s-worker2``).
        workers: instead of ``nodes``, the control plane and this many workers, ``k8s-worker1`` …
            (:func:`~.node.scheduler.cluster_nodes`: 1 to 16; a ValueError says so otherwise).
        zone: the cluster DNS domain.
        defaults: what a fresh cluster holds besides the essentials (:class:`~.bootstrap.ClusterDefaults`:
            the default StorageClass, CoreDNS pods, each namespace's ServiceAccount and CA ConfigMap).
        data_dir: keep each PersistentVolume's files on disk in ``data_dir/<pv uid>/`` (created if
            missing) rather than in memory: a PV reclaimed with ``Delete`` takes its directory with it,
            ``Retain`` leaves it; no container path reaches outside it (``node/disk.py``).
    """

    def __init__(self, *, port: int = 0, dns_port: int | None = 0, k8s_version: str = "1.27",
                 clock: "str | Clock" = "discrete", speed: float = 1.0, lag: float = DEFAULT_LAG,
                 seed: int | None = None, nodes: tuple[NodeSpec, ...] = DEFAULT_NODES,
                 zone: str = "cluster.local", defaults: ClusterDefaults = ClusterDefaults(),
                 data_dir: str | os.PathLike | None = None, workers: int | None = None) -> None:
        if workers is not None:
            nodes = cluster_nodes(workers)
        self.profile = Profile(str(k8s_version))
        self.data_dir = _data_dir(data_dir)
        self.clock = _make_clock(clock, speed, lag)
        self.rng = random.Random(seed)
        self.nodes = tuple(nodes)
        self.defaults = defaults
        self.zone = zone
        self.store = Store(uid_factory=self._uid)
        self.schemas = Codec(self.profile)
        self.registry = Registry(self)
        self.engine = Engine(self.clock)
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.node_agent = NodeAgent(self)
        self._port, self._dns_port_wanted = port, dns_port
        self._server = None
        self._dns_server = None
        self._cluster_dns = None
        self.internal_errors: list[str] = []
        self.stopping = False
        self.started = False
        self._kubeconfig_tmp: tempfile.TemporaryDirectory | None = None
        self.kubeconfig_path: Path | None = None
        from .apiserver.auth import new_token
        #: The bearer token this sandbox accepts, new for every sandbox (never derived from ``seed``).
        self.token = new_token()
        for c in self._controllers():
            self.engine.add(c)
        self.store.subscribe(self.engine.on_event)

    def _uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _controllers(self) -> list:
        from . import controllers
        return [self.scheduler, self.kubelet, StatefulSetController(self), *controllers.all_for(self, self.defaults)]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Sandbox":
        """Bootstrap the cluster objects, start the controllers, the API and DNS servers."""
        if self.started:
            return self
        from .apiserver.auth import Authenticator
        from .apiserver.handler import Api
        from .apiserver.server import ApiServer
        self._bootstrap()
        self.engine.start()
        self._settle_bootstrap()
        self.api = Api(self)
        from .apiserver.tls import make_certificates
        self._certificates = make_certificates()
        self._server = ApiServer(self._serve, port=self._port, authenticate=Authenticator(self.token).check,
                                 tls=self._certificates.context)
        self.api.discovery.server_address = f"127.0.0.1:{self._server.port}"
        self._server.start()
        if self._dns_port_wanted is not None:
            from .dns_server import DnsServer
            self._dns_server = DnsServer(self.cluster_dns, port=self._dns_port_wanted)
            self._dns_server.start()
        self.started = True
        return self

    def stop(self) -> None:
        """Stop serving; open watches end, in-flight requests finish."""
        if not self.started or self.stopping:
            return
        self.stopping = True
        self.store.close_watches()
        if self._server:
            self._server.stop()
        if self._dns_server:
            self._dns_server.stop()
        self.engine.stop()
        self.kubelet.runtime.shutdown()  # the pods' processes (live commands, exec sessions) end with it
        if self._kubeconfig_tmp:
            self._kubeconfig_tmp.cleanup()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, req):
        """The API's handler as the socket layer calls it: each request is client activity for the engine."""
        with self.engine.client_request():
            resp = self.api.handle(req)
        if resp.streaming:  # a watch or a followed log: somebody waits for the cluster to change
            # a watch of the lab's, in this process, acknowledges the events it acted on (Engine.acknowledge)
            resp.body = self.engine.waiting_through(resp.body, token=req.header(self.WAITER_HEADER) or None,
                                                    queued=resp.queued)
        return resp

    # ------------------------------------------------------------------ addresses
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started: call start() or use `with Sandbox() as sb:`")
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port if self._server else 0

    @property
    def dns_port(self) -> int | None:
        return self._dns_server.port if self._dns_server else None

    @property
    def cluster_dns(self):
        if self._cluster_dns is None:
            from .dns import ClusterDns
            self._cluster_dns = ClusterDns(self.store, zone=self.zone)
        return self._cluster_dns

    @property
    def clock_description(self) -> str:
        """How sandbox time passes, in a few words (for banners and ``lab.why``)."""
        c = self.clock
        pace = "real time" if c.speed == 1 else f"time {c.speed:g}x faster than real"
        return f"{pace}, simulated delays skipped while you wait" if c.jumps else pace

    @property
    def https_url(self) -> str:
        """The API over TLS (same port): what kubeconfigs name, since kubectl sends tokens only over TLS."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started: call start() or use `with Sandbox() as sb:`")
        return self._server.https_url

    @property
    def ca_pem(self) -> bytes:
        """The PEM of the certificate authority that signed this sandbox's serving certificate."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started: call start() or use `with Sandbox() as sb:`")
        return self._certificates.ca_pem

    def kubeconfig(self, namespace: str = "default") -> dict:
        """A kubeconfig whose current context, ``stsnb-sandbox``, points at this sandbox (HTTPS, bearer token)."""
        import base64
        cluster = {"server": self.https_url, "certificate-authority-data": base64.b64encode(self.ca_pem).decode()}
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": "stsnb-sandbox", "cluster": cluster}],
                "users": [{"name": "stsnb-sandbox", "user": {"token": self.token}}],
                "contexts": [{"name": "stsnb-sandbox", "context": {"cluster": "stsnb-sandbox", "user": "stsnb-sandbox",
                                                                     "namespace": namespace}}],
                "current-context": "stsnb-sandbox"}

    def write_kubeconfig(self, path: str | os.PathLike | None = None, namespace: str = "default") -> Path:
        """Write :meth:`kubeconfig` to ``path`` (a temporary file removed on stop by default)."""
        import yaml
        if path is None:
            if self._kubeconfig_tmp is None:
                self._kubeconfig_tmp = tempfile.TemporaryDirectory(prefix="stsnb-sandbox-")
            path = Path(self._kubeconfig_tmp.name) / "kubeconfig"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(namespace), sort_keys=False))
        self.kubeconfig_path = path
        return path

    # ------------------------------------------------------------------ waiters in this process
    #: A watch request with this header (any token) is an acknowledging stream: its client, in this
    #: process, says when it has acted on the events (:meth:`acknowledge`), so a discrete clock jumps
    #: as soon as it has, instead of giving it :attr:`Engine.react <.core.engine.Engine.react>` seconds.
    WAITER_HEADER = "X-Stsnb-Waiter"

    def acknowledge(self, token: str, events: int) -> None:
        """The client of the watch ``token`` acted on its first ``events`` events and waits for more."""
        self.engine.acknowledge(token, events)

    def release(self, token: str) -> None:
        """The client of the watch ``token`` no longer waits on it (it closes it next)."""
        self.engine.release(token)

    def api_client(self):
        """An official-client ``ApiClient`` configured for this sandbox."""
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = self.url
        cfg.api_key = {"authorization": self.token}
        cfg.api_key_prefix = {"authorization": "Bearer"}
        return client.ApiClient(cfg)

    # ------------------------------------------------------------------ bootstrap
    def _bootstrap(self) -> None:
        from .bootstrap import bootstrap
        bootstrap(self, self.node_agent, self.defaults)

    def _settle_bootstrap(self, timeout: float = 10.0) -> None:
        """Let the bootstrap's work (CoreDNS coming up) finish before anyone is served.

        So what clients do never interleaves with it (a seeded sandbox stays reproducible). Its
        delays are skipped; a realtime clock then catches up with the wall clock (:meth:`Clock.settle`).
        """
        with self.engine.waiting():
            self.engine.idle.wait(timeout)
        self.clock.settle()

    # ------------------------------------------------------------------ helpers for controllers
    def node(self, name: str) -> NodeSpec:
        return next(n for n in self.nodes if n.name == name)

    def version_info(self) -> dict:
        major, minor = self.profile.version.split(".")
        return {"major": major, "minor": minor, "gitVersion": self.profile.git_version,
                "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                "buildDate": "2023-01-01T00:00:00Z", "goVersion": "go1.20", "compiler": "gc",
                "platform": "linux/amd64"}

    def table(self, plural: str, objects: list[dict], include_object: str, list_meta: dict) -> dict:
        from .apiserver.printers import table
        return table(plural, objects, self.clock.datetime(), k8s_version=self.profile.version,
                     include_object=include_object, list_meta=list_meta, describe=self.schemas.field_description)

    def log_internal_error(self, req: object, exc: BaseException) -> None:
        import traceback
        text = "".join(traceback.format_exception(exc))
        self.internal_errors.append(text)
        log.error("stsnb sandbox internal error on %s: %s", req, text)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no controller work and no foreground timers are pending (tests and benchmarks).

        Waiting counts as somebody waiting: a discrete clock jumps through the pending delays.
        ``timeout`` is in wall seconds.
        """
        with self.engine.waiting():
            return self.engine.idle.wait(timeout)


def _data_dir(path: str | os.PathLike | None) -> Path | None:
    """The data directory, made if missing; ``ValueError`` when it cannot be one."""
    if path is None:
        return None
    from .node.disk import supported
    if not supported():
        raise ValueError("data_dir needs a system whose file calls can refuse to follow links (Linux, macOS)")
    d = Path(path).expanduser().absolute()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"data_dir {str(d)!r} cannot be a directory: {e.strerror}") from None
    if not d.is_dir():
        raise ValueError(f"data_dir {str(d)!r} is not a directory")
    return d


def _make_clock(clock: "str | Clock", speed: float, lag: float) -> Clock:
    if isinstance(clock, Clock):
        return clock
    if clock == "discrete":
        return Clock.discrete(lag=lag, speed=speed)
    if clock == "realtime":
        if speed != 1:
            raise ValueError(f"a realtime clock runs at the wall clock's pace; speed={speed!r} needs clock='discrete'")
        return Clock.realtime()
    raise ValueError(f"clock={clock!r}: choose 'discrete' (lessons, tests) or 'realtime' (kubectl)")
