"""Timelines: pods and StatefulSets followed while a block of actions runs.

A :class:`Recording` follows the watch streams of :mod:`stsnb.watching` and
turns their events into rows (:attr:`Recording.frame`), with the reason the
StatefulSet controller is waiting at each step (:func:`~stsnb.watching.statefulset_reason`),
computed client-side from the same state the controller looks at, so a real
cluster and the sandbox give the same kind of timeline. :meth:`Recording.plot`
hands the rows to :mod:`stsnb.plots`, which knows nothing of recordings.

**When** each row happened comes from the objects themselves, never from when
the event arrived: the latest of the timestamps the cluster wrote into the
object (``creationTimestamp``, conditions' ``lastTransitionTime``, containers'
``startedAt``/``finishedAt``, the start of a graceful deletion), kept
monotonic in the order the cluster committed the changes (resourceVersion).
That works on any cluster, and on the sandbox it reads simulated time even
when its discrete clock skipped the delays: pod-0 shows its ~3 s from creation
to Ready however fast the lesson ran. Kubernetes writes these stamps in whole
seconds (``metav1.Time``), so times are whole seconds too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import StsnbError
from .k8s.ages import parse_time
from .k8s.pods import pod_ordinal, pod_owner, pod_ready, pod_revision, pod_status
from .watching import Multiwatch, View, WatchSpec, by_resource_version, note_event, owned_pods, statefulset_reason

if TYPE_CHECKING:
    import pandas as pd

    from .kube import Kube

__all__ = ["Recording", "transition_time"]

_ROW_KEYS = ("time", "event", "pod", "ordinal", "phase", "status", "ready", "revision", "reason")


def _stamp(value: object) -> float | None:
    try:
        t = parse_time(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return t.timestamp() if isinstance(t, datetime) else None


def transition_time(obj: dict) -> float | None:
    """The latest moment the cluster stamped into ``obj`` (POSIX seconds), or None if it has no stamp.

    Reads ``creationTimestamp``; the start of a graceful deletion (``deletionTimestamp`` minus
    ``deletionGracePeriodSeconds``: the API server stamps the *end* of the grace period); ``status.startTime``;
    every condition's ``lastTransitionTime``; every container's ``startedAt`` and ``finishedAt``
    (current and last state).
    """
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    stamps = [_stamp(meta.get("creationTimestamp")), _stamp(status.get("startTime"))]
    deleted = _stamp(meta.get("deletionTimestamp"))
    if deleted is not None:
        stamps.append(deleted - float(meta.get("deletionGracePeriodSeconds") or 0))
    for c in status.get("conditions") or []:
        stamps.append(_stamp(c.get("lastTransitionTime")))
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        for state in ((cs.get("state") or {}), (cs.get("lastState") or {})):
            for detail in state.values():
                if isinstance(detail, dict):
                    stamps += [_stamp(detail.get("startedAt")), _stamp(detail.get("finishedAt"))]
    known = [t for t in stamps if t is not None]
    return max(known) if known else None


def _same_time(a: float | None, b: float | None) -> bool:
    """Equal times, a time not known yet (NaN) being equal to another not known yet."""
    return a == b or (a is not None and b is not None and a != a and b != b)


@dataclass
class _PodState:
    key: tuple
    revision: str | None


@dataclass
class Recording:
    """Pods and StatefulSets followed while a block of actions runs; see :meth:`stsnb.lab.Lab.record`.

    ``frame`` columns: ``time`` (whole seconds since the first change recorded, in the cluster's own time,
    read from the objects' timestamps: see the module docstring), ``event`` (``EXISTING`` for pods there at the start, then ``ADDED``,
    ``MODIFIED``, ``DELETED``; ``SYNC`` for a state caught up at the end), ``pod``, ``ordinal``,
    ``phase``, ``status`` (kubectl's STATUS), ``ready``, ``revision`` (the pod's revision label) and
    ``reason`` (what the StatefulSet controller was waiting for right after the event).
    """

    kube: "Kube"
    namespace: str
    label_selector: str | None = None
    title: str | None = None
    lang: str = "en"
    statefulset: str | None = None
    colors: Any = None
    """The lab's :class:`~stsnb.tables.RevisionColors`, so a hash has one colour in every table and figure."""
    rows: list[dict] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mw: Multiwatch | None = None
        self._latest: float | None = None  # the cluster time of the last row, in POSIX seconds
        self._stamps: dict[str, float] = {}  # each object's latest stamp seen so far, by uid
        self._seq = 0  # the order rows and reasons were made in, across both lists
        self._view = View()
        self._last: dict[str, _PodState] = {}
        self._last_reason: dict[str, str] = {}
        self._synced: set[int] = set()
        self._specs = [WatchSpec("pods", self.namespace, self.label_selector),
                       WatchSpec("statefulsets", self.namespace,
                                 field_selector=f"metadata.name={self.statefulset}" if self.statefulset else None)]
        self.running = False

    # ---- lifecycle
    def start(self) -> "Recording":
        self._mw = Multiwatch(self.kube, self._specs, passive=True).start()  # it keeps events; it acts on none
        self.running = True
        deadline = time.monotonic() + 10
        while len(self._synced) < len(self._specs) and time.monotonic() < deadline:
            ev = self._mw.get(deadline - time.monotonic())
            if ev is not None:
                self._consume(ev)
        return self

    def stop(self) -> "Recording":
        """Catch up with the cluster's current state, then stop following it.

        Events wait in the queue while the block runs; here they are drained until the streams
        have delivered the state a fresh list shows (or 3 s passed), ordered by resourceVersion
        (events of different streams arrive interleaved), and turned into rows.
        """
        if not self.running or self._mw is None:
            return self
        try:
            snapshot = {s.kind: self.kube.list_raw(s.kind, s.namespace, label_selector=s.label_selector,
                                                   field_selector=s.field_selector)[0]
                        for s in self._specs}
        except StsnbError:
            snapshot = None
        latest = {s.kind: {o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in self._view.items(s.kind)}
                  for s in self._specs}
        want = {k: {o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in items}
                for k, items in (snapshot or {}).items()}
        pending: list[tuple] = []
        deadline = time.monotonic() + 3.0
        while True:
            ev = self._mw.get(0 if snapshot is None or latest == want else min(0.2, max(0.0, deadline - time.monotonic())))
            if ev is not None:
                pending.append(ev)
                note_event(latest, self._specs[ev[1]].kind, ev[0], ev[2])
                continue
            if snapshot is None or latest == want or time.monotonic() >= deadline:
                break
        self._mw.stop()
        self.running = False
        for ev in by_resource_version(pending):
            self._consume(ev)
        if snapshot is not None and not self._matches(snapshot):
            for i, s in enumerate(self._specs):
                self._consume(("SYNC", i, snapshot[s.kind], time.monotonic()), sync_rows=True)
        self._from_first_change()
        return self

    def __enter__(self) -> "Recording":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _matches(self, snapshot: dict[str, list[dict]]) -> bool:
        for kind, items in snapshot.items():
            seen = {o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in self._view.items(kind)}
            want = {o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in items}
            if seen != want:
                return False
        return True

    # ---- events → rows
    def _when(self, objs: list[dict]) -> float:
        """Cluster time of a change (POSIX seconds): the newest stamp the change brought, never before the last row.

        A change that brought no stamp of its own (a StatefulSet's spec or status: the API server stamps
        neither) happened when the change it answers did, the last row's time; before any stamped change of
        the recording, it is a change someone made (``set image``, a patch), and its time is not known
        yet: NaN, filled in by :meth:`_from_first_change` with the time of the next stamped change (the
        controller answers it within milliseconds), never with the object's creation long before.
        """
        fresh = []
        for o in objs:
            uid, t = (o.get("metadata") or {}).get("uid", ""), transition_time(o)
            if t is not None and t > self._stamps.get(uid, float("-inf")):
                fresh.append(t)
                self._stamps[uid] = t
        if not fresh:
            return self._latest if self._latest is not None else float("nan")
        when = max(fresh)
        if self._latest is not None:
            when = max(when, self._latest)
        self._latest = when
        return when

    def _remember(self, objs: list[dict]) -> None:
        """The stamps of what exists when the recording starts: a later change is known by a newer one."""
        for o in objs:
            t = transition_time(o)
            if t is not None:
                self._stamps[(o.get("metadata") or {}).get("uid", "")] = t

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _from_first_change(self) -> None:
        """Make times relative: 0 is the first change recorded (pods there at the start are at 0 too).

        A change whose time was not known (NaN, see :meth:`_when`) takes the time of the next change that
        was; with none after it, of the last one before it.
        """
        entries = sorted((r for r in self.rows + self.reasons if r["time"] is not None), key=lambda r: r["_seq"])
        following = None
        for r in reversed(entries):
            if r["time"] != r["time"]:  # NaN
                r["time"] = following if following is not None else self._latest
            else:
                following = r["time"]
        changes = [r["time"] for r in self.rows if r["event"] != "EXISTING" and r["time"] is not None] + \
                  [r["time"] for r in self.reasons if r["time"] is not None]
        t0 = min(changes) if changes else 0.0
        for r in self.rows:
            r["time"] = 0.0 if r["event"] == "EXISTING" or r["time"] is None else float(round(r["time"] - t0))
        for r in self.reasons:
            r["time"] = 0.0 if r["time"] is None else float(round(r["time"] - t0))

    def _consume(self, ev: tuple[str, int, Any, float], *, sync_rows: bool = False) -> None:
        type_, i, payload, _received = ev
        if type_ == "ERROR":
            return
        kind = self._specs[i].kind
        first_sync = type_ == "SYNC" and i not in self._synced
        before = {o["metadata"]["name"]: o for o in self._view.items(kind)} if type_ == "SYNC" else {}
        self._view.apply(kind, type_, payload)
        if type_ == "SYNC":
            self._synced.add(i)
        if first_sync:
            self._remember(payload)
        t = None if first_sync else self._when(payload if type_ == "SYNC" else [payload])
        if kind == "pods":
            if type_ == "SYNC":
                names = {o["metadata"]["name"] for o in payload}
                for name, old in before.items():
                    if name not in names:
                        self._pod_row(t, "DELETED" if not sync_rows else "SYNC", old, deleted=True)
                for o in payload:
                    self._pod_row(t, "EXISTING" if first_sync else "SYNC", o)
            else:
                self._pod_row(t, type_, payload, deleted=type_ == "DELETED")
        self._update_reasons(t)

    def _reason_for(self, pod: dict) -> str:
        ref = pod_owner(pod)
        if not ref or ref.get("kind") != "StatefulSet":
            return ""
        return self._last_reason.get(ref.get("name", ""), "")

    def _update_reasons(self, t: float | None) -> None:
        pods = self._view.items("pods")
        for sts in self._view.items("statefulsets"):
            name = sts["metadata"]["name"]
            reason = statefulset_reason(sts, owned_pods(pods, "StatefulSet", name, sts["metadata"].get("uid")))
            if self._last_reason.get(name) != reason:
                self._last_reason[name] = reason
                self.reasons.append({"time": t, "statefulset": name, "reason": reason, "_seq": self._next_seq()})
                for row in reversed(self.rows):
                    if not _same_time(row["time"], t):
                        break
                    if row["_owner"] == name:
                        row["reason"] = reason

    def _pod_row(self, t: float | None, event: str, pod: dict, deleted: bool = False) -> None:
        meta = pod["metadata"]
        uid = meta.get("uid", "")
        status = "Deleted" if deleted else pod_status(pod)
        ready = False if deleted else pod_ready(pod)
        key = (status, ready, pod_revision(pod), (pod.get("status") or {}).get("phase"))
        prev = self._last.get(uid)
        if prev is not None and prev.key == key and not deleted:
            return
        if deleted and prev is None and event != "DELETED":
            return
        self._last[uid] = _PodState(key, pod_revision(pod))
        ref = pod_owner(pod) or {}
        self.rows.append({"time": t, "event": event, "pod": meta.get("name"), "ordinal": pod_ordinal(pod),
                          "phase": (pod.get("status") or {}).get("phase"), "status": status, "ready": ready,
                          "revision": pod_revision(pod), "reason": self._reason_for(pod), "uid": uid,
                          "_owner": ref.get("name") if ref.get("kind") == "StatefulSet" else None,
                          "_seq": self._next_seq()})

    # ---- results
    @property
    def frame(self) -> "pd.DataFrame":
        """The timeline as a DataFrame (see the class docstring for the columns)."""
        import pandas as pd
        df = pd.DataFrame([{k: r.get(k) for k in _ROW_KEYS} for r in self.rows], columns=list(_ROW_KEYS))
        df["ordinal"] = pd.array([r.get("ordinal") for r in self.rows], dtype="Int64")
        df["ready"] = df["ready"].astype(bool)
        return df

    def order(self, event: str = "created") -> list[int]:
        """Ordinals in the order something happened to them while recording.

        ``event``: ``"created"`` (a pod object appeared), ``"deleted"`` (it was removed),
        ``"terminating"`` (its deletion began), ``"ready"`` (it became Ready), or ``"updated"``
        (it became Ready at a revision other than the one it had when the recording began).
        """
        allowed = ("created", "deleted", "terminating", "ready", "updated")
        if event not in allowed:
            raise ValueError(f"order({event!r}): choose one of {', '.join(allowed)}")
        out: list[int] = []
        initial: dict[str, str | None] = {r["pod"]: r["revision"] for r in self.rows if r["event"] == "EXISTING"}
        was_ready: dict[str, bool] = {}
        was_terminating: set[str] = set()
        for r in self.rows:
            o, uid = r["ordinal"], r["uid"]
            if event == "created" and r["event"] == "ADDED":
                self._add(out, o)
            elif event == "deleted" and r["event"] == "DELETED":
                self._add(out, o)
            elif event == "terminating" and r["status"] == "Terminating" and uid not in was_terminating:
                was_terminating.add(uid)
                if r["event"] != "EXISTING":
                    self._add(out, o)
            elif event in ("ready", "updated"):
                became = r["ready"] and not was_ready.get(uid, False) and r["event"] != "EXISTING"
                was_ready[uid] = r["ready"]
                if became and (event == "ready" or (r["pod"] in initial and r["revision"] != initial[r["pod"]])):
                    self._add(out, o)
        return out

    @staticmethod
    def _add(out: list[int], o: Any) -> None:
        if o is not None:
            out.append(int(o))

    def plot(self, *, lang: str | None = None, title: str | None = None, ax=None):
        """The timeline as a figure: one lane per pod ordinal, coloured by revision; see :mod:`stsnb.plots`."""
        from .plots import timeline
        return timeline(self.rows, self.reasons, lang=lang or self.lang, title=title or self.title, ax=ax,
                        colors=self.colors)

    def _repr_html_(self) -> str:
        from .tables import to_html
        return to_html(self.frame, self.lang, self.colors)
