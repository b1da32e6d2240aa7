"""The resource types the sandbox serves, with the discovery facts kubectl relies on."""

from __future__ import annotations

from dataclasses import dataclass, field

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives and how discovery describes it."""

    plural: str
    kind: str
    group: str  # "" for the core group
    version: str = "v1"
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW
    field_selectors: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    singular: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``statefulsets.apps`` or ``pods``: how error messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


_POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
               "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP",
               "status.nominatedNodeName")

RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("namespaces", "Namespace", "", namespaced=False, short_names=("ns",),
                 subresources=("status", "finalize"),
                 verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
                 field_selectors=("metadata.name", "status.phase")),
    ResourceType("nodes", "Node", "", namespaced=False, short_names=("no",), subresources=("status",),
                 field_selectors=("metadata.name", "spec.unschedulable")),
    ResourceType("pods", "Pod", "", short_names=("po",), categories=("all",),
                 subresources=("log", "status", "exec", "attach", "portforward", "eviction", "binding"),
                 field_selectors=_POD_FIELDS),
    ResourceType("services", "Service", "", short_names=("svc",), categories=("all",),
                 subresources=("status", "proxy"), field_selectors=("metadata.name", "metadata.namespace",
                                                                     "spec.clusterIP", "spec.type")),
    ResourceType("endpoints", "Endpoints", "", short_names=("ep",), singular="endpoints"),
    ResourceType("persistentvolumeclaims", "PersistentVolumeClaim", "", short_names=("pvc",),
                 subresources=("status",)),
    ResourceType("persistentvolumes", "PersistentVolume", "", namespaced=False, short_names=("pv",),
                 subresources=("status",)),
    ResourceType("events", "Event", "", short_names=("ev",),
                 field_selectors=("metadata.name", "metadata.namespace", "involvedObject.kind",
                                  "involvedObject.name", "involvedObject.namespace", "involvedObject.uid",
                                  "reason", "type", "source")),
    ResourceType("configmaps", "ConfigMap", "", short_names=("cm",)),
    ResourceType("serviceaccounts", "ServiceAccount", "", short_names=("sa",)),
    ResourceType("statefulsets", "StatefulSet", "apps", short_names=("sts",), categories=("all",),
                 subresources=("scale", "status")),
    ResourceType("deployments", "Deployment", "apps", short_names=("deploy",), categories=("all",),
                 subresources=("scale", "status")),
    ResourceType("replicasets", "ReplicaSet", "apps", short_names=("rs",), categories=("all",),
                 subresources=("scale", "status")),
    ResourceType("controllerrevisions", "ControllerRevision", "apps"),
    ResourceType("storageclasses", "StorageClass", "storage.k8s.io", namespaced=False, short_names=("sc",)),
    ResourceType("endpointslices", "EndpointSlice", "discovery.k8s.io"),
)

BY_PLURAL: dict[str, ResourceType] = {r.plural: r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], ResourceType] = {(r.api_version, r.kind): r for r in RESOURCES}


def group_versions() -> dict[str, list[ResourceType]]:
    """``{"v1": [...], "apps/v1": [...], ...}`` in discovery order."""
    out: dict[str, list[ResourceType]] = {}
    for r in RESOURCES:
        out.setdefault(r.api_version, []).append(r)
    return out


@dataclass
class Discovery:
    """Documents for ``/api``, ``/apis`` and each group version (legacy, non-aggregated form)."""

    server_address: str = "127.0.0.1:0"
    _cache: dict = field(default_factory=dict)

    def api_versions(self) -> dict:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}]}

    def api_group_list(self) -> dict:
        groups = []
        for gv in group_versions():
            if "/" not in gv:
                continue
            g, v = gv.split("/")
            ver = {"groupVersion": gv, "version": v}
            groups.append({"name": g, "versions": [ver], "preferredVersion": ver})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group: str) -> dict | None:
        for g in self.api_group_list()["groups"]:
            if g["name"] == group:
                return {"kind": "APIGroup", "apiVersion": "v1", **g}
        return None

    def resource_list(self, group_version: str) -> dict | None:
        res = group_versions().get(group_version)
        if res is None:
            return None
        items = []
        for r in res:
            item = {"name": r.plural, "singularName": r.singular_name, "namespaced": r.namespaced,
                    "kind": r.kind, "verbs": list(r.verbs)}
            if r.short_names:
                item["shortNames"] = list(r.short_names)
            if r.categories:
                item["categories"] = list(r.categories)
            items.append(item)
            for sub in r.subresources:
                verbs = {"scale": ["get", "patch", "update"], "status": ["get", "patch", "update"],
                         "log": ["get"]}.get(sub, ["create", "get"])
                kind = {"scale": "Scale", "eviction": "Eviction", "binding": "Binding"}.get(sub, r.kind)
                sub_item = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                            "kind": kind, "verbs": verbs}
                if sub == "scale":
                    sub_item.update(group="autoscaling", version="v1")
                items.append(sub_item)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items}
