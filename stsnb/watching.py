"""Waiting and recording through watch streams, never by sleep-polling.

A wait lists the objects it cares about, then follows their watch streams from
that list's ``resourceVersion`` (``kubernetes.watch.Watch`` with
``timeout_seconds``), re-evaluating a *check* on every event until the check
says done, says it can never be done (:class:`~stsnb.errors.ConditionFailed`,
e.g. a pod in ``ImagePullBackOff`` during a rollout), or the deadline passes
(:class:`~stsnb.errors.WaitTimeout`, naming the condition and the last state
seen). A stream that expires (``410 Gone``) is re-listed and resumed.

Several streams (a StatefulSet and its pods) are followed at once by one
reader thread each, feeding one queue; the threads live only as long as the
wait or the recording, and are stopped by closing their connections.

A :class:`Recording` follows pods and StatefulSets while a block of actions
runs and turns the events into a timeline (:attr:`Recording.frame`), with the
reason the StatefulSet controller is waiting at each step, derived from the
same state the controller looks at (:func:`statefulset_reason`). Reasons are
computed client-side, so a real cluster and the sandbox give the same kind of
timeline.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from kubernetes import watch as _k8s_watch

from . import tables
from .k8s.pods import pod_ordinal, pod_owner, pod_ready, pod_revision, pod_status
from .errors import ConditionFailed, StsnbError, WaitTimeout

if TYPE_CHECKING:
    import pandas as pd

    from .lab import Kube

__all__ = ["WatchSpec", "Progress", "View", "Multiwatch", "wait_for", "Recording", "statefulset_rollout",
           "deployment_rollout", "pod_replaced", "pod_finished", "all_gone", "statefulset_reason", "RawWatch"]

#: Longest single watch request; a longer wait simply resumes from the last resourceVersion.
SEGMENT_S = 60


class RawWatch(_k8s_watch.Watch):
    """The official client's ``Watch``, yielding plain dicts (no model deserialization, ``raw_object`` kept)."""

    def get_return_type(self, func):  # noqa: D102 - the parent's contract
        return None


@dataclass(frozen=True)
class WatchSpec:
    """One stream: a resource (``"pods"``, ``"statefulsets"`` …) in a namespace, optionally filtered."""

    kind: str
    namespace: str | None
    label_selector: str | None = None
    field_selector: str | None = None


@dataclass
class Progress:
    """What a check says about the current state."""

    done: bool
    state: str
    failure: StsnbError | None = None


class View:
    """The latest version of every object seen on the streams, by resource kind and name."""

    def __init__(self) -> None:
        self._objs: dict[str, dict[str, dict]] = {}
        self.deleted: dict[str, list[dict]] = {}

    def apply(self, kind: str, type_: str, obj: Any) -> None:
        objs = self._objs.setdefault(kind, {})
        if type_ == "SYNC":
            names = {o["metadata"]["name"] for o in obj}
            for name in list(objs):
                if name not in names:
                    self.deleted.setdefault(kind, []).append(objs.pop(name))
            for o in obj:
                objs[o["metadata"]["name"]] = o
        elif type_ in ("ADDED", "MODIFIED"):
            objs[obj["metadata"]["name"]] = obj
        elif type_ == "DELETED":
            objs.pop(obj["metadata"]["name"], None)
            self.deleted.setdefault(kind, []).append(obj)

    def get(self, kind: str, name: str) -> dict | None:
        return self._objs.get(kind, {}).get(name)

    def items(self, kind: str) -> list[dict]:
        return list(self._objs.get(kind, {}).values())

    def uids(self, kind: str) -> set[str]:
        return {o["metadata"].get("uid", "") for o in self._objs.get(kind, {}).values()}


class Multiwatch:
    """Follow several watch streams at once; events arrive on one queue as ``(type, spec_index, payload, t)``.

    ``type`` is ``"SYNC"`` (payload: the listed items; after the first list and after a 410),
    ``ADDED``/``MODIFIED``/``DELETED`` (payload: the object) or ``"ERROR"`` (payload: the exception);
    ``t`` is the ``time.monotonic()`` at which the reader thread received it.
    """

    def __init__(self, kube: "Kube", specs: Sequence[WatchSpec], *, segment_s: int = SEGMENT_S) -> None:
        self.kube = kube
        self.specs = list(specs)
        self.segment_s = segment_s
        self.queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._watches: dict[int, RawWatch] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> "Multiwatch":
        for i, spec in enumerate(self.specs):
            t = threading.Thread(target=self._run, args=(i, spec), name=f"stsnb-watch-{spec.kind}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __enter__(self) -> "Multiwatch":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop every stream: shut their connections down and let the threads end.

        A thread may be between its list and its watch request when this is called; the loop
        shuts the watch down as soon as its response exists (the server answers with headers
        at once), instead of waiting for the stream's next event.
        """
        self._stop.set()
        deadline = time.monotonic() + 2.0
        while True:
            for w in list(self._watches.values()):
                w.stop()
            alive = [t for t in self._threads if t.is_alive()]
            if not alive or time.monotonic() >= deadline:
                break
            alive[0].join(timeout=0.01)

    def get(self, timeout: float) -> tuple[str, int, Any, float] | None:
        """The next event, or None after ``timeout`` seconds without one."""
        try:
            return self.queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def _list(self, i: int, spec: WatchSpec) -> str:
        items, rv = self.kube.list_raw(spec.kind, spec.namespace, label_selector=spec.label_selector,
                                       field_selector=spec.field_selector)
        self.queue.put(("SYNC", i, items, time.monotonic()))
        return rv

    def _run(self, i: int, spec: WatchSpec) -> None:
        try:
            rv = self._list(i, spec)
        except Exception as e:  # noqa: BLE001 - handed to the waiting thread, which raises it
            if not self._stop.is_set():
                self.queue.put(("ERROR", i, e, time.monotonic()))
            return
        while not self._stop.is_set():
            w = RawWatch()
            self._watches[i] = w
            if self._stop.is_set():
                return
            try:
                for type_, obj in self.kube.stream(spec.kind, spec.namespace, watcher=w,
                                                   label_selector=spec.label_selector,
                                                   field_selector=spec.field_selector, resource_version=rv,
                                                   timeout_seconds=self.segment_s):
                    if self._stop.is_set():
                        break
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if type_ != "BOOKMARK":
                        self.queue.put((type_, i, obj, time.monotonic()))
            except Exception as e:  # noqa: BLE001
                if self._stop.is_set():
                    return
                if getattr(e, "status", None) == 410 or "410" in str(getattr(e, "message", "")):
                    try:
                        rv = self._list(i, spec)
                        continue
                    except Exception as e2:  # noqa: BLE001
                        e = e2
                if _is_read_timeout(e):
                    continue
                self.queue.put(("ERROR", i, e, time.monotonic()))
                return


def _note(latest: dict[str, dict[str, Any]], kind: str, type_: str, payload: Any) -> None:
    names = latest.setdefault(kind, {})
    if type_ == "SYNC":
        names.clear()
        names.update({o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in payload})
    elif type_ in ("ADDED", "MODIFIED"):
        names[payload["metadata"]["name"]] = payload["metadata"].get("resourceVersion")
    elif type_ == "DELETED":
        names.pop(payload["metadata"]["name"], None)


def _by_resource_version(events: list[tuple]) -> list[tuple]:
    """Events in resourceVersion order when every one is numeric (etcd's are), else as they arrived.

    Receipt times are made non-decreasing along the new order, so the timeline never runs backwards.
    """
    def rv(ev: tuple) -> int | None:
        if ev[0] not in ("ADDED", "MODIFIED", "DELETED"):
            return None
        v = str((ev[2].get("metadata") or {}).get("resourceVersion") or "")
        return int(v) if v.isdigit() else None
    if not events or any(rv(e) is None for e in events):
        return events
    ordered = sorted(events, key=lambda e: rv(e))
    out, t = [], 0.0
    for e in ordered:
        t = max(t, e[3])
        out.append((e[0], e[1], e[2], t))
    return out


def _is_read_timeout(e: BaseException) -> bool:
    name = type(e).__name__
    return "ReadTimeout" in name or "timed out" in str(e).lower() and "connect" not in str(e).lower()


def wait_for(kube: "Kube", specs: Sequence[WatchSpec], check: Callable[[View], Progress], *, timeout: float,
             condition: str, on_change: Callable[[View, Progress], None] | None = None,
             hint: str | None = None) -> tuple[View, Progress]:
    """Follow ``specs`` until ``check`` says done; raise on failure or at the deadline.

    Args:
        kube: the lab's API access.
        specs: the streams the check needs (e.g. the StatefulSet and its pods).
        check: evaluated on the current :class:`View` after every event (once all streams are listed).
        timeout: seconds of wall-clock time.
        condition: what is awaited, in words, for the timeout message.
        on_change: called after each evaluation (panels refresh their tables from it).
        hint: the next step to suggest if the wait times out.

    Raises:
        ConditionFailed: the check reported a condition that cannot be met any more.
        WaitTimeout: the deadline passed; the message names ``condition`` and the last state seen.
    """
    deadline = time.monotonic() + timeout
    view = View()
    synced: set[int] = set()
    last: Progress | None = None
    with Multiwatch(kube, specs, segment_s=max(1, min(SEGMENT_S, int(timeout) + 1))) as mw:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = last.state if last else "nothing could be listed yet"
                raise WaitTimeout(f"timed out after {timeout:g}s waiting for {condition}; last state: {seen}",
                                  condition=condition, last_state=seen,
                                  hint=hint or "look at `lab.events()` and `lab.pods()` for what is stuck; on a slow "
                                               "cluster pass a longer timeout_s to stsnb.connect")
            ev = mw.get(remaining)
            if ev is None:
                continue
            type_, i, payload, _ = ev
            if type_ == "ERROR":
                if isinstance(payload, StsnbError):
                    raise payload
                raise StsnbError(f"the watch on {specs[i].kind} failed while waiting for {condition}: {payload}",
                                 hint="run the step again; if it keeps failing, check `kubectl cluster-info`") \
                    from payload
            view.apply(specs[i].kind, type_, payload)
            if type_ == "SYNC":
                synced.add(i)
            if len(synced) < len(specs):
                continue
            prog = check(view)
            if on_change is not None:
                on_change(view, prog)
            if prog.failure is not None:
                raise prog.failure
            if prog.done:
                return view, prog
            last = prog


# ---------------------------------------------------------------------------- StatefulSet logic

def _owned(view_pods: Iterable[dict], owner_kind: str, owner_name: str, owner_uid: str | None) -> list[dict]:
    out = []
    for p in view_pods:
        ref = pod_owner(p)
        if ref and ref.get("kind") == owner_kind and ref.get("name") == owner_name and (
                owner_uid is None or ref.get("uid") == owner_uid):
            out.append(p)
    return out


def _failure_of(pods: Iterable[dict], what: str, hint: str) -> ConditionFailed | None:
    for p in sorted(pods, key=lambda x: x["metadata"]["name"]):
        f = tables.pod_failure(p)
        if f:
            container, reason, message = f
            name = p["metadata"]["name"]
            detail = f": {message}" if message else ""
            return ConditionFailed(f"{what} cannot finish: pod {name} is stuck in {reason} (container {container!r}, "
                                   f"image {tables.pod_images(p)!r}){detail}", pod=name, reason=reason, hint=hint)
    return None


def statefulset_reason(sts: dict, pods: Sequence[dict]) -> str:
    """What the StatefulSet controller is waiting for, given the set and its pods ("" when steady).

    Mirrors the controller's order (upstream ``updateStatefulSet``): create missing ordinals in
    order and wait for each to be Running and Ready (OrderedReady), remove ordinals above
    ``replicas`` from the highest down, then replace pods not at the update revision from the
    highest ordinal down to ``partition``, one at a time.
    """
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    if (status.get("observedGeneration") or 0) < (sts["metadata"].get("generation") or 0):
        return "spec change not observed yet"
    replicas = spec.get("replicas", 1)
    parallel = spec.get("podManagementPolicy") == "Parallel"
    by_ord: dict[int, dict] = {}
    for p in pods:
        o = pod_ordinal(p)
        if o is not None:
            by_ord[o] = p
    for i in range(replicas):
        p = by_ord.get(i)
        if p is None:
            return f"creating pod {i}"
        f = tables.pod_failure(p)
        if f:
            return f"pod {i} failing: {f[1]}"
        if p["metadata"].get("deletionTimestamp"):
            if not parallel:
                return f"pod {i} terminating"
        elif not pod_ready(p) and not parallel:
            return f"pod {i} not Ready yet"
    extra = sorted((o for o in by_ord if o >= replicas), reverse=True)
    if extra:
        return f"scaling down: removing pod {extra[0]}"
    if parallel and any(not pod_ready(by_ord[i]) for i in range(replicas)):
        first = next(i for i in range(replicas) if not pod_ready(by_ord[i]))
        return f"pod {first} not Ready yet"
    update = status.get("updateRevision")
    strategy = spec.get("updateStrategy") or {}
    if not update:
        return ""
    outdated = [i for i in range(replicas) if pod_revision(by_ord[i]) != update]
    if not outdated:
        return "steady"
    if strategy.get("type") == "OnDelete":
        return "OnDelete: waiting for pods to be deleted"
    partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
    above = [i for i in outdated if i >= partition]
    if above:
        return f"updating pod {max(above)}"
    return f"below partition {partition}: pods keep the old revision"


def _sts_state(sts: dict, pods: list[dict]) -> tuple[bool, str]:
    """kubectl ``rollout status`` for a StatefulSet, plus: exactly the ordinals 0..replicas-1 exist."""
    meta, spec, status = sts["metadata"], sts.get("spec") or {}, sts.get("status") or {}
    replicas = spec.get("replicas", 1)
    ready = status.get("readyReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    update_rev = status.get("updateRevision") or "?"
    reason = statefulset_reason(sts, pods)
    not_ready = [p for p in sorted(pods, key=lambda x: (pod_ordinal(x) or 0))
                 if not pod_ready(p) or p["metadata"].get("deletionTimestamp")]
    detail = ""
    if not_ready:
        p = not_ready[0]
        detail = f"; pod {p['metadata']['name']} is {pod_status(p)}"
        for c in (p.get("status") or {}).get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("message"):
                detail += f" ({c['message']})"
    summary = (f"{ready}/{replicas} Ready, {updated}/{replicas} at update revision {update_rev}"
               f"{detail}{'; controller: ' + reason if reason and reason != 'steady' else ''}")
    if (status.get("observedGeneration") or 0) < (meta.get("generation") or 0):
        return False, "Waiting for statefulset spec update to be observed..."
    ordinals = sorted(o for o in (pod_ordinal(p) for p in pods) if o is not None)
    if ordinals != list(range(replicas)) or len(pods) != replicas:
        return False, summary
    if ready < replicas or any(not pod_ready(p) or p["metadata"].get("deletionTimestamp") for p in pods):
        return False, summary
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return True, f"{replicas}/{replicas} Ready (updateStrategy {strategy.get('type')}: no rollout to wait for)"
    partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
    if updated < replicas - partition:
        return False, summary
    if partition == 0 and (status.get("currentRevision") != status.get("updateRevision") or
                           any(pod_revision(p) != status.get("updateRevision") for p in pods)):
        return False, summary
    return True, f"partitioned roll out complete: {updated} new pods have been updated..."


def statefulset_rollout(name: str, uid: str | None = None) -> Callable[[View], Progress]:
    """Check: the StatefulSet has exactly ``replicas`` Ready pods and its rollout is complete.

    Fails early when one of its pods is stuck (ImagePullBackOff, CrashLoopBackOff …).
    """
    def check(view: View) -> Progress:
        sts = view.get("statefulsets", name)
        if sts is None:
            return Progress(False, f"statefulset {name} does not exist")
        pods = _owned(view.items("pods"), "StatefulSet", name, sts["metadata"].get("uid"))
        failure = _failure_of(pods, f"the rollout of statefulset {name}", hint=(
            f"fix the image with `lab.set_image({name!r}, ...)` or `lab.rollback({name!r})`, then delete the stuck "
            "pod with `lab.delete_pod(...)`: a StatefulSet does not replace a pod that never became Ready"))
        if failure:
            return Progress(False, str(failure.message), failure)
        done, state = _sts_state(sts, pods)
        if done:
            doomed = _claims_to_be_deleted(sts, view.items("persistentvolumeclaims"))
            if doomed:
                return Progress(False, f"{state}; waiting for the retention policy to delete {', '.join(doomed)}")
        return Progress(done, state)
    return check


def _claims_to_be_deleted(sts: dict, claims: list[dict]) -> list[str]:
    """Claims of ordinals at or above ``replicas`` that ``whenScaled: Delete`` will remove."""
    spec = sts.get("spec") or {}
    if ((spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") != "Delete"):
        return []
    name, replicas = sts["metadata"]["name"], spec.get("replicas", 1)
    out = []
    for tpl in spec.get("volumeClaimTemplates") or []:
        prefix = f"{(tpl.get('metadata') or {}).get('name', '')}-{name}-"
        for c in claims:
            cname = c["metadata"]["name"]
            if cname.startswith(prefix) and cname[len(prefix):].isdigit() and int(cname[len(prefix):]) >= replicas:
                out.append(cname)
    return sorted(out)


def deployment_rollout(name: str) -> Callable[[View], Progress]:
    """Check: kubectl's ``rollout status`` for a Deployment; fails early on a stuck pod or a deadline exceeded."""
    def check(view: View) -> Progress:
        d = view.get("deployments", name)
        if d is None:
            return Progress(False, f"deployment {name} does not exist")
        spec, status, meta = d.get("spec") or {}, d.get("status") or {}, d["metadata"]
        rs_uids = {r["metadata"]["uid"] for r in view.items("replicasets")
                   if any(o.get("uid") == meta.get("uid") for o in r["metadata"].get("ownerReferences") or [])}
        pods = [p for p in view.items("pods") if (pod_owner(p) or {}).get("uid") in rs_uids] \
            if view.items("replicasets") else view.items("pods")
        failure = _failure_of(pods, f"the rollout of deployment {name}", hint=(
            f"fix the image with `lab.set_image('deployment/{name}', ...)`, or `lab.rollback('deployment/{name}')`"))
        if failure:
            return Progress(False, failure.message, failure)
        for c in status.get("conditions") or []:
            if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                return Progress(False, c.get("message", ""), ConditionFailed(
                    f'deployment "{name}" exceeded its progress deadline', reason="ProgressDeadlineExceeded",
                    hint="look at `lab.events()` for why its pods do not become available"))
        replicas = spec.get("replicas", 1)
        updated = status.get("updatedReplicas") or 0
        if (status.get("observedGeneration") or 0) < (meta.get("generation") or 0):
            return Progress(False, "Waiting for deployment spec update to be observed...")
        if updated < replicas:
            return Progress(False, f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} '
                                   "new replicas have been updated...")
        if (status.get("replicas") or 0) > updated:
            return Progress(False, f'Waiting for deployment "{name}" rollout to finish: '
                                   f"{status.get('replicas', 0) - updated} old replicas are pending termination...")
        if (status.get("availableReplicas") or 0) < updated:
            return Progress(False, f'Waiting for deployment "{name}" rollout to finish: '
                                   f"{status.get('availableReplicas', 0)} of {updated} updated replicas are available...")
        return Progress(True, f'deployment "{name}" successfully rolled out')
    return check


def pod_replaced(name: str, old_uid: str) -> Callable[[View], Progress]:
    """Check: a pod named ``name`` with another uid exists and is Ready (a StatefulSet re-creating it)."""
    def check(view: View) -> Progress:
        p = view.get("pods", name)
        if p is None:
            return Progress(False, f"pod {name} is gone, not re-created yet")
        if p["metadata"].get("uid") == old_uid:
            return Progress(False, f"pod {name} (the old one) is {pod_status(p)}")
        failure = _failure_of([p], f"re-creating pod {name}", hint="fix the image of its StatefulSet")
        if failure:
            return Progress(False, failure.message, failure)
        if pod_ready(p):
            return Progress(True, f"pod {name} re-created and Ready")
        return Progress(False, f"pod {name} re-created, {pod_status(p)}")
    return check


def pod_finished(name: str) -> Callable[[View], Progress]:
    """Check: the pod ran to completion (phase Succeeded or Failed); fails early if it cannot start."""
    def check(view: View) -> Progress:
        p = view.get("pods", name)
        if p is None:
            return Progress(False, f"pod {name} does not exist")
        phase = (p.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return Progress(True, f"pod {name} {phase}")
        failure = _failure_of([p], f"pod {name}", hint="check the image name; the lookup pod needs `busybox`")
        if failure:
            return Progress(False, failure.message, failure)
        return Progress(False, f"pod {name} is {pod_status(p)}")
    return check


def all_gone(uids_by_kind: dict[str, set[str]]) -> Callable[[View], Progress]:
    """Check: none of the objects with these uids exists any more."""
    def check(view: View) -> Progress:
        left = []
        for kind, uids in uids_by_kind.items():
            for o in view.items(kind):
                if o["metadata"].get("uid") in uids:
                    left.append(f"{kind}/{o['metadata']['name']}")
        if left:
            return Progress(False, f"{len(left)} still there: {', '.join(sorted(left)[:8])}"
                                   f"{' …' if len(left) > 8 else ''}")
        return Progress(True, "all gone")
    return check


# ---------------------------------------------------------------------------- recording

_ROW_KEYS = ("time", "event", "pod", "ordinal", "phase", "status", "ready", "revision", "reason")


@dataclass
class _PodState:
    key: tuple
    revision: str | None


@dataclass
class Recording:
    """Pods and StatefulSets followed while a block of actions runs; see :meth:`stsnb.lab.Lab.record`.

    ``frame`` columns: ``time`` (seconds since the recording began, in cluster time: sandbox seconds
    on the sandbox), ``event`` (``EXISTING`` for pods there at the start, then ``ADDED``,
    ``MODIFIED``, ``DELETED``; ``SYNC`` for a state caught up at the end), ``pod``, ``ordinal``,
    ``phase``, ``status`` (kubectl's STATUS), ``ready``, ``revision`` (the pod's revision label) and
    ``reason`` (what the StatefulSet controller was waiting for right after the event).
    """

    kube: "Kube"
    namespace: str
    label_selector: str | None = None
    time_scale: float = 1.0
    title: str | None = None
    lang: str = "en"
    statefulset: str | None = None
    rows: list[dict] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mw: Multiwatch | None = None
        self._t0 = 0.0
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
        self._mw = Multiwatch(self.kube, self._specs).start()
        self._t0 = time.monotonic()
        self.running = True
        deadline = time.monotonic() + 10
        while len(self._synced) < len(self._specs) and time.monotonic() < deadline:
            ev = self._mw.get(deadline - time.monotonic())
            if ev is not None:
                self._consume(ev)
        self._t0 = time.monotonic()
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
                _note(latest, self._specs[ev[1]].kind, ev[0], ev[2])
                continue
            if snapshot is None or latest == want or time.monotonic() >= deadline:
                break
        self._mw.stop()
        self.running = False
        for ev in _by_resource_version(pending):
            self._consume(ev)
        if snapshot is not None and not self._matches(snapshot):
            for i, s in enumerate(self._specs):
                self._consume(("SYNC", i, snapshot[s.kind], time.monotonic()), sync_rows=True)
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
    def _at(self, t: float) -> float:
        return round(max(0.0, t - self._t0) * self.time_scale, 3)

    def _consume(self, ev: tuple[str, int, Any, float], *, sync_rows: bool = False) -> None:
        type_, i, payload, received = ev
        if type_ == "ERROR":
            return
        kind = self._specs[i].kind
        first_sync = type_ == "SYNC" and i not in self._synced
        before = {o["metadata"]["name"]: o for o in self._view.items(kind)} if type_ == "SYNC" else {}
        self._view.apply(kind, type_, payload)
        if type_ == "SYNC":
            self._synced.add(i)
        t = 0.0 if first_sync else self._at(received)
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

    def _update_reasons(self, t: float) -> None:
        pods = self._view.items("pods")
        for sts in self._view.items("statefulsets"):
            name = sts["metadata"]["name"]
            reason = statefulset_reason(sts, _owned(pods, "StatefulSet", name, sts["metadata"].get("uid")))
            if self._last_reason.get(name) != reason:
                self._last_reason[name] = reason
                self.reasons.append({"time": t, "statefulset": name, "reason": reason})
                for row in reversed(self.rows):
                    if row["time"] != t:
                        break
                    if row["_owner"] == name:
                        row["reason"] = reason

    def _pod_row(self, t: float, event: str, pod: dict, deleted: bool = False) -> None:
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
                          "_owner": ref.get("name") if ref.get("kind") == "StatefulSet" else None})

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
        return timeline(self, lang=lang or self.lang, title=title or self.title, ax=ax)

    def _repr_html_(self) -> str:
        return self.frame.to_html(index=False)
