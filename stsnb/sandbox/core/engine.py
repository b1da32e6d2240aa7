"""The controller loop: one thread that runs every controller's reconcile.

Controllers never run concurrently with each other, as if each were alone in
the control plane with an informer cache that is always fresh. They are woken
by store changes (through :meth:`Engine.on_event`) and by timers in sandbox
time (:meth:`Engine.call_later`), the way the kubelet's probes and backoffs
are. API requests keep being served by the HTTP threads meanwhile.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import traceback
from collections import OrderedDict
from typing import Callable, Protocol

from .clock import Clock
from .store import Event

log = logging.getLogger(__name__)


class Controller(Protocol):
    """What the engine needs from a controller."""

    name: str

    def keys_for(self, ev: Event) -> list: ...

    def sync(self, key) -> None: ...


class Engine:
    """Runs controllers on one thread, in sandbox time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.controllers: list[Controller] = []
        self._queue: OrderedDict[tuple[str, object], None] = OrderedDict()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.errors: list[str] = []
        self.idle = threading.Event()

    def add(self, controller: Controller) -> None:
        self.controllers.append(controller)

    # ----- wake-ups
    def on_event(self, ev: Event) -> None:
        """Store listener: map the change to controller keys (cheap, runs under the store lock)."""
        added = False
        for c in self.controllers:
            for key in c.keys_for(ev):
                self._queue[(c.name, key)] = None
                added = True
        if added:
            with self._cv:
                self.idle.clear()
                self._cv.notify()

    def enqueue(self, controller: str, key: object) -> None:
        with self._cv:
            self._queue[(controller, key)] = None
            self.idle.clear()
            self._cv.notify()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the engine thread after ``delay`` sandbox seconds."""
        with self._cv:
            heapq.heappush(self._timers, (self.clock.now() + max(0.0, delay), next(self._seq), fn))
            self.idle.clear()
            self._cv.notify()

    # ----- the loop
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stsnb-sandbox-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        by_name = {c.name: c for c in self.controllers}
        clock = self.clock
        while True:
            with self._cv:
                if self._stopping:
                    return
                due: list[Callable[[], None]] = []
                now = clock.now()
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
                work = list(self._queue)
                self._queue.clear()
                if not due and not work:
                    timeout = clock.wall_delay(self._timers[0][0] - now) if self._timers else None
                    if not self._timers:
                        self.idle.set()
                    self._cv.wait(timeout=timeout)
                    continue
            for fn in due:
                self._guard(fn)
            for name, key in work:
                self._guard(lambda c=by_name[name], k=key: c.sync(k))

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a controller bug must not stop the cluster; it is logged and kept
            text = traceback.format_exc()
            self.errors.append(text)
            log.error("sandbox controller error:\n%s", text)
