"""The sandbox's object store: every object, its resourceVersion, and watch fan-out.

Stored objects are plain dicts that are never mutated after they are stored
(copy-on-write), so readers may hold them without locks and the HTTP layer can
serialise them as they are. Each is JSON-encoded once, when it is written
(:meth:`Store.encoded`): a LIST of 10,000 pods then only joins bytes, the first
time as every time, and watch lines reuse the same bytes. Every write gets the
next value of one global, monotonic resourceVersion, like etcd's revision, and
is appended to a bounded history (:data:`HISTORY`) from which watches resume; a
watch from a resourceVersion older than the history gets upstream's 410
``too old resource version``, and the client re-lists, as after an etcd
compaction. Deleted objects leave memory once their events leave the history.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from . import errors
from .resources import BY_PLURAL

Key = tuple[str, str]  # (namespace or "", name)
Filter = Callable[[dict], bool]

#: etcd's default ``--max-request-bytes`` (1.5 MiB): a larger object is refused, as etcd refuses it. Upstream
#: kube-apiserver reports etcd's "request is too large"; the sandbox answers it as a 413.
MAX_OBJECT_BYTES = 1536 * 1024

#: Events kept for watches to resume from (upstream keeps 5 minutes of etcd history and a
#: watch cache of some hundred events per resource).
HISTORY = 10_000


def _encode(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass
class Event:
    """One committed change."""

    rv: int
    plural: str
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict
    old: dict | None = None
    _line: bytes | None = field(default=None, repr=False)

    data: bytes | None = field(default=None, repr=False)  # the object's JSON, encoded once on write

    def line(self, type_: str | None = None) -> bytes:
        """The watch-stream line, serialised once and shared by every watcher."""
        data = self.data if self.data is not None else _encode(self.obj)
        if type_ is not None and type_ != self.type:
            return b'{"type":"%s","object":%s}\n' % (type_.encode(), data)
        if self._line is None:
            self._line = b'{"type":"%s","object":%s}\n' % (self.type.encode(), data)
        return self._line


class Watch:
    """A subscription to one resource type; events arrive on :attr:`queue` as ``(type, Event)``."""

    def __init__(self, store: "Store", plural: str, namespace: str | None, flt: Filter) -> None:
        self.store, self.plural, self.namespace, self.filter = store, plural, namespace, flt
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False
        self.initial = 0  # synthetic ADDED events queued for the objects that existed at the start
        #: Every event ever queued (initial ones included): an acknowledging client compares its count with it.
        self.queued = 0

    def put(self, type_: str, ev: Event) -> None:
        """Queue one event for the stream (called under the store lock)."""
        self.queued += 1
        self.queue.put((type_, ev))

    def offer(self, ev: Event) -> None:
        if self.namespace is not None and ev.obj["metadata"].get("namespace", "") != self.namespace:
            return
        now = self.filter(ev.obj)
        if ev.type == "MODIFIED" and ev.old is not None:
            before = self.filter(ev.old)
            if before and not now:
                self.put("DELETED", ev)
            elif now and not before:
                self.put("ADDED", ev)
            elif now:
                self.put("MODIFIED", ev)
        elif now:
            self.put(ev.type, ev)

    def stop(self) -> None:
        if not self.closed:
            self.closed = True
            self.store._unwatch(self)
            self.queue.put(None)

    def events(self, timeout: float) -> Iterator[tuple[str, Event] | None]:
        """Yield events until stopped; yields ``None`` when ``timeout`` passes with nothing new."""
        while not self.closed:
            try:
                item = self.queue.get(timeout=timeout)
            except queue.Empty:
                yield None
                continue
            if item is None:
                return
            yield item


class Store:
    """Objects by resource type and (namespace, name), with one global resourceVersion."""

    def __init__(self, *, history: int = HISTORY, uid_factory: Callable[[], str] | None = None) -> None:
        self.lock = threading.RLock()
        self._objects: dict[str, dict[Key, dict]] = {p: {} for p in BY_PLURAL}
        self._sorted: dict[tuple[str, str | None], list[Key]] = {}  # list order cache, dropped on add/remove
        self._rv = 1
        self._history: deque[Event] = deque(maxlen=history)
        self._watches: dict[str, list[Watch]] = {p: [] for p in BY_PLURAL}
        self._listeners: list[Callable[[Event], None]] = []
        self._uid = uid_factory or (lambda: str(uuid.uuid4()))
        self._json: dict[int, tuple[dict, bytes]] = {}  # id(stored object) -> (object, its JSON)

    # ----- reading
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, plural: str, namespace: str, name: str) -> dict | None:
        return self._objects[plural].get((namespace or "", name))

    def list(self, plural: str, namespace: str | None = None, flt: Filter | None = None) -> list[dict]:
        """Objects sorted by namespace and name, as the API server lists them."""
        with self.lock:
            items = self._objects[plural]
            keys = self._sorted.get((plural, namespace))
            if keys is None:
                keys = sorted(k for k in items if namespace is None or k[0] == namespace)
                self._sorted[(plural, namespace)] = keys
            objs = [items[k] for k in keys]
        return [o for o in objs if flt(o)] if flt else objs

    def count(self, plural: str) -> int:
        return len(self._objects[plural])

    def encoded(self, obj: dict) -> bytes:
        """The JSON of ``obj``: the bytes made when it was stored, or fresh ones for any other dict."""
        hit = self._json.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        return _encode(obj)

    # ----- writing
    def new_uid(self) -> str:
        return self._uid()

    def create(self, plural: str, obj: dict) -> dict:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        with self.lock:
            if key in self._objects[plural]:
                r = BY_PLURAL[plural]
                raise errors.already_exists(r.group, plural, meta["name"])
            data = self._encode_sized(obj, meta)
            self._rv += 1
            self._objects[plural][key] = obj
            self._json[id(obj)] = (obj, data)
            self._forget_order(plural, key[0])
            self._commit(Event(self._rv, plural, "ADDED", obj, data=data))
        return obj

    def _encode_sized(self, obj: dict, meta: dict) -> bytes:
        """The object's JSON at the next resourceVersion, refused as etcd refuses a value over its limit."""
        previous = meta.get("resourceVersion")
        meta["resourceVersion"] = str(self._rv + 1)
        data = _encode(obj)
        if len(data) > MAX_OBJECT_BYTES:
            if previous is None:
                meta.pop("resourceVersion", None)
            else:
                meta["resourceVersion"] = previous
            raise errors.too_large("etcdserver: request is too large")
        return data

    def update(self, plural: str, obj: dict, *, expect_rv: str | None = None) -> dict:
        """Replace a stored object. ``expect_rv`` enforces optimistic concurrency (409 when stale)."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        r = BY_PLURAL[plural]
        with self.lock:
            old = self._objects[plural].get(key)
            if old is None:
                raise errors.not_found(r.group, plural, meta["name"])
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(r.group, plural, meta["name"], errors.STALE)
            data = self._encode_sized(obj, meta)
            self._rv += 1
            self._objects[plural][key] = obj
            self._json.pop(id(old), None)
            self._json[id(obj)] = (obj, data)
            self._commit(Event(self._rv, plural, "MODIFIED", obj, old, data=data))
        return obj

    def remove(self, plural: str, namespace: str, name: str) -> dict | None:
        """Remove an object for good (the last step of a deletion)."""
        with self.lock:
            old = self._objects[plural].pop((namespace or "", name), None)
            if old is None:
                return None
            self._forget_order(plural, namespace or "")
            self._json.pop(id(old), None)
            self._rv += 1
            gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv)}}
            self._commit(Event(self._rv, plural, "DELETED", gone))
        return gone

    def _forget_order(self, plural: str, namespace: str) -> None:
        self._sorted.pop((plural, None), None)
        self._sorted.pop((plural, namespace), None)

    def _commit(self, ev: Event) -> None:
        self._history.append(ev)
        for w in self._watches[ev.plural]:
            w.offer(ev)
        for listener in self._listeners:
            listener(ev)

    # ----- watching
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener(event)`` after every commit, under the store lock: it must only enqueue."""
        self._listeners.append(listener)

    def watch(self, plural: str, namespace: str | None, flt: Filter, since: str | None) -> Watch:
        """Start a watch. ``since`` empty or "0": synthetic ADDED for what exists, then live events."""
        r = BY_PLURAL[plural]
        w = Watch(self, plural, namespace, flt)
        with self.lock:
            if not since or since == "0":
                for obj in self.list(plural, namespace):
                    if flt(obj):
                        w.put("ADDED", Event(int(obj["metadata"]["resourceVersion"]), plural, "ADDED", obj,
                                             data=self.encoded(obj)))
                        w.initial += 1
            else:
                try:
                    since_rv = int(since)
                except ValueError:
                    raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{since}": invalid syntax') from None
                oldest = self._history[0].rv if self._history else self._rv + 1
                if since_rv < oldest - 1 and since_rv < self._rv:
                    raise errors.gone(f"too old resource version: {since_rv} ({oldest - 1})")
                for ev in self._history:
                    if ev.rv > since_rv and ev.plural == plural:
                        w.offer(ev)
            self._watches[plural].append(w)
        del r
        return w

    def _unwatch(self, w: Watch) -> None:
        with self.lock:
            try:
                self._watches[w.plural].remove(w)
            except ValueError:
                pass

    def close_watches(self) -> None:
        with self.lock:
            watches = [w for ws in self._watches.values() for w in ws]
        for w in watches:
            w.stop()

    def all_objects(self) -> Iterable[tuple[str, dict]]:
        with self.lock:
            snapshot = [(p, o) for p, objs in self._objects.items() for o in objs.values()]
        return snapshot
