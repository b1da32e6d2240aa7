"""Decode the Kubernetes protobuf request bodies kubectl sends, into the JSON dicts the registry takes.

Why this exists
---------------
kubectl's typed-client commands (``kubectl create service|namespace|deployment|
configmap|secret|job|cronjob|ingress|pdb|role|rolebinding …``, ``kubectl drain``'s
evictions, ``kubectl auth can-i``) send their object as
``Content-Type: application/vnd.kubernetes.protobuf`` and client-go does **not**
retry with JSON when the server answers 415 (it does so only for CBOR). This
module turns such a body into the dict the JSON decoder would have produced, so
the rest of the sandbox never sees protobuf.

The field table
---------------
There is no maintained Python package of the Kubernetes ``.proto`` types, and the
``protobuf`` runtime is useless without generated classes, so the wire format is
read here (it is small: varints and length-delimited fields), driven by
``proto_fields.json`` beside this module: every message's fields by number (JSON
name, qualified type, ``optional``/``repeated``/``map``), derived mechanically by
``tools/proto_fields.py`` from upstream's ``generated.proto`` files
(kubernetes/api ``core/v1``, ``apps/v1``, ``batch/v1``, ``policy/v1``,
``networking/v1``, ``rbac/v1``, ``coordination/v1``, ``authorization/v1``;
kubernetes/apimachinery ``pkg/apis/meta/v1``, ``pkg/runtime``,
``pkg/util/intstr``, ``pkg/api/resource``). The same script marks the fields of
Go *embedded* structs, which JSON shows inline (``Volume.volumeSource``,
``Probe.handler`` …), by comparing with the API schemas.

Protobuf field numbers never change once published, so one table serves every
Kubernetes version; fields newer than the ``.proto`` files the table was derived
from, and removed ones, are skipped like any unknown field. A field whose
*message type* is missing from the table is refused (415, naming it) rather than
silently dropped.

From Go structs to JSON
-----------------------
The API server decodes protobuf straight into Go structs; the sandbox works on
JSON-shaped dicts. The output here is the JSON that decodes to the same Go
struct:

* gogo-protobuf writes every non-pointer field, zero or not (``generateName: ""``
  arrives on every kubectl create). A scalar at its zero value is the same Go
  value as an absent one, so it is **left out**, and defaulting sees it unset as
  Go's ``== ""`` checks do. Pointer fields (``*int32 replicas``, ``*bool``…) are
  written only when set, and there a zero means zero: :data:`POINTER_FIELDS`
  lists them, from the Go types (``generated.proto`` does not say which fields
  are pointers). A pointer field missing from that list reads its zero as unset.
* ``metav1.Time`` is ``{seconds, nanos}`` and marshals to RFC 3339 with whole
  seconds (``MicroTime`` with microseconds); the zero time is JSON ``null``, i.e.
  left out. ``IntOrString`` becomes a number or string; ``Quantity`` its string;
  ``RawExtension`` the JSON object it holds.
* Strings that are not valid UTF-8 get U+FFFD replacements, as Go's JSON encoder
  does. ``bytes`` become base64 (``encoding/json``).

The other direction, ``/openapi/v2`` as protobuf, is :mod:`.openapi_protobuf`.

Errors are :class:`ProtobufError` with the HTTP code and reason the API should
answer: 400 ``BadRequest`` for malformed wire data, 415
``UnsupportedMediaType`` for a well-formed body this table cannot decode.
:func:`decode_request_body` raises them as the sandbox API's
:class:`~..core.errors.ApiError`.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

__all__ = [
    "CONTENT_TYPE",
    "MAGIC",
    "POINTER_FIELDS",
    "ProtobufError",
    "decode",
    "decode_message",
    "decode_request_body",
    "iter_fields",
    "message_for",
    "messages",
]

#: The media type kubectl (client-go) sends protobuf bodies with.
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

#: Every protobuf-encoded Kubernetes object starts with these four bytes.
MAGIC = b"k8s\x00"

# Wire types (https://protobuf.dev/programming-guides/encoding/#structure).
VARINT, FIXED64, LEN, SGROUP, EGROUP, FIXED32 = 0, 1, 2, 3, 4, 5
_WIRE_NAMES = {VARINT: "varint", FIXED64: "fixed64", LEN: "length-delimited", SGROUP: "start-group",
               EGROUP: "end-group", FIXED32: "fixed32"}

_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_CORE = "k8s.io.api.core.v1."
_RUNTIME = "k8s.io.apimachinery.pkg.runtime."


class ProtobufError(ValueError):
    """A body that cannot be decoded; ``code`` and ``reason`` are what the API answers."""

    def __init__(self, message: str, code: int = 400, reason: str = "BadRequest") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------------- the field table

@lru_cache(maxsize=1)
def messages() -> dict[str, dict[int, tuple]]:
    """``{qualified message: {number: (json name, qualified type, label, inline)}}`` from ``proto_fields.json``."""
    raw = json.loads((Path(__file__).with_name("proto_fields.json")).read_text(encoding="utf-8"))["messages"]
    return {name: {int(num): (f[0], f[1], f[2], len(f) > 3 and f[3] == "inline") for num, f in fields.items()}
            for name, fields in raw.items()}


def _short(message: str) -> str:
    return message.rsplit(".", 1)[-1]


#: Go pointer fields (``*int32``, ``*bool``, ``*string``, ``*IntOrString`` …) whose zero value means
#: something, as ``Message.field`` (the message's short name). From the Go API types
#: (kubernetes/api ``*/types.go``): generated.proto records no pointer-ness. Non-pointer fields at their
#: zero value are left out (see the module doc).
POINTER_FIELDS = frozenset({
    # apps/v1
    "DeploymentSpec.replicas", "DeploymentSpec.revisionHistoryLimit", "DeploymentSpec.progressDeadlineSeconds",
    "StatefulSetSpec.replicas", "StatefulSetSpec.revisionHistoryLimit", "ReplicaSetSpec.replicas",
    "RollingUpdateDeployment.maxUnavailable", "RollingUpdateDeployment.maxSurge",
    "RollingUpdateStatefulSetStrategy.partition", "RollingUpdateStatefulSetStrategy.maxUnavailable",
    # batch/v1
    "JobSpec.parallelism", "JobSpec.completions", "JobSpec.activeDeadlineSeconds", "JobSpec.backoffLimit",
    "JobSpec.manualSelector", "JobSpec.ttlSecondsAfterFinished", "JobSpec.suspend",
    "CronJobSpec.startingDeadlineSeconds", "CronJobSpec.suspend", "CronJobSpec.successfulJobsHistoryLimit",
    "CronJobSpec.failedJobsHistoryLimit",
    # policy/v1, autoscaling, coordination
    "PodDisruptionBudgetSpec.minAvailable", "PodDisruptionBudgetSpec.maxUnavailable",
    "HorizontalPodAutoscalerSpec.minReplicas", "MetricTarget.averageUtilization",
    "MetricValueStatus.averageUtilization", "HPAScalingRules.stabilizationWindowSeconds",
    "HPAScalingRules.selectPolicy", "LeaseSpec.holderIdentity", "LeaseSpec.leaseDurationSeconds", "LeaseSpec.leaseTransitions",
    # core/v1
    "ConfigMap.immutable", "Secret.immutable", "ServiceAccount.automountServiceAccountToken",
    "PodSpec.terminationGracePeriodSeconds", "PodSpec.activeDeadlineSeconds", "PodSpec.automountServiceAccountToken",
    "PodSpec.shareProcessNamespace", "PodSpec.priority", "PodSpec.enableServiceLinks", "PodSpec.setHostnameAsFQDN",
    "PodSpec.preemptionPolicy", "PodSpec.runtimeClassName",
    "SecurityContext.privileged", "SecurityContext.runAsUser", "SecurityContext.runAsGroup",
    "SecurityContext.runAsNonRoot", "SecurityContext.readOnlyRootFilesystem",
    "SecurityContext.allowPrivilegeEscalation", "SecurityContext.procMount",
    "PodSecurityContext.runAsUser", "PodSecurityContext.runAsGroup", "PodSecurityContext.runAsNonRoot",
    "PodSecurityContext.fsGroup", "PodSecurityContext.fsGroupChangePolicy",
    "Probe.terminationGracePeriodSeconds", "Toleration.tolerationSeconds", "ServicePort.appProtocol",
    "ServiceSpec.ipFamilyPolicy", "ServiceSpec.allocateLoadBalancerNodePorts", "ServiceSpec.loadBalancerClass",
    "ServiceSpec.internalTrafficPolicy", "ClientIPConfig.timeoutSeconds",
    "ConfigMapKeySelector.optional", "SecretKeySelector.optional", "ConfigMapEnvSource.optional",
    "SecretEnvSource.optional", "ConfigMapVolumeSource.optional", "SecretVolumeSource.optional",
    "ConfigMapVolumeSource.defaultMode", "SecretVolumeSource.defaultMode", "KeyToPath.mode",
    "PersistentVolumeClaimSpec.storageClassName", "PersistentVolumeClaimSpec.volumeMode",
    "EndpointPort.appProtocol",
    # meta/v1
    "ObjectMeta.deletionTimestamp", "ObjectMeta.deletionGracePeriodSeconds", "OwnerReference.controller",
    "OwnerReference.blockOwnerDeletion", "DeleteOptions.gracePeriodSeconds", "DeleteOptions.orphanDependents",
    "DeleteOptions.propagationPolicy", "DeleteOptions.preconditions",
})


def message_for(api_version: str, kind: str) -> str | None:
    """The message of a kind, by the packages' naming: group ``apps`` → ``k8s.io.api.apps.v1`` …

    ``DeleteOptions`` (any of meta's group versions) is meta's. policy/v1's ``Eviction`` reads with
    policy/v1beta1's message, the same fields, when the table has no policy/v1 one (the
    generated.proto it was derived from predates Eviction's move to v1).
    """
    table = messages()
    group, _, version = api_version.rpartition("/")
    if kind in ("DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions"):
        return _META + kind if _META + kind in table else None
    package = f"k8s.io.api.{group.split('.')[0] if group else 'core'}.{version}"
    name = f"{package}.{kind}"
    if name in table:
        return name
    if (group, kind) == ("policy", "Eviction") and "k8s.io.api.policy.v1beta1.Eviction" in table:
        return "k8s.io.api.policy.v1beta1.Eviction"
    return None


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

_SCALAR_WIRE = {"string": LEN, "bytes": LEN, "bool": VARINT, "int32": VARINT, "int64": VARINT, "uint32": VARINT,
                "uint64": VARINT, "sint32": VARINT, "sint64": VARINT, "fixed32": FIXED32, "fixed64": FIXED64,
                "sfixed32": FIXED32, "sfixed64": FIXED64, "double": FIXED64, "float": FIXED32}
_ZERO = ("", 0, b"", 0.0)
#: How deep messages may nest: the API's types nest a few dozen levels; deeper is malformed input.
MAX_DEPTH = 100


def _scalar(kind: str, wt: int, value: int | bytes, where: str) -> Any:
    expected = _SCALAR_WIRE[kind]
    if wt != expected:
        raise ProtobufError(f"{where}: expected wire type {_WIRE_NAMES[expected]} for a {kind}, "
                            f"got {_WIRE_NAMES.get(wt, wt)}")
    if kind == "string":
        return bytes(value).decode("utf-8", errors="replace")  # type: ignore[arg-type]
    if kind == "bytes":
        return bytes(value)  # type: ignore[arg-type]
    if kind == "bool":
        return value != 0
    v = int(value)  # type: ignore[arg-type]
    if kind in ("int32", "sfixed32"):
        return _signed(v, 32)
    if kind in ("int64", "sfixed64"):
        return _signed(v, 64)
    if kind in ("sint32", "sint64"):
        return (v >> 1) ^ -(v & 1)
    if kind == "uint32":
        return v & 0xFFFFFFFF
    if kind == "double":
        return struct.unpack("<d", v.to_bytes(8, "little"))[0]
    if kind == "float":
        return struct.unpack("<f", v.to_bytes(4, "little"))[0]
    return v


def _packed(kind: str, data: bytes, where: str) -> list:
    out, pos = [], 0
    wt = _SCALAR_WIRE[kind]
    while pos < len(data):
        if wt == VARINT:
            v, pos = _varint(data, pos)
        else:
            size = 8 if wt == FIXED64 else 4
            if pos + size > len(data):
                raise ProtobufError(f"{where}: a packed value is cut short")
            v, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        out.append(_scalar(kind, wt, v, where))
    return out


def _timestamp(fields: dict[str, Any], micro: bool) -> str | None:
    seconds, nanos = fields.get("seconds", 0), fields.get("nanos", 0)
    if seconds == 0 and nanos == 0:
        return None  # the zero time: JSON null
    try:
        t = datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProtobufError(f"a timestamp of {seconds} seconds is out of range") from None
    if micro:  # metav1.MicroTime: RFC3339Micro
        return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{(nanos // 1000) % 1_000_000:06d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")  # metav1.Time marshals whole seconds


def _duration(ns: int) -> str:
    """Go's ``time.Duration.String`` for whole units (``1h0m0s``, ``90s``, ``0s``)."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    h, rest = divmod(ns, 3600 * 10**9)
    m, rest = divmod(rest, 60 * 10**9)
    s = rest / 10**9
    text = (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + (f"{s:g}s")
    return sign + text


def _special(message: str, out: dict[str, Any]) -> tuple[bool, Any]:
    """The JSON form of the messages with custom Go marshalling; ``(False, None)`` for the others."""
    short = _short(message)
    if message.startswith(_META) and short in ("Time", "MicroTime", "Timestamp"):
        return True, _timestamp(out, short == "MicroTime")
    if message.startswith(_META) and short == "Duration":
        return True, _duration(out.get("duration", 0))
    if short == "IntOrString":
        if out.get("type", 0) == 1:
            return True, out.get("strVal", "")
        return True, out.get("intVal", 0)
    if short == "Quantity":
        return True, out.get("string", "")
    if message == _RUNTIME + "RawExtension":
        raw = out.get("raw", b"")
        if not raw:
            return True, None
        try:
            return True, json.loads(raw)
        except ValueError:
            raise ProtobufError("a RawExtension does not hold JSON") from None
    if message == _META + "FieldsV1":
        raw = out.get("Raw", b"")
        try:
            return True, json.loads(raw) if raw else {}
        except ValueError:
            raise ProtobufError("FieldsV1 does not hold JSON") from None
    return False, None


def _is_zero(value: Any) -> bool:
    return value is None or (not isinstance(value, (dict, list)) and value in _ZERO and value is not True)


def decode_message(message: str, data: bytes, where: str = "", depth: int = 0) -> Any:
    """Decode one encoded message of type ``message`` (a qualified name of the table) to its JSON form.

    Protobuf semantics: a singular scalar seen twice keeps the last value; a singular
    message seen twice is the merge of both, which is what decoding the concatenation
    of their bytes gives; repeated fields accumulate (packed or not).
    """
    table = messages()
    fields = table.get(message)
    where = where or _short(message)
    if fields is None:
        raise ProtobufError(f"{where}: the stsnb sandbox's protobuf table has no message {message}; send this "
                            "object as JSON instead", 415, "UnsupportedMediaType")
    if depth > MAX_DEPTH:
        raise ProtobufError(f"{where}: messages nest more than {MAX_DEPTH} levels deep")
    out: dict[str, Any] = {}
    singular: dict[int, bytearray] = {}  # singular sub-messages: their bytes, concatenated
    for num, wt, value in iter_fields(data):
        f = fields.get(num)
        if f is None:
            continue  # unknown field: iter_fields has already stepped over it by its wire type
        name, kind, label, _ = f
        path = f"{where}.{name}"
        if label == "map":
            if wt != LEN:
                raise ProtobufError(f"{path}: a map entry must be length-delimited, got {_WIRE_NAMES.get(wt, wt)}")
            k, v = _map_entry(value, kind, path, depth)  # type: ignore[arg-type]
            out.setdefault(name, {})[k] = v
        elif kind not in _SCALAR_WIRE:
            if wt != LEN:
                raise ProtobufError(f"{path}: expected a length-delimited {_short(kind)} message, "
                                    f"got {_WIRE_NAMES.get(wt, wt)}")
            if label == "repeated":
                out.setdefault(name, []).append(decode_message(kind, value, path, depth + 1))  # type: ignore[arg-type]
            else:
                singular.setdefault(num, bytearray()).extend(value)  # type: ignore[arg-type]
                out[name] = None  # placeholder: keeps the field's place
        elif label == "repeated":
            if wt == LEN and kind not in ("string", "bytes"):
                out.setdefault(name, []).extend(_packed(kind, value, path))  # type: ignore[arg-type]
            else:
                v = _scalar(kind, wt, value, path)
                out.setdefault(name, []).append(base64.b64encode(v).decode() if isinstance(v, bytes) else v)
        else:
            out[name] = _scalar(kind, wt, value, path)
    for num, raw in singular.items():
        name, kind = fields[num][0], fields[num][1]
        out[name] = decode_message(kind, bytes(raw), f"{where}.{name}", depth + 1)
    special, value = _special(message, out)
    if special:
        return value
    short = _short(message)
    result: dict[str, Any] = {}
    for num in sorted(fields, key=list(fields).index):
        name, kind, label, inline = fields[num]
        if name not in out:
            continue
        v = out[name]
        pointer = f"{short}.{name}" in POINTER_FIELDS
        if inline and isinstance(v, dict):
            result.update(v)  # a Go embedded struct: its fields sit in the parent's JSON
            continue
        if not pointer and label == "optional" and _is_zero(v):
            continue  # Go's zero value of a non-pointer field: the same as absent
        if v is None:
            continue
        result[name] = base64.b64encode(v).decode() if isinstance(v, bytes) else v
    return result


def _map_entry(data: bytes, value_kind: str, where: str, depth: int) -> tuple[str, Any]:
    key: str = ""
    val: Any = None
    for num, wt, v in iter_fields(data):
        if num == 1:
            key = _scalar("string", wt, v, where)
        elif num == 2:
            if value_kind in _SCALAR_WIRE:
                val = _scalar(value_kind, wt, v, f"{where}[{key!r}]")
            elif wt == LEN:
                val = decode_message(value_kind, v, f"{where}[{key!r}]", depth + 1)  # type: ignore[arg-type]
            else:
                raise ProtobufError(f"{where}: a map value must be a length-delimited message")
    if val is None:
        val = b"" if value_kind == "bytes" else "" if value_kind == "string" else (
            0 if value_kind in _SCALAR_WIRE else decode_message(value_kind, b"", where, depth + 1))
    return key, base64.b64encode(val).decode() if isinstance(val, bytes) else val


def decode(body: bytes, default_kind: str = "") -> dict[str, Any]:
    """Decode a whole protobuf request body (magic + ``runtime.Unknown``) into a JSON-shaped object.

    The result carries ``apiVersion`` and ``kind`` from the envelope, as a JSON body would.
    ``default_kind`` names the message when the envelope has no kind (client-go sends
    ``DeleteOptions`` bodies with an empty TypeMeta).

    Raises:
        ProtobufError: 400 for malformed data, 415 for a kind the table cannot decode.
    """
    if not body.startswith(MAGIC):
        raise ProtobufError(
            f"the body is not a Kubernetes protobuf object: it does not start with the magic bytes "
            f"{MAGIC!r} (it starts with {bytes(body[:4])!r})")
    envelope: dict[str, Any] = {}
    type_meta: dict[str, Any] = {}
    for num, wt, value in iter_fields(body[len(MAGIC):]):
        if num == 1 and wt == LEN:
            type_meta = decode_message(_RUNTIME + "TypeMeta", value)  # type: ignore[arg-type]
        elif num == 2 and wt == LEN:
            envelope["raw"] = bytes(value)  # type: ignore[arg-type]
        elif num in (3, 4) and wt == LEN:
            envelope[messages()[_RUNTIME + "Unknown"][num][0]] = bytes(value).decode("utf-8", errors="replace")  # type: ignore[arg-type]
        elif num in (1, 2, 3, 4):
            raise ProtobufError(f"runtime.Unknown field {num} must be length-delimited, "
                                f"got {_WIRE_NAMES.get(wt, wt)}")
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "") or default_kind
    if envelope.get("contentEncoding"):
        raise ProtobufError(f"protobuf bodies with contentEncoding {envelope['contentEncoding']!r} are not supported "
                            "by the stsnb sandbox", 415, "UnsupportedMediaType")
    if envelope.get("contentType") not in (None, "", CONTENT_TYPE):
        raise ProtobufError(f"a protobuf envelope holding {envelope['contentType']!r} is not supported by the "
                            "stsnb sandbox", 415, "UnsupportedMediaType")
    if not kind:
        raise ProtobufError("the protobuf object has no kind in its typeMeta")
    message = message_for(api_version or "meta.k8s.io/v1", kind)
    if message is None:
        raise ProtobufError(
            f"the stsnb sandbox cannot decode a protobuf {kind} ({api_version or 'no apiVersion'}): its table, "
            f"derived from upstream's generated.proto files, has no such message. Send this object as JSON "
            f"instead, e.g. `kubectl create … --dry-run=client -o json | kubectl create -f -`",
            415, "UnsupportedMediaType")
    obj = decode_message(message, envelope.get("raw", b""))
    head = {"apiVersion": api_version, "kind": kind} if type_meta.get("kind") else {}
    return {**head, **obj}


def decode_request_body(body: bytes, default_kind: str = "") -> dict[str, Any]:
    """:func:`decode`, raising the sandbox API's :class:`~..core.errors.ApiError` on failure."""
    from ..core import errors
    try:
        return decode(body, default_kind)
    except ProtobufError as e:
        raise errors.ApiError(e.code, e.reason, e.message if e.code == 415 else
                              f"the protobuf request body could not be decoded: {e.message}") from None
    except RecursionError:
        raise errors.bad_request("the protobuf request body could not be decoded: it nests too deeply") from None
