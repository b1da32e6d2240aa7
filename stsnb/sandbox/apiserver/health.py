"""``/healthz``, ``/livez`` and ``/readyz``: the API server's health checks, as kubectl shows them.

Follows kubernetes/apiserver ``pkg/server/healthz/healthz.go`` (``handleRootHealth``):
without ``verbose`` the answer is ``ok``; with it, one ``[+]<check> ok`` line per
check, then ``<name> check passed``; ``?exclude=<check>`` prints ``[+]<check> excluded: ok``;
``/readyz/<check>`` asks one check. The checks are those a kube-apiserver
registers (``ping``, ``log``, ``etcd``, its post-start hooks; ``readyz`` adds
``etcd-readiness``, ``informer-sync`` and ``shutdown``). The sandbox has no etcd:
its in-process store answers for it, and every check passes while the server
runs.
"""

from __future__ import annotations

from ..core import errors

__all__ = ["CHECKS", "health_response"]

_COMMON = ("ping", "log", "etcd")
_HOOKS = ("poststarthook/start-apiserver-admission-initializer", "poststarthook/generic-apiserver-start-informers",
          "poststarthook/start-apiextensions-informers", "poststarthook/bootstrap-controller",
          "poststarthook/rbac/bootstrap-roles", "poststarthook/scheduling/bootstrap-system-priority-classes")

#: The checks of each endpoint, in the order kube-apiserver lists them.
CHECKS: dict[str, tuple[str, ...]] = {
    "healthz": _COMMON + _HOOKS,
    "livez": _COMMON + _HOOKS,
    "readyz": _COMMON + ("etcd-readiness", "informer-sync") + _HOOKS + ("shutdown",),
}


def health_response(path: str, query: dict[str, str]) -> tuple[int, bytes]:
    """``(status, text body)`` for a health path (``/readyz``, ``/readyz/ping`` …) and its query."""
    parts = path.strip("/").split("/", 1)
    endpoint, check = parts[0], parts[1] if len(parts) > 1 else ""
    checks = CHECKS[endpoint]
    if check:
        if check not in checks:
            raise errors.page_not_found()
        return 200, b"ok"
    if "verbose" not in query:
        return 200, b"ok"
    excluded = {c.strip() for c in query.get("exclude", "").split(",") if c.strip()}
    lines = [f"[+]{c} excluded: ok" if c in excluded else f"[+]{c} ok" for c in checks]
    lines.append(f"{endpoint} check passed")
    return 200, ("\n".join(lines) + "\n").encode()
