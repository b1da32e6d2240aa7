"""The Job controller: pods run to completion, as ``pkg/controller/job/job_controller.go`` (``syncJob``) runs them.

* Pods are created from the template (``generateName: <job>-``, a controller reference, the
  ``batch.kubernetes.io/job-tracking`` finalizer), up to ``parallelism`` at once and no more
  than the completions still missing; ``Indexed`` jobs give each pod its completion index
  (annotation and label ``batch.kubernetes.io/job-completion-index``, hostname ``<job>-<index>``).
* A finished pod is counted into ``status.succeeded`` or ``status.failed`` and its tracking
  finalizer removed, so counts never go back when pods are deleted.
* After a failure, replacements wait for the pod back-off (10 s doubling, at most 6 minutes).
* The job is ``Complete`` when ``completions`` pods succeeded (or, without ``completions``, one
  did and none is running), ``Failed`` with ``BackoffLimitExceeded`` once failures (restarts
  count too, under ``restartPolicy: OnFailure``) pass ``backoffLimit``, or with
  ``DeadlineExceeded`` after ``activeDeadlineSeconds``; running pods are then deleted.
* ``suspend: true`` deletes running pods and sets ``Suspended``; ``ttlSecondsAfterFinished``
  deletes a finished job (the TTL-after-finished controller).

Events as upstream words them: ``SuccessfulCreate`` "Created pod: X", ``SuccessfulDelete``
"Deleted pod: X", ``Completed`` "Job completed", ``BackoffLimitExceeded`` "Job has reached the
specified backoff limit", ``DeadlineExceeded``, ``Suspended``.
"""

from __future__ import annotations

from ..apiserver.registry import deep_copy
from ..core import errors
from ..core.cluster import Cluster
from ..core.store import Event
from .common import controlled_by, controller_ref_of, delete_quietly, edit, is_pod_ready, is_terminating, new_controller_ref

__all__ = ["JobController", "TRACKING_FINALIZER", "is_finished"]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"
COMPONENT = "job-controller"
POD_BACKOFF = 10.0
POD_BACKOFF_MAX = 360.0


def is_finished(job: dict) -> str | None:
    """``Complete`` or ``Failed`` when the job has that condition true, else None."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


class JobController:
    """Runs each Job's pods to completion; see the module docstring."""

    name = "job"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._timers: set[tuple[str, str, float]] = set()
        self._last_failure: dict[str, float] = {}  # job uid -> when its last pod failed (the pod back-off)

    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "jobs":
            return [(meta["namespace"], meta["name"])]
        if ev.plural == "pods":
            keys = []
            for obj in (ev.obj, ev.old):
                ref = controller_ref_of(obj) if obj is not None else None
                if ref is not None and ref.get("kind") == "Job":
                    keys.append((meta["namespace"], ref["name"]))
            return list(dict.fromkeys(keys))
        return []

    def sync(self, key) -> None:
        ns, name = key
        job = self.sb.store.get("jobs", ns, name)
        if job is None:
            self._release_orphans(ns, name)
            return
        pods = [p for p in self.sb.store.list("pods", ns) if controlled_by(p, job)]
        st = deep_copy(job.get("status") or {})
        self._count_finished(job, pods, st)
        spec = job["spec"]
        now = self.sb.clock.now()
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                  and not is_terminating(p)]
        if is_finished(job) is None and not is_terminating(job):
            if spec.get("suspend"):
                self._delete(job, active)
                active = []
                self._condition(st, "Suspended", "True", "JobSuspended", "Job suspended")
            else:
                self._condition(st, "Suspended", "False", "JobResumed", "Job resumed", only_if_present=True)
                st.setdefault("startTime", self.sb.clock.timestamp())
                active = self._progress(job, pods, active, st, now)
        st["active"] = len(active)
        st["ready"] = sum(1 for p in active if is_pod_ready(p))
        if self.sb.profile.minor >= 26:
            st.setdefault("uncountedTerminatedPods", {})
        for k in ("active", "succeeded", "failed"):
            if not st.get(k):
                st.pop(k, None)
        if st != (job.get("status") or {}):
            self.sb.registry.write_status("jobs", job, st)
        self._ttl(job, st)

    def _release_orphans(self, ns: str, name: str) -> None:
        """The job is gone: its pods' tracking finalizers go too, so the garbage collector can finish them."""
        for p in self.sb.store.list("pods", ns):
            ref = controller_ref_of(p)
            if ref and ref.get("kind") == "Job" and ref.get("name") == name and \
                    TRACKING_FINALIZER in (p["metadata"].get("finalizers") or []):
                self._drop_finalizer(p)

    @staticmethod
    def _without_finalizer(new: dict) -> None:
        rest = [f for f in new["metadata"].get("finalizers") or [] if f != TRACKING_FINALIZER]
        if rest:
            new["metadata"]["finalizers"] = rest
        else:
            new["metadata"].pop("finalizers", None)

    def _drop_finalizer(self, p: dict) -> None:
        edit(self.sb, "pods", p["metadata"]["namespace"], p["metadata"]["name"], self._without_finalizer,
             uid=p["metadata"]["uid"])

    # ------------------------------------------------------------------ one sync
    def _count_finished(self, job: dict, pods: list[dict], st: dict) -> None:
        """Finished pods still carrying the tracking finalizer: count them, then let them go."""
        for p in pods:
            phase = (p.get("status") or {}).get("phase")
            if phase not in ("Succeeded", "Failed") or TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or []):
                continue
            key = "succeeded" if phase == "Succeeded" else "failed"
            st[key] = st.get(key, 0) + 1
            if phase == "Failed":
                st["_lastFailure"] = self.sb.clock.now()
            self._drop_finalizer(p)
        last_failure = st.pop("_lastFailure", None)
        if last_failure is not None:
            self._last_failure[job["metadata"]["uid"]] = last_failure

    def _progress(self, job: dict, pods: list[dict], active: list[dict], st: dict, now: float) -> list[dict]:
        spec = job["spec"]
        completions = spec.get("completions")
        succeeded, failed = st.get("succeeded", 0), st.get("failed", 0)
        if spec.get("template", {}).get("spec", {}).get("restartPolicy") == "OnFailure":
            failed += sum(cs.get("restartCount", 0) for p in active
                          for cs in (p.get("status") or {}).get("containerStatuses") or [])
        deadline = spec.get("activeDeadlineSeconds")
        if failed > int(spec.get("backoffLimit", 6)):
            return self._fail(job, active, st, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        if deadline and now - self.sb.clock.parse(st["startTime"]) >= deadline:
            return self._fail(job, active, st, "DeadlineExceeded", "Job was active longer than specified deadline")
        if (completions is not None and succeeded >= completions) or \
                (completions is None and succeeded > 0 and not active):
            self._delete(job, active)
            self._condition(st, "Complete", "True", None, None)
            st["completionTime"] = self.sb.clock.timestamp()
            self.sb.registry.record_event(job, "Normal", "Completed", "Job completed", COMPONENT)
            return []
        if deadline:
            self._wake(job, self.sb.clock.parse(st["startTime"]) + deadline)
        want = int(spec.get("parallelism", 1))
        if completions is not None:
            want = min(want, completions - succeeded)
        elif succeeded > 0:
            want = 0
        if len(active) > want:
            self._delete(job, sorted(active, key=lambda p: p["metadata"]["creationTimestamp"])[want:])
            return active[:want]
        if len(active) < want:
            since = self._last_failure.get(job["metadata"]["uid"])
            if failed and since is not None:
                ready_at = since + min(POD_BACKOFF * 2 ** (failed - 1), POD_BACKOFF_MAX)
                if ready_at > now:
                    self._wake(job, ready_at)
                    return active
            active = active + self._create(job, pods, want - len(active), st)
        return active

    def _fail(self, job: dict, active: list[dict], st: dict, reason: str, message: str) -> list[dict]:
        self._delete(job, active)
        self._condition(st, "Failed", "True", reason, message)
        self.sb.registry.record_event(job, "Warning", reason, message, COMPONENT)
        return []

    def _create(self, job: dict, pods: list[dict], n: int, st: dict) -> list[dict]:
        tpl = job["spec"].get("template") or {}
        tmeta = tpl.get("metadata") or {}
        indexed = job["spec"].get("completionMode") == "Indexed"
        taken = {(p["metadata"].get("annotations") or {}).get(INDEX) for p in pods
                 if (p.get("status") or {}).get("phase") != "Failed" and not is_terminating(p)}
        free = [str(i) for i in range(job["spec"].get("completions") or 0) if str(i) not in taken] if indexed else []
        out = []
        for i in range(n):
            meta: dict = {"generateName": f"{job['metadata']['name']}-", "namespace": job["metadata"]["namespace"],
                          "labels": dict(tmeta.get("labels") or {}), "ownerReferences": [new_controller_ref(job)],
                          "finalizers": [TRACKING_FINALIZER]}
            if tmeta.get("annotations"):
                meta["annotations"] = dict(tmeta["annotations"])
            spec = deep_copy(tpl.get("spec") or {})
            if indexed:
                if not free:
                    break
                index = free.pop(0)
                meta["generateName"] = f"{job['metadata']['name']}-{index}-"
                meta.setdefault("annotations", {})[INDEX] = index
                if self.sb.profile.minor >= 28:
                    meta["labels"][INDEX] = index
                spec.setdefault("hostname", f"{job['metadata']['name']}-{index}")
            try:
                pod, _ = self.sb.registry.create("pods", job["metadata"]["namespace"],
                                                 {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
            except errors.ApiError as e:
                self.sb.registry.record_event(job, "Warning", "FailedCreate", f"Error creating: {e.message}", COMPONENT)
                break
            self.sb.registry.record_event(job, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                          COMPONENT)
            out.append(pod)
        return out

    def _delete(self, job: dict, pods: list[dict]) -> None:
        for p in pods:
            if delete_quietly(self.sb, "pods", p["metadata"]["namespace"], p["metadata"]["name"], uid=p["metadata"]["uid"]):
                self.sb.registry.record_event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}",
                                              COMPONENT)

    def _condition(self, st: dict, type_: str, status: str, reason: str | None, message: str | None, *,
                   only_if_present: bool = False) -> None:
        conds = st.setdefault("conditions", [])
        cur = next((c for c in conds if c.get("type") == type_), None)
        if cur is None and only_if_present:
            if not conds:
                st.pop("conditions")
            return
        if cur is not None and cur.get("status") == status:
            return
        now = self.sb.clock.timestamp()
        new = {"type": type_, "status": status, "lastProbeTime": now, "lastTransitionTime": now}
        if reason:
            new["reason"] = reason
        if message:
            new["message"] = message
        st["conditions"] = [c for c in conds if c.get("type") != type_] + [new]

    def _wake(self, job: dict, at: float) -> None:
        key = (job["metadata"]["namespace"], job["metadata"]["name"], round(at, 3))
        if key in self._timers:
            return
        self._timers.add(key)
        self.sb.engine.call_later(max(0.0, at - self.sb.clock.now() + 0.01),
                                  lambda: self.sb.engine.enqueue(self.name, key[:2]))

    def _ttl(self, job: dict, st: dict) -> None:
        """The TTL-after-finished controller: delete a finished job ``ttlSecondsAfterFinished`` later."""
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        if ttl is None or not any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                                  for c in st.get("conditions") or []):
            return
        finished = max(self.sb.clock.parse(c["lastTransitionTime"]) for c in st["conditions"]
                       if c.get("type") in ("Complete", "Failed"))
        if finished + ttl <= self.sb.clock.now():
            delete_quietly(self.sb, "jobs", job["metadata"]["namespace"], job["metadata"]["name"],
                           uid=job["metadata"]["uid"], propagation="Background")
        else:
            self._wake(job, finished + ttl)
