"""The Kubernetes REST API of the sandbox, as a function from request to response.

Nothing here knows about sockets: :meth:`Api.handle` takes a :class:`Request`
and returns a :class:`Response` whose body is bytes or, for watches and
followed logs, an iterator of chunks. ``server.py`` puts it on a loopback
socket; the same function could serve requests without one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from ..core import errors
from ..core.cluster import Cluster
from ..core.resources import BY_PLURAL, ResourceType
from .discovery import Discovery

JSON = "application/json"

#: Registries with ``ReturnDeletedObject`` upstream: DELETE answers the object, not a Status.
RETURN_DELETED_OBJECT = frozenset({"pods", "services", "serviceaccounts", "persistentvolumeclaims",
                                   "persistentvolumes", "storageclasses", "namespaces"})


@dataclass
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = unquote(parts.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int
    body: bytes | Iterator[bytes] = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, (bytes, bytearray))


def _dump(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def error_response(e: errors.ApiError) -> Response:
    return Response(e.code, _dump(e.status()))


@dataclass
class Route:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str
    watch_prefix: bool


class Api:
    """Routes and answers Kubernetes REST requests over one sandbox's registry."""

    def __init__(self, sandbox: Cluster) -> None:
        self.sb = sandbox
        self.discovery = Discovery()
        self._encoded: dict[int, tuple[dict, bytes]] = {}

    # ------------------------------------------------------------------ entry
    def handle(self, req: Request) -> Response:
        try:
            return self._handle(req)
        except errors.ApiError as e:
            return error_response(e)
        except Exception as e:  # never let one request take the server down; say what happened
            self.sb.log_internal_error(req, e)
            return error_response(errors.ApiError(
                500, "InternalError", f"an error on the server (\"{type(e).__name__}: {e}\") has prevented the request "
                "from succeeding (stsnb sandbox bug: please report it with the request that caused it)"))

    def _handle(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self._json(self.sb.version_info())
        if path == "/api":
            return self._json(self.discovery.api_versions())
        if path == "/apis":
            return self._json(self.discovery.api_group_list())
        if path.startswith("/openapi"):
            return self._openapi(path, req)
        segs = path.strip("/").split("/")
        if segs[0] == "api" and len(segs) >= 2:
            gv, rest = segs[1], segs[2:]
        elif segs[0] == "apis" and len(segs) == 2:
            doc = self.discovery.api_group(segs[1])
            if doc is None:
                raise errors.page_not_found()
            return self._json(doc)
        elif segs[0] == "apis" and len(segs) >= 3:
            gv, rest = f"{segs[1]}/{segs[2]}", segs[3:]
        else:
            raise errors.page_not_found()
        if not rest:
            doc = self.discovery.resource_list(gv)
            if doc is None:
                raise errors.page_not_found()
            return self._json(doc)
        route = self._route(gv, rest)
        return self._dispatch(req, route)

    def _route(self, gv: str, rest: list[str]) -> Route:
        watch_prefix = False
        if rest[0] == "watch":
            watch_prefix, rest = True, rest[1:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) in (2, 3) and rest[0] == "namespaces":
            # /api/v1/namespaces/{name}[/status]: the namespace object itself
            rt = BY_PLURAL["namespaces"]
            return Route(rt, None, rest[1], rest[2] if len(rest) == 3 else "", watch_prefix)
        if not rest or len(rest) > 3:
            raise errors.page_not_found()
        rt = BY_PLURAL.get(rest[0])
        if rt is None or rt.api_version != gv:
            raise errors.page_not_found()
        if namespace is not None and not rt.namespaced:
            raise errors.page_not_found()
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else ""
        if sub and sub not in rt.subresources:
            raise errors.page_not_found()
        return Route(rt, namespace, name, sub, watch_prefix)

    # ------------------------------------------------------------------ verbs
    def _dispatch(self, req: Request, r: Route) -> Response:
        reg, q, m = self.sb.registry, req.query, req.method
        plural = r.rt.plural
        strict = q.get("fieldValidation", "") == "Strict"
        dry = q.get("dryRun") == "All"
        if r.name is None:
            if m == "GET":
                if r.watch_prefix or q.get("watch") in ("true", "1"):
                    return self._watch(req, r)
                return self._list(req, r)
            if m == "POST":
                body = self._body(req)
                obj, warnings = reg.create(plural, r.namespace, body, strict=strict, dry_run=dry)
                return self._json(obj, 201, warnings)
            if m == "DELETE":
                return self._delete_collection(req, r)
            raise errors.method_not_allowed()
        if r.subresource == "log":
            if m != "GET":
                raise errors.method_not_allowed()
            return self._pod_log(r.namespace or "", r.name, q)
        if r.subresource in ("exec", "attach", "portforward", "proxy"):
            raise errors.bad_request(
                f"{r.subresource} is not supported by the stsnb sandbox: its containers are simulated. "
                "Read the container's output with `kubectl logs` (or GET .../log) instead")
        if r.subresource == "scale":
            obj = reg.get(plural, r.namespace, r.name)
            if m == "GET":
                return self._json(reg.scale_of(r.rt, obj))
            if m == "PUT":
                return self._json(reg.update_scale(r.rt, r.namespace, r.name, self._body(req), dry_run=dry))
            if m == "PATCH":
                obj, _ = reg.patch(plural, r.namespace, r.name, req.body, req.header("content-type"),
                                   subresource="scale", dry_run=dry)
                return self._json(obj)
            raise errors.method_not_allowed()
        if r.subresource not in ("", "status"):
            raise errors.method_not_allowed()
        if m == "GET":
            return self._get(req, r)
        if m == "PUT":
            obj, warnings = reg.update(plural, r.namespace, r.name, self._body(req), subresource=r.subresource,
                                       strict=strict, dry_run=dry)
            return self._json(obj, 200, warnings)
        if m == "PATCH":
            obj, warnings = reg.patch(plural, r.namespace, r.name, req.body, req.header("content-type"),
                                      subresource=r.subresource, strict=strict, dry_run=dry)
            return self._json(obj, 200, warnings)
        if m == "DELETE":
            opts = self._body(req, optional=True) or {}
            grace = opts.get("gracePeriodSeconds", q.get("gracePeriodSeconds"))
            propagation = opts.get("propagationPolicy") or q.get("propagationPolicy")
            if opts.get("orphanDependents") is True or q.get("orphanDependents") == "true":
                propagation = "Orphan"
            obj, gone = reg.delete(plural, r.namespace, r.name, grace=int(grace) if grace not in (None, "") else None,
                                   propagation=propagation, preconditions=opts.get("preconditions"), dry_run=dry)
            if gone and plural not in RETURN_DELETED_OBJECT:
                return self._json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "details": {"name": r.name, **({"group": r.rt.group} if r.rt.group else {}),
                                               "kind": plural, "uid": obj["metadata"]["uid"]}})
            return self._json(obj, 200 if gone else 202 if plural != "pods" else 200)
        raise errors.method_not_allowed()

    def _body(self, req: Request, optional: bool = False) -> object:
        if not req.body:
            if optional:
                return None
            raise errors.bad_request("the request body is empty: send the object as JSON")
        ctype = req.header("content-type", JSON).split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            # kubectl's typed commands (`create service …`) send protobuf and never retry with JSON
            from .protobuf import decode_request_body
            return decode_request_body(req.body)
        if ctype not in (JSON, "application/yaml", "application/apply-patch+yaml", "", "text/plain"):
            raise errors.unsupported_media_type(
                f'the body of the request was in an unknown format - accepted media types include: '
                f'application/json, application/yaml, application/vnd.kubernetes.protobuf')
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                import yaml
                return yaml.safe_load(req.body)
            return json.loads(req.body)
        except Exception as e:
            raise errors.bad_request(f"the request body is not valid JSON: {e}") from None

    def _pod_log(self, namespace: str, name: str, query: dict[str, str]) -> Response:
        """``GET .../pods/NAME/log``: what the kubelet serves (``PodRuntime.pod_log``), streamed when it follows."""
        body = self.sb.kubelet.pod_log(namespace, name, query)
        if isinstance(body, str):
            return Response(200, body.encode(), "text/plain")

        def stream() -> Iterator[bytes]:
            try:
                for chunk in body:
                    yield chunk.encode()  # an empty chunk is an idle tick: the server checks the client is there
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()  # the client went away: stop waiting for output

        return Response(200, stream(), "text/plain")

    def _get(self, req: Request, r: Route) -> Response:
        obj = self.sb.registry.get(r.rt.plural, r.namespace, r.name)
        if self._wants_table(req):
            return self._json(self.sb.table(r.rt.plural, [obj], req.query.get("includeObject", "Metadata"),
                                            {"resourceVersion": obj["metadata"]["resourceVersion"]}))
        return Response(200, self._encode(obj))

    def _list(self, req: Request, r: Route) -> Response:
        q = req.query
        reg = self.sb.registry
        with self.sb.store.lock:
            items = reg.list(r.rt.plural, r.namespace, q.get("labelSelector"), q.get("fieldSelector"))
            rv = str(self.sb.store.resource_version)
        if self._wants_table(req):
            return self._json(self.sb.table(r.rt.plural, items, q.get("includeObject", "Metadata"),
                                            {"resourceVersion": rv}))
        head = _dump({"kind": r.rt.list_kind, "apiVersion": r.rt.api_version, "metadata": {"resourceVersion": rv}})
        body = head[:-1] + b',"items":[' + b",".join(self._encode(o) for o in items) + b"]}"
        return Response(200, body)

    def _delete_collection(self, req: Request, r: Route) -> Response:
        reg = self.sb.registry
        items = reg.list(r.rt.plural, r.namespace, req.query.get("labelSelector"), req.query.get("fieldSelector"))
        out = []
        for o in items:
            try:
                obj, _ = reg.delete(r.rt.plural, r.namespace, o["metadata"]["name"],
                                    propagation=req.query.get("propagationPolicy"))
                out.append(obj)
            except errors.ApiError as e:
                if e.code != 404:
                    raise
        return self._json({"kind": r.rt.list_kind, "apiVersion": r.rt.api_version,
                           "metadata": {"resourceVersion": str(self.sb.store.resource_version)}, "items": out})

    def _wants_table(self, req: Request) -> bool:
        accept = req.header("accept")
        return "as=Table" in accept

    # ------------------------------------------------------------------ watch
    def _watch(self, req: Request, r: Route) -> Response:
        q = req.query
        rt = r.rt
        flt = self.sb.registry.filter_for(rt, q.get("labelSelector"), q.get("fieldSelector"))
        if r.name:
            name = r.name
            base = flt
            flt = (lambda o: o["metadata"]["name"] == name and (base is None or base(o)))
        elif q.get("fieldSelector", "").startswith("metadata.name=") and "," not in q["fieldSelector"]:
            pass
        ns = r.namespace if rt.namespaced else None
        watch_list = q.get("sendInitialEvents") == "true"
        if watch_list and not self.sb.profile.watch_list:
            raise errors.invalid("ListOptions", "meta.k8s.io", "", [(
                "sendInitialEvents", "FieldValueForbidden",
                "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")])
        w = self.sb.store.watch(rt.plural, ns, flt or (lambda o: True), None if watch_list else q.get("resourceVersion"))
        initial_end = None
        if watch_list:  # the initial ADDED events end with a bookmark that says so
            initial_end = _dump({"type": "BOOKMARK", "object": {
                "kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                    "resourceVersion": str(self.sb.store.resource_version),
                    "annotations": {"k8s.io/initial-events-end": "true"}}}}) + b"\n"
        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError:
            w.stop()
            raise errors.bad_request(f"invalid timeoutSeconds: {q.get('timeoutSeconds')!r}") from None
        table = self._wants_table(req)

        def stream() -> Iterator[bytes]:
            deadline = time.monotonic() + timeout
            pending_initial = w.initial if initial_end is not None else -1
            try:
                if pending_initial == 0:
                    yield initial_end
                for item in w.events(timeout=0.005):
                    if self.sb.stopping or time.monotonic() >= deadline:
                        return
                    if item is None:
                        yield b""  # idle: lets the socket layer notice a client that went away
                        continue
                    type_, ev = item
                    if table:
                        tbl = self.sb.table(rt.plural, [ev.obj], q.get("includeObject", "Metadata"),
                                            {"resourceVersion": ev.obj["metadata"]["resourceVersion"]})
                        if type_ != "ADDED" or True:
                            tbl["columnDefinitions"] = tbl["columnDefinitions"]
                        yield _dump({"type": type_, "object": tbl}) + b"\n"
                    else:
                        yield ev.line(type_)
                    if pending_initial > 0:
                        pending_initial -= 1
                        if pending_initial == 0:
                            yield initial_end
            finally:
                w.stop()

        return Response(200, stream())

    # ------------------------------------------------------------------ misc
    def _openapi(self, path: str, req: Request) -> Response:
        schemas = self.sb.schemas
        if path == "/openapi/v2":
            from .protobuf import OPENAPI_V2_CONTENT_TYPE, openapi_v2_protobuf, wants_openapi_v2_protobuf
            if wants_openapi_v2_protobuf(req.header("accept")):  # kubectl ≤1.28 reads only this form
                return Response(200, openapi_v2_protobuf(schemas.openapi_v2_bytes()), OPENAPI_V2_CONTENT_TYPE)
            return Response(200, schemas.openapi_v2_bytes())
        if path == "/openapi/v3":
            return Response(200, schemas.openapi_v3_index_bytes())
        if path.startswith("/openapi/v3/"):
            body = schemas.openapi_v3_bytes(path[len("/openapi/v3/"):])
            if body is None:
                raise errors.page_not_found()
            return Response(200, body)
        raise errors.page_not_found()

    def _encode(self, obj: dict) -> bytes:
        key = id(obj)
        hit = self._encoded.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = _dump(obj)
        if len(self._encoded) > 60_000:
            self._encoded.clear()
        self._encoded[key] = (obj, data)
        return data

    def _json(self, obj: object, status: int = 200, warnings: list[str] | None = None) -> Response:
        headers = [("Warning", f'299 - "{w}"'.replace("\n", " ")) for w in warnings or []]
        return Response(status, _dump(obj), JSON, headers)
