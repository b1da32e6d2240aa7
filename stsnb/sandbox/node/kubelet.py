"""A simulated kubelet: runs the pods the scheduler (:mod:`.scheduler`) bound, in sandbox time.

For each pod it follows what upstream's kubelet does (``pkg/kubelet``):

* **admission**: the general predicates against the pods the node runs (here
  ``NodePorts``: a pod created with its ``nodeName`` never met the scheduler)
  may reject it: a Warning event, phase ``Failed``, reason ``NodePorts``,
  message ``Pod was rejected: …`` (``rejectPod``). Else the pod gets its
  ``startTime`` and its containers wait in ``ContainerCreating``;
* **volumes** (``WaitForAttachAndMount``): a Secret or ConfigMap volume whose
  object is missing holds the pod there, without an IP, with a ``FailedMount``
  Warning at each retry (0.5 s doubling to 2m2s) until it exists; then the pod
  gets its IPs;
* **images**, container by container in spec order (``serializeImagePulls``):
  the reference is parsed (a malformed one is ``InvalidImageName``), the pull
  policy decides whether to pull (``Always``, or an image not on the node yet:
  ``Pulling``/``Pulled`` after :attr:`Kubelet.PULL_SECONDS`; else "already
  present on machine"; ``Never`` without it: ``ErrImageNeverPull``), and an
  unresolvable reference fails (``ErrImagePull``, then ``ImagePullBackOff``,
  retried with the kubelet's back-off, 10 s doubling to 5 min). The image
  catalogue (:mod:`.images`) says what each image runs; an image it does not
  know runs as a generic long-running container, with a Normal event saying so;
* **init containers** first, one at a time, each once the one before it
  completed (``computeInitContainerActions``): meanwhile the pod is
  ``Pending``, ``Initialized`` is False ("containers with incomplete status:
  [...]") and the app containers wait in ``PodInitializing``; a failed one is
  retried with the crash-loop back-off, or fails the pod under ``Never``;
* **containers** start (``Created``/``Started``) and run their program
  (:mod:`.programs`); each start is a new *instance* with its own log
  (:mod:`.logs`). A command runs live, in sandbox time: what it does after
  ``sleep 30`` happens 30 sandbox seconds later (:meth:`Kubelet._run_program`).
  A container that exits is restarted as its restart policy
  says, with upstream's crash-loop back-off (``doBackOff``): at once the first
  time, then ``CrashLoopBackOff`` for 10 s, 20 s … capped at ``5m0s``, a
  Warning ``BackOff`` event each time; ``restartCount`` grows and
  ``lastState`` keeps the last run;
* **probes** (:mod:`.probes`): startup, readiness and liveness workers; a
  failed liveness probe restarts the container;
* **status**: the whole pod status is written from the kubelet's own state
  (:mod:`.status`), so a ``pods/status`` patch of a condition the kubelet owns
  is written back, and readiness gates are honoured;
* **termination**: a pod being deleted shows its containers stopping (not
  ready: ``0/1 Terminating``), then from 1.27 a terminal phase, then it is
  removed; a pod held by a finalizer stays until the finalizer goes.

Nothing is executed on the host. The kubelet serves the ``log`` subresource
(:meth:`Kubelet.pod_log`). Where container filesystems and processes plug in:
:meth:`Kubelet._start` (each container start gets a fresh filesystem, whatever
its image runs), :meth:`Kubelet._program_started` (a container start),
:meth:`Kubelet._probe_command` (an exec probe), the container runtime
(:mod:`.runtime`: filesystems, volume data, processes for exec and attach) and
:class:`~.probes.Prober` (what a probe finds, from the container's filesystem:
:meth:`Kubelet._container_fs`); :meth:`Kubelet.reprobe` tells the probes of a
pod that something they look at changed (an exec in it finished).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..apiserver.registry import deep_copy
from ..core import errors
from ..core.cluster import Cluster
from ..core.store import Event
from . import images
from .backoff import Backoff, go_duration
from .containers import FsError
from .logs import ContainerLogs, Instance, LogOptions
from .probes import TYPES, Prober, Worker
from .runtime import ContainerRuntime
from .scheduler import Ipam
from .status import conditions, go_list, pod_phase
from ...k8s.scheduling import host_ports_conflict

if TYPE_CHECKING:
    import dns.message

    from .programs import Outcome, ProgramContext


@dataclass
class _Container:
    """What the kubelet knows about one container of a pod."""

    spec: dict
    restart_count: int = 0
    state: dict = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict = field(default_factory=dict)
    ready: bool = False
    started: bool = False
    created: bool = False
    pull_failed: bool = False
    full_image: str = ""
    image_id: str = ""
    container_id: str = ""
    gen: int = 0  # which instance: timers of an older one are ignored
    instance: Instance | None = None
    last_instance: Instance | None = None
    ignores_sigterm: bool = False
    sigterm_code: int = 0  # its exit code when SIGTERM stops it (a JVM's is 143)
    workers: dict[str, Worker] = field(default_factory=dict)
    init: bool = False  # an init container: runs to completion before the next one, then the app containers
    env: list[tuple[str, str]] | None = None  # its environment as made at its last start (:mod:`.envvars`)
    config_failed: bool = False  # its environment could not be made (CreateContainerConfigError) at least once
    begun: bool = False  # its first start is under way (its own retries and restarts follow from there)
    ephemeral: bool = False  # added by ``kubectl debug``: runs once, never restarted, never ready
    index: int = 0  # its place in ``initContainers`` or ``containers``

    @property
    def name(self) -> str:
        return self.spec["name"]

    def status(self) -> dict:
        """The API ``ContainerStatus`` (fields in the Go struct's order)."""
        st = {"name": self.name, "state": self.state, "lastState": self.last_state, "ready": self.ready,
              "restartCount": self.restart_count, "image": self.full_image or self.spec.get("image", ""),
              "imageID": self.image_id}
        if self.container_id:
            st["containerID"] = self.container_id
        st["started"] = self.started
        return st


@dataclass
class _Run:
    """What the kubelet knows about one pod (by uid)."""

    uid: str
    namespace: str
    name: str
    node: str = ""
    stage: str = "new"  # new, rejecting, running, terminating, stopped, gone
    ip: str | None = None
    start_time: str = ""
    containers: dict[str, _Container] = field(default_factory=dict)
    conditions: list[dict] = field(default_factory=list)  # the kubelet's own, as last written
    terminal: bool = False
    logs: ContainerLogs = field(default_factory=ContainerLogs)


class Kubelet:
    """Runs pods bound to the sandbox's nodes, in sandbox time."""

    name = "kubelet"
    #: sandbox seconds for each step; a pod becomes Ready about 3 s after it is bound (the guide shows 3-4 s)
    PULL_SECONDS = 2.0
    START_SECONDS = 0.8
    #: how long a rejection at admission takes, paced by the wall clock (a background timer): a controller that
    #: re-creates a rejected pod loops, as upstream's does (kubernetes#89067, ~30 ms a round there), but at the
    #: pace of a kubelet's sync loop rather than of this process's CPU
    REJECT_SECONDS = 0.05
    #: how long a container that handles SIGTERM takes to stop
    SHUTDOWN_SECONDS = 0.6
    #: from a container's exit to the kubelet noticing it (PLEG relists every second)
    RESTART_SECONDS = 1.0

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self.runs: dict[str, _Run] = {}
        self.ipam = Ipam(sb.nodes, sb.rng)
        self.crash_backoff = Backoff()
        self.pull_backoff = Backoff()
        self.present: dict[str, set[str]] = {}  # node -> images pulled there
        self.prober = Prober(self._probe_command, self._container_fs, self._container_server)
        self.runtime = ContainerRuntime(sb)  # container filesystems, volume data, processes, the pod network

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "persistentvolumes" and ev.type == "DELETED":
            retain = (ev.obj.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Retain"
            self.runtime.pv_deleted(ev.obj["metadata"]["uid"], retain=retain)  # the volume's data goes with it
        if ev.plural == "pods":
            meta = ev.obj["metadata"]
            return [(meta["uid"], meta["namespace"], meta["name"])]
        if ev.plural in ("configmaps", "secrets"):  # the pods that mount it sync, and so see its new data
            meta, kind = ev.obj["metadata"], "configMap" if ev.plural == "configmaps" else "secret"
            return [(r.uid, r.namespace, r.name) for r in list(self.runs.values())
                    if r.namespace == meta.get("namespace") and r.stage == "running"
                    and self.runtime.mounts(r.uid, kind, meta.get("name"))]
        return []

    # ------------------------------------------------------------------ the sync loop
    def sync(self, key: tuple[str, str, str]) -> None:
        uid, ns, name = key
        run = self.runs.get(uid)
        pod = self._pod(ns, name, uid)
        if pod is None:
            if run is not None and run.stage != "gone":
                self._forget(run)
            return
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and \
                (not pod["spec"].get("nodeName") or (run is not None and run.stage == "stopped")):
            self.sb.registry.finish_pod(pod)  # its containers are gone; nothing holds it any more
            return
        if not pod["spec"].get("nodeName"):
            return
        if run is None:
            if pod["status"].get("phase") in ("Succeeded", "Failed"):
                return
            run = self.runs[uid] = _Run(uid, ns, name, pod["spec"]["nodeName"])
        if meta.get("deletionTimestamp") and run.stage in ("new", "rejecting"):
            run.stage = "stopped"  # nothing started yet: nothing to stop
            self._release(pod, run)
        elif meta.get("deletionTimestamp") and run.stage == "running":
            self._terminate(pod, run)
        elif run.stage == "new":
            self._admit(pod, run)
        elif run.stage == "running":
            self.runtime.refresh(pod)  # configMap, secret and downward API volumes follow what they project
            self._start_ephemeral(pod, run)
            self._write_status(pod, run)  # reconcile what someone else wrote over the kubelet's status
            for c in run.containers.values():
                for w in c.workers.values():
                    w.poke()

    def _pod(self, ns: str, name: str, uid: str) -> dict | None:
        pod = self.sb.store.get("pods", ns, name)
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None

    def _current(self, run: _Run) -> dict | None:
        return self._pod(run.namespace, run.name, run.uid)

    def _later(self, delay: float, run: _Run, step, *args) -> None:
        """Run ``step(pod, run, *args)`` after ``delay`` sandbox seconds, if the pod is still there and running."""
        def fire() -> None:
            pod = self._current(run)
            if pod is not None and run.stage == "running" and not pod["metadata"].get("deletionTimestamp"):
                step(pod, run, *args)
        self.sb.engine.call_later(delay, fire)

    def _event(self, pod: dict, type_: str, reason: str, message: str, run: _Run) -> None:
        self.sb.registry.record_event(pod, type_, reason, message, "kubelet", run.node)

    def _forget(self, run: _Run) -> None:
        run.stage = "gone"
        for c in run.containers.values():
            self._stop_probes(c)
            run.logs.end(c.instance, self.sb.clock.now())
        self.ipam.release(run.ip)
        self.runtime.pod_gone(run.uid)

    # ------------------------------------------------------------------ admission
    def _admit(self, pod: dict, run: _Run) -> None:
        refused = self._admission_failure(pod, run)
        if refused is not None:
            run.stage = "rejecting"

            def reject() -> None:
                cur = self._current(run)
                if cur is not None and run.stage == "rejecting":
                    self._reject(cur, run, *refused)
            self.sb.engine.call_later(self.REJECT_SECONDS, reject, background=True)
            return
        run.stage = "running"
        run.start_time = self.sb.clock.timestamp()
        inits = pod["spec"].get("initContainers") or []
        waiting = {"waiting": {"reason": "PodInitializing"}}
        run.containers = {c["name"]: _Container(c, init=True, index=i, state=dict(waiting))
                          for i, c in enumerate(inits)}
        run.containers |= {c["name"]: _Container(c, index=i, **({"state": dict(waiting)} if inits else {}))
                           for i, c in enumerate(pod["spec"]["containers"])}
        self._mount(pod, run, 0)

    #: the volume manager's retries of a mount that failed: 0.5 s doubling to 2m2s (``exponentialbackoff``)
    MOUNT_RETRY_SECONDS, MOUNT_RETRY_CAP = 0.5, 122.0

    def _mount(self, pod: dict, run: _Run, attempt: int) -> None:
        """``WaitForAttachAndMount``: a Secret or ConfigMap volume whose object is missing (and not ``optional``)
        holds the pod in ``ContainerCreating``, without an IP (no sandbox yet), a ``FailedMount`` Warning at
        each retry, until the object exists; then the pod gets its IP and its containers start."""
        missing = self._missing_volume(pod)
        if missing is not None:
            self._event(pod, "Warning", "FailedMount", missing, run)
            self._write_status(pod, run)
            delay = min(self.MOUNT_RETRY_SECONDS * 2 ** attempt, self.MOUNT_RETRY_CAP)
            self._later(delay, run, self._mount, attempt + 1)
            return
        host_network = (pod.get("spec") or {}).get("hostNetwork")  # the node's address, not one of the pod CIDR
        run.ip = self.sb.node(run.node).internal_ip if host_network else \
            self.ipam.allocate(run.node, taken=self._cluster_ip)
        self._write_status(pod, run)
        self._next_init(pod, run, 0)

    def _missing_volume(self, pod: dict) -> str | None:
        """The volume manager's message for the first Secret or ConfigMap volume whose object is not there."""
        ns = pod["metadata"]["namespace"]
        for vol in pod["spec"].get("volumes") or []:
            for key, plural, what, ref_key in (("secret", "secrets", "secret", "secretName"),
                                               ("configMap", "configmaps", "configmap", "name")):
                ref = vol.get(key)
                if ref is None or ref.get("optional"):
                    continue
                name = ref.get(ref_key) or ""
                if self.sb.store.get(plural, ns, name) is None:
                    return f'MountVolume.SetUp failed for volume "{vol.get("name")}" : {what} "{name}" not found'
        return None

    def _admission_failure(self, pod: dict, run: _Run) -> tuple[str, str] | None:
        """``canAdmitPod`` (``lifecycle/predicate.go``): the general predicates against the pods this node is
        running, as ``(reason, message)`` if one fails. The scheduler checks them too, but a pod created with its
        ``nodeName`` set never passes the scheduler; of them the sandbox checks ``NodePorts``."""
        active = (p for r in list(self.runs.values()) if r is not run and r.node == run.node
                  and r.stage in ("running", "terminating") for p in [self._current(r)] if p is not None)
        if host_ports_conflict(pod, active):  # looks at the others only when the pod wants a host port
            return "NodePorts", "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports"
        return None

    def _reject(self, pod: dict, run: _Run, reason: str, message: str) -> None:
        """``rejectPod``: a Warning event and the phase ``Failed`` with the reason; nothing of it ever starts
        (a StatefulSet re-creates such a pod, a bare pod stays Failed)."""
        self._event(pod, "Warning", reason, message, run)
        run.stage = "stopped"
        status = {"phase": "Failed", "reason": reason, "message": f"Pod was rejected: {message}"}
        if "qosClass" in (pod.get("status") or {}):
            status["qosClass"] = pod["status"]["qosClass"]
        self.sb.registry.write_status("pods", pod, status)

    def _next_init(self, pod: dict, run: _Run, index: int) -> None:
        """``computeInitContainerActions``: the init containers one at a time, each once the one before it
        completed; after the last (or without any), the app containers."""
        inits = pod["spec"].get("initContainers") or []
        if index < len(inits):
            self._begin(pod, run, run.containers[inits[index]["name"]], index)
        else:
            self._next_container(pod, run, 0)

    def _start_ephemeral(self, pod: dict, run: _Run) -> None:
        """Ephemeral containers added since the last sync (``pods/NAME/ephemeralcontainers``) start now, each
        once, once the pod's IP is there."""
        if run.ip is None:
            return
        for i, spec in enumerate(pod["spec"].get("ephemeralContainers") or []):
            if spec.get("name") not in run.containers:
                c = run.containers[spec["name"]] = _Container(spec, index=i, ephemeral=True)
                self._begin(pod, run, c, i)

    def _after_start(self, pod: dict, run: _Run, c: _Container, index: int) -> None:
        """The next app container comes up as soon as this one started (or failed to); an init container's
        successor waits until it has completed (:meth:`_exited`)."""
        if not c.init and not c.ephemeral:
            self._next_container(pod, run, index + 1)

    def _next_container(self, pod: dict, run: _Run, index: int) -> None:
        """Bring up the containers from ``index`` on, one after the other (their images first)."""
        specs = pod["spec"]["containers"]
        if index < len(specs):
            self._begin(pod, run, run.containers[specs[index]["name"]], index)

    def _begin(self, pod: dict, run: _Run, c: _Container, index: int) -> None:
        """A container's first start (never twice: a retry or restart of one follows from its own timers)."""
        if not c.begun:
            c.begun = True
            self._ensure_image(pod, run, c, index)

    # ------------------------------------------------------------------ images
    def _ensure_image(self, pod: dict, run: _Run, c: _Container, index: int) -> None:
        """``EnsureImageExists``: parse, decide by pull policy, pull (or fail), then create the container."""
        image = c.spec.get("image") or ""
        try:
            ref = images.parse(image)
        except images.InvalidReference as e:
            self._waiting(pod, run, c, "InvalidImageName", str(e))
            self._event(pod, "Warning", "InspectFailed", str(e), run)
            self._event(pod, "Warning", "Failed", "Error: InvalidImageName", run)
            self._after_start(pod, run, c, index)
            return
        policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
        present = ref.full in self.present.get(run.node, set()) and not images.unresolvable(ref)
        if policy == "Never" and not present:
            msg = f'Container image "{image}" is not present with pull policy of Never'
            self._waiting(pod, run, c, "ErrImageNeverPull", msg)
            self._event(pod, "Warning", "ErrImageNeverPull", msg, run)
            self._event(pod, "Warning", "Failed", "Error: ErrImageNeverPull", run)
            self._after_start(pod, run, c, index)
            return
        if present and policy != "Always":
            self._event(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine', run)
            self._later(0.0, run, self._create, c, ref, index, c.gen)
            return
        self._event(pod, "Normal", "Pulling", f'Pulling image "{image}"', run)
        self._later(self.PULL_SECONDS, run, self._pulled, c, ref, index, c.gen)

    def _pulled(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, index: int, gen: int) -> None:
        if gen != c.gen:
            return
        image = c.spec.get("image") or ""
        key = f"{run.uid}/{c.name}/pull"
        if images.unresolvable(ref):
            now = self.sb.clock.now()
            reason = images.pull_error(ref)
            self._waiting(pod, run, c, "ErrImagePull", reason)
            self._event(pod, "Warning", "Failed", f'Failed to pull image "{image}": {reason}', run)
            self._event(pod, "Warning", "Failed", "Error: ErrImagePull", run)
            self.pull_backoff.next(key, now)
            if not c.pull_failed:
                c.pull_failed = True
                self._after_start(pod, run, c, index)
            self._later(self.RESTART_SECONDS, run, self._pull_backoff, c, ref, index, gen, now)
            return
        self.pull_backoff.forget(key)
        self.present.setdefault(run.node, set()).add(ref.full)
        took = go_duration(self.PULL_SECONDS)
        self._event(pod, "Normal", "Pulled", f'Successfully pulled image "{image}" in {took} ({took} including waiting)', run)
        self._create(pod, run, c, ref, index, gen)

    def _pull_backoff(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, index: int, gen: int,
                      failed_at: float) -> None:
        """The next sync after a failed pull: ``ImagePullBackOff`` until the back-off is over, then pull again."""
        if gen != c.gen:
            return
        image = c.spec.get("image") or ""
        key = f"{run.uid}/{c.name}/pull"
        self._waiting(pod, run, c, "ImagePullBackOff", f'Back-off pulling image "{image}"')
        self._event(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', run)
        self._event(pod, "Warning", "Failed", "Error: ImagePullBackOff", run)
        wait = self.pull_backoff.remaining(key, failed_at, self.sb.clock.now())
        self._later(wait, run, self._retry_pull, c, index, gen)

    def _retry_pull(self, pod: dict, run: _Run, c: _Container, index: int, gen: int) -> None:
        if gen == c.gen:
            self._ensure_image(pod, run, c, index)

    # ------------------------------------------------------------------ containers
    def _create(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, index: int, gen: int) -> None:
        if gen != c.gen:
            return
        self.present.setdefault(run.node, set()).add(ref.full)
        c.full_image = ref.full
        c.image_id = f"{ref.repository}@sha256:{hashlib.sha256(ref.full.encode()).hexdigest()}"
        if not self._configure(pod, run, c, index, gen):
            return
        self._event(pod, "Normal", "Created", f"Created container {c.name}", run)
        self._later(self.START_SECONDS, run, self._start, c, ref, index, gen)

    #: how long the kubelet takes to try again a container whose environment could not be made
    CONFIG_RETRY_SECONDS = 10.0

    def _configure(self, pod: dict, run: _Run, c: _Container, index: int, gen: int) -> bool:
        """``generateContainerConfig``: the container's environment; a ConfigMap, Secret or key it needs that is
        missing is ``CreateContainerConfigError`` (a Warning event), tried again until it is there."""
        from .envvars import ConfigError
        try:
            c.env = self._container_env(pod, c.spec)
        except ConfigError as e:
            self._waiting(pod, run, c, "CreateContainerConfigError", str(e))
            self._event(pod, "Warning", "Failed", f"Error: {e}", run)
            if not c.config_failed:
                c.config_failed = True
                self._after_start(pod, run, c, index)
            self._later(self.CONFIG_RETRY_SECONDS, run, self._retry_pull, c, index, gen)
            return False
        return True

    def _container_env(self, pod: dict, container: dict) -> list[tuple[str, str]]:
        from .envvars import container_env, from_services
        ns = pod["metadata"]["namespace"]
        links = (pod.get("spec") or {}).get("enableServiceLinks", True) is not False
        services = {s["metadata"]["name"]: s for s in self.sb.store.list("services", "default")
                    if s["metadata"]["name"] == "kubernetes"}
        if links:
            services |= {s["metadata"]["name"]: s for s in self.sb.store.list("services", ns)}
        node = self.sb.store.get("nodes", "", pod["spec"].get("nodeName", "")) or {}
        return container_env(pod, container, lookup=lambda kind, name: self.sb.store.get(kind, ns, name),
                             services=from_services([services[k] for k in sorted(services)]),
                             allocatable=(node.get("status") or {}).get("allocatable") or {})

    def _start(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, index: int, gen: int) -> None:
        if gen != c.gen:
            return
        now = self.sb.clock.now()
        stamp = self.sb.clock.timestamp(now)
        if c.instance is not None:  # a restart: the instance before becomes lastState
            c.restart_count += 1
            if "terminated" in c.state:
                c.last_state = {"terminated": c.state["terminated"]}
                c.last_instance = c.instance
        c.gen += 1
        gen = c.gen
        c.container_id = "containerd://" + hashlib.sha256(f"{run.uid}/{c.name}/{gen}/{self.sb.rng.random()}".encode()).hexdigest()
        c.created = True
        c.instance = run.logs.start(c.name, c.container_id, now)
        self._event(pod, "Normal", "Started", f"Started container {c.name}", run)
        entry = images.lookup(ref)
        stamp_started = stamp
        ctx = self._program_context(pod, c.spec, run.ip)  # the start's fresh filesystem (built when first used)
        outcome = self._default_process(pod, run, c, entry)
        if outcome is not None:
            self._program_started(pod, run, c, outcome, None, stamp_started, index, gen)
            return

        from .programs import container_argv, reads_stdin
        argv = container_argv(c.spec)
        # live, in sandbox time, unless it reads what is attached (`kubectl run -i … -- sh`, `… -- mysql <<EOF`)
        if argv and not (c.spec.get("stdin") and reads_stdin(argv)):
            self._run_program(run, c, ctx, argv, stamp_started, index, gen)
            return

        def work() -> None:  # off the controller thread: a shell that may read its stdin, run once to see
            from .programs import run as run_programs
            result = run_programs(ctx)
            self._later(0.0, run, self._program_started, c, result, ctx, stamp_started, index, gen)

        self.runtime.submit(work)

    def _run_program(self, run: _Run, c: _Container, ctx: "ProgramContext", argv: list[str], stamp: str, index: int,
                     gen: int) -> None:
        """The container's command runs live, in sandbox time: ``touch /tmp/healthy; sleep 30; rm /tmp/healthy``
        removes the file 30 s after the start, and ``until nslookup mydb; do sleep 2; done`` ends once the
        Service exists. What it writes before it first sleeps (or serves, or ends) is the start's output."""
        from .programs import Outcome
        inst = c.instance

        def started(output: str, code: int | None, forever, reason: str | None) -> None:
            c.sigterm_code = forever.sigterm_code if forever else 0
            outcome = Outcome(output=output, exit_code=code, runs_forever=code is None, reason=reason,
                              ignores_sigterm=forever is None or not forever.handles_sigterm,
                              listens=forever.listens if forever else (), server=forever.server if forever else "nginx",
                              hostname=forever.hostname if forever else "")
            self._later(0.0, run, self._program_started, c, outcome, None, stamp, index, gen)

        def log(text: str) -> None:
            run.logs.write(inst, text, self.sb.clock.now())

        def serving(forever) -> None:
            self._later(0.0, run, self._program_serving, c, forever, gen)

        def exited(code: int, reason: str | None) -> None:
            self._later(0.0, run, lambda pod, r: self._exited(pod, r, c, code, gen, reason))

        self.runtime.run_program(run.uid, ctx, argv, started=started, log=log, serving=serving, exited=exited)

    def _program_serving(self, pod: dict, run: _Run, c: _Container, forever, gen: int) -> None:
        """A running program became a server after sleeping (``sleep 5; exec nginx -g 'daemon off;'``)."""
        if gen != c.gen or "running" not in c.state:
            return
        c.ignores_sigterm = not forever.handles_sigterm
        c.sigterm_code = forever.sigterm_code
        inst = c.instance
        self.runtime.started(run.uid, c.name, run.ip, forever.listens, forever.server,
                             log=lambda text: run.logs.write(inst, text, self.sb.clock.now()) if inst else None,
                             hostname=forever.hostname)

    def _program_started(self, pod: dict, run: _Run, c: _Container, outcome: "Outcome", ctx: "ProgramContext | None",
                         stamp: str, index: int, gen: int) -> None:
        """The container's process is up (or already done): its output, state, probes, then the next container."""
        if gen != c.gen:
            return
        now = self.sb.clock.now()
        c.ignores_sigterm = outcome.ignores_sigterm
        if not outcome.interactive:
            run.logs.write(c.instance, outcome.output, now)
        inst = c.instance  # what the server writes while it runs goes to this start's log
        self.runtime.started(run.uid, c.name, run.ip, outcome.listens, outcome.server,
                             log=lambda text: run.logs.write(inst, text, self.sb.clock.now()) if inst else None,
                             hostname=outcome.hostname)
        if outcome.interactive and ctx is not None:
            self._start_interactive(run, c, ctx, gen)
        c.state = {"running": {"startedAt": stamp}}
        has_startup = bool(c.spec.get("startupProbe"))
        c.started = not has_startup
        c.ready = not c.init and not c.ephemeral and not c.spec.get("readinessProbe") and not has_startup
        failed = self._run_hook(pod, run, c, "postStart") if outcome.exit_code is None else None
        if failed is not None:  # ``FailedPostStartHook``: the container is killed, and restarted as its policy says
            self._event(pod, "Warning", "FailedPostStartHook", failed, run)
            self._event(pod, "Normal", "Killing", "FailedPostStartHook", run)
            delay = self._stop_delay(pod, c)
            self._write_status(pod, run)
            self._after_start(pod, run, c, index)
            self._later(delay, run, lambda p, r: self._exited(
                p, r, c, c.sigterm_code if delay <= self.SHUTDOWN_SECONDS else 137, gen))
            return
        self._start_probes(pod, run, c)
        self._after_start(pod, run, c, index)
        if outcome.exit_code is not None:
            self._exited(pod, run, c, outcome.exit_code, gen, outcome.reason)
            return
        self._write_status(pod, run)
        if outcome.sleep_seconds:
            self._later(outcome.sleep_seconds, run, self._slept, c, outcome, gen)

    def _run_hook(self, pod: dict, run: _Run, c: _Container, which: str) -> str | None:
        """The container's ``postStart`` or ``preStop`` exec hook, run in it as an exec is (``handlers.go``):
        None when it succeeds (or there is none), else upstream's event message. It runs as an exec probe
        does (its sleeps add up, they are not waited for); ``httpGet`` and ``sleep`` hooks are not simulated
        and count as succeeding."""
        from .programs import run as run_programs
        command = [str(a) for a in ((((c.spec.get("lifecycle") or {}).get(which) or {}).get("exec") or {})
                                    .get("command") or [])]
        if not command:
            return None
        outcome = run_programs(self._program_context_for_exec(pod, {**c.spec, "command": command, "args": []}, run))
        code = outcome.exit_code if outcome.exit_code is not None else outcome.exit_code_after_sleep
        if not code:
            return None
        output = outcome.output + outcome.output_after_sleep
        message = (f'Exec lifecycle hook ({go_list(command)}) for Container "{c.name}" in Pod '
                   f'"{run.name}_{run.namespace}({run.uid})" failed - error: command \'{" ".join(command)}\' exited '
                   f"with {code}: {output}, message: {json.dumps(output, ensure_ascii=False)}")
        return message

    def _start_interactive(self, run: _Run, c: _Container, ctx: "ProgramContext", gen: int) -> None:
        """The container's shell reads its stdin: run it live (attach and ``kubectl run -it`` talk to it)."""
        from . import programs
        inst = c.instance

        def log(text: str) -> None:
            run.logs.write(inst, text, self.sb.clock.now())

        def exited(code: int, reason: str | None) -> None:
            self._later(0.0, run, lambda pod, r: self._exited(pod, r, c, code, gen, reason))

        self.runtime.start_main(run.uid, ctx, programs.container_argv(ctx.container), bool(ctx.container.get("tty")),
                                log, exited)

    def _default_process(self, pod: dict, run: _Run, c: _Container, entry: images.Entry | None) -> "Outcome | None":
        """The image's own default process when it is not a program (a server, pause, a REPL); None: run programs."""
        from .programs import Outcome
        spec = c.spec
        if spec.get("command") or (spec.get("args") and (entry is None or entry.process == "programs")):
            return None
        if entry is None:
            self._event(pod, "Normal", "GenericContainer",
                        f'Image "{spec.get("image")}" is not in the sandbox\'s image catalogue: container '
                        f"{c.name} runs as a generic long-running process (no output; it stops on SIGTERM)", run)
            return Outcome(output="", exit_code=None, runs_forever=True)
        if entry.process in ("server", "pause"):
            return Outcome(output=self._banner(entry, run), exit_code=None, runs_forever=True,
                           ignores_sigterm=not entry.sigterm)
        if entry.process == "exits" and not spec.get("stdin"):
            return Outcome(output=self._banner(entry, run), exit_code=0, runs_forever=False)
        if entry.process == "exits":
            return Outcome(output="", exit_code=None, runs_forever=True)
        return None

    def _banner(self, entry: images.Entry, run: _Run) -> str:
        when = self.sb.clock.datetime()
        return entry.banner.format(ip=run.ip or "", apache_time=when.strftime("%a %b %d %H:%M:%S.%f %Y"))

    def _program_context(self, pod: dict, container: dict, ip: str | None) -> "ProgramContext":
        """What the container sees: its pod (with the IP just given), the cluster DNS and resolv.conf."""
        from . import programs  # imported on first use: dnspython is not loaded until a container starts
        ns = pod["metadata"]["namespace"]
        status = dict(pod.get("status") or {})
        if ip:
            status["podIP"] = ip
        zone = self.sb.zone
        ctx = programs.ProgramContext(pod={**pod, "status": status}, container=container,
                                      resolve=self._resolve, nameserver="10.96.0.10",
                                      search=[f"{ns}.svc.{zone}", f"svc.{zone}", zone],
                                      network=self.runtime.connector(ip), clock=self._epoch,
                                      env=self._env_of(pod, container))
        ctx.fs = self.runtime.filesystem(pod, container, lambda: programs.new_container_fs(ctx))
        return ctx

    def _env_of(self, pod: dict, container: dict) -> list[tuple[str, str]] | None:
        """The environment the container got at its start (an exec or a probe runs with it too)."""
        run = self.runs.get(pod["metadata"]["uid"])
        c = run.containers.get(container.get("name", "")) if run else None
        return c.env if c is not None else None

    def _cluster_ip(self, ip: str) -> bool:
        """Whether a Service holds ``ip`` as its ClusterIP (the guide's pod ranges lie inside the Service range)."""
        return any((s.get("spec") or {}).get("clusterIP") == ip for s in self.sb.store.list("services"))

    def _epoch(self) -> float:
        """Sandbox time as seconds since the epoch (what ``date`` in a container prints)."""
        return self.sb.clock.datetime().timestamp()

    def _resolve(self, query: "dns.message.Message") -> "dns.message.Message":
        return self.sb.cluster_dns.resolve(query)

    def _slept(self, pod: dict, run: _Run, c: _Container, outcome: "Outcome", gen: int) -> None:
        """A container's sleep ended: it writes what comes after and exits (or keeps running)."""
        if gen != c.gen or "running" not in c.state:
            return
        run.logs.write(c.instance, outcome.output_after_sleep, self.sb.clock.now())
        if outcome.exit_code_after_sleep is not None:
            self._exited(pod, run, c, outcome.exit_code_after_sleep, gen)

    # ------------------------------------------------------------------ exits and restarts
    def _exited(self, pod: dict, run: _Run, c: _Container, code: int, gen: int, reason: str | None = None) -> None:
        if gen != c.gen or "running" not in c.state:
            return
        now = self.sb.clock.now()
        self._stop_probes(c)
        message = self._termination_message(run, c, code)
        self.runtime.container_stopped(run.uid, c.name)
        run.logs.end(c.instance, now)
        c.state = {"terminated": {"exitCode": code, "reason": reason or ("Completed" if code == 0 else "Error"),
                                  **({"message": message} if message else {}),
                                  "startedAt": c.state["running"]["startedAt"],
                                  "finishedAt": self.sb.clock.timestamp(now), "containerID": c.container_id}}
        c.ready = c.init and code == 0  # a completed init container counts as ready
        c.started = False
        self._write_status(pod, run)
        if c.init and code == 0:
            self._next_init(pod, run, c.index + 1)
        elif not c.ephemeral and self._restarts(pod, code, c.init):
            self._later(self.RESTART_SECONDS, run, self._restart, c, gen, now)

    #: ``MaxContainerTerminationMessageLength``, and the log fallback's ``…LogLines`` and ``…LogLength``
    TERMINATION_MESSAGE_BYTES, FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES = 4096, 80, 2048

    def _termination_message(self, run: _Run, c: _Container, code: int) -> str:
        """``getTerminationMessage``: the last 4 KiB of the file at ``terminationMessagePath``; with
        ``FallbackToLogsOnError``, a failed container that wrote none gets its log's last 80 lines (2 KiB)."""
        path = c.spec.get("terminationMessagePath") or ""
        fs = self.runtime.container_fs(run.uid, c.name) if path else None
        data = b""
        if fs is not None:
            try:
                data = fs.read(path)[-self.TERMINATION_MESSAGE_BYTES:]
            except FsError:  # not there: the container never wrote it
                data = b""
        if not data and code != 0 and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError" and c.instance:
            tail = "".join(text for _, text in c.instance.lines[-self.FALLBACK_LOG_LINES:])
            return tail.encode()[-self.FALLBACK_LOG_BYTES:].decode("utf-8", "replace")
        return data.decode("utf-8", "replace")

    @staticmethod
    def _restarts(pod: dict, code: int, init: bool = False) -> bool:
        """Whether an exit restarts the container; a failed init container is retried unless the policy is Never."""
        policy = pod["spec"].get("restartPolicy", "Always")
        if init:
            return policy != "Never" and code != 0
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    def _restart(self, pod: dict, run: _Run, c: _Container, gen: int, finished: float) -> None:
        """``doBackOff``: restart at once after a first exit, else ``CrashLoopBackOff`` until the back-off is over."""
        crash_looping = (c.state.get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        if gen != c.gen or not ("terminated" in c.state or crash_looping):
            return
        key = f"{run.uid}/{c.name}"
        now = self.sb.clock.now()
        if self.crash_backoff.in_backoff_since(key, finished, now):
            message = (f"back-off {go_duration(self.crash_backoff.get(key))} restarting failed container={c.name} "
                       f"pod={run.name}_{run.namespace}({run.uid})")
            if "waiting" not in c.state:
                c.last_state = {"terminated": c.state["terminated"]}
                c.last_instance = c.instance
            c.state = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
            self._write_status(pod, run)
            self._event(pod, "Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod "
                                                   f"{run.name}_{run.namespace}({run.uid})", run)
            self._later(self.crash_backoff.remaining(key, finished, now), run, self._restart, c, gen, finished)
            return
        self.crash_backoff.next(key, finished)
        self._ensure_image_for_restart(pod, run, c, c.index)

    def _ensure_image_for_restart(self, pod: dict, run: _Run, c: _Container, index: int) -> None:
        ref = images.parse(c.spec.get("image") or "")
        policy = c.spec.get("imagePullPolicy") or "IfNotPresent"
        if policy == "Always":
            self._event(pod, "Normal", "Pulling", f'Pulling image "{c.spec.get("image")}"', run)
            self._later(self.PULL_SECONDS, run, self._pulled_for_restart, c, ref, c.gen)
        else:
            self._event(pod, "Normal", "Pulled", f'Container image "{c.spec.get("image")}" already present on machine', run)
            self._restart_create(pod, run, c, ref, c.gen)

    def _pulled_for_restart(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, gen: int) -> None:
        if gen == c.gen:
            took = go_duration(self.PULL_SECONDS)
            self._event(pod, "Normal", "Pulled", f'Successfully pulled image "{c.spec.get("image")}" in {took} '
                                                 f"({took} including waiting)", run)
            self._restart_create(pod, run, c, ref, gen)

    def _restart_create(self, pod: dict, run: _Run, c: _Container, ref: images.Reference, gen: int) -> None:
        if not self._configure(pod, run, c, c.index, gen):
            return
        self._event(pod, "Normal", "Created", f"Created container {c.name}", run)
        self._later(self.START_SECONDS, run, self._start, c, ref, len(pod["spec"]["containers"]), gen)

    # ------------------------------------------------------------------ probes
    def _start_probes(self, pod: dict, run: _Run, c: _Container) -> None:
        for kind in TYPES:
            spec = c.spec.get(f"{kind}Probe")
            if not spec or (kind != "startup" and c.spec.get("startupProbe")):
                continue
            self._start_worker(run, c, kind, spec, c.gen)

    def _start_worker(self, run: _Run, c: _Container, kind: str, spec: dict, gen: int) -> None:
        def evaluate() -> tuple[bool, str]:
            pod = self._current(run)
            if pod is None:
                return True, ""
            return self.prober.probe(kind, pod, c.spec, run.ip)

        def report(k: str, ok: bool) -> None:
            pod = self._current(run)
            if pod is None or gen != c.gen or run.stage != "running":
                return
            self._probe_result(pod, run, c, k, ok, gen)

        def unhealthy(k: str, message: str) -> None:
            pod = self._current(run)
            if pod is not None and gen == c.gen and run.stage == "running":
                self._event(pod, "Warning", "Unhealthy", message, run)

        w = Worker(kind, spec, self.sb.engine.call_later, evaluate, report, unhealthy)
        c.workers[kind] = w
        w.start()

    def _probe_result(self, pod: dict, run: _Run, c: _Container, kind: str, ok: bool, gen: int) -> None:
        if kind == "readiness":
            c.ready = ok
            self._write_status(pod, run)
        elif kind == "startup" and ok:
            c.workers.pop("startup").stop()
            c.started = True
            c.ready = not c.spec.get("readinessProbe")
            for k in ("readiness", "liveness"):
                if c.spec.get(f"{k}Probe"):
                    self._start_worker(run, c, k, c.spec[f"{k}Probe"], gen)
            self._write_status(pod, run)
        elif kind in ("liveness", "startup") and not ok:
            what = "liveness" if kind == "liveness" else "startup"
            self._event(pod, "Normal", "Killing", f"Container {c.name} failed {what} probe, will be restarted", run)
            self._stop_probes(c)
            delay = self._stop_delay(pod, c)
            self._later(delay, run, lambda p, r: self._exited(
                p, r, c, c.sigterm_code if delay <= self.SHUTDOWN_SECONDS else 137, gen))

    def _stop_probes(self, c: _Container) -> None:
        for w in c.workers.values():
            w.stop()
        c.workers.clear()

    def reprobe(self, uid: str) -> None:
        """Something a pod's probes look at changed (a file, a process): probe again soon if it matters."""
        run = self.runs.get(uid)
        if run is not None:
            for c in run.containers.values():
                for w in list(c.workers.values()):
                    w.poke()

    def _container_fs(self, pod: dict, container: dict):
        """The filesystem of the container's current start, which its probes look at (None before its first)."""
        return self.runtime.container_fs(pod["metadata"]["uid"], container.get("name", ""))

    def _container_server(self, pod: dict, container: dict):
        """``(ports, server)`` of the container's running program when it serves with a server of its own."""
        return self.runtime.own_server(pod["metadata"]["uid"], container.get("name", ""))

    def _probe_command(self, pod: dict, container: dict, command: list[str]) -> tuple[int | None, str]:
        """An exec probe's command, run in the container: ``(exit code or None if still running, output)``."""
        from .programs import run as run_programs
        run = self.runs.get(pod["metadata"]["uid"])
        spec = {**container, "command": command, "args": []}
        if run is None:
            return None, "the pod is not running here"
        outcome = run_programs(self._program_context_for_exec(pod, spec, run))  # in the container's own filesystem
        timeout = float((container.get("readinessProbe") or {}).get("timeoutSeconds") or 1)
        if outcome.exit_code is None:
            if outcome.sleep_seconds and outcome.sleep_seconds <= timeout and outcome.exit_code_after_sleep is not None:
                return outcome.exit_code_after_sleep, outcome.output + outcome.output_after_sleep
            return None, outcome.output
        return outcome.exit_code, outcome.output

    # ------------------------------------------------------------------ termination
    def _stop_delay(self, pod: dict, c: _Container) -> float:
        grace = pod["metadata"].get("deletionGracePeriodSeconds")
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        if "running" not in c.state:
            return 0.0
        return float(grace) if c.ignores_sigterm else min(float(grace or 0), self.SHUTDOWN_SECONDS)

    def _terminate(self, pod: dict, run: _Run) -> None:
        """``killPod``: SIGTERM every running container, wait for them (at most the grace period), then finish."""
        run.stage = "terminating"
        delay = 0.0
        for c in run.containers.values():
            self._stop_probes(c)
            if "running" in c.state:
                failed = self._run_hook(pod, run, c, "preStop")  # before SIGTERM, within the grace period
                if failed is not None:
                    self._event(pod, "Warning", "FailedPreStopHook", failed, run)
                self._event(pod, "Normal", "Killing", f"Stopping container {c.name}", run)
                delay = max(delay, self._stop_delay(pod, c))

        def stopped() -> None:
            cur = self._current(run)
            if cur is None:
                self._forget(run)
                return
            self._containers_stopped(cur, run, delay)

        self.sb.engine.call_later(delay, stopped)

    def _containers_stopped(self, pod: dict, run: _Run, waited: float) -> None:
        """The containers are down: show them stopped (``0/N Terminating``), then the terminal phase, then go."""
        now = self.sb.clock.now()
        stamp = self.sb.clock.timestamp(now)
        terminal = self.sb.profile.minor >= 27  # kubernetes#115331: deleted pods reach a terminal phase first
        for c in run.containers.values():
            if "running" in c.state:
                killed = c.ignores_sigterm and waited > self.SHUTDOWN_SECONDS
                code = 137 if killed else c.sigterm_code
                c.state = {"terminated": {"exitCode": code, "reason": "Error" if code else "Completed",
                                          "startedAt": c.state["running"]["startedAt"], "finishedAt": stamp,
                                          "containerID": c.container_id}}
            elif "waiting" in c.state and terminal:  # status manager TerminatePod
                c.state = {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                                          "message": "The container could not be located when the pod was terminated",
                                          "startedAt": None, "finishedAt": None}}
            c.ready = False
            c.started = False
            run.logs.end(c.instance, now)
        self._write_status(pod, run)
        if terminal:
            run.terminal = True
            self._write_status(self._current(run) or pod, run)
        run.stage = "stopped"
        self.runtime.pod_stopped(run.uid)
        cur = self._current(run)
        if cur is not None:
            self._release(cur, run)

    def _release(self, pod: dict, run: _Run) -> None:
        """The pod's containers are gone: remove it, or (held by a finalizer) mark the kubelet's final delete."""
        self.ipam.release(run.ip)
        if pod["metadata"].get("finalizers"):
            if pod["metadata"].get("deletionGracePeriodSeconds") != 0:  # the kubelet deletes with grace 0
                new = deep_copy(pod)
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                self.sb.registry.replace("pods", new)
            return
        self.sb.registry.finish_pod(pod)

    # ------------------------------------------------------------------ status
    def _waiting(self, pod: dict, run: _Run, c: _Container, reason: str, message: str | None = None) -> None:
        c.state = {"waiting": {"reason": reason} | ({"message": message} if message else {})}
        c.ready = False
        self._write_status(pod, run)

    def _write_status(self, pod: dict, run: _Run) -> None:
        """Write the pod's status as the kubelet sees it (and so undo edits of what it owns)."""
        cur = self._current(run) or pod
        status = self._status(cur, run)
        if status != cur.get("status"):
            self.sb.registry.write_status("pods", cur, status)

    def _status(self, pod: dict, run: _Run) -> dict:
        old = pod.get("status") or {}
        statuses = [run.containers[c["name"]].status() for c in pod["spec"]["containers"] if c["name"] in run.containers]
        inits = [run.containers[c["name"]].status() for c in pod["spec"].get("initContainers") or []
                 if c["name"] in run.containers]
        phase = pod_phase(pod["spec"].get("restartPolicy", "Always"), statuses, run.terminal, inits)
        now = self.sb.clock.timestamp()
        minor = self.sb.profile.minor
        conds = conditions(pod["spec"], old.get("conditions") or [], run.conditions, statuses, phase, now,
                           ready_to_start=(run.ip is not None) if minor >= 29 else None, terminal_reason=minor >= 29,
                           init_statuses=inits)
        run.conditions = [c for c in conds if c["type"] in ("PodReadyToStartContainers", "Initialized", "Ready",
                                                            "ContainersReady", "PodScheduled")]
        host = self.sb.node(run.node).internal_ip
        status: dict = {"phase": phase, "conditions": conds, "hostIP": host}
        if minor >= 29:  # KEP-2681: PodHostIPs, alpha (off) in 1.28, beta (on) in 1.29
            status["hostIPs"] = [{"ip": host}]
        if run.ip:
            status["podIP"] = run.ip
            status["podIPs"] = [{"ip": run.ip}]
        status["startTime"] = run.start_time
        if pod["spec"].get("initContainers"):
            status["initContainerStatuses"] = inits
        status["containerStatuses"] = statuses
        if "qosClass" in old:
            status["qosClass"] = old["qosClass"]
        ephemeral = [run.containers[c["name"]].status() for c in pod["spec"].get("ephemeralContainers") or []
                     if c["name"] in run.containers]
        if ephemeral:
            status["ephemeralContainerStatuses"] = ephemeral
        for key in ("nominatedNodeName", "reason", "message"):
            if key in old and key not in status:
                status[key] = old[key]
        return status

    # ------------------------------------------------------------------ what others ask
    def pod_stopped(self, uid: str) -> bool:
        """True when nothing of the pod runs here: never started, or shut down."""
        run = self.runs.get(uid)
        return run is None or run.stage in ("stopped", "gone")

    def pod_log(self, namespace: str, name: str, query: dict[str, str]) -> str | Iterator[str]:
        """``GET pods/NAME/log``: the text, or with ``follow`` an iterator of it as it is written (see :mod:`.logs`)."""
        pod = self.sb.registry.get("pods", namespace, name)
        opts, follow = self._log_options(name, query)
        container = self._log_container(pod, query.get("container"))
        run = self.runs.get(pod["metadata"]["uid"])
        inst = self._log_instance(pod, run, container, opts.previous)
        epoch = self.sb.clock.datetime(0)
        text, sent = ContainerLogs.select(inst, opts, epoch)
        if not follow or inst.ended:
            return text
        logs = run.logs  # type: ignore[union-attr]

        def stream() -> Iterator[str]:
            yield text
            yield from logs.follow(inst, sent, opts, epoch, lambda: self.sb.stopping)
        return stream()

    def _log_options(self, name: str, q: dict[str, str]) -> tuple[LogOptions, bool]:
        """``ValidatePodLogOptions`` and the conversion of the query."""
        def number(key: str, minimum: int) -> int | None:
            if not q.get(key):
                return None
            try:
                value = int(q[key])
            except ValueError:
                raise errors.bad_request(f'invalid {key}: strconv.ParseInt: parsing "{q[key]}": invalid syntax') from None
            if value < minimum:
                raise errors.invalid("PodLogOptions", "", name, [
                    (key, "FieldValueInvalid", f"Invalid value: {value}: must be greater than {minimum - 1}")])
            return value
        tail, limit, since_s = number("tailLines", 0), number("limitBytes", 1), number("sinceSeconds", 1)
        since = None
        if since_s is not None and q.get("sinceTime"):
            raise errors.invalid("PodLogOptions", "", name, [
                ("", "FieldValueForbidden", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")])
        if since_s is not None:
            since = self.sb.clock.now() - since_s
        elif q.get("sinceTime"):
            try:
                since = self.sb.clock.parse(q["sinceTime"])
            except ValueError:
                raise errors.bad_request(f"invalid sinceTime: {q['sinceTime']!r}") from None
        truthy = ("true", "1")
        return LogOptions(previous=q.get("previous") in truthy, timestamps=q.get("timestamps") in truthy,
                          since=since, tail_lines=tail, limit_bytes=limit), q.get("follow") in truthy

    @staticmethod
    def _log_container(pod: dict, container: str | None) -> str:
        name = pod["metadata"]["name"]
        names = [c["name"] for c in pod["spec"]["containers"]]
        inits = [c["name"] for c in pod["spec"].get("initContainers") or []]
        ephemeral = [c["name"] for c in pod["spec"].get("ephemeralContainers") or []]
        if container is None:
            if len(names) > 1:
                more = f" or one of the init containers: {go_list(inits)}" if inits else ""
                raise errors.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: {go_list(names)}{more}")
            return names[0]
        if container not in names and container not in inits and container not in ephemeral:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        return container

    @staticmethod
    def _log_instance(pod: dict, run: _Run | None, container: str, previous: bool) -> Instance:
        """``validateContainerLogStatus``: which instance's log, or upstream's error."""
        name = pod["metadata"]["name"]
        c = run.containers.get(container) if run else None
        if previous:
            if c is None or c.last_instance is None:
                raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            return c.last_instance
        if c is not None and ("running" in c.state or "terminated" in c.state) and c.instance is not None:
            return c.instance
        if c is not None and c.last_instance is not None:
            return c.last_instance
        waiting = ((c.state if c else {}).get("waiting") or {}).get("reason", "ContainerCreating")
        detail = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(waiting, waiting)
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {detail}')

    # ------------------------------------------------------------------ exec, attach, port-forward
    def check_running(self, namespace: str, name: str, container: str) -> tuple[dict, _Run, dict]:
        """The pod, its run and the container spec, if the container is running; else the kubelet's refusal."""
        pod = self.sb.registry.get("pods", namespace, name)
        run = self.runs.get(pod["metadata"]["uid"])
        spec = next((c for key in ("containers", "initContainers", "ephemeralContainers")
                     for c in pod["spec"].get(key) or [] if c["name"] == container), None)
        status = pod.get("status") or {}
        state = next((s.get("state") or {} for key in ("containerStatuses", "initContainerStatuses",
                                                       "ephemeralContainerStatuses")
                      for s in status.get(key) or [] if s.get("name") == container), {})
        if spec is None or run is None or run.stage not in ("running",) or "running" not in state:
            raise errors.bad_request(f'unable to upgrade connection: container not found ("{container}")')
        return pod, run, spec

    def exec(self, namespace: str, name: str, container: str, command: list[str], *, tty: bool, stdin: bool,
             on_output, on_exit):
        """Start ``command`` in a running container (``kubectl exec``); the process is returned started.

        When it ends, the pod's probes look again (:meth:`reprobe`) before the client hears the exit code:
        a command that moved a probed file away makes the pod unready promptly, as a waiting client expects.
        """
        pod, run, spec = self.check_running(namespace, name, container)
        ctx = self._program_context_for_exec(pod, spec, run)
        uid = run.uid

        def exited(code: int, reason: str | None) -> None:
            self.sb.engine.call_later(0.0, lambda: self.reprobe(uid))  # on the engine thread, as probes run
            on_exit(code, reason)

        return self.runtime.exec(uid, ctx, command, tty, stdin, on_output, exited)

    def attach(self, namespace: str, name: str, container: str, on_output):
        """Join the streams of a running container's main process (``kubectl attach``, ``kubectl run -it``)."""
        pod, run, _ = self.check_running(namespace, name, container)
        return self.runtime.attach(run.uid, container, on_output)

    def container_running(self, uid: str, container: str) -> bool:
        run = self.runs.get(uid)
        if run is None or run.stage != "running":
            return False
        pod = self._current(run)
        return pod is not None and any(s.get("name") == container and "running" in (s.get("state") or {})
                                       for s in (pod.get("status") or {}).get("containerStatuses") or [])

    def http_request(self, ip: str, port: int, method: str, target: str, headers: list[tuple[str, str]],
                     body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP request to ``ip:port`` through the pod network (the API server's ``proxy`` subresource)."""
        from .network import HttpRequest, Refused
        try:
            server = self.runtime.network.connect(ip, port)
        except Refused:
            raise ConnectionRefusedError(f"dial tcp {ip}:{port}: connect: connection refused") from None
        answer = server(HttpRequest(method, target, list(headers), body))
        return answer.status, answer.headers, answer.body

    def port_forward(self, namespace: str, name: str, port: int, send, close):
        """A TCP connection to ``port`` of the pod (``kubectl port-forward``): feed it bytes, get bytes back."""
        pod = self.sb.registry.get("pods", namespace, name)
        run = self.runs.get(pod["metadata"]["uid"])
        if run is None or run.stage != "running":
            raise errors.bad_request(f"unable to upgrade connection: pod {name} is not running")
        return self.runtime.port_forward(run.uid, port, send, close)

    def _program_context_for_exec(self, pod: dict, container: dict, run: _Run):
        from . import programs
        zone, ns = self.sb.zone, pod["metadata"]["namespace"]
        ctx = programs.ProgramContext(pod=pod, container=container, resolve=self._resolve, nameserver="10.96.0.10",
                                      search=[f"{ns}.svc.{zone}", f"svc.{zone}", zone],
                                      network=self.runtime.connector(run.ip), clock=self._epoch,
                                      env=self._env_of(pod, container))
        ctx.fs = self.runtime.state(run.uid).fs.get(container["name"])
        return ctx
