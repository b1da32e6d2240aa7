"""The API server's schema machinery: typed decoding, patching and OpenAPI documents.

Why this module exists
----------------------
A real kube-apiserver knows every field of every kind through Go structs. The
sandbox has no Go structs, but the ``kubernetes-validate`` package ships the
OpenAPI-derived JSON schemas of every Kubernetes minor version from 1.25 on
(``kubernetes_validate/kubernetes-json-schema/v1.XX.0-local/_definitions.json``).
This module drives everything that needs field knowledge from those files, so
nothing here keeps a hand-written list of fields:

* :meth:`Schemas.decode` turns a request body into a cleaned object the way the
  API server's JSON decoder does (``sigs.k8s.io/json``, ``encoding/json``):
  wrong JSON types are rejected with the server's exact wording, unknown fields
  are rejected (``fieldValidation=Strict``) or dropped with a warning.
* :meth:`Schemas.strategic_merge_patch` ports the apply half of apimachinery's
  ``pkg/util/strategicpatch/patch.go``; merge keys and strategies come from the
  schema's ``x-kubernetes-patch-merge-key`` / ``x-kubernetes-patch-strategy``.
* :func:`json_merge_patch` and :func:`apply_json_patch` follow
  ``gopkg.in/evanphx/json-patch.v4`` (v4.12, the version kube-apiserver vendors),
  including its quirks and its error texts; the mutations of a JSON patch are
  carried out by the ``jsonpatch`` library.
* :meth:`Schemas.openapi_v2`, :meth:`Schemas.openapi_v3_index` and
  :meth:`Schemas.openapi_v3` rebuild the documents kubectl fetches
  (``kubectl explain``, client-side apply), JSON-encoded once and cached.

Upstream sources followed (repository:path): kubernetes-sigs/json
``internal/golang/encoding/json/{decode.go,kubernetes_patch.go}``;
kubernetes/apimachinery ``pkg/util/strategicpatch/patch.go``,
``pkg/util/mergepatch/errors.go``, ``pkg/runtime/converter.go``,
``pkg/api/resource/quantity.go``; kubernetes/apiserver
``pkg/endpoints/handlers/{create.go,patch.go,rest.go}``; evanphx/json-patch
``patch.go`` and ``merge.go`` (v4); kubernetes/kube-openapi ``pkg/handler3``.

Known differences from a real server (each also noted where it happens):

* Go type names of named string types (``v1.PullPolicy``) and named maps
  (``v1.ResourceList``) are not in the schema; messages say ``string`` and
  ``map[string]resource.Quantity`` instead.
* Quantities are validated but not canonicalised (``"1.5Gi"`` stays as sent;
  a JSON number becomes its decimal text).
* Inline-embedded Go structs show up in the Go field path of type errors only
  for the two cases the sandbox meets: ``TypeMeta`` in kinds and
  ``VolumeSource`` in ``Volume``.
* Duplicate JSON keys are not detected (the decoded dict no longer has them).
* Patch errors quote the patch as sent (the server quotes it after the merge
  code has mutated it) and the patched object with sorted keys (the server
  keeps its struct order for untouched parts).
* The OpenAPI v3 documents carry only the ``get`` operations ``kubectl explain``
  needs, not the full ``paths`` of a real server. The v2 document is JSON;
  client-go asks for it as protobuf.

The files are loaded lazily, once per minor version, and only the non-strict
variant is read: the ``-strict`` variant differs only by
``additionalProperties: false`` on every object with properties, which this
module applies itself (checked for 1.27 and 1.35 when this module was written).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import jsonpatch
import jsonpointer

from ..hashing import go_json

__all__ = [
    "SERVED_KINDS",
    "SchemaError",
    "Schemas",
    "apply_json_patch",
    "json_merge_patch",
]

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

_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_VOLUME = "io.k8s.api.core.v1.Volume"

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

# What a Go panic inside the patch code turns into (the server recovers and answers 500).
_PANIC_NIL = "runtime error: invalid memory address or nil pointer dereference"

# The anonymous struct apimachinery's SimpleMetaFactory.Interpret decodes into, as reflect prints it.
_INTERPRET_TYPE = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)

_QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_QUANTITY_SUFFIX = "unable to parse quantity's suffix"
_QUANTITY_SUFFIXES = frozenset(["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"])

_MAX_JSON_PATCH_OPERATIONS = 10000
_INT64 = (-(2**63), 2**63 - 1)


class SchemaError(ValueError):
    """A request the API server would reject, with the server's own words.

    Attributes:
        message: The ``Status.message`` the real server sends.
        field_path: Where the problem is, as ``spec.template.spec.containers[0].image``
            (empty when the whole document is at fault).
        code: The HTTP status code (400, 413, 422 or 500).
        reason: The ``Status.reason`` (``BadRequest``, ``Invalid``, ... or ``""``).
        detail: The inner Go error text, without the server's wrapping.
        causes: ``Status.details.causes`` entries, if the server sends any.
    """

    def __init__(
        self,
        message: str,
        field_path: str = "",
        *,
        code: int = 400,
        reason: str = "BadRequest",
        detail: str | None = None,
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field_path = field_path
        self.code = code
        self.reason = reason
        self.detail = message if detail is None else detail
        self.causes = list(causes or [])

    def to_status(self) -> dict[str, Any]:
        """Render as the ``metav1.Status`` body the API server sends with this error."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            status["details"] = {"causes": self.causes}
        if not self.reason:
            del status["reason"]
        return status


def _internal(message: str, field_path: str = "") -> SchemaError:
    """An error the server reports as a plain (non-Status) error: 500, no reason."""
    return SchemaError(message, field_path, code=500, reason="")


# ---------------------------------------------------------------------------
# Go formatting helpers: the messages quote Go's fmt and strconv output.
# ---------------------------------------------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_quote(s: str) -> str:
    """``strconv.Quote``: printable characters kept, the rest escaped."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x80 or ch.isprintable():
            out.append(ch)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")  # Go sees invalid UTF-8 as U+FFFD
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_float(f: float) -> str:
    """``fmt``'s ``%v`` for a float64: shortest digits, ``%e`` form outside [1e-4, 1e6)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if str(f).startswith("-") else ""
    if f == 0:
        return sign + "0"
    tup = Decimal(repr(abs(f))).as_tuple()
    digits = "".join(map(str, tup.digits)).rstrip("0") or "0"
    dp = len(tup.digits) + int(tup.exponent)  # position of the decimal point
    exp = dp - 1
    if exp < -4 or exp >= 6:  # strconv: "%e is used if the exponent ... >= precision (6 for shortest)"
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _go_type(value: Any) -> str | None:
    """The Go type an unstructured (``map[string]interface{}``) value has; ``None`` for nil."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "[]interface {}"


def _go_fmt(value: Any, verb: str = "v") -> str:
    """``fmt.Sprintf("%v")`` (or ``%s``) of an unstructured value, maps with sorted keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        items = (f"{_go_fmt(k, verb)}:{_go_fmt(value[k], verb)}" for k in sorted(value))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_fmt(v, verb) for v in value) + "]"
    if value is None:
        text = "<nil>"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = _go_float(value)
    else:
        text = str(value)
    if verb == "s":  # %s of a non-string: Go prints a bad-verb marker
        return "%!s(<nil>)" if value is None else f"%!s({_go_type(value)}={text})"
    return text


def _go_kind(value: Any) -> str:
    """``reflect.Kind`` of an unstructured value, as the converter prints it."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    return _go_type(value) or "invalid"


def _json_desc(value: Any) -> str:
    """How encoding/json names a JSON value in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _json_number(value: int | float) -> str:
    """The JSON text of a number as a client serialises it."""
    return json.dumps(value)


def _go_eq(a: Any, b: Any) -> bool:
    """Go's ``==`` on two ``interface{}`` values (type-sensitive; maps and slices panic)."""
    ta, tb = _go_type(a), _go_type(b)
    if ta != tb:
        return False
    if isinstance(a, (dict, list)):
        raise _internal(f"runtime error: comparing uncomparable type {ta}")
    return a == b


def _go_in(value: Any, items: list[Any]) -> bool:
    """Membership with Go's ``==``."""
    return any(_go_eq(value, item) for item in items)


def _copy_json(value: Any) -> Any:
    """Deep-copy a JSON-like value (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def _go_atoi(s: str) -> tuple[int | None, str]:
    """``strconv.Atoi`` (64-bit int): the value, or ``None`` and Go's error text."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        return None, f"strconv.Atoi: parsing {_go_quote(s)}: invalid syntax"
    n = int(s)
    if not _INT64[0] <= n <= _INT64[1]:
        return None, f"strconv.Atoi: parsing {_go_quote(s)}: value out of range"
    return n, ""


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
    if suffix[:1] in ("e", "E") and re.fullmatch(r"[+-]?[0-9]+", exponent) and _INT64[0] <= int(exponent) <= _INT64[1]:
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
# Schema shapes: what Go type a schema node stands for.
# ---------------------------------------------------------------------------


class _Shape:
    """The Go view of one schema node: its kind, Go type name and children."""

    __slots__ = ("kind", "name", "target", "go_type", "props", "elem", "struct_name", "typemeta", "volume")

    def __init__(self, kind: str, name: str | None, target: dict[str, Any]) -> None:
        self.kind = kind  # struct map free list string bytes time int32 int64 float bool intstr quantity
        self.name = name  # definition name when the node is a $ref
        self.target = target  # the resolved schema
        self.go_type = ""
        self.props: dict[str, Any] = target.get("properties") or {}
        self.elem: _Shape | None = None
        self.struct_name = name.rsplit(".", 1)[-1] if name else ""
        # Kinds embed metav1.TypeMeta inline; Volume embeds VolumeSource inline. Go puts the
        # embedded struct's name into the field path of type errors.
        self.typemeta = "x-kubernetes-group-version-kind" in target
        self.volume = name == _VOLUME

    @property
    def go_kind(self) -> str:
        """``reflect.Kind`` of the Go type, as apimachinery's messages print it."""
        return {
            "struct": "struct",
            "intstr": "struct",
            "quantity": "struct",
            "time": "struct",
            "free": "interface",
            "map": "map",
            "list": "slice",
            "bytes": "slice",
            "float": "float64",
        }.get(self.kind, self.kind)


def _short_go_name(definition: str) -> str:
    """``io.k8s.api.apps.v1.StatefulSetSpec`` → ``v1.StatefulSetSpec`` (package.Type)."""
    parts = definition.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else definition


# ---------------------------------------------------------------------------
# Decoding.
# ---------------------------------------------------------------------------


class _Mismatch(Exception):
    """A value of the wrong JSON type (an ``UnmarshalTypeError`` in Go)."""

    def __init__(
        self, value: Any, shape: _Shape, spath: str, struct: str, gofield: tuple[str, ...], desc: str, go_type: str
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
        src = _go_kind(value)
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

    def walk(self, value: Any, shape: _Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
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

    def _struct(self, value: Any, shape: _Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
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
            out[key] = self.walk(item, self.schemas._shape(prop), child, field, shape.struct_name)
        return out

    def _scalar(self, value: Any, shape: _Shape, spath: str, gofield: tuple[str, ...], struct: str) -> Any:
        kind = shape.kind
        if kind == "free":
            return _copy_json(value)
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
                raise self._mismatch(value, shape, spath, gofield, struct, f"number {_json_number(value)}")
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
                text = _json_number(value)
            else:
                text = json.dumps(value, separators=(",", ":"))
            error = _quantity_error(text.strip())
            if error:
                raise _Special(error, spath)
            return value if isinstance(value, str) else text
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
                        desc = _json_desc(item)
                        if isinstance(item, (int, float)) and not isinstance(item, bool):
                            desc = f"number {_json_number(item)}"
                        raise _Mismatch(item, shape, spath, struct, gofield, desc, "uint8")
                return base64.b64encode(bytes(value)).decode("ascii")
            raise self._mismatch(value, shape, spath, gofield, struct)
        return _copy_json(value)

    def _mismatch(
        self, value: Any, shape: _Shape, spath: str, gofield: tuple[str, ...], struct: str, desc: str | None = None
    ) -> _Mismatch:
        go_type = {"intstr": "int32", "time": "string"}.get(shape.kind, shape.go_type)
        return _Mismatch(value, shape, spath, struct, gofield, desc or _json_desc(value), go_type)

    @staticmethod
    def _zero(shape: _Shape) -> Any:
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
# The per-version schema set.
# ---------------------------------------------------------------------------


def _schema_root() -> Path:
    """Where kubernetes-validate keeps its schemas (found without importing the package)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the kubernetes-validate package is missing; install it with: pip install 'kubernetes-validate>=1.37'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def _normalise_version(version: str) -> str:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r}; use a minor version such as '1.27'")
    return f"{match.group(1)}.{match.group(2)}"


class Schemas:
    """The API schemas of one Kubernetes minor version.

    Get instances with :meth:`for_version`; they are shared (the data is
    read-only) and load their file on first use.

    Example:
        >>> s = Schemas.for_version("1.27")
        >>> s.type_for("apps/v1", "StatefulSet")
        'io.k8s.api.apps.v1.StatefulSet'
    """

    # One instance per minor version for the whole process: the schemas are
    # immutable, so sharing them is safe and saves reloading a 1 MB file.
    _instances: ClassVar[dict[str, Schemas]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, minor: str, path: Path) -> None:
        """Prefer :meth:`for_version`; this takes a normalised minor and the definitions file."""
        self.version = minor
        self.path = path
        self._lock = threading.RLock()
        self._defs_cache: dict[str, Any] | None = None
        self._gvk_index: dict[tuple[str, str, str], str] | None = None
        self._shapes: dict[int, _Shape] = {}
        self._documents: dict[str, bytes] = {}
        # Shapes are cached by node identity, so every node handed to _shape must stay alive.
        self._refs: dict[str, dict[str, Any]] = {}

    # -- construction -------------------------------------------------------

    @classmethod
    def for_version(cls, version: str) -> Schemas:
        """The (cached) schemas of a Kubernetes minor version.

        Args:
            version: ``"1.27"``, ``"v1.27"`` or ``"1.27.3"``.

        Raises:
            ValueError: if kubernetes-validate has no schemas for that version.
        """
        minor = _normalise_version(version)
        with cls._instances_lock:
            found = cls._instances.get(minor)
            if found is None:
                path = _schema_root() / f"v{minor}.0-local" / "_definitions.json"
                if not path.is_file():
                    raise ValueError(
                        f"no API schemas for Kubernetes {minor}; available: "
                        f"{', '.join(cls.available_versions())} (from the kubernetes-validate package)"
                    )
                found = cls._instances[minor] = cls(minor, path)
            return found

    @staticmethod
    def available_versions() -> list[str]:
        """The minor versions kubernetes-validate ships schemas for, oldest first."""
        found = []
        for entry in _schema_root().iterdir():
            match = re.fullmatch(r"v(\d+)\.(\d+)\.0-local", entry.name)
            if match:
                found.append((int(match.group(1)), int(match.group(2))))
        return [f"{a}.{b}" for a, b in sorted(found)]

    @property
    def _defs(self) -> dict[str, Any]:
        defs = self._defs_cache
        if defs is None:
            with self._lock:
                if self._defs_cache is None:
                    with self.path.open("rb") as fh:
                        self._defs_cache = json.load(fh)["$defs"]
                defs = self._defs_cache
        return defs

    # -- lookups --------------------------------------------------------------

    def type_for(self, api_version: str, kind: str) -> str:
        """The definition name of a kind, e.g. ``io.k8s.api.apps.v1.StatefulSet``.

        Raises:
            KeyError: if this Kubernetes version has no such kind.
        """
        index = self._gvk_index
        if index is None:
            with self._lock:
                index = {}
                for name, schema in self._defs.items():
                    for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                        index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
                self._gvk_index = index
        group, _, version = api_version.rpartition("/")
        try:
            return index[(group, version, kind)]
        except KeyError:
            raise KeyError(f"no schema for {kind} in {api_version} in Kubernetes {self.version}") from None

    def group_version_kind(self, kind_def: str) -> tuple[str, str, str]:
        """(group, version, kind) of a definition that is a kind; the first listed if several."""
        gvks = self.definition(kind_def).get("x-kubernetes-group-version-kind") or []
        if not gvks:
            raise KeyError(f"{kind_def} is not a kind in Kubernetes {self.version}")
        return gvks[0]["group"], gvks[0]["version"], gvks[0]["kind"]

    def definition(self, kind_def: str) -> dict[str, Any]:
        """The raw JSON schema of a definition (read-only: do not modify it)."""
        try:
            return self._defs[kind_def]
        except KeyError:
            raise KeyError(f"no definition {kind_def} in Kubernetes {self.version}") from None

    def field_description(self, kind_def: str, path: str) -> str:
        """The description ``kubectl explain`` shows for ``path`` (``spec.template.spec.containers.image``).

        Raises:
            KeyError: if a path segment is not a field.
        """
        self.definition(kind_def)
        shape = self._shape(self._kind_ref(kind_def))
        description = shape.target.get("description", "")
        for part in filter(None, re.sub(r"\[\d*\]", "", path).split(".")):
            while shape.kind in ("list", "map") and shape.elem is not None:
                shape = shape.elem
            prop = shape.props.get(part)
            if prop is None:
                raise KeyError(f'field "{part}" does not exist in {shape.name or shape.go_type} ({path})')
            shape = self._shape(prop)
            description = prop.get("description") or shape.target.get("description", "")
        return description

    def _shape(self, node: dict[str, Any]) -> _Shape:
        """The shape of a schema node, cached by node identity (nodes live as long as ``self``)."""
        shape = self._shapes.get(id(node))
        if shape is None:
            shape = self._build_shape(node)
            self._shapes[id(node)] = shape
        return shape

    def _build_shape(self, node: dict[str, Any]) -> _Shape:
        name = None
        target = node
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            target = self._defs.get(name, {})
        if name == _INT_OR_STRING or node.get("x-kubernetes-int-or-string"):
            shape = _Shape("intstr", name, target)
            shape.go_type = "intstr.IntOrString"
            return shape
        if name == _QUANTITY:
            shape = _Shape("quantity", name, target)
            shape.go_type = "resource.Quantity"
            return shape
        kind_of_type = target.get("type")
        if isinstance(kind_of_type, list):
            kind_of_type = next((t for t in kind_of_type if t != "null"), None)
        fmt = target.get("format")
        if kind_of_type == "object" or (kind_of_type is None and "properties" in target):
            if target.get("properties"):
                kind = "struct"
            elif isinstance(target.get("additionalProperties"), dict):
                kind = "map"
            else:
                kind = "free"
        elif kind_of_type == "array":
            kind = "list"
        elif kind_of_type == "string":
            kind = {"byte": "bytes", "date-time": "time"}.get(fmt, "string")
        elif kind_of_type == "integer":
            kind = "int64" if fmt == "int64" else "int32"
        elif kind_of_type == "number":
            kind = "float"
        elif kind_of_type == "boolean":
            kind = "bool"
        else:
            kind = "free"
        shape = _Shape(kind, name, target)
        if kind == "list":
            items = target.get("items")
            shape.elem = self._shape(items) if isinstance(items, dict) else _Shape("free", None, {})
            shape.go_type = "[]" + (shape.elem.go_type or "interface {}")
        elif kind == "map":
            shape.elem = self._shape(target["additionalProperties"])
            shape.go_type = "map[string]" + (shape.elem.go_type or "interface {}")
        elif name:
            shape.go_type = _short_go_name(name)
        elif kind == "time":
            shape.go_type = "v1.Time"
        else:
            shape.go_type = {
                "string": "string",
                "bytes": "[]uint8",
                "int32": "int32",
                "int64": "int64",
                "float": "float64",
                "bool": "bool",
            }.get(kind, "interface {}")
        return shape

    # -- decoding ---------------------------------------------------------------

    def decode(
        self,
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
            obj: The parsed JSON body (or the result of applying a patch).
            kind_def: The definition name, from :meth:`type_for`.
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
        if kind_def not in self._defs:
            raise KeyError(f"no definition {kind_def} in Kubernetes {self.version}")
        shape = self._shape(self._kind_ref(kind_def))
        # The JSON codec first reads apiVersion and kind (SimpleMetaFactory.Interpret); the
        # strategic-merge path converts the map directly and skips that step.
        interpret_error = None if patch_type == "strategic" else self._interpret_error(obj)
        if interpret_error:
            if patch_type is not None:
                raise self._failure(interpret_error, "", obj, kind_def, patch_type, patch)
            kind = self._version_and_kind(kind_def)[1]
            # handlers/rest.go summarizeData(body, 30): objects as text, anything else as hex
            body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
            head = body[:30].decode("utf-8", "ignore") if body.startswith(b"{") else body[:30].hex()
            summary = head + (" ..." if len(body) > 30 else "")
            raise SchemaError(
                f"the object provided is unrecognized (must be of type {kind}): {interpret_error} ({summary})",
                detail=interpret_error,
            )
        decoder = _Decoder(self, converter=patch_type == "strategic")
        try:
            cleaned = decoder.walk(obj, shape, "", (), "")
        except _Mismatch as mismatch:
            detail = mismatch.converter_detail() if patch_type == "strategic" else mismatch.json_detail()
            raise self._failure(detail, mismatch.spath, obj, kind_def, patch_type, patch) from None
        except _Special as special:
            raise self._failure(special.text, special.spath, obj, kind_def, patch_type, patch) from None
        warnings = [f"unknown field {_go_quote(path)}" for path in decoder.unknown]
        if warnings and strict:
            raise self._failure(
                "strict decoding error: " + ", ".join(warnings), decoder.unknown[0], obj, kind_def, patch_type, patch
            )
        return cleaned, ([] if strict else warnings)

    def _version_and_kind(self, kind_def: str) -> tuple[str, str]:
        """(version, kind) for messages; a definition that is no kind is named by its Go type."""
        gvks = self.definition(kind_def).get("x-kubernetes-group-version-kind") or []
        if gvks:
            return gvks[0]["version"], gvks[0]["kind"]
        parts = kind_def.split(".")
        return (parts[-2] if len(parts) >= 2 else ""), parts[-1]

    def _kind_ref(self, kind_def: str) -> dict[str, Any]:
        """A ``$ref`` node to a definition that stays alive, so its shape can be cached."""
        node = self._refs.get(kind_def)
        if node is None:
            node = self._refs.setdefault(kind_def, {"$ref": "#/$defs/" + kind_def})
        return node

    @staticmethod
    def _interpret_error(obj: Any) -> str | None:
        """What apimachinery's ``SimpleMetaFactory.Interpret`` says before decoding, if anything."""
        prefix = "couldn't get version/kind; json parse error: "
        if not isinstance(obj, dict):
            return f"{prefix}json: cannot unmarshal {_json_desc(obj)} into Go value of type {_INTERPRET_TYPE}"
        for field in ("apiVersion", "kind"):
            value = obj.get(field)
            if value is not None and not isinstance(value, str):
                return (
                    f"{prefix}json: cannot unmarshal {_json_desc(value)} into Go struct field .{field} of type string"
                )
        api_version = obj.get("apiVersion") or ""
        if api_version.count("/") > 1:
            return f"unexpected GroupVersion string: {api_version}"
        return None

    def _failure(
        self, detail: str, spath: str, obj: Any, kind_def: str, patch_type: str | None, patch: Any
    ) -> SchemaError:
        """Wrap a decoder error the way the create/update or patch handler does."""
        if patch_type is None:
            # handlers/rest.go transformDecodeError: "%s in version %q cannot be handled as a %s: %v"
            def_version, def_kind = self._version_and_kind(kind_def)
            body_kind = obj.get("kind") if isinstance(obj, dict) else None
            api_version = obj.get("apiVersion") if isinstance(obj, dict) else None
            kind = body_kind if isinstance(body_kind, str) and body_kind else def_kind
            version = api_version.rpartition("/")[2] if isinstance(api_version, str) and api_version else def_version
            return SchemaError(
                f"{kind} in version {_go_quote(version)} cannot be handled as a {def_kind}: {detail}",
                spath,
                detail=detail,
            )
        # handlers/patch.go: errors.NewInvalid(schema.GroupKind{}, "", field.Invalid("patch", <value>, err))
        shown = _go_fmt(patch, "v") if patch_type == "strategic" else go_json(obj).decode("utf-8")
        body = f"Invalid value: {_go_quote(shown)}: {detail}"
        return SchemaError(
            f' "" is invalid: patch: {body}',
            spath,
            code=422,
            reason="Invalid",
            detail=detail,
            causes=[{"reason": "FieldValueInvalid", "message": body, "field": "patch"}],
        )

    # -- strategic merge patch ------------------------------------------------

    def strategic_merge_patch(self, original: dict[str, Any], patch: Any, kind_def: str) -> dict[str, Any]:
        """Apply a strategic merge patch as ``StrategicMergeMapPatch`` does on the server.

        Neither argument is modified. The result still has to go through
        :meth:`decode` with ``patch_type="strategic"``.

        Raises:
            SchemaError: 400 for malformed directives, 422 for lists of lists,
                500 (reason ``""``) for the errors the server passes through
                unclassified (a missing merge key, an unknown ``$patch``...).
        """
        if not isinstance(original, dict):
            raise TypeError("original must be a dict")
        if not isinstance(patch, dict):
            raise SchemaError(
                f"json: cannot unmarshal {_json_desc(patch)} into Go value of type map[string]interface {{}}"
            )
        if kind_def not in self._defs:
            raise KeyError(f"no definition {kind_def} in Kubernetes {self.version}")
        # The Go code mutates both maps; work on copies so the caller's objects stay as they were.
        return self._merge_map(_copy_json(original), _copy_json(patch), self._shape(self._kind_ref(kind_def)))

    def _lookup_struct(self, shape: _Shape | None, key: str) -> tuple[_Shape | None, list[str], str]:
        """``LookupPatchMetadataForStruct``: the field's shape, patch strategies and merge key."""
        if shape is None or shape.kind == "free":
            return None, [], ""  # free-form JSON: no metadata, plain merge
        if shape.kind == "map":
            return shape.elem, [], ""
        if shape.kind != "struct":
            raise _internal(
                f"merging an object in json but data type is not map or struct, instead is: {shape.go_kind}"
            )
        prop = shape.props.get(key)
        if prop is None:
            raise _internal(
                f"unable to find api field in struct {shape.struct_name} for the json field {_go_quote(key)}"
            )
        strategy = prop.get("x-kubernetes-patch-strategy")
        strategies = strategy.split(",") if isinstance(strategy, str) and strategy else []
        return self._shape(prop), strategies, prop.get("x-kubernetes-patch-merge-key") or ""

    def _lookup_slice(self, shape: _Shape | None, key: str) -> tuple[_Shape | None, list[str], str]:
        """``LookupPatchMetadataForSlice``: like the struct lookup, but yields the element shape."""
        sub, strategies, merge_key = self._lookup_struct(shape, key)
        if sub is None or sub.kind == "free":
            return None, strategies, merge_key
        if sub.kind not in ("list", "bytes"):
            parent = shape.go_kind if shape is not None else "interface"
            raise _internal(f"expected slice or array type, but got: {parent}")
        return sub.elem, strategies, merge_key

    def _merge_map(
        self, original: dict[str, Any] | None, patch: dict[str, Any], shape: _Shape | None
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
            if key not in original or _go_type(original[key]) != _go_type(patch_value):
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
                original[key] = patch_value if strategy == _REPLACE else self._merge_map(current, patch_value, sub)
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
        elem: _Shape | None,
        strategy: str,
        merge_key: str,
        is_delete_list: bool,
    ) -> list[Any]:
        """``mergeSliceHandler``: merge lists merge; delete lists delete; the rest is replaced."""
        if strategy == _MERGE or is_delete_list:
            return self._merge_slice(original, patch, elem, merge_key, is_delete_list)
        return patch

    def _merge_slice(
        self, original: list[Any], patch: list[Any], elem: _Shape | None, merge_key: str, is_delete_list: bool
    ) -> list[Any]:
        """``mergeSlice``: union of primitives, or merge of maps by their merge key."""
        if not original and not patch:
            return original
        kind = _slice_element_type(original, patch)
        if kind != "map":
            if is_delete_list:
                return [v for v in original if not _go_in(v, patch)]
            merged = _dedupe_scalars(original + patch)
        else:
            if not merge_key:
                what = elem.name or elem.go_type if elem is not None else "interface {}"
                raise _internal(f"cannot merge lists without merge key for {what}")
            original, patch = _merge_special_elements(original, patch, merge_key)
            merged = self._merge_plain_elements(original, patch, merge_key, elem)
        if not merge_key:
            patch_items, server_only = _partition_primitives(merged, patch)
        else:
            patch_items, server_only = _partition_maps(merged, patch, merge_key)
        return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)

    def _merge_plain_elements(
        self, original: list[Any], patch: list[Any], merge_key: str, elem: _Shape | None
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
                original[index] = self._merge_map(original[index], item, elem)
        return original

    def _merge_patch_into_original(self, original: dict[str, Any], patch: dict[str, Any], shape: _Shape | None) -> None:
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

    # -- OpenAPI --------------------------------------------------------------

    def openapi_v2(self) -> bytes:
        """The ``/openapi/v2`` swagger document (JSON bytes, built once).

        Every definition is included, as on a real server, with the
        ``x-kubernetes-*`` extensions kubectl reads. Note that client-go asks
        for this document as protobuf; serving it is the API layer's business.
        """
        with self._lock:
            cached = self._documents.get("v2")
            if cached is None:
                definitions = {name: self._openapi_def(name, "#/definitions/", v3=False) for name in self._defs}
                document = {
                    "swagger": "2.0",
                    "info": {"title": "Kubernetes", "version": f"v{self.version}.0"},
                    "paths": {},
                    "definitions": definitions,
                }
                cached = self._documents["v2"] = json.dumps(document, separators=(",", ":")).encode()
            return cached

    @staticmethod
    def _gv_path(api_version: str) -> str:
        return "api/" + api_version if "/" not in api_version else "apis/" + api_version

    def openapi_v3_index(self, group_versions: list[str] | None = None, resources: Any = None) -> bytes:
        """The ``/openapi/v3`` discovery document (JSON bytes, built once per argument set).

        Args:
            group_versions: apiVersions to list (``"v1"``, ``"apps/v1"``); by
                default those of :data:`SERVED_KINDS`.
            resources: As for :meth:`openapi_v3`; pass the same value to both so
                the hashes in the index match the documents.
        """
        if group_versions is None:
            group_versions = sorted({api_version for api_version, _ in SERVED_KINDS})
        table = _resource_table(resources)
        key = f"v3-index:{','.join(group_versions)}:{table!r}"
        with self._lock:
            cached = self._documents.get(key)
            if cached is None:
                paths = {}
                for api_version in group_versions:
                    gv_path = self._gv_path(api_version)
                    # kube-openapi handler3: ServerRelativeURL carries the document's SHA-512 as its ETag
                    etag = self.openapi_v3_etag(gv_path, resources)
                    paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={etag}"}
                document = {"paths": dict(sorted(paths.items()))}
                cached = self._documents[key] = json.dumps(document, separators=(",", ":")).encode()
            return cached

    def openapi_v3_etag(self, group_version: str, resources: Any = None) -> str:
        """The ETag (upper-case hex SHA-512) of a group-version's v3 document."""
        return hashlib.sha512(self.openapi_v3(group_version, resources)).hexdigest().upper()

    def openapi_v3(self, group_version: str, resources: Any = None) -> bytes:
        """The ``/openapi/v3/<group_version>`` document (JSON bytes, built once).

        ``components.schemas`` holds every kind of the group-version and all it
        references, as on a real server. ``paths`` holds only the ``get``
        operations (list and named) of the served resources, each with its
        ``x-kubernetes-group-version-kind``: that is how ``kubectl explain``
        finds the schema of a resource.

        Args:
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
            group_version = self._gv_path(group_version)
        table = _resource_table(resources)
        key = f"v3:{group_version}:{table!r}"
        with self._lock:
            cached = self._documents.get(key)
            if cached is not None:
                return cached
            _, rest = group_version.split("/", 1)
            group, _, version = rest.rpartition("/")
            if group_version.startswith("api/") and group:
                raise KeyError(f"no OpenAPI v3 document for {group_version}")
            roots = [
                name
                for name, schema in self._defs.items()
                if any(
                    g["group"] == group and g["version"] == version
                    for g in schema.get("x-kubernetes-group-version-kind", ())
                )
            ]
            if not roots:
                raise KeyError(f"no OpenAPI v3 document for {group_version} in Kubernetes {self.version}")
            names = self._closure(roots)
            api_version = f"{group}/{version}" if group else version
            paths: dict[str, Any] = {}
            for res_version, kind, plural, namespaced in table:
                if res_version != api_version:
                    continue
                try:
                    definition = self.type_for(api_version, kind)
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
                        if schema_name not in self._defs:
                            continue
                        paths[path] = {
                            "get": {
                                "x-kubernetes-action": action,
                                "x-kubernetes-group-version-kind": gvk,
                                "responses": {
                                    "200": {
                                        "description": "OK",
                                        "content": {
                                            "application/json": {
                                                "schema": {"$ref": "#/components/schemas/" + schema_name}
                                            }
                                        },
                                    }
                                },
                            }
                        }
            document = {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": f"v{self.version}.0"},
                "paths": dict(sorted(paths.items())),
                "components": {
                    "schemas": {
                        name: self._openapi_def(name, "#/components/schemas/", v3=True) for name in sorted(names)
                    }
                },
            }
            cached = self._documents[key] = json.dumps(document, separators=(",", ":")).encode()
            return cached

    def _closure(self, roots: list[str]) -> set[str]:
        """Every definition reachable from ``roots`` through ``$ref``."""
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name in seen or name not in self._defs:
                continue
            seen.add(name)
            pending: list[Any] = [self._defs[name]]
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

    def _openapi_def(self, name: str, ref_prefix: str, v3: bool) -> dict[str, Any]:
        """One definition, converted back from JSON Schema to the OpenAPI form the server serves."""
        if name == _INT_OR_STRING:
            return {"type": "string", "format": "int-or-string"}
        if name == _QUANTITY:
            return {"type": "string"}
        schema = self._defs[name]
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


# ---------------------------------------------------------------------------
# Strategic merge patch helpers (schema-free parts of patch.go).
# ---------------------------------------------------------------------------


def _bad_arg_type(expected: str, actual: Any) -> SchemaError:
    """``mergepatch.ErrBadArgType``."""
    actual_type = _go_type(actual) or "%!s(<nil>)"
    return _internal(f"expected a {expected}, but received a {actual_type}")


def _no_merge_key(item: Any, merge_key: str) -> SchemaError:
    """``mergepatch.ErrNoMergeKey``."""
    return _internal(f"map: {_go_fmt(item)} does not contain declared merge key: {merge_key}")


def _directive_in_map(directive: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """``handleDirectiveInMergeMap``: ``$patch: replace`` uses the patch, ``delete`` empties the map."""
    if _go_eq(directive, _REPLACE):
        del patch[_DIRECTIVE]
        return patch
    if _go_eq(directive, _DELETE):
        return {}
    raise _internal(f"unknown patch type: {_go_fmt(directive, 's')} in map: {_go_fmt(patch)}")


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
    raise _internal(f"unexpected patch strategy: {_go_fmt(strategies)}")


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """``applyRetainKeysDirective``: clear the keys ``$retainKeys`` does not list."""
    if _RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise SchemaError(_ERR_BAD_RETAIN_KEYS)
    for item in retain:
        if isinstance(item, (dict, list)):
            raise _internal(f"runtime error: hash of unhashable type {_go_type(item)}")
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
            continue
        if not _go_in(key, retain):
            raise SchemaError(_ERR_BAD_RETAIN_KEYS)
    for key in [k for k in original if not _go_in(k, retain)]:
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
            current = _go_type(item)
            if first:
                first = False
                previous = current
                if current is None:
                    raise _internal(_PANIC_NIL)
                if current == "[]interface {}":
                    raise SchemaError(_ERR_NO_LIST_OF_LISTS, code=422, reason="")
            elif previous != current:
                raise _internal(f"list element types are not identical: {_go_fmt(list(lists))}")
    if first:
        raise _internal("no elements in any of the given slices")
    return "map" if previous == "map[string]interface {}" else "scalar"


def _dedupe_scalars(items: list[Any]) -> list[Any]:
    """``deduplicateScalars``, order quirks included (a duplicate is replaced by the last item)."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
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
            raise _internal(f"value for key {index} is not a map")
        if key in item and _go_eq(item[key], value):
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
        if _go_eq(directive, _DELETE):
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find_map(original, merge_key, item[merge_key])) is not None:
                original = original[:index] + original[index + 1 :]
        elif _go_eq(directive, _REPLACE):
            replace = True  # keep going: the other $patch items are pruned too
        elif _go_eq(directive, _MERGE):
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_go_fmt(directive, 's')} in map: {_go_fmt(item)}")
    if replace:
        return plain, []
    return original, plain


def _partition_primitives(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    """``partitionPrimitivesByPresentInList``."""
    for value in by:
        if isinstance(value, (dict, list)):
            raise _internal(f"runtime error: hash of unhashable type {_go_type(value)}")
    inside = [v for v in items if _go_in(v, by)]
    outside = [v for v in items if not _go_in(v, by)]
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
        if _go_eq(wanted, key_of(item)):
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
        kept = [i for i in items if not (_DIRECTIVE in i and _go_eq(i[_DIRECTIVE], _DELETE))]
        deleted = [i for i in items if _DIRECTIVE in i and _go_eq(i[_DIRECTIVE], _DELETE)]
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
        items = [i for i in patch_list if not (_DIRECTIVE in i and _go_eq(i[_DIRECTIVE], _DELETE))]
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
            equal = _go_eq(left[merge_key], right[merge_key])
        else:
            equal = _go_eq(items[pi], set_order[si])
        if equal:
            pi += 1
        si += 1
    if pi < len(items) and si >= len(set_order):
        raise _internal(
            f"the order in patch list:\n{_go_fmt(patch_list)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER} list:\n{_go_fmt(set_order)}"
        )


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
        doc = _copy_json(original)
        if not isinstance(doc, dict):
            return _prune_nulls(_copy_json(patch))
        _merge_docs(doc, _copy_json(patch))
        return doc
    if isinstance(patch, list):  # a non-object patch replaces the document
        return _prune_nulls(_copy_json(patch))
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
    index, error = _go_atoi(key)
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
    index, error = _go_atoi(key)
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
    index, error = _go_atoi(key)
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
        self._mutate("add", [*parts, normal], _copy_json(op.get("value")))

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
                raise _internal(_PANIC_NIL)
            if isinstance(op["value"], (dict, list)):
                self.doc = _copy_json(op["value"])
            return  # evanphx wraps a nil error here: a scalar silently does nothing
        container, parts, key = _jp_find(self.doc, path)
        if container is None:
            raise _JsonPatchFailure(f"replace operation does not apply: doc is missing path: {path}: missing value")
        _, normal, error = _jp_get(container, key)
        if error:
            raise _JsonPatchFailure(f"replace operation does not apply: doc is missing key: {path}: missing value")
        # v4.12 quirk: a missing object key is no error, replace then acts as add.
        self._mutate("add" if isinstance(container, dict) else "replace", [*parts, normal], _copy_json(op.get("value")))

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
        self._mutate("add", [*parts, normal], _copy_json(value))

    def _op_test(self, op: dict[str, Any]) -> None:
        path, error = self._field(op, "path")
        if path is None:
            raise _JsonPatchFailure(f"test operation failed to decode path: {error}")
        if path == "":
            if "value" not in op:
                raise _internal(_PANIC_NIL)
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
                raise _internal(_PANIC_NIL)
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
                raise _internal(_PANIC_NIL)
            if not _lazy_equal(value, other):
                return False
        return True
    if isinstance(have, list):
        if not isinstance(want, list) or len(have) != len(want):
            return False
        for value, other in zip(have, want, strict=True):
            if value is None:
                raise _internal(_PANIC_NIL)
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
        raise SchemaError(f"json: cannot unmarshal {_json_desc(ops)} into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise SchemaError(f"json: cannot unmarshal {_json_desc(op)} into Go value of type jsonpatch.Operation")
    for index, op in enumerate(ops):
        # The server first decodes the ops into its jsonPatchOp struct (fieldValidation Strict or Warn).
        for field in ("op", "path", "from"):
            value = op.get(field)
            if value is not None and not isinstance(value, str):
                desc = _json_desc(value)
                detail = f"json: cannot unmarshal {desc} into Go struct field jsonPatchOp.{field} of type string"
                raise SchemaError(f"error decoding patch: {detail}", f"[{index}].{field}")
    if len(ops) > _MAX_JSON_PATCH_OPERATIONS:
        raise SchemaError(
            f"The allowed maximum operations in a JSON patch is {_MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            code=413,
            reason="RequestEntityTooLarge",
        )
    patcher = _JsonPatcher(_copy_json(original))
    for op in ops:
        try:
            patcher.apply(op)
        except _JsonPatchFailure as failure:
            path = op.get("path") if isinstance(op.get("path"), str) else ""
            raise SchemaError(str(failure), path, code=422, reason="Invalid") from None
    return patcher.doc
