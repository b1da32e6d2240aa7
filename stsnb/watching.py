"""Waiting and recording through watch streams, never by sleep-polling.

A wait lists the objects it cares about and evaluates a *check* on that list (a
condition that already holds is answered there, without opening a stream); then it
follows their watch streams from that list's ``resourceVersion``
(``kubernetes.watch.Watch`` with ``timeout_seconds``), re-evaluating the check on
every event until the check
says done, says it can never be done (:class:`~stsnb.errors.ConditionFailed`,
e.g. a pod in ``ImagePullBackOff`` during a rollout), or the deadline passes
(:class:`~stsnb.errors.WaitTimeout`, naming the condition and the last state
seen). A stream that expires (``410 Gone``) is re-listed and resumed.

Several streams (a StatefulSet and its pods) are followed at once by one
reader thread each, feeding one queue; the threads live only as long as the
wait or the recording, and are stopped by closing their connections.

Recordings (timelines) are built on these streams in :mod:`stsnb.timeline`.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from kubernetes import watch as _k8s_watch

from . import tables
from .k8s.pods import pod_ordinal, pod_owner, pod_ready, pod_revision, pod_status
from .errors import ConditionFailed, StsnbError, WaitTimeout

if TYPE_CHECKING:
    from .kube import Kube

__all__ = ["WatchSpec", "Progress", "View", "Multiwatch", "wait_for", "generation_observed", "statefulset_rollout",
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
    """Follow several watch streams at once; :meth:`get` returns their events as ``(type, spec_index, payload, t)``.

    ``type`` is ``"SYNC"`` (payload: the listed items; after the first list and after a 410),
    ``ADDED``/``MODIFIED``/``DELETED`` (payload: the object) or ``"ERROR"`` (payload: the exception);
    ``t`` is the ``time.monotonic()`` at which the reader thread received it.

    On a sandbox in this process (``kube.waiter``), every watch request is an acknowledging stream
    (:attr:`stsnb.sandbox.Sandbox.WAITER_HEADER`): a discrete clock moves on as soon as the lab has
    acted on what it saw, instead of after a fixed pause. A consumer that acts on events calls
    :meth:`ack` when it has dealt with all it got and waits for more; a ``passive`` one (a recording,
    which only keeps events) acknowledges each as it arrives. :meth:`stop` releases the streams
    before closing them, so the clock does not move on for a waiter that has left.
    """

    def __init__(self, kube: "Kube", specs: Sequence[WatchSpec], *, segment_s: int = SEGMENT_S,
                 passive: bool = False, listed: dict[int, str] | None = None) -> None:
        self.kube = kube
        self.specs = list(specs)
        #: the ``resourceVersion`` of a list the caller already made, by spec index: that stream starts
        #: watching from it (no list of its own, no ``SYNC`` event) instead of listing first
        self.listed = dict(listed or {})
        self.segment_s = segment_s
        self.passive = passive
        self.queue: queue.Queue = queue.Queue()  # (type, index, payload, t, (token, n) or None)
        self._stop = threading.Event()
        self._watches: dict[int, RawWatch] = {}
        self._threads: list[threading.Thread] = []
        self._waiter = getattr(kube, "waiter", None)
        self._tokens: dict[int, str] = {}  # each spec's current watch request
        self._acted: dict[str, int] = {}  # events handed to the consumer, by watch request

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
        if self._waiter is not None:
            for token in list(self._tokens.values()):
                self._waiter.release(token)
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
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                type_, i, payload, t, seen = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if seen is not None:
                self._acted[seen[0]] = seen[1]
            if type_ != "BOOKMARK":
                return type_, i, payload, t

    def ack(self) -> None:
        """The consumer acted on every event :meth:`get` returned and waits for more (if nothing is queued)."""
        if self._waiter is None or not self.queue.empty():
            return
        for token in list(self._tokens.values()):
            self._waiter.acknowledge(token, self._acted.get(token, 0))

    def _list(self, i: int, spec: WatchSpec) -> str:
        items, rv = self.kube.list_raw(spec.kind, spec.namespace, label_selector=spec.label_selector,
                                       field_selector=spec.field_selector)
        self.queue.put(("SYNC", i, items, time.monotonic(), None))
        return rv

    def _run(self, i: int, spec: WatchSpec) -> None:
        rv = self.listed.get(i)
        if rv is None:
            try:
                rv = self._list(i, spec)
            except Exception as e:  # noqa: BLE001 - handed to the waiting thread, which raises it
                if not self._stop.is_set():
                    self.queue.put(("ERROR", i, e, time.monotonic(), None))
                return
        while not self._stop.is_set():
            w = RawWatch()
            self._watches[i] = w
            token = uuid.uuid4().hex if self._waiter is not None else None
            if token is not None:
                self._tokens[i] = token
            if self._stop.is_set():
                return
            try:
                n = 0  # events of this request: the server counts the ones it queued for it the same way
                for type_, obj in self.kube.stream(spec.kind, spec.namespace, watcher=w,
                                                   label_selector=spec.label_selector,
                                                   field_selector=spec.field_selector, resource_version=rv,
                                                   timeout_seconds=self.segment_s, waiter_token=token):
                    if self._stop.is_set():
                        break
                    n += 1
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    self.queue.put((type_, i, obj, time.monotonic(), (token, n) if token else None))
                    if self.passive and token is not None:
                        self._waiter.acknowledge(token, n)
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
                self.queue.put(("ERROR", i, e, time.monotonic(), None))
                return


def note_event(latest: dict[str, dict[str, Any]], kind: str, type_: str, payload: Any) -> None:
    names = latest.setdefault(kind, {})
    if type_ == "SYNC":
        names.clear()
        names.update({o["metadata"]["name"]: o["metadata"].get("resourceVersion") for o in payload})
    elif type_ in ("ADDED", "MODIFIED"):
        names[payload["metadata"]["name"]] = payload["metadata"].get("resourceVersion")
    elif type_ == "DELETED":
        names.pop(payload["metadata"]["name"], None)


def by_resource_version(events: list[tuple]) -> list[tuple]:
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
    # list first, here: a condition that already holds is answered without starting a stream (most of a
    # lesson's waits on settled objects: no thread, connection or watch request); otherwise the streams
    # follow on from these lists' resourceVersions, exactly as if they had listed themselves
    view = View()
    listed: dict[int, str] = {}
    for i, spec in enumerate(specs):
        try:
            items, listed[i] = kube.list_raw(spec.kind, spec.namespace, label_selector=spec.label_selector,
                                             field_selector=spec.field_selector)
        except StsnbError:
            raise
        except Exception as e:  # noqa: BLE001 - raised as a stream's failure would be
            raise _watch_failed(spec, condition, e) from e
        view.apply(spec.kind, "SYNC", items)
    last = _evaluate(view, check, on_change)
    if last.done:
        return view, last
    with Multiwatch(kube, specs, segment_s=max(1, min(SEGMENT_S, int(timeout) + 1)), listed=listed) as mw:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = last.state
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
                raise _watch_failed(specs[i], condition, payload) from payload
            view.apply(specs[i].kind, type_, payload)
            prog = _evaluate(view, check, on_change)
            if prog.done:
                return view, prog
            last = prog
            mw.ack()  # acted on all of it; still waiting


def _evaluate(view: View, check: Callable[[View], Progress],
              on_change: Callable[[View, Progress], None] | None) -> Progress:
    """``check`` on ``view``, shown to ``on_change``; its failure raised."""
    prog = check(view)
    if on_change is not None:
        on_change(view, prog)
    if prog.failure is not None:
        raise prog.failure
    return prog


def _watch_failed(spec: WatchSpec, condition: str, e: BaseException) -> StsnbError:
    return StsnbError(f"the watch on {spec.kind} failed while waiting for {condition}: {e}",
                      hint="run the step again; if it keeps failing, check `kubectl cluster-info`")


# ---------------------------------------------------------------------------- StatefulSet logic

def owned_pods(view_pods: Iterable[dict], owner_kind: str, owner_name: str, owner_uid: str | None) -> list[dict]:
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
        pods = owned_pods(view.items("pods"), "StatefulSet", name, sts["metadata"].get("uid"))
        failure = _failure_of(pods, f"the rollout of statefulset {name}", hint=(
            f"fix the image with `lab.set_image({name!r}, ...)` or `lab.rollback({name!r})`, then delete the stuck "
            "pod with `lab.delete_pod(...)`: a StatefulSet does not replace a pod that never became Ready"))
        if failure:
            return Progress(False, str(failure.message), failure)
        done, state = _sts_state(sts, pods)
        if done:
            doomed = _claims_to_be_deleted(sts, view.items("persistentvolumeclaims"),
                                           {p["metadata"]["name"] for p in view.deleted.get("pods", [])})
            if doomed:
                return Progress(False, f"{state}; waiting for the retention policy to delete {', '.join(doomed)}")
        return Progress(done, state)
    return check


def _claims_to_be_deleted(sts: dict, claims: list[dict], removed_pods: set[str] = frozenset()) -> list[str]:
    """Claims of ordinals at or above ``replicas`` that ``whenScaled: Delete`` *will* remove.

    The controller gives a claim an owner reference to its pod only when it condemns that pod
    (``updateClaimOwnerRefForSetAndPod``, kubernetes/kubernetes pkg/controller/statefulset/
    stateful_set_utils.go), and the garbage collector deletes the claim once that pod is gone.
    Claims left behind before the policy said ``Delete`` have no such reference and stay for
    good (reference/kubernetes-semantics.md R5.5), so a wait never expects them to go. A claim
    counts when it is being deleted, carries a pod owner reference, or its pod was removed while
    this wait watched (``removed_pods``: its reference may not have reached the claims' stream yet).
    """
    spec = sts.get("spec") or {}
    if ((spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") != "Delete"):
        return []
    name, replicas = sts["metadata"]["name"], spec.get("replicas", 1)
    out = []
    for tpl in spec.get("volumeClaimTemplates") or []:
        prefix = f"{(tpl.get('metadata') or {}).get('name', '')}-{name}-"
        for c in claims:
            cname = c["metadata"]["name"]
            if not (cname.startswith(prefix) and cname[len(prefix):].isdigit() and int(cname[len(prefix):]) >= replicas):
                continue
            going = (c["metadata"].get("deletionTimestamp") or f"{name}-{cname[len(prefix):]}" in removed_pods
                     or any(r.get("kind") == "Pod" for r in c["metadata"].get("ownerReferences") or []))
            if going:
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


def generation_observed(kind: str, name: str) -> Callable[[View], Progress]:
    """Check: the object's controller has acted on its latest spec (``status.observedGeneration``
    reached ``metadata.generation``), or the object is gone."""
    def check(view: View) -> Progress:
        obj = next((o for o in view.items(kind) if o["metadata"]["name"] == name), None)
        if obj is None:
            return Progress(True, "gone")
        seen = (obj.get("status") or {}).get("observedGeneration") or 0
        want = obj["metadata"].get("generation") or 0
        if seen < want:
            return Progress(False, f"its controller has acted on generation {seen} of {want}")
        return Progress(True, f"generation {want} observed")
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
