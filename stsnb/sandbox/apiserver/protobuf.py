"""Decode the Kubernetes protobuf request bodies kubectl sends, into the JSON dicts the registry takes.

Why this exists
---------------
kubectl's typed-client commands (``kubectl create service|namespace|deployment|
configmap …``) send their object as ``Content-Type: application/vnd.kubernetes.protobuf``
and client-go does **not** retry with JSON when the server answers 415 (it does
so only for CBOR). A server that speaks only JSON therefore cannot serve
``kubectl create service clusterip nginx-stateful --tcp=80:80 --clusterip=None``,
which the guide runs. This module turns such a body into the dict the JSON
decoder would have produced, so the rest of the sandbox never sees protobuf.

There is no maintained Python package of the Kubernetes ``.proto`` types, and the
``protobuf`` runtime is useless without generated classes, so the wire format is
read by hand here (it is small: varints and length-delimited fields) and driven
by :data:`MESSAGES`, a table of field numbers copied from upstream:

* ``kubernetes/api:core/v1/generated.proto`` (Service, ServiceSpec, ServicePort,
  ServiceStatus, LoadBalancerStatus, LoadBalancerIngress, PortStatus,
  SessionAffinityConfig, ClientIPConfig);
* ``kubernetes/apimachinery:pkg/apis/meta/v1/generated.proto`` (ObjectMeta,
  OwnerReference, ManagedFieldsEntry, FieldsV1, Time, Condition);
* ``kubernetes/apimachinery:pkg/util/intstr/generated.proto`` (IntOrString);
* ``kubernetes/apimachinery:pkg/runtime/generated.proto`` (Unknown, TypeMeta: the envelope).

Protobuf field numbers never change once published, so one table serves every
Kubernetes version; fields newer than the table, and removed ones
(``ObjectMeta.clusterName`` = 15, ``ServiceSpec.topologyKeys`` = 16), are
skipped like any unknown field, keeping wire-type correctness.

Which kinds are decoded
-----------------------
Only those kubectl sends as protobuf in the guide's commands, found by logging
kubectl 1.37's requests to the sandbox: **Service** (``kubectl create service``).
``kubectl create namespace|deployment|configmap`` send protobuf too; those kinds
are answered with a clear 415 naming the JSON alternative (add their messages to
:data:`MESSAGES` and :data:`KINDS` to support them). ``kubectl apply``, ``run``,
``expose``, ``set``, ``scale``, ``rollout`` and ``delete`` send JSON.

The envelope
------------
A body is the 4-byte magic ``k8s\\x00`` followed by a ``runtime.Unknown``::

    message Unknown { TypeMeta typeMeta = 1; bytes raw = 2;
                      string contentEncoding = 3; string contentType = 4; }
    message TypeMeta { string apiVersion = 1; string kind = 2; }

``raw`` is the object itself (e.g. a ``Service`` message).

From Go structs to JSON
-----------------------
The API server decodes protobuf straight into Go structs; the sandbox works on
JSON-shaped dicts. The output here is the JSON that decodes to the same Go
struct, which fixes three rules:

* A non-pointer scalar field at its zero value ("" / 0 / false) is the same Go
  value as an absent one, and gogo-protobuf marshals every non-pointer proto2
  field, zero or not (``generateName: ""`` arrives on every kubectl create). Such
  fields are **left out** so that defaulting (``sessionAffinity`` → ``None``…)
  sees them as unset, as Go's ``== ""`` checks do. Pointer fields (``ptr=True``
  in the table: ``*int32``, ``*string``, ``*bool``) are kept when present, even
  at zero, because there presence is meaning.
* ``metav1.Time`` is ``{seconds, nanos}`` and marshals to RFC 3339 with whole
  seconds; the zero time (what kubectl sends for ``creationTimestamp``) is JSON
  ``null``, i.e. left out. ``IntOrString`` becomes a JSON number or string, and its
  zero value is left out (defaulting then copies ``port`` into ``targetPort``).
* Strings that are not valid UTF-8 get U+FFFD replacements, as Go's JSON encoder
  does. ``bytes`` become base64 (``encoding/json``); ``FieldsV1.Raw`` is JSON text
  and is embedded as the object it spells.

The other direction
-------------------
:func:`encode_openapi_v2` writes the swagger ``/openapi/v2`` document as the
protobuf client-go insists on (gnostic's ``openapi_v2.Document``); see the
section at the end of this module for why kubectl needs it.

Errors are :class:`ProtobufError` with the HTTP code and reason the API should
answer: 400 ``BadRequest`` for malformed wire data, 415
``UnsupportedMediaType`` for a well-formed body of a kind this table does not
know. :func:`decode_request_body` raises them as the sandbox's
:class:`~.errors.ApiError`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

__all__ = [
    "CONTENT_TYPE",
    "KINDS",
    "MAGIC",
    "MESSAGES",
    "ProtobufError",
    "decode",
    "decode_message",
    "decode_request_body",
    "encode_openapi_v2",
    "iter_fields",
    "openapi_v2_protobuf",
    "OPENAPI_V2_ACCEPT",
    "OPENAPI_V2_CONTENT_TYPE",
    "wants_openapi_v2_protobuf",
]

#: The media type kubectl (client-go) sends protobuf bodies with.
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

#: Every protobuf-encoded Kubernetes object starts with these four bytes.
MAGIC = b"k8s\x00"

# Wire types (https://protobuf.dev/programming-guides/encoding/#structure).
VARINT, FIXED64, LEN, SGROUP, EGROUP, FIXED32 = 0, 1, 2, 3, 4, 5
_WIRE_NAMES = {VARINT: "varint", FIXED64: "fixed64", LEN: "length-delimited", SGROUP: "start-group",
               EGROUP: "end-group", FIXED32: "fixed32"}


class ProtobufError(ValueError):
    """A body that cannot be decoded; ``code`` and ``reason`` are what the API answers."""

    def __init__(self, message: str, code: int = 400, reason: str = "BadRequest") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------------- field table

#: Scalar kinds and the wire type each is carried in.
_SCALAR_WIRE = {"string": LEN, "bytes": LEN, "bool": VARINT, "int32": VARINT, "int64": VARINT}


@dataclass(frozen=True)
class F:
    """One field of a message.

    Attributes:
        name: the JSON name.
        kind: ``string``, ``bytes``, ``bool``, ``int32``, ``int64``; ``map`` (string to
            string), ``map_bytes`` (string to bytes); or a message name from :data:`MESSAGES`
            (``Time``, ``IntOrString`` and ``FieldsV1`` are messages with special JSON forms).
        repeated: a ``repeated`` field (a JSON array).
        ptr: the Go field is a pointer: keep it when present, even at its zero value.
    """

    name: str
    kind: str
    repeated: bool = False
    ptr: bool = False


def _s(name: str, ptr: bool = False) -> F:
    return F(name, "string", ptr=ptr)


def _rs(name: str) -> F:
    return F(name, "string", repeated=True)


#: Field number → field, per message. Copied from the upstream generated.proto files (see the module doc).
MESSAGES: dict[str, dict[int, F]] = {
    # ---- k8s.io.apimachinery.pkg.runtime
    "Unknown": {1: F("typeMeta", "TypeMeta"), 2: F("raw", "bytes"), 3: _s("contentEncoding"), 4: _s("contentType")},
    "TypeMeta": {1: _s("apiVersion"), 2: _s("kind")},
    # ---- k8s.io.apimachinery.pkg.apis.meta.v1
    "ObjectMeta": {
        1: _s("name"), 2: _s("generateName"), 3: _s("namespace"), 4: _s("selfLink"), 5: _s("uid"),
        6: _s("resourceVersion"), 7: F("generation", "int64"), 8: F("creationTimestamp", "Time"),
        9: F("deletionTimestamp", "Time", ptr=True), 10: F("deletionGracePeriodSeconds", "int64", ptr=True),
        11: F("labels", "map"), 12: F("annotations", "map"),
        13: F("ownerReferences", "OwnerReference", repeated=True), 14: _rs("finalizers"),
        17: F("managedFields", "ManagedFieldsEntry", repeated=True),
        # 15 clusterName and 16 initializers were removed upstream: skipped as unknown.
    },
    "OwnerReference": {
        5: _s("apiVersion"), 1: _s("kind"), 3: _s("name"), 4: _s("uid"),
        6: F("controller", "bool", ptr=True), 7: F("blockOwnerDeletion", "bool", ptr=True),
    },
    "ManagedFieldsEntry": {
        1: _s("manager"), 2: _s("operation"), 3: _s("apiVersion"), 4: F("time", "Time", ptr=True),
        6: _s("fieldsType"), 7: F("fieldsV1", "FieldsV1", ptr=True), 8: _s("subresource"),
    },
    "FieldsV1": {1: F("Raw", "bytes")},
    "Time": {1: F("seconds", "int64"), 2: F("nanos", "int32")},
    "Condition": {
        1: _s("type"), 2: _s("status"), 3: F("observedGeneration", "int64"),
        4: F("lastTransitionTime", "Time"), 5: _s("reason"), 6: _s("message"),
    },
    # ---- k8s.io.apimachinery.pkg.util.intstr
    "IntOrString": {1: F("type", "int64"), 2: F("intVal", "int32"), 3: _s("strVal")},
    # ---- k8s.io.api.core.v1
    "Service": {1: F("metadata", "ObjectMeta"), 2: F("spec", "ServiceSpec"), 3: F("status", "ServiceStatus")},
    "ServiceSpec": {
        1: F("ports", "ServicePort", repeated=True), 2: F("selector", "map"), 3: _s("clusterIP"),
        18: _rs("clusterIPs"), 4: _s("type"), 5: _rs("externalIPs"), 7: _s("sessionAffinity"),
        8: _s("loadBalancerIP"), 9: _rs("loadBalancerSourceRanges"), 10: _s("externalName"),
        11: _s("externalTrafficPolicy"), 12: F("healthCheckNodePort", "int32"),
        13: F("publishNotReadyAddresses", "bool"),
        14: F("sessionAffinityConfig", "SessionAffinityConfig", ptr=True),
        19: _rs("ipFamilies"), 17: _s("ipFamilyPolicy", ptr=True),
        20: F("allocateLoadBalancerNodePorts", "bool", ptr=True), 21: _s("loadBalancerClass", ptr=True),
        22: _s("internalTrafficPolicy", ptr=True), 23: _s("trafficDistribution", ptr=True),
        # 16 topologyKeys was removed upstream: skipped as unknown.
    },
    "ServicePort": {
        1: _s("name"), 2: _s("protocol"), 6: _s("appProtocol", ptr=True), 3: F("port", "int32"),
        4: F("targetPort", "IntOrString"), 5: F("nodePort", "int32"),
    },
    "ServiceStatus": {1: F("loadBalancer", "LoadBalancerStatus"), 2: F("conditions", "Condition", repeated=True)},
    "LoadBalancerStatus": {1: F("ingress", "LoadBalancerIngress", repeated=True)},
    "LoadBalancerIngress": {
        1: _s("ip"), 2: _s("hostname"), 3: _s("ipMode", ptr=True), 4: F("ports", "PortStatus", repeated=True),
    },
    "PortStatus": {1: F("port", "int32"), 2: _s("protocol"), 3: _s("error", ptr=True)},
    "SessionAffinityConfig": {1: F("clientIP", "ClientIPConfig", ptr=True)},
    "ClientIPConfig": {1: F("timeoutSeconds", "int32", ptr=True)},
}

#: The kinds a protobuf body may carry: (apiVersion, kind) → top-level message.
KINDS: dict[tuple[str, str], str] = {
    ("v1", "Service"): "Service",
}


# ---------------------------------------------------------------------------- the wire format

def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Read a base-128 varint at ``pos``; return ``(value, next position)``."""
    result = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtobufError("unexpected end of data inside a varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("a varint is longer than 10 bytes")


def _skip_group(buf: bytes, pos: int, field_no: int) -> int:
    """Skip a (deprecated) group up to its matching end-group tag; return the position after it."""
    while True:
        tag, pos = _varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == EGROUP:
            if num != field_no:
                raise ProtobufError(f"end-group tag for field {num} closes a group of field {field_no}")
            return pos
        pos = _skip(buf, pos, num, wt)


def _skip(buf: bytes, pos: int, field_no: int, wire_type: int) -> int:
    """Skip one value of ``wire_type`` at ``pos``; return the position after it."""
    if wire_type == VARINT:
        return _varint(buf, pos)[1]
    if wire_type == FIXED64:
        pos += 8
    elif wire_type == FIXED32:
        pos += 4
    elif wire_type == LEN:
        n, pos = _varint(buf, pos)
        pos += n
    elif wire_type == SGROUP:
        return _skip_group(buf, pos, field_no)
    else:
        raise ProtobufError(f"field {field_no} has invalid wire type {wire_type}")
    if pos > len(buf):
        raise ProtobufError(f"unexpected end of data in field {field_no}")
    return pos


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)`` for each field of one encoded message.

    The value is an ``int`` for varint, fixed64 and fixed32 fields (fixed ones
    little-endian, unsigned) and ``bytes`` for length-delimited ones. Groups are
    skipped and not yielded.
    """
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if num == 0:
            raise ProtobufError("a field has the invalid number 0")
        if wt == VARINT:
            value, pos = _varint(buf, pos)
            yield num, wt, value
        elif wt == LEN:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise ProtobufError(f"field {num} is {n} bytes long but only {end - pos} remain")
            yield num, wt, buf[pos:pos + n]
            pos += n
        elif wt in (FIXED64, FIXED32):
            size = 8 if wt == FIXED64 else 4
            if pos + size > end:
                raise ProtobufError(f"unexpected end of data in field {num}")
            yield num, wt, int.from_bytes(buf[pos:pos + size], "little")
            pos += size
        elif wt == SGROUP:
            pos = _skip_group(buf, pos, num)
        else:
            raise ProtobufError(f"field {num} has invalid wire type {wt}")


def _signed(value: int, bits: int) -> int:
    """A varint as Go's int32/int64 reads it (two's complement, truncated to ``bits``)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


# ---------------------------------------------------------------------------- messages → JSON

def _scalar(f: F, wt: int, value: int | bytes, where: str) -> Any:
    expected = _SCALAR_WIRE[f.kind]
    if wt != expected:
        raise ProtobufError(f"{where}: expected wire type {_WIRE_NAMES[expected]} for a {f.kind}, "
                            f"got {_WIRE_NAMES.get(wt, wt)}")
    if f.kind == "string":
        return bytes(value).decode("utf-8", errors="replace")  # type: ignore[arg-type]
    if f.kind == "bytes":
        return bytes(value)  # type: ignore[arg-type]
    if f.kind == "bool":
        return value != 0
    return _signed(value, 32 if f.kind == "int32" else 64)  # type: ignore[arg-type]


def _packed_ints(f: F, data: bytes, where: str) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        v, pos = _varint(data, pos)
        out.append(_scalar(f, VARINT, v, where))
    return out


def _map_entry(data: bytes, value_kind: str, where: str) -> tuple[str, Any]:
    key, val = "", b"" if value_kind == "bytes" else ""
    for num, wt, v in iter_fields(data):
        if num == 1:
            key = _scalar(F("key", "string"), wt, v, where)
        elif num == 2:
            val = _scalar(F("value", value_kind), wt, v, f"{where}[{key!r}]")
    return key, val


def _time(fields: dict[str, Any]) -> str | None:
    seconds, nanos = fields.get("seconds", 0), fields.get("nanos", 0)
    if seconds == 0 and nanos == 0:
        return None  # the zero time: JSON null
    try:
        t = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProtobufError(f"a timestamp of {seconds} seconds is out of range") from None
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time marshals whole seconds


def _int_or_string(fields: dict[str, Any]) -> int | str | None:
    if fields.get("type", 0) == 1:
        return fields.get("strVal", "") or None
    return fields.get("intVal", 0) or None


def _fields_v1(fields: dict[str, Any]) -> Any:
    raw = fields.get("Raw", b"")
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ProtobufError("FieldsV1 does not hold JSON") from None


def decode_message(message: str, data: bytes, where: str = "") -> Any:
    """Decode one encoded message of type ``message`` (a key of :data:`MESSAGES`) to its JSON form.

    Protobuf semantics: a singular scalar seen twice keeps the last value; a singular
    message seen twice is the merge of both, which is what decoding the concatenation
    of their bytes gives; repeated fields accumulate (packed or not).
    """
    table = MESSAGES[message]
    where = where or message
    out: dict[str, Any] = {}
    singular: dict[str, bytearray] = {}  # singular sub-messages: their bytes, concatenated
    for num, wt, value in iter_fields(data):
        f = table.get(num)
        if f is None:
            continue  # unknown field: iter_fields has already stepped over it by its wire type
        path = f"{where}.{f.name}"
        if f.kind in ("map", "map_bytes"):
            if wt != LEN:
                raise ProtobufError(f"{path}: a map entry must be length-delimited, got {_WIRE_NAMES.get(wt, wt)}")
            k, v = _map_entry(value, "bytes" if f.kind == "map_bytes" else "string", path)  # type: ignore[arg-type]
            out.setdefault(f.name, {})[k] = base64.b64encode(v).decode() if isinstance(v, bytes) else v
        elif f.kind in MESSAGES:
            if wt != LEN:
                raise ProtobufError(f"{path}: expected a length-delimited {f.kind} message, "
                                    f"got {_WIRE_NAMES.get(wt, wt)}")
            if f.repeated:
                out.setdefault(f.name, []).append(decode_message(f.kind, value, path))  # type: ignore[arg-type]
            else:
                singular.setdefault(f.name, bytearray()).extend(value)  # type: ignore[arg-type]
                out[f.name] = None  # placeholder: keeps the field present
        elif f.repeated:
            if wt == LEN and f.kind not in ("string", "bytes"):
                out.setdefault(f.name, []).extend(_packed_ints(f, value, path))  # type: ignore[arg-type]
            else:
                v = _scalar(f, wt, value, path)
                out.setdefault(f.name, []).append(base64.b64encode(v).decode() if isinstance(v, bytes) else v)
        else:
            out[f.name] = _scalar(f, wt, value, path)
    for name, raw in singular.items():
        f = next(f for f in table.values() if f.name == name)
        out[name] = decode_message(f.kind, bytes(raw), f"{where}.{name}")
    # the message types that have JSON forms of their own
    if message == "Time":
        return _time(out)
    if message == "IntOrString":
        return _int_or_string(out)
    if message == "FieldsV1":
        return _fields_v1(out)
    # Go's zero values mean "unset": leave them out unless the Go field is a pointer
    result: dict[str, Any] = {}
    for f in table.values():
        if f.name not in out:
            continue
        v = out[f.name]
        if v is None and not f.ptr:
            continue  # the zero Time or IntOrString
        if not f.ptr and not f.repeated and f.kind in _SCALAR_WIRE and v in ("", 0, b""):
            continue  # "", 0, false (False == 0)
        result[f.name] = base64.b64encode(v).decode() if isinstance(v, bytes) else v
    return result


def decode(body: bytes) -> dict[str, Any]:
    """Decode a whole protobuf request body (magic + ``runtime.Unknown``) into a JSON-shaped object.

    The result carries ``apiVersion`` and ``kind`` from the envelope, as a JSON body would.

    Raises:
        ProtobufError: 400 for malformed data, 415 for a kind not in :data:`KINDS`.
    """
    if not body.startswith(MAGIC):
        raise ProtobufError(
            f"the body is not a Kubernetes protobuf object: it does not start with the magic bytes "
            f"{MAGIC!r} (it starts with {bytes(body[:4])!r})")
    envelope: dict[str, Any] = {}
    type_meta: dict[str, Any] = {}
    for num, wt, value in iter_fields(body[len(MAGIC):]):
        if num == 1 and wt == LEN:
            type_meta = decode_message("TypeMeta", value)  # type: ignore[arg-type]
        elif num == 2 and wt == LEN:
            envelope["raw"] = bytes(value)  # type: ignore[arg-type]
        elif num in (3, 4) and wt == LEN:
            name = MESSAGES["Unknown"][num].name
            envelope[name] = bytes(value).decode("utf-8", errors="replace")  # type: ignore[arg-type]
        elif num in (1, 2, 3, 4):
            raise ProtobufError(f"runtime.Unknown field {num} must be length-delimited, "
                                f"got {_WIRE_NAMES.get(wt, wt)}")
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if envelope.get("contentEncoding"):
        raise ProtobufError(f"protobuf bodies with contentEncoding {envelope['contentEncoding']!r} are not supported "
                            "by the stsnb sandbox", 415, "UnsupportedMediaType")
    if envelope.get("contentType") not in (None, "", CONTENT_TYPE):
        raise ProtobufError(f"a protobuf envelope holding {envelope['contentType']!r} is not supported by the "
                            "stsnb sandbox", 415, "UnsupportedMediaType")
    if not kind:
        raise ProtobufError("the protobuf object has no kind in its typeMeta")
    message = KINDS.get((api_version, kind))
    if message is None:
        known = ", ".join(f"{k} ({v})" for v, k in sorted(KINDS))
        raise ProtobufError(
            f"the stsnb sandbox cannot decode a protobuf {kind} ({api_version or 'no apiVersion'}): it reads "
            f"protobuf bodies only for {known}. Send this object as JSON instead, e.g. "
            f"`kubectl create … --dry-run=client -o json | kubectl create -f -`",
            415, "UnsupportedMediaType")
    obj = decode_message(message, envelope.get("raw", b""))
    return {"apiVersion": api_version, "kind": kind, **obj}


def decode_request_body(body: bytes, default_kind: str = "") -> dict[str, Any]:
    """:func:`decode`, raising the sandbox API's :class:`~.errors.ApiError` on failure."""
    from ..core import errors
    try:
        return decode(body)
    except ProtobufError as e:
        raise errors.ApiError(e.code, e.reason, e.message if e.code == 415 else
                              f"the protobuf request body could not be decoded: {e.message}") from None


# ============================================================================ OpenAPI v2 as protobuf
#
# client-go's ``DiscoveryClient.OpenAPISchema`` asks for ``/openapi/v2`` with
# ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and
# parses the answer with ``proto.Unmarshal`` into gnostic's ``openapi_v2.Document``:
# there is no JSON fallback. kubectl 1.27 and 1.28 need that document for
# ``kubectl apply`` (the fieldValidation check and client-side validation) and
# kubectl 1.27 for ``kubectl explain``; newer ones use OpenAPI v3 (JSON) first.
# The encoder below writes the swagger JSON document as that message, with the
# field numbers of ``google/gnostic:openapiv2/OpenAPIv2.proto`` (proto3), and
# follows gnostic's own JSON → message mapping (``openapiv2/OpenAPIv2.go``):
# keys starting with ``x-`` become ``vendor_extension`` entries whose value is an
# ``Any`` carrying the value as YAML text (kube-openapi reads it back with
# ``yaml.Unmarshal``; JSON text is valid YAML, so it is written as JSON), a
# parameter is a body parameter or a query/path/header/formData one by its
# ``in``, and a ``$ref`` parameter or response is a ``JsonReference``. JSON keys
# with no place in the message (JSON Schema's ``anyOf``, ``$schema``…) are left
# out, as gnostic leaves them out.

#: The media type client-go asks for ``/openapi/v2`` with (``Accept``)...
OPENAPI_V2_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
#: ...and the one to answer with: kube-openapi's handler returns the dotted form for both,
#: because ``@`` is not a token character and Go's ``mime.ParseMediaType`` (in client-go)
#: rejects it ("mime: unexpected content after media subtype").
OPENAPI_V2_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def wants_openapi_v2_protobuf(accept: str) -> bool:
    """Whether an ``Accept`` header asks ``/openapi/v2`` for protobuf (either spelling) rather than JSON."""
    types = [part.split(";")[0].strip() for part in accept.split(",")]
    return any(t in (OPENAPI_V2_ACCEPT, OPENAPI_V2_CONTENT_TYPE) for t in types) and (
        "application/json" not in types or
        min(types.index(t) for t in types if t in (OPENAPI_V2_ACCEPT, OPENAPI_V2_CONTENT_TYPE))
        < types.index("application/json"))


def _uvarint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 two's complement, as protobuf writes negative varints
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _tag(num: int, wire_type: int) -> bytes:
    return _uvarint(num << 3 | wire_type)


def _len(num: int, payload: bytes) -> bytes:
    """A length-delimited field; written even when empty (a present sub-message)."""
    return _tag(num, LEN) + _uvarint(len(payload)) + payload


def _str(num: int, value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        return b""  # proto3: the empty string is not written
    return _len(num, value.encode("utf-8"))


def _strs(num: int, values: Any) -> bytes:
    if isinstance(values, str):
        values = [values]
    return b"".join(_len(num, v.encode("utf-8")) for v in values or () if isinstance(v, str))


def _bool(num: int, value: Any) -> bytes:
    return _tag(num, VARINT) + b"\x01" if value is True else b""


def _int(num: int, value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        return b""
    return _tag(num, VARINT) + _uvarint(value)


def _double(num: int, value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
        return b""
    return _tag(num, FIXED64) + struct.pack("<d", float(value))


def _any(value: Any) -> bytes:
    """gnostic ``Any``: the value as YAML text in field 2 (JSON is YAML)."""
    return _str(2, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _vendor(num: int, obj: dict) -> bytes:
    return b"".join(_len(num, _str(1, k) + _len(2, _any(v))) for k, v in obj.items() if k.startswith("x-"))


def _named(num: int, items: Any, encode: Any) -> bytes:
    """A map as gnostic's repeated ``Named*`` (name = 1, value = 2), in document order."""
    if not isinstance(items, dict):
        return b""
    return b"".join(_len(num, _str(1, k) + _len(2, encode(v))) for k, v in items.items()
                    if not k.startswith("x-") and isinstance(v, (dict, list, str, bool)))


def _json_reference(obj: dict) -> bytes:
    return _str(1, obj.get("$ref")) + _str(2, obj.get("description"))


def _external_docs(obj: Any) -> bytes:
    obj = obj if isinstance(obj, dict) else {}
    return _str(1, obj.get("description")) + _str(2, obj.get("url")) + _vendor(3, obj)


def _schema(s: Any) -> bytes:
    """gnostic ``Schema`` (a JSON Schema object of the swagger dialect)."""
    if not isinstance(s, dict):
        return b""
    out = [_str(1, s.get("$ref")), _str(2, s.get("format")), _str(3, s.get("title")),
           _str(4, s.get("description"))]
    if "default" in s:
        out.append(_len(5, _any(s["default"])))
    out += [_double(6, s.get("multipleOf")), _double(7, s.get("maximum")), _bool(8, s.get("exclusiveMaximum")),
            _double(9, s.get("minimum")), _bool(10, s.get("exclusiveMinimum")), _int(11, s.get("maxLength")),
            _int(12, s.get("minLength")), _str(13, s.get("pattern")), _int(14, s.get("maxItems")),
            _int(15, s.get("minItems")), _bool(16, s.get("uniqueItems")), _int(17, s.get("maxProperties")),
            _int(18, s.get("minProperties")), _strs(19, s.get("required"))]
    out += [_len(20, _any(v)) for v in s.get("enum") or () if isinstance(s.get("enum"), list)]
    extra = s.get("additionalProperties")
    if isinstance(extra, bool):  # a oneof member is written even when false
        out.append(_len(21, _tag(2, VARINT) + (b"\x01" if extra else b"\x00")))
    elif isinstance(extra, dict):
        out.append(_len(21, _len(1, _schema(extra))))
    if "type" in s:
        out.append(_len(22, _strs(1, s["type"])))
    items = s.get("items")
    if isinstance(items, (dict, list)):
        out.append(_len(23, b"".join(_len(1, _schema(i)) for i in (items if isinstance(items, list) else [items]))))
    out += [_len(24, _schema(x)) for x in s.get("allOf") or () if isinstance(x, dict)]
    if isinstance(s.get("properties"), dict):
        out.append(_len(25, _named(1, s["properties"], _schema)))
    out += [_str(26, s.get("discriminator")), _bool(27, s.get("readOnly"))]
    if isinstance(s.get("xml"), dict):
        x = s["xml"]
        out.append(_len(28, _str(1, x.get("name")) + _str(2, x.get("namespace")) + _str(3, x.get("prefix"))
                        + _bool(4, x.get("attribute")) + _bool(5, x.get("wrapped")) + _vendor(6, x)))
    if isinstance(s.get("externalDocs"), dict):
        out.append(_len(29, _external_docs(s["externalDocs"])))
    if "example" in s:
        out.append(_len(30, _any(s["example"])))
    out.append(_vendor(31, s))
    return b"".join(out)


def _primitives_items(p: Any) -> bytes:
    p = p if isinstance(p, dict) else {}
    out = [_str(1, p.get("type")), _str(2, p.get("format"))]
    if isinstance(p.get("items"), dict):
        out.append(_len(3, _primitives_items(p["items"])))
    out.append(_str(4, p.get("collectionFormat")))
    if "default" in p:
        out.append(_len(5, _any(p["default"])))
    out += [_double(6, p.get("maximum")), _bool(7, p.get("exclusiveMaximum")), _double(8, p.get("minimum")),
            _bool(9, p.get("exclusiveMinimum")), _int(10, p.get("maxLength")), _int(11, p.get("minLength")),
            _str(12, p.get("pattern")), _int(13, p.get("maxItems")), _int(14, p.get("minItems")),
            _bool(15, p.get("uniqueItems"))]
    out += [_len(16, _any(v)) for v in p.get("enum") or () if isinstance(p.get("enum"), list)]
    out += [_double(17, p.get("multipleOf")), _vendor(18, p)]
    return b"".join(out)


def _non_body_parameter(p: dict) -> bytes:
    """Query/formData (with allowEmptyValue at 5) or path/header sub-schemas; field numbers shift by one."""
    where = p.get("in")
    with_empty = where in ("query", "formData")
    o = 1 if with_empty else 0  # offset of the fields after ``name``
    out = [_bool(1, p.get("required")), _str(2, where), _str(3, p.get("description")), _str(4, p.get("name"))]
    if with_empty:
        out.append(_bool(5, p.get("allowEmptyValue")))
    out += [_str(5 + o, p.get("type")), _str(6 + o, p.get("format"))]
    if isinstance(p.get("items"), dict):
        out.append(_len(7 + o, _primitives_items(p["items"])))
    out.append(_str(8 + o, p.get("collectionFormat")))
    if "default" in p:
        out.append(_len(9 + o, _any(p["default"])))
    out += [_double(10 + o, p.get("maximum")), _bool(11 + o, p.get("exclusiveMaximum")),
            _double(12 + o, p.get("minimum")), _bool(13 + o, p.get("exclusiveMinimum")),
            _int(14 + o, p.get("maxLength")), _int(15 + o, p.get("minLength")), _str(16 + o, p.get("pattern")),
            _int(17 + o, p.get("maxItems")), _int(18 + o, p.get("minItems")), _bool(19 + o, p.get("uniqueItems"))]
    out += [_len(20 + o, _any(v)) for v in p.get("enum") or () if isinstance(p.get("enum"), list)]
    out += [_double(21 + o, p.get("multipleOf")), _vendor(22 + o, p)]
    which = {"header": 1, "formData": 2, "query": 3, "path": 4}.get(where, 3)
    return _len(which, b"".join(out))


def _parameter(p: Any) -> bytes:
    """gnostic ``Parameter``: ``body_parameter`` (1) or ``non_body_parameter`` (2)."""
    p = p if isinstance(p, dict) else {}
    if p.get("in") == "body":
        body = (_str(1, p.get("description")) + _str(2, p.get("name")) + _str(3, "body") + _bool(4, p.get("required"))
                + (_len(5, _schema(p["schema"])) if isinstance(p.get("schema"), dict) else b"") + _vendor(6, p))
        return _len(1, body)
    return _len(2, _non_body_parameter(p))


def _parameters_item(p: Any) -> bytes:
    if isinstance(p, dict) and "$ref" in p:
        return _len(2, _json_reference(p))
    return _len(1, _parameter(p))


def _response(r: dict) -> bytes:
    out = [_str(1, r.get("description"))]
    if isinstance(r.get("schema"), dict):
        sch = r["schema"]
        out.append(_len(2, _len(2 if sch.get("type") == "file" else 1, _schema(sch))))
    return b"".join(out) + _vendor(5, r)


def _responses(rs: Any) -> bytes:
    rs = rs if isinstance(rs, dict) else {}

    def value(r: Any) -> bytes:
        r = r if isinstance(r, dict) else {}
        return _len(2, _json_reference(r)) if "$ref" in r else _len(1, _response(r))
    return _named(1, rs, value) + _vendor(2, rs)


def _operation(op: Any) -> bytes:
    op = op if isinstance(op, dict) else {}
    out = [_strs(1, op.get("tags")), _str(2, op.get("summary")), _str(3, op.get("description"))]
    if isinstance(op.get("externalDocs"), dict):
        out.append(_len(4, _external_docs(op["externalDocs"])))
    out += [_str(5, op.get("operationId")), _strs(6, op.get("produces")), _strs(7, op.get("consumes"))]
    out += [_len(8, _parameters_item(p)) for p in op.get("parameters") or ()]
    if "responses" in op:
        out.append(_len(9, _responses(op["responses"])))
    out += [_strs(10, op.get("schemes")), _bool(11, op.get("deprecated")), _vendor(13, op)]
    return b"".join(out)


def _path_item(item: Any) -> bytes:
    item = item if isinstance(item, dict) else {}
    out = [_str(1, item.get("$ref"))]
    for num, verb in ((2, "get"), (3, "put"), (4, "post"), (5, "delete"), (6, "options"), (7, "head"), (8, "patch")):
        if verb in item:
            out.append(_len(num, _operation(item[verb])))
    out += [_len(9, _parameters_item(p)) for p in item.get("parameters") or ()]
    return b"".join(out) + _vendor(10, item)


def encode_openapi_v2(document: dict) -> bytes:
    """The swagger 2.0 ``document`` (a JSON dict) as a protobuf gnostic ``openapi_v2.Document``."""
    d = document
    out = [_str(1, d.get("swagger"))]
    if isinstance(d.get("info"), dict):
        i = d["info"]
        out.append(_len(2, _str(1, i.get("title")) + _str(2, i.get("version")) + _str(3, i.get("description"))
                        + _str(4, i.get("termsOfService")) + _vendor(7, i)))
    out += [_str(3, d.get("host")), _str(4, d.get("basePath")), _strs(5, d.get("schemes")),
            _strs(6, d.get("consumes")), _strs(7, d.get("produces"))]
    if isinstance(d.get("paths"), dict):
        paths = d["paths"]
        out.append(_len(8, _vendor(1, paths) + b"".join(
            _len(2, _str(1, k) + _len(2, _path_item(v))) for k, v in paths.items() if k.startswith("/"))))
    if isinstance(d.get("definitions"), dict):
        out.append(_len(9, _named(1, d["definitions"], _schema)))
    if isinstance(d.get("parameters"), dict):
        out.append(_len(10, _named(1, d["parameters"], _parameter)))
    if isinstance(d.get("responses"), dict):
        out.append(_len(11, _named(1, d["responses"], lambda r: _response(r if isinstance(r, dict) else {}))))
    out.append(_vendor(16, d))
    return b"".join(out)


_V2_CACHE: dict[bytes, bytes] = {}


def openapi_v2_protobuf(document_json: bytes) -> bytes:
    """:func:`encode_openapi_v2` of a JSON-encoded document, cached by the document's digest."""
    key = hashlib.sha256(document_json).digest()
    hit = _V2_CACHE.get(key)
    if hit is None:
        hit = _V2_CACHE[key] = encode_openapi_v2(json.loads(document_json))
    return hit
