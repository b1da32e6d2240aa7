"""The OpenAPI documents kubectl fetches: ``/openapi/v2`` and ``/openapi/v3``, rebuilt from the schemas.

kubectl reads them for ``kubectl explain`` and for client-side apply (the
``x-kubernetes-patch-*`` extensions). :func:`openapi_v2`, :func:`openapi_v3_index`
and :func:`openapi_v3` rebuild them from a version's :class:`~.schemas.Schemas`,
converting the JSON Schema nodes back to the OpenAPI form a server serves; each
document is JSON-encoded once per process and cached on the ``Schemas``.

Upstream sources followed (repository:path): kubernetes/kube-openapi
``pkg/handler3`` (the v3 index with its ``?hash=`` ETags, ``allOf`` around a
``$ref`` with siblings).

The v3 documents declare every operation the sandbox serves, with path and
query parameters, so standard OpenAPI tooling accepts them. Known differences
from a real server: no ``/watch/`` paths (deprecated upstream) and no
``connect`` operations for exec/attach/portforward/proxy; the v2 document has
only the PATCH operations kubectl reads. The v2 document is JSON; client-go
asks for it as protobuf (:mod:`.openapi_protobuf`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .schemas import INT_OR_STRING, QUANTITY, Schemas

__all__ = ["SERVED_KINDS", "openapi_v2", "openapi_v3", "openapi_v3_etag", "openapi_v3_index"]

#: The (apiVersion, kind) pairs the sandbox serves; the OpenAPI v3 index lists their group-versions.
SERVED_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "Endpoints"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "PersistentVolume"),
    ("v1", "Event"),
    ("v1", "ConfigMap"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "ControllerRevision"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("autoscaling/v1", "Scale"),
    ("v1", "Status"),
)


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def openapi_v2(schemas: Schemas) -> bytes:
    """The ``/openapi/v2`` swagger document (JSON bytes, built once).

    Every definition is included, as on a real server, with the
    ``x-kubernetes-*`` extensions kubectl reads. Note that client-go asks
    for this document as protobuf; serving it is the API layer's business.
    """

    def build() -> bytes:
        definitions = {name: _openapi_def(schemas, name, "#/definitions/", v3=False) for name in schemas.definitions}
        return _encode({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": f"v{schemas.version}.0"},
            "paths": {},
            "definitions": definitions,
        })

    return schemas.memo("openapi-v2", build)


def _gv_path(api_version: str) -> str:
    return "api/" + api_version if "/" not in api_version else "apis/" + api_version


def openapi_v3_index(schemas: Schemas, group_versions: list[str] | None = None, resources: Any = None) -> bytes:
    """The ``/openapi/v3`` discovery document (JSON bytes, built once per argument set).

    Args:
        schemas: The API schemas of the imitated Kubernetes version.
        group_versions: apiVersions to list (``"v1"``, ``"apps/v1"``); by
            default those of :data:`SERVED_KINDS`.
        resources: As for :func:`openapi_v3`; pass the same value to both so
            the hashes in the index match the documents.
    """
    if group_versions is None:
        group_versions = sorted({api_version for api_version, _ in SERVED_KINDS})
    table = _resource_table(resources)

    def build() -> bytes:
        paths = {}
        for api_version in group_versions:
            gv_path = _gv_path(api_version)
            # kube-openapi handler3: ServerRelativeURL carries the document's SHA-512 as its ETag
            etag = openapi_v3_etag(schemas, gv_path, resources)
            paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={etag}"}
        return _encode({"paths": dict(sorted(paths.items()))})

    return schemas.memo(f"openapi-v3-index:{','.join(group_versions)}:{table!r}", build)


def openapi_v3_etag(schemas: Schemas, group_version: str, resources: Any = None) -> str:
    """The ETag (upper-case hex SHA-512) of a group-version's v3 document."""
    return hashlib.sha512(openapi_v3(schemas, group_version, resources)).hexdigest().upper()


def openapi_v3(schemas: Schemas, group_version: str, resources: Any = None) -> bytes:
    """The ``/openapi/v3/<group_version>`` document (JSON bytes, built once).

    ``components.schemas`` holds every kind of the group-version and all it
    references, as on a real server. ``paths`` holds only the ``get``
    operations (list and named) of the served resources, each with its
    ``x-kubernetes-group-version-kind``: that is how ``kubectl explain``
    finds the schema of a resource.

    Args:
        schemas: The API schemas of the imitated Kubernetes version.
        group_version: ``"api/v1"`` or ``"apis/apps/v1"`` (a bare apiVersion
            such as ``"apps/v1"`` is accepted too).
        resources: The served resources, as objects with ``api_version``,
            ``kind``, ``plural`` and ``namespaced`` attributes (the API
            layer's resource table) or as ``(api_version, kind, plural,
            namespaced)`` tuples. The schemas do not know plurals or scope;
            by default the kinds of :data:`SERVED_KINDS` get kubectl's
            guessed plural (``UnsafeGuessKindToResource``) under both the
            cluster and the namespaced path.

    Raises:
        KeyError: if no kind of this version is in that group-version.
    """
    if not group_version.startswith(("api/", "apis/")):
        group_version = _gv_path(group_version)
    table = _resource_table(resources)

    def build() -> bytes:
        _, rest = group_version.split("/", 1)
        group, _, version = rest.rpartition("/")
        if group_version.startswith("api/") and group:
            raise KeyError(f"no OpenAPI v3 document for {group_version}")
        roots = [
            name
            for name, schema in schemas.definitions.items()
            if any(
                g["group"] == group and g["version"] == version
                for g in schema.get("x-kubernetes-group-version-kind", ())
            )
        ]
        if not roots:
            raise KeyError(f"no OpenAPI v3 document for {group_version} in Kubernetes {schemas.version}")
        return _encode({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": f"v{schemas.version}.0"},
            "paths": _v3_paths(schemas, group_version, group, version, table),
            "components": {
                "schemas": {
                    name: _openapi_def(schemas, name, "#/components/schemas/", v3=True)
                    for name in sorted(_closure(schemas, roots))
                }
            },
        })

    return schemas.memo(f"openapi-v3:{group_version}:{table!r}", build)


_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_STRING = {"type": "string", "uniqueItems": True}
_QUERY_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_QUERY_LIST = {"allowWatchBookmarks": "boolean", "continue": "string", "fieldSelector": "string",
               "labelSelector": "string", "limit": "integer", "resourceVersion": "string",
               "resourceVersionMatch": "string", "sendInitialEvents": "boolean", "timeoutSeconds": "integer",
               "watch": "boolean"}
_QUERY_DELETE = {"dryRun": "string", "gracePeriodSeconds": "integer", "ignoreStoreReadErrorWithClusterBreakingPotential":
                 "boolean", "orphanDependents": "boolean", "propagationPolicy": "string"}
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json")
_META = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1."


def _query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": True}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": _STRING}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": ref}}}


def _operation(op_id: str, action: str, gvk: dict, responses: dict[str, str | None], params: list,
               body: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op_id, "parameters": params,
                           "responses": {code: ({"description": "OK" if code < "300" else "Created" if code == "201"
                                                 else "Accepted", "content": _json(ref)} if ref else
                                                {"description": "Unauthorized"})
                                         for code, ref in responses.items()}}
    if body is not None:
        out["requestBody"] = body
    out["x-kubernetes-action"] = action
    out["x-kubernetes-group-version-kind"] = gvk
    return out


def _group_word(group: str) -> str:
    """``rbac.authorization.k8s.io`` → ``RbacAuthorization``, ``""`` → ``Core`` (upstream's operationId words)."""
    if not group:
        return "Core"
    return "".join(part.capitalize() for part in group.removesuffix(".k8s.io").split("."))


def _v3_paths(
    schemas: Schemas, group_version: str, group: str, version: str, table: tuple[tuple, ...]
) -> dict[str, Any]:
    """Every served operation of the group-version, with its path and query parameters, sorted by path.

    As kube-apiserver's documents: collection paths carry ``list``/``create``/``deletecollection``,
    object paths ``read``/``replace``/``patch``/``delete``, subresources (``status``, ``scale``,
    ``eviction``, ``log``) their own; path parameters (``namespace``, ``name``) are declared on the
    path item, so standard OpenAPI tooling (openapi-spec-validator, schemathesis) accepts the
    document. kubectl reads ``x-kubernetes-group-version-kind`` from the GET operations
    (``kubectl explain``) and the ``fieldValidation`` parameter of the PATCH operations (whether the
    server validates fields itself).
    """
    api_version = f"{group}/{version}" if group else version
    paths: dict[str, Any] = {}
    word = _group_word(group) + version.capitalize()
    for entry in table:
        res_version, kind, plural, namespaced = entry[:4]
        verbs = entry[4] if len(entry) > 4 else _ALL_VERBS
        subresources = entry[5] if len(entry) > 5 else ()
        if res_version != api_version:
            continue
        try:
            definition = schemas.type_for(api_version, kind)
        except KeyError:
            continue
        gvk = {"group": group, "version": version, "kind": kind}
        ref = "#/components/schemas/" + definition
        scopes = ("/namespaces/{namespace}",) if namespaced else ("",)
        if namespaced is None:
            scopes = ("", "/namespaces/{namespace}")
        for scope in scopes:
            ns_word = "Namespaced" if scope else ""
            scope_params = [_path_param("namespace", "object name and auth scope, such as for teams and projects")] \
                if scope else []
            base = f"/{group_version}{scope}/{plural}"
            writes = [_query(n) for n in _QUERY_WRITE]
            body = {"required": True, "content": _json(ref)}
            item: dict[str, Any] = {"parameters": scope_params + [_query("pretty")]}
            if "list" in verbs and definition + "List" in schemas.definitions:
                item["get"] = _operation(f"list{word}{ns_word}{kind}", "list", gvk,
                                         {"200": ref + "List", "401": None},
                                         [_query(n, t) for n, t in _QUERY_LIST.items()])
            if "create" in verbs:
                item["post"] = _operation(f"create{word}{ns_word}{kind}", "post", gvk,
                                          {"200": ref, "201": ref, "202": ref, "401": None}, writes, body)
            if "deletecollection" in verbs:
                item["delete"] = _operation(
                    f"deletecollection{word}{ns_word}{kind}", "deletecollection", gvk, {"200": _META + "Status",
                                                                                         "401": None},
                    [_query(n, t) for n, t in {**_QUERY_DELETE, **_QUERY_LIST}.items() if n != "watch"],
                    {"content": _json(_META + "DeleteOptions")})
            if len(item) > 1:
                paths[base] = item
            name_params = [_path_param("name", f"name of the {kind}")] + scope_params + [_query("pretty")]
            obj: dict[str, Any] = {"parameters": name_params}
            if "get" in verbs:
                obj["get"] = _operation(f"read{word}{ns_word}{kind}", "get", gvk, {"200": ref, "401": None}, [])
            if "update" in verbs:
                obj["put"] = _operation(f"replace{word}{ns_word}{kind}", "put", gvk,
                                        {"200": ref, "201": ref, "401": None}, writes, body)
            if "patch" in verbs:
                obj["patch"] = _operation(
                    f"patch{word}{ns_word}{kind}", "patch", gvk, {"200": ref, "201": ref, "401": None},
                    writes + [_query("force", "boolean")],
                    {"required": True, "content": {t: {"schema": {"$ref": _META + "Patch"}} for t in _PATCH_TYPES}})
            if "delete" in verbs:
                obj["delete"] = _operation(f"delete{word}{ns_word}{kind}", "delete", gvk,
                                           {"200": _META + "Status", "202": _META + "Status", "401": None},
                                           [_query(n, t) for n, t in _QUERY_DELETE.items()],
                                           {"content": _json(_META + "DeleteOptions")})
            if len(obj) > 1:
                paths[base + "/{name}"] = obj
            for sub in subresources:
                sub_item = _v3_subresource(schemas, f"{word}{ns_word}{kind}", sub, gvk, ref, name_params, writes)
                if sub_item:
                    paths[f"{base}/{{name}}/{sub}"] = sub_item
    return dict(sorted(paths.items()))


def _v3_subresource(schemas: Schemas, words: str, sub: str, gvk: dict, ref: str, params: list,
                    writes: list) -> dict[str, Any] | None:
    """The operations of one subresource (those the sandbox serves; others are left out)."""
    item: dict[str, Any] = {"parameters": params}
    patch_body = {"required": True, "content": {t: {"schema": {"$ref": _META + "Patch"}} for t in _PATCH_TYPES}}
    if sub in ("status", "scale"):
        target = ref if sub == "status" else "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"
        if sub == "scale" and "io.k8s.api.autoscaling.v1.Scale" not in schemas.definitions:
            return None
        title = "Status" if sub == "status" else "Scale"
        item["get"] = _operation(f"read{words}{title}", "get", gvk, {"200": target, "401": None}, [])
        item["put"] = _operation(f"replace{words}{title}", "put", gvk, {"200": target, "201": target, "401": None},
                                 writes, {"required": True, "content": _json(target)})
        item["patch"] = _operation(f"patch{words}{title}", "patch", gvk, {"200": target, "201": target, "401": None},
                                   writes + [_query("force", "boolean")], patch_body)
        return item
    if sub == "eviction" and "io.k8s.api.policy.v1.Eviction" in schemas.definitions:
        target = "#/components/schemas/io.k8s.api.policy.v1.Eviction"
        item["post"] = _operation(f"create{words}Eviction", "post", gvk,
                                  {"201": _META + "Status", "401": None}, writes,
                                  {"required": True, "content": _json(target)})
        return item
    if sub == "log":
        log_params = [_query("container"), _query("follow", "boolean"), _query("previous", "boolean"),
                      _query("tailLines", "integer"), _query("timestamps", "boolean"), _query("sinceSeconds", "integer")]
        item["get"] = {"operationId": f"read{words}Log", "parameters": log_params,
                       "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {
                           "type": "string"}}}}, "401": {"description": "Unauthorized"}},
                       "x-kubernetes-action": "connect", "x-kubernetes-group-version-kind": gvk}
        return item
    return None


def _closure(schemas: Schemas, roots: list[str]) -> set[str]:
    """Every definition reachable from ``roots`` through ``$ref``."""
    defs = schemas.definitions
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        pending: list[Any] = [defs[name]]
        while pending:
            node = pending.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    stack.append(ref.rsplit("/", 1)[-1])
                pending.extend(node.values())
            elif isinstance(node, list):
                pending.extend(node)
    return seen


def _openapi_def(schemas: Schemas, name: str, ref_prefix: str, v3: bool) -> dict[str, Any]:
    """One definition, converted back from JSON Schema to the OpenAPI form the server serves."""
    if name == INT_OR_STRING:
        return {"type": "string", "format": "int-or-string"}
    if name == QUANTITY:
        return {"type": "string"}
    schema = schemas.definitions[name]
    out = _openapi_node(schema, ref_prefix, v3)
    if "x-kubernetes-group-version-kind" in schema and "properties" in out:
        # openapi2jsonschema adds apiVersion/kind enums to kinds; real servers do not have them.
        for field in ("apiVersion", "kind"):
            prop = out["properties"].get(field)
            if isinstance(prop, dict):
                prop.pop("enum", None)
    return out


def _guess_plural(kind: str) -> str:
    """kubectl's ``meta.UnsafeGuessKindToResource``."""
    singular = kind.lower()
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular[:-1] + "ies"
    return singular + "s"


def _resource_table(resources: Any) -> tuple[tuple, ...]:
    """Normalise a resource table to ``(api_version, kind, plural, namespaced[, verbs, subresources])`` tuples."""
    if resources is None:
        # Scope unknown (None): the document then lists both the cluster and the namespaced path.
        return tuple((api_version, kind, _guess_plural(kind), None) for api_version, kind in SERVED_KINDS)
    table = []
    for entry in resources:
        if isinstance(entry, tuple):
            table.append((*entry[:3], bool(entry[3]), *entry[4:]))
        else:
            table.append((entry.api_version, entry.kind, entry.plural, bool(entry.namespaced),
                          tuple(entry.verbs), tuple(entry.subresources)))
    return tuple(table)


def _openapi_node(node: Any, ref_prefix: str, v3: bool, property_node: bool = False) -> Any:
    """Convert a JSON Schema node: nullable type lists back to one type, ``$ref`` targets renamed."""
    if isinstance(node, list):
        return [_openapi_node(item, ref_prefix, v3) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = ref_prefix + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if len(types) == 1 else types
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _openapi_node(prop, ref_prefix, v3, True) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "oneOf", "allOf", "anyOf", "not"):
            out[key] = _openapi_node(value, ref_prefix, v3)
        else:
            out[key] = value
    if v3 and property_node and "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores siblings of $ref; kube-openapi wraps the reference in allOf.
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


