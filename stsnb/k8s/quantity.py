"""Resource quantities (``resource.Quantity``) as numbers: ``"2Gi"``, ``"500m"``, ``"1e3"``.

Both the sandbox's volume binder (claim sizes) and its scheduler (requests against
allocatable) compare quantities; this is the one parser they share.
"""

from __future__ import annotations

import re

__all__ = ["parse_quantity", "canonical_quantity"]

_QUANTITY = re.compile(r"^([+-]?[0-9]*\.?[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE])?$")
_SUFFIX = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def parse_quantity(q: object) -> float:
    """A resource quantity as a number (bytes, cores); unparsable values count as 0."""
    if isinstance(q, (int, float)):
        return float(q)
    m = _QUANTITY.match(str(q or "").strip())
    if not m:
        return 0.0
    num, suffix = m.groups()
    suffix = suffix or ""
    if len(suffix) > 1 and suffix[0] in "eE":
        return float(num + suffix)
    return float(num) * _SUFFIX[suffix]


_PARTS = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE]?)$")
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIXES = {v: k for k, v in _DECIMAL_EXPONENTS.items()}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def canonical_quantity(text: str) -> str:
    """A quantity as the API server stores and prints it (``resource.Quantity.String()`` after ``ParseQuantity``).

    As ``apimachinery/pkg/api/resource/quantity.go``: the value is rounded up to the nano (``0.1n`` is
    ``1n``); the format of the suffix is kept (decimal SI, binary SI, decimal exponent); decimal forms
    write the smallest integer mantissa over an exponent that is a multiple of 3 (``0.5`` is ``500m``,
    ``2000`` is ``2k``, ``1500`` stays ``1500``, ``1.5e3`` is ``1500``); binary forms write the integer
    over the largest power of 1024 it is a multiple of (``1.5Gi`` is ``1536Mi``, ``2048Mi`` is ``2Gi``),
    and turn decimal below 1024 or when the value is not whole (``0.5Ki`` is ``512``). Zero is ``0``.
    Text that is not a quantity is returned as it is (the decoder has rejected it before).
    """
    from fractions import Fraction
    import math
    m = _PARTS.match(text.strip())
    if not m or not (m.group(2) or m.group(3)):
        return text
    sign, whole, frac, suffix = m.groups()
    frac = frac or ""
    value = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    if suffix in _BINARY_SUFFIXES and suffix:
        fmt, value = "binary", value * 1024 ** _BINARY_SUFFIXES.index(suffix)
    elif suffix[:1] in ("e", "E"):
        fmt, value = "exponent", value * Fraction(10) ** int(suffix[1:])
    else:
        fmt, value = "decimal", value * Fraction(10) ** _DECIMAL_EXPONENTS[suffix]
    nanos = math.ceil(value * 10 ** 9)  # rounded up to the smallest unit, the nano
    if nanos == 0:
        return "0"
    negative = sign == "-"
    if fmt == "binary" and (nanos < 1024 * 10 ** 9 or nanos % 10 ** 9):
        fmt = "decimal"  # below 1024, or not whole: decimal, so nothing is rounded
    if fmt == "binary":
        amount, power = nanos // 10 ** 9, 0
        while amount % 1024 == 0 and power < len(_BINARY_SUFFIXES) - 1:
            amount, power = amount // 1024, power + 1
        return f"{'-' if negative else ''}{amount}{_BINARY_SUFFIXES[power]}"
    amount, exponent = nanos, -9
    while amount % 10 == 0:
        amount, exponent = amount // 10, exponent + 1
    while exponent % 3:
        amount, exponent = amount * 10, exponent - 1
    if fmt == "exponent":
        tail = f"e{exponent}" if exponent else ""
    else:
        while exponent > 18:
            amount, exponent = amount * 1000, exponent - 3
        tail = _DECIMAL_SUFFIXES[exponent]
    return f"{'-' if negative else ''}{amount}{tail}"
