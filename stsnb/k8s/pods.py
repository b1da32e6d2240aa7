"""Pod facts as Kubernetes states them, shared by the sandbox's printers and the lab's tables.

:func:`pod_summary` is kubectl's STATUS/READY/RESTARTS logic (printers.go
``printPod``); the other functions read the labels and references that the
StatefulSet and ReplicaSet controllers write (``kubernetes/api: apps/v1/types.go``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from .ages import parse_time

__all__ = ["PodSummary", "pod_summary", "pod_status", "pod_ready", "pod_owner", "pod_ordinal", "pod_revision",
           "is_terminating", "REVISION_LABEL", "POD_NAME_LABEL", "POD_INDEX_LABEL", "TEMPLATE_HASH_LABEL"]

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
TEMPLATE_HASH_LABEL = "pod-template-hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")  # stateful_set_utils.go statefulPodRegex


@dataclass(frozen=True)
class PodSummary:
    """What ``kubectl get pod`` derives from a pod: READY ``ready/total``, STATUS ``reason``, RESTARTS."""

    ready: int
    total: int
    reason: str
    restarts: int
    last_restart: datetime | None


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _is_restartable_init_container(container: Mapping[str, Any] | None) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always``."""
    return bool(container) and container.get("restartPolicy") == "Always"


def _last_finished(status: Mapping[str, Any]) -> datetime | None:
    terminated = (status.get("lastState") or {}).get("terminated")
    return None if terminated is None else parse_time(terminated.get("finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or current < candidate else current


def _has_condition(status: Mapping[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


def _terminated_reason(terminated: Mapping[str, Any], prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + terminated["reason"]
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _init_reason(spec: Mapping[str, Any], status: Mapping[str, Any], acc: dict) -> str | None:
    """The ``Init:…`` status while init containers run (None once they are done); counts into ``acc``."""
    init_containers = list(spec.get("initContainers") or [])
    by_name = {c.get("name"): c for c in init_containers}
    for i, container in enumerate(status.get("initContainerStatuses") or []):
        acc["restarts"] += int(container.get("restartCount", 0))
        acc["last"] = _later(acc["last"], _last_finished(container))
        restartable = _is_restartable_init_container(by_name.get(container.get("name")))
        if restartable:
            acc["sidecar_restarts"] += int(container.get("restartCount", 0))
            acc["sidecar_last"] = _later(acc["sidecar_last"], _last_finished(container))
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if restartable and container.get("started") is True:
            acc["ready"] += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            return _terminated_reason(terminated, "Init:")
        if waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            return "Init:" + waiting["reason"]
        return f"Init:{i}/{len(init_containers)}"
    return None


def pod_summary(pod: Mapping[str, Any], *, finished_not_terminating: bool = True) -> PodSummary:
    """printers.go ``printPod``'s READY, STATUS and RESTARTS.

    Args:
        finished_not_terminating: a deleted pod that already Succeeded or Failed keeps its phase's
            status instead of ``Terminating`` (newer kubectl; the sandbox passes its profile's answer).
    """
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if _is_restartable_init_container(c))
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    acc: dict[str, Any] = {"restarts": 0, "last": None, "sidecar_restarts": 0, "sidecar_last": None, "ready": 0}
    init_reason = _init_reason(spec, status, acc)
    restarts, last_restart, ready = acc["restarts"], acc["last"], acc["ready"]
    if init_reason is not None:
        reason = init_reason
    if init_reason is None or _has_condition(status, "Initialized"):
        restarts, last_restart = acc["sidecar_restarts"], acc["sidecar_last"]
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += int(container.get("restartCount", 0))
            last_restart = _later(last_restart, _last_finished(container))
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated)
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:  # back to Running while a container still runs
            reason = "Running" if _has_condition(status, "Ready") else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and (phase not in ("Succeeded", "Failed") or not finished_not_terminating):
        reason = "Terminating"
    return PodSummary(ready, total, reason, restarts, last_restart)


def pod_status(pod: Mapping[str, Any]) -> str:
    """kubectl's STATUS column for a pod (``Running``, ``ContainerCreating``, ``Terminating`` …)."""
    return pod_summary(pod).reason or "Pending"


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """Whether the pod's Ready condition is True (``podutil.IsPodReady``)."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def pod_owner(pod: Mapping[str, Any]) -> dict | None:
    """The controller ownerReference (``{"kind": "StatefulSet", "name": …}``), or None."""
    for ref in _meta(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def pod_ordinal(pod: Mapping[str, Any]) -> int | None:
    """A StatefulSet pod's ordinal: its ``apps.kubernetes.io/pod-index`` label, else its name's suffix."""
    meta = _meta(pod)
    labels = meta.get("labels") or {}
    idx = labels.get(POD_INDEX_LABEL)
    if idx is not None and str(idx).isdigit():
        return int(idx)
    owner = pod_owner(pod)
    name = meta.get("name", "")
    m = _ORDINAL.match(name)
    if owner and owner.get("kind") == "StatefulSet":
        return int(m.group(2)) if m and m.group(1) == owner.get("name") else None
    if owner is None and POD_NAME_LABEL in labels:
        return int(m.group(2)) if m else None
    return None


def pod_revision(pod: Mapping[str, Any]) -> str | None:
    """The ``controller-revision-hash`` (StatefulSet) or ``pod-template-hash`` (Deployment) label."""
    labels = _meta(pod).get("labels") or {}
    return labels.get(REVISION_LABEL) or labels.get(TEMPLATE_HASH_LABEL)
