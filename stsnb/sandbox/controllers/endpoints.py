"""Endpoints and EndpointSlices for Services with a selector.

Follows ``kubernetes/kubernetes:staging/src/k8s.io/endpointslice/`` (``reconciler.go``
``reconcileByAddressType``, ``utils.go`` ``podToEndpoint``/``getEndpointPorts``/
``newEndpointSlice``/``setEndpointSliceLabels``, ``util/controller_utils.go``
``ShouldPodBeInEndpoints``/``ShouldSetHostname``) and
``pkg/controller/endpoint/endpoints_controller.go`` (``syncService``,
``addEndpointSubset``) with ``pkg/api/v1/endpoints`` ``RepackSubsets``.

Membership (the spec's R6.1):

* a pod is a candidate when the Service selector matches it, it has an IP and it
  is not Succeeded or Failed;
* EndpointSlices keep *terminating* pods (``ShouldPodBeInEndpoints(pod, true)``,
  GA with EndpointSliceTerminatingCondition in 1.26) with
  ``ready = publishNotReadyAddresses or (PodReady and not terminating)``,
  ``serving = PodReady``, ``terminating = deletionTimestamp set``;
* the legacy Endpoints object drops terminating pods unless
  ``publishNotReadyAddresses``, and lists not-ready pods under ``notReadyAddresses``;
* ``hostname`` is set iff ``pod.spec.hostname`` is set and ``pod.spec.subdomain``
  equals the Service name (any Service type, headless or not);
* named ``targetPort``\\s are resolved against the pod's container ports.

Where the sandbox differs: a slice holds any number of endpoints (upstream cuts
at 100 per slice); endpoints are listed in pod-name order; an empty placeholder
slice has ``endpoints: []`` where a real API server returns ``null`` (which the
official Python client cannot deserialise, kubernetes-client/python#2423);
Endpoints ports keep the Service's port order (upstream sorts them by a Go hash).
"""

from __future__ import annotations

import re

from ..core import errors
from ..core.cluster import Cluster
from ..apiserver.registry import deep_copy
from ..core.store import Event
from .common import delete_quietly, edit, is_pod_ready, is_terminating, new_controller_ref

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
ZONE_LABEL = "topology.kubernetes.io/zone"
_RESERVED = {SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL}


# ---------------------------------------------------------------------- shared rules
def selects(svc: dict, labels: dict | None) -> bool:
    """A Service's plain map selector (``labels.SelectorFromSet``); an empty one selects nothing here."""
    sel = (svc.get("spec") or {}).get("selector") or {}
    labels = labels or {}
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def managed(svc: dict) -> bool:
    spec = svc.get("spec") or {}
    return bool(spec.get("selector")) and spec.get("type") != "ExternalName"


def pod_ips(pod: dict) -> list[str]:
    st = pod.get("status") or {}
    ips = [x.get("ip") for x in st.get("podIPs") or [] if x.get("ip")]
    if not ips and st.get("podIP"):
        ips = [st["podIP"]]
    return ips


def should_pod_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    if not pod_ips(pod):
        return False
    if not include_terminating and is_terminating(pod):
        return False
    return True


def should_set_hostname(pod: dict, svc: dict) -> bool:
    """``ShouldSetHostname``: a hostname, and a subdomain equal to the Service name."""
    return bool((pod.get("spec") or {}).get("hostname")) and \
        (pod.get("spec") or {}).get("subdomain") == svc["metadata"]["name"] and \
        pod["metadata"].get("namespace") == svc["metadata"].get("namespace")


def find_port(pod: dict, svc_port: dict) -> int | None:
    """``podutil.FindPort``: a number as is; a name looked up in the containers' ports (same protocol)."""
    target = svc_port.get("targetPort", svc_port.get("port"))
    protocol = svc_port.get("protocol", "TCP")
    if isinstance(target, int):
        return target
    if target is None:
        return svc_port.get("port")
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return p.get("containerPort")
    for c in (pod.get("spec") or {}).get("initContainers") or []:
        if c.get("restartPolicy") != "Always":
            continue
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return p.get("containerPort")
    return None


def target_ref(pod: dict) -> dict:
    m = pod["metadata"]
    return {"kind": "Pod", "namespace": m["namespace"], "name": m["name"], "uid": m["uid"]}


def _natural(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


def _keys_for_pod_event(sb: Cluster, ev: Event) -> list:
    ns = ev.obj["metadata"].get("namespace", "")
    out = []
    for svc in sb.store.list("services", ns):
        if not managed(svc):
            continue
        if selects(svc, ev.obj["metadata"].get("labels")) or \
                (ev.old is not None and selects(svc, ev.old["metadata"].get("labels"))):
            out.append((ns, svc["metadata"]["name"]))
    return out


def _service_keys(sb: Cluster, ev: Event) -> list:
    if ev.plural == "services":
        return [(ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"])]
    if ev.plural == "pods":
        return _keys_for_pod_event(sb, ev)
    return []


# ---------------------------------------------------------------------- EndpointSlices
class EndpointSliceController:
    """One EndpointSlice per distinct port mapping (IPv4), named ``<svc>-<5 chars>``."""

    name = "endpointslice"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "endpointslices":
            labels = ev.obj["metadata"].get("labels") or {}
            if labels.get(MANAGED_BY_LABEL) == MANAGED_BY and labels.get(SERVICE_NAME_LABEL):
                return [(ev.obj["metadata"]["namespace"], labels[SERVICE_NAME_LABEL])]
            return []
        return _service_keys(self.sb, ev)

    def sync(self, key) -> None:
        ns, name = key
        svc = self.sb.store.get("services", ns, name)
        if svc is None or not managed(svc):
            return  # the garbage collector removes the slices of a deleted Service (owner reference)
        existing = [s for s in self.sb.store.list("endpointslices", ns)
                    if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
                    and (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY]
        owned, stale = [], []
        for s in existing:
            (owned if any(r.get("uid") == svc["metadata"]["uid"] and r.get("kind") == "Service"
                          for r in s["metadata"].get("ownerReferences") or []) else stale).append(s)
        nodes = {n["metadata"]["name"]: n for n in self.sb.store.list("nodes")}
        desired: dict[str, tuple[list[dict], list[dict]]] = {}
        pods = sorted((p for p in self.sb.store.list("pods", ns) if selects(svc, p["metadata"].get("labels"))),
                      key=lambda p: _natural(p["metadata"]["name"]))
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, True):
                continue
            ports = self._ports(svc, pod)
            ep = self._endpoint(pod, svc, nodes.get(pod["spec"].get("nodeName") or ""))
            if not ep["addresses"]:
                continue
            k = repr(ports)
            desired.setdefault(k, (ports, []))[1].append(ep)

        by_ports: dict[str, list[dict]] = {}
        for s in owned:
            by_ports.setdefault(repr(s.get("ports") or []), []).append(s)
        to_delete = list(stale)
        if not desired:
            placeholder = [s for s in owned if not s.get("ports") and not s.get("endpoints")]
            keep = placeholder[0] if placeholder else None
            if keep is None:
                self._create(svc, None, [])
            else:
                self._update(svc, keep, None, [])
            to_delete += [s for s in owned if s is not keep]
        else:
            for k, (ports, eps) in desired.items():
                candidates = by_ports.pop(k, [])
                if candidates:
                    self._update(svc, candidates[0], ports, eps)
                    to_delete += candidates[1:]
                else:
                    self._create(svc, ports, eps)
            for rest in by_ports.values():
                to_delete += rest
        for s in to_delete:
            delete_quietly(self.sb, "endpointslices", ns, s["metadata"]["name"], uid=s["metadata"]["uid"])

    # ----- building
    def _ports(self, svc: dict, pod: dict) -> list[dict]:
        """``getEndpointPorts``: every Service port whose target resolves on this pod."""
        spec = svc.get("spec") or {}
        out = []
        for sp in spec.get("ports") or []:
            num = find_port(pod, sp)
            if num is None:
                continue
            p = {"name": sp.get("name", ""), "protocol": sp.get("protocol", "TCP"), "port": num}
            if sp.get("appProtocol"):
                p["appProtocol"] = sp["appProtocol"]
            out.append(p)
        return out

    def _endpoint(self, pod: dict, svc: dict, node: dict | None) -> dict:
        """``podToEndpoint``."""
        serving = is_pod_ready(pod)
        terminating = is_terminating(pod)
        ready = bool((svc.get("spec") or {}).get("publishNotReadyAddresses")) or (serving and not terminating)
        ep: dict = {"addresses": [ip for ip in pod_ips(pod) if ":" not in ip],
                    "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
        if should_set_hostname(pod, svc):
            ep["hostname"] = pod["spec"]["hostname"]
        ep["targetRef"] = target_ref(pod)
        if pod["spec"].get("nodeName"):
            ep["nodeName"] = pod["spec"]["nodeName"]
        zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
        if zone:
            ep["zone"] = zone
        return ep

    def _labels(self, svc: dict) -> dict:
        """``setEndpointSliceLabels``: the Service's labels plus the reserved ones."""
        labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items() if k not in _RESERVED}
        if (svc.get("spec") or {}).get("clusterIP") in (None, "", "None"):
            labels[HEADLESS_LABEL] = ""
        labels[SERVICE_NAME_LABEL] = svc["metadata"]["name"]
        labels[MANAGED_BY_LABEL] = MANAGED_BY
        return labels

    def _create(self, svc: dict, ports: list[dict] | None, eps: list[dict]) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        meta = {"generateName": f"{name}-", "namespace": ns, "labels": self._labels(svc),
                "ownerReferences": [new_controller_ref(svc)]}
        if eps:
            meta["annotations"] = {TRIGGER_TIME: self.sb.clock.timestamp()}
        obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta,
               "addressType": "IPv4", "endpoints": eps, "ports": ports}
        try:
            self.sb.registry.create("endpointslices", ns, obj)
        except errors.ApiError:
            return

    def _update(self, svc: dict, cur: dict, ports: list[dict] | None, eps: list[dict]) -> None:
        labels = self._labels(svc)
        if cur.get("endpoints") == eps and cur.get("ports") == ports and \
                (cur["metadata"].get("labels") or {}) == labels and cur.get("addressType") == "IPv4":
            return
        changed_eps = cur.get("endpoints") != eps or cur.get("ports") != ports

        def put(new: dict) -> None:
            new["endpoints"], new["ports"], new["addressType"] = deep_copy(eps), deep_copy(ports), "IPv4"
            new["metadata"]["labels"] = labels
            if changed_eps:
                new["metadata"].setdefault("annotations", {})[TRIGGER_TIME] = self.sb.clock.timestamp()
        edit(self.sb, "endpointslices", cur["metadata"]["namespace"], cur["metadata"]["name"], put,
              uid=cur["metadata"]["uid"])

    @staticmethod
    def _summary(eps: list[dict]) -> str:
        if not eps:
            return "no endpoints"
        return ", ".join(f"{e['targetRef']['name']}={e['addresses'][0]}"
                         f"{'' if e['conditions']['ready'] else ' (not ready)'}" for e in eps)


# ---------------------------------------------------------------------- Endpoints (core/v1)
class EndpointsController:
    """The legacy ``Endpoints`` object named like the Service."""

    name = "endpoints"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb

    def keys_for(self, ev: Event) -> list:
        if ev.plural == "endpoints" and ev.type == "DELETED":
            return [(ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"])]
        return _service_keys(self.sb, ev)

    def sync(self, key) -> None:
        ns, name = key
        svc = self.sb.store.get("services", ns, name)
        cur = self.sb.store.get("endpoints", ns, name)
        if svc is None:
            if cur is not None:
                delete_quietly(self.sb, "endpoints", ns, name, uid=cur["metadata"]["uid"])
            return
        if not managed(svc):
            return  # a Service without a selector: its Endpoints belong to the user
        subsets = self._subsets(svc)
        labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items() if k != HEADLESS_LABEL}
        if (svc.get("spec") or {}).get("clusterIP") in (None, "", "None"):
            labels[HEADLESS_LABEL] = ""
        if cur is None:
            obj = {"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": name, "namespace": ns,
                                "annotations": {TRIGGER_TIME: self.sb.clock.timestamp()}}}
            if labels:
                obj["metadata"]["labels"] = labels
            if subsets:
                obj["subsets"] = subsets
            try:
                self.sb.registry.create("endpoints", ns, obj)
            except errors.ApiError:
                return
            return
        if (cur.get("subsets") or []) == subsets and (cur["metadata"].get("labels") or {}) == labels:
            return

        def put(new: dict) -> None:
            if subsets:
                new["subsets"] = deep_copy(subsets)
            else:
                new.pop("subsets", None)
            if labels:
                new["metadata"]["labels"] = dict(labels)
            else:
                new["metadata"].pop("labels", None)
            new["metadata"].setdefault("annotations", {})[TRIGGER_TIME] = self.sb.clock.timestamp()
        edit(self.sb, "endpoints", ns, name, put, uid=cur["metadata"]["uid"])

    def _subsets(self, svc: dict) -> list[dict]:
        """``syncService`` + ``addEndpointSubset`` + ``RepackSubsets``."""
        spec = svc.get("spec") or {}
        tolerate = bool(spec.get("publishNotReadyAddresses"))
        groups: dict[str, dict] = {}
        ns = svc["metadata"]["namespace"]
        for pod in self.sb.store.list("pods", ns):
            if not selects(svc, pod["metadata"].get("labels")) or not should_pod_be_in_endpoints(pod, tolerate):
                continue
            ip = next((x for x in pod_ips(pod) if ":" not in x), None)
            if ip is None:
                continue
            addr: dict = {"ip": ip}
            if should_set_hostname(pod, svc):
                addr["hostname"] = pod["spec"]["hostname"]
            if pod["spec"].get("nodeName"):
                addr["nodeName"] = pod["spec"]["nodeName"]
            addr["targetRef"] = target_ref(pod)
            if spec.get("ports"):
                ports = []
                for sp in spec["ports"]:
                    num = find_port(pod, sp)
                    if num is None:
                        continue
                    p: dict = {}
                    if sp.get("name"):
                        p["name"] = sp["name"]
                    p["port"] = num
                    p["protocol"] = sp.get("protocol", "TCP")
                    if sp.get("appProtocol"):
                        p["appProtocol"] = sp["appProtocol"]
                    ports.append(p)
                if not ports:
                    continue
            elif spec.get("clusterIP") == "None":
                ports = []
            else:
                continue
            g = groups.setdefault(repr(ports), {"addresses": [], "notReadyAddresses": [], "ports": ports})
            (g["addresses"] if tolerate or is_pod_ready(pod) else g["notReadyAddresses"]).append(addr)
        out = []
        for g in groups.values():
            subset: dict = {}
            for k in ("addresses", "notReadyAddresses"):
                if g[k]:
                    subset[k] = sorted(g[k], key=lambda a: (a["ip"], a["targetRef"]["uid"]))
            if g["ports"]:
                subset["ports"] = g["ports"]
            out.append(subset)
        out.sort(key=lambda s: repr(s.get("ports")))
        return out

    @staticmethod
    def _summary(subsets: list[dict]) -> str:
        ready = [a["ip"] for s in subsets for a in s.get("addresses") or []]
        not_ready = [a["ip"] for s in subsets for a in s.get("notReadyAddresses") or []]
        return f"ready {', '.join(ready) or '-'}; not ready {', '.join(not_ready) or '-'}"
