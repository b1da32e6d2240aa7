"""Server-side ``Table`` rendering, as kube-apiserver does it for ``kubectl get``.

kubectl never formats built-in resources itself. It asks the API server for
``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
``meta.k8s.io/v1`` ``Table`` it gets back: the column names (upper-cased), the
cells as they are, and only the priority-0 columns unless ``-o wide`` is given.
So everything a reader sees in ``kubectl get`` (``3/3``, ``Running``,
``<none>``, ``80/TCP``, ``RWO``, ``145m``) is decided here, on the server side.

This module follows, function by function:

* ``kubernetes/kubernetes:pkg/printers/internalversion/printers.go``: the
  column definitions (names, types, formats, descriptions, priorities) and the
  cell rules of every printer (``printPod``, ``printStatefulSet``, ...);
* ``kubernetes/kubernetes:pkg/printers/tablegenerator.go`` and
  ``pkg/printers/storage/storage.go``: the server always generates the *wide*
  table (``GenerateOptions{Wide: true}``); kubectl drops priority-1 columns;
* ``kubernetes/kubernetes:staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go``
  (``asTable``): each row's ``object`` becomes a ``PartialObjectMetadata``
  (``includeObject=Metadata``, the default), the full object (``Object``) or
  ``null`` (``None``);
* ``kubernetes/apimachinery:pkg/util/duration/duration.go``: ``HumanDuration``;
* ``kubernetes/kubernetes:staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor``:
  the NAME / AGE table used for anything without a printer.

The functions are pure: they take plain object dicts (camelCase JSON as the API
serves it) and a ``now``, and return JSON-ready dicts. Objects are assumed to be
defaulted as the API server stores them; the few defaults the printers depend
on (``spec.replicas`` 1, Service ``type`` ClusterIP, port ``protocol`` TCP,
Secret ``type`` Opaque) are applied here too, so a half-built object still
prints sensibly. Quantities are printed as stored (the server stores them in
canonical form), and rows come out in the order the objects are given.

Most column descriptions are, upstream, the documentation of an API field
(``metav1.ObjectMeta{}.SwaggerDoc()["name"]``, ``apiv1.PodStatus{}.SwaggerDoc()["podIP"]``...);
here each such column names its field (:class:`_Field`) and the caller passes
a lookup into the imitated version's API schemas (``describe``), so a sandbox
imitating 1.34 serves 1.34's wording. Where printers.go cites the
extensions/v1beta1 Deployment and ReplicaSet types, which the served schemas no
longer have (removed in 1.16), their apps/v1 successors are used; they add "It
must match the pod template's labels." to the selectors. The other columns
keep printers.go's literal texts. kubectl never prints descriptions.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...k8s.ages import human_duration, parse_time, translate_timestamp_since
from ...k8s.pods import pod_summary
from ...k8s.selectors import SelectorError, format_label_selector, label_selector_string

__all__ = [
    "Describe",
    "FINISHED_PODS_NOT_TERMINATING_SINCE",
    "PRINTED_RESOURCES",
    "VOLUME_ATTRIBUTES_CLASS_SINCE",
    "column_definitions",
    "human_duration",
    "parse_k8s_version",
    "table",
    "translate_timestamp_since",
]

#: The first release whose PV and PVC tables have a VOLUMEATTRIBUTESCLASS
#: column (``<unset>`` unless ``spec.volumeAttributesClassName`` is set). The
#: column arrived with the VolumeAttributesClass API (KEP-3751, alpha in v1.29,
#: kubernetes/kubernetes PR #121104); the guide's v1.27 output has none. That
#: the printer change shipped in v1.29 itself, not later, is not confirmed.
VOLUME_ATTRIBUTES_CLASS_SINCE = (1, 29)

#: From this release a pod being deleted that has already Succeeded or Failed
#: keeps showing its phase's status instead of ``Terminating``
#: (kubernetes/kubernetes PR #122038, still in review on 2024-06-06, so v1.31
#: at the earliest). Before it, any pod with a deletionTimestamp is Terminating.
FINISHED_PODS_NOT_TERMINATING_SINCE = (1, 31)

# --------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------


def parse_k8s_version(version: str) -> tuple[int, int]:
    """``"1.27"``, ``"v1.27.3"`` → ``(1, 27)``; ``"current"``/``"latest"`` sort after every release."""
    text = version.strip().lower()
    if text in ("current", "latest"):
        return (1, 10_000)
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?", text)
    if not match:
        raise ValueError(f"k8s_version must look like '1.27' or 'v1.27.3', got {version!r}")
    return int(match.group(1)), int(match.group(2))


# --------------------------------------------------------------------------
# Column definitions
# --------------------------------------------------------------------------

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_CORE = "io.k8s.api.core.v1."
_APPS = "io.k8s.api.apps.v1."

#: A column description lookup: (definition name, field path) → the field's documentation in the
#: imitated version's API schemas (``Schemas.field_description``).
Describe = Callable[[str, str], str]


@dataclass(frozen=True)
class _Field:
    """A description upstream takes from an API field's documentation (``<Type>{}.SwaggerDoc()[field]``).

    ``definition`` names the Go type as the schemas do; ``path`` is the field
    (``kubectl explain`` style, dots between nested fields).
    """

    definition: str
    path: str


# printers.go builds these with metav1.ObjectMeta{}.SwaggerDoc()["name"] and ["creationTimestamp"].
_OBJECT_NAME = _Field(_META + "ObjectMeta", "name")
_CREATION_TIMESTAMP = _Field(_META + "ObjectMeta", "creationTimestamp")


def _core(type_name: str, path: str) -> _Field:
    return _Field(_CORE + type_name, path)


def _apps(type_name: str, path: str) -> _Field:
    return _Field(_APPS + type_name, path)


def _endpoint_slice(path: str) -> _Field:
    return _Field("io.k8s.api.discovery.v1.EndpointSlice", path)


def _storage_class(path: str) -> _Field:
    return _Field("io.k8s.api.storage.v1.StorageClass", path)


_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."
_READY_DOC = "Number of the pod with ready state"


@dataclass(frozen=True)
class _Column:
    """One ``metav1.TableColumnDefinition``, plus the release it first appeared in."""

    name: str
    type: str
    description: str | _Field
    priority: int = 0
    format: str = ""
    since: tuple[int, int] | None = None

    def as_json(self, describe: Describe | None) -> dict[str, Any]:
        description = self.description
        if isinstance(description, _Field):
            description = describe(description.definition, description.path) if describe else ""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        }


def _name_col() -> _Column:
    return _Column("Name", "string", _OBJECT_NAME, format="name")


def _age_col() -> _Column:
    return _Column("Age", "string", _CREATION_TIMESTAMP)


# --------------------------------------------------------------------------
# Small helpers shared by the printers (printers.go and apimachinery)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every printer may consult besides the object: the clock and the release."""

    now: datetime
    version: tuple[int, int]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _age(obj: Mapping[str, Any], ctx: _Context) -> str:
    return translate_timestamp_since(_meta(obj).get("creationTimestamp"), ctx.now)


def _replicas(spec: Mapping[str, Any]) -> int:
    """``spec.replicas`` after API defaulting (nil → 1)."""
    replicas = spec.get("replicas")
    return 1 if replicas is None else int(replicas)


def _layout_container_cells(containers: Iterable[Mapping[str, Any]]) -> tuple[str, str]:
    """printers.go ``layoutContainerCells``: names and images, comma-joined."""
    containers = list(containers)
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def _template_containers(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    template = _spec(obj).get("template") or {}
    return list((template.get("spec") or {}).get("containers") or [])


def _format_labels(labels: Mapping[str, str] | None) -> str:
    """apimachinery ``labels.FormatLabels``: ``k=v`` sorted by key, or ``<none>``."""
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels or {}))
    return text or "<none>"


def _access_modes(modes: Iterable[str] | None) -> str:
    """core helper ``GetAccessModesAsString``: fixed order RWO, ROX, RWX, RWOP."""
    present = set(modes or [])
    short = (
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    )
    return ",".join(abbrev for mode, abbrev in short if mode in present)


def _quantity(resources: Mapping[str, Any] | None, name: str = "storage") -> str:
    """``resource.Quantity.String()`` of a stored (already canonical) quantity; zero is ``0``."""
    value = (resources or {}).get(name)
    return "0" if value in (None, "") else str(value)


_BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _join_host_port(host: str, port: Any) -> str:
    """Go ``net.JoinHostPort``: brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _list_with_more(items: list[str], more: bool, count: int, limit: int) -> str:
    """printers.go ``listWithMoreString``."""
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


# --------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------

_POD_SUCCEEDED_CONDITIONS = [
    {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
]
_POD_FAILED_CONDITIONS = [
    {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}
]


def _pod_cells(pod: Mapping[str, Any], ctx: _Context) -> list[Any]:
    """printers.go ``printPod``, wide (the status logic is :func:`stsnb.k8s.pods.pod_summary`)."""
    meta, spec, status = _meta(pod), _spec(pod), _status(pod)
    summary = pod_summary(pod, finished_not_terminating=ctx.version >= FINISHED_PODS_NOT_TERMINATING_SINCE)
    restarts_cell = str(summary.restarts)
    if summary.restarts != 0 and summary.last_restart is not None:
        restarts_cell = f"{summary.restarts} ({translate_timestamp_since(summary.last_restart, ctx.now)} ago)"

    # v1 → internal conversion: podIP wins, else podIPs[0].
    pod_ips = status.get("podIPs") or []
    pod_ip = status.get("podIP") or (pod_ips[0].get("ip", "") if pod_ips else "")

    gates = spec.get("readinessGates") or []
    readiness_gates = "<none>"
    if gates:
        true_conditions = 0
        for gate in gates:
            for condition in status.get("conditions") or []:
                if condition.get("type") == gate.get("conditionType"):
                    if condition.get("status") == "True":
                        true_conditions += 1
                    break
        readiness_gates = f"{true_conditions}/{len(gates)}"

    return [
        meta.get("name", ""),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        restarts_cell,
        _age(pod, ctx),
        pod_ip or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        readiness_gates,
    ]


def _pod_conditions(pod: Mapping[str, Any]) -> list[dict[str, str]] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return copy.deepcopy(_POD_SUCCEEDED_CONDITIONS)
    if phase == "Failed":
        return copy.deepcopy(_POD_FAILED_CONDITIONS)
    return None


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


def _statefulset_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    names, images = _layout_container_cells(_template_containers(obj))
    ready = int(_status(obj).get("readyReplicas", 0))
    return [_meta(obj).get("name", ""), f"{ready}/{_replicas(_spec(obj))}", _age(obj, ctx), names, images]


def _deployment_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    status = _status(obj)
    names, images = _layout_container_cells(_template_containers(obj))
    try:
        selector = label_selector_string(_spec(obj).get("selector"))
    except SelectorError:
        selector = "<invalid>"
    return [
        _meta(obj).get("name", ""),
        f"{int(status.get('readyReplicas', 0))}/{_replicas(_spec(obj))}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        _age(obj, ctx),
        names,
        images,
        selector,
    ]


def _replicaset_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    status = _status(obj)
    names, images = _layout_container_cells(_template_containers(obj))
    return [
        _meta(obj).get("name", ""),
        _replicas(_spec(obj)),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        _age(obj, ctx),
        names,
        images,
        format_label_selector(_spec(obj).get("selector")),
    ]


def _controllerrevision_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    controller = "<none>"
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller") is True:
            api_version = ref.get("apiVersion", "")
            group = api_version.split("/", 1)[0] if "/" in api_version else ""
            kind = ref.get("kind", "")
            group_kind = f"{kind}.{group}" if group else kind
            controller = f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else ref.get("name", "")
            break
    return [_meta(obj).get("name", ""), controller, int(obj.get("revision", 0)), _age(obj, ctx)]


# --------------------------------------------------------------------------
# Networking
# --------------------------------------------------------------------------


def _service_external_ip(spec: Mapping[str, Any], status: Mapping[str, Any], svc_type: str) -> str:
    """printers.go ``getServiceExternalIP`` (wide, so load-balancer addresses are not clipped)."""
    external_ips = list(spec.get("externalIPs") or [])
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if svc_type == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        lb = sorted({i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")})
        if external_ips:
            return ",".join(lb + external_ips)
        return ",".join(lb) if lb else "<pending>"
    if svc_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    spec = _spec(obj)
    svc_type = spec.get("type") or "ClusterIP"
    cluster_ips = spec.get("clusterIPs") or []
    # v1 → internal conversion: clusterIP wins, else clusterIPs[0].
    internal_ip = spec.get("clusterIP") or (cluster_ips[0] if cluster_ips else "") or "<none>"
    pieces = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return [
        _meta(obj).get("name", ""),
        svc_type,
        internal_ip,
        _service_external_ip(spec, _status(obj), svc_type),
        ",".join(pieces) or "<none>",
        _age(obj, ctx),
        _format_labels(spec.get("selector")),
    ]


def _format_endpoints(obj: Mapping[str, Any]) -> str:
    """printers.go ``formatEndpoints`` with all ports: at most 3, then ``+ N more...``."""
    subsets = obj.get("subsets") or []
    if not subsets:
        return "<none>"
    limit, items, more, count = 3, [], False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            count += len(addresses)
            for address in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(address.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for address in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(_join_host_port(address.get("ip", ""), port.get("port", 0)))
    text = ",".join(items)
    return f"{text} + {count - limit} more..." if more else text


def _endpoints_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    return [_meta(obj).get("name", ""), _format_endpoints(obj), _age(obj, ctx)]


def _endpointslice_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    limit = 3
    ports, more, count = [], False, 0
    for port in obj.get("ports") or []:
        if len(ports) < limit:
            if port.get("port") is not None:
                ports.append(str(port["port"]))
            elif port.get("name") is not None:
                ports.append(port["name"])
            else:
                ports.append("*")
        elif len(ports) == limit:
            more = True
        count += 1
    ports_cell = _list_with_more(ports, more, count, limit)

    addresses, more, count = [], False, 0
    for endpoint in obj.get("endpoints") or []:
        for address in endpoint.get("addresses") or []:
            if len(addresses) < limit:
                addresses.append(address)
            elif len(addresses) == limit:
                more = True
            count += 1
    endpoints_cell = _list_with_more(addresses, more, count, limit)

    return [
        _meta(obj).get("name", ""),
        obj.get("addressType", ""),
        ports_cell,
        endpoints_cell,
        _age(obj, ctx),
    ]


# --------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------


def _pvc_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    phase = "Terminating" if meta.get("deletionTimestamp") else status.get("phase", "")
    capacity = access_modes = ""
    if spec.get("volumeName"):
        access_modes = _access_modes(status.get("accessModes"))
        capacity = _quantity(status.get("capacity"))
    annotations = meta.get("annotations") or {}
    if _BETA_STORAGE_CLASS_ANNOTATION in annotations:
        storage_class = annotations[_BETA_STORAGE_CLASS_ANNOTATION]
    else:
        storage_class = spec.get("storageClassName") or ""
    return [
        meta.get("name", ""),
        phase,
        spec.get("volumeName", ""),
        capacity,
        access_modes,
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(obj, ctx),
        spec.get("volumeMode") or "<unset>",
    ]


def _pv_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    claim_ref = spec.get("claimRef")
    claim = f"{claim_ref.get('namespace', '')}/{claim_ref.get('name', '')}" if claim_ref else ""
    phase = "Terminating" if meta.get("deletionTimestamp") else status.get("phase", "")
    annotations = meta.get("annotations") or {}
    if _BETA_STORAGE_CLASS_ANNOTATION in annotations:
        storage_class = annotations[_BETA_STORAGE_CLASS_ANNOTATION]
    else:
        storage_class = spec.get("storageClassName") or ""
    return [
        meta.get("name", ""),
        _quantity(spec.get("capacity")),
        _access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        claim,
        storage_class,
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        _age(obj, ctx),
        spec.get("volumeMode") or "<unset>",
    ]


_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _storageclass_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    meta = _meta(obj)
    annotations = meta.get("annotations") or {}
    name = meta.get("name", "")
    if any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy") or "Delete",
        obj.get("volumeBindingMode") or "Immediate",
        bool(obj.get("allowVolumeExpansion")),
        _age(obj, ctx),
    ]


# --------------------------------------------------------------------------
# Cluster objects
# --------------------------------------------------------------------------


def _namespace_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    return [_meta(obj).get("name", ""), _status(obj).get("phase", ""), _age(obj, ctx)]


_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def _node_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    states: list[str] = []
    if "Ready" in conditions:
        states.append("Ready" if conditions["Ready"].get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")

    roles: set[str] = set()
    for key, value in (meta.get("labels") or {}).items():
        if key.startswith(_NODE_ROLE_PREFIX):
            role = key[len(_NODE_ROLE_PREFIX) :]
            if role:
                roles.add(role)
        elif key == _NODE_ROLE_LABEL and value:
            roles.add(value)

    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    info = status.get("nodeInfo") or {}
    return [
        meta.get("name", ""),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        _age(obj, ctx),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    first = obj.get("firstTimestamp")
    if parse_time(first) is None:
        first_seen = translate_timestamp_since(obj.get("eventTime"), ctx.now)
    else:
        first_seen = translate_timestamp_since(first, ctx.now)
    last = obj.get("lastTimestamp")
    last_seen = first_seen if parse_time(last) is None else translate_timestamp_since(last, ctx.now)

    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if series is not None:
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), ctx.now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events carry no count in the events.k8s.io API

    involved = obj.get("involvedObject") or {}
    kind = involved.get("kind", "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind

    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    instance = source.get("host") or obj.get("reportingInstance") or ""
    source_cell = f"{component}, {instance}" if instance else component

    return [
        last_seen,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        source_cell,
        (obj.get("message") or "").strip(),
        first_seen,
        count,
        _meta(obj).get("name", ""),
    ]


def _configmap_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_meta(obj).get("name", ""), count, _age(obj, ctx)]


def _secret_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
    return [_meta(obj).get("name", ""), obj.get("type") or "Opaque", len(keys), _age(obj, ctx)]


def _serviceaccount_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    return [_meta(obj).get("name", ""), len(obj.get("secrets") or []), _age(obj, ctx)]


# --------------------------------------------------------------------------
# The printer table
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Printer:
    """One ``TableHandler`` registration: the kind it prints, its columns, its row function."""

    kind: str
    api_version: str
    columns: tuple[_Column, ...]
    cells: Callable[[Mapping[str, Any], _Context], list[Any]]
    conditions: Callable[[Mapping[str, Any]], list[dict[str, str]] | None] | None = None


def _wide(name: str, description: str | _Field) -> _Column:
    return _Column(name, "string", description, priority=1)


_PRINTERS: dict[str, _Printer] = {
    "pods": _Printer(
        "Pod",
        "v1",
        (
            _name_col(),
            _Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            _Column("Status", "string", "The aggregate status of the containers in this pod."),
            _Column(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when the last "
                "container in this pod has restarted.",
            ),
            _age_col(),
            _wide("IP", _core("PodStatus", "podIP")),
            _wide("Node", _core("PodSpec", "nodeName")),
            _wide("Nominated Node", _core("PodStatus", "nominatedNodeName")),
            _wide("Readiness Gates", _core("PodSpec", "readinessGates")),
        ),
        _pod_cells,
        _pod_conditions,
    ),
    "statefulsets": _Printer(
        "StatefulSet",
        "apps/v1",
        (
            _name_col(),
            _Column("Ready", "string", _READY_DOC),
            _age_col(),
            _wide("Containers", _CONTAINERS_DOC),
            _wide("Images", _IMAGES_DOC),
        ),
        _statefulset_cells,
    ),
    # printers.go describes these two with extensions/v1beta1's types; apps/v1's stand in (see the top).
    "deployments": _Printer(
        "Deployment",
        "apps/v1",
        (
            _name_col(),
            _Column("Ready", "string", _READY_DOC),
            _Column("Up-to-date", "string", _apps("DeploymentStatus", "updatedReplicas")),
            _Column("Available", "string", _apps("DeploymentStatus", "availableReplicas")),
            _age_col(),
            _wide("Containers", _CONTAINERS_DOC),
            _wide("Images", _IMAGES_DOC),
            _wide("Selector", _apps("DeploymentSpec", "selector")),
        ),
        _deployment_cells,
    ),
    "replicasets": _Printer(
        "ReplicaSet",
        "apps/v1",
        (
            _name_col(),
            _Column("Desired", "integer", _apps("ReplicaSetSpec", "replicas")),
            _Column("Current", "integer", _apps("ReplicaSetStatus", "replicas")),
            _Column("Ready", "integer", _apps("ReplicaSetStatus", "readyReplicas")),
            _age_col(),
            _wide("Containers", _CONTAINERS_DOC),
            _wide("Images", _IMAGES_DOC),
            _wide("Selector", _apps("ReplicaSetSpec", "selector")),
        ),
        _replicaset_cells,
    ),
    "controllerrevisions": _Printer(
        "ControllerRevision",
        "apps/v1",
        (
            _name_col(),
            _Column("Controller", "string", "Controller of the object"),
            _Column("Revision", "string", _apps("ControllerRevision", "revision")),
            _age_col(),
        ),
        _controllerrevision_cells,
    ),
    "services": _Printer(
        "Service",
        "v1",
        (
            _name_col(),
            _Column("Type", "string", _core("ServiceSpec", "type")),
            _Column("Cluster-IP", "string", _core("ServiceSpec", "clusterIP")),
            _Column("External-IP", "string", _core("ServiceSpec", "externalIPs")),
            _Column("Port(s)", "string", _core("ServiceSpec", "ports")),
            _age_col(),
            _wide("Selector", _core("ServiceSpec", "selector")),
        ),
        _service_cells,
    ),
    "endpoints": _Printer(
        "Endpoints",
        "v1",
        (_name_col(), _Column("Endpoints", "string", _core("Endpoints", "subsets")), _age_col()),
        _endpoints_cells,
    ),
    "endpointslices": _Printer(
        "EndpointSlice",
        "discovery.k8s.io/v1",
        (
            _name_col(),
            _Column("AddressType", "string", _endpoint_slice("addressType")),
            _Column("Ports", "string", _endpoint_slice("ports")),
            _Column("Endpoints", "string", _endpoint_slice("endpoints")),
            _age_col(),
        ),
        _endpointslice_cells,
    ),
    "persistentvolumeclaims": _Printer(
        "PersistentVolumeClaim",
        "v1",
        (
            _name_col(),
            _Column("Status", "string", _core("PersistentVolumeClaimStatus", "phase")),
            _Column("Volume", "string", _core("PersistentVolumeClaimSpec", "volumeName")),
            _Column("Capacity", "string", _core("PersistentVolumeClaimStatus", "capacity")),
            _Column("Access Modes", "string", _core("PersistentVolumeClaimStatus", "accessModes")),
            _Column("StorageClass", "string", "StorageClass of the pvc"),
            _Column(
                "VolumeAttributesClass",
                "string",
                "VolumeAttributesClass of the pvc",
                since=VOLUME_ATTRIBUTES_CLASS_SINCE,
            ),
            _age_col(),
            _wide("VolumeMode", _core("PersistentVolumeClaimSpec", "volumeMode")),
        ),
        _pvc_cells,
    ),
    "persistentvolumes": _Printer(
        "PersistentVolume",
        "v1",
        (
            _name_col(),
            _Column("Capacity", "string", _core("PersistentVolumeSpec", "capacity")),
            _Column("Access Modes", "string", _core("PersistentVolumeSpec", "accessModes")),
            _Column("Reclaim Policy", "string", _core("PersistentVolumeSpec", "persistentVolumeReclaimPolicy")),
            _Column("Status", "string", _core("PersistentVolumeStatus", "phase")),
            _Column("Claim", "string", _core("PersistentVolumeSpec", "claimRef")),
            _Column("StorageClass", "string", "StorageClass of the pv"),
            _Column(
                "VolumeAttributesClass",
                "string",
                "VolumeAttributesClass of the pv",
                since=VOLUME_ATTRIBUTES_CLASS_SINCE,
            ),
            _Column("Reason", "string", _core("PersistentVolumeStatus", "reason")),
            _age_col(),
            _wide("VolumeMode", _core("PersistentVolumeSpec", "volumeMode")),
        ),
        _pv_cells,
    ),
    "storageclasses": _Printer(
        "StorageClass",
        "storage.k8s.io/v1",
        (
            _name_col(),
            _Column("Provisioner", "string", _storage_class("provisioner")),
            _Column("ReclaimPolicy", "string", _storage_class("reclaimPolicy")),
            _Column("VolumeBindingMode", "string", _storage_class("volumeBindingMode")),
            _Column("AllowVolumeExpansion", "string", _storage_class("allowVolumeExpansion")),
            _age_col(),
        ),
        _storageclass_cells,
    ),
    "namespaces": _Printer(
        "Namespace",
        "v1",
        (_name_col(), _Column("Status", "string", "The status of the namespace"), _age_col()),
        _namespace_cells,
    ),
    "nodes": _Printer(
        "Node",
        "v1",
        (
            _name_col(),
            _Column("Status", "string", "The status of the node"),
            _Column("Roles", "string", "The roles of the node"),
            _age_col(),
            _Column("Version", "string", _core("NodeSystemInfo", "kubeletVersion")),
            _wide("Internal-IP", _core("NodeStatus", "addresses")),
            _wide("External-IP", _core("NodeStatus", "addresses")),
            _wide("OS-Image", _core("NodeSystemInfo", "osImage")),
            _wide("Kernel-Version", _core("NodeSystemInfo", "kernelVersion")),
            _wide("Container-Runtime", _core("NodeSystemInfo", "containerRuntimeVersion")),
        ),
        _node_cells,
    ),
    "events": _Printer(
        "Event",
        "v1",
        (
            _Column("Last Seen", "string", _core("Event", "lastTimestamp")),
            _Column("Type", "string", _core("Event", "type")),
            _Column("Reason", "string", _core("Event", "reason")),
            _Column("Object", "string", _core("Event", "involvedObject")),
            _wide("Subobject", _core("ObjectReference", "fieldPath")),
            _wide("Source", _core("Event", "source")),
            _Column("Message", "string", _core("Event", "message")),
            _wide("First Seen", _core("Event", "firstTimestamp")),
            _wide("Count", _core("Event", "count")),
            _Column("Name", "string", _OBJECT_NAME, priority=1, format="name"),
        ),
        _event_cells,
    ),
    "configmaps": _Printer(
        "ConfigMap",
        "v1",
        (_name_col(), _Column("Data", "string", _core("ConfigMap", "data")), _age_col()),
        _configmap_cells,
    ),
    "secrets": _Printer(
        "Secret",
        "v1",
        (
            _name_col(),
            _Column("Type", "string", _core("Secret", "type")),
            _Column("Data", "string", _core("Secret", "data")),
            _age_col(),
        ),
        _secret_cells,
    ),
    "serviceaccounts": _Printer(
        "ServiceAccount",
        "v1",
        (_name_col(), _Column("Secrets", "string", _core("ServiceAccount", "secrets")), _age_col()),
        _serviceaccount_cells,
    ),
}

#: Resources (plural names) with a dedicated printer; anything else gets NAME and AGE.
PRINTED_RESOURCES: tuple[str, ...] = tuple(sorted(_PRINTERS))

# apiextensions-apiserver's tableconvertor: the columns of a resource without printer columns.
_FALLBACK_COLUMNS = (
    _name_col(),
    _Column(
        "Age",
        "date",
        "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
    ),
)


def _fallback_cells(obj: Mapping[str, Any], ctx: _Context) -> list[Any]:
    created = _meta(obj).get("creationTimestamp")
    age = None if parse_time(created) is None else translate_timestamp_since(created, ctx.now)
    return [_meta(obj).get("name", ""), age]


def _visible(columns: Iterable[_Column], version: tuple[int, int]) -> list[bool]:
    return [column.since is None or version >= column.since for column in columns]


def column_definitions(
    plural: str, k8s_version: str = "1.27", describe: Describe | None = None
) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of ``plural``'s Table at ``k8s_version`` (wide columns included).

    ``describe`` looks up field descriptions as for :func:`table`.
    """
    printer = _PRINTERS.get(plural)
    columns = printer.columns if printer else _FALLBACK_COLUMNS
    keep = _visible(columns, parse_k8s_version(k8s_version))
    return [column.as_json(describe) for column, shown in zip(columns, keep) if shown]


def _partial_object_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """apimachinery ``meta.AsPartialObjectMetadata`` with the Table's group version."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": copy.deepcopy(dict(_meta(obj))),
    }


def _full_object(obj: Mapping[str, Any], printer: _Printer | None) -> dict[str, Any]:
    full = copy.deepcopy(dict(obj))
    if printer is not None:
        full.setdefault("kind", printer.kind)
        full.setdefault("apiVersion", printer.api_version)
    return full


def table(
    plural: str,
    objects: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    k8s_version: str = "1.27",
    include_object: str = "Metadata",
    list_meta: Mapping[str, Any] | None = None,
    no_headers: bool = False,
    describe: Describe | None = None,
) -> dict[str, Any]:
    """Render ``objects`` of resource ``plural`` as kube-apiserver's ``meta.k8s.io/v1`` Table.

    Args:
        plural: the resource's plural name (``"pods"``, ``"statefulsets"``, ...).
            One without a printer (see :data:`PRINTED_RESOURCES`) gets NAME and AGE.
        objects: the objects, as served (camelCase JSON dicts), in the order the
            rows should appear; the API server lists them by namespace and name.
        now: the server's clock, for every AGE and "ago" cell.
        k8s_version: the imitated release (``"1.27"``, ``"v1.30.2"``, ``"current"``);
            it decides whether PVs and PVCs have a VOLUMEATTRIBUTESCLASS column
            (:data:`VOLUME_ATTRIBUTES_CLASS_SINCE`) and whether a finished pod
            being deleted reads ``Terminating`` (:data:`FINISHED_PODS_NOT_TERMINATING_SINCE`).
        include_object: the ``includeObject`` query parameter: ``"Metadata"``
            (kubectl's default; each row carries a ``PartialObjectMetadata``),
            ``"Object"`` (the whole object) or ``"None"`` (``"object": null``).
        list_meta: the list's ``metadata`` (``resourceVersion``, ``continue``,
            ``remainingItemCount``); for a single GET pass the object's
            ``resourceVersion``. Empty values are omitted, as Go does.
        no_headers: the ``TableOptions.noHeaders`` flag (watch events after the
            first): ``columnDefinitions`` is then ``null``.
        describe: ``(definition, field path) → text``, the imitated version's
            field documentation (``Schemas.field_description``), for the columns
            upstream describes with an API field's ``SwaggerDoc()``. Without it
            those descriptions are empty; the other columns keep printers.go's
            literal texts.

    Returns:
        The Table as a JSON-ready dict. Wide (priority 1) columns and cells are
        always included, as upstream's ``TableConvertor`` generates them; kubectl
        hides them unless ``-o wide``.

    Raises:
        ValueError: for an unknown ``include_object`` (the server answers 400)
            or a malformed ``k8s_version``.
    """
    if include_object not in ("Metadata", "Object", "None", ""):
        raise ValueError(f'unrecognized includeObject value: "{include_object}"')
    version = parse_k8s_version(k8s_version)
    ctx = _Context(now=now if now.tzinfo else now.replace(tzinfo=timezone.utc), version=version)
    printer = _PRINTERS.get(plural)
    columns = printer.columns if printer else _FALLBACK_COLUMNS
    cells_of = printer.cells if printer else _fallback_cells
    keep = _visible(columns, version)

    rows = []
    for obj in objects:
        cells = cells_of(obj, ctx)
        row: dict[str, Any] = {"cells": [cell for cell, shown in zip(cells, keep, strict=True) if shown]}
        conditions = printer.conditions(obj) if printer and printer.conditions else None
        if conditions:
            row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = _full_object(obj, printer)
        elif include_object == "None":
            row["object"] = None
        else:
            row["object"] = _partial_object_metadata(obj)
        rows.append(row)

    list_meta = list_meta or {}
    metadata = {
        key: list_meta[key]
        for key in ("resourceVersion", "continue", "remainingItemCount")
        if list_meta.get(key) not in (None, "")
    }
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": None
        if no_headers
        else [column.as_json(describe) for column, shown in zip(columns, keep) if shown],
        "rows": rows,
    }
