"""The kubelet's back-off: client-go ``util/flowcontrol/backoff.go``, as the kubelet configures it.

Crashed containers (``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` ``doBackOff``)
and failed image pulls (``pkg/kubelet/images/image_manager.go``) share the
shape: the first failure is retried at once and starts a back-off of 10 s;
each retry that fails again doubles it, up to 5 minutes
(``MaxContainerBackOff``); an entry not touched for twice the cap is
forgotten, so a container that ran for ten minutes starts again from 10 s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff", "go_duration", "INITIAL_SECONDS", "MAX_SECONDS"]

INITIAL_SECONDS = 10.0
MAX_SECONDS = 300.0


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String``: ``800ms``, ``2s``, ``1.5s``, ``1m20s``, ``5m0s``, ``1h0m0s``."""
    ns = int(round(seconds * 1e9))
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns == 0:
        return "0s"

    def frac(value: int, unit: int) -> str:
        whole, rest = divmod(value, unit)
        digits = f"{rest:0{len(str(unit)) - 1}d}".rstrip("0") if rest else ""
        return f"{whole}.{digits}" if digits else str(whole)

    if ns < 1_000_000_000:
        for unit, name in ((1_000_000, "ms"), (1_000, "\u00b5s"), (1, "ns")):
            if ns >= unit:
                return sign + frac(ns, unit) + name
    h, rest = divmod(ns, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    secs = frac(rest, 1_000_000_000) + "s"
    if h:
        return f"{sign}{h}h{m}m{secs}"
    if m:
        return f"{sign}{m}m{secs}"
    return sign + secs


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    """Per-key exponential back-off in sandbox seconds (``flowcontrol.Backoff``)."""

    def __init__(self, initial: float = INITIAL_SECONDS, cap: float = MAX_SECONDS) -> None:
        self.initial, self.cap = initial, cap
        self._entries: dict[str, _Entry] = {}

    def _expired(self, now: float, entry: _Entry) -> bool:
        return now - entry.last_update > 2 * self.cap

    def get(self, key: str) -> float:
        """The current back-off duration for ``key`` (0 when there is none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, now: float) -> None:
        """``Next``: start a back-off at the initial duration, or double the running one (capped)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry):
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.backoff = min(entry.backoff * 2, self.cap)
            entry.last_update = now

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """``IsInBackOffSince``: whether less than the back-off has passed since ``event_time``."""
        entry = self._entries.get(key)
        if entry is None or self._expired(now, entry):
            return False
        return now - event_time < entry.backoff

    def remaining(self, key: str, event_time: float, now: float) -> float:
        """Sandbox seconds until the back-off started at ``event_time`` is over."""
        return max(0.0, event_time + self.get(key) - now)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
