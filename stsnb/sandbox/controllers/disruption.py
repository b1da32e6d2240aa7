"""The disruption controller: every PodDisruptionBudget's status, which the eviction subresource consults.

Follows ``pkg/controller/disruption/disruption.go`` (``trySync``, ``getExpectedPodCount``,
``countHealthyPods``, ``buildDisruptedPodMap``, ``updatePdbStatus``):

* the pods are those in the budget's namespace its selector matches (an empty selector
  matches every pod since policy/v1);
* ``minAvailable`` as a number: ``expectedPods`` is the number of pods and ``desiredHealthy``
  the number given; ``maxUnavailable``, or ``minAvailable`` as a percentage, count from the
  scale of the pods' controllers (StatefulSet, Deployment through its ReplicaSet, ReplicaSet),
  percentages rounded up;
* ``currentHealthy`` counts Ready pods not being deleted, except those an eviction took
  recently (``disruptedPods``, kept until the pod is being deleted or for two minutes);
* ``disruptionsAllowed`` is ``currentHealthy - desiredHealthy`` (never below 0), with the
  condition ``DisruptionAllowed`` (``SufficientPods`` or ``InsufficientPods``).

The eviction subresource (``Registry.evict``) consumes ``disruptionsAllowed`` and records
the pod in ``disruptedPods``; this controller puts the numbers right again.
"""

from __future__ import annotations

import math

from ..core.cluster import Cluster
from ..core.store import Event
from ...k8s.selectors import selector_from_label_selector
from .common import controller_ref_of, is_pod_ready, is_terminating

__all__ = ["DisruptionController"]

DELETION_TIMEOUT = 120.0  # seconds a disrupted pod may stay undeleted before it counts again


def _scaled(value: object, total: int) -> int:
    """``GetScaledValueFromIntOrPercent`` rounding up."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value or 0)


class DisruptionController:
    """Keeps each PodDisruptionBudget's status current."""

    name = "disruption"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb

    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "poddisruptionbudgets" and ev.type != "DELETED":
            return [(meta["namespace"], meta["name"])]
        if ev.plural in ("pods", "statefulsets", "deployments", "replicasets"):
            return [(meta["namespace"], b["metadata"]["name"])
                    for b in self.sb.store.list("poddisruptionbudgets", meta["namespace"])]
        return []

    def sync(self, key) -> None:
        ns, name = key
        pdb = self.sb.store.get("poddisruptionbudgets", ns, name)
        if pdb is None:
            return
        spec = pdb.get("spec") or {}
        sel = selector_from_label_selector(spec.get("selector") or {})
        pods = [p for p in self.sb.store.list("pods", ns) if sel.matches(p["metadata"].get("labels"))]
        expected, desired = self._expected_and_desired(spec, pods)
        now = self.sb.clock.now()
        disrupted = self._disrupted(pdb, pods, now)
        healthy = sum(1 for p in pods if not is_terminating(p) and is_pod_ready(p) and p["metadata"]["name"] not in disrupted)
        allowed = max(0, healthy - desired) if expected > 0 or desired == 0 else 0
        old = pdb.get("status") or {}
        cond_old = next((c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
        ok = allowed > 0
        status_word = "True" if ok else "False"
        cond = {"type": "DisruptionAllowed", "status": status_word,
                "observedGeneration": pdb["metadata"].get("generation", 1),
                "lastTransitionTime": cond_old["lastTransitionTime"] if cond_old and cond_old.get("status") == status_word
                else self.sb.clock.timestamp(),
                "reason": "SufficientPods" if ok else "InsufficientPods", "message": ""}
        status = {"observedGeneration": pdb["metadata"].get("generation", 1)}
        if disrupted:
            status["disruptedPods"] = disrupted
        status |= {"disruptionsAllowed": allowed, "currentHealthy": healthy, "desiredHealthy": desired,
                   "expectedPods": expected, "conditions": [cond]}
        if status != old:
            self.sb.registry.write_status("poddisruptionbudgets", pdb, status)

    def _expected_and_desired(self, spec: dict, pods: list[dict]) -> tuple[int, int]:
        if "maxUnavailable" in spec and spec["maxUnavailable"] is not None:
            expected = self._controllers_scale(pods)
            return expected, max(0, expected - _scaled(spec["maxUnavailable"], expected))
        min_available = spec.get("minAvailable")
        if isinstance(min_available, str) and min_available.endswith("%"):
            expected = self._controllers_scale(pods)
            return expected, _scaled(min_available, expected)
        return len(pods), int(min_available or 0)

    def _controllers_scale(self, pods: list[dict]) -> int:
        """``getExpectedScale``: the sum of ``spec.replicas`` of the pods' distinct controllers."""
        seen: dict[str, int] = {}
        for p in pods:
            ref = controller_ref_of(p)
            if ref is None:
                continue
            ns = p["metadata"]["namespace"]
            kind = ref.get("kind")
            owner = None
            if kind == "ReplicaSet":
                rs = self.sb.store.get("replicasets", ns, ref.get("name", ""))
                dref = controller_ref_of(rs) if rs else None
                owner = self.sb.store.get("deployments", ns, dref["name"]) if dref and dref.get("kind") == "Deployment" else rs
            elif kind == "StatefulSet":
                owner = self.sb.store.get("statefulsets", ns, ref.get("name", ""))
            if owner is not None:
                seen[owner["metadata"]["uid"]] = int((owner.get("spec") or {}).get("replicas", 1))
        return sum(seen.values())

    def _disrupted(self, pdb: dict, pods: list[dict], now: float) -> dict[str, str]:
        """``buildDisruptedPodMap``: evicted pods not yet being deleted, for at most two minutes."""
        by_name = {p["metadata"]["name"]: p for p in pods}
        out = {}
        for name, stamp in ((pdb.get("status") or {}).get("disruptedPods") or {}).items():
            pod = by_name.get(name)
            if pod is None or is_terminating(pod):
                continue
            try:
                when = self.sb.clock.parse(stamp)
            except ValueError:
                continue
            if when + DELETION_TIMEOUT >= now:
                out[name] = stamp
        return out

