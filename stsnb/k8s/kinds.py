"""The built-in Kubernetes kinds stsnb knows: names, group, version, scope, short names.

One table for both sides. The sandbox's API server extends each entry with what
discovery publishes (verbs, subresources, field selectors:
``stsnb.sandbox.core.resources``); the lab resolves kubectl-style words
(``sts``, ``statefulsets.apps``, ``StatefulSet``) and builds REST paths from it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KindInfo", "KINDS", "BY_PLURAL", "BY_KIND"]


@dataclass(frozen=True)
class KindInfo:
    """A REST resource of the built-in API."""

    kind: str
    plural: str
    group: str = ""  # "" is the core group
    version: str = "v1"
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    singular: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``statefulsets.apps`` or ``pods``: how API errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def ref(self) -> str:
        """kubectl's prefix in output lines: ``statefulset.apps``, ``service``."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str = "") -> str:
        """The REST path: ``/apis/apps/v1/namespaces/NS/statefulsets[/NAME[/SUB]]``."""
        root = f"/apis/{self.api_version}" if self.group else f"/api/{self.version}"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name is not None:
            parts.append(name)
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


KINDS: tuple[KindInfo, ...] = (
    KindInfo("Namespace", "namespaces", namespaced=False, short_names=("ns",)),
    KindInfo("Node", "nodes", namespaced=False, short_names=("no",)),
    KindInfo("Pod", "pods", short_names=("po",)),
    KindInfo("Service", "services", short_names=("svc",)),
    KindInfo("Endpoints", "endpoints", short_names=("ep",), singular="endpoints"),
    KindInfo("PersistentVolumeClaim", "persistentvolumeclaims", short_names=("pvc",)),
    KindInfo("PersistentVolume", "persistentvolumes", namespaced=False, short_names=("pv",)),
    KindInfo("Event", "events", short_names=("ev",)),
    KindInfo("ConfigMap", "configmaps", short_names=("cm",)),
    KindInfo("ServiceAccount", "serviceaccounts", short_names=("sa",)),
    KindInfo("StatefulSet", "statefulsets", "apps", short_names=("sts",)),
    KindInfo("Deployment", "deployments", "apps", short_names=("deploy",)),
    KindInfo("ReplicaSet", "replicasets", "apps", short_names=("rs",)),
    KindInfo("ControllerRevision", "controllerrevisions", "apps"),
    KindInfo("StorageClass", "storageclasses", "storage.k8s.io", namespaced=False, short_names=("sc",)),
    KindInfo("EndpointSlice", "endpointslices", "discovery.k8s.io"),
    KindInfo("Secret", "secrets"),
    KindInfo("Job", "jobs", "batch"),
    KindInfo("CronJob", "cronjobs", "batch", short_names=("cj",)),
    KindInfo("Ingress", "ingresses", "networking.k8s.io", short_names=("ing",)),
    KindInfo("PodDisruptionBudget", "poddisruptionbudgets", "policy", short_names=("pdb",)),
    KindInfo("HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling", "v2", short_names=("hpa",)),
    KindInfo("Lease", "leases", "coordination.k8s.io"),
    KindInfo("Role", "roles", "rbac.authorization.k8s.io"),
    KindInfo("RoleBinding", "rolebindings", "rbac.authorization.k8s.io"),
    KindInfo("ClusterRole", "clusterroles", "rbac.authorization.k8s.io", namespaced=False),
    KindInfo("ClusterRoleBinding", "clusterrolebindings", "rbac.authorization.k8s.io", namespaced=False),
    KindInfo("SelfSubjectAccessReview", "selfsubjectaccessreviews", "authorization.k8s.io", namespaced=False),
)

BY_PLURAL: dict[str, KindInfo] = {k.plural: k for k in KINDS}
BY_KIND: dict[tuple[str, str], KindInfo] = {(k.api_version, k.kind): k for k in KINDS}
