"""What Go prints: the ``fmt``, ``strconv`` and ``encoding/json`` texts the API server's messages quote.

The schema modules (:mod:`.decoding`, :mod:`.strategic`, :mod:`.patches`) word
their errors exactly as kube-apiserver does, and those errors embed Go values
as Go formats them: ``strconv.Quote`` strings, ``%v`` maps with sorted keys,
``reflect`` type and kind names, ``encoding/json``'s names for JSON values.
Unstructured values here are the JSON-like Python values a decoded body is made
of (dict, list, str, int, float, bool, None), seen as Go's ``interface{}``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from .schemas import internal_error

__all__ = [
    "INT64",
    "PANIC_NIL",
    "copy_json",
    "go_atoi",
    "go_eq",
    "go_float",
    "go_fmt",
    "go_in",
    "go_kind",
    "go_quote",
    "go_type",
    "json_desc",
    "json_number",
]

#: What a Go panic inside the server's patch code turns into (the server recovers and answers 500).
PANIC_NIL = "runtime error: invalid memory address or nil pointer dereference"

#: The range of Go's ``int64``.
INT64 = (-(2**63), 2**63 - 1)

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
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


def go_float(f: float) -> str:
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


def go_type(value: Any) -> str | None:
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


def go_fmt(value: Any, verb: str = "v") -> str:
    """``fmt.Sprintf("%v")`` (or ``%s``) of an unstructured value, maps with sorted keys."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        items = (f"{go_fmt(k, verb)}:{go_fmt(value[k], verb)}" for k in sorted(value))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_fmt(v, verb) for v in value) + "]"
    if value is None:
        text = "<nil>"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = go_float(value)
    else:
        text = str(value)
    if verb == "s":  # %s of a non-string: Go prints a bad-verb marker
        return "%!s(<nil>)" if value is None else f"%!s({go_type(value)}={text})"
    return text


def go_kind(value: Any) -> str:
    """``reflect.Kind`` of an unstructured value, as the converter prints it."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    return go_type(value) or "invalid"


def json_desc(value: Any) -> str:
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


def json_number(value: int | float) -> str:
    """The JSON text of a number as a client serialises it."""
    return json.dumps(value)


def go_eq(a: Any, b: Any) -> bool:
    """Go's ``==`` on two ``interface{}`` values (type-sensitive; maps and slices panic)."""
    ta, tb = go_type(a), go_type(b)
    if ta != tb:
        return False
    if isinstance(a, (dict, list)):
        raise internal_error(f"runtime error: comparing uncomparable type {ta}")
    return a == b


def go_in(value: Any, items: list[Any]) -> bool:
    """Membership with Go's ``==``."""
    return any(go_eq(value, item) for item in items)


def copy_json(value: Any) -> Any:
    """Deep-copy a JSON-like value (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def go_atoi(s: str) -> tuple[int | None, str]:
    """``strconv.Atoi`` (64-bit int): the value, or ``None`` and Go's error text."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        return None, f"strconv.Atoi: parsing {go_quote(s)}: invalid syntax"
    n = int(s)
    if not INT64[0] <= n <= INT64[1]:
        return None, f"strconv.Atoi: parsing {go_quote(s)}: value out of range"
    return n, ""


