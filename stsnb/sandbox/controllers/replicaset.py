"""The ReplicaSet controller: as many pods as ``spec.replicas``, named ``<rs>-<5 chars>``.

Follows ``kubernetes/kubernetes:pkg/controller/replicaset/replica_set.go``
(``syncReplicaSet``, ``manageReplicas``, ``getPodsToDelete``),
``replica_set_utils.go`` (``calculateStatus``) and
``pkg/controller/controller_utils.go`` (``GetPodFromTemplate``, ``ActivePodsWithRanks``).

Pods are created with ``metadata.generateName: "<rs>-"``, so the API server (the
sandbox's registry) appends five characters from apimachinery's alphabet. Orphan
pods that match the selector are adopted; owned pods whose labels stop matching
are released, as ``ClaimPods`` does. A ReplicaSet that is being deleted only
reports status.
"""

from __future__ import annotations


from ..core import errors
from ..core.cluster import Cluster
from ..apiserver.registry import deep_copy
from ...k8s.selectors import selector_from_label_selector
from ..core.store import Event
from .ref_manager import adopt, owners_to_sync, release
from .common import (controller_ref_of, controlled_by, is_pod_active, is_pod_available, is_pod_ready,
                     is_terminating, new_controller_ref, ready_since)

COMPONENT = "replicaset-controller"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def pod_from_template(rs: dict) -> dict:
    """``GetPodFromTemplate``: labels, annotations and finalizers of the template, a controller reference."""
    tpl = rs["spec"].get("template") or {}
    tmeta = tpl.get("metadata") or {}
    meta: dict = {"generateName": f"{rs['metadata']['name']}-", "namespace": rs["metadata"]["namespace"]}
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    meta["ownerReferences"] = [new_controller_ref(rs)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": deep_copy(tpl.get("spec") or {})}


class ReplicaSetController:
    """Creates and deletes pods so that each ReplicaSet has ``spec.replicas`` active ones."""

    name = "replicaset"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._requeue_at: dict[tuple[str, str], float] = {}

    # ------------------------------------------------------------------ wiring
    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "replicasets":
            return [(meta["namespace"], meta["name"])]
        if ev.plural != "pods":
            return []
        return owners_to_sync(self.sb, ev, "ReplicaSet", "replicasets")

    # ------------------------------------------------------------------ sync
    def sync(self, key) -> None:
        ns, name = key
        rs = self.sb.store.get("replicasets", ns, name)
        if rs is None:
            self._requeue_at.pop(key, None)
            return
        owned = self._claim_pods(rs)
        active = [p for p in owned if is_pod_active(p)]
        if not is_terminating(rs):
            self._manage_replicas(rs, active)
            rs = self.sb.store.get("replicasets", ns, name) or rs
            owned = [p for p in self.sb.store.list("pods", ns) if controlled_by(p, rs)]
            active = [p for p in owned if is_pod_active(p)]
        status = self._calculate_status(rs, active)
        self.sb.registry.write_status("replicasets", rs, status)
        self._requeue_for_availability(key, rs, active)

    def _claim_pods(self, rs: dict) -> list[dict]:
        """``ClaimPods``: adopt matching orphans, release owned pods that no longer match."""
        ns = rs["metadata"]["namespace"]
        sel = selector_from_label_selector(rs["spec"].get("selector"))
        owned = []
        for p in self.sb.store.list("pods", ns):
            ref = controller_ref_of(p)
            labels = p["metadata"].get("labels") or {}
            if ref is not None and ref.get("uid") == rs["metadata"]["uid"]:
                if sel.matches(labels) or is_terminating(rs):
                    owned.append(p)
                else:
                    release(self.sb, rs, "pods", p)
            elif ref is None and sel.matches(labels) and not is_terminating(rs) and not is_terminating(p):
                adopted = adopt(self.sb, rs, "replicasets", "pods", p)
                if adopted is not None:
                    owned.append(adopted)
        return owned

    # ------------------------------------------------------------------ replicas
    def _manage_replicas(self, rs: dict, active: list[dict]) -> None:
        """``manageReplicas``: create the missing pods, or delete the surplus, ranked."""
        diff = len(active) - int(rs["spec"].get("replicas", 1) or 0)
        reg = self.sb.registry
        ns = rs["metadata"]["namespace"]
        if diff < 0:
            for _ in range(-diff):
                try:
                    pod, _ = reg.create("pods", ns, pod_from_template(rs))
                except errors.ApiError as e:
                    reg.record_event(rs, "Warning", "FailedCreate", f"Error creating: {e.message}", COMPONENT)
                    return
                reg.record_event(rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                 COMPONENT)
        elif diff > 0:
            for pod in self._pods_to_delete(active, diff):
                try:
                    reg.delete("pods", ns, pod["metadata"]["name"], preconditions={"uid": pod["metadata"]["uid"]})
                except errors.ApiError:
                    continue
                reg.record_event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                 COMPONENT)

    def _pods_to_delete(self, pods: list[dict], count: int) -> list[dict]:
        """``getPodsToDelete`` with ``ActivePodsWithRanks``: the least useful pods first."""
        per_node: dict[str, int] = {}
        for p in pods:
            node = p["spec"].get("nodeName") or ""
            per_node[node] = per_node.get(node, 0) + 1

        def rank(p: dict) -> tuple:
            st = p.get("status") or {}
            node = p["spec"].get("nodeName") or ""
            ready = is_pod_ready(p)
            since = ready_since(self.sb, p) if ready else None
            restarts = sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or [])
            created = p["metadata"].get("creationTimestamp") or ""
            return (bool(node), _PHASE_RANK.get(st.get("phase"), 1), ready, -per_node.get(node, 0) if node else 0,
                    -(since or 0.0), -restarts, _neg(created), p["metadata"]["name"])

        return sorted(pods, key=rank)[:count]

    # ------------------------------------------------------------------ status
    def _calculate_status(self, rs: dict, active: list[dict]) -> dict:
        """``calculateStatus``; zero counts are omitted, as Go's ``omitempty`` does."""
        tpl_labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        fully = sum(1 for p in active
                    if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in tpl_labels.items()))
        ready = sum(1 for p in active if is_pod_ready(p))
        available = sum(1 for p in active if is_pod_available(self.sb, p, min_ready))
        status: dict = {"replicas": len(active)}
        for k, v in (("fullyLabeledReplicas", fully), ("readyReplicas", ready), ("availableReplicas", available),
                     ("observedGeneration", rs["metadata"].get("generation", 1))):
            if v:
                status[k] = v
        conds = [c for c in (rs.get("status") or {}).get("conditions") or [] if c.get("type") != "ReplicaFailure"]
        if conds:
            status["conditions"] = conds
        return status

    def _requeue_for_availability(self, key, rs: dict, active: list[dict]) -> None:
        """With ``minReadySeconds``, look again when the next ready pod becomes available."""
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        if not min_ready:
            return
        now = self.sb.clock.now()
        due = [since + min_ready for p in active if is_pod_ready(p)
               for since in [ready_since(self.sb, p)] if since is not None and since + min_ready > now]
        if not due:
            return
        at = min(due) + 0.05
        if self._requeue_at.get(key, -1.0) > now and self._requeue_at[key] <= at:
            return
        self._requeue_at[key] = at
        self.sb.engine.call_later(at - now, lambda: self.sb.engine.enqueue(self.name, key))


def _neg(stamp: str) -> tuple:
    """Sort key that puts later RFC 3339 timestamps first."""
    return tuple(-ord(c) for c in stamp)
