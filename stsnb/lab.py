"""The lab: one object bound to a cluster, a namespace and a settings object.

``stsnb.connect(...)`` returns a :class:`Lab`. Every notebook step is one call
on it: apply a manifest, scale, set an image, roll back, delete a pod, look a
name up in DNS, show a table, record a timeline, clean up. The lab never knows
whether it talks to the embedded sandbox or to a real cluster: both are reached
through the official ``kubernetes`` client (``CoreV1Api``, ``AppsV1Api``,
``StorageV1Api``, ``watch.Watch``), over HTTP.

Safety rules, enforced here and tested:

* everything stsnb creates carries ``app.kubernetes.io/managed-by=stsnb`` (top-level labels and
  volume claim templates, never the pod template);
* :meth:`Lab.cleanup` deletes only objects with that label, only in the lab's namespace, and
  waits until they (and what the cluster garbage-collects with them) are gone;
* :meth:`Lab.apply` refuses to modify an object in the namespace that stsnb did not create, and
  :meth:`Lab.delete` / :meth:`Lab.delete_pod` refuse objects that neither carry the label nor are
  owned by something that does;
* a real cluster is used only when asked for (``backend="kubeconfig"``), and then in its own
  namespace (``stsnb-lab`` by default), created if missing.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import manifests as _manifests
from . import tables as _tables
from .errors import (AlreadyExists, CannotExpose, ClusterUnreachable, ConfigError, Conflict, Forbidden, NotFound,
                     StsnbError, from_api_exception)
from .k8s.pods import pod_owner, pod_ready, pod_status
from .k8s.selectors import label_selector_string
from .settings import Settings
from .watching import (Progress, Recording, View, WatchSpec, all_gone, deployment_rollout, pod_finished,
                       pod_replaced, statefulset_rollout, wait_for)

if TYPE_CHECKING:
    import pandas as pd

    from .sandbox import Sandbox

__all__ = ["connect", "Lab", "Kube", "Kind", "ActionResult", "PodReplacement", "DnsLookup", "Text", "KINDS",
           "resolve_kind", "parse_target", "parse_nslookup"]

log = logging.getLogger("stsnb")


# ---------------------------------------------------------------------------- kinds

@dataclass(frozen=True)
class Kind:
    """A resource type the lab handles: how to name it and which client method serves it."""

    kind: str
    api_version: str
    plural: str
    namespaced: bool
    api: str  # "core", "apps", "storage"
    suffix: str  # the client's method suffix: list_namespaced_<suffix>
    aliases: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    @property
    def ref(self) -> str:
        """kubectl's prefix: ``statefulset.apps``, ``service``."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def resource(self) -> str:
        """The group resource in error messages: ``statefulsets.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


KINDS: tuple[Kind, ...] = (
    Kind("StatefulSet", "apps/v1", "statefulsets", True, "apps", "stateful_set", ("sts",)),
    Kind("Deployment", "apps/v1", "deployments", True, "apps", "deployment", ("deploy",)),
    Kind("ReplicaSet", "apps/v1", "replicasets", True, "apps", "replica_set", ("rs",)),
    Kind("ControllerRevision", "apps/v1", "controllerrevisions", True, "apps", "controller_revision", ()),
    Kind("Pod", "v1", "pods", True, "core", "pod", ("po",)),
    Kind("Service", "v1", "services", True, "core", "service", ("svc",)),
    Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims", True, "core", "persistent_volume_claim", ("pvc",)),
    Kind("ConfigMap", "v1", "configmaps", True, "core", "config_map", ("cm",)),
    Kind("Event", "v1", "events", True, "core", "event", ("ev",)),
    Kind("Endpoints", "v1", "endpoints", True, "core", "endpoints", ("ep",)),
    Kind("PersistentVolume", "v1", "persistentvolumes", False, "core", "persistent_volume", ("pv",)),
    Kind("Namespace", "v1", "namespaces", False, "core", "namespace", ("ns",)),
    Kind("Node", "v1", "nodes", False, "core", "node", ("no",)),
    Kind("StorageClass", "storage.k8s.io/v1", "storageclasses", False, "storage", "storage_class", ("sc",)),
)
_BY_WORD: dict[str, Kind] = {}
for _k in KINDS:
    for _w in (_k.kind.lower(), _k.plural, _k.ref, f"{_k.plural}.{_k.group}" if _k.group else _k.plural, *_k.aliases):
        _BY_WORD[_w] = _k
#: Kinds stsnb creates from manifests (and may therefore clean up).
APPLY_KINDS = ("StatefulSet", "Deployment", "Service", "Pod", "PersistentVolumeClaim", "ConfigMap", "StorageClass")
#: Namespaced kinds cleanup lists by label, in deletion order (workloads first, claims last).
CLEANUP_KINDS = ("statefulsets", "deployments", "replicasets", "pods", "services", "configmaps",
                 "persistentvolumeclaims")
#: Kinds the cluster deletes along with their owners, which cleanup waits for.
DEPENDENT_KINDS = ("replicasets", "pods", "controllerrevisions", "persistentvolumeclaims")
_CLUSTER_KINDS = tuple(k.kind for k in KINDS if not k.namespaced)


def resolve_kind(word: str) -> Kind:
    """``"sts"``, ``"statefulset"``, ``"statefulsets.apps"``, ``"StatefulSet"`` → the :class:`Kind`."""
    k = _BY_WORD.get(word.strip().lower())
    if k is None:
        raise ConfigError(f"unknown resource type {word!r}",
                          hint=f"use one of: {', '.join(sorted({x.kind.lower() for x in KINDS}))} (or sts, svc, po, pvc …)")
    return k


def kind_of(obj: dict) -> Kind:
    for k in KINDS:
        if k.kind == obj.get("kind") and k.api_version == obj.get("apiVersion"):
            return k
    raise ConfigError(f"stsnb cannot apply {obj.get('apiVersion')}/{obj.get('kind')} ({_manifests.object_ref(obj)})",
                      hint=f"the lab applies these kinds: {', '.join(APPLY_KINDS)}")


def parse_target(target: str, default: str = "statefulset") -> tuple[Kind, str]:
    """``"nginx-stateful"`` → (StatefulSet, name); ``"deployment/test-deploy"``, ``"sts/x"``, ``"pod/x"`` likewise."""
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"expected an object name like 'nginx-stateful' or 'deployment/test-deploy', got {target!r}")
    word, sep, name = target.strip().partition("/")
    if not sep:
        return resolve_kind(default), word
    return resolve_kind(word), name


def _ref(kind: Kind, name: str) -> str:
    return f"{kind.ref}/{name}"


# ---------------------------------------------------------------------------- results

class Text(str):
    """A string that shows itself as text in a notebook (not as a quoted repr)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<pre class="stsnb-text">{html.escape(str(self))}</pre>'


@dataclass(repr=False)
class ActionResult:
    """What an action did, as kubectl would print it (``lines``), plus the objects and an optional timeline."""

    lines: list[str] = field(default_factory=list)
    objects: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recording: Recording | None = None
    frame: "pd.DataFrame | None" = None

    @property
    def text(self) -> str:
        return "\n".join([*(f"Warning: {w}" for w in self.warnings), *self.lines])

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text or "(no change)"

    def _repr_html_(self) -> str:
        out = f'<pre class="stsnb-action">{html.escape(self.text or "(no change)")}</pre>'
        if self.frame is not None:
            out += self.frame.to_html(index=False)
        return out


@dataclass(repr=False)
class PodReplacement(ActionResult):
    """A deleted pod and the one that replaced it: compare name, uid, IP and node."""

    old_name: str = ""
    new_name: str | None = None
    old_uid: str = ""
    new_uid: str | None = None
    old_ip: str | None = None
    new_ip: str | None = None
    old_node: str | None = None
    new_node: str | None = None


@dataclass
class DnsLookup:
    """The answer of one ``nslookup`` run in a busybox pod."""

    query: str
    answers: list[str]
    output: str
    exit_code: int | None
    server: str | None = None
    pod: str = "dnsquery"

    def __str__(self) -> str:
        return self.output

    def __repr__(self) -> str:
        return self.output if self.output else f"DnsLookup({self.query!r}, answers={self.answers})"

    def _repr_html_(self) -> str:
        return f'<pre class="stsnb-dns">{html.escape(self.output)}</pre>'


_NAME_LINE = re.compile(r"^(\S+)\s+name = (\S+?)\.?$")
_ADDRESS_LINE = re.compile(r"^Address(?: \d+)?:\s*(\S+)(?:\s+(\S+))?$")


def parse_nslookup(output: str, query: str = "") -> tuple[str | None, list[str]]:
    """``(server, answers)`` from busybox ``nslookup`` output (≥1.29 and 1.28 formats).

    Reverse lookups answer names (``… name = <target>``); forward lookups answer addresses.
    """
    server = None
    answers: list[str] = []
    in_header = True
    reverse = bool(re.match(r"^[0-9.]+$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*$", query or ""))
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            if server is not None:
                in_header = False
            continue
        if line.startswith("Server:"):
            server = line.split(":", 1)[1].strip()
            continue
        m = _NAME_LINE.match(line)
        if m:
            answers.append(m.group(2))
            continue
        m = _ADDRESS_LINE.match(line)
        if m and not in_header:
            if reverse and m.group(2):
                answers.append(m.group(2))
            elif not reverse:
                answers.append(m.group(1))
    return server, answers


# ---------------------------------------------------------------------------- API access

class Kube:
    """The lab's access to one cluster through the official client; returns plain dicts.

    Every call goes through a typed API object (``CoreV1Api``, ``AppsV1Api``, ``StorageV1Api``)
    with ``_preload_content=False``, so objects stay exactly as the server sent them, and every
    ``ApiException`` is translated into :mod:`stsnb.errors` with the cause chained.
    """

    def __init__(self, api_client: Any, namespace: str, *, context: str | None = None,
                 request_timeout: float = 30.0) -> None:
        from kubernetes import client
        self.api_client = api_client
        self.namespace = namespace
        self.context = context
        self.request_timeout = request_timeout
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.storage = client.StorageV1Api(api_client)
        self._apis = {"core": self.core, "apps": self.apps, "storage": self.storage}
        self.last_warnings: list[str] = []

    @property
    def host(self) -> str:
        return getattr(self.api_client.configuration, "host", "?")

    # ---- plumbing
    def _method(self, verb: str, kind: Kind, sub: str = "") -> Callable:
        scope = "namespaced_" if kind.namespaced else ""
        return getattr(self._apis[kind.api], f"{verb}_{scope}{kind.suffix}{'_' + sub if sub else ''}")

    def _args(self, kind: Kind, name: str | None, namespace: str | None) -> tuple:
        args: list[Any] = [] if name is None else [name]
        if kind.namespaced:
            args.append(namespace or self.namespace)
        return tuple(args)

    def call(self, fn: Callable, *args: Any, action: str, target: str = "", raw: bool = False, **kw: Any) -> Any:
        """Call a client method; return parsed JSON (or text with ``raw``); translate errors."""
        from kubernetes.client.exceptions import ApiException
        kw.setdefault("_request_timeout", self.request_timeout)
        try:
            resp = fn(*args, _preload_content=False, **kw)
            data = resp.data
        except ApiException as e:
            if not getattr(e, "status", 0):
                raise self._unreachable(action, e) from e
            raise from_api_exception(e, action=action, target=target, namespace=self.namespace,
                                     context=self.context) from e
        except StsnbError:
            raise
        except Exception as e:  # urllib3 connection errors, timeouts, sockets
            if _is_transport_error(e):
                raise self._unreachable(action, e) from e
            raise
        self.last_warnings = [w.split('"', 1)[-1].rstrip('"') if w.startswith("299") else w
                              for w in _header_values(resp, "Warning")]
        text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data or "")
        if raw:
            return text
        return json.loads(text) if text.strip() else {}

    def _unreachable(self, action: str, e: BaseException) -> ClusterUnreachable:
        return ClusterUnreachable(
            f"could not {action}: no Kubernetes API server answered at {self.host} ({type(e).__name__}: {e})",
            hint="check that the cluster runs (`kubectl cluster-info`"
                 f"{', context ' + repr(self.context) if self.context else ''}), or use the built-in sandbox "
                 "with `stsnb.connect(backend='sandbox')`")

    # ---- verbs
    def get(self, kind: Kind | str, name: str, namespace: str | None = None) -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        obj = self.call(self._method("read", k), *self._args(k, name, namespace), action=f"get {_ref(k, name)}",
                        target=_ref(k, name))
        obj.setdefault("apiVersion", k.api_version)
        obj.setdefault("kind", k.kind)
        return obj

    def find(self, kind: Kind | str, name: str, namespace: str | None = None) -> dict | None:
        try:
            return self.get(kind, name, namespace)
        except NotFound:
            return None

    def list_raw(self, kind: Kind | str, namespace: str | None = None, *, label_selector: str | None = None,
                 field_selector: str | None = None) -> tuple[list[dict], str]:
        """``(items, resourceVersion)``; items get their ``apiVersion`` and ``kind`` filled in."""
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        kw: dict[str, Any] = {}
        if label_selector:
            kw["label_selector"] = label_selector
        if field_selector:
            kw["field_selector"] = field_selector
        doc = self.call(self._method("list", k), *self._args(k, None, namespace), action=f"list {k.plural}", **kw)
        items = doc.get("items") or []
        for o in items:
            o.setdefault("apiVersion", k.api_version)
            o.setdefault("kind", k.kind)
        return items, str((doc.get("metadata") or {}).get("resourceVersion") or "")

    def list(self, kind: Kind | str, namespace: str | None = None, **kw: Any) -> list[dict]:
        return self.list_raw(kind, namespace, **kw)[0]

    def stream(self, kind: Kind | str, namespace: str | None, *, watcher: Any, label_selector: str | None = None,
               field_selector: str | None = None, resource_version: str | None = None,
               timeout_seconds: int = 60) -> Iterator[tuple[str, dict]]:
        """Watch events ``(type, object)`` from ``resource_version`` through ``watch.Watch.stream``."""
        from kubernetes.client.exceptions import ApiException
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        kw: dict[str, Any] = {"timeout_seconds": int(timeout_seconds),
                              "_request_timeout": (10, int(timeout_seconds) + 15)}
        if label_selector:
            kw["label_selector"] = label_selector
        if field_selector:
            kw["field_selector"] = field_selector
        if resource_version:
            kw["resource_version"] = resource_version
            kw["allow_watch_bookmarks"] = True
        try:
            for ev in watcher.stream(self._method("list", k), *self._args(k, None, namespace), **kw):
                obj = ev.get("raw_object", ev.get("object"))
                if isinstance(obj, dict):
                    obj.setdefault("apiVersion", k.api_version)
                    obj.setdefault("kind", k.kind)
                yield ev["type"], obj
        except ApiException as e:
            if getattr(e, "status", 0) == 410:
                raise
            raise from_api_exception(e, action=f"watch {k.plural}", namespace=self.namespace,
                                     context=self.context) from e

    def create(self, obj: dict) -> dict:
        k = kind_of(obj)
        ns = (obj.get("metadata") or {}).get("namespace")
        name = (obj.get("metadata") or {}).get("name", "")
        args = (ns or self.namespace,) if k.namespaced else ()
        out = self.call(self._method("create", k), *args, obj, action=f"create {_ref(k, name)}",
                        target=_ref(k, name))
        out.setdefault("apiVersion", k.api_version)
        out.setdefault("kind", k.kind)
        return out

    def patch(self, kind: Kind | str, name: str, body: Any, *, content_type: str = "application/strategic-merge-patch+json",
              namespace: str | None = None, sub: str = "") -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        out = self.call(self._method("patch", k, sub), *self._args(k, name, namespace), body,
                        _content_type=content_type, action=f"patch {_ref(k, name)}", target=_ref(k, name))
        out.setdefault("apiVersion", k.api_version)
        out.setdefault("kind", k.kind)
        return out

    def delete(self, kind: Kind | str, name: str, *, namespace: str | None = None, propagation: str | None = None,
               grace: int | None = None) -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        kw: dict[str, Any] = {}
        if propagation:
            kw["propagation_policy"] = propagation
        if grace is not None:
            kw["grace_period_seconds"] = int(grace)
        return self.call(self._method("delete", k), *self._args(k, name, namespace), action=f"delete {_ref(k, name)}",
                         target=_ref(k, name), **kw)

    def log(self, pod: str, namespace: str | None = None, container: str | None = None) -> str:
        kw = {"container": container} if container else {}
        return self.call(self.core.read_namespaced_pod_log, pod, namespace or self.namespace,
                         action=f"read the log of pod/{pod}", target=f"pod/{pod}", raw=True, **kw)

    def table(self, kind: Kind | str, namespace: str | None = None, *, label_selector: str | None = None) -> dict:
        """A server-side ``Table`` (what ``kubectl get`` prints) for a resource type."""
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        kw: dict[str, Any] = {"_headers": {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}
        if label_selector:
            kw["label_selector"] = label_selector
        return self.call(self._method("list", k), *self._args(k, None, namespace), action=f"get {k.plural}", **kw)

    def version(self) -> dict:
        from kubernetes import client
        return self.call(client.VersionApi(self.api_client).get_code, action="read the server version",
                         _request_timeout=(5, 10))


def _header_values(resp: Any, name: str) -> list[str]:
    headers = getattr(resp, "headers", None)
    if headers is None:
        return []
    getlist = getattr(headers, "getlist", None) or getattr(headers, "get_all", None)
    if getlist is not None:
        try:
            return list(getlist(name) or [])
        except Exception:  # noqa: BLE001
            return []
    v = headers.get(name)
    return [v] if v else []


def _is_transport_error(e: BaseException) -> bool:
    import urllib3
    return isinstance(e, (urllib3.exceptions.HTTPError, ConnectionError, OSError, TimeoutError))


# ---------------------------------------------------------------------------- connect

def connect(backend: str | None = None, namespace: str | None = None, k8s_version: str | None = None,
            speed: float | None = None, seed: int | None = None, context: str | None = None,
            kubeconfig: str | None = None, lang: str | None = None, timeout_s: float | None = None, *,
            storage_class: str | None = None, cluster_domain: str | None = None,
            sandbox: "Sandbox | None" = None, env: dict[str, str] | None = None) -> "Lab":
    """Connect a lab to a cluster: the embedded sandbox by default, a real one only when asked for.

    Every argument left at ``None`` falls back to its ``STSNB_*`` environment variable, then to its
    default (see :mod:`stsnb.settings`). ``lab.why`` says which cluster was chosen and why.

    Args:
        backend: ``"sandbox"``, ``"kubeconfig"`` or ``"auto"``.
        namespace: the lab's namespace (``default`` on the sandbox, ``stsnb-lab`` on a real cluster).
        k8s_version, speed, seed: how the sandbox behaves.
        context, kubeconfig: which real cluster (``backend="kubeconfig"``).
        lang: ``"en"`` or ``"ko"`` for panels and displayed table headers.
        timeout_s: the deadline of each wait.
        storage_class: replaces ``sc-nfs`` in the guide's claim templates (a real cluster's class).
        cluster_domain: the DNS zone for expected FQDNs (``cluster.local``).
        sandbox: an already started :class:`~stsnb.sandbox.Sandbox` to use (tests); it is not stopped
            by :meth:`Lab.close`.
        env: the environment to read ``STSNB_*`` from (``os.environ`` by default).

    Raises:
        ConfigError: a setting, the kubeconfig file or the context is wrong.
        ClusterUnreachable: the real cluster does not answer.
        Forbidden: the namespace cannot be used (RBAC, or it is being deleted).
    """
    params = {"backend": backend, "namespace": namespace, "k8s_version": k8s_version, "speed": speed, "seed": seed,
              "context": context, "kubeconfig": kubeconfig, "lang": lang, "timeout_s": timeout_s,
              "storage_class": storage_class, "cluster_domain": cluster_domain}
    if sandbox is not None:
        if backend not in (None, "auto", "sandbox"):
            raise ConfigError(f"backend={backend!r} cannot be combined with sandbox=...",
                              hint="pass either a running sandbox or backend='kubeconfig', not both")
        params["backend"] = "sandbox"
    settings = Settings.from_sources(params, env)
    if sandbox is not None and backend is None:
        settings = dataclasses.replace(settings, backend_reason="a running sandbox was passed to connect()")
    if settings.backend == "sandbox":
        return _connect_sandbox(settings, sandbox)
    return _connect_kubeconfig(settings)


def _connect_sandbox(settings: Settings, existing: "Sandbox | None") -> "Lab":
    from .sandbox import Sandbox
    owns = existing is None
    if existing is None:
        sb = Sandbox(k8s_version=settings.sandbox.k8s_version, speed=settings.sandbox.speed,
                     seed=settings.sandbox.seed, dns_port=None)
        sb.start()
    else:
        sb = existing if existing.started else existing.start()
    kube = Kube(sb.api_client(), settings.namespace, context="stsnb-sandbox")
    speed = sb.clock.speed if hasattr(sb.clock, "speed") else settings.sandbox.speed
    created = _ensure_namespace(kube, settings.namespace)
    why = (f"the embedded sandbox cluster at {sb.url} (imitating Kubernetes v{sb.profile.version}, "
           f"time {speed:g}x faster than real), namespace {settings.namespace!r}"
           f"{' (created)' if created else ''}: {settings.backend_reason}")
    lab = Lab(kube, settings, why=why, sandbox=sb, owns_sandbox=owns, time_scale=float(speed))
    log.info("stsnb: %s", why)
    return lab


def _kubeconfig_path(settings: Settings) -> str:
    """The kubeconfig to read: the setting, else ``$KUBECONFIG`` (several files merge, as kubectl does), else ``~/.kube/config``."""
    if settings.cluster.kubeconfig:
        return settings.cluster.kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    if any(p for p in env.split(os.pathsep)):
        return os.pathsep.join(os.path.expanduser(p) for p in env.split(os.pathsep) if p)
    return os.path.expanduser("~/.kube/config")


def _connect_kubeconfig(settings: Settings) -> "Lab":
    from kubernetes import client, config
    path = _kubeconfig_path(settings)
    if not any(Path(p).is_file() for p in path.split(os.pathsep)):
        raise ConfigError(f"backend='kubeconfig' but there is no kubeconfig file at {str(path)!r}",
                          hint="point STSNB_KUBECONFIG (or kubeconfig=...) at one, create a cluster with "
                               "`kind create cluster`, or use the sandbox: stsnb.connect(backend='sandbox')")
    try:
        contexts, current = config.list_kube_config_contexts(str(path))
    except Exception as e:  # ConfigException, YAML errors
        raise ConfigError(f"cannot read the kubeconfig {str(path)!r}: {e}",
                          hint="check it with `kubectl config view`") from e
    names = [c["name"] for c in contexts or []]
    ctx = settings.cluster.context or (current or {}).get("name")
    if not ctx:
        raise ConfigError(f"the kubeconfig {str(path)!r} has no current context and none was given",
                          hint=f"pass context=... (one of {', '.join(names) or 'none defined'})")
    if ctx not in names:
        raise ConfigError(f"context {ctx!r} is not in the kubeconfig {str(path)!r}",
                          hint=f"available contexts: {', '.join(names) or 'none'}; see `kubectl config get-contexts`")
    cfg = client.Configuration()
    cfg.retries = 1
    try:
        api_client = config.new_client_from_config(config_file=str(path), context=ctx, persist_config=False,
                                                   client_configuration=cfg)
    except Exception as e:  # noqa: BLE001 - exec plugins, missing certificate files
        raise ConfigError(f"cannot use context {ctx!r} from {str(path)!r}: {e}",
                          hint=f"check that `kubectl --context {ctx} get ns` works") from e
    kube = Kube(api_client, settings.namespace, context=ctx)
    version = kube.version()
    created = _ensure_namespace(kube, settings.namespace)
    why = (f"a real cluster through the kubeconfig {str(path)!r}, context {ctx!r} ({kube.host}, Kubernetes "
           f"{version.get('gitVersion', '?')}), namespace {settings.namespace!r}{' (created)' if created else ''}: "
           f"{settings.backend_reason}")
    lab = Lab(kube, settings, why=why, time_scale=1.0)
    log.info("stsnb: %s", why)
    return lab


def _ensure_namespace(kube: Kube, name: str) -> bool:
    """Create the lab namespace if it is missing (labelled managed-by stsnb); True when created."""
    try:
        ns = kube.get("namespaces", name)
    except NotFound:
        try:
            kube.create({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": name, "labels": dict(_manifests.MANAGED_BY)}})
        except AlreadyExists:
            return False
        except Forbidden as e:
            raise Forbidden(f"namespace {name!r} does not exist and may not be created here: {e.message}",
                            hint="ask an admin to create it (`kubectl create namespace " + name + "`), or connect "
                                 "with namespace=... one you may use") from e
        return True
    except Forbidden as e:
        # many users may work inside a namespace without being allowed to read the Namespace object
        try:
            kube.call(kube.core.list_namespaced_pod, name, limit=1, action=f"list pods in namespace {name}")
        except Forbidden:
            raise Forbidden(f"namespace {name!r} may not be used with this context: {e.message}",
                            hint="ask for a Role in it, or connect with namespace=... one you may use") from e
        return False
    if (ns.get("metadata") or {}).get("deletionTimestamp"):
        raise Forbidden(f"namespace {name!r} is being deleted",
                        hint="wait until `kubectl get ns` no longer lists it, or connect with another namespace=...")
    return False


# ---------------------------------------------------------------------------- the lab

class Lab:
    """A cluster, a namespace and settings; every notebook step is a method call.

    Build it with :func:`connect`. Attributes: ``settings``, ``namespace``, ``why`` (which cluster
    and why), ``is_sandbox``, ``sandbox`` (the :class:`~stsnb.sandbox.Sandbox` or None), ``kube``
    (the API access), ``lang``.
    """

    def __init__(self, kube: Kube, settings: Settings, *, why: str, sandbox: "Sandbox | None" = None,
                 owns_sandbox: bool = False, time_scale: float = 1.0) -> None:
        self.kube = kube
        self.settings = settings
        self.why = why
        self.sandbox = sandbox
        self.time_scale = time_scale
        self._owns_sandbox = owns_sandbox
        self._finalizer = weakref.finalize(self, sandbox.stop) if (sandbox is not None and owns_sandbox) else None

    # ------------------------------------------------------------------ basics
    @property
    def namespace(self) -> str:
        return self.settings.namespace

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def timeout_s(self) -> float:
        return self.settings.timeout_s

    @property
    def core(self):
        """The official ``CoreV1Api`` bound to this cluster (for anything the lab does not wrap)."""
        return self.kube.core

    @property
    def apps(self):
        """The official ``AppsV1Api`` bound to this cluster."""
        return self.kube.apps

    def __repr__(self) -> str:
        return f"<stsnb.Lab {'sandbox' if self.is_sandbox else 'kubeconfig'} namespace={self.namespace!r}: {self.why}>"

    def close(self) -> None:
        """Stop the sandbox this lab started (a real cluster is left as it is)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def t(self, df: "pd.DataFrame") -> "pd.DataFrame":
        """A display copy of a table with headers in the lab's language (keys stay English in ``df``)."""
        return _tables.translate(df, self.lang)

    def style(self, df: "pd.DataFrame"):
        """A styled display of a table: translated headers, a colour per revision."""
        return _tables.style(df, self.lang)

    def try_(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; on a :class:`StsnbError` return its text as kubectl prints it (``error: …``) instead."""
        try:
            return fn()
        except StsnbError as e:
            return ErrorText(e)

    # ------------------------------------------------------------------ recording
    def record(self, target: str | None = None, *, selector: str | None = None, title: str | None = None) -> Recording:
        """A timeline of pod and StatefulSet events while a ``with`` block runs.

        ``target`` (a StatefulSet name or ``deployment/NAME``) limits it to that workload's pods;
        ``selector`` to pods with those labels. Use ``rec.frame``, ``rec.order("deleted")``, ``rec.plot()``.
        """
        statefulset = None
        if target:
            kind, name = parse_target(target)
            statefulset = name if kind.kind == "StatefulSet" else None
            title = title or name
            if not selector:
                obj = self.kube.find(kind, name)
                selector = label_selector_string((obj or {}).get("spec", {}).get("selector")) if obj else f"app={name}"
        return Recording(self.kube, self.namespace, label_selector=selector, time_scale=self.time_scale,
                         title=title, lang=self.lang, statefulset=statefulset)

    def _maybe_record(self, record: bool, target: str | None, fn: Callable[[], ActionResult], *,
                      selector: str | None = None) -> ActionResult:
        if not record:
            return fn()
        rec = self.record(target, selector=selector, title=parse_target(target)[1] if target else None)
        rec.start()
        try:
            result = fn()
        finally:
            rec.stop()
        result.recording = rec
        return result

    # ------------------------------------------------------------------ waiting
    def _timeout(self, timeout: float | None) -> float:
        return float(timeout) if timeout is not None else self.settings.timeout_s

    def wait_ready(self, target: str, *, timeout: float | None = None,
                   on_change: Callable[[View, Progress], None] | None = None) -> ActionResult:
        """Wait until a StatefulSet (or ``deployment/NAME``) has all replicas Ready and its rollout is done.

        Raises:
            ConditionFailed: one of its pods is stuck (ImagePullBackOff …): names the pod and the reason.
            WaitTimeout: names the condition and the last state seen.
        """
        kind, name = parse_target(target)
        obj = self.kube.get(kind, name)
        sel = label_selector_string((obj.get("spec") or {}).get("selector"))
        ns = self.namespace
        if kind.kind == "StatefulSet":
            specs = [WatchSpec("statefulsets", ns, field_selector=f"metadata.name={name}"),
                     WatchSpec("pods", ns, label_selector=sel or None)]
            if obj["spec"].get("volumeClaimTemplates"):
                specs.append(WatchSpec("persistentvolumeclaims", ns, label_selector=sel or None))
            check = statefulset_rollout(name)
            what = f"statefulset {name} to have {obj['spec'].get('replicas', 1)} Ready pods and its rollout complete"
        elif kind.kind == "Deployment":
            specs = [WatchSpec("deployments", ns, field_selector=f"metadata.name={name}"),
                     WatchSpec("replicasets", ns, label_selector=sel or None),
                     WatchSpec("pods", ns, label_selector=sel or None)]
            check = deployment_rollout(name)
            what = f"deployment {name} to roll out ({obj['spec'].get('replicas', 1)} available replicas)"
        else:
            raise ConfigError(f"wait_ready works on a StatefulSet or a Deployment, got {target!r}")
        _, prog = wait_for(self.kube, specs, check, timeout=self._timeout(timeout), condition=what,
                           on_change=on_change)
        return ActionResult([prog.state])

    # ------------------------------------------------------------------ apply
    def apply(self, source: Any, *, storage_class: str | None = None, wait: bool = False, record: bool = False,
              timeout: float | None = None) -> ActionResult:
        """``kubectl apply``: create each object, or update it; lines say ``created``/``configured``/``unchanged``.

        Args:
            source: a guide manifest name (:func:`stsnb.manifests.names`), YAML text, a path, a dict or a list.
            storage_class: replaces the claim templates' ``sc-nfs`` (default: the ``storage_class`` setting).
            wait: wait until applied StatefulSets/Deployments are ready.
            record: attach a timeline of what happened (``result.recording``).
        """
        objs = _manifests.parse(source)
        sc = storage_class or self.settings.storage_class
        if sc:
            objs = _manifests.with_storage_class(objs, sc)
        objs = _manifests.with_namespace(_manifests.managed(objs), self.namespace, cluster_scoped=_CLUSTER_KINDS)
        for o in objs:
            kind_of(o)
        self._check_storage_classes(objs)

        def run() -> ActionResult:
            result = ActionResult()
            for o in objs:
                line, out = self._apply_one(o)
                result.lines.append(line)
                result.objects.append(out)
                result.warnings.extend(getattr(self.kube, "last_warnings", []) or [])
            if wait:
                for o in objs:
                    if o["kind"] in ("StatefulSet", "Deployment"):
                        self.wait_ready(f"{o['kind'].lower()}/{o['metadata']['name']}", timeout=timeout)
            return result

        first = next((o for o in objs if o["kind"] in ("StatefulSet", "Deployment")), None)
        selector = label_selector_string((first or {}).get("spec", {}).get("selector")) or None if first else None
        return self._maybe_record(record, f"{first['kind'].lower()}/{first['metadata']['name']}" if first else None,
                                  run, selector=selector)

    def _check_storage_classes(self, objs: list[dict]) -> None:
        wanted = {}
        for o in objs:
            for vct in (o.get("spec") or {}).get("volumeClaimTemplates") or []:
                sc = (vct.get("spec") or {}).get("storageClassName")
                if sc:
                    wanted[sc] = o["metadata"]["name"]
        applied = {o["metadata"]["name"] for o in objs if o["kind"] == "StorageClass"}
        for sc, owner in wanted.items():
            try:
                if sc in applied or self.kube.find("storageclasses", sc) is not None:
                    continue
                existing = self.kube.list("storageclasses")
            except Forbidden:
                return  # this user may not read StorageClasses: the cluster will say it, as PVC events
            default = [s["metadata"]["name"] for s in existing if (s["metadata"].get("annotations") or {}).get(
                "storageclass.kubernetes.io/is-default-class") == "true"]
            names = ", ".join(s["metadata"]["name"] for s in existing) or "none"
            if self.is_sandbox:
                hint = f"apply it first: lab.apply({sc!r})" if sc in _manifests.names() else \
                    f"create it first (stsnb.manifests.storage_class({sc!r}))"
            else:
                hint = (f"{sc!r} needs a dynamic provisioner on this cluster. Either pass "
                        f"storage_class={default[0] if default else 'NAME'!r} (classes here: {names}), or create "
                        f"{sc!r} with your cluster's provisioner (kind: rancher.io/local-path; see "
                        "docs 'Run it yourself')")
            raise NotFound(f"StorageClass {sc!r}, named by the volumeClaimTemplates of {owner}, does not exist: "
                           "its PersistentVolumeClaims would stay Pending and its pods unscheduled", hint=hint)

    def _apply_one(self, obj: dict) -> tuple[str, dict]:
        k = kind_of(obj)
        name = obj["metadata"]["name"]
        ref = _ref(k, name)
        body = {key: v for key, v in obj.items() if key != "status"}
        applied = json.dumps(body, separators=(",", ":"), sort_keys=True)
        meta = body["metadata"]
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               "kubectl.kubernetes.io/last-applied-configuration": applied + "\n"}
        current = self.kube.find(k, name)
        if current is None:
            out = self.kube.create(body)
            return f"{ref} created", out
        if not _manifests.is_managed(current):
            if not k.namespaced:
                return f"{ref} unchanged (it exists and was not created by stsnb: left as it is)", current
            raise Forbidden(f"{ref} already exists in namespace {self.namespace!r} and was not created by stsnb "
                            "(it has no app.kubernetes.io/managed-by=stsnb label): stsnb leaves it alone",
                            hint=f"delete it yourself (`kubectl delete {k.ref} {name} -n {self.namespace}`) or "
                                 "connect to another namespace=...")
        old_applied = (current["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/last-applied-configuration")
        patch = json.loads(json.dumps(body))
        if old_applied:
            try:
                _merge_deletions(patch, _deletions(json.loads(old_applied), json.loads(applied)))
            except ValueError:
                pass
        out = self.kube.patch(k, name, patch)
        return f"{ref} {'unchanged' if _same_object(out, current) else 'configured'}", out

    # ------------------------------------------------------------------ actions
    def patch(self, target: str, patch: Any, *, type: str = "strategic", wait: bool = False, record: bool = False,
              timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl patch KIND/NAME -p PATCH`` (strategic merge by default; ``None`` deletes a key).

        Prints ``…/NAME patched`` or ``…/NAME patched (no change)``. With ``wait`` a StatefulSet or
        Deployment is awaited like :meth:`wait_ready` (a partitioned rollout is done once the pods at
        or above the partition are updated, as ``kubectl rollout status`` says).

        Args:
            type: ``"strategic"``, ``"merge"`` (RFC 7386) or ``"json"`` (RFC 6902, a list of operations).
        """
        types = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                 "json": "application/json-patch+json"}
        if type not in types:
            raise ConfigError(f"patch type {type!r} is not allowed", hint="choose 'strategic', 'merge' or 'json'")
        if isinstance(patch, str):
            try:
                patch = json.loads(patch)
            except ValueError:
                import yaml
                patch = yaml.safe_load(patch)
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)

        def run() -> ActionResult:
            out = self.kube.patch(kind, name, patch, content_type=types[type])
            same = _same_object(out, obj)
            result = ActionResult([f"{_ref(kind, name)} patched{' (no change)' if same else ''}"], [out])
            if wait and kind.kind in ("StatefulSet", "Deployment"):
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            return result
        return self._maybe_record(record, _ref(kind, name) if kind.kind in ("StatefulSet", "Deployment") else None,
                                  run)

    def scale(self, target: str, replicas: int, *, wait: bool = True, record: bool = False,
              timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl scale sts NAME --replicas=N`` (through the scale subresource), then wait for it."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ConfigError(f"replicas must be a whole number ≥ 0, got {replicas!r}")
        kind, name = parse_target(target)
        self._require_ours(kind, name)

        def run() -> ActionResult:
            self.kube.patch(kind, name, {"spec": {"replicas": replicas}},
                            content_type="application/merge-patch+json", sub="scale")
            result = ActionResult([f"{_ref(kind, name)} scaled"])
            if wait:
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def set_image(self, target: str, *, wait: bool = True, record: bool = False, timeout: float | None = None,
                  on_change: Callable | None = None, **images: str) -> ActionResult:
        """``kubectl set image sts/NAME CONTAINER=IMAGE``: patches only ``image`` (``imagePullPolicy`` stays).

        Prints nothing when the image is already set (kubectl's empty patch). Waits for the rollout,
        which ends early with :class:`~stsnb.errors.ConditionFailed` if a new pod cannot pull its image.
        """
        if not images:
            raise ConfigError("set_image needs CONTAINER=IMAGE, e.g. lab.set_image('nginx-stateful', nginx='nginx:1.21.1')")
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        pod_spec = obj["spec"]["template"]["spec"]
        patch_spec: dict[str, list] = {}
        changed = False
        for container, image in images.items():
            for field_ in ("initContainers", "containers"):
                found = next((c for c in pod_spec.get(field_) or [] if c.get("name") == container), None)
                if found is not None:
                    patch_spec.setdefault(field_, []).append({"image": image, "name": container})
                    changed = changed or found.get("image") != image
                    break
            else:
                raise NotFound(f'unable to find container named "{container}"',
                               hint="the containers are: " + ", ".join(c["name"] for c in pod_spec.get("containers") or []))
        if not changed:
            return ActionResult([])

        def run() -> ActionResult:
            self.kube.patch(kind, name, {"spec": {"template": {"spec": patch_spec}}})
            result = ActionResult([f"{_ref(kind, name)} image updated"])
            if wait:
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def rollback(self, target: str, to_revision: int | None = None, *, wait: bool = True, record: bool = False,
                 timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl rollout undo [--to-revision=N]``.

        For a StatefulSet: pick the revision (the second-highest when ``to_revision`` is None) and
        strategic-merge-patch the set with that ControllerRevision's ``data``; the controller then
        reuses the old revision (its hash comes back, its number becomes the highest).
        """
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if kind.kind == "StatefulSet":
            revs = self._owned("controllerrevisions", obj)
            revs.sort(key=lambda r: r.get("revision", 0))
            if to_revision in (None, 0):
                if len(revs) < 2:
                    raise NotFound("no last revision to roll back to",
                                   hint=f"statefulset {name} has {len(revs)} revision(s); change its template first")
                chosen = revs[-2]
            else:
                chosen = next((r for r in revs if r.get("revision") == to_revision), None)
                if chosen is None:
                    raise NotFound(f"unable to find specified revision {to_revision} in history",
                                   hint="see lab.revisions(" + repr(name) + ") for the revision numbers")
            data = chosen.get("data")
            if isinstance(data, str):
                data = json.loads(data)
            tpl = dict(((data or {}).get("spec") or {}).get("template") or {})
            tpl.pop("$patch", None)
            if _same_template(tpl, obj["spec"]["template"]):
                return ActionResult([f"{_ref(kind, name)} skipped rollback (current template already matches "
                                     f"revision {chosen.get('revision')})"])
            body = data
        elif kind.kind == "Deployment":
            rss = self._owned("replicasets", obj)
            def rnum(r: dict) -> int:
                return int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
            rss.sort(key=rnum)
            if to_revision in (None, 0):
                if len(rss) < 2:
                    raise NotFound("no rollout history found", hint=f"deployment {name} has not been updated yet")
                chosen = rss[-2]
            else:
                chosen = next((r for r in rss if rnum(r) == to_revision), None)
                if chosen is None:
                    raise NotFound(f"unable to find specified revision {to_revision} in history")
            tpl = json.loads(json.dumps(chosen["spec"]["template"]))
            (tpl.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
            if _same_template(tpl, obj["spec"]["template"]):
                return ActionResult([f"{_ref(kind, name)} skipped rollback (current template already matches "
                                     f"revision {rnum(chosen)})"])
            body = {"spec": {"template": {**tpl, "$patch": "replace"}}}
        else:
            raise ConfigError(f"rollback works on a StatefulSet or a Deployment, got {target!r}")

        def run() -> ActionResult:
            self.kube.patch(kind, name, body)
            result = ActionResult([f"{_ref(kind, name)} rolled back"])
            if wait:
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def restart(self, target: str, *, wait: bool = True, record: bool = False, timeout: float | None = None,
                on_change: Callable | None = None) -> ActionResult:
        """``kubectl rollout restart``: set the template annotation ``kubectl.kubernetes.io/restartedAt``."""
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        now = datetime.now().astimezone().replace(microsecond=0)
        stamp = now.isoformat().replace("+00:00", "Z") if now.utcoffset() == timezone.utc.utcoffset(None) \
            else now.isoformat()
        anns = ((obj["spec"]["template"].get("metadata") or {}).get("annotations") or {})
        if anns.get("kubectl.kubernetes.io/restartedAt") == stamp:
            raise Conflict(f"failed to create patch for {name}: if restart has already been triggered within the past "
                           "second, please wait before attempting to trigger another",
                           hint="run the step again in a second")

        def run() -> ActionResult:
            self.kube.patch(kind, name, {"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": stamp}}}}})
            result = ActionResult([f"{_ref(kind, name)} restarted"])
            if wait:
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def delete_pod(self, name: str, *, wait_recreated: bool = True, grace: int | None = None, record: bool = False,
                   timeout: float | None = None) -> PodReplacement:
        """Delete a pod and (by default) wait for its controller to replace it; compare old and new.

        A StatefulSet brings back a pod with the same name (and claims); a Deployment's ReplicaSet
        makes one with a new random name. ``result.frame`` shows both side by side.
        """
        pod = self._require_ours(resolve_kind("pod"), name)
        owner = pod_owner(pod) or {}
        labels = pod["metadata"].get("labels") or {}
        siblings = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        before = {p["metadata"]["uid"] for p in self.kube.list("pods", label_selector=siblings)} \
            if owner.get("kind") == "ReplicaSet" else set()

        def run() -> PodReplacement:
            self.kube.delete("pods", name, grace=grace)
            res = PodReplacement([f'pod "{name}" deleted'], old_name=name, old_uid=pod["metadata"]["uid"],
                                 old_ip=(pod.get("status") or {}).get("podIP"), old_node=pod["spec"].get("nodeName"))
            new = None
            if wait_recreated and owner.get("kind") == "StatefulSet":
                view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={name}")],
                                   pod_replaced(name, res.old_uid), timeout=self._timeout(timeout),
                                   condition=f"pod {name} to be re-created by statefulset {owner.get('name')} and Ready")
                new = view.get("pods", name)
            elif wait_recreated and owner.get("kind") == "ReplicaSet":
                new = self._wait_replacement_in_replicaset(pod, owner, before, siblings, timeout)
            elif wait_recreated:
                wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={name}")],
                         all_gone({"pods": {res.old_uid}}), timeout=self._timeout(timeout),
                         condition=f"pod {name} to be gone")
            if new is not None:
                res.new_name, res.new_uid = new["metadata"]["name"], new["metadata"]["uid"]
                res.new_ip, res.new_node = (new.get("status") or {}).get("podIP"), new["spec"].get("nodeName")
            res.frame = _replacement_frame(pod, new)
            return res
        return self._maybe_record(record, f"{owner.get('kind', 'statefulset').lower()}/{owner.get('name', '')}"
                                  if owner.get("kind") == "StatefulSet" else None, run)  # type: ignore[return-value]

    def _wait_replacement_in_replicaset(self, pod: dict, owner: dict, before: set[str], sel: str,
                                        timeout: float | None) -> dict | None:
        rs_uid = owner.get("uid")

        def check(view: View) -> Progress:
            fresh = [p for p in view.items("pods") if p["metadata"]["uid"] not in before
                     and (pod_owner(p) or {}).get("uid") == rs_uid]
            if fresh and all(pod_ready(p) for p in fresh):
                return Progress(True, f"pod {fresh[0]['metadata']['name']} replaced it")
            return Progress(False, f"replicaset {owner.get('name')}: " + (
                f"new pod {fresh[0]['metadata']['name']} is {pod_status(fresh[0])}" if fresh
                else "no replacement pod yet"))
        view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, label_selector=sel)], check,
                           timeout=self._timeout(timeout),
                           condition=f"replicaset {owner.get('name')} to replace pod {pod['metadata']['name']}")
        fresh = [p for p in view.items("pods") if p["metadata"]["uid"] not in before
                 and (pod_owner(p) or {}).get("uid") == rs_uid]
        return fresh[0] if fresh else None

    def create_headless_service(self, name: str, tcp: str = "80:80") -> ActionResult:
        """``kubectl create service clusterip NAME --tcp=80:80 --clusterip=None`` (selector ``app=NAME``)."""
        obj = _manifests.managed(_manifests.clusterip_service(name, tcp=tcp, cluster_ip="None"))[0]
        obj["metadata"]["namespace"] = self.namespace
        try:
            out = self.kube.create(obj)
        except AlreadyExists as e:
            raise AlreadyExists(f'failed to create ClusterIP service: services "{name}" already exists',
                                hint="it was created before: `lab.delete('service/" + name + "')` or `lab.reset()`") from e
        return ActionResult([f"service/{name} created"], [out])

    def expose(self, target: str, *, port: int = 80, target_port: int | None = None, name: str | None = None,
               type: str = "ClusterIP") -> ActionResult:
        """``kubectl expose``: a Service for a Deployment, ReplicaSet, Pod or Service; refuses other kinds.

        Raises:
            CannotExpose: for a StatefulSet, with kubectl's exact text ``cannot expose a StatefulSet.apps``.
        """
        kind, obj_name = parse_target(target)
        if kind.kind not in ("Deployment", "ReplicaSet", "Pod", "Service"):
            group_kind = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
            raise CannotExpose(f"cannot expose a {group_kind}", hint=(
                "a StatefulSet's pods can still sit behind a Service: create one whose selector matches "
                f"them, e.g. lab.create_headless_service({obj_name!r}) or lab.apply('nginx-stateful-headless-svc')"))
        obj = self.kube.get(kind, obj_name)
        svc = _manifests.managed(_manifests.expose_service(obj, port=port, target_port=target_port, name=name,
                                                           type=type))[0]
        svc["metadata"]["namespace"] = self.namespace
        out = self.kube.create(svc)
        return ActionResult([f"service/{svc['metadata']['name']} exposed"], [out])

    def delete(self, target: str, *, cascade: str = "background", wait: bool = True, record: bool = False,
               timeout: float | None = None) -> ActionResult:
        """``kubectl delete KIND/NAME [--cascade=background|orphan|foreground]``, waiting until it is gone."""
        policies = {"background": "Background", "orphan": "Orphan", "foreground": "Foreground"}
        if cascade not in policies:
            raise ConfigError(f"cascade={cascade!r} is not allowed", hint="choose 'background', 'orphan' or 'foreground'")
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if record:
            sel = label_selector_string((obj.get("spec") or {}).get("selector")) or None
            return self._maybe_record(True, None, lambda: self.delete(target, cascade=cascade, wait=wait,
                                                                     timeout=timeout), selector=sel)
        dependents = self._dependents([(kind.plural, obj)]) if cascade != "orphan" and kind.namespaced else []
        self.kube.delete(kind, name, propagation=policies[cascade])
        if wait:
            uids: dict[str, set[str]] = {kind.plural: {obj["metadata"]["uid"]}}
            for plural, o, _ in dependents:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            wait_for(self.kube, [WatchSpec(p, self.namespace if resolve_kind(p).namespaced else None) for p in uids],
                     all_gone(uids), timeout=self._timeout(timeout),
                     condition=f"{_ref(kind, name)} to be deleted"
                               f"{' with its ' + ', '.join(sorted(p for p in uids if p != kind.plural)) if len(uids) > 1 else ''}")
        return ActionResult([f'{kind.ref} "{name}" deleted'], [obj])

    def _dependents(self, owners_: list[tuple[str, dict]]) -> list[tuple[str, dict, str]]:
        """What the cluster garbage-collects with these objects: ``(plural, object, owner ref)``, transitively."""
        owners = {o["metadata"]["uid"]: f"{resolve_kind(p).ref}/{o['metadata']['name']}" for p, o in owners_}
        out: list[tuple[str, dict, str]] = []
        if not owners:
            return out
        pool = {p: self.kube.list(p, self.namespace) for p in DEPENDENT_KINDS}
        changed = True
        while changed:
            changed = False
            for plural, items in pool.items():
                for o in items:
                    uid = o["metadata"]["uid"]
                    if uid in owners:
                        continue
                    for ref in o["metadata"].get("ownerReferences") or []:
                        if ref.get("uid") in owners:
                            owners[uid] = owners[ref["uid"]]
                            out.append((plural, o, owners[ref["uid"]]))
                            changed = True
                            break
        return out

    def nslookup(self, query: str, *, image: str = "busybox", timeout: float | None = None) -> DnsLookup:
        """Run ``nslookup QUERY`` in a busybox pod, as the guide's ``kubectl run dnsquery …`` does.

        The pod (``restartPolicy: Never``, labelled managed-by) runs once; its log is read, the pod is
        deleted, and the answer is parsed: ``result.answers`` holds the names (reverse lookup of an
        IP) or addresses (forward lookup), ``result.output`` busybox's own text.
        """
        pod_name = "dnsquery"
        old = self.kube.find("pods", pod_name)
        if old is not None:
            self._require_ours(resolve_kind("pod"), pod_name, obj=old)
            self.kube.delete("pods", pod_name, grace=0)
            wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                     all_gone({"pods": {old["metadata"]["uid"]}}), timeout=self._timeout(timeout),
                     condition=f"the previous pod {pod_name} to be gone")
        obj = _manifests.managed(_manifests.dns_query_pod(query, image=image, name=pod_name))[0]
        obj["metadata"]["namespace"] = self.namespace
        created = self.kube.create(obj)
        try:
            view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                               pod_finished(pod_name), timeout=self._timeout(timeout),
                               condition=f"pod {pod_name} (nslookup {query}) to finish")
            pod = view.get("pods", pod_name) or created
            output = self.kube.log(pod_name)
        finally:
            try:
                self.kube.delete("pods", pod_name, grace=0)
                wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                         all_gone({"pods": {created["metadata"]["uid"]}}), timeout=self._timeout(timeout),
                         condition=f"pod {pod_name} to be deleted")
            except NotFound:
                pass
        code = None
        for s in (pod.get("status") or {}).get("containerStatuses") or []:
            term = (s.get("state") or {}).get("terminated")
            if term is not None:
                code = term.get("exitCode")
        server, answers = parse_nslookup(output, query)
        return DnsLookup(query=query, answers=answers, output=output, exit_code=code, server=server, pod=pod_name)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self, *, timeout: float | None = None, wait: bool = True) -> "pd.DataFrame":
        """Delete what stsnb created in this namespace, and wait until it is gone.

        Only objects labelled ``app.kubernetes.io/managed-by=stsnb`` in the lab's namespace are
        deleted (background propagation: the cluster removes their pods, ReplicaSets and
        ControllerRevisions, and the wait covers those too). Nothing else is touched: not other
        namespaces, not unlabelled objects, not cluster-scoped objects such as a StorageClass.

        Returns:
            A DataFrame ``kind, name, via``: one row per deleted object; ``via`` names the labelled
            owner for what went with it.
        """
        import pandas as pd
        ns = self.namespace
        labelled: list[tuple[str, dict]] = []
        for plural in CLEANUP_KINDS:
            for o in self.kube.list(plural, ns, label_selector=_manifests.MANAGED_SELECTOR):
                meta = o.get("metadata") or {}
                if meta.get("namespace") == ns and _manifests.is_managed(o):
                    labelled.append((plural, o))
        dependents = self._dependents(labelled)
        rows = []
        for plural, o in labelled:
            try:
                self.kube.delete(plural, o["metadata"]["name"], propagation="Background")
            except NotFound:
                pass
            rows.append({"kind": resolve_kind(plural).kind, "name": o["metadata"]["name"], "via": None})
        for plural, o, via in dependents:
            rows.append({"kind": resolve_kind(plural).kind, "name": o["metadata"]["name"], "via": via})
        if wait and (labelled or dependents):
            uids: dict[str, set[str]] = {}
            for plural, o in labelled:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            for plural, o, _ in dependents:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            wait_for(self.kube, [WatchSpec(p, ns) for p in uids], all_gone(uids), timeout=self._timeout(timeout),
                     condition=f"what stsnb created in namespace {ns!r} to be deleted",
                     hint="something holds on to it (a finalizer, or a pod that does not terminate): see "
                          "`lab.events()`; run `lab.cleanup()` again to retry")
        return pd.DataFrame(rows, columns=["kind", "name", "via"])

    def reset(self, *, timeout: float | None = None) -> ActionResult:
        """A clean start: :meth:`cleanup`, with kubectl-like lines (``statefulset.apps "x" deleted``)."""
        import pandas as pd
        df = self.cleanup(timeout=timeout)
        lines = [f'{resolve_kind(r.kind).ref} "{r.name}" deleted' for r in df.itertuples() if pd.isna(r.via)]
        if not lines:
            lines = [f"clean: nothing created by stsnb in namespace {self.namespace!r}"]
        return ActionResult(lines, frame=None)

    # ------------------------------------------------------------------ ownership
    def _require_ours(self, kind: Kind, name: str, obj: dict | None = None) -> dict:
        obj = obj or self.kube.get(kind, name)
        if self._is_ours(obj):
            return obj
        raise Forbidden(f"{_ref(kind, name)} was not created by stsnb (no app.kubernetes.io/managed-by=stsnb label, "
                        "and no owner with it): the lab does not change it",
                        hint="act on it with kubectl yourself if you mean to")

    def _is_ours(self, obj: dict, depth: int = 0) -> bool:
        if _manifests.is_managed(obj):
            return True
        if depth >= 3:
            return False
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            try:
                kind = resolve_kind(ref.get("kind", ""))
            except ConfigError:
                continue
            owner = self.kube.find(kind, ref.get("name", ""))
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid") and self._is_ours(owner, depth + 1):
                return True
        return False

    def _owned(self, plural: str, owner: dict) -> list[dict]:
        sel = label_selector_string((owner.get("spec") or {}).get("selector"))
        uid = owner["metadata"]["uid"]
        return [o for o in self.kube.list(plural, label_selector=sel or None)
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]

    def _workload_pods(self, obj: dict) -> list[dict]:
        sel = label_selector_string((obj.get("spec") or {}).get("selector"))
        pods = self.kube.list("pods", label_selector=sel or None)
        if obj.get("kind") == "StatefulSet":
            return [p for p in pods if (pod_owner(p) or {}).get("uid") == obj["metadata"]["uid"]]
        rs_uids = {r["metadata"]["uid"] for r in self._owned("replicasets", obj)}
        return [p for p in pods if (pod_owner(p) or {}).get("uid") in rs_uids]

    # ------------------------------------------------------------------ tables
    def pods(self, selector: str | None = None) -> "pd.DataFrame":
        """Pods: ``name, ordinal, phase, ready, ip, node, revision, image, status``, rows by ordinal."""
        return _tables.pods(self.kube.list("pods", label_selector=selector))

    def labels(self, selector: str | None = None) -> "pd.DataFrame":
        """Every pod's labels: one row per pod, one column per label key."""
        return _tables.labels(self.kube.list("pods", label_selector=selector))

    def revisions(self, target: str = "nginx-stateful") -> "pd.DataFrame":
        """A StatefulSet's ControllerRevisions: ``name, revision, hash, image, current, update, pods``."""
        kind, name = parse_target(target)
        sts = self.kube.get(kind, name)
        return _tables.revisions(self._owned("controllerrevisions", sts), sts, self._workload_pods(sts))

    def statefulsets(self) -> "pd.DataFrame":
        """The namespace's StatefulSets with READY, revisions and strategy."""
        return _tables.statefulsets(self.kube.list("statefulsets"))

    def services(self, selector: str | None = None) -> "pd.DataFrame":
        """Services: ``name, type, cluster_ip, ports, selector`` (``cluster_ip`` is ``"None"`` when headless)."""
        return _tables.services(self.kube.list("services", label_selector=selector))

    def volumes(self, selector: str | None = None) -> "pd.DataFrame":
        """Each pod's volumes: ``pod, volume, source, claim, mount_path`` (what the controller filled in)."""
        return _tables.volumes(self.kube.list("pods", label_selector=selector))

    def dns_names(self, selector: str | None = None, *, lookup: bool = True, image: str = "busybox") -> "pd.DataFrame":
        """Each pod's DNS identity: ``pod, ip, hostname, subdomain, fqdn, reverse, owner``.

        ``fqdn`` is what cluster DNS should answer for the pod's IP; with ``lookup`` each IP is also
        looked up for real in a busybox pod (``reverse``), so the two can be compared. Select a
        Deployment and a StatefulSet together (``"app in (test-deploy, nginx-stateful)"``) to see
        them side by side.
        """
        pod_items = [p for p in self.kube.list("pods", label_selector=selector)
                     if (p["metadata"].get("labels") or {}).get("run") != "dnsquery"]
        reverse = None
        if lookup:
            reverse = {}
            for p in pod_items:
                ip = (p.get("status") or {}).get("podIP")
                if ip and ip not in reverse:
                    reverse[ip] = self.nslookup(ip, image=image).answers
            pod_items = [p for p in self.kube.list("pods", label_selector=selector)
                         if (p["metadata"].get("labels") or {}).get("run") != "dnsquery"]
        return _tables.dns_names(pod_items, self.kube.list("services"), self.namespace,
                                 self.settings.cluster.cluster_domain, reverse, self.kube.list("replicasets"))

    def pvcs(self, selector: str | None = None) -> "pd.DataFrame":
        """Claims: ``claim, pod, volume, capacity, access_modes, storage_class, status`` (+ ``ordinal, in_use``)."""
        return _tables.pvcs(self.kube.list("persistentvolumeclaims", label_selector=selector),
                            self.kube.list("pods"), self.kube.list("statefulsets"))

    def compare(self, *targets: str) -> "pd.DataFrame":
        """Side-by-side facts, e.g. ``lab.compare("deployment/test-deploy", "statefulset/nginx-stateful")``."""
        if not targets:
            targets = ("deployment/test-deploy", "statefulset/nginx-stateful")
        services = self.kube.list("services")
        subjects = []
        for t in targets:
            kind, name = parse_target(t)
            obj = self.kube.get(kind, name)
            subject = {"ref": f"{kind.kind.lower()}/{name}", "object": obj, "pods": self._workload_pods(obj),
                       "services": services}
            if kind.kind == "Deployment":
                subject["replicasets"] = self._owned("replicasets", obj)
            if kind.kind == "StatefulSet":
                prefixes = [f"{t_['metadata']['name']}-{name}-" for t_ in obj["spec"].get("volumeClaimTemplates") or []]
                subject["claims"] = [c for c in self.kube.list("persistentvolumeclaims")
                                     if any(c["metadata"]["name"].startswith(p) for p in prefixes)]
            subjects.append(subject)
        return _tables.compare(subjects)

    def events(self, name: str | None = None) -> "pd.DataFrame":
        """Kubernetes Events in the namespace (for ``name``: that object and the pods/claims named after it)."""
        items = self.kube.list("events")
        if name:
            items = [e for e in items if (e.get("involvedObject") or {}).get("name", "") == name
                     or (e.get("involvedObject") or {}).get("name", "").startswith(name + "-")]
        return _tables.events(items)

    def kubectl_get(self, kinds: str, selector: str | None = None, *, wide: bool = False) -> Text:
        """``kubectl get KINDS [-l SELECTOR] [-o wide]`` as text, from the server's own Tables."""
        words = [w for w in kinds.split(",") if w.strip()]
        many = len(words) > 1
        sections = []
        for w in words:
            k = resolve_kind(w)
            tbl = self.kube.table(k, label_selector=selector)
            if not tbl.get("rows"):
                continue
            sections.append(_render_table(tbl, prefix=f"{k.ref}/" if many else "", wide=wide))
        if not sections:
            where = f"in {self.namespace} namespace" if resolve_kind(words[0]).namespaced else ""
            return Text(f"No resources found {where}.".replace("  ", " ").replace(" .", "."))
        return Text("\n\n".join(sections))


class ErrorText(Text):
    """The text of an error as kubectl prints it (``error: …``); ``.error`` holds the exception."""

    error: StsnbError

    def __new__(cls, error: StsnbError) -> "ErrorText":
        msg = error.message
        obj = super().__new__(cls, msg if msg.startswith("error:") else f"error: {msg}")
        obj.error = error
        return obj


def _render_table(tbl: dict, *, prefix: str = "", wide: bool = False) -> str:
    """kubectl's table printer: upper-case headers, tabwriter (minwidth 6, padding 3), last column unpadded."""
    cols = [(i, c) for i, c in enumerate(tbl.get("columnDefinitions") or []) if wide or c.get("priority", 0) == 0]
    lines = [[c["name"].upper() for _, c in cols]]
    for row in tbl.get("rows") or []:
        line = []
        for n, (i, c) in enumerate(cols):
            cell = row["cells"][i] if i < len(row.get("cells") or []) else ""
            text = "" if cell is None else ("true" if cell is True else "false" if cell is False else str(cell))
            if "\n" in text:
                text = text[: text.index("\n")] + "..."
            if prefix and n == 0 and c.get("format") == "name":
                text = prefix + text
            line.append(text)
        lines.append(line)
    widths = [max(6, max(len(line[j]) for line in lines) + 3) for j in range(len(cols) - 1)]
    return "\n".join("".join(cell.ljust(widths[j]) if j < len(widths) else cell for j, cell in enumerate(line)).rstrip()
                     for line in lines)


def _replacement_frame(old: dict, new: dict | None) -> "pd.DataFrame":
    import pandas as pd

    def row(when: str, p: dict | None) -> dict:
        if p is None:
            return {"when": when, "name": None, "uid": None, "ip": None, "node": None, "hostname": None, "claims": None}
        claims = [v["persistentVolumeClaim"]["claimName"] for v in p["spec"].get("volumes") or []
                  if v.get("persistentVolumeClaim")]
        return {"when": when, "name": p["metadata"]["name"], "uid": p["metadata"]["uid"],
                "ip": (p.get("status") or {}).get("podIP"), "node": p["spec"].get("nodeName"),
                "hostname": p["spec"].get("hostname") or p["metadata"]["name"], "claims": ", ".join(claims) or None}
    return pd.DataFrame([row("before", old), row("after", new)],
                        columns=["when", "name", "uid", "ip", "node", "hostname", "claims"])


def _same_object(a: dict, b: dict) -> bool:
    """Whether a write left the object as it was (controllers' status writes and resourceVersion aside)."""
    def norm(o: dict) -> dict:
        o = {k: v for k, v in o.items() if k != "status"}
        o["metadata"] = {k: v for k, v in (o.get("metadata") or {}).items()
                         if k not in ("resourceVersion", "managedFields")}
        return o
    return norm(a) == norm(b)


def _same_template(a: dict, b: dict) -> bool:
    def norm(t: dict) -> dict:
        t = json.loads(json.dumps(t))
        t.pop("$patch", None)
        meta = t.get("metadata") or {}
        if meta.get("creationTimestamp") is None:
            meta.pop("creationTimestamp", None)
        t["metadata"] = meta
        return t
    return norm(a) == norm(b)


def _deletions(old: Any, new: Any) -> dict:
    """Keys present in the previous last-applied configuration and absent now, as ``null`` patch entries."""
    out: dict[str, Any] = {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return out
    for key, value in old.items():
        if key not in new:
            out[key] = None
        elif isinstance(value, dict) and isinstance(new[key], dict):
            sub = _deletions(value, new[key])
            if sub:
                out[key] = sub
    return out


def _merge_deletions(patch: dict, deletions: dict) -> None:
    for key, value in deletions.items():
        if value is None:
            patch.setdefault(key, None)
        elif isinstance(patch.get(key), dict):
            _merge_deletions(patch[key], value)
