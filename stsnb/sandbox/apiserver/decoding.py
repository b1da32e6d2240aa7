"""Decoding request bodies the way kube-apiserver's JSON decoder does, errors included.

:func:`decode` turns a request body into a cleaned object the way the API
server's decoder does (``sigs.k8s.io/json``, ``encoding/json``): wrong JSON
types are rejected with the server's exact wording, unknown fields are rejected
(``fieldValidation=Strict``) or dropped with a warning. The Go types with their
own unmarshalers are checked as Go checks them: ``resource.Quantity``,
``metav1.Time`` (RFC 3339) and ``[]byte`` (base64). A quantity is kept in the form
``resource.Quantity`` marshals back (``"0.5"`` becomes ``"500m"``, ``"1.5Gi"`` becomes
``"1536Mi"``: :func:`stsnb.k8s.quantity.canonical_quantity`). A body that is a strategically
patched object goes through apimachinery's unstructured converter instead of the
JSON decoder, and its errors are worded as the converter words them.

Upstream sources followed (repository:path): kubernetes-sigs/json
``internal/golang/encoding/json/{decode.go,kubernetes_patch.go}``;
kubernetes/apimachinery ``pkg/runtime/converter.go``,
``pkg/runtime/serializer/json/meta.go`` (``SimpleMetaFactory.Interpret``),
``pkg/api/resource/quantity.go``; Go's ``time`` (``time.Parse``) and
``encoding/base64``; kubernetes/apiserver ``pkg/endpoints/handlers/{create.go,
patch.go,rest.go}`` (how the handlers wrap decoder errors).

Known differences from a real server:

* Inline-embedded Go structs show up in the Go field path of type errors only
  for the two cases the sandbox meets: ``TypeMeta`` in kinds and
  ``VolumeSource`` in ``Volume``.
* Duplicate JSON keys are not detected (the decoded dict no longer has them).
* Patch errors quote the patch as sent (the server quotes it after the merge
  code has mutated it) and the patched object with sorted keys (the server
  keeps its struct order for untouched parts).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ...k8s.quantity import canonical_quantity
from ..hashing import go_json
from .gofmt import INT64, copy_json, go_fmt, go_kind, go_quote, json_desc, json_number
from .schemas import SchemaError, Schemas, Shape

__all__ = ["decode"]

# The anonymous struct apimachinery's SimpleMetaFactory.Interpret decodes into, as reflect prints it.
_INTERPRET_TYPE = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)

_QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_QUANTITY_SUFFIX = "unable to parse quantity's suffix"
_QUANTITY_SUFFIXES = frozenset(["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"])


# ---------------------------------------------------------------------------
# Custom Go unmarshalers: resource.Quantity, metav1.Time, []byte.
# ---------------------------------------------------------------------------


def _quantity_error(text: str) -> str | None:
    """``resource.ParseQuantity``'s error for ``text``, or ``None`` if it parses.

    A port of ``parseQuantityString`` and the suffixer of apimachinery's
    ``pkg/api/resource``; the numeric-overflow cases are not modelled.
    """
    if text == "":
        return _QUANTITY_FORMAT
    if text == "0":
        return None
    pos, end = 0, len(text)
    if text[0] in "+-":
        pos += 1
    while True:  # leading zeros
        if pos >= end:
            return None
        if text[pos] != "0":
            break
        pos += 1
    while True:  # numerator
        if pos >= end:
            return None
        if not "0" <= text[pos] <= "9":
            break
        pos += 1
    if text[pos] == ".":  # denominator
        pos += 1
        while True:
            if pos >= end:
                return None
            if not "0" <= text[pos] <= "9":
                break
            pos += 1
    suffix_start = pos
    while pos < end and text[pos] in "eEinumkKMGTP":
        pos += 1
    if pos < end:
        if text[pos] in "+-":
            pos += 1
        while pos < end:
            if not "0" <= text[pos] <= "9":
                return _QUANTITY_FORMAT
            pos += 1
    suffix = text[suffix_start:]
    if suffix in _QUANTITY_SUFFIXES:
        return None
    # a decimal exponent "e<int64>" (strconv.ParseInt of the rest)
    exponent = suffix[1:]
    if suffix[:1] in ("e", "E") and re.fullmatch(r"[+-]?[0-9]+", exponent) and INT64[0] <= int(exponent) <= INT64[1]:
        return None
    return _QUANTITY_SUFFIX


def _time_quote(s: str) -> str:
    """The ``time`` package's own ``quote`` (non-ASCII and controls as ``\\x`` bytes)."""
    out = ['"']
    for ch in s:
        if ord(ch) >= 0x80 or ord(ch) < 0x20:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "replace"))
        else:
            out.append("\\" + ch if ch in '"\\' else ch)
    out.append('"')
    return "".join(out)


def _time_error(value: str) -> str | None:
    """``time.Parse(time.RFC3339, value)``'s error, or ``None`` if it parses.

    A port of the general ``time.parse`` loop for the RFC 3339 layout, which is
    what produces the messages (the fast path only decides success).
    """
    layout = "2006-01-02T15:04:05Z07:00"

    def cannot(layout_elem: str, value_elem: str) -> str:
        return (
            f"parsing time {_time_quote(value)} as {_time_quote(layout)}: "
            f"cannot parse {_time_quote(value_elem)} as {_time_quote(layout_elem)}"
        )

    def out_of_range(what: str) -> str:
        return f"parsing time {_time_quote(value)}: {what} out of range"

    def getnum(s: str, fixed: bool) -> tuple[int | None, str]:
        if not s or not "0" <= s[0] <= "9":
            return None, s
        if len(s) < 2 or not "0" <= s[1] <= "9":
            return (None, s) if fixed else (int(s[0]), s[1:])
        return int(s[:2]), s[2:]

    rest = value
    year_text = rest[:4]
    if len(rest) < 4 or not re.fullmatch(r"[+-]?[0-9]+", year_text):
        return cannot("2006", rest)
    year, rest = int(year_text), rest[4:]
    values: dict[str, int] = {}
    for literal, elem, fixed, limit in (
        ("-", "01", True, 12),
        ("-", "02", True, None),
        ("T", "15", False, 24),
        (":", "04", True, 60),
        (":", "05", True, 60),
    ):
        if not rest.startswith(literal):
            return cannot(literal, rest)
        rest = rest[len(literal) :]
        number, after = getnum(rest, fixed)
        if number is None:
            return cannot(elem, rest)
        if elem == "01" and not 0 < number <= 12:
            return out_of_range("month")
        if limit is not None and elem != "01" and number >= limit:
            return out_of_range({"15": "hour", "04": "minute", "05": "second"}[elem])
        values[elem] = number
        rest = after
    fraction = re.match(r"[.,][0-9]+", rest)
    if fraction:
        rest = rest[fraction.end() :]
    if rest.startswith("Z"):
        rest = rest[1:]
    else:
        hold = rest
        if len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
            return cannot("Z07:00", hold)
        hours, _ = getnum(rest[1:3], True)
        minutes, _ = getnum(rest[4:6], True)
        if hours is None or minutes is None:
            return cannot("Z07:00", hold)
        if hours > 24:
            return out_of_range("time zone offset hour")
        if minutes > 60:
            return out_of_range("time zone offset minute")
        rest = rest[6:]
    if rest:
        return f"parsing time {_time_quote(value)}: extra text: {_time_quote(rest)}"
    month, day = values["01"], values["02"]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    if not 1 <= day <= days:
        return f"parsing time {_time_quote(value)}: day out of range"
    return None


_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _base64_error(text: str) -> str | None:
    """``base64.StdEncoding``'s ``CorruptInputError`` text, or ``None`` (port of ``decodeQuantum``)."""
    src = text.encode("utf-8")
    si, n = 0, len(src)

    def corrupt(offset: int) -> str:
        return f"illegal base64 data at input byte {offset}"

    def skip_newlines(i: int) -> int:
        while i < n and src[i] in (10, 13):
            i += 1
        return i

    while True:
        j = 0
        while j < 4:
            if si == n:
                return None if j == 0 else corrupt(si - j)
            c = src[si]
            si += 1
            if c in _B64_ALPHABET:
                j += 1
                continue
            if c in (10, 13):
                continue
            if c != ord("=") or j < 2:
                return corrupt(si - 1)
            if j == 2:  # "==" expected
                si = skip_newlines(si)
                if si == n:
                    return corrupt(n)
                if src[si] != ord("="):
                    return corrupt(si - 1)
                si += 1
            si = skip_newlines(si)
            return corrupt(si) if si < n else None



# ---------------------------------------------------------------------------
# Decoding.
# ---------------------------------------------------------------------------


class _Mismatch(Exception):
    """A value of the wrong JSON type (an ``UnmarshalTypeError`` in Go)."""

    def __init__(
        self, value: Any, shape: Shape, spath: str, struct: str, gofield: tuple[str, ...], desc: str, go_type: str
    ) -> None:
        super().__init__(desc)
        self.value = value
        self.shape = shape
        self.spath = spath
        self.struct = struct
        self.gofield = gofield
        self.desc = desc  # "string", "number 1.5", ...
        self.go_type = go_type  # the Go type the JSON decoder names

    def json_detail(self) -> str:
        """encoding/json's message, with the decoder's field context."""
        if self.struct or self.gofield:
            field = ".".join(self.gofield)
            return (
                f"json: cannot unmarshal {self.desc} into Go struct field {self.struct}.{field} of type {self.go_type}"
            )
        return f"json: cannot unmarshal {self.desc} into Go value of type {self.go_type}"

    def converter_detail(self) -> str:
        """apimachinery's unstructured converter's message (strategic merge patch path)."""
        kind, value = self.shape.kind, self.value
        src = go_kind(value)
        if kind == "struct":
            return f"cannot restore struct from: {src}"
        if kind in ("list", "bytes"):
            return f"cannot restore slice from {src}"
        if kind == "map":
            return f"cannot restore map from {src}"
        if kind in ("intstr", "time"):  # types with UnmarshalJSON: decoded through JSON, no context
            return f"json: cannot unmarshal {self.desc} into Go value of type {self.go_type}"
        target = {"float": "float64"}.get(kind, kind)
        if src == "int64" and target == "string":
            return "cannot convert int64 to string"  # Go can convert int → string, JSON can't
        if src == "float64" and target in ("int32", "int64"):
            return f"cannot convert float64 to {target}"
        return f"unrecognized type: {target}"


class _Special(Exception):
    """An error a custom UnmarshalJSON returns as is (quantity, time, base64)."""

    def __init__(self, text: str, spath: str) -> None:
        super().__init__(text)
        self.text = text
        self.spath = spath


class _Decoder:
    """One decode run: walks a value against shapes, collecting unknown fields."""

    def __init__(self, schemas: Schemas, converter: bool) -> None:
        self.schemas = schemas
        # The strategic-merge path goes through runtime.DefaultUnstructuredConverter,
        # which converts integral floats to ints; the JSON decoder refuses them.
        self.converter = converter
        self.unknown: list[str] = []

    def walk(self, value: Any, shape: Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
        kind = shape.kind
        if kind == "struct":
            return self._struct(value, shape, spath, gofield, struct)
        if kind == "map":
            if not isinstance(value, dict):
                raise self._mismatch(value, shape, spath, gofield, struct)
            elem = shape.elem
            assert elem is not None
            out = {}
            for key, item in value.items():
                child = f"{spath}.{key}" if spath else key
                out[key] = self._zero(elem) if item is None else self.walk(item, elem, child, gofield, struct)
            return out
        if kind == "list":
            if not isinstance(value, list):
                raise self._mismatch(value, shape, spath, gofield, struct)
            elem = shape.elem
            assert elem is not None
            return [
                self._zero(elem) if item is None else self.walk(item, elem, f"{spath}[{i}]", gofield, struct)
                for i, item in enumerate(value)
            ]
        return self._scalar(value, shape, spath, gofield, struct)

    def _struct(self, value: Any, shape: Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
        if not isinstance(value, dict):
            raise self._mismatch(value, shape, spath, gofield, struct)
        props = shape.props
        out = {}
        for key, item in value.items():
            child = f"{spath}.{key}" if spath else key
            prop = props.get(key)
            if prop is None:
                if len(self.unknown) < 100 and child not in self.unknown:  # sigs.k8s.io/json caps at 100
                    self.unknown.append(child)
                continue
            if item is None:  # JSON null leaves the Go zero value: the field disappears
                continue
            if shape.typemeta and key in ("apiVersion", "kind"):
                field = (*gofield, "TypeMeta", key)
            elif shape.volume and key != "name":
                field = (*gofield, "VolumeSource", key)
            else:
                field = (*gofield, key)
            out[key] = self.walk(item, self.schemas.shape(prop), child, field, shape.struct_name)
        return out

    def _scalar(self, value: Any, shape: Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
        kind = shape.kind
        if kind == "free":
            return copy_json(value)
        if kind == "string":
            if isinstance(value, str):
                return value
            raise self._mismatch(value, shape, spath, gofield, struct)
        if kind in ("int32", "int64", "intstr"):
            if kind == "intstr" and isinstance(value, str):
                return value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._mismatch(value, shape, spath, gofield, struct)
            bits = 64 if kind == "int64" else 32
            if self.converter and isinstance(value, float) and value.is_integer():
                value = int(value)  # the converter (and json.Marshal for IntOrString) accepts 3.0 as 3
            if self.converter and kind != "intstr" and isinstance(value, int):
                # reflect.Value.Convert from int64 truncates silently, as on the server
                value &= (1 << bits) - 1
                return value - (1 << bits) if value >> (bits - 1) else value
            if isinstance(value, float) or not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
                raise self._mismatch(value, shape, spath, gofield, struct, f"number {json_number(value)}")
            return value
        if kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            raise self._mismatch(value, shape, spath, gofield, struct)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._mismatch(value, shape, spath, gofield, struct)
        if kind == "quantity":
            if isinstance(value, str):
                text = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                text = json_number(value)
            else:
                text = json.dumps(value, separators=(",", ":"))
            error = _quantity_error(text.strip())
            if error:
                raise _Special(error, spath)
            return canonical_quantity(text)  # as resource.Quantity marshals it back: "0.5" is stored as "500m"
        if kind == "time":
            if not isinstance(value, str):
                raise self._mismatch(value, shape, spath, gofield, struct)
            error = _time_error(value)
            if error:
                raise _Special(error, spath)
            return value
        if kind == "bytes":
            if isinstance(value, str):
                error = _base64_error(value)
                if error:
                    raise _Special(error, spath)
                return value
            if isinstance(value, list):  # encoding/json also fills a []byte from an array of numbers
                for item in value:
                    if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 255:
                        desc = json_desc(item)
                        if isinstance(item, (int, float)) and not isinstance(item, bool):
                            desc = f"number {json_number(item)}"
                        raise _Mismatch(item, shape, spath, struct, gofield, desc, "uint8")
                return base64.b64encode(bytes(value)).decode("ascii")
            raise self._mismatch(value, shape, spath, gofield, struct)
        return copy_json(value)

    def _mismatch(
        self, value: Any, shape: Shape, spath: str, gofield: tuple[str, ...], struct: str, desc: str | None = None
    ) -> _Mismatch:
        go_type = {"intstr": "int32", "time": "string"}.get(shape.kind, shape.go_type)
        return _Mismatch(value, shape, spath, struct, gofield, desc or json_desc(value), go_type)

    @staticmethod
    def _zero(shape: Shape) -> Any:
        """The Go zero value a JSON null leaves in a map value or a list element."""
        return {
            "struct": {},
            "string": "",
            "int32": 0,
            "int64": 0,
            "float": 0,
            "bool": False,
            "intstr": 0,
            "quantity": "0",
        }.get(shape.kind)


# ---------------------------------------------------------------------------
# Decoding a request body.
# ---------------------------------------------------------------------------


def decode(
    schemas: Schemas,
    obj: Any,
    kind_def: str,
    strict: bool = True,
    *,
    patch_type: str | None = None,
    patch: Any = None,
) -> tuple[dict[str, Any], list[str]]:
    """Decode a request body into a cleaned object, as the API server's decoder does.

    The cleaned object keeps only known fields, drops fields set to JSON
    null (they leave Go's zero value) and turns nulls inside maps and lists
    into the element type's zero value.

    Args:
        schemas: The API schemas of the imitated Kubernetes version.
        obj: The parsed JSON body (or the result of applying a patch).
        kind_def: The definition name, from :meth:`Schemas.type_for`.
        strict: ``True`` for ``fieldValidation=Strict`` (unknown fields are an
            error); ``False`` for ``Warn`` (they are dropped and reported as
            warnings). For ``Ignore``, pass ``False`` and discard the warnings.
        patch_type: ``None`` for create and update bodies; ``"json"``,
            ``"merge"`` or ``"strategic"`` when ``obj`` is a patched object, so
            the error is worded as the server's patch handler words it.
        patch: For ``"strategic"``, the patch that was applied (the server
            quotes it in its errors).

    Returns:
        The cleaned object and the warning texts (``unknown field "spec.foo"``),
        which the server sends as ``Warning: 299 - "..."`` headers.

    Raises:
        SchemaError: with the server's message, status code and reason.
    """
    shape = schemas.kind_shape(kind_def)
    # The JSON codec first reads apiVersion and kind (SimpleMetaFactory.Interpret); the
    # strategic-merge path converts the map directly and skips that step.
    interpret_error = None if patch_type == "strategic" else _interpret_error(obj)
    if interpret_error:
        if patch_type is not None:
            raise _failure(schemas, interpret_error, "", obj, kind_def, patch_type, patch)
        kind = _version_and_kind(schemas, kind_def)[1]
        # handlers/rest.go summarizeData(body, 30): objects as text, anything else as hex
        body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        head = body[:30].decode("utf-8", "ignore") if body.startswith(b"{") else body[:30].hex()
        summary = head + (" ..." if len(body) > 30 else "")
        raise SchemaError(
            f"the object provided is unrecognized (must be of type {kind}): {interpret_error} ({summary})",
            detail=interpret_error,
        )
    decoder = _Decoder(schemas, converter=patch_type == "strategic")
    try:
        cleaned = decoder.walk(obj, shape, "", (), "")
    except _Mismatch as mismatch:
        detail = mismatch.converter_detail() if patch_type == "strategic" else mismatch.json_detail()
        raise _failure(schemas, detail, mismatch.spath, obj, kind_def, patch_type, patch) from None
    except _Special as special:
        raise _failure(schemas, special.text, special.spath, obj, kind_def, patch_type, patch) from None
    warnings = [f"unknown field {go_quote(path)}" for path in decoder.unknown]
    if warnings and strict:
        raise _failure(
            schemas,
            "strict decoding error: " + ", ".join(warnings),
            decoder.unknown[0],
            obj,
            kind_def,
            patch_type,
            patch,
        )
    return cleaned, ([] if strict else warnings)


def _version_and_kind(schemas: Schemas, kind_def: str) -> tuple[str, str]:
    """(version, kind) for messages; a definition that is no kind is named by its Go type."""
    gvks = schemas.definition(kind_def).get("x-kubernetes-group-version-kind") or []
    if gvks:
        return gvks[0]["version"], gvks[0]["kind"]
    parts = kind_def.split(".")
    return (parts[-2] if len(parts) >= 2 else ""), parts[-1]


def _interpret_error(obj: Any) -> str | None:
    """What apimachinery's ``SimpleMetaFactory.Interpret`` says before decoding, if anything."""
    prefix = "couldn't get version/kind; json parse error: "
    if not isinstance(obj, dict):
        return f"{prefix}json: cannot unmarshal {json_desc(obj)} into Go value of type {_INTERPRET_TYPE}"
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            return (
                f"{prefix}json: cannot unmarshal {json_desc(value)} into Go struct field .{field} of type string"
            )
    api_version = obj.get("apiVersion") or ""
    if api_version.count("/") > 1:
        return f"unexpected GroupVersion string: {api_version}"
    return None


def _failure(
    schemas: Schemas, detail: str, spath: str, obj: Any, kind_def: str, patch_type: str | None, patch: Any
) -> SchemaError:
    """Wrap a decoder error the way the create/update or patch handler does."""
    if patch_type is None:
        # handlers/rest.go transformDecodeError: "%s in version %q cannot be handled as a %s: %v"
        def_version, def_kind = _version_and_kind(schemas, kind_def)
        body_kind = obj.get("kind") if isinstance(obj, dict) else None
        api_version = obj.get("apiVersion") if isinstance(obj, dict) else None
        kind = body_kind if isinstance(body_kind, str) and body_kind else def_kind
        version = api_version.rpartition("/")[2] if isinstance(api_version, str) and api_version else def_version
        return SchemaError(
            f"{kind} in version {go_quote(version)} cannot be handled as a {def_kind}: {detail}",
            spath,
            detail=detail,
        )
    # handlers/patch.go: errors.NewInvalid(schema.GroupKind{}, "", field.Invalid("patch", <value>, err))
    shown = go_fmt(patch, "v") if patch_type == "strategic" else go_json(obj).decode("utf-8")
    body = f"Invalid value: {go_quote(shown)}: {detail}"
    return SchemaError(
        f' "" is invalid: patch: {body}',
        spath,
        code=422,
        reason="Invalid",
        detail=detail,
        causes=[{"reason": "FieldValueInvalid", "message": body, "field": "patch"}],
    )
