"""What a fresh sandbox cluster holds before anyone touches it: what a learner's kind cluster holds.

:func:`bootstrap` creates, as kubeadm and kind do:

* the namespaces ``default``, ``kube-node-lease``, ``kube-public`` and ``kube-system``;
* the nodes and their leases (registered by the kubelets, :class:`~.node.node_agent.NodeAgent`);
* the ``kubernetes`` Service (``10.96.0.1``) and ``kube-dns`` (``10.96.0.10``);

and, each switchable through :class:`ClusterDefaults`:

* ``storage_class``: the default StorageClass ``standard``, as kind's (provisioner
  ``rancher.io/local-path``, ``WaitForFirstConsumer``, reclaim ``Delete``), beside which the
  guide's own ``sc-nfs`` is applied by the lessons. The sandbox's volumes are network
  volumes: unlike kind's local-path ones they do not pin a pod to a node;
* ``coredns``: CoreDNS in ``kube-system`` (the ``coredns`` ConfigMap with kubeadm's
  Corefile, its ServiceAccount, the ``coredns`` Deployment of two pods behind ``kube-dns``,
  kubeadm's manifest for 1.27). The sandbox pins them to the control-plane node, where
  kind's single-node cluster has them, so the guide's pods keep their nodes and IPs;
* ``service_accounts``: the ``default`` ServiceAccount and the ``kube-root-ca.crt``
  ConfigMap in every namespace, kept by their controllers
  (:mod:`.controllers.serviceaccounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core.cluster import Cluster
    from .node.node_agent import NodeAgent

__all__ = ["ClusterDefaults", "bootstrap", "COREFILE"]

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"

#: kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go) for the cluster domain.
COREFILE = """.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {zone} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


@dataclass(frozen=True)
class ClusterDefaults:
    """What a fresh sandbox holds besides the essentials (all on: a learner's cluster has them)."""

    storage_class: bool = True
    """A default StorageClass ``standard`` (kind's)."""
    coredns: bool = True
    """CoreDNS pods in ``kube-system`` behind ``kube-dns``."""
    service_accounts: bool = True
    """``default`` ServiceAccount and ``kube-root-ca.crt`` ConfigMap in every namespace."""


def bootstrap(sb: "Cluster", nodes: "NodeAgent", defaults: ClusterDefaults) -> None:
    """Create the cluster's objects (see the module docstring)."""
    reg = sb.registry
    for ns in SYSTEM_NAMESPACES:
        reg.create("namespaces", None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    nodes.register()
    reg.create("services", "default", {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}})
    reg.create("services", "kube-system", {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "kube-dns", "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                       "kubernetes.io/name": "CoreDNS"},
        "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}})
    if defaults.storage_class:
        reg.create("storageclasses", None, {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {DEFAULT_CLASS: "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer"})
    if defaults.coredns:
        _coredns(sb)


def _coredns(sb: "Cluster") -> None:
    reg = sb.registry
    labels = {"k8s-app": "kube-dns"}
    reg.create("configmaps", "kube-system", {"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "coredns"},
                                             "data": {"Corefile": COREFILE.format(zone=sb.zone)}})
    reg.create("serviceaccounts", "kube-system", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                  "metadata": {"name": "coredns"}})
    container = {
        "name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.10.1", "imagePullPolicy": "IfNotPresent",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 60,
                          "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 5},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}}}
    reg.create("deployments", "kube-system", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "labels": dict(labels)},
        "spec": {"replicas": 2, "selector": {"matchLabels": dict(labels)},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                 "template": {"metadata": {"labels": dict(labels)}, "spec": {
                     "serviceAccountName": "coredns",
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                     "nodeSelector": {"kubernetes.io/os": "linux", "node-role.kubernetes.io/control-plane": ""},
                     "containers": [container], "dnsPolicy": "Default",
                     "volumes": [{"name": "config-volume", "configMap": {
                         "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}]}}}})
