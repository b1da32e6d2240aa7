"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386), as kube-apiserver applies them.

:func:`json_merge_patch` and :func:`apply_json_patch` follow
``gopkg.in/evanphx/json-patch.v4`` (v4.12, the version kube-apiserver vendors),
including its quirks and its error texts; the mutations of a JSON patch are
carried out by the ``jsonpatch`` library once each step has been checked the way
evanphx checks it. Neither needs the schemas: the patched object is decoded
afterwards (:func:`.decoding.decode` with ``patch_type="json"`` or ``"merge"``).

Upstream sources followed (repository:path): evanphx/json-patch ``patch.go`` and
``merge.go`` (v4); kubernetes/apiserver ``pkg/endpoints/handlers/patch.go``
(the operation limit, the strict decoding of the operations).
"""

from __future__ import annotations

import re
from typing import Any

import jsonpatch
import jsonpointer

from ..hashing import go_json
from .gofmt import PANIC_NIL, copy_json, go_atoi, json_desc
from .schemas import SchemaError, internal_error

__all__ = ["apply_json_patch", "json_merge_patch"]

_MAX_JSON_PATCH_OPERATIONS = 10000


# ---------------------------------------------------------------------------
# JSON merge patch (RFC 7386) as evanphx/json-patch v4 MergePatch does it.
# ---------------------------------------------------------------------------


def json_merge_patch(original: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch with the server's library semantics.

    Nulls in the patch delete keys; nulls inside values that are new to the
    original are pruned from objects but kept in arrays (evanphx's
    ``pruneNulls``). Neither argument is modified.

    Raises:
        SchemaError: 400 ``Invalid JSON Patch`` if the patch is not an object
            or an array.
    """
    if original is None:
        raise SchemaError("Invalid JSON Document")
    if isinstance(patch, dict):
        doc = copy_json(original)
        if not isinstance(doc, dict):
            return _prune_nulls(copy_json(patch))
        _merge_docs(doc, copy_json(patch))
        return doc
    if isinstance(patch, list):  # a non-object patch replaces the document
        return _prune_nulls(copy_json(patch))
    raise SchemaError("Invalid JSON Patch")


def _merge_docs(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
            continue
        current = doc.get(key)
        if current is None or not isinstance(current, dict):
            doc[key] = _prune_nulls(value)
        elif not isinstance(value, dict):
            doc[key] = value  # evanphx does not prune here
        else:
            _merge_docs(current, value)


def _prune_nulls(value: Any) -> Any:
    """evanphx ``pruneNulls``: drop null members of objects, keep null array items."""
    if isinstance(value, dict):
        for key in list(value):
            if value[key] is None:
                del value[key]
            else:
                _prune_nulls(value[key])
    elif isinstance(value, list):
        for item in value:
            if item is not None:
                _prune_nulls(item)
    return value


# ---------------------------------------------------------------------------
# JSON patch (RFC 6902) as evanphx/json-patch v4.12 applies it on the server.
# ---------------------------------------------------------------------------


class _JsonPatchFailure(Exception):
    """An evanphx error text; becomes a 422."""


def _pointer_token(token: str) -> str:
    """RFC 6901 unescaping, as ``strings.NewReplacer("~1", "/", "~0", "~")`` does it."""
    return re.sub(r"~[01]", lambda m: "/" if m.group() == "~1" else "~", token)


def _jp_get(container: Any, key: str) -> tuple[Any, Any, str]:
    """``container.get``: (value, normalised key, error text). A missing object key is no error."""
    if isinstance(container, dict):
        return container.get(key), key, ""
    index, error = go_atoi(key)
    if index is None:
        return None, key, error
    if index < 0:
        if index < -len(container):
            return None, key, f"Unable to access invalid index: {index}: invalid index referenced"
        index += len(container)
    if index >= len(container):
        return None, key, f"Unable to access invalid index: {index}: invalid index referenced"
    return container[index], index, ""


def _jp_find(doc: Any, path: str) -> tuple[Any, list[Any], str]:
    """``findObject``: the parent container, its normalised pointer parts and the last key."""
    split = path.split("/")
    if len(split) < 2:
        return None, [], ""
    container = doc
    parts: list[Any] = []
    for token in split[1:-1]:
        value, key, error = _jp_get(container, _pointer_token(token))
        if error or not isinstance(value, (dict, list)):
            return None, [], ""
        parts.append(key)
        container = value
    return container, parts, _pointer_token(split[-1])


def _jp_add_key(container: Any, key: str) -> tuple[Any, str]:
    """Validate an add into ``container``: the normalised key, or an error text."""
    if isinstance(container, dict) or key == "-":
        return key, ""
    index, error = go_atoi(key)
    if index is None:
        return None, f"value was not a proper array index: '{key}': {error}"
    size = len(container) + 1
    if index >= size or index < -size:
        return None, f"Unable to access invalid index: {index}: invalid index referenced"
    return index + size if index < 0 else index, ""


def _jp_remove_key(container: Any, key: str) -> tuple[Any, str]:
    """Validate a remove from ``container``: the normalised key, or an error text."""
    if isinstance(container, dict):
        if key not in container:
            return None, f"Unable to remove nonexistent key: {key}: missing value"
        return key, ""
    index, error = go_atoi(key)
    if index is None:
        return None, error
    if index >= len(container) or index < -len(container):
        return None, f"Unable to access invalid index: {index}: invalid index referenced"
    return index + len(container) if index < 0 else index, ""


class _JsonPatcher:
    """Applies one JSON patch; each mutation is handed to the ``jsonpatch`` library."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def _mutate(self, op: str, parts: list[Any], value: Any = None) -> None:
        pointer = jsonpointer.JsonPointer.from_parts(parts).path
        operation: dict[str, Any] = {"op": op, "path": pointer}
        if op != "remove":
            operation["value"] = value
        try:
            self.doc = jsonpatch.apply_patch(self.doc, [operation], in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise _JsonPatchFailure(str(exc)) from None  # not expected: every step was checked first

    def _field(self, op: dict[str, Any], name: str) -> tuple[str | None, str]:
        """``Operation.Path()`` / ``From()``: the string, or why it could not be read."""
        value = op.get(name)
        if value is None:
            if name == "path":
                return None, "operation missing path field: missing value"
            return None, "operation, missing from field: missing value"
        return value, ""

    def apply(self, op: dict[str, Any]) -> None:
        kind = op.get("op") if isinstance(op.get("op"), str) else "unknown"
        handler = (
            getattr(self, "_op_" + kind, None) if kind in ("add", "remove", "replace", "move", "test", "copy") else None
        )
        if handler is None:
            raise _JsonPatchFailure(f"Unexpected kind: {kind}")
        handler(op)

    def _op_add(self, op: dict[str, Any]) -> None:
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure("add operation failed to decode path: missing value")
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(f'add operation does not apply: doc is missing path: "{path}": missing value')
        normal, error = _jp_add_key(container, key)
        if error:
            raise _JsonPatchFailure(f"error in add for path: '{path}': {error}")
        self._mutate("add", [*parts, normal], copy_json(op.get("value")))

    def _op_remove(self, op: dict[str, Any]) -> None:
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure("remove operation failed to decode path: missing value")
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(f'remove operation does not apply: doc is missing path: "{path}": missing value')
        normal, error = _jp_remove_key(container, key)
        if error:
            raise _JsonPatchFailure(f"error in remove for path: '{path}': {error}")
        self._mutate("remove", [*parts, normal])

    def _op_replace(self, op: dict[str, Any]) -> None:
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure(f"replace operation failed to decode path: {error}")
        if path == "":
            if "value" not in op:
                raise internal_error(PANIC_NIL)
            if isinstance(op["value"], (dict, list)):
                self.doc = copy_json(op["value"])
            return  # evanphx wraps a nil error here: a scalar silently does nothing
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(f"replace operation does not apply: doc is missing path: {path}: missing value")
        _, normal, error = _jp_get(container, key)
        if error:
            raise _JsonPatchFailure(f"replace operation does not apply: doc is missing key: {path}: missing value")
        # v4.12 quirk: a missing object key is no error, replace then acts as add.
        self._mutate("add" if isinstance(container, dict) else "replace", [*parts, normal], copy_json(op.get("value")))

    def _op_move(self, op: dict[str, Any]) -> None:
        source, error = self._field(op, "from")
        if source is None:
            raise _JsonPatchFailure(f"move operation failed to decode from: {error}")
        container, parts, key = _jp_find(self.doc, source)
        if container is None:
            raise _JsonPatchFailure(f"move operation does not apply: doc is missing from path: {source}: missing value")
        value, _, error = _jp_get(container, key)
        if error:
            raise _JsonPatchFailure(f"error in move for path: '{key}': {error}")
        normal, error = _jp_remove_key(container, key)
        if error:
            raise _JsonPatchFailure(f"error in move for path: '{key}': {error}")
        self._mutate("remove", [*parts, normal])
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure(f"move operation failed to decode path: {error}")
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(
                f"move operation does not apply: doc is missing destination path: {path}: missing value"
            )
        normal, error = _jp_add_key(container, key)
        if error:
            raise _JsonPatchFailure(f"error in move for path: '{path}': {error}")
        self._mutate("add", [*parts, normal], value)

    def _op_copy(self, op: dict[str, Any]) -> None:
        source, error = self._field(op, "from")
        if source is None:
            raise _JsonPatchFailure(f"copy operation failed to decode from: {error}")
        container, _, key = _jp_find(self.doc, source)
        if container is None:
            raise _JsonPatchFailure(f"copy operation does not apply: doc is missing from path: {source}: missing value")
        value, _, error = _jp_get(container, key)
        if error:
            raise _JsonPatchFailure(f"error in copy for from: '{source}': {error}")
        path, _ = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure("copy operation failed to decode path: missing value")
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(
                f"copy operation does not apply: doc is missing destination path: {path}: missing value"
            )
        normal, error = _jp_add_key(container, key)
        if error:
            raise _JsonPatchFailure(f"error while adding value during copy: {error}")
        self._mutate("add", [*parts, normal], copy_json(value))

    def _op_test(self, op: dict[str, Any]) -> None:
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure(f"test operation failed to decode path: {error}")
        if path == "":
            if "value" not in op:
                raise internal_error(PANIC_NIL)
            if not _lazy_equal(self.doc, op["value"]):
                raise _JsonPatchFailure(f"testing value {path} failed: test failed")
            return
        container, _, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(f"test operation does not apply: is missing path: {path}: missing value")
        value, _, error = _jp_get(container, key)
        if error:
            raise _JsonPatchFailure(f"error in test for path: '{path}': {error}")
        if value is None:
            if "value" not in op:
                raise internal_error(PANIC_NIL)
            if op["value"] is None:
                return
            raise _JsonPatchFailure(f"testing value {path} failed: test failed")
        if "value" not in op or not _lazy_equal(value, op["value"]):
            raise _JsonPatchFailure(f"testing value {path} failed: test failed")


def _lazy_equal(have: Any, want: Any) -> bool:
    """evanphx ``lazyNode.equal``: keys of ``have`` only, scalars compared by their JSON text."""
    if isinstance(have, dict):
        if not isinstance(want, dict):
            return False
        for key, value in have.items():
            if key not in want:
                return False
            other = want[key]
            if value is None and other is None:
                continue
            if value is None:
                raise internal_error(PANIC_NIL)
            if not _lazy_equal(value, other):
                return False
        return True
    if isinstance(have, list):
        if not isinstance(want, list) or len(have) != len(want):
            return False
        for value, other in zip(have, want, strict=True):
            if value is None:
                raise internal_error(PANIC_NIL)
            if not _lazy_equal(value, other):
                return False
        return True
    if isinstance(want, (dict, list)):
        return False
    return go_json(have) == go_json(want)


def apply_json_patch(original: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch the way kube-apiserver does (evanphx/json-patch v4.12).

    Quirks kept from the server's library: ``replace`` of a missing object key
    adds it; ``copy`` from a missing object key copies null; negative array
    indices count from the end; ``replace`` of the whole document with a
    scalar does nothing. Neither argument is modified.

    Raises:
        SchemaError: 400 when the patch is not a list of operation objects or an
            operation field has the wrong type, 413 above 10000 operations, 422
            with the library's message when an operation does not apply.
    """
    if not isinstance(ops, list):
        raise SchemaError(f"json: cannot unmarshal {json_desc(ops)} into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise SchemaError(f"json: cannot unmarshal {json_desc(op)} into Go value of type jsonpatch.Operation")
    for index, op in enumerate(ops):
        # The server first decodes the ops into its jsonPatchOp struct (fieldValidation Strict or Warn).
        for field in ("op", "path", "from"):
            value = op.get(field)
            if value is not None and not isinstance(value, str):
                desc = json_desc(value)
                detail = f"json: cannot unmarshal {desc} into Go struct field jsonPatchOp.{field} of type string"
                raise SchemaError(f"error decoding patch: {detail}", f"[{index}].{field}")
    if len(ops) > _MAX_JSON_PATCH_OPERATIONS:
        raise SchemaError(
            f"The allowed maximum operations in a JSON patch is {_MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            code=413,
            reason="RequestEntityTooLarge",
        )
    patcher = _JsonPatcher(copy_json(original))
    for op in ops:
        try:
            patcher.apply(op)
        except _JsonPatchFailure as failure:
            path = op.get("path") if isinstance(op.get("path"), str) else ""
            raise SchemaError(str(failure), path, code=422, reason="Invalid") from None
    return patcher.doc
