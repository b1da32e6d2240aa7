"""Scheduling: the worker nodes, their pod IP blocks, and the scheduler that binds pods to them.

The scheduler binds each pending pod to the node with the fewest pods (ties by
name), and refuses pods whose claims are not bound yet, with the scheduler's
own message. Pod IPs come from per-node blocks (:class:`Ipam`), handed out by
the kubelet when it starts a pod.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Collection
from dataclasses import dataclass

from ..apiserver.registry import deep_copy
from ..core.store import Event
from ..core.cluster import Cluster, WorkerNode

__all__ = ["DEFAULT_NODES", "Ipam", "NodeSpec", "Scheduler"]


@dataclass(frozen=True)
class NodeSpec:
    """A worker node: its name, address, and the range its pod IPs come from (first IP first)."""

    name: str
    internal_ip: str
    pod_cidr: str
    first_pod_ip: str = ""


DEFAULT_NODES = (  # pod IPs as in the guide's cluster: 10.100.194.x on worker1, 10.110.126.x on worker2
    NodeSpec("k8s-worker1", "192.168.56.11", "10.100.0.0/16", "10.100.194.64"),
    NodeSpec("k8s-worker2", "192.168.56.12", "10.110.0.0/16", "10.110.126.32"),
)


class Ipam:
    """Pod IPs from per-node blocks, like Calico's block allocation in the guide's cluster."""

    def __init__(self, nodes: Collection[WorkerNode], rng: random.Random) -> None:
        self._net = {n.name: ipaddress.ip_network(n.pod_cidr) for n in nodes}
        self._next: dict[str, int] = {}
        self._used: set[str] = set()
        for n in nodes:
            net = self._net[n.name]
            first = int(ipaddress.ip_address(n.first_pod_ip)) if n.first_pod_ip else int(net.network_address) + 1
            self._next[n.name] = first + rng.randrange(0, 16)

    def allocate(self, node: str) -> str:
        """The next free address after the last one given: a re-created pod gets a new IP."""
        net = self._net[node]
        lo, hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
        for _ in range(hi - lo + 1):
            n = self._next[node]
            self._next[node] = n + 1 if n < hi else lo
            ip = str(ipaddress.ip_address(n))
            if ip not in self._used and not ip.endswith((".0", ".255")):
                self._used.add(ip)
                return ip
        raise RuntimeError(f"node {node} has no free pod IPs in {net}")

    def release(self, ip: str | None) -> None:
        if ip:
            self._used.discard(ip)


class Scheduler:
    """Binds pending pods to nodes."""

    name = "scheduler"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._bound: dict[str, str] = {}  # pod uid -> node, kept from watch events
        self._counts: dict[str, int] = {n.name: 0 for n in sb.nodes}

    def _track(self, ev: Event) -> None:
        uid = ev.obj["metadata"]["uid"]
        node = None if ev.type == "DELETED" else ev.obj["spec"].get("nodeName")
        old = self._bound.get(uid)
        if old == node:
            return
        if old in self._counts:
            self._counts[old] -= 1
        if node in self._counts:
            self._counts[node] += 1
            self._bound[uid] = node
        else:
            self._bound.pop(uid, None)

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "pods":
            self._track(ev)
        if ev.plural == "pods" and ev.type != "DELETED" and not ev.obj["spec"].get("nodeName") \
                and not ev.obj["metadata"].get("deletionTimestamp"):
            return [(ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"])]
        if ev.plural == "persistentvolumeclaims" and ev.obj.get("status", {}).get("phase") == "Bound":
            ns = ev.obj["metadata"]["namespace"]
            return [(ns, p["metadata"]["name"]) for p in self.sb.store.list("pods", ns)
                    if not p["spec"].get("nodeName")]
        return []

    def sync(self, key) -> None:
        ns, name = key
        pod = self.sb.store.get("pods", ns, name)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        unbound = self._unbound_claims(pod)
        reg = self.sb.registry
        if unbound:
            n = len(self.sb.nodes)
            msg = (f"0/{n} nodes are available: pod has unbound immediate PersistentVolumeClaims. "
                   f"preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.")
            new = deep_copy(pod)
            conds = [{"lastProbeTime": None, "lastTransitionTime": self.sb.clock.timestamp(), "message": msg,
                      "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}]
            if new["status"].get("conditions") != conds and not any(
                    c.get("reason") == "Unschedulable" for c in new["status"].get("conditions", [])):
                new["status"]["conditions"] = conds
                reg.write_status("pods", pod, new["status"])
                reg.record_event(pod, "Warning", "FailedScheduling", msg, "default-scheduler")
            return
        counts = self._counts
        node = min(counts, key=lambda k: (counts[k], k))
        new = deep_copy(pod)
        new["spec"]["nodeName"] = node
        new["status"]["conditions"] = [{"lastProbeTime": None, "lastTransitionTime": self.sb.clock.timestamp(),
                                        "status": "True", "type": "PodScheduled"}]
        reg.replace("pods", new)
        reg.record_event(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                         "default-scheduler")

    def _unbound_claims(self, pod: dict) -> list[str]:
        out = []
        for v in pod["spec"].get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                pvc = self.sb.store.get("persistentvolumeclaims", pod["metadata"]["namespace"], claim)
                if pvc is None or pvc.get("status", {}).get("phase") != "Bound":
                    out.append(claim)
        return out
