"""The lab's access to one cluster through the official ``kubernetes`` client; plain dicts in and out.

:class:`Kube` sends every request through the official client's ``ApiClient``
(the same configuration, authentication, TLS and proxies as for any client
program), with paths built from the one kind table (:mod:`stsnb.k8s.kinds`).
It never asks the client to build typed models: objects stay exactly as the
server sent them, and the lab does not pay for loading the client's hundreds
of model classes. Every ``ApiException`` is translated into :mod:`stsnb.errors`
with the cause chained.

Kinds are named the way kubectl names them: ``resolve_kind("sts")``,
``resolve_kind("statefulsets.apps")`` and ``resolve_kind("StatefulSet")`` are
the same :class:`~stsnb.k8s.kinds.KindInfo`.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from .errors import ClusterUnreachable, ConfigError, StsnbError, from_api_exception
from .k8s.kinds import KINDS, KindInfo

__all__ = ["Kube", "Kind", "KINDS", "resolve_kind", "kind_of", "parse_target", "ref", "is_transport_error"]

#: The lab's name for a kind entry.
Kind = KindInfo

_BY_WORD: dict[str, KindInfo] = {}
for _k in KINDS:
    for _w in (_k.kind.lower(), _k.plural, _k.ref, _k.group_resource, *_k.short_names):
        _BY_WORD[_w] = _k


def resolve_kind(word: str) -> KindInfo:
    """``"sts"``, ``"statefulset"``, ``"statefulsets.apps"``, ``"StatefulSet"`` → the kind."""
    k = _BY_WORD.get(str(word).strip().lower())
    if k is None:
        raise ConfigError(f"unknown resource type {word!r}",
                          hint=f"use one of: {', '.join(sorted({x.kind.lower() for x in KINDS}))} (or sts, svc, po, pvc …)")
    return k


def kind_of(obj: dict, allowed: tuple[str, ...] | None = None) -> KindInfo:
    """The kind of a manifest object, by its ``apiVersion`` and ``kind``; ``allowed`` limits the kinds."""
    for k in KINDS:
        if k.kind == obj.get("kind") and k.api_version == obj.get("apiVersion") and (
                allowed is None or k.kind in allowed):
            return k
    meta = obj.get("metadata") or {}
    what = f"{obj.get('apiVersion')}/{obj.get('kind')}" + (f" {meta.get('name')!r}" if meta.get("name") else "")
    kinds = ", ".join(allowed or sorted(k.kind for k in KINDS))
    raise ConfigError(f"stsnb cannot apply {what}", hint=f"the lab applies these kinds: {kinds}")


def parse_target(target: str, default: str = "statefulset") -> tuple[KindInfo, str]:
    """``"nginx-stateful"`` → (StatefulSet, name); ``"deployment/test-deploy"``, ``"sts/x"``, ``"pod/x"`` likewise."""
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"expected an object name like 'nginx-stateful' or 'deployment/test-deploy', got {target!r}")
    word, sep, name = target.strip().partition("/")
    if not sep:
        return resolve_kind(default), word
    return resolve_kind(word), name


def ref(kind: KindInfo, name: str) -> str:
    """kubectl's way of naming an object in output: ``statefulset.apps/nginx-stateful``."""
    return f"{kind.ref}/{name}"


def is_transport_error(e: BaseException) -> bool:
    import urllib3
    return isinstance(e, (urllib3.exceptions.HTTPError, ConnectionError, OSError, TimeoutError))


def _header_values(resp: Any, name: str) -> list[str]:
    headers = getattr(resp, "headers", None)
    if headers is None:
        return []
    getlist = getattr(headers, "getlist", None) or getattr(headers, "get_all", None)
    if getlist is not None:
        try:
            return list(getlist(name) or [])
        except Exception:  # noqa: BLE001 - a header object without multi-value access
            return []
    v = headers.get(name)
    return [v] if v else []


class Kube:
    """One cluster, one default namespace, through an official-client ``ApiClient``.

    Args:
        api_client: a configured ``kubernetes.client.ApiClient`` (from a kubeconfig, or the sandbox's).
        namespace: the namespace of namespaced calls that name none.
        context: the kubeconfig context, named in error messages.
        request_timeout: seconds before a (non-watch) request gives up.
    """

    def __init__(self, api_client: Any, namespace: str, *, context: str | None = None,
                 request_timeout: float = 30.0) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.context = context
        self.request_timeout = request_timeout
        self.last_warnings: list[str] = []
        #: The sandbox serving this lab from the same process, if it is one (``None`` on a real cluster):
        #: the lab's watches then acknowledge what they acted on (:class:`stsnb.watching.Multiwatch`).
        self.waiter: Any = None

    @property
    def host(self) -> str:
        return getattr(self.api_client.configuration, "host", "?")

    # ---- plumbing
    def request(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
                content_type: str | None = None, accept: str = "application/json", timeout: Any = None,
                action: str, target: str = "", headers: dict[str, str] | None = None) -> Any:
        """Send one request; return the raw urllib3 response (2xx) or raise a :class:`StsnbError`."""
        from kubernetes.client.exceptions import ApiException
        headers = {**(headers or {}), "Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        params = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        try:
            req = self.api_client.param_serialize(method, path, query_params=params, header_params=headers,
                                                  body=body, auth_settings=["BearerToken"])
            resp = self.api_client.call_api(*req, _request_timeout=timeout or self.request_timeout)
            if not 200 <= resp.status <= 299:
                resp.read()
                raise ApiException.from_response(http_resp=resp, body=None, data=None)
        except ApiException as e:
            if not getattr(e, "status", 0):
                raise self._unreachable(action, e) from e
            raise from_api_exception(e, action=action, target=target, namespace=self.namespace,
                                     context=self.context) from e
        except StsnbError:
            raise
        except Exception as e:  # urllib3 connection errors, timeouts, sockets
            if is_transport_error(e):
                raise self._unreachable(action, e) from e
            raise
        return resp.response

    def call(self, method: str, path: str, *, raw: bool = False, **kw: Any) -> Any:
        """:meth:`request`, then the body as parsed JSON (or text with ``raw``); keeps ``Warning`` headers."""
        resp = self.request(method, path, **kw)
        data = resp.data
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

    def _path(self, k: KindInfo, name: str | None = None, namespace: str | None = None, sub: str = "") -> str:
        return k.path(namespace or self.namespace if k.namespaced else None, name, sub)

    @staticmethod
    def _typed(k: KindInfo, obj: dict) -> dict:
        obj.setdefault("apiVersion", k.api_version)
        obj.setdefault("kind", k.kind)
        return obj

    # ---- verbs
    def get(self, kind: KindInfo | str, name: str, namespace: str | None = None) -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        return self._typed(k, self.call("GET", self._path(k, name, namespace), action=f"get {ref(k, name)}",
                                        target=ref(k, name)))

    def find(self, kind: KindInfo | str, name: str, namespace: str | None = None) -> dict | None:
        from .errors import NotFound
        try:
            return self.get(kind, name, namespace)
        except NotFound:
            return None

    def list_raw(self, kind: KindInfo | str, namespace: str | None = None, *, label_selector: str | None = None,
                 field_selector: str | None = None) -> tuple[list[dict], str]:
        """``(items, resourceVersion)``; items get their ``apiVersion`` and ``kind`` filled in."""
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        doc = self.call("GET", self._path(k, None, namespace), action=f"list {k.plural}",
                        query={"labelSelector": label_selector or None, "fieldSelector": field_selector or None})
        items = [self._typed(k, o) for o in doc.get("items") or []]
        return items, str((doc.get("metadata") or {}).get("resourceVersion") or "")

    def list(self, kind: KindInfo | str, namespace: str | None = None, **kw: Any) -> list[dict]:
        return self.list_raw(kind, namespace, **kw)[0]

    def stream(self, kind: KindInfo | str, namespace: str | None, *, watcher: Any, label_selector: str | None = None,
               field_selector: str | None = None, resource_version: str | None = None,
               timeout_seconds: int = 60, waiter_token: str | None = None) -> Iterator[tuple[str, dict]]:
        """Watch events ``(type, object)`` from ``resource_version``, through the client's ``watch.Watch``.

        One request (``timeoutSeconds`` is always given, so the client never re-requests by itself).
        ``waiter_token`` names it as one of the lab's acknowledging streams (see :attr:`waiter`).
        """
        from kubernetes.client.exceptions import ApiException
        extra = {self.waiter.WAITER_HEADER: waiter_token} if waiter_token and self.waiter is not None else None
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        path = self._path(k, None, namespace)

        def list_watch(**kw: Any) -> Any:  # what Watch.stream calls: watch=True, resource_version=… added
            query = {"watch": "true" if kw.get("watch") else None, "labelSelector": label_selector,
                     "fieldSelector": field_selector, "resourceVersion": kw.get("resource_version"),
                     "allowWatchBookmarks": "true" if kw.get("resource_version") else None,
                     "timeoutSeconds": int(timeout_seconds)}
            return self.request("GET", path, query=query, timeout=(10, int(timeout_seconds) + 15),
                                action=f"watch {k.plural}", headers=extra)

        kw: dict[str, Any] = {"timeout_seconds": int(timeout_seconds)}
        if resource_version:
            kw["resource_version"] = resource_version
        try:
            for ev in watcher.stream(list_watch, **kw):
                obj = ev.get("raw_object", ev.get("object"))
                if isinstance(obj, dict):
                    self._typed(k, obj)
                yield ev["type"], obj
        except ApiException as e:
            if getattr(e, "status", 0) == 410:
                raise
            raise from_api_exception(e, action=f"watch {k.plural}", namespace=self.namespace,
                                     context=self.context) from e

    def create(self, obj: dict, kind: KindInfo | None = None) -> dict:
        k = kind or kind_of(obj)
        meta = obj.get("metadata") or {}
        name = meta.get("name") or meta.get("generateName", "")
        return self._typed(k, self.call("POST", self._path(k, None, meta.get("namespace")), body=obj,
                                        action=f"create {ref(k, name)}", target=ref(k, name)))

    def patch(self, kind: KindInfo | str, name: str, body: Any, *,
              content_type: str = "application/strategic-merge-patch+json", namespace: str | None = None,
              sub: str = "") -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        return self._typed(k, self.call("PATCH", self._path(k, name, namespace, sub), body=body,
                                        content_type=content_type, action=f"patch {ref(k, name)}",
                                        target=ref(k, name)))

    def delete(self, kind: KindInfo | str, name: str, *, namespace: str | None = None, propagation: str | None = None,
               grace: int | None = None) -> dict:
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        return self.call("DELETE", self._path(k, name, namespace), action=f"delete {ref(k, name)}",
                         target=ref(k, name), query={"propagationPolicy": propagation,
                                                     "gracePeriodSeconds": None if grace is None else int(grace)})

    def log(self, pod: str, namespace: str | None = None, container: str | None = None) -> str:
        return self.call("GET", self._path(resolve_kind("pods"), pod, namespace, "log"), raw=True,
                         query={"container": container}, accept="text/plain, */*",
                         action=f"read the log of pod/{pod}", target=f"pod/{pod}")

    def connect(self, path: str, query: list[tuple[str, str]]) -> Any:
        """Open a WebSocket to a ``connect`` subresource (``pods/exec``, ``pods/attach``): the official client's
        ``WSClient`` (channels ``v5``/``v4.channel.k8s.io``), authenticated as every other request, without the typed
        API classes ``kubernetes.stream.stream`` wants (building ``CoreV1Api`` costs ~1.4 CPU-s once)."""
        from kubernetes.stream import ws_client
        _, url, headers, _, _ = self.api_client.param_serialize("GET", path, query_params=list(query),
                                                                  header_params={}, auth_settings=["BearerToken"])
        return ws_client.websocket_call(self.api_client.configuration, "GET", url, headers=headers,
                                        _preload_content=False)

    def table(self, kind: KindInfo | str, namespace: str | None = None, *, label_selector: str | None = None) -> dict:
        """A server-side ``Table`` (what ``kubectl get`` prints) for a resource type."""
        k = resolve_kind(kind) if isinstance(kind, str) else kind
        return self.call("GET", self._path(k, None, namespace), action=f"get {k.plural}",
                         query={"labelSelector": label_selector or None},
                         accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json")

    def version(self) -> dict:
        return self.call("GET", "/version", action="read the server version", timeout=(5, 10))


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
