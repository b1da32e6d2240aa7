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
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from ..core import errors
from ..core.cluster import Cluster
from ..core.resources import BY_GV_PLURAL, BY_PLURAL, VIRTUAL, ResourceType
from . import options
from .conversion import to_served, to_stored
from .discovery import Discovery
from .health import health_response

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
        self.query_all: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.query = {k: v[-1] for k, v in self.query_all.items()}

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int
    body: bytes | Iterator[bytes] = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: A protocol switch (WebSocket for exec, attach, port-forward): the server hands it the connection.
    upgrade: Callable[[Any], None] | None = None
    #: A watch's count of the events queued for it so far, one chunk each (see ``Engine.waiting_through``).
    queued: Callable[[], int] | None = None

    @property
    def streaming(self) -> bool:
        return not isinstance(self.body, (bytes, bytearray))


def _dump(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def error_response(e: errors.ApiError) -> Response:
    """A ``Status`` body as Go's encoder writes it: keys in struct order and a final newline."""
    return Response(e.code, _dump(e.status()) + b"\n")


#: How deep a JSON body may nest. A Kubernetes object nests a few dozen levels at most; without a
#: bound a body of ~1000 nested brackets exhausts Python's recursion in the patch and decode code.
#: (Go's decoder allows 10000; the sandbox refuses earlier, with a 400 that says so.)
MAX_BODY_DEPTH = 200


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def warning_header(text: str) -> tuple[str, str]:
    """apimachinery ``net.NewWarningHeader``: code 299, agent ``-``, the text as a quoted-string."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return ("Warning", f'299 - "{quoted}"')


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

    # ------------------------------------------------------------------ entry
    def handle(self, req: Request) -> Response:
        try:
            return self._handle(req)
        except errors.ApiError as e:
            return error_response(e)
        except RecursionError:  # a body nested deeper than the code can follow: the client's doing
            return error_response(errors.bad_request(
                f"the request body is nested too deeply for the stsnb sandbox (at most {MAX_BODY_DEPTH} levels)"))
        except Exception as e:  # never let one request take the server down; say what happened
            self.sb.log_internal_error(req, e)
            return error_response(errors.ApiError(
                500, "InternalError", f"an error on the server (\"{type(e).__name__}: {e}\") has prevented the request "
                "from succeeding (stsnb sandbox bug: please report it with the request that caused it)"))

    def _handle(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path.split("/")[1] in ("healthz", "readyz", "livez"):
            return Response(*health_response(path, req.query), "text/plain; charset=utf-8")
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
        elif len(rest) in (2, 3) and rest[0] == "namespaces" and gv == "v1":
            # /api/v1/namespaces/{name}[/status]: the namespace object itself
            rt = BY_PLURAL["namespaces"]
            return Route(rt, None, rest[1], rest[2] if len(rest) == 3 else "", watch_prefix)
        if len(rest) > 3 and rest[2] == "proxy":  # NAME/proxy/PATH: the rest of the path is the pod's
            rest = rest[:3]
        if not rest or len(rest) > 3:
            raise errors.page_not_found()
        rt = BY_GV_PLURAL.get((gv, rest[0]))
        if rt is None:
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
        if m not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            raise errors.method_not_allowed()
        if plural in VIRTUAL:
            if m != "POST" or r.name is not None:
                raise errors.method_not_allowed()
            body = self._body(req)
            options.dry_run(req.query_all, "CreateOptions", self.sb.profile)
            obj, warnings = reg.review(plural, body, strict=options.field_validation(q) == "Strict")
            return self._json(obj, 201, warnings)
        if r.name is None:
            if m in ("GET", "HEAD"):
                if r.watch_prefix or q.get("watch") in ("true", "1"):
                    return self._watch(req, r)
                return self._list(req, r)
            if m == "POST":
                body = self._stored(r, self._body(req))
                dry = options.dry_run(req.query_all, "CreateOptions", self.sb.profile)
                obj, warnings = reg.create(plural, r.namespace, body, strict=self._strict(req), dry_run=dry)
                return self._json(self._served(r, obj), 201, self._warnings(req, warnings))
            if m == "DELETE":
                return self._delete_collection(req, r)
            raise errors.method_not_allowed()
        if r.subresource == "log":
            if m != "GET":
                raise errors.method_not_allowed()
            return self._pod_log(r.namespace or "", r.name, q)
        if r.subresource in ("exec", "attach", "portforward"):
            if m not in ("GET", "POST"):
                raise errors.method_not_allowed()
            from .streaming import connect
            return Response(101, upgrade=connect(self.sb, m, req.target, req.headers, r.namespace or "", r.name,
                                                 r.subresource))
        if r.subresource == "proxy":
            from .proxy import proxy
            return Response(*proxy(self.sb, req, plural, r.namespace or "", r.name))
        if r.subresource == "eviction":
            if m != "POST":
                raise errors.method_not_allowed()
            return self._evict(req, r)
        if r.subresource == "scale":
            return self._scale(req, r)
        if r.subresource not in ("", "status", "ephemeralcontainers"):
            raise errors.method_not_allowed()
        if m in ("GET", "HEAD"):
            return self._get(req, r)
        if m == "PUT":
            dry = options.dry_run(req.query_all, "UpdateOptions", self.sb.profile)
            obj, warnings = reg.update(plural, r.namespace, r.name, self._stored(r, self._body(req)),
                                       subresource=r.subresource, strict=self._strict(req), dry_run=dry)
            return self._json(self._served(r, obj), 200, self._warnings(req, warnings))
        if m == "PATCH":
            dry = options.dry_run(req.query_all, "PatchOptions", self.sb.profile)
            self._check_depth(req.body)
            obj, warnings = reg.patch(plural, r.namespace, r.name, req.body, req.header("content-type"),
                                      subresource=r.subresource, strict=self._strict(req), dry_run=dry,
                                      served_version=r.rt.api_version)
            return self._json(self._served(r, obj), 200, self._warnings(req, warnings))
        if m == "DELETE":
            opts = options.parse_delete_options(self._body(req, optional=True, message="DeleteOptions"), q,
                                                req.query_all, self.sb.profile)
            obj, gone = reg.delete(plural, r.namespace, r.name, grace=opts.grace, propagation=opts.propagation,
                                   preconditions=opts.preconditions, dry_run=opts.dry_run)
            if gone and plural not in RETURN_DELETED_OBJECT:
                return self._json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "details": {"name": r.name, **({"group": r.rt.group} if r.rt.group else {}),
                                               "kind": plural, "uid": obj["metadata"]["uid"]}})
            return self._json(self._served(r, obj), 200 if gone else 202 if plural != "pods" else 200)
        raise errors.method_not_allowed()

    def _scale(self, req: Request, r: Route) -> Response:
        reg, m = self.sb.registry, req.method
        obj = reg.get(r.rt.plural, r.namespace, r.name)
        if m in ("GET", "HEAD"):
            return self._json(reg.scale_of(r.rt, obj))
        if m == "PUT":
            dry = options.dry_run(req.query_all, "UpdateOptions", self.sb.profile)
            return self._json(reg.update_scale(r.rt, r.namespace, r.name, self._body(req), dry_run=dry))
        if m == "PATCH":
            dry = options.dry_run(req.query_all, "PatchOptions", self.sb.profile)
            self._check_depth(req.body)
            obj, _ = reg.patch(r.rt.plural, r.namespace, r.name, req.body, req.header("content-type"),
                               subresource="scale", dry_run=dry)
            return self._json(obj)
        raise errors.method_not_allowed()

    def _evict(self, req: Request, r: Route) -> Response:
        """``POST pods/NAME/eviction`` with a policy/v1 ``Eviction`` (JSON or protobuf), as ``kubectl drain`` sends."""
        body = self._body(req)
        if not isinstance(body, dict):
            raise errors.bad_request("Eviction in version \"v1\" cannot be handled as a Eviction")
        named = (body.get("metadata") or {}).get("name") if isinstance(body.get("metadata"), dict) else None
        if named and named != r.name:
            raise errors.bad_request("name in URL does not match name in Eviction object")
        query_dry = req.query_all.get("dryRun") or []
        delete_body = body.get("deleteOptions")
        opts = options.parse_delete_options(delete_body if delete_body is not None else {"dryRun": query_dry},
                                            req.query, req.query_all, self.sb.profile)
        body_dry = (delete_body or {}).get("dryRun") if isinstance(delete_body, dict) else None
        if query_dry and body_dry and query_dry != body_dry:  # eviction.go propagateDryRun
            raise errors.bad_request(f"Non-matching dry-run options in request and content: {query_dry} and "
                                     f"{body_dry}")
        options.dry_run({"dryRun": query_dry}, "CreateOptions", self.sb.profile)
        status = self.sb.registry.evict(r.namespace or "", r.name, grace=opts.grace, propagation=opts.propagation,
                                        preconditions=opts.preconditions, dry_run=opts.dry_run or bool(query_dry))
        return self._json(status, 201)

    # ------------------------------------------------------------------ bodies and versions
    def _strict(self, req: Request) -> bool:
        return options.field_validation(req.query) == "Strict"

    def _warnings(self, req: Request, warnings: list[str]) -> list[str]:
        """``fieldValidation=Ignore`` drops the unknown-field warnings; Warn (the default) sends them."""
        return [] if options.field_validation(req.query) == "Ignore" else warnings

    def _stored(self, r: Route, body: object) -> object:
        """A body in a version served by conversion, checked against its own schema, then as stored."""
        if r.rt.storage or not isinstance(body, dict):
            return body
        checked, _ = self.sb.schemas.decode({**body, "apiVersion": r.rt.api_version, "kind": r.rt.kind},
                                            strict=False)
        return to_stored(checked, r.rt.api_version, BY_PLURAL[r.rt.plural].api_version)

    def _served(self, r: Route, obj: dict) -> dict:
        return obj if r.rt.storage else to_served(obj, r.rt.api_version)

    @staticmethod
    def _check_depth(body: bytes) -> None:
        if body and nesting_depth(body) > MAX_BODY_DEPTH:
            raise errors.bad_request(f"the request body nests more than {MAX_BODY_DEPTH} levels of objects and "
                                     "arrays, which the stsnb sandbox does not accept (a Kubernetes object nests a "
                                     "few dozen at most)")

    def _body(self, req: Request, optional: bool = False, message: str = "") -> object:
        if not req.body:
            if optional:
                return None
            raise errors.bad_request("the request body is empty: send the object as JSON")
        ctype = req.header("content-type", JSON).split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            # kubectl's typed commands (`create …`, drain's evictions) send protobuf and never retry with JSON
            from .protobuf import decode_request_body
            return decode_request_body(req.body, message)
        if ctype not in (JSON, "application/yaml", "application/apply-patch+yaml", "", "text/plain"):
            raise errors.unsupported_media_type(
                'the body of the request was in an unknown format - accepted media types include: '
                'application/json, application/yaml, application/vnd.kubernetes.protobuf')
        self._check_depth(req.body)
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                import yaml
                return yaml.safe_load(req.body)
            return json.loads(req.body)
        except RecursionError:
            raise
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
            return self._json(self._table(req, r.rt.plural, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}))
        if not r.rt.storage:
            return self._json(self._served(r, obj))
        return Response(200, self.sb.store.encoded(obj) + b"\n")

    def _list(self, req: Request, r: Route) -> Response:
        q = req.query
        reg = self.sb.registry
        with self.sb.store.lock:
            items = reg.list(r.rt.plural, r.namespace, q.get("labelSelector"), q.get("fieldSelector"))
            rv = str(self.sb.store.resource_version)
        if self._wants_table(req):
            return self._json(self._table(req, r.rt.plural, items, {"resourceVersion": rv}))
        head = _dump({"kind": r.rt.list_kind, "apiVersion": r.rt.api_version, "metadata": {"resourceVersion": rv}})
        encode = self.sb.store.encoded if r.rt.storage else (lambda o: _dump(self._served(r, o)))
        body = head[:-1] + b',"items":[' + b",".join(encode(o) for o in items) + b"]}\n"
        return Response(200, body)

    def _delete_collection(self, req: Request, r: Route) -> Response:
        reg = self.sb.registry
        opts = options.parse_delete_options(self._body(req, optional=True, message="DeleteOptions"), req.query,
                                            req.query_all, self.sb.profile)
        items = reg.list(r.rt.plural, r.namespace, req.query.get("labelSelector"), req.query.get("fieldSelector"))
        out = []
        for o in items:
            try:
                obj, _ = reg.delete(r.rt.plural, r.namespace, o["metadata"]["name"], grace=opts.grace,
                                    propagation=opts.propagation, dry_run=opts.dry_run)
                out.append(self._served(r, obj))
            except errors.ApiError as e:
                if e.code != 404:
                    raise
        return self._json({"kind": r.rt.list_kind, "apiVersion": r.rt.api_version,
                           "metadata": {"resourceVersion": str(self.sb.store.resource_version)}, "items": out})

    def _wants_table(self, req: Request) -> bool:
        accept = req.header("accept")
        return "as=Table" in accept

    def _table(self, req: Request, plural: str, items: list[dict], list_meta: dict) -> dict:
        include = req.query.get("includeObject", "Metadata")
        if include not in ("Metadata", "Object", "None", ""):  # apimachinery ValidateTableOptions
            raise errors.invalid("TableOptions", "meta.k8s.io", "", [(
                "includeObject", "FieldValueInvalid",
                f"Invalid value: {json.dumps(include)}: must be 'Metadata', 'Object', 'None', or empty")])
        return self.sb.table(plural, items, include or "Metadata", list_meta)

    # ------------------------------------------------------------------ watch
    def _watch(self, req: Request, r: Route) -> Response:
        q = req.query
        rt = r.rt
        timeout = options.timeout_seconds(q, 1800.0)
        flt = self.sb.registry.filter_for(rt, q.get("labelSelector"), q.get("fieldSelector"))
        if r.name:
            name = r.name
            base = flt
            flt = (lambda o: o["metadata"]["name"] == name and (base is None or base(o)))
        ns = r.namespace if rt.namespaced else None
        watch_list = q.get("sendInitialEvents") == "true"
        if watch_list and not self.sb.profile.watch_list:
            raise errors.invalid("ListOptions", "meta.k8s.io", "", [(
                "sendInitialEvents", "FieldValueForbidden",
                "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")])
        table = self._wants_table(req)
        if table:
            self._table(req, rt.plural, [], {})  # refuse a bad includeObject before streaming
        try:
            w = self.sb.store.watch(rt.plural, ns, flt or (lambda o: True),
                                    None if watch_list else q.get("resourceVersion"))
        except errors.ApiError as e:
            if e.code != 410:
                raise
            # the watch cache's newErrWatcher: a 200 whose one event is the ERROR (clients re-list on 410)
            return Response(200, iter([_dump({"type": "ERROR", "object": e.status()}) + b"\n"]))
        initial_end = None
        if watch_list:  # the initial ADDED events end with a bookmark that says so
            initial_end = _dump({"type": "BOOKMARK", "object": {
                "kind": rt.kind, "apiVersion": rt.api_version, "metadata": {
                    "resourceVersion": str(self.sb.store.resource_version),
                    "annotations": {"k8s.io/initial-events-end": "true"}}}}) + b"\n"

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
                        yield b""  # an idle tick: lets the server notice a client that went away
                        continue
                    type_, ev = item
                    if table:
                        tbl = self._table(req, rt.plural, [ev.obj],
                                          {"resourceVersion": ev.obj["metadata"]["resourceVersion"]})
                        yield _dump({"type": type_, "object": tbl}) + b"\n"
                    elif not rt.storage:
                        yield _dump({"type": type_, "object": self._served(r, ev.obj)}) + b"\n"
                    else:
                        yield ev.line(type_)
                    if pending_initial > 0:
                        pending_initial -= 1
                        if pending_initial == 0:
                            yield initial_end
            finally:
                w.stop()

        return Response(200, stream(), queued=None if table or initial_end is not None else (lambda: w.queued))

    # ------------------------------------------------------------------ misc
    def _openapi(self, path: str, req: Request) -> Response:
        schemas = self.sb.schemas
        if path == "/openapi/v2":
            from .openapi_protobuf import OPENAPI_V2_CONTENT_TYPE, openapi_v2_protobuf, wants_openapi_v2_protobuf
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

    def _json(self, obj: object, status: int = 200, warnings: list[str] | None = None) -> Response:
        """A JSON response as Go's encoder writes it (a final newline), with ``Warning`` headers."""
        return Response(status, _dump(obj) + b"\n", JSON, [warning_header(w) for w in warnings or []])
