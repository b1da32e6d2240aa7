"""Sandbox time: a clock that may skip simulated delays but is never ahead of the wall clock.

Every timestamp the sandbox writes (creationTimestamp, conditions, container
states, events, leases) comes from this clock, and every delay a controller or
the kubelet schedules (:meth:`~stsnb.sandbox.core.engine.Engine.call_later`) is
in sandbox seconds. Two rules hold in every mode:

* **Timestamps are never ahead of the wall clock.** Sandbox time ``now()`` is
  capped by ``wall time − epoch``, so kubectl, which computes ages and event
  ages from its own clock (``kubectl describe``, ``kubectl events``), never
  prints ``<invalid>``.
* **Sandbox time never goes backwards**, whatever the wall clock does.

The modes (:meth:`Clock.realtime`, :meth:`Clock.discrete`, or any ``speed``):

``realtime``
    Sandbox time *is* the wall clock: it flows at the wall clock's pace and
    never jumps, so a pod takes its ~3 s to become Ready, as on a learner's
    kind cluster, and every age kubectl prints is exact. ``stsnb sandbox
    serve`` runs this way by default. Only the cluster's own bootstrap, before
    anyone is served, may skip (its CoreDNS pods start): the epoch starts a
    few seconds back for it, and :meth:`Clock.settle` then catches up with
    the wall clock for good, so those first objects look a few seconds old,
    like those of a cluster started a moment earlier.
``discrete``
    A discrete-event clock in SimPy's manner (``simpy.Environment``: "time
    jumps to the next event when nothing else is runnable"): time flows with
    the wall clock, and whenever the control plane is quiet (no controller
    work, no API request in flight or just answered; the engine decides) it
    jumps straight to the next scheduled timer. A lesson or a test never
    sleeps through a simulated delay, yet every timestamp, timeline and age
    stays consistent in sandbox time (pod-0 still records its ~3 s from
    creation to Ready).

    So that jumps never write a timestamp ahead of the wall clock, the epoch
    starts ``lag`` seconds *before* the wall clock (one hour by default): that
    lag is the budget the jumps spend. Until it is spent, sandbox time runs
    behind the wall clock by what is left of it. What a reader sees:

    * ages the API server computes (``kubectl get``'s AGE and every Table the
      lab shows) are sandbox ages, exact in sandbox time;
    * ages kubectl computes itself from its own clock (``kubectl describe``'s
      event ages, ``kubectl events``) are those plus the unspent lag: valid,
      never ``<invalid>``, but larger than the sandbox age;
    * once the budget is spent, no jump is possible and the sandbox paces in
      real time, like ``realtime``.
``speed`` (> 1)
    Time flows ``speed`` times faster than the wall clock (the sandbox's
    earlier pacing), capped by the same wall-clock rule, so it too needs a lag
    and falls back to real time once it has caught up with the wall clock.
    It combines with ``discrete`` jumps.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "DEFAULT_LAG"]

#: How far behind the wall clock a discrete clock's epoch starts: the budget its jumps may spend.
DEFAULT_LAG = 3600.0


class Clock:
    """Sandbox time, in seconds since the epoch (see the module docstring for the modes).

    Args:
        speed: how many sandbox seconds pass per wall second while the clock flows (1 = real pace).
        jumps: whether :meth:`advance` may skip ahead (the discrete-event mode).
        lag: seconds by which the epoch precedes the wall clock when the sandbox starts; the most
            that jumps and a faster flow may ever gain on the wall clock.
    """

    def __init__(self, speed: float = 1.0, *, jumps: bool = False, lag: float = 0.0) -> None:
        if not (speed > 0) or math.isinf(speed) or math.isnan(speed):
            raise ValueError(f"speed must be a positive, finite number, got {speed!r}")
        if not (lag >= 0) or math.isinf(lag):
            raise ValueError(f"lag must be a finite number of seconds >= 0, got {lag!r}")
        if (jumps or speed > 1) and lag == 0:
            raise ValueError("a clock that jumps or runs faster than the wall clock needs a lag > 0: "
                             "it may never write a timestamp ahead of the wall clock")
        self.speed = float(speed)
        self.jumps = bool(jumps)
        self.lag = float(lag)
        self._mono0 = time.monotonic()
        start = time.time() - self.lag
        self._epoch_ts = float(math.floor(start))  # POSIX seconds of sandbox second 0: a whole second
        self._epoch = datetime.fromtimestamp(self._epoch_ts, timezone.utc)
        self._offset = start - self._epoch_ts  # sandbox time at start; then grows with each jump
        self._last = 0.0
        self._lock = threading.Lock()
        self._realtime_after_settle = False

    # ------------------------------------------------------------------ presets
    @classmethod
    def realtime(cls, bootstrap: float = 30.0) -> "Clock":
        """Sandbox time is the wall clock (``stsnb sandbox serve``'s default) once :meth:`settle` is called;
        until then the cluster's bootstrap may skip up to ``bootstrap`` seconds."""
        if bootstrap <= 0:
            return cls()
        clock = cls(1.0, jumps=True, lag=bootstrap)
        clock._realtime_after_settle = True
        return clock

    def settle(self) -> None:
        """End a realtime clock's bootstrap: catch up with the wall clock and never jump again."""
        if not self._realtime_after_settle:
            return
        with self._lock:
            raw, cap = self._raw_and_cap()
            self._offset += cap - raw
            self._last = max(self._last, cap)
            self.jumps = False
            self.lag = 0.0

    @classmethod
    def discrete(cls, lag: float = DEFAULT_LAG, speed: float = 1.0) -> "Clock":
        """Flows with the wall clock and skips to the next timer whenever the cluster is quiet."""
        return cls(speed, jumps=True, lag=lag)

    @property
    def mode(self) -> str:
        """``"realtime"``, ``"discrete"``, or ``"x<speed>"``."""
        if self._realtime_after_settle:
            return "realtime"
        if self.jumps:
            return "discrete" if self.speed == 1 else f"discrete x{self.speed:g}"
        return "realtime" if self.speed == 1 else f"x{self.speed:g}"

    # ------------------------------------------------------------------ reading
    def _raw_and_cap(self) -> tuple[float, float]:
        elapsed = time.monotonic() - self._mono0
        return self._offset + elapsed * self.speed, time.time() - self._epoch_ts

    def now(self) -> float:
        """Sandbox seconds since the epoch: never ahead of the wall clock, never backwards."""
        with self._lock:
            raw, cap = self._raw_and_cap()
            self._last = max(self._last, min(raw, cap))
            return self._last

    def headroom(self) -> float:
        """How far a jump may go right now: what is left of the lag budget."""
        with self._lock:
            raw, cap = self._raw_and_cap()
            return max(0.0, cap - max(raw, self._last))

    def wall_delay(self, sandbox_seconds: float) -> float:
        """Wall seconds until sandbox time has flowed ``sandbox_seconds`` further (without jumps)."""
        if sandbox_seconds <= 0:
            return 0.0
        with self._lock:
            raw, cap = self._raw_and_cap()
            now = max(self._last, min(raw, cap))
        target = now + sandbox_seconds
        return max(0.0, (target - raw) / self.speed, target - cap)

    # ------------------------------------------------------------------ jumping
    def advance(self, to: float) -> float:
        """Jump to sandbox second ``to`` (or as near as the lag budget allows); returns the new now.

        Raises:
            RuntimeError: the clock does not jump (``realtime`` and plain ``speed`` clocks).
        """
        if not self.jumps:
            raise RuntimeError(f"a {self.mode} clock does not jump; use Clock.discrete()")
        with self._lock:
            raw, cap = self._raw_and_cap()
            now = max(self._last, min(raw, cap))
            if to > now:
                gain = min(to, cap) - max(raw, now)
                if gain > 0:
                    self._offset += gain
                    raw += gain
            self._last = max(self._last, min(raw, cap))
            return self._last

    # ------------------------------------------------------------------ timestamps
    def datetime(self, at: float | None = None) -> datetime:
        """The sandbox's notion of 'now' (or of sandbox second ``at``) as an aware datetime."""
        return self._epoch + timedelta(seconds=self.now() if at is None else at)

    def timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with whole seconds, as the API server writes ``metav1.Time``."""
        return self.datetime(at).strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with microseconds, as the API server writes ``metav1.MicroTime`` (``eventTime``, leases)."""
        return self.datetime(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def parse(self, stamp: str) -> float:
        """Sandbox seconds of an RFC 3339 timestamp (``metav1.Time`` or ``MicroTime``)."""
        text = stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp
        return datetime.fromisoformat(text).timestamp() - self._epoch_ts
