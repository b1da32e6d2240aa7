"""Node lifecycle: the ``unschedulable`` taint of cordoned nodes, and eviction by ``NoExecute`` taints.

Two parts of ``pkg/controller/nodelifecycle``:

* ``TaintNodesByCondition`` (``doNoScheduleTaintingPass``): a node with
  ``spec.unschedulable: true`` (``kubectl cordon``, ``kubectl drain``) carries the taint
  ``node.kubernetes.io/unschedulable:NoSchedule``; uncordoned, it loses it;
* the taint eviction controller (``pkg/controller/tainteviction``): a pod bound to a node
  with a ``NoExecute`` taint it does not tolerate is deleted at once; one it tolerates
  for ``tolerationSeconds`` is deleted when the shortest of those runs out. Before the
  deletion the pod gets the ``DisruptionTarget`` condition (reason
  ``DeletionByTaintManager``) and the ``TaintManagerEviction`` event "Marking for
  deletion Pod <ns>/<name>".

The sandbox's kubelets never stop posting, so no node goes ``NotReady`` by itself.
"""

from __future__ import annotations

from ..apiserver.registry import deep_copy
from ..core.cluster import Cluster
from ..core.engine import Timer
from ..core.store import Event
from ...k8s.scheduling import tolerates
from .common import delete_quietly, edit

__all__ = ["NodeLifecycleController", "UNSCHEDULABLE_TAINT"]

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


class NodeLifecycleController:
    """Taints cordoned nodes and evicts pods from ``NoExecute``-tainted ones."""

    name = "nodelifecycle"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._timers: dict[str, Timer] = {}  # pod uid -> its pending eviction

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "nodes" and ev.type != "DELETED":
            return [("node", ev.obj["metadata"]["name"])]
        if ev.plural == "pods" and ev.type != "DELETED" and ev.obj["spec"].get("nodeName") and \
                not ev.obj["metadata"].get("deletionTimestamp"):
            if ev.old is None or ev.old["spec"].get("nodeName") != ev.obj["spec"].get("nodeName") or \
                    ev.old["spec"].get("tolerations") != ev.obj["spec"].get("tolerations"):
                return [("pod", ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"])]
        return []

    def sync(self, key) -> None:
        if key[0] == "node":
            node = self.sb.store.get("nodes", "", key[1])
            if node is None:
                return
            self._sync_unschedulable_taint(node)
            node = self.sb.store.get("nodes", "", key[1]) or node
            for pod in self.sb.store.list("pods"):
                if pod["spec"].get("nodeName") == key[1]:
                    self._sync_pod(pod, node)
        else:
            pod = self.sb.store.get("pods", key[1], key[2])
            if pod is not None:
                node = self.sb.store.get("nodes", "", pod["spec"]["nodeName"])
                if node is not None:
                    self._sync_pod(pod, node)

    def _sync_unschedulable_taint(self, node: dict) -> None:
        cordoned = bool((node.get("spec") or {}).get("unschedulable"))
        taints = list((node.get("spec") or {}).get("taints") or [])
        has = any(t.get("key") == UNSCHEDULABLE_TAINT and t.get("effect") == "NoSchedule" for t in taints)
        if cordoned == has:
            return

        def put(new: dict) -> None:
            rest = [t for t in new["spec"].get("taints") or [] if t.get("key") != UNSCHEDULABLE_TAINT]
            if cordoned:
                rest.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": self.sb.clock.timestamp()})
            if rest:
                new["spec"]["taints"] = rest
            else:
                new["spec"].pop("taints", None)
        edit(self.sb, "nodes", "", node["metadata"]["name"], put)

    def _sync_pod(self, pod: dict, node: dict) -> None:
        """``processPodOnNode``: evict now, after the shortest ``tolerationSeconds``, or never."""
        uid = pod["metadata"]["uid"]
        if pod["metadata"].get("deletionTimestamp"):
            return
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        tolerations = pod["spec"].get("tolerations") or []
        pending = self._timers.pop(uid, None)
        if pending is not None:
            pending.cancel()
        if not taints:
            return
        if any(not tolerates(tolerations, t) for t in taints):
            self._evict(pod)
            return
        seconds = [t.get("tolerationSeconds") for taint in taints for t in tolerations
                   if tolerates([t], taint) and t.get("tolerationSeconds") is not None]
        if seconds:
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]

            def later() -> None:
                self._timers.pop(uid, None)
                cur = self.sb.store.get("pods", ns, name)
                if cur is not None and cur["metadata"]["uid"] == uid:
                    self._evict(cur)
            self._timers[uid] = self.sb.engine.call_later(max(0.0, float(min(seconds))), later)

    def _evict(self, pod: dict) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        status = deep_copy(pod.get("status") or {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": self.sb.clock.timestamp(), "reason": "DeletionByTaintManager",
                      "message": "Taint manager: deleting due to NoExecute taint"})
        status["conditions"] = conds
        self.sb.registry.write_status("pods", pod, status)
        self.sb.registry.record_event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {ns}/{name}",
                                      "taint-eviction-controller")
        delete_quietly(self.sb, "pods", ns, name, uid=pod["metadata"]["uid"])
