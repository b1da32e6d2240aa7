"""The sandbox's view of the API schemas: decoding, patching and the OpenAPI documents.

A thin seam between the registry and :mod:`.schema`, which reads the real
per-version schemas shipped in ``kubernetes-validate`` and words its errors as
the API server does; here they become ``Status`` errors.
"""

from __future__ import annotations

from functools import cached_property

from . import errors
from .profile import Profile
from .resources import RESOURCES
from .schema import Schemas, SchemaError, apply_json_patch, json_merge_patch

_RESOURCES = tuple((r.api_version, r.kind, r.plural, r.namespaced) for r in RESOURCES)


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

    def decode(self, obj: dict, *, strict: bool, patch_type: str | None = None, patch: object = None
               ) -> tuple[dict, list[str]]:
        """Check types and unknown fields of a body whose apiVersion/kind the registry has set."""
        try:
            kind_def = self.schemas.type_for(obj["apiVersion"], obj["kind"])
            return self.schemas.decode(obj, kind_def, strict, patch_type=patch_type, patch=patch)
        except SchemaError as e:
            raise _api_error(e) from None

    def strategic_merge_patch(self, current: dict, patch: object, api_version: str, kind: str) -> dict:
        try:
            return self.schemas.strategic_merge_patch(current, patch, self.schemas.type_for(api_version, kind))
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

    def openapi_v2_bytes(self) -> bytes:
        return self.schemas.openapi_v2()

    def openapi_v3_index_bytes(self) -> bytes:
        return self.schemas.openapi_v3_index(resources=_RESOURCES)

    def openapi_v3_bytes(self, path: str) -> bytes | None:
        """``path`` as in the URL after ``/openapi/v3/``: ``api/v1`` or ``apis/apps/v1``."""
        try:
            return self.schemas.openapi_v3(path, resources=_RESOURCES)
        except (KeyError, SchemaError):
            return None
