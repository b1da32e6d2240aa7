"""Names and hashes exactly as the Kubernetes control plane makes them.

Revision hashes are FNV-1 (not 1a) over the ControllerRevision's ``data`` with
the collision count appended, encoded with apimachinery's ``SafeEncodeString``
(``kubernetes/kubernetes:pkg/controller/history/controller_history.go``,
``kubernetes/apimachinery:pkg/util/rand/rand.go``). ``data`` is the Go
``encoding/json`` rendering of ``{"spec":{"template":{...,"$patch":"replace"}}}``
(``pkg/controller/statefulset/stateful_set_utils.go`` ``getPatch``).
"""

from __future__ import annotations

import json
import random

#: apimachinery's alphabet: no vowels, no confusable characters.
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def go_json(obj: object) -> bytes:
    """Serialise like Go's ``json.Marshal`` of a map: sorted keys, compact, HTML-safe escapes."""
    text = json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return text.encode("utf-8")


def fnv1_32(data: bytes, h: int = _FNV_OFFSET) -> int:
    """32-bit FNV-1: multiply, then xor (Go's ``hash/fnv.New32``)."""
    for byte in data:
        h = ((h * _FNV_PRIME) & 0xFFFFFFFF) ^ byte
    return h


def safe_encode_string(s: str) -> str:
    """apimachinery ``rand.SafeEncodeString``: map each character into :data:`ALPHANUMS`."""
    return "".join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in s)


def revision_patch(template: dict) -> bytes:
    """The ControllerRevision ``data`` for a StatefulSet's (defaulted, serialised) pod template."""
    return go_json({"spec": {"template": {**template, "$patch": "replace"}}})


def hash_revision_data(data: bytes, collision_count: int | None = 0) -> str:
    """``HashControllerRevision``: FNV-1 of the data, then the collision-count probe if given."""
    h = fnv1_32(data)
    if collision_count is not None:
        h = fnv1_32(str(collision_count).encode(), h)
    return safe_encode_string(str(h))


def controller_revision_name(prefix: str, hash_: str) -> str:
    """``ControllerRevisionName``: the set name cut to 223 characters, a dash, the hash."""
    if len(prefix) > 223:
        prefix = prefix[:223]
    return f"{prefix}-{hash_}"


def random_suffix(rng: random.Random, n: int = 5) -> str:
    """apimachinery ``rand.String``: ``n`` characters from :data:`ALPHANUMS`."""
    return "".join(rng.choice(ALPHANUMS) for _ in range(n))


def generate_name(rng: random.Random, base: str) -> str:
    """The API server's ``SimpleNameGenerator``: base cut to 58 characters plus 5 random ones."""
    if len(base) > 58:
        base = base[:58]
    return base + random_suffix(rng)


def pod_template_hash(template: dict, collision_count: int | None = None) -> str:
    """A Deployment's ``pod-template-hash``.

    Upstream hashes a Go ``spew`` dump of the PodTemplateSpec with FNV-1a, which
    cannot be reproduced outside Go. The sandbox keeps the parts a reader can
    see: deterministic for a template, the same alphabet (only ``456789bcdf``
    occur), nine or ten characters. The difference is documented in the docs.
    """
    h = 0x811C9DC5
    data = go_json(template) + (str(collision_count).encode() if collision_count else b"")
    for byte in data:  # FNV-1a: xor, then multiply
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return safe_encode_string(str(h))
