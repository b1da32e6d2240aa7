"""The sandbox's view of the API schemas: decoding, patching and the OpenAPI documents.

A thin seam between the registry and the schema modules (:mod:`.schemas`,
:mod:`.decoding`, :mod:`.strategic`, :mod:`.patches`, :mod:`.openapi`), which
read the real per-version schemas (vendored from ``kubernetes-validate``, see
:mod:`.schemas`) and word their errors as the API server does; here they become
``Status`` errors.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property

from ..core import errors
from ..profile import Profile
from ..core.resources import RESOURCES
from . import openapi
from .decoding import decode
from .patches import apply_json_patch, json_merge_patch
from .schemas import SchemaError, Schemas
from .strategic import strategic_merge_patch

_RESOURCES = tuple((r.api_version, r.kind, r.plural, r.namespaced, r.verbs, r.subresources) for r in RESOURCES)
_META_DEFS = tuple("io.k8s.apimachinery.pkg.apis.meta.v1." + n for n in ("Status", "DeleteOptions")) + (
    "io.k8s.api.autoscaling.v1.Scale", "io.k8s.api.policy.v1.Eviction")


def _refs(node: object) -> list[str]:
    """The definitions a converted OpenAPI node refers to, transitively through nested nodes."""
    out: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            ref = n.get("$ref")
            if isinstance(ref, str):
                out.append(ref.rsplit("/", 1)[-1])
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return out


def _api_error(e: SchemaError) -> errors.ApiError:
    st = e.to_status()
    return errors.ApiError(st["code"], st.get("reason", ""), st["message"], st.get("details"))


class Codec:
    """Schema-driven decoding and patching for one imitated Kubernetes version."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    @cached_property
    def schemas(self) -> Schemas:
        return Schemas.for_version(self.profile.version)

    def field_description(self, definition: str, path: str) -> str:
        """The imitated version's documentation of a field (what ``kubectl explain`` shows)."""
        return self.schemas.field_description(definition, path)

    def decode(self, obj: dict, *, strict: bool, patch_type: str | None = None, patch: object = None
               ) -> tuple[dict, list[str]]:
        """Check types and unknown fields of a body whose apiVersion/kind the registry has set."""
        try:
            kind_def = self.schemas.type_for(obj["apiVersion"], obj["kind"])
            return decode(self.schemas, obj, kind_def, strict, patch_type=patch_type, patch=patch)
        except SchemaError as e:
            raise _api_error(e) from None

    def strategic_merge_patch(self, current: dict, patch: object, api_version: str, kind: str) -> dict:
        try:
            return strategic_merge_patch(self.schemas, current, patch, self.schemas.type_for(api_version, kind))
        except SchemaError as e:
            raise _api_error(e) from None

    def json_merge_patch(self, current: dict, patch: object) -> dict:
        try:
            return json_merge_patch(current, patch)
        except SchemaError as e:
            raise _api_error(e) from None

    def apply_json_patch(self, current: dict, ops: object) -> dict:
        try:
            return apply_json_patch(current, ops)
        except SchemaError as e:
            raise _api_error(e) from None

    # ----- OpenAPI
    # kubectl decides from the documents' PATCH operations whether the server validates fields
    # itself (a ``fieldValidation`` parameter); only then does it skip client-side validation,
    # which with the 1.27 schema would demand ``serviceName`` of the guide's first manifest.

    @cached_property
    def _v2(self) -> bytes:
        doc = json.loads(openapi.openapi_v2(self.schemas))
        doc["definitions"].setdefault(_PATCH_DEF, _PATCH_SCHEMA)
        for rt in RESOURCES:
            doc["paths"].setdefault(_object_path(rt), {})["patch"] = {
                "consumes": list(_PATCH_TYPES), "produces": ["application/json", "application/yaml"],
                "operationId": f"patch{'Namespaced' if rt.namespaced else ''}{rt.kind}",
                "parameters": [{"name": "body", "in": "body", "required": True,
                                "schema": {"$ref": f"#/definitions/{_PATCH_DEF}"}}, *_PATCH_PARAMS_V2],
                "responses": {"200": {"description": "OK", "schema": {
                    "$ref": f"#/definitions/{self.schemas.type_for(rt.api_version, rt.kind)}"}}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": rt.group, "kind": rt.kind, "version": rt.version}}
        return json.dumps(doc, separators=(",", ":")).encode()

    @cached_property
    def _v3(self) -> dict[str, bytes]:
        """One document per served group-version, every operation in it (:func:`openapi.openapi_v3`)."""
        group_versions = sorted({r.api_version for r in RESOURCES})
        index = json.loads(openapi.openapi_v3_index(self.schemas, group_versions, resources=_RESOURCES))
        docs: dict[str, bytes] = {}
        for gv_path in index["paths"]:
            doc = json.loads(openapi.openapi_v3(self.schemas, gv_path, resources=_RESOURCES))
            components = doc.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault(_PATCH_DEF, _PATCH_SCHEMA)
            for name in _META_DEFS:  # the request bodies and responses every document refers to
                components.setdefault(name, openapi._openapi_def(self.schemas, name, "#/components/schemas/",
                                                                 v3=True))
            pending = list(components)
            while pending:  # and everything those refer to
                for ref in _refs(components[pending.pop()]):
                    if ref not in components and ref in self.schemas.definitions:
                        components[ref] = openapi._openapi_def(self.schemas, ref, "#/components/schemas/", v3=True)
                        pending.append(ref)
            docs[gv_path] = json.dumps(doc, separators=(",", ":")).encode()
        return docs

    def openapi_v2_bytes(self) -> bytes:
        return self._v2

    def openapi_v3_index_bytes(self) -> bytes:
        """``/openapi/v3``: each group version with its document's SHA-512 as the hash kubectl caches by."""
        paths = {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={hashlib.sha512(body).hexdigest().upper()}"}
                 for gv, body in sorted(self._v3.items())}
        return json.dumps({"paths": paths}, separators=(",", ":")).encode()

    def openapi_v3_bytes(self, path: str) -> bytes | None:
        """``path`` as in the URL after ``/openapi/v3/``: ``api/v1`` or ``apis/apps/v1``."""
        return self._v3.get(path)


_PATCH_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_PATCH_SCHEMA = {"description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH "
                                "request body.", "type": "object"}
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json")
_QUERY = ("dryRun", "fieldManager", "fieldValidation", "force")
_PATCH_PARAMS_V2 = [{"uniqueItems": True, "type": "string", "name": n, "in": "query"} for n in _QUERY]
_PATCH_PARAMS_V3 = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for n in _QUERY]


def _object_path(rt) -> str:
    base = ("/apis/" if rt.group else "/api/") + rt.api_version
    return f"{base}/{'namespaces/{namespace}/' if rt.namespaced else ''}{rt.plural}/{{name}}"
