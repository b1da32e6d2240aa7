"""Strategic merge patch, as kube-apiserver applies it.

:func:`strategic_merge_patch` ports the apply half of apimachinery's
``pkg/util/strategicpatch/patch.go`` (``StrategicMergeMapPatch`` with the
server's options: merge parallel lists, ignore unmatched nulls), including the
``$patch``, ``$retainKeys``, ``$deleteFromPrimitiveList`` and
``$setElementOrder`` directives, Go's quirks (a duplicate scalar is replaced by
the last item, Go's insertion sort on inconsistent orders) and its error texts.
Merge keys and strategies come from the schema's ``x-kubernetes-patch-merge-key``
and ``x-kubernetes-patch-strategy``, looked up the way ``LookupPatchMetadataForStruct``
looks them up in Go structs.

Upstream sources followed (repository:path): kubernetes/apimachinery
``pkg/util/strategicpatch/patch.go``, ``pkg/util/mergepatch/errors.go``.
"""

from __future__ import annotations

from typing import Any

from .gofmt import PANIC_NIL, copy_json, go_eq, go_fmt, go_in, go_quote, go_type, json_desc
from .schemas import SchemaError, Schemas, Shape, internal_error

__all__ = ["strategic_merge_patch"]

# Strategic merge patch directives (strategicpatch/patch.go).
_DIRECTIVE = "$patch"
_DELETE = "delete"
_REPLACE = "replace"
_MERGE = "merge"
_RETAIN_KEYS = "retainKeys"
_RETAIN_KEYS_DIRECTIVE = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"

# mergepatch/errors.go sentinel errors.
_ERR_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_ERR_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_ERR_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
_ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"


def strategic_merge_patch(schemas: Schemas, original: dict[str, Any], patch: Any, kind_def: str) -> dict[str, Any]:
    """Apply a strategic merge patch as ``StrategicMergeMapPatch`` does on the server.

    Neither argument is modified. The result still has to go through
    :func:`.decoding.decode` with ``patch_type="strategic"``.

    Raises:
        SchemaError: 400 for malformed directives, 422 for lists of lists,
            500 (reason ``""``) for the errors the server passes through
            unclassified (a missing merge key, an unknown ``$patch``...).
    """
    if not isinstance(original, dict):
        raise TypeError("original must be a dict")
    if not isinstance(patch, dict):
        raise SchemaError(
            f"json: cannot unmarshal {json_desc(patch)} into Go value of type map[string]interface {{}}"
        )
    shape = schemas.kind_shape(kind_def)
    # The Go code mutates both maps; work on copies so the caller's objects stay as they were.
    return _Merger(schemas).merge_map(copy_json(original), copy_json(patch), shape)


class _Merger:
    """One strategic merge: ``patch.go``'s recursive merge, with patch metadata from the schemas."""

    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas

    def _lookup_struct(self, shape: Shape | None, key: str) -> tuple[Shape | None, list[str], str]:
        """``LookupPatchMetadataForStruct``: the field's shape, patch strategies and merge key."""
        if shape is None or shape.kind == "free":
            return None, [], ""  # free-form JSON: no metadata, plain merge
        if shape.kind == "map":
            return shape.elem, [], ""
        if shape.kind != "struct":
            raise internal_error(
                f"merging an object in json but data type is not map or struct, instead is: {shape.go_kind}"
            )
        prop = shape.props.get(key)
        if prop is None:
            raise internal_error(
                f"unable to find api field in struct {shape.struct_name} for the json field {go_quote(key)}"
            )
        strategy = prop.get("x-kubernetes-patch-strategy")
        strategies = strategy.split(",") if isinstance(strategy, str) and strategy else []
        return self.schemas.shape(prop), strategies, prop.get("x-kubernetes-patch-merge-key") or ""

    def _lookup_slice(self, shape: Shape | None, key: str) -> tuple[Shape | None, list[str], str]:
        """``LookupPatchMetadataForSlice``: like the struct lookup, but yields the element shape."""
        sub, strategies, merge_key = self._lookup_struct(shape, key)
        if sub is None or sub.kind == "free":
            return None, strategies, merge_key
        if sub.kind not in ("list", "bytes"):
            parent = shape.go_kind if shape is not None else "interface"
            raise internal_error(f"expected slice or array type, but got: {parent}")
        return sub.elem, strategies, merge_key

    def merge_map(
        self, original: dict[str, Any] | None, patch: dict[str, Any], shape: Shape | None
    ) -> dict[str, Any]:
        """``mergeMap`` with the server's options (merge parallel lists, ignore unmatched nulls)."""
        if _DIRECTIVE in patch:
            return _directive_in_map(patch[_DIRECTIVE], patch)
        if original is None:
            original = {}
        _apply_retain_keys(original, patch)
        self._merge_patch_into_original(original, patch, shape)
        for key, patch_value in list(patch.items()):
            is_delete_list = False
            if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
                key = _extract_key(key, _DELETE_FROM_PRIMITIVE_LIST)
                is_delete_list = True
            if patch_value is None:
                original.pop(key, None)
                continue
            if key not in original or go_type(original[key]) != go_type(patch_value):
                if not is_delete_list:
                    _discard_nulls(patch_value)
                    value, keep = _remove_directives(patch_value)
                    if keep:
                        original[key] = value
                    else:
                        original.pop(key, None)
                continue
            current = original[key]
            if isinstance(current, dict):
                sub, strategies, _ = self._lookup_struct(shape, key)
                _, strategy = _retain_keys_strategy(strategies)
                # mergeMapHandler: a "replace" strategy takes the patch value as it is
                original[key] = patch_value if strategy == _REPLACE else self.merge_map(current, patch_value, sub)
            elif isinstance(current, list):
                sub, strategies, merge_key = self._lookup_slice(shape, key)
                _, strategy = _retain_keys_strategy(strategies)
                original[key] = self._merge_slice_handler(
                    current, patch_value, sub, strategy, merge_key, is_delete_list
                )
            else:
                original[key] = patch_value
        return original

    def _merge_slice_handler(
        self,
        original: list[Any],
        patch: list[Any],
        elem: Shape | None,
        strategy: str,
        merge_key: str,
        is_delete_list: bool,
    ) -> list[Any]:
        """``mergeSliceHandler``: merge lists merge; delete lists delete; the rest is replaced."""
        if strategy == _MERGE or is_delete_list:
            return self._merge_slice(original, patch, elem, merge_key, is_delete_list)
        return patch

    def _merge_slice(
        self, original: list[Any], patch: list[Any], elem: Shape | None, merge_key: str, is_delete_list: bool
    ) -> list[Any]:
        """``mergeSlice``: union of primitives, or merge of maps by their merge key."""
        if not original and not patch:
            return original
        kind = _slice_element_type(original, patch)
        if kind != "map":
            if is_delete_list:
                return [v for v in original if not go_in(v, patch)]
            merged = _dedupe_scalars(original + patch)
        else:
            if not merge_key:
                what = elem.name or elem.go_type if elem is not None else "interface {}"
                raise internal_error(f"cannot merge lists without merge key for {what}")
            original, patch = _merge_special_elements(original, patch, merge_key)
            merged = self._merge_plain_elements(original, patch, merge_key, elem)
        if not merge_key:
            patch_items, server_only = _partition_primitives(merged, patch)
        else:
            patch_items, server_only = _partition_maps(merged, patch, merge_key)
        return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)

    def _merge_plain_elements(
        self, original: list[Any], patch: list[Any], merge_key: str, elem: Shape | None
    ) -> list[Any]:
        """``mergeSliceWithoutSpecialElements``: merge items with equal keys, append the new ones."""
        # Go appends to its own slice header: the caller's ``original`` (used afterwards as
        # the server order) keeps its length, so work on a copy of the list.
        original = list(original)
        for item in patch:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            index = _find_map(original, merge_key, item[merge_key])
            if index is None:
                original.append(item)
            else:
                original[index] = self.merge_map(original[index], item, elem)
        return original

    def _merge_patch_into_original(self, original: dict[str, Any], patch: dict[str, Any], shape: Shape | None) -> None:
        """``mergePatchIntoOriginal``: merge the lists that carry ``$setElementOrder`` and order them."""
        for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
            set_order = patch.pop(key)
            if not isinstance(set_order, list):
                raise _bad_arg_type("[]interface {}", set_order)
            original_key = _extract_key(key, _SET_ELEMENT_ORDER)
            found_original, found_patch = original_key in original, original_key in patch
            original_list: list[Any] = []
            patch_list: list[Any] = []
            if found_original:
                if not isinstance(original[original_key], list):
                    raise _bad_arg_type("[]interface {}", original[original_key])
                original_list = original[original_key]
            if found_patch:
                if not isinstance(patch[original_key], list):
                    raise _bad_arg_type("[]interface {}", patch[original_key])
                patch_list = patch[original_key]
            elem, strategies, merge_key = self._lookup_slice(shape, original_key)
            _, strategy = _retain_keys_strategy(strategies)
            _validate_with_set_order(patch_list, set_order, merge_key)
            if found_original and not found_patch:
                merged = original_list
            elif found_patch and not found_original:
                merged = _remove_directives(patch_list)[0]
            elif found_original and found_patch:
                merged = self._merge_slice_handler(original_list, patch_list, elem, strategy, merge_key, False)
            else:
                continue
            if not merge_key:
                patch_items, server_only = _partition_primitives(merged, set_order)
            else:
                patch_items, server_only = _partition_maps(merged, set_order, merge_key)
            kind = _slice_element_type(original_list, patch_list)
            original[original_key] = _normalize_element_order(
                patch_items, server_only, set_order, original_list, merge_key, kind
            )
            patch.pop(original_key, None)


# ---------------------------------------------------------------------------
# Strategic merge patch helpers (schema-free parts of patch.go).
# ---------------------------------------------------------------------------


def _bad_arg_type(expected: str, actual: Any) -> SchemaError:
    """``mergepatch.ErrBadArgType``."""
    actual_type = go_type(actual) or "%!s(<nil>)"
    return internal_error(f"expected a {expected}, but received a {actual_type}")


def _no_merge_key(item: Any, merge_key: str) -> SchemaError:
    """``mergepatch.ErrNoMergeKey``."""
    return internal_error(f"map: {go_fmt(item)} does not contain declared merge key: {merge_key}")


def _directive_in_map(directive: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """``handleDirectiveInMergeMap``: ``$patch: replace`` uses the patch, ``delete`` empties the map."""
    if go_eq(directive, _REPLACE):
        del patch[_DIRECTIVE]
        return patch
    if go_eq(directive, _DELETE):
        return {}
    raise internal_error(f"unknown patch type: {go_fmt(directive, 's')} in map: {go_fmt(patch)}")


def _extract_key(key: str, prefix: str) -> str:
    """Strip a ``$prefix/`` from a parallel-list key, or reject it with the server's 400."""
    head, sep, tail = key.partition("/")
    if not sep or head != prefix:
        if prefix == _DELETE_FROM_PRIMITIVE_LIST:
            raise SchemaError(_ERR_BAD_PRIMITIVE_LIST)
        raise SchemaError(_ERR_BAD_SET_ELEMENT_ORDER)
    return tail


def _retain_keys_strategy(strategies: list[str]) -> tuple[bool, str]:
    """``extractRetainKeysPatchStrategy``."""
    if not strategies:
        return False, ""
    if len(strategies) == 1:
        return (True, "") if strategies[0] == _RETAIN_KEYS else (False, strategies[0])
    if len(strategies) == 2 and _RETAIN_KEYS in strategies:
        return True, strategies[1] if strategies[0] == _RETAIN_KEYS else strategies[0]
    raise internal_error(f"unexpected patch strategy: {go_fmt(strategies)}")


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """``applyRetainKeysDirective``: clear the keys ``$retainKeys`` does not list."""
    if _RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise SchemaError(_ERR_BAD_RETAIN_KEYS)
    for item in retain:
        if isinstance(item, (dict, list)):
            raise internal_error(f"runtime error: hash of unhashable type {go_type(item)}")
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
            continue
        if not go_in(key, retain):
            raise SchemaError(_ERR_BAD_RETAIN_KEYS)
    for key in [k for k in original if not go_in(k, retain)]:
        del original[key]


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """``removeDirectives``: drop maps carrying ``$patch`` from a value new to the original."""
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return None, False
        for key in list(value):
            value[key], keep = _remove_directives(value[key])
            if not keep:
                del value[key]
        return value, True
    if isinstance(value, list):
        out = []
        for item in value:
            new, keep = _remove_directives(item)
            if keep:
                out.append(new)
        return out, True
    return value, True


def _discard_nulls(value: Any) -> None:
    """``discardNullValuesFromPatch``: nulls in a value new to the original mean nothing."""
    if isinstance(value, dict):
        for key in list(value):
            if value[key] is None:
                del value[key]
            else:
                _discard_nulls(value[key])
    elif isinstance(value, list):
        for item in value:
            _discard_nulls(item)


def _slice_element_type(*lists: list[Any]) -> str:
    """``sliceElementType``: the common element type, ``"map"`` for maps."""
    previous: str | None = None
    first = True
    for items in lists:
        for item in items:
            current = go_type(item)
            if first:
                first = False
                previous = current
                if current is None:
                    raise internal_error(PANIC_NIL)
                if current == "[]interface {}":
                    raise SchemaError(_ERR_NO_LIST_OF_LISTS, code=422, reason="")
            elif previous != current:
                raise internal_error(f"list element types are not identical: {go_fmt(list(lists))}")
    if first:
        raise internal_error("no elements in any of the given slices")
    return "map" if previous == "map[string]interface {}" else "scalar"


def _dedupe_scalars(items: list[Any]) -> list[Any]:
    """``deduplicateScalars``, order quirks included (a duplicate is replaced by the last item)."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _find_map(items: list[Any], key: str, value: Any) -> int | None:
    """``findMapInSliceBasedOnKeyValue``: the index of the map whose ``key`` equals ``value``."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise internal_error(f"value for key {index} is not a map")
        if key in item and go_eq(item[key], value):
            return index
    return None


def _merge_special_elements(original: list[Any], patch: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """``mergeSliceWithSpecialElements``: apply ``$patch: delete|replace`` items of a merge list."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        if go_eq(directive, _DELETE):
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find_map(original, merge_key, item[merge_key])) is not None:
                original = original[:index] + original[index + 1 :]
        elif go_eq(directive, _REPLACE):
            replace = True  # keep going: the other $patch items are pruned too
        elif go_eq(directive, _MERGE):
            raise internal_error("merging lists cannot yet be specified in the patch")
        else:
            raise internal_error(f"unknown patch type: {go_fmt(directive, 's')} in map: {go_fmt(item)}")
    if replace:
        return plain, []
    return original, plain


def _partition_primitives(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    """``partitionPrimitivesByPresentInList``."""
    for value in by:
        if isinstance(value, (dict, list)):
            raise internal_error(f"runtime error: hash of unhashable type {go_type(value)}")
    inside = [v for v in items if go_in(v, by)]
    outside = [v for v in items if not go_in(v, by)]
    return inside, outside


def _partition_maps(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """``partitionMapsByPresentInList``."""
    inside, outside = [], []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (inside if _find_map(by, merge_key, item[merge_key]) is not None else outside).append(item)
    return inside, outside


def _index_in(order: list[Any], value: Any, merge_key: str, kind: str) -> int:
    """``index``: position of ``value`` in ``order`` by merge key (maps) or value (scalars)."""

    def key_of(item: Any) -> Any:
        if kind == "map":
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    wanted = key_of(value)
    for position, item in enumerate(order):
        if go_eq(wanted, key_of(item)):
            return position
    return -1


def _sort_by_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """``sort.SliceStable`` by position in ``order``.

    Go's comparator reports "less" whenever an item is missing from ``order``,
    which is not a consistent ordering; for up to 20 items Go's stable sort is
    a plain insertion sort, replayed here exactly. Longer lists with missing
    items (which the server's own inputs never produce) keep those items last.
    """
    positions = [_index_in(order, item, merge_key, kind) for item in items]
    if all(p >= 0 for p in positions) or len(items) > 20:
        ranked = sorted(range(len(items)), key=lambda i: positions[i] if positions[i] >= 0 else len(order))
        return [items[i] for i in ranked]
    pairs = list(zip(positions, items, strict=True))

    def less(a: int, b: int) -> bool:
        return a >= 0 and b >= 0 and a < b or a < 0 or b < 0

    for i in range(1, len(pairs)):
        j = i
        while j > 0 and less(pairs[j][0], pairs[j - 1][0]):
            pairs[j], pairs[j - 1] = pairs[j - 1], pairs[j]
            j -= 1
    return [item for _, item in pairs]


def _normalize_slice_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """``normalizeSliceOrder``: sort by ``order``, ``$patch: delete`` items last."""
    deleted: list[Any] = []
    if kind == "map":
        for listed in (items, order):
            for item in listed:
                if not isinstance(item, dict):
                    raise _bad_arg_type("map[string]interface {}", item)
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
        kept = [i for i in items if not (_DIRECTIVE in i and go_eq(i[_DIRECTIVE], _DELETE))]
        deleted = [i for i in items if _DIRECTIVE in i and go_eq(i[_DIRECTIVE], _DELETE)]
        items = kept
    return _sort_by_order(items, order, merge_key, kind) + deleted


def _normalize_element_order(
    patch: list[Any], server_only: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    """``normalizeElementOrder``: patch items in patch order, server-only items interleaved."""
    patch = _normalize_slice_order(patch, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    # mergeSortedSlice: insert server-only items (left) before the first patch item (right)
    # that comes after them on the server.
    left, right = server_only, patch
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index_in(server_order, left[i], merge_key, kind)
            ri = _index_in(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _validate_with_set_order(patch_list: list[Any], set_order: list[Any], merge_key: str) -> None:
    """``validatePatchWithSetOrderList``: patch items must appear in ``$setElementOrder`` in order."""
    if not set_order or not patch_list:
        return
    items = patch_list
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise _bad_arg_type("map[string]interface {}", item)
        items = [i for i in patch_list if not (_DIRECTIVE in i and go_eq(i[_DIRECTIVE], _DELETE))]
    pi = si = 0
    while pi < len(items) and si < len(set_order):
        if isinstance(items[pi], dict) and _DIRECTIVE in items[pi]:
            pi += 1
            continue
        if merge_key:
            left, right = items[pi], set_order[si]
            if not isinstance(left, dict):
                raise _bad_arg_type("map[string]interface {}", left)
            if not isinstance(right, dict):
                raise _bad_arg_type("map[string]interface {}", right)
            if merge_key not in left:
                raise _no_merge_key(left, merge_key)
            if merge_key not in right:
                raise _no_merge_key(right, merge_key)
            equal = go_eq(left[merge_key], right[merge_key])
        else:
            equal = go_eq(items[pi], set_order[si])
        if equal:
            pi += 1
        si += 1
    if pi < len(items) and si >= len(set_order):
        raise internal_error(
            f"the order in patch list:\n{go_fmt(patch_list)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER} list:\n{go_fmt(set_order)}"
        )


