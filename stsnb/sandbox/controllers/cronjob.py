"""The CronJob controller: Jobs on a schedule, in sandbox time (``pkg/controller/cronjob/cronjob_controllerv2.go``).

Each sync finds the most recent schedule time that has passed since the last one
(``mostRecentScheduleTime``; cron syntax as robfig/cron's standard parser reads it, through
``croniter``, in ``spec.timeZone`` or UTC) and, unless the CronJob is suspended or the time is
older than ``startingDeadlineSeconds``, starts a Job for it, named ``<cronjob>-<minutes since
the epoch>`` (``getJobName``) with the ``batch.kubernetes.io/cronjob-scheduled-timestamp``
annotation (1.28+), as ``concurrencyPolicy`` allows: ``Allow`` always, ``Forbid`` not while one
runs (``JobAlreadyActive``), ``Replace`` after deleting the running ones. Status keeps
``active``, ``lastScheduleTime`` and ``lastSuccessfulTime``; finished Jobs beyond
``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` are deleted, oldest first.

The next schedule time is a foreground timer: a client waiting on a CronJob under a discrete
clock sees its next Job without waiting for the minute to pass.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..apiserver.registry import deep_copy
from ..core import errors
from ..core.cluster import Cluster
from ..core.store import Event
from .common import controlled_by, controller_ref_of, delete_quietly, new_controller_ref
from .job import is_finished

__all__ = ["CronJobController"]

COMPONENT = "cronjob-controller"
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def _zone(name: str | None):
    if not name:
        return timezone.utc
    from zoneinfo import ZoneInfo
    return ZoneInfo(name)


class CronJobController:
    """Starts each CronJob's Jobs when their schedule says; see the module docstring."""

    name = "cronjob"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._armed: dict[tuple[str, str], float] = {}

    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "cronjobs":
            return [(meta["namespace"], meta["name"])]
        if ev.plural == "jobs":
            ref = controller_ref_of(ev.obj)
            if ref is not None and ref.get("kind") == "CronJob":
                return [(meta["namespace"], ref["name"])]
        return []

    def sync(self, key) -> None:
        ns, name = key
        cj = self.sb.store.get("cronjobs", ns, name)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        from croniter import croniter
        spec = cj["spec"]
        jobs = [j for j in self.sb.store.list("jobs", ns) if controlled_by(j, cj)]
        st = deep_copy(cj.get("status") or {})
        self._finished(cj, jobs, st)
        jobs = [j for j in self.sb.store.list("jobs", ns) if controlled_by(j, cj)]
        now = self.sb.clock.datetime()
        zone = _zone(spec.get("timeZone"))
        last = st.get("lastScheduleTime") or cj["metadata"]["creationTimestamp"]
        it = croniter(spec["schedule"], datetime.fromisoformat(last.replace("Z", "+00:00")).astimezone(zone))
        due = None
        nxt = it.get_next(datetime)
        while nxt <= now:
            due, nxt = nxt, it.get_next(datetime)
        if due is not None and not spec.get("suspend"):
            deadline = spec.get("startingDeadlineSeconds")
            if deadline is None or (now - due).total_seconds() <= deadline:
                self._start(cj, jobs, due, st)
        active = [j for j in self.sb.store.list("jobs", ns) if controlled_by(j, cj) and not is_finished(j)]
        st["active"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": j["metadata"]["name"], "namespace": ns,
                         "resourceVersion": j["metadata"]["resourceVersion"], "uid": j["metadata"]["uid"]}
                        for j in active]
        if not st["active"]:
            st.pop("active")
        if st != (cj.get("status") or {}):
            self.sb.registry.write_status("cronjobs", cj, st)
        self._arm(key, nxt)

    def _start(self, cj: dict, jobs: list[dict], due: datetime, st: dict) -> None:
        ns = cj["metadata"]["namespace"]
        policy = cj["spec"].get("concurrencyPolicy", "Allow")
        running = [j for j in jobs if not is_finished(j)]
        if running and policy == "Forbid":
            self.sb.registry.record_event(cj, "Normal", "JobAlreadyActive",
                                          "Not starting job because prior execution is running and concurrency "
                                          "policy is Forbid", COMPONENT)
            return
        if running and policy == "Replace":
            for j in running:
                if delete_quietly(self.sb, "jobs", ns, j["metadata"]["name"], uid=j["metadata"]["uid"],
                                  propagation="Background"):
                    self.sb.registry.record_event(cj, "Normal", "SuccessfulDelete",
                                                  f"Deleted job {j['metadata']['name']}", COMPONENT)
        tpl = cj["spec"].get("jobTemplate") or {}
        tmeta = tpl.get("metadata") or {}
        name = f"{cj['metadata']['name']}-{int(due.timestamp() // 60)}"
        meta: dict = {"name": name, "namespace": ns, "labels": dict(tmeta.get("labels") or {}),
                      "annotations": dict(tmeta.get("annotations") or {}),
                      "ownerReferences": [new_controller_ref(cj)]}
        if self.sb.profile.minor >= 28:
            meta["annotations"][SCHEDULED] = due.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not meta["annotations"]:
            meta.pop("annotations")
        try:
            self.sb.registry.create("jobs", ns, {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                                                 "spec": deep_copy(tpl.get("spec") or {})})
        except errors.ApiError as e:
            if e.code != 409:
                self.sb.registry.record_event(cj, "Warning", "FailedCreate", f"Error creating job: {e.message}", COMPONENT)
                return
        else:
            self.sb.registry.record_event(cj, "Normal", "SuccessfulCreate", f"Created job {name}", COMPONENT)
        st["lastScheduleTime"] = due.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _finished(self, cj: dict, jobs: list[dict], st: dict) -> None:
        """Note finished jobs (``SawCompletedJob``, ``lastSuccessfulTime``) and keep the history limits."""
        seen = {a.get("uid") for a in st.get("active") or []}
        done = {"Complete": [], "Failed": []}
        for j in sorted(jobs, key=lambda j: j["metadata"]["creationTimestamp"]):
            state = is_finished(j)
            if state is None:
                continue
            done[state].append(j)
            if j["metadata"]["uid"] in seen:
                self.sb.registry.record_event(cj, "Normal", "SawCompletedJob",
                                              f"Saw completed job: {j['metadata']['name']}, status: {state}", COMPONENT)
                if state == "Complete":
                    st["lastSuccessfulTime"] = (j.get("status") or {}).get("completionTime") or self.sb.clock.timestamp()
        limits = {"Complete": cj["spec"].get("successfulJobsHistoryLimit", 3),
                  "Failed": cj["spec"].get("failedJobsHistoryLimit", 1)}
        for state, finished in done.items():
            for j in finished[: max(0, len(finished) - int(limits[state]))]:
                if delete_quietly(self.sb, "jobs", j["metadata"]["namespace"], j["metadata"]["name"],
                                  uid=j["metadata"]["uid"], propagation="Background"):
                    self.sb.registry.record_event(cj, "Normal", "SuccessfulDelete",
                                                  f"Deleted job {j['metadata']['name']}", COMPONENT)

    def _arm(self, key: tuple[str, str], at: datetime) -> None:
        """Sync again at the next schedule time (foreground: see the module docstring)."""
        when = at.timestamp() - self.sb.clock.datetime(0).timestamp()
        if self._armed.get(key) == when:
            return
        self._armed[key] = when
        self.sb.engine.call_later(max(0.0, when - self.sb.clock.now() + 0.01),
                                  lambda: self.sb.engine.enqueue(self.name, key))
