"""The resource types the sandbox serves, with the discovery facts kubectl relies on."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...k8s.kinds import BY_PLURAL as KINDS
from ...k8s.kinds import KindInfo

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: its kind (from :data:`stsnb.k8s.kinds.KINDS`) plus what discovery says of it."""

    info: KindInfo
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW
    field_selectors: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    #: False for a version served by converting to and from the stored one (autoscaling/v1 HPAs).
    storage: bool = True

    plural = property(lambda self: self.info.plural)
    kind = property(lambda self: self.info.kind)
    group = property(lambda self: self.info.group)
    version = property(lambda self: self.info.version)
    namespaced = property(lambda self: self.info.namespaced)
    short_names = property(lambda self: self.info.short_names)
    api_version = property(lambda self: self.info.api_version)
    group_resource = property(lambda self: self.info.group_resource)
    list_kind = property(lambda self: self.info.list_kind)
    singular_name = property(lambda self: self.info.singular_name)


def _rt(plural: str, version: str = "", **discovery) -> ResourceType:
    info = KINDS[plural] if not version else replace(KINDS[plural], version=version)
    return ResourceType(info, **discovery)


_POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
               "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP",
               "status.nominatedNodeName")

RESOURCES: tuple[ResourceType, ...] = (
    _rt("namespaces", subresources=("status", "finalize"),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        field_selectors=("metadata.name", "status.phase")),
    _rt("nodes", subresources=("status",), field_selectors=("metadata.name", "spec.unschedulable")),
    _rt("pods", categories=("all",),
        subresources=("log", "status", "exec", "attach", "portforward", "proxy", "eviction", "binding",
                      "ephemeralcontainers"),
        field_selectors=_POD_FIELDS),
    _rt("services", categories=("all",), subresources=("status", "proxy"),
        field_selectors=("metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type")),
    _rt("endpoints"),
    _rt("persistentvolumeclaims", subresources=("status",)),
    _rt("persistentvolumes", subresources=("status",)),
    # pkg/registry/core/event/strategy.go ToSelectableFields
    _rt("events", field_selectors=("metadata.name", "metadata.namespace", "involvedObject.kind",
                                   "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                                   "involvedObject.apiVersion", "involvedObject.resourceVersion",
                                   "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type")),
    _rt("configmaps"),
    _rt("serviceaccounts"),
    _rt("statefulsets", categories=("all",), subresources=("scale", "status")),
    _rt("deployments", categories=("all",), subresources=("scale", "status")),
    _rt("replicasets", categories=("all",), subresources=("scale", "status")),
    _rt("controllerrevisions"),
    _rt("storageclasses"),
    _rt("endpointslices"),
    _rt("secrets", field_selectors=("metadata.name", "metadata.namespace", "type")),
    _rt("jobs", categories=("all",), subresources=("status",),
        field_selectors=("metadata.name", "metadata.namespace", "status.successful")),
    _rt("cronjobs", categories=("all",), subresources=("status",)),
    _rt("ingresses", subresources=("status",)),
    _rt("poddisruptionbudgets", subresources=("status",)),
    _rt("horizontalpodautoscalers", categories=("all",), subresources=("status",)),
    _rt("horizontalpodautoscalers", "v1", categories=("all",), subresources=("status",), storage=False),
    _rt("leases"),
    _rt("roles"),
    _rt("rolebindings"),
    _rt("clusterroles"),
    _rt("clusterrolebindings"),
    _rt("selfsubjectaccessreviews", verbs=("create",), field_selectors=()),
)

#: The stored version of each resource (what the registry and the store work with).
BY_PLURAL: dict[str, ResourceType] = {r.plural: r for r in RESOURCES if r.storage}
#: Every served version, by ``(apiVersion, kind)`` and by ``(apiVersion, plural)``.
BY_KIND: dict[tuple[str, str], ResourceType] = {(r.api_version, r.kind): r for r in RESOURCES}
BY_GV_PLURAL: dict[tuple[str, str], ResourceType] = {(r.api_version, r.plural): r for r in RESOURCES}
#: Resources with no storage: a POST is answered and forgotten (access reviews).
VIRTUAL: frozenset[str] = frozenset({"selfsubjectaccessreviews"})


def group_versions() -> dict[str, list[ResourceType]]:
    """``{"v1": [...], "apps/v1": [...], ...}`` in discovery order."""
    out: dict[str, list[ResourceType]] = {}
    for r in RESOURCES:
        out.setdefault(r.api_version, []).append(r)
    return out
