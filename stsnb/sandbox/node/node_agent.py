"""The kubelet's node-facing half: it registers its Node and keeps its Lease and status fresh.

As ``pkg/kubelet/kubelet_node_status.go`` (``registerWithAPIServer``,
``setNodeStatus``) and ``pkg/kubelet/nodelease`` do on every node:

* the **Node** object, with kind/kubeadm's labels (``kubernetes.io/hostname``,
  ``node-role.kubernetes.io/control-plane`` on the control plane), its taints,
  ``podCIDR``, addresses, capacity and allocatable (cpu, ephemeral-storage,
  hugepages, memory, pods), the four conditions ``MemoryPressure``,
  ``DiskPressure``, ``PIDPressure`` and ``Ready`` with the kubelet's reasons and
  messages, ``daemonEndpoints`` and ``nodeInfo``;
* the **Lease** ``kube-node-lease/<node>`` (``holderIdentity``,
  ``leaseDurationSeconds: 40``, owned by the Node), renewed every 10 seconds
  (``renewInterval`` = a quarter of the duration), so ``kubectl describe node``
  shows its ``Lease`` section;
* the node's status heartbeat (``lastHeartbeatTime``) every 5 minutes
  (``nodeStatusReportFrequency``).

Both renewals are background timers: a discrete clock never jumps to them, but
they fire as sandbox time passes, in real time under ``stsnb sandbox serve``.
"""

from __future__ import annotations

from ..apiserver.registry import deep_copy
from ..core.cluster import Cluster

__all__ = ["NodeAgent", "LEASE_NAMESPACE"]

LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40
RENEW_SECONDS = LEASE_SECONDS / 4
REPORT_SECONDS = 300.0

_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


class NodeAgent:
    """Registers the sandbox's nodes and renews their leases."""

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb

    def register(self) -> None:
        """Create every Node and its Lease (the cluster's namespaces exist already)."""
        for spec in self.sb.nodes:
            node, _ = self.sb.registry.create("nodes", None, self._node(spec))
            self.sb.registry.create("leases", LEASE_NAMESPACE, self._lease(node))
        self.sb.engine.call_later(RENEW_SECONDS, self._renew, background=True)
        self.sb.engine.call_later(REPORT_SECONDS, self._report, background=True)

    def _node(self, spec) -> dict:
        now = self.sb.clock.timestamp()
        version = self.sb.profile.git_version
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": spec.name, "kubernetes.io/os": "linux"}
        if spec.role == "control-plane":
            labels |= {"node-role.kubernetes.io/control-plane": "",
                       "node.kubernetes.io/exclude-from-external-load-balancers": ""}
        node_spec: dict = {"podCIDR": spec.pod_cidr, "podCIDRs": [spec.pod_cidr]}
        if spec.taints:
            node_spec["taints"] = [dict(t) for t in spec.taints]
        capacity = {"cpu": spec.cpu, "ephemeral-storage": "61202244Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                    "memory": spec.memory, "pods": str(spec.pods)}
        allocatable = {**capacity, "ephemeral-storage": "56403987978"}
        return {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": spec.name, "labels": labels,
            "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                            "node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": node_spec,
            "status": {"addresses": [{"type": "InternalIP", "address": spec.internal_ip},
                                     {"type": "Hostname", "address": spec.name}],
                       "allocatable": allocatable, "capacity": capacity,
                       "conditions": [{"type": t, "status": s, "lastHeartbeatTime": now, "lastTransitionTime": now,
                                       "reason": r, "message": m} for t, s, r, m in _CONDITIONS],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "",
                                    "kernelVersion": "5.15.0-stsnb", "osImage": "stsnb sandbox (simulated)",
                                    "containerRuntimeVersion": "containerd://1.7.2", "kubeletVersion": version,
                                    "kubeProxyVersion": version, "operatingSystem": "linux", "architecture": "amd64"}}}

    def _lease(self, node: dict) -> dict:
        name = node["metadata"]["name"]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {
            "name": name, "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS,
                     "renewTime": self.sb.clock.micro_timestamp()}}

    def _renew(self) -> None:
        """``nodelease.controller``: write ``renewTime`` on every node's lease, then again in 10 s."""
        for spec in self.sb.nodes:
            lease = self.sb.store.get("leases", LEASE_NAMESPACE, spec.name)
            if lease is None:
                node = self.sb.store.get("nodes", "", spec.name)
                if node is not None:
                    self.sb.registry.create("leases", LEASE_NAMESPACE, self._lease(node))
                continue
            new = deep_copy(lease)
            new["spec"]["renewTime"] = self.sb.clock.micro_timestamp()
            self.sb.registry.replace("leases", new)
        self.sb.engine.call_later(RENEW_SECONDS, self._renew, background=True)

    def _report(self) -> None:
        """The status report every ``nodeStatusReportFrequency``: fresh ``lastHeartbeatTime`` on each condition."""
        now = self.sb.clock.timestamp()
        for spec in self.sb.nodes:
            node = self.sb.store.get("nodes", "", spec.name)
            if node is None:
                continue
            status = deep_copy(node.get("status") or {})
            for c in status.get("conditions") or []:
                c["lastHeartbeatTime"] = now
            self.sb.registry.write_status("nodes", node, status)
        self.sb.engine.call_later(REPORT_SECONDS, self._report, background=True)
