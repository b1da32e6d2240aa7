"""Simulated time for the sandbox.

Sandbox time starts at the wall-clock time the sandbox starts and then runs
``speed`` times faster, so that a rolling update that takes half a minute on a
real cluster takes a second or two here. Every timestamp the sandbox writes
(creationTimestamp, conditions, events) comes from this clock,
and every delay a controller schedules is in sandbox seconds.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Sandbox time: ``start + (monotonic elapsed) * speed``."""

    def __init__(self, speed: float = 20.0, start: datetime | None = None) -> None:
        if not (speed > 0) or math.isinf(speed) or math.isnan(speed):
            raise ValueError(f"speed must be a positive, finite number, got {speed!r}")
        self.speed = float(speed)
        self._start = (start or datetime.now(timezone.utc)).replace(microsecond=0)
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Sandbox seconds since the sandbox started."""
        return (time.monotonic() - self._t0) * self.speed

    def datetime(self, at: float | None = None) -> datetime:
        """The sandbox's notion of 'now' (or of sandbox second ``at``) as an aware datetime."""
        return self._start + timedelta(seconds=self.now() if at is None else at)

    def timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with seconds, as the API server writes metav1.Time."""
        return self.datetime(at).strftime("%Y-%m-%dT%H:%M:%SZ")

    def wall_delay(self, sandbox_seconds: float) -> float:
        """How long in wall seconds a sandbox delay lasts."""
        return max(0.0, sandbox_seconds) / self.speed

    def parse(self, stamp: str) -> float:
        """Sandbox seconds of an RFC 3339 timestamp written by :meth:`timestamp`."""
        dt = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        return (dt - self._start).total_seconds()
