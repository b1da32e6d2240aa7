"""Resource quantities (``resource.Quantity``) as numbers: ``"2Gi"``, ``"500m"``, ``"1e3"``.

Both the sandbox's volume binder (claim sizes) and its scheduler (requests against
allocatable) compare quantities; this is the one parser they share.
"""

from __future__ import annotations

import re

__all__ = ["parse_quantity"]

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
