"""The controller loop: one thread that runs every controller's reconcile, and the sandbox's timers.

Controllers never run concurrently with each other, as if each were alone in
the control plane with an informer cache that is always fresh. They are woken
by store changes (through :meth:`Engine.on_event`) and by timers in sandbox
time (:meth:`Engine.call_later`), the way the kubelet's probes and back-offs
are. API requests keep being served by the HTTP threads meanwhile.

How time passes (see :mod:`.clock`): timers fall due as sandbox time flows.
With a discrete clock the engine also *jumps*, as SimPy's ``run(until=event)``
does: while somebody waits for the cluster to change and the control plane is
quiescent, it moves the clock straight to the next **foreground** timer, so
nothing idles through a simulated delay. That takes all of:

* somebody waiting: an open watch or followed log (every streaming response,
  :meth:`Engine.waiting_through`), or an in-process waiter
  (:meth:`Engine.waiting`, e.g. :meth:`stsnb.sandbox.Sandbox.wait_idle`).
  Nobody watching, nothing jumps: a ``kubectl get pods`` right after an apply
  shows ``ContainerCreating``, as on a real cluster, and a crash-looping pod
  nobody looks at does not race through the clock's budget;
* no controller work queued and no timer due, and no work in flight off the
  engine's thread that will schedule some (:meth:`Engine.holding`: a
  container's programs starting on the runtime's workers);
* no API request being handled (:meth:`Engine.client_request` brackets each
  one; a watch only while it is set up, not while it streams, so a client
  waiting on a watch sees the events of each jump promptly);
* the last request ended at least :attr:`Engine.quiet` wall seconds ago, so
  the few requests of one client step (kubectl's GET then PATCH, a lab's list
  after its apply) see one state of the cluster, not one that jumped between them;
* the last change (a store commit) happened, and the last event streamed to a
  waiter went out, at least :attr:`Engine.react` wall seconds ago, so a client
  that waited for a state sees it and has time to act on it (close its watch,
  send its next request) before the clock moves on. A client in the sandbox's
  own process can say so instead of being given time (SimPy's processes
  yield the same way): a watch request with the header ``X-Stsnb-Waiter:
  <token>`` is an *acknowledging* stream, and :meth:`Engine.acknowledge`
  reports how many of its events the client has acted on. While every open
  stream acknowledges and has acted on every event the store queued for it,
  the react window is over at once. :meth:`Engine.release` says the client
  no longer waits on that stream (it is about to close it): the stream stops
  counting as a waiter at once, so the clock does not move on while it closes.
  The lab's watches do this (:class:`stsnb.watching.Multiwatch`); kubectl's
  and every other client's streams keep the time window.

**Background** timers (lease renewals, periodic probes: ``background=True``)
are never the reason for a jump: otherwise a cluster with nothing to do would
race through its own heartbeats. But a jump towards a foreground timer stops at
each background timer on the way, as SimPy's ``run(until=event)`` processes
every event before it: a liveness probe every 5 s still fails three times, 5 s
apart, while the clock jumps towards a ``sleep 600`` ending. Like
SimPy's ``Environment.step``, timers due at the same sandbox second run in the
order they were scheduled.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Callable, Protocol

from .clock import Clock
from .store import Event

log = logging.getLogger(__name__)


class Controller(Protocol):
    """What the engine needs from a controller."""

    name: str

    def keys_for(self, ev: Event) -> list: ...

    def sync(self, key) -> None: ...


class Timer:
    """A scheduled call (:meth:`Engine.call_later`); :meth:`cancel` keeps it from running."""

    __slots__ = ("due", "seq", "fn", "background", "cancelled")

    def __init__(self, due: float, seq: int, fn: Callable[[], None], background: bool) -> None:
        self.due, self.seq, self.fn, self.background, self.cancelled = due, seq, fn, background, False

    def __lt__(self, other: "Timer") -> bool:
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class _AckingStream:
    """An acknowledging stream (see the module docstring): how many events its client has acted on."""

    __slots__ = ("queued", "acted", "released")

    def __init__(self, queued: Callable[[], int]) -> None:
        self.queued, self.acted, self.released = queued, 0, False


class Engine:
    """Runs controllers on one thread, in sandbox time, jumping over idle time when the clock allows."""

    #: Wall seconds without an API request before a discrete clock may jump. Longer than the API
    #: server's idle tick on open streams (5 ms), within which it notices a client that hung up: a
    #: client that closed its watch and goes on with plain requests is no longer counted as waiting.
    quiet = 0.015
    #: Wall seconds after an event went out on a stream before a discrete clock may jump.
    react = 0.010

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.controllers: list[Controller] = []
        self._queue: OrderedDict[tuple[str, object], None] = OrderedDict()
        self._timers: list[Timer] = []
        self._foreground: list[Timer] = []  # the timers a jump may go to (cancelled ones dropped lazily)
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._requests = 0
        self._holds = 0  # work in flight elsewhere that will come back to the engine (holding())
        self._waiters = 0
        self._acking: dict[str, _AckingStream] = {}  # acknowledging streams, by token
        self._streams = 0  # open streaming responses (acknowledging or not)
        self._last_request = 0.0
        self._last_streamed = 0.0
        self.jumps = 0
        self.errors: list[str] = []
        self.idle = threading.Event()

    def add(self, controller: Controller) -> None:
        self.controllers.append(controller)

    # ----- wake-ups
    def on_event(self, ev: Event) -> None:
        """Store listener: map the change to controller keys (cheap, runs under the store lock)."""
        self._last_streamed = time.monotonic()  # watchers are about to see this change
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

    def call_later(self, delay: float, fn: Callable[[], None], *, background: bool = False) -> Timer:
        """Run ``fn`` on the engine thread after ``delay`` sandbox seconds; returns the timer (cancellable).

        A ``background`` timer (a heartbeat, a periodic probe) is never the target of a jump: it
        fires when sandbox time gets there by itself.
        """
        with self._cv:
            timer = Timer(self.clock.now() + max(0.0, delay), next(self._seq), fn, background)
            heapq.heappush(self._timers, timer)
            if not background:
                heapq.heappush(self._foreground, timer)
                self.idle.clear()
            self._cv.notify()
        return timer

    @contextlib.contextmanager
    def client_request(self) -> Iterator[None]:
        """Bracket one API request: while any is handled, and briefly after, time does not jump."""
        with self._cv:
            self._requests += 1
        try:
            yield
        finally:
            with self._cv:
                self._requests -= 1
                self._last_request = time.monotonic()
                self._cv.notify()

    def holding(self) -> Callable[[], None]:
        """Work has left the engine's thread and will come back (it schedules a timer): until the returned
        ``done()`` is called, the cluster is not quiescent and a discrete clock does not jump."""
        with self._cv:
            self._holds += 1
            self.idle.clear()
        released = threading.Event()

        def done() -> None:
            if released.is_set():
                return
            released.set()
            with self._cv:
                self._holds -= 1
                self._cv.notify()
        return done

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Mark an in-process waiter: while inside, a discrete clock may jump (see the module docstring)."""
        with self._cv:
            self._waiters += 1
            self._cv.notify()
        try:
            yield
        finally:
            with self._cv:
                self._waiters -= 1

    def waiting_through(self, chunks: Iterable[bytes], *, token: str | None = None,
                        queued: Callable[[], int] | None = None) -> Iterator[bytes]:
        """A streaming response's body (a watch, a followed log) that counts as a waiter while it is open.

        Each chunk that carries something (not an idle tick) gives the client :attr:`react` seconds,
        unless the stream acknowledges: ``token`` names it for :meth:`acknowledge` and :meth:`release`,
        and ``queued()`` counts the events the store has queued for it so far (every one a chunk).
        """
        stream = _AckingStream(queued) if token and queued is not None else None
        with self._cv:
            self._streams += 1
            self._waiters += 1
            if stream is not None:
                self._acking[token] = stream  # type: ignore[index]
            self._cv.notify()
        try:
            for chunk in chunks:
                if chunk:
                    self._last_streamed = time.monotonic()
                yield chunk
        finally:
            with self._cv:
                self._streams -= 1
                if stream is not None and self._acking.get(token) is stream:  # type: ignore[arg-type]
                    del self._acking[token]  # type: ignore[arg-type]
                if stream is None or not stream.released:  # a released stream stopped waiting already
                    self._waiters -= 1

    def acknowledge(self, token: str, events: int) -> None:
        """The client of stream ``token`` has acted on its first ``events`` events and waits for more."""
        with self._cv:
            stream = self._acking.get(token)
            if stream is not None and events > stream.acted:
                stream.acted = events
                self._cv.notify()

    def release(self, token: str) -> None:
        """The client of stream ``token`` no longer waits on it (it closes it next): it stops counting as a waiter."""
        with self._cv:
            stream = self._acking.get(token)
            if stream is not None and not stream.released:
                stream.released = True
                self._waiters -= 1
                self._cv.notify()

    def _streams_caught_up(self) -> bool:
        """Every open stream acknowledges, and its client has acted on all the store queued for it."""
        if self._streams == 0 or len(self._acking) < self._streams:
            return False
        return all(s.released or s.acted >= s.queued() for s in self._acking.values())

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
        while True:
            with self._cv:
                if self._stopping:
                    return
                now = self.clock.now()
                due: list[Callable[[], None]] = []
                while self._timers and self._timers[0].due <= now:
                    timer = heapq.heappop(self._timers)
                    if not timer.cancelled:
                        due.append(timer.fn)
                while self._foreground and (self._foreground[0].due <= now or self._foreground[0].cancelled):
                    heapq.heappop(self._foreground)
                work = list(self._queue)
                self._queue.clear()
                if not due and not work:
                    if not self._foreground and not self._holds:
                        self.idle.set()
                    wait = self._jump_or_wait(now)
                    if wait is not None and wait <= 0:
                        continue
                    self._cv.wait(timeout=wait)
                    continue
            for fn in due:
                self._guard(fn)
            for name, key in work:
                self._guard(lambda c=by_name[name], k=key: c.sync(k))

    def _jump_or_wait(self, now: float) -> float | None:
        """Jump to the next foreground timer if the cluster is quiescent; else how long to wait (wall s).

        Called with the condition held and nothing due. Returns 0 after a jump, ``None`` to wait
        for a wake-up (no timers at all).
        """
        wait = self.clock.wall_delay(self._timers[0].due - now) if self._timers else None
        if not (self.clock.jumps and self._foreground and self._waiters and self._requests == 0 and not self._holds):
            return wait
        now_wall = time.monotonic()
        reacted = 0.0 if self._streams_caught_up() else self._last_streamed + self.react
        quiet_left = max(self._last_request + self.quiet, reacted) - now_wall
        if quiet_left > 0:
            return quiet_left if wait is None else min(wait, quiet_left)
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        target = min(self._foreground[0].due, self._timers[0].due) if self._timers else self._foreground[0].due
        if self.clock.advance(target) >= target:
            self.jumps += 1
            return 0.0
        return self.clock.wall_delay(target - self.clock.now())  # the lag budget is spent: real time

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a controller bug must not stop the cluster; it is logged and kept
            text = traceback.format_exc()
            self.errors.append(text)
            log.error("sandbox controller error:\n%s", text)
