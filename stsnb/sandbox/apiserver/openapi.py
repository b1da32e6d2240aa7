"""The OpenAPI documents kubectl fetches: ``/openapi/v2`` and ``/openapi/v3``, rebuilt from the schemas.

kubectl reads them for ``kubectl explain`` and for client-side apply (the
``x-kubernetes-patch-*`` extensions). :func:`openapi_v2`, :func:`openapi_v3_index`
and :func:`openapi_v3` rebuild them from a version's :class:`~.schemas.Schemas`,
converting the JSON Schema nodes back to the OpenAPI form a server serves; each
document is JSON-encoded once per process and cached on the ``Schemas``.

Upstream sources followed (repository:path): kubernetes/kube-openapi
``pkg/handler3`` (the v3 index with its ``?hash=`` ETags, ``allOf`` around a
``$ref`` with siblings).

Known differences from a real server: the v3 documents carry only the ``get``
operations ``kubectl explain`` needs, not the full ``paths`` of a real server.
The v2 document is JSON; client-go asks for it as protobuf, which is the API
layer's business (:mod:`.protobuf`).
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


def _v3_paths(
    schemas: Schemas, group_version: str, group: str, version: str, table: tuple[tuple[str, str, str, bool | None], ...]
) -> dict[str, Any]:
    """The ``get`` operations (list and named) of the group-version's resources, sorted by path."""
    api_version = f"{group}/{version}" if group else version
    paths: dict[str, Any] = {}
    for res_version, kind, plural, namespaced in table:
        if res_version != api_version:
            continue
        try:
            definition = schemas.type_for(api_version, kind)
        except KeyError:
            continue
        gvk = {"group": group, "version": version, "kind": kind}
        scopes = ("/namespaces/{namespace}",) if namespaced else ("",)
        if namespaced is None:
            scopes = ("", "/namespaces/{namespace}")
        for scope in scopes:
            base = f"/{group_version}{scope}/{plural}"
            for path, action, schema_name in (
                (base, "list", definition + "List"),
                (base + "/{name}", "get", definition),
            ):
                if schema_name not in schemas.definitions:
                    continue
                paths[path] = {
                    "get": {
                        "x-kubernetes-action": action,
                        "x-kubernetes-group-version-kind": gvk,
                        "responses": {
                            "200": {
                                "description": "OK",
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/" + schema_name}}
                                },
                            }
                        },
                    }
                }
    return dict(sorted(paths.items()))


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


def _resource_table(resources: Any) -> tuple[tuple[str, str, str, bool | None], ...]:
    """Normalise a resource table to ``(api_version, kind, plural, namespaced)`` tuples."""
    if resources is None:
        # Scope unknown (None): the document then lists both the cluster and the namespaced path.
        return tuple((api_version, kind, _guess_plural(kind), None) for api_version, kind in SERVED_KINDS)
    table = []
    for entry in resources:
        if isinstance(entry, tuple):
            api_version, kind, plural, namespaced = entry
        else:
            api_version, kind, plural, namespaced = entry.api_version, entry.kind, entry.plural, entry.namespaced
        table.append((api_version, kind, plural, bool(namespaced)))
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


