"""The rows of kube-apiserver's ``Table``s: the cell rules of printers.go, printer by printer.

Each ``*_cells`` function is one printer of
``kubernetes/kubernetes:pkg/printers/internalversion/printers.go``
(``printPod``, ``printStatefulSet``, ...) in its wide form: it takes a plain
object dict (camelCase JSON as the API serves it) and a :class:`Context` and
returns the row's cells, one per column of :mod:`.printers`' column table, in
that order. The few defaults the printers depend on (``spec.replicas`` 1,
Service ``type`` ClusterIP, port ``protocol`` TCP, Secret ``type`` Opaque) are
applied here, so a half-built object still prints sensibly.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...k8s.ages import human_duration, parse_time, translate_timestamp_since
from ...k8s.pods import pod_summary
from ...k8s.selectors import SelectorError, format_label_selector, label_selector_string

#: From this release a pod being deleted that has already Succeeded or Failed
#: keeps showing its phase's status instead of ``Terminating``
#: (kubernetes/kubernetes PR #122038, still in review on 2024-06-06, so v1.31
#: at the earliest). Before it, any pod with a deletionTimestamp is Terminating.
FINISHED_PODS_NOT_TERMINATING_SINCE = (1, 31)


# --------------------------------------------------------------------------
# Small helpers shared by the printers (printers.go and apimachinery)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every printer may consult besides the object: the clock and the release."""

    now: datetime
    version: tuple[int, int]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _age(obj: Mapping[str, Any], ctx: Context) -> str:
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


def pod_cells(pod: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def pod_conditions(pod: Mapping[str, Any]) -> list[dict[str, str]] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return copy.deepcopy(_POD_SUCCEEDED_CONDITIONS)
    if phase == "Failed":
        return copy.deepcopy(_POD_FAILED_CONDITIONS)
    return None


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


def statefulset_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    names, images = _layout_container_cells(_template_containers(obj))
    ready = int(_status(obj).get("readyReplicas", 0))
    return [_meta(obj).get("name", ""), f"{ready}/{_replicas(_spec(obj))}", _age(obj, ctx), names, images]


def deployment_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def replicaset_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def controllerrevision_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def service_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def endpoints_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    return [_meta(obj).get("name", ""), _format_endpoints(obj), _age(obj, ctx)]


def endpointslice_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def pvc_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def pv_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def storageclass_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def namespace_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    return [_meta(obj).get("name", ""), _status(obj).get("phase", ""), _age(obj, ctx)]


_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODE_ROLE_LABEL = "kubernetes.io/role"


def node_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def event_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
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


def configmap_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_meta(obj).get("name", ""), count, _age(obj, ctx)]


def secret_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
    return [_meta(obj).get("name", ""), obj.get("type") or "Opaque", len(keys), _age(obj, ctx)]


def serviceaccount_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    return [_meta(obj).get("name", ""), len(obj.get("secrets") or []), _age(obj, ctx)]


# --------------------------------------------------------------------------
# Kinds learners create beyond the guide's: printJob, printCronJob, printIngress,
# printPodDisruptionBudget, printHorizontalPodAutoscaler, printLease, printRoleBinding
# --------------------------------------------------------------------------

#: From this release ``kubectl get jobs`` has a STATUS column and ``get hpa`` names each metric
#: (``cpu: <unknown>/80%``): kubernetes/kubernetes PR #122804 and the Job printer's Status,
#: merged early in 2024 for v1.30 (the release of the Job column is not confirmed).
JOB_STATUS_AND_HPA_METRIC_NAMES_SINCE = (1, 30)


def _has_condition(obj: Mapping[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in _status(obj).get("conditions") or [])


def job_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration(((end or ctx.now) - start).total_seconds())
    for state, condition in (("Complete", "Complete"), ("Failed", "Failed")):
        if _has_condition(obj, condition):
            break
    else:
        state = ("Terminating" if _meta(obj).get("deletionTimestamp") else
                 "Suspended" if _has_condition(obj, "Suspended") else
                 "FailureTarget" if _has_condition(obj, "FailureTarget") else "Running")
    names, images = _layout_container_cells(_template_containers(obj))
    return [_meta(obj).get("name", ""), state, completions, duration, _age(obj, ctx), names, images,
            format_label_selector(spec.get("selector"))]


def cronjob_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    last = status.get("lastScheduleTime")
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = _layout_container_cells(_template_containers({"spec": job_spec}))
    suspend = spec.get("suspend")
    return [_meta(obj).get("name", ""), spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            "<unset>" if suspend is None else ("True" if suspend else "False"),  # printBoolPtr
            len(status.get("active") or []), translate_timestamp_since(last, ctx.now) if last else "<none>",
            _age(obj, ctx), names, images, format_label_selector(job_spec.get("selector"))]


def _load_balancer(status: Mapping[str, Any]) -> str:
    """``ingressLoadBalancerStatusStringer`` in its wide form: IPs or hostnames, sorted, comma-joined."""
    found = sorted({i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []
                    if i.get("ip") or i.get("hostname")})
    return ",".join(found)


def ingress_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    spec = _spec(obj)
    rules = spec.get("rules") or []
    hosts = [r["host"] for r in rules if r.get("host")][:3]
    more = len(rules) > 3 and len(hosts) == 3
    host_cell = ",".join(hosts) or "*"
    if more:
        host_cell = f"{host_cell} + {len(rules) - 3} more..."
    return [_meta(obj).get("name", ""), spec.get("ingressClassName") or "<none>", host_cell,
            _load_balancer(_status(obj)), "80, 443" if spec.get("tls") else "80", _age(obj, ctx)]


def pdb_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    spec = _spec(obj)
    low, high = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [_meta(obj).get("name", ""), "N/A" if low is None else str(low), "N/A" if high is None else str(high),
            _status(obj).get("disruptionsAllowed", 0), _age(obj, ctx)]


def _hpa_metric(spec: Mapping[str, Any], status: Mapping[str, Any] | None, named: bool) -> str:
    """One entry of printers.go ``formatHPAMetrics`` (autoscaling/v2 shapes)."""
    kind = spec.get("type")
    if kind in ("Resource", "ContainerResource"):
        key = "resource" if kind == "Resource" else "containerResource"
        source, now = spec.get(key) or {}, ((status or {}).get(key) or {}).get("current") or {}
        target = source.get("target") or {}
        prefix = f"{source.get('name', '')}: " if named else ""
        if target.get("averageValue") is not None:
            current = now.get("averageValue", "<unknown>") if status and status.get(key) else "<unknown>"
            return f"{prefix}{current}/{target['averageValue']}"
        current = f"{now['averageUtilization']}%" if now.get("averageUtilization") is not None else "<unknown>"
        goal = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{prefix}{current}/{goal}"
    if kind in ("External", "Object"):
        key = kind.lower()
        target = (spec.get(key) or {}).get("target") or {}
        now = ((status or {}).get(key) or {}).get("current") or {}
        if target.get("averageValue") is not None:
            return f"{now.get('averageValue', '<unknown>')}/{target['averageValue']} (avg)"
        return f"{now.get('value', '<unknown>')}/{target.get('value')}"
    if kind == "Pods":
        target = ((spec.get("pods") or {}).get("target") or {}).get("averageValue")
        now = (((status or {}).get("pods") or {}).get("current") or {}).get("averageValue", "<unknown>")
        return f"{now}/{target}"
    return "<unknown type>"


def hpa_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    spec, status = _spec(obj), _status(obj)
    ref = spec.get("scaleTargetRef") or {}
    metrics = spec.get("metrics") or []
    current = status.get("currentMetrics") or []
    named = ctx.version >= JOB_STATUS_AND_HPA_METRIC_NAMES_SINCE
    entries = [_hpa_metric(m, current[i] if i < len(current) else None, named) for i, m in enumerate(metrics)]
    targets = "<none>" if not entries else ", ".join(entries[:2]) + (
        f" + {len(entries) - 2} more..." if len(entries) > 2 else "")
    low = spec.get("minReplicas")
    return [_meta(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", targets,
            "<unset>" if low is None else str(low), spec.get("maxReplicas", 0), status.get("currentReplicas", 0),
            _age(obj, ctx)]


def lease_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    return [_meta(obj).get("name", ""), _spec(obj).get("holderIdentity") or "", _age(obj, ctx)]


def rolebinding_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    """printRoleBinding / printClusterRoleBinding, with rbac ``SubjectsStrings`` for the wide columns."""
    ref = obj.get("roleRef") or {}
    users, groups, accounts = [], [], []
    for s in obj.get("subjects") or []:
        if s.get("kind") == "ServiceAccount":
            accounts.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
        elif s.get("kind") == "User":
            users.append(s.get("name", ""))
        elif s.get("kind") == "Group":
            groups.append(s.get("name", ""))
    return [_meta(obj).get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(obj, ctx),
            ", ".join(users), ", ".join(groups), ", ".join(accounts)]


def default_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    """apiserver's ``rest.NewDefaultTableConvertor`` (Role, ClusterRole): NAME and CREATED AT (RFC 3339)."""
    created = parse_time(_meta(obj).get("creationTimestamp"))
    return [_meta(obj).get("name", ""), created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else None]


def fallback_cells(obj: Mapping[str, Any], ctx: Context) -> list[Any]:
    """apiextensions-apiserver's tableconvertor row of a resource without printer columns: NAME and AGE."""
    created = _meta(obj).get("creationTimestamp")
    age = None if parse_time(created) is None else translate_timestamp_since(created, ctx.now)
    return [_meta(obj).get("name", ""), age]
