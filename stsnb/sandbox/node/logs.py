"""Container logs as the kubelet keeps and serves them: one log per container *instance*, lines with timestamps.

Each start of a container is a new instance with its own log (a restart does
not append to the last one), so ``kubectl logs --previous`` shows exactly the
run before. What the kubelet serves for ``GET pods/NAME/log`` follows
``pkg/kubelet/kuberuntime/logs/logs.go`` ``ReadLogs`` and
``pkg/kubelet/kubelet_pods.go`` ``validateContainerLogStatus``:

* which instance: the running one, else the last terminated one; ``previous``
  the last terminated one (``lastState``), or the error upstream gives;
* ``tailLines`` picks the last N lines first, then ``sinceSeconds`` /
  ``sinceTime`` drops lines written earlier, then ``limitBytes`` cuts;
* ``timestamps`` prefixes each line with its time, RFC 3339 with nine fixed
  fractional digits (``RFC3339NanoFixed``);
* ``follow`` streams what comes after, never repeating a line, and ends when
  the instance ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = ["Instance", "LogOptions", "ContainerLogs", "format_line"]


@dataclass
class Instance:
    """One start of a container: its id and what it wrote, line by line, with sandbox times."""

    container_id: str
    started: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    ended: bool = False
    _partial: str = ""

    def write(self, text: str, at: float) -> None:
        """Append output written at sandbox second ``at`` (a trailing partial line waits for its end)."""
        text = self._partial + text
        parts = text.split("\n")
        self._partial = parts.pop()
        self.lines.extend((at, p + "\n") for p in parts)

    def end(self, at: float) -> None:
        if self._partial:
            self.lines.append((at, self._partial))
            self._partial = ""
        self.ended = True


@dataclass(frozen=True)
class LogOptions:
    """The ``PodLogOptions`` the kubelet honours (validated by the caller)."""

    previous: bool = False
    timestamps: bool = False
    since: float | None = None  # sandbox second: lines before it are dropped
    tail_lines: int | None = None
    limit_bytes: int | None = None


def format_line(epoch: datetime, at: float, line: str, timestamps: bool) -> str:
    """A log line as served: with ``timestamps``, ``2024-05-01T12:00:03.120000000Z line``."""
    if not timestamps:
        return line
    when = datetime.fromtimestamp(epoch.timestamp() + at, timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}000Z " + line


class ContainerLogs:
    """The instances of every container of one pod, in start order, and a condition to follow them."""

    def __init__(self) -> None:
        self.instances: dict[str, list[Instance]] = {}
        self.changed = threading.Condition()

    def start(self, container: str, container_id: str, at: float) -> Instance:
        inst = Instance(container_id, at)
        with self.changed:
            self.instances.setdefault(container, []).append(inst)
            self.changed.notify_all()
        return inst

    def write(self, inst: Instance, text: str, at: float) -> None:
        if not text:
            return
        with self.changed:
            inst.write(text, at)
            self.changed.notify_all()

    def end(self, inst: Instance | None, at: float) -> None:
        if inst is None or inst.ended:
            return
        with self.changed:
            inst.end(at)
            self.changed.notify_all()

    def current(self, container: str) -> Instance | None:
        runs = self.instances.get(container) or []
        return runs[-1] if runs else None

    # ------------------------------------------------------------------ reading
    @staticmethod
    def select(inst: Instance, opts: LogOptions, epoch: datetime) -> tuple[str, int]:
        """The text served for ``opts``, and how many lines of the instance it covers (for following)."""
        lines = inst.lines
        picked = lines if opts.tail_lines is None else (lines[-opts.tail_lines:] if opts.tail_lines > 0 else [])
        if opts.since is not None:
            picked = [(t, s) for t, s in picked if t >= opts.since]
        text = "".join(format_line(epoch, t, s, opts.timestamps) for t, s in picked)
        if opts.limit_bytes is not None:
            text = text.encode()[: opts.limit_bytes].decode(errors="ignore")
        return text, len(lines)

    def follow(self, inst: Instance, sent: int, opts: LogOptions, epoch: datetime,
               stopping: Callable[[], bool], tick: float = 0.05) -> Iterator[str]:
        """Lines of ``inst`` after its first ``sent``, as they are written, until it ends.

        Yields ``""`` on idle ticks so the server can notice a client that went away.
        """
        while not stopping():
            with self.changed:
                fresh = inst.lines[sent:]
                ended = inst.ended
                if not fresh and not ended:
                    self.changed.wait(timeout=tick)
                    fresh = inst.lines[sent:]
                    ended = inst.ended
            if fresh:
                sent += len(fresh)
                yield "".join(format_line(epoch, t, s, opts.timestamps) for t, s in fresh)
            elif ended:
                return
            else:
                yield ""
