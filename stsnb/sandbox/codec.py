"""The sandbox's view of the API schemas: decoding, patching and the OpenAPI documents.

A thin seam between the registry and :mod:`.schema`, which reads the real
per-version schemas shipped in ``kubernetes-validate``.
"""

from __future__ import annotations

import json
from functools import cached_property

import jsonpatch

from . import errors
from .profile import Profile


class Codec:
    """Schema-driven decoding and patching for one imitated Kubernetes version."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    @cached_property
    def schemas(self):
        from .schema import Schemas
        return Schemas.for_version(self.profile.version)

    # ----- decoding
    def decode(self, obj: dict, *, strict: bool) -> tuple[dict, list[str]]:
        from .schema import SchemaError
        try:
            return self.schemas.decode(obj, strict=strict)
        except SchemaError as e:
            raise errors.bad_request(str(e)) from None

    # ----- patches
    def strategic_merge_patch(self, current: dict, patch: object, api_version: str, kind: str) -> dict:
        from .schema import SchemaError
        if not isinstance(patch, dict):
            raise errors.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
        try:
            return self.schemas.strategic_merge_patch(current, patch, api_version=api_version, kind=kind)
        except SchemaError as e:
            raise errors.bad_request(str(e)) from None

    def json_merge_patch(self, current: dict, patch: object) -> dict:
        from .schema import json_merge_patch
        return json_merge_patch(current, patch)

    def apply_json_patch(self, current: dict, ops: object) -> dict:
        if not isinstance(ops, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        try:
            return jsonpatch.apply_patch(current, ops)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, ValueError) as e:
            raise errors.ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {e}") from None

    # ----- OpenAPI
    def openapi_v2_bytes(self) -> bytes:
        return self.schemas.openapi_v2_bytes()

    def openapi_v3_index_bytes(self) -> bytes:
        return self.schemas.openapi_v3_index_bytes()

    def openapi_v3_bytes(self, group_version: str) -> bytes | None:
        return self.schemas.openapi_v3_bytes(group_version)


def dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
