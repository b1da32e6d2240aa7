"""The pod status a kubelet writes, computed from what it knows of the pod's containers.

Pure functions, each after the upstream function it follows:

* :func:`pod_phase`: ``pkg/kubelet/kubelet_pods.go`` ``getPhase``;
* :func:`conditions`: ``pkg/kubelet/status/generate.go`` (``GeneratePodInitializedCondition``,
  ``GeneratePodReadyCondition`` with readiness gates, ``GenerateContainersReadyCondition``)
  and the status manager's ordering (``mergePodStatus``: conditions the kubelet does not own
  first, as they were, then its own), keeping each condition's ``lastTransitionTime`` while
  its status does not change (``updateLastTransitionTime``).

The kubelet owns ``phase``, its conditions (``Initialized``, ``Ready``, ``ContainersReady``,
``PodScheduled``, and ``PodReadyToStartContainers`` from 1.29), the IPs, ``startTime`` and the
container statuses; whatever else is in the pod's status (readiness-gate conditions written by
other controllers, ``DisruptionTarget``) is kept. Writing the whole of it from the kubelet's own
state is what reconciles a ``pods/status`` patch of, say, the Ready condition back.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["KUBELET_CONDITIONS", "pod_phase", "conditions", "go_list"]

#: ``kubetypes.PodConditionByKubelet``
KUBELET_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"})


def go_list(names: Sequence[str]) -> str:
    """Go's ``%s`` of a ``[]string``: ``[a b]``."""
    return "[" + " ".join(names) + "]"


def pod_phase(restart_policy: str, statuses: Sequence[dict], terminal: bool, init_statuses: Sequence[dict] = ()) -> str:
    """``getPhase``: the phase from the container statuses (``terminal``: the pod is being torn down for good).

    An init container still to run or running keeps the pod ``Pending``; one that failed makes it
    ``Failed`` when the policy is ``Never`` (else it is retried, and the pod stays ``Pending``).
    """
    pending_init = failed_init = 0
    for st in init_statuses:
        state = st.get("state") or {}
        last = (st.get("lastState") or {}).get("terminated")
        if "terminated" in state:
            failed_init += state["terminated"].get("exitCode") != 0
        elif "waiting" in state and last is not None:
            failed_init += last.get("exitCode") != 0
        else:
            pending_init += 1
    if failed_init and restart_policy == "Never":
        return "Failed"
    if pending_init:
        return "Pending"
    waiting = running = stopped = succeeded = unknown = 0
    for st in statuses:
        state = st.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            if state["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif "waiting" in state:
            if (st.get("lastState") or {}).get("terminated") is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if waiting > 0:
        return "Pending"
    if running > 0 and unknown == 0:
        return "Running"
    if running == 0 and stopped > 0 and unknown == 0:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def _condition(type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> dict:
    c: dict = {"type": type_, "status": "True" if ok else "False"}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _containers_ready(spec: dict, statuses: Sequence[dict], phase: str, *, terminal_reason: bool) -> dict:
    by_name = {s["name"]: s for s in statuses}
    unknown = [c["name"] for c in spec.get("containers") or [] if c["name"] not in by_name]
    unready = [c["name"] for c in spec.get("containers") or [] if c["name"] in by_name and not by_name[c["name"]].get("ready")]
    if phase == "Succeeded" and not unknown:
        return _condition("ContainersReady", False, "PodCompleted")
    if phase == "Failed" and terminal_reason:
        return _condition("ContainersReady", False, "PodFailed")
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {go_list(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {go_list(unready)}")
    if messages:
        return _condition("ContainersReady", False, "ContainersNotReady", ", ".join(messages))
    return _condition("ContainersReady", True)


def _ready(spec: dict, others: Sequence[dict], containers_ready: dict) -> dict:
    if containers_ready["status"] != "True":
        return {**containers_ready, "type": "Ready"}
    messages = []
    by_type = {c.get("type"): c for c in others}
    for gate in spec.get("readinessGates") or []:
        t = gate.get("conditionType")
        c = by_type.get(t)
        if c is None:
            messages.append(f'corresponding condition of pod readiness gate "{t}" does not exist.')
        elif c.get("status") != "True":
            messages.append(f'the status of pod readiness gate "{t}" is not "True", but {c.get("status")}')
    if messages:
        return _condition("Ready", False, "ReadinessGatesNotReady", ", ".join(messages))
    return _condition("Ready", True)


def _initialized(spec: dict, init_statuses: Sequence[dict], phase: str) -> dict:
    """``GeneratePodInitializedCondition``: True once every init container has completed (exit code 0)."""
    inits = [c["name"] for c in spec.get("initContainers") or []]
    by_name = {s["name"]: s for s in init_statuses}
    unknown = [n for n in inits if n not in by_name]
    incomplete = [n for n in inits if n in by_name and
                  ((by_name[n].get("state") or {}).get("terminated") or {}).get("exitCode", -1) != 0]
    if phase == "Succeeded" and not unknown:
        return _condition("Initialized", True, "PodCompleted")
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {go_list(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {go_list(incomplete)}")
    if messages:
        return _condition("Initialized", False, "ContainersNotInitialized", ", ".join(messages))
    return _condition("Initialized", True)


def conditions(spec: dict, current: Sequence[dict], previous: Sequence[dict], statuses: Sequence[dict], phase: str,
               now: str, *, ready_to_start: bool | None, terminal_reason: bool,
               init_statuses: Sequence[dict] = ()) -> list[dict]:
    """The pod's conditions: the ones the kubelet does not own as they are in ``current``, then its own.

    ``previous`` are the kubelet's own conditions as it last wrote them (their transition times are
    kept while the status stays); ``ready_to_start`` adds ``PodReadyToStartContainers`` (1.29+) when
    not None; ``terminal_reason`` words ContainersReady ``PodFailed`` for a failed pod (1.29+).
    """
    others = [c for c in current if c.get("type") not in KUBELET_CONDITIONS]
    scheduled = next((c for c in current if c.get("type") == "PodScheduled"), None)
    own: list[dict] = []
    if ready_to_start is not None:
        own.append(_condition("PodReadyToStartContainers", ready_to_start))
    own.append(_initialized(spec, init_statuses, phase))
    cr = _containers_ready(spec, statuses, phase, terminal_reason=terminal_reason)
    own.append(_ready(spec, others, cr))
    own.append(cr)
    own.append(_condition("PodScheduled", True))
    before = {c.get("type"): c for c in previous}
    if scheduled is not None:
        before.setdefault("PodScheduled", scheduled)
    out = list(others)
    for c in own:
        old = before.get(c["type"])
        since = old.get("lastTransitionTime") if old and old.get("status") == c["status"] else now
        out.append({"lastProbeTime": None, "lastTransitionTime": since or now, **{k: v for k, v in c.items()}})
    return [_ordered(c) for c in out]


def _ordered(c: dict) -> dict:
    """A PodCondition's fields in the Go struct's order (type, status, lastProbeTime, lastTransitionTime, reason, message)."""
    keys = ("type", "observedGeneration", "status", "lastProbeTime", "lastTransitionTime", "reason", "message")
    return {k: c[k] for k in keys if k in c} | {k: v for k, v in c.items() if k not in keys}
