"""Scheduling: the nodes, their pod IP blocks, and the scheduler that binds pods to them.

The scheduler follows kube-scheduler's default profile (``pkg/scheduler/framework/plugins``),
one pending pod at a time:

* **PreFilter** ``VolumeBinding``: a claim that does not exist, or an *Immediate* claim
  that is not bound yet, makes the pod wait ("pod has unbound immediate
  PersistentVolumeClaims"); a ``WaitForFirstConsumer`` claim does not;
* **Filter**, node by node, with upstream's reasons: ``NodeUnschedulable`` (cordoned:
  "node(s) were unschedulable"), ``NodeName``, ``TaintToleration`` (``NoSchedule`` and
  ``NoExecute`` taints the pod does not tolerate: "node(s) had untolerated taint {k: v}"),
  ``NodeAffinity`` (``nodeSelector`` and required node affinity: "node(s) didn't match
  Pod's node affinity/selector"), ``NodePorts`` ("node(s) didn't have free ports for the
  requested pod ports"), ``NodeResourcesFit`` ("Too many pods", "Insufficient cpu",
  "Insufficient memory"), ``InterPodAffinity`` (required pod affinity and anti-affinity, both ways:
  "node(s) didn't match pod affinity rules", "… pod anti-affinity rules", "node(s) didn't satisfy
  existing pods anti-affinity rules");
* **Score**: the node with the fewest pods (ties by name), a stand-in for the default
  spreading and least-allocated scores;
* **Reserve/PreBind** ``VolumeBinding``: for ``WaitForFirstConsumer`` claims the chosen node
  goes into the claim's ``volume.kubernetes.io/selected-node`` annotation and the pod is
  bound once its claims are provisioned and bound.

A pod no node fits gets a ``PodScheduled=False`` condition and a ``FailedScheduling``
event with the scheduler's message (``FitError``), and is tried again when nodes or pods
change. The sandbox's persistent volumes are network volumes without node affinity, so a
claim follows its pod to any node (on kind, ``local-path`` volumes pin pods to a node).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from ..apiserver.registry import deep_copy
from ..core.cluster import Cluster, WorkerNode
from ..core.store import Event
from ...k8s import scheduling as affinity

__all__ = ["DEFAULT_NODES", "CONTROL_PLANE_TAINT", "MAX_WORKERS", "Ipam", "NodeSpec", "Scheduler", "cluster_nodes"]

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
SELECTED_NODE = "volume.kubernetes.io/selected-node"


@dataclass(frozen=True)
class NodeSpec:
    """A node: its name, address, the range its pod IPs come from (first IP first), its role and taints."""

    name: str
    internal_ip: str
    pod_cidr: str
    first_pod_ip: str = ""
    role: str = "worker"  # or "control-plane"
    taints: tuple[dict, ...] = field(default_factory=tuple)
    cpu: str = "2"
    memory: str = "4022568Ki"
    pods: int = 110


DEFAULT_NODES = (  # pod IPs as in the guide's cluster: 10.100.194.x on worker1, 10.110.126.x on worker2
    NodeSpec("k8s-master", "192.168.56.10", "10.85.0.0/16", "10.85.0.2", role="control-plane",
             taints=(CONTROL_PLANE_TAINT,)),
    NodeSpec("k8s-worker1", "192.168.56.11", "10.100.0.0/16", "10.100.194.64"),
    NodeSpec("k8s-worker2", "192.168.56.12", "10.110.0.0/16", "10.110.126.32"),
)

#: The most workers :func:`cluster_nodes` makes (each takes a /16 of 10.100.0.0 … 10.250.0.0 for its pods).
MAX_WORKERS = 16


def cluster_nodes(workers: int = 2) -> tuple[NodeSpec, ...]:
    """The control plane and ``workers`` worker nodes (``k8s-worker1`` … ``k8s-workerN``), the guide's two first.

    A tutorial may want more nodes than the guide's cluster has: the ZooKeeper tutorial spreads three servers
    over three nodes with required pod anti-affinity, and drains nodes with four.
    """
    if not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"the number of worker nodes (--workers) must be a whole number from 1 to {MAX_WORKERS}, got {workers!r}")
    extra = tuple(NodeSpec(f"k8s-worker{i}", f"192.168.56.{10 + i}", f"10.{100 + 10 * (i - 1)}.0.0/16",
                           f"10.{100 + 10 * (i - 1)}.{(40 + 17 * i) % 256}.{64 * (i % 4)}")
                  for i in range(3, workers + 1))
    return DEFAULT_NODES[:1 + min(workers, 2)] + extra


class Ipam:
    """Pod IPs from per-node blocks, like Calico's block allocation in the guide's cluster."""

    def __init__(self, nodes: Collection[WorkerNode], rng: random.Random) -> None:
        self._net = {n.name: ipaddress.ip_network(n.pod_cidr) for n in nodes}
        self._next: dict[str, int] = {}
        self._used: set[str] = set()
        for n in nodes:
            net = self._net[n.name]
            first = int(ipaddress.ip_address(n.first_pod_ip)) if n.first_pod_ip else int(net.network_address) + 1
            self._next[n.name] = first + (rng.randrange(0, 16) if getattr(n, "role", "worker") == "worker" else 0)

    def allocate(self, node: str, taken: Callable[[str], bool] = lambda ip: False) -> str:
        """The next free address after the last one given: a re-created pod gets a new IP.

        ``taken`` says which addresses something else holds: the guide's pod ranges lie inside the
        Service range (10.96.0.0/12), so a Service's ClusterIP is never given to a pod.
        """
        net = self._net[node]
        lo, hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
        for _ in range(hi - lo + 1):
            n = self._next[node]
            self._next[node] = n + 1 if n < hi else lo
            ip = str(ipaddress.ip_address(n))
            if ip not in self._used and not ip.endswith((".0", ".255")) and not taken(ip):
                self._used.add(ip)
                return ip
        raise RuntimeError(f"node {node} has no free pod IPs in {net}")

    def release(self, ip: str | None) -> None:
        if ip:
            self._used.discard(ip)


class Scheduler:
    """Binds pending pods to nodes; see the module docstring."""

    name = "scheduler"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._bound: dict[str, str] = {}  # pod uid -> node, kept from watch events
        self._counts: dict[str, int] = {n.name: 0 for n in sb.nodes}
        self._on_node: dict[str, dict[str, dict]] = {n.name: {} for n in sb.nodes}  # node -> uid -> pod (its cache)
        #: pods tried and not bound (upstream's unschedulable queue): what a freed port, node or bound claim retries
        self._waiting: set[tuple[str, str]] = set()

    def _track(self, ev: Event) -> None:
        """Keep, from watch events, which pods hold each node (what the filters count), as the scheduler's cache."""
        uid = ev.obj["metadata"]["uid"]
        phase = (ev.obj.get("status") or {}).get("phase")
        node = None if ev.type == "DELETED" or phase in ("Succeeded", "Failed") else ev.obj["spec"].get("nodeName")
        old = self._bound.get(uid)
        if node in self._on_node:
            self._on_node[node][uid] = ev.obj
        if old == node:
            return
        if old in self._counts:
            self._counts[old] -= 1
            self._on_node[old].pop(uid, None)
        if node in self._counts:
            self._counts[node] += 1
            self._bound[uid] = node
        else:
            self._bound.pop(uid, None)

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "pods":
            self._track(ev)
            if ev.type != "DELETED" and not ev.obj["spec"].get("nodeName") and \
                    not ev.obj["metadata"].get("deletionTimestamp"):
                return [(ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"])]
            if ev.type == "DELETED" or (ev.old is not None and ev.old.get("status", {}).get("phase") !=
                                        ev.obj.get("status", {}).get("phase")):
                return self._pending()  # a pod's ports and resources are free again
            return []
        if ev.plural == "nodes":
            return self._pending()
        if ev.plural == "persistentvolumeclaims" and ev.obj.get("status", {}).get("phase") == "Bound":
            return self._pending(ev.obj["metadata"]["namespace"])
        return []

    def _pending(self, namespace: str | None = None) -> list:
        """The pods to try again (``MoveAllToActiveOrBackoffQueue``): those tried and not bound; a pod not tried yet
        has its own key queued already."""
        return sorted(k for k in self._waiting if namespace is None or k[0] == namespace)

    # ------------------------------------------------------------------ one pod
    def sync(self, key) -> None:
        ns, name = key
        pod = self.sb.store.get("pods", ns, name)
        self._waiting.discard(key)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        self._waiting.add((ns, name))  # until it is bound
        claims, why = self._claims(pod)
        if why:
            self._unschedulable(pod, f"0/{len(self.sb.nodes)} nodes are available: {why}. "
                                     + self._preemption({n.name: "" for n in self.sb.nodes}))
            return
        reasons = {n.name: self._filter(pod, n.name) for n in self.sb.nodes}
        fits = [n for n, r in reasons.items() if not r]
        if not fits:
            self._unschedulable(pod, self._fit_error(reasons))
            return
        selected = [(c["metadata"].get("annotations") or {}).get(SELECTED_NODE) for c in claims]
        node = next((n for n in selected if n in fits), None) or self._score(pod, fits)
        waiting = [c for c in claims if (c.get("status") or {}).get("phase") != "Bound"]
        if waiting:
            self._select_node(waiting, node)
            return  # PreBind waits for the claims to be provisioned and bound
        self._bind(pod, node)

    def _claims(self, pod: dict) -> tuple[list[dict], str]:
        """``VolumeBinding`` PreFilter: the pod's claims, or why it cannot be scheduled yet."""
        out = []
        for v in pod["spec"].get("volumes") or []:
            name = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if not name:
                continue
            pvc = self.sb.store.get("persistentvolumeclaims", pod["metadata"]["namespace"], name)
            if pvc is None:
                return [], f'persistentvolumeclaim "{name}" not found'
            if pvc["metadata"].get("deletionTimestamp"):
                return [], f'persistentvolumeclaim "{name}" is being deleted'
            if (pvc.get("status") or {}).get("phase") != "Bound" and not self._waits_for_consumer(pvc):
                return [], "pod has unbound immediate PersistentVolumeClaims"
            out.append(pvc)
        return out, ""

    def _waits_for_consumer(self, pvc: dict) -> bool:
        cls = (pvc.get("spec") or {}).get("storageClassName")
        sc = self.sb.store.get("storageclasses", "", cls) if cls else None
        return sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"

    def _filter(self, pod: dict, node_name: str) -> list[str]:
        """The Filter plugins for one node: the reasons it does not fit (empty: it fits)."""
        node = self.sb.store.get("nodes", "", node_name)
        if node is None:
            return ["node(s) not found"]
        spec = pod["spec"]
        if (node.get("spec") or {}).get("unschedulable") and not affinity.tolerates(
                spec.get("tolerations"), {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
            return ["node(s) were unschedulable"]
        taint = affinity.untolerated_taint(node, spec.get("tolerations"))
        if taint is not None:
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
        if not affinity.node_matches(pod, node):
            return ["node(s) didn't match Pod's node affinity/selector"]
        others = list(self._on_node.get(node_name, {}).values())
        if affinity.host_ports_conflict(pod, others):
            return ["node(s) didn't have free ports for the requested pod ports"]
        short = affinity.insufficient_resources(pod, others, node)
        if short:
            return short
        why = affinity.inter_pod_affinity(pod, node, self._placed(), self._namespace_labels)
        return [why] if why else []

    def _placed(self) -> list[tuple[dict, dict]]:
        """Every pod on a node, with its node: what ``InterPodAffinity`` looks at."""
        nodes = {n.name: self.sb.store.get("nodes", "", n.name) for n in self.sb.nodes}
        return [(p, nodes[name]) for name, pods in self._on_node.items() if nodes.get(name) is not None
                for p in pods.values()]

    def _namespace_labels(self, namespace: str) -> dict:
        ns = self.sb.store.get("namespaces", "", namespace)
        return ((ns or {}).get("metadata") or {}).get("labels") or {}

    def _score(self, pod: dict, fits: list[str]) -> str:
        counts = self._counts
        return min(fits, key=lambda k: (counts.get(k, 0), k))

    def _fit_error(self, reasons: dict[str, list[str]]) -> str:
        """``FitError.Error``: the reasons counted over the nodes, sorted, then what preemption found."""
        hist: dict[str, int] = {}
        for rs in reasons.values():
            for r in rs:
                hist[r] = hist.get(r, 0) + 1
        text = ", ".join(sorted(f"{v} {k}" for k, v in hist.items()))
        return f"0/{len(reasons)} nodes are available: {text}. " + self._preemption(reasons)

    def _preemption(self, reasons: dict[str, list[str]]) -> str:
        """The PostFilter (preemption) part: no pod here has a priority to preempt for, so it never helps.

        Resource shortfalls read "No preemption victims found for incoming pod", anything else "Preemption
        is not helpful for scheduling". The message ends in ".." up to 1.28 (a period on the nested
        FitError and one of its own; UNCONFIRMED boundary), "." after.
        """
        victims = sum(1 for rs in reasons.values() if rs and all(r.startswith(("Insufficient", "Too many")) or r in (
            affinity.ANTI_AFFINITY_NOT_MATCH, affinity.EXISTING_ANTI_AFFINITY_NOT_MATCH) for r in rs))
        parts = []
        if len(reasons) - victims:
            parts.append(f"{len(reasons) - victims} Preemption is not helpful for scheduling")
        if victims:
            parts.append(f"{victims} No preemption victims found for incoming pod")
        end = ".." if self.sb.profile.minor <= 28 else "."
        return f"preemption: 0/{len(reasons)} nodes are available: {', '.join(sorted(parts))}{end}"

    def _unschedulable(self, pod: dict, msg: str) -> None:
        reg = self.sb.registry
        conds = [c for c in pod["status"].get("conditions") or [] if c.get("type") != "PodScheduled"]
        old = next((c for c in pod["status"].get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if old is not None and old.get("message") == msg:
            return
        new = deep_copy(pod["status"])
        new["conditions"] = conds + [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                      "lastTransitionTime": self.sb.clock.timestamp(), "reason": "Unschedulable",
                                      "message": msg}]
        reg.write_status("pods", pod, new)
        reg.record_event(pod, "Warning", "FailedScheduling", msg, "default-scheduler")

    def _select_node(self, claims: list[dict], node: str) -> None:
        for pvc in claims:
            if (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE):
                continue
            new = deep_copy(pvc)
            new["metadata"].setdefault("annotations", {})[SELECTED_NODE] = node
            self.sb.registry.replace("persistentvolumeclaims", new)

    def _bind(self, pod: dict, node: str) -> None:
        reg = self.sb.registry
        new = deep_copy(pod)
        new["spec"]["nodeName"] = node
        new["status"]["conditions"] = [c for c in new["status"].get("conditions") or [] if c.get("type") != "PodScheduled"] + [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": self.sb.clock.timestamp()}]
        reg.replace("pods", new)
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self._waiting.discard((ns, name))
        reg.record_event(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}", "default-scheduler")
