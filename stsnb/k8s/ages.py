"""Ages and timestamps as Kubernetes prints them.

``human_duration`` is apimachinery's ``pkg/util/duration.HumanDuration``;
``translate_timestamp_since`` is printers.go ``translateTimestampSince``. Both
the sandbox's server-side Tables and the lab's own tables use them, so an age
reads the same everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["human_duration", "parse_time", "translate_timestamp_since"]

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def human_duration(seconds: float) -> str:
    """apimachinery ``duration.HumanDuration``: about 2-3 significant figures.

    ``seconds`` is the elapsed time (``now - then``). Up to 2 seconds of clock
    skew is tolerated: anything that truncates to -1 s prints ``0s``, and
    anything below that ``<invalid>``.
    """
    return _human_duration_ns(round(seconds * _NS_PER_SECOND))


def _human_duration_ns(ns: int) -> str:
    # int(d.Seconds()) in Go truncates toward zero.
    seconds = -((-ns) // _NS_PER_SECOND) if ns < 0 else ns // _NS_PER_SECOND
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = ns // _NS_PER_MINUTE
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = ns // _NS_PER_HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: str | datetime | None) -> datetime | None:
    """A ``metav1.Time``/``MicroTime`` (RFC 3339) as an aware datetime; ``None`` when unset."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def translate_timestamp_since(timestamp: str | datetime | None, now: datetime) -> str:
    """printers.go ``translateTimestampSince``: ``<unknown>`` for a zero time, else its age."""
    then = parse_time(timestamp)
    if then is None:
        return "<unknown>"
    delta: timedelta = _aware(now) - then
    return _human_duration_ns(delta // timedelta(microseconds=1) * 1000)
