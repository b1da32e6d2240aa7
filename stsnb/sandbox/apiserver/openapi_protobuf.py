"""``/openapi/v2`` as protobuf: the swagger document as gnostic's ``openapi_v2.Document``.

Split from :mod:`.protobuf` (request bodies); see the comment below for why kubectl needs it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

__all__ = ["OPENAPI_V2_ACCEPT", "OPENAPI_V2_CONTENT_TYPE", "encode_openapi_v2", "openapi_v2_protobuf",
           "wants_openapi_v2_protobuf"]

VARINT, FIXED64, LEN = 0, 1, 2

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
