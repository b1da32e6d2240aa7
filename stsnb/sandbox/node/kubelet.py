"""A simulated kubelet: runs the pods the scheduler (:mod:`.scheduler`) bound, in sandbox time.

The kubelet "runs" containers in sandbox time:

    Pending/ContainerCreating --pull--> Running+Ready      (an nginx server, a sleep)
                              --pull--> Succeeded/Failed   (a program that exits; restartPolicy Never)
                              --pull fails--> ErrImagePull -> ImagePullBackOff (never Ready)

What a container prints and how it exits comes from :mod:`.programs`. Nothing
is executed on the host. Deleted pods terminate after a short shutdown (or the
whole grace period for programs that ignore SIGTERM) and are then removed.
The kubelet keeps what each container wrote; the API server serves it as the
pod's ``log`` subresource (:meth:`Kubelet.log_text`, :meth:`Kubelet.follow_log`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..apiserver.registry import deep_copy
from ..core import errors
from ..core.cluster import Cluster
from ..core.store import Event
from .scheduler import Ipam

if TYPE_CHECKING:
    import dns.message

    from .programs import ProgramContext

#: Tags the sandbox's registry does not have: pulling them fails like a missing tag on Docker Hub.
MISSING_TAGS = frozenset({"does-not-exist", "doesnotexist", "nonexistent", "not-a-tag", "missing"})


def normalize_image(image: str) -> tuple[str, str, str]:
    """``(full reference, repository, tag)`` the way containerd reports them (docker.io/library/…:latest)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    repo = ref[: len(ref) - len(tag) - 1] if ":" in last else ref
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif "." not in repo.split("/", 1)[0] and ":" not in repo.split("/", 1)[0] and repo.split("/", 1)[0] != "localhost":
        repo = "docker.io/" + repo
    return f"{repo}:{tag}", repo, tag


@dataclass
class _Run:
    """What the kubelet knows about one pod (by uid)."""

    uid: str
    namespace: str
    name: str
    stage: str = "new"  # new, creating, running, exited, backoff, terminating, gone
    ip: str | None = None
    logs: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    ignores_sigterm: bool = False


class Kubelet:
    """Runs pods bound to the sandbox's nodes, in sandbox time."""

    name = "kubelet"
    #: sandbox seconds for each step; a pod becomes Ready about 3 s after it is bound (the guide shows 3-4 s)
    PULL_SECONDS = 2.0
    START_SECONDS = 0.8
    SHUTDOWN_SECONDS = 0.6
    BACKOFF_SECONDS = 1.0

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self.runs: dict[str, _Run] = {}
        self.ipam = Ipam(sb.nodes, sb.rng)
        self._log_cv = threading.Condition()

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "pods":
            meta = ev.obj["metadata"]
            return [(meta["uid"], meta["namespace"], meta["name"])]
        return []

    # ------------------------------------------------------------------ state machine
    def sync(self, key: tuple[str, str, str]) -> None:
        uid, ns, name = key
        run = self.runs.get(uid)
        pod = self.sb.store.get("pods", ns, name)
        if pod is not None and pod["metadata"]["uid"] != uid:
            pod = None
        if pod is None:
            if run is not None and run.stage != "gone":
                run.stage = "gone"
                self.ipam.release(run.ip)
                with self._log_cv:
                    self._log_cv.notify_all()
            return
        if not pod["spec"].get("nodeName"):
            return
        if run is None:
            run = self.runs[uid] = _Run(uid, ns, name)
        if pod["metadata"].get("deletionTimestamp") and run.stage not in ("terminating", "gone"):
            self._terminate(pod, run)
            return
        if run.stage == "new" and pod["status"].get("phase") == "Pending":
            self._start_creating(pod, run)

    def _current(self, run: _Run) -> dict | None:
        pod = self.sb.store.get("pods", run.namespace, run.name)
        if pod is None or pod["metadata"]["uid"] != run.uid:
            return None
        return pod

    def _start_creating(self, pod: dict, run: _Run) -> None:
        run.stage = "creating"
        node = pod["spec"]["nodeName"]
        run.ip = self.ipam.allocate(node)
        now = self.sb.clock.timestamp()
        containers = pod["spec"]["containers"]
        status = deep_copy(pod["status"])
        status.update({
            "phase": "Pending", "hostIP": self.sb.node(node).internal_ip,
            "hostIPs": [{"ip": self.sb.node(node).internal_ip}], "startTime": now,
            "conditions": self._conditions(pod, ready=False, initialized=True, reason="ContainersNotReady",
                                           message=f"containers with unready status: [{' '.join(c['name'] for c in containers)}]"),
            "containerStatuses": [self._waiting(c, "ContainerCreating") for c in containers],
        })
        self.sb.registry.write_status("pods", pod, status)
        for c in containers:
            self.sb.registry.record_event(pod, "Normal", "Pulling", f'Pulling image "{c["image"]}"', "kubelet", node)
        self.sb.engine.call_later(self.PULL_SECONDS, lambda: self._pulled(run))

    def _pulled(self, run: _Run) -> None:
        pod = self._current(run)
        if pod is None or pod["metadata"].get("deletionTimestamp") or run.stage != "creating":
            return
        node = pod["spec"]["nodeName"]
        for c in pod["spec"]["containers"]:
            full, repo, tag = normalize_image(c["image"])
            if tag in MISSING_TAGS or c["image"] != c["image"].strip() or any(ch.isupper() for ch in c["image"]):
                self._pull_failed(pod, run, c, full)
                return
        for c in pod["spec"]["containers"]:
            self.sb.registry.record_event(pod, "Normal", "Pulled",
                                          f'Successfully pulled image "{c["image"]}" in {self.PULL_SECONDS:.1f}s '
                                          f'({self.PULL_SECONDS:.1f}s including waiting)', "kubelet", node)
            self.sb.registry.record_event(pod, "Normal", "Created", f"Created container {c['name']}", "kubelet", node)
            self.sb.registry.record_event(pod, "Normal", "Started", f"Started container {c['name']}", "kubelet", node)
        self.sb.engine.call_later(self.START_SECONDS, lambda: self._started(run))

    def _pull_failed(self, pod: dict, run: _Run, c: dict, full: str) -> None:
        node = pod["spec"]["nodeName"]
        reason = (f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": failed to resolve '
                  f'reference "{full}": {full}: not found')
        msg = f'Failed to pull image "{c["image"]}": {reason}'
        self.sb.registry.record_event(pod, "Warning", "Failed", msg, "kubelet", node)
        self.sb.registry.record_event(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet", node)
        status = deep_copy(pod["status"])
        status["podIP"], status["podIPs"] = run.ip, [{"ip": run.ip}]
        status["containerStatuses"] = [self._waiting(x, "ErrImagePull", reason if x is c else None)
                                       if x["name"] == c["name"] else self._waiting(x, "ContainerCreating")
                                       for x in pod["spec"]["containers"]]
        self.sb.registry.write_status("pods", pod, status)
        run.stage = "backoff"

        def backoff() -> None:
            cur = self._current(run)
            if cur is None or cur["metadata"].get("deletionTimestamp"):
                return
            st = deep_copy(cur["status"])
            st["containerStatuses"] = [self._waiting(x, "ImagePullBackOff", f'Back-off pulling image "{x["image"]}"')
                                       if x["name"] == c["name"] else s
                                       for x, s in zip(cur["spec"]["containers"], st["containerStatuses"])]
            self.sb.registry.write_status("pods", cur, st)
            self.sb.registry.record_event(cur, "Normal", "BackOff", f'Back-off pulling image "{c["image"]}"', "kubelet", node)
            self.sb.registry.record_event(cur, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", node)

        self.sb.engine.call_later(self.BACKOFF_SECONDS, backoff)

    def _started(self, run: _Run) -> None:
        pod = self._current(run)
        if pod is None or pod["metadata"].get("deletionTimestamp") or run.stage != "creating":
            return
        from . import programs
        now = self.sb.clock.timestamp()
        statuses, all_running, exits = [], True, []
        for c in pod["spec"]["containers"]:
            ctx = self._program_context(pod, c, run.ip)
            outcome = programs.run(ctx)
            run.logs[c["name"]] = run.logs.get(c["name"], "") + outcome.output
            run.ignores_sigterm = run.ignores_sigterm or outcome.ignores_sigterm
            if outcome.exit_code is None:
                statuses.append(self._running(c, now))
                if outcome.sleep_seconds:
                    self.sb.engine.call_later(outcome.sleep_seconds,
                                              lambda name=c["name"], o=outcome: self._slept(run, name, o))
            else:
                all_running = False
                exits.append((c["name"], outcome.exit_code))
                statuses.append(self._running(c, now))
        with self._log_cv:
            self._log_cv.notify_all()
        status = deep_copy(pod["status"])
        status.update({"phase": "Running", "podIP": run.ip, "podIPs": [{"ip": run.ip}],
                       "containerStatuses": statuses,
                       "conditions": self._conditions(pod, ready=all_running, initialized=True,
                                                      reason=None if all_running else "ContainersNotReady")})
        self.sb.registry.write_status("pods", pod, status)
        run.stage = "running"
        if exits:
            self._exited(run, dict(exits))

    def _program_context(self, pod: dict, container: dict, ip: str | None) -> ProgramContext:
        """What the container sees: its pod (with the IP just given), the cluster DNS and resolv.conf."""
        from . import programs  # imported on first use: dnspython is not loaded until a container starts
        ns = pod["metadata"]["namespace"]
        status = dict(pod.get("status") or {})
        if ip:
            status["podIP"] = ip
        zone = self.sb.zone
        return programs.ProgramContext(pod={**pod, "status": status}, container=container,
                                       resolve=self._resolve, nameserver="10.96.0.10",
                                       search=[f"{ns}.svc.{zone}", f"svc.{zone}", zone])

    def _resolve(self, query: dns.message.Message) -> dns.message.Message:
        return self.sb.cluster_dns.resolve(query)

    def _slept(self, run: _Run, container: str, outcome) -> None:
        """A container's sleep ended: it writes what comes after and exits (or keeps running)."""
        if run.stage != "running":
            return
        if outcome.output_after_sleep:
            run.logs[container] = run.logs.get(container, "") + outcome.output_after_sleep
            with self._log_cv:
                self._log_cv.notify_all()
        if outcome.exit_code_after_sleep is not None:
            self._exited(run, {container: outcome.exit_code_after_sleep})

    def _exited(self, run: _Run, codes: dict[str, int]) -> None:
        pod = self._current(run)
        if pod is None or run.stage not in ("running",):
            return
        now = self.sb.clock.timestamp()
        policy = pod["spec"].get("restartPolicy", "Always")
        statuses = []
        for c, s in zip(pod["spec"]["containers"], pod["status"]["containerStatuses"]):
            if c["name"] in codes:
                code = codes[c["name"]]
                term = {"containerID": s.get("containerID"), "exitCode": code, "finishedAt": now,
                        "reason": "Completed" if code == 0 else "Error",
                        "startedAt": (s.get("state", {}).get("running") or {}).get("startedAt", now)}
                statuses.append({**s, "ready": False, "started": False, "state": {"terminated": term}})
            else:
                statuses.append(s)
        terminated = all("terminated" in s["state"] for s in statuses)
        failed = any(s["state"].get("terminated", {}).get("exitCode", 0) != 0 for s in statuses)
        status = deep_copy(pod["status"])
        status["containerStatuses"] = statuses
        if policy == "Always" or (policy == "OnFailure" and failed):
            # restart with back-off: CrashLoopBackOff, the same pod (RESTARTS goes up)
            run.restarts += 1
            status["containerStatuses"] = [
                {**s, "restartCount": s.get("restartCount", 0) + (1 if c["name"] in codes else 0),
                 "lastState": {"terminated": s["state"]["terminated"]} if "terminated" in s["state"] else s.get("lastState", {}),
                 "state": {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": f"back-off {10 * 2 ** (run.restarts - 1)}s restarting failed "
                                                  f"container={c['name']} pod={run.name}_{run.namespace}({run.uid})"}}
                 if c["name"] in codes else s["state"]}
                for c, s in zip(pod["spec"]["containers"], statuses)]
            status["conditions"] = self._conditions(pod, ready=False, initialized=True, reason="ContainersNotReady")
            self.sb.registry.write_status("pods", pod, status)
            run.stage = "creating"
            self.sb.engine.call_later(min(300, 10 * 2 ** (run.restarts - 1)), lambda: self._started(run))
            return
        if terminated:
            status["phase"] = "Failed" if failed else "Succeeded"
            status["conditions"] = self._conditions(pod, ready=False, initialized=True, reason="PodCompleted")
            run.stage = "exited"
        self.sb.registry.write_status("pods", pod, status)
        with self._log_cv:
            self._log_cv.notify_all()

    def _terminate(self, pod: dict, run: _Run) -> None:
        prev = run.stage
        run.stage = "terminating"
        grace = pod["metadata"].get("deletionGracePeriodSeconds", 30) or 0
        if prev in ("new", "exited"):
            delay = 0.0
        elif run.ignores_sigterm:
            delay = float(grace)
        else:
            delay = min(float(grace), self.SHUTDOWN_SECONDS)
        node = pod["spec"]["nodeName"]
        for c in pod["spec"]["containers"]:
            if prev == "running":
                self.sb.registry.record_event(pod, "Normal", "Killing", f"Stopping container {c['name']}", "kubelet", node)

        def finish() -> None:
            cur = self._current(run)
            if cur is not None:
                self.sb.registry.finish_pod(cur)
            self.ipam.release(run.ip)
            run.stage = "gone"

        self.sb.engine.call_later(delay, finish)

    # ------------------------------------------------------------------ status pieces
    def _conditions(self, pod: dict, *, ready: bool, initialized: bool, reason: str | None, message: str | None = None) -> list[dict]:
        now = self.sb.clock.timestamp()
        old = {c["type"]: c for c in pod["status"].get("conditions") or []}

        def cond(type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> dict:
            status = "True" if ok else "False"
            prev = old.get(type_)
            c = {"lastProbeTime": None,
                 "lastTransitionTime": prev["lastTransitionTime"] if prev and prev["status"] == status else now,
                 "status": status, "type": type_}
            if not ok and reason:
                c["reason"] = reason
                if message:
                    c["message"] = message
            return c

        names = " ".join(c["name"] for c in pod["spec"]["containers"])
        msg = message or (f"containers with unready status: [{names}]" if reason == "ContainersNotReady" else None)
        return [cond("Initialized", initialized), cond("Ready", ready, reason, msg),
                cond("ContainersReady", ready, reason, msg), cond("PodScheduled", True)]

    def _waiting(self, c: dict, reason: str, message: str | None = None) -> dict:
        full, _, _ = normalize_image(c["image"])
        waiting = {"reason": reason} | ({"message": message} if message else {})
        return {"image": full if reason == "ContainerCreating" else c["image"], "imageID": "", "lastState": {},
                "name": c["name"], "ready": False, "restartCount": 0, "started": False, "state": {"waiting": waiting}}

    def _running(self, c: dict, now: str) -> dict:
        full, repo, _ = normalize_image(c["image"])
        digest = hashlib.sha256(full.encode()).hexdigest()
        cid = hashlib.sha256(f"{full}/{now}/{self.sb.rng.random()}".encode()).hexdigest()
        return {"containerID": f"containerd://{cid}", "image": full, "imageID": f"{repo}@sha256:{digest}",
                "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0, "started": True,
                "state": {"running": {"startedAt": now}}}

    # ------------------------------------------------------------------ logs
    def pod_stopped(self, uid: str) -> bool:
        """True when nothing of the pod runs here: never started, or shut down."""
        run = self.runs.get(uid)
        return run is None or run.stage == "gone"

    def log_text(self, namespace: str, name: str, container: str | None) -> str:
        pod = self.sb.registry.get("pods", namespace, name)
        run = self.runs.get(pod["metadata"]["uid"])
        containers = [c["name"] for c in pod["spec"]["containers"]]
        if container is None:
            if len(containers) > 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]")
            container = containers[0]
        if container not in containers:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        for s in pod["status"].get("containerStatuses") or []:
            if s["name"] == container and "waiting" in s["state"] and not (run and run.logs.get(container)):
                reason = s["state"]["waiting"].get("reason", "ContainerCreating")
                raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        if not pod["status"].get("containerStatuses"):
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
        return run.logs.get(container, "") if run else ""

    def follow_log(self, namespace: str, name: str, container: str | None, sent: int) -> Generator[str, None, None]:
        """What a container writes after its first ``sent`` characters, as it writes it (``kubectl logs -f``).

        The pod is looked up now (a missing pod raises NotFound here); the
        iterator ends when the container stops, the pod goes, the sandbox stops
        or after an hour.
        """
        pod = self.sb.registry.get("pods", namespace, name)
        uid = pod["metadata"]["uid"]
        container = container or pod["spec"]["containers"][0]["name"]

        def follow(sent: int) -> Generator[str, None, None]:
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline and not self.sb.stopping:
                run = self.runs.get(uid)
                if run is None:
                    return
                cur = run.logs.get(container, "")
                if len(cur) > sent:
                    yield cur[sent:]
                    sent = len(cur)
                if run.stage in ("exited", "gone", "terminating", "backoff"):
                    return
                with self._log_cv:
                    self._log_cv.wait(timeout=0.25)

        return follow(sent)
