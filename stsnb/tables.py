"""Tables are data: plain DataFrames with a fixed column order, rows by ordinal.

Every function here is pure: it takes the objects as the API serves them
(plain dicts) and returns a ``pandas.DataFrame``; :class:`stsnb.lab.Lab` fetches
the objects and calls these. Styling is a separate step (:func:`style`), and so
is the language of the headers (:func:`translate`, or ``lab.t(df)``).

**Column keys are English identifiers, always** (``df["revision"]``,
``df.ready.all()``), in both the Korean and the English notebooks, so code
cells stay identical. For display, ``lab.t(df)`` (= ``translate(df, lab.lang)``)
returns a copy with the headers in the lab's language, and ``style(df, lang)``
adds colours (one per revision) on top of that.

The columns, in order:

* :func:`pods` — ``name, ordinal, phase, ready, ip, node, revision, image, status``
* :func:`identities` — ``name, ordinal, hostname, pod_name_label, ready, status, ip, node, revision, image``
* :func:`labels` — ``pod`` then one column per label key
* :func:`revisions` — ``name, revision, hash, image, current, update, pods``
* :func:`statefulsets` — ``name, ready, replicas, ready_replicas, updated_replicas, current_revision,
  update_revision, service_name, pod_management_policy, update_strategy, partition``
* :func:`dns_names` — ``pod, ip, hostname, subdomain, fqdn, reverse, owner``
* :func:`pvcs` — ``claim, pod, volume, capacity, access_modes, storage_class, status, ordinal, in_use``
* :func:`compare` — ``aspect`` then one column per compared object
* :func:`events` — ``time, type, reason, object, message, count``
* :func:`services` — ``name, type, cluster_ip, ports, selector``
* :func:`volumes` — ``pod, volume, source, claim, mount_path``
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from . import _labels
from .k8s.pods import pod_ordinal, pod_owner, pod_ready, pod_revision, pod_status
from .k8s.selectors import map_selector_matches

if TYPE_CHECKING:
    import pandas as pd
else:
    class _Pandas:
        """``pd`` for this module, importing pandas (~0.5 CPU-s) when a table is first built, not with ``stsnb.lab``."""

        def __getattr__(self, name: str) -> Any:
            import pandas

            return getattr(pandas, name)

    pd = _Pandas()

__all__ = [
    "POD_COLUMNS", "REVISION_COLUMNS", "STATEFULSET_COLUMNS", "DNS_COLUMNS", "PVC_COLUMNS", "EVENT_COLUMNS",
    "SERVICE_COLUMNS", "VOLUME_COLUMNS",
    "IDENTITY_COLUMNS", "pods", "identities", "labels", "revisions", "statefulsets", "dns_names", "pvcs", "compare", "events", "services", "volumes",
    "translate", "style",
    "pod_images", "pod_failure", "dashed_ip", "expected_dns_names", "short_access_modes",
]

POD_COLUMNS = ["name", "ordinal", "phase", "ready", "ip", "node", "revision", "image", "status"]
IDENTITY_COLUMNS = ["name", "ordinal", "hostname", "pod_name_label", "ready", "status", "ip", "node", "revision", "image"]
REVISION_COLUMNS = ["name", "revision", "hash", "image", "current", "update", "pods"]
STATEFULSET_COLUMNS = ["name", "ready", "replicas", "ready_replicas", "updated_replicas", "current_revision",
                       "update_revision", "service_name", "pod_management_policy", "update_strategy", "partition"]
DNS_COLUMNS = ["pod", "ip", "hostname", "subdomain", "fqdn", "reverse", "owner"]
PVC_COLUMNS = ["claim", "pod", "volume", "capacity", "access_modes", "storage_class", "status", "ordinal", "in_use"]
EVENT_COLUMNS = ["last_seen", "type", "reason", "object", "message", "count"]
SERVICE_COLUMNS = ["name", "type", "cluster_ip", "ports", "selector"]
VOLUME_COLUMNS = ["pod", "volume", "source", "claim", "mount_path"]

#: Labels shown first in :func:`labels`, in this order (the guide's, then the index label of 1.28+).
_LABEL_ORDER = ["app", "controller-revision-hash", "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
                "pod-template-hash"]

_ACCESS = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}

#: Pod container waiting reasons that end a wait early: the pod will not become Ready by itself.
FATAL_WAITING = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "CrashLoopBackOff",
                 "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


# ---------------------------------------------------------------------------- pod facts

def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def pod_images(pod: dict) -> str:
    return ",".join(c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or [])


def _waiting(pod: dict) -> tuple[str, str, str] | None:
    """``(container, reason, message)`` of the first waiting container, if any."""
    for s in (pod.get("status") or {}).get("containerStatuses") or []:
        w = (s.get("state") or {}).get("waiting")
        if w:
            return s.get("name", ""), w.get("reason", ""), w.get("message", "")
    return None


def pod_failure(pod: dict) -> tuple[str, str, str] | None:
    """``(container, reason, message)`` when a container is stuck in a state that needs a human (e.g. ImagePullBackOff)."""
    w = _waiting(pod)
    if w and w[1] in FATAL_WAITING:
        if w[1] == "ErrImagePull" and not re.search(r"not found|manifest unknown|denied|does not exist", w[2] or "", re.I):
            return None  # may be a transient registry hiccup; ImagePullBackOff follows if it is not
        return w
    return None


def dashed_ip(ip: str) -> str:
    """CoreDNS's endpoint name for an address without a hostname: ``10.100.194.79`` → ``10-100-194-79``."""
    if ":" in ip:
        s = ip.replace(":", "-")
        return s + "0" if s.endswith("-") else s
    return ip.replace(".", "-")


def _sort_key(ordinal: Any, name: str) -> tuple:
    return (ordinal is None, ordinal if ordinal is not None else 0, name)


def _frame(rows: list[dict], columns: Sequence[str], ints: Iterable[str] = ()) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(columns))
    for c in ints:
        df[c] = pd.array([r.get(c) for r in rows], dtype="Int64")
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------- tables

def pods(items: Iterable[dict]) -> pd.DataFrame:
    """One row per pod: ``name, ordinal, phase, ready, ip, node, revision, image, status``; rows by ordinal."""
    rows = []
    for p in items:
        status = p.get("status") or {}
        rows.append({"name": _meta(p).get("name"), "ordinal": pod_ordinal(p), "phase": status.get("phase"),
                     "ready": pod_ready(p), "ip": status.get("podIP"), "node": (p.get("spec") or {}).get("nodeName"),
                     "revision": pod_revision(p), "image": pod_images(p), "status": pod_status(p)})
    rows.sort(key=lambda r: _sort_key(r["ordinal"], r["name"] or ""))
    df = _frame(rows, POD_COLUMNS, ints=["ordinal"])
    df["ready"] = df["ready"].astype(bool)
    return df


def identities(items: Iterable[dict]) -> pd.DataFrame:
    """The pods' identities, as the panels show them: ``name, ordinal, hostname, pod_name_label, ready,
    status, ip, node, revision, image``.

    ``hostname`` is the pod's ``spec.hostname`` (the name its containers see; the pod name when unset) and
    ``pod_name_label`` its ``statefulset.kubernetes.io/pod-name`` label: for a StatefulSet's pod the
    three strings are the same.
    """
    items = list(items)
    df = pods(items)
    by_name = {_meta(p).get("name"): p for p in items}
    df.insert(2, "hostname", [((by_name[n].get("spec") or {}).get("hostname") or n) for n in df["name"]])
    df.insert(3, "pod_name_label", [(_meta(by_name[n]).get("labels") or {}).get("statefulset.kubernetes.io/pod-name")
                                     for n in df["name"]])
    return df[IDENTITY_COLUMNS].reset_index(drop=True)


def labels(items: Iterable[dict]) -> pd.DataFrame:
    """One row per pod (``pod`` first), one column per label key; the guide's keys first."""
    items = sorted(items, key=lambda p: _sort_key(pod_ordinal(p), _meta(p).get("name", "")))
    keys: list[str] = []
    for p in items:
        for k in (_meta(p).get("labels") or {}):
            if k not in keys:
                keys.append(k)
    ordered = [k for k in _LABEL_ORDER if k in keys] + sorted(k for k in keys if k not in _LABEL_ORDER)
    rows = [{"pod": _meta(p).get("name"), **{k: (_meta(p).get("labels") or {}).get(k) for k in ordered}} for p in items]
    return _frame(rows, ["pod", *ordered])


def _revision_template(rev: dict) -> dict:
    data = rev.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = {}
    return ((data or {}).get("spec") or {}).get("template") or {}


def revisions(items: Iterable[dict], statefulset: dict | None = None, pod_items: Iterable[dict] = ()) -> pd.DataFrame:
    """ControllerRevisions: ``name, revision, hash, image, current, update, pods``; by revision number."""
    status = (statefulset or {}).get("status") or {}
    counts: dict[str, int] = {}
    for p in pod_items:
        r = pod_revision(p)
        if r:
            counts[r] = counts.get(r, 0) + 1
    rows = []
    for r in items:
        meta = _meta(r)
        name = meta.get("name", "")
        tpl = _revision_template(r)
        images = ",".join(c.get("image", "") for c in (tpl.get("spec") or {}).get("containers") or [])
        rows.append({"name": name, "revision": r.get("revision"),
                     "hash": (meta.get("labels") or {}).get("controller.kubernetes.io/hash") or name.rsplit("-", 1)[-1],
                     "image": images, "current": name == status.get("currentRevision"),
                     "update": name == status.get("updateRevision"), "pods": counts.get(name, 0)})
    rows.sort(key=lambda x: (x["revision"] or 0, x["name"]))
    df = _frame(rows, REVISION_COLUMNS, ints=["revision", "pods"])
    for c in ("current", "update"):
        df[c] = df[c].astype(bool)
    return df


def statefulsets(items: Iterable[dict]) -> pd.DataFrame:
    """StatefulSets with their rollout state: ``ready`` is kubectl's READY (``3/3``)."""
    rows = []
    for s in items:
        spec, status = s.get("spec") or {}, s.get("status") or {}
        strategy = spec.get("updateStrategy") or {}
        replicas = spec.get("replicas", 1)
        rows.append({"name": _meta(s).get("name"), "ready": f"{status.get('readyReplicas', 0)}/{replicas}",
                     "replicas": replicas, "ready_replicas": status.get("readyReplicas", 0),
                     "updated_replicas": status.get("updatedReplicas", 0),
                     "current_revision": status.get("currentRevision"), "update_revision": status.get("updateRevision"),
                     "service_name": spec.get("serviceName") or None,
                     "pod_management_policy": spec.get("podManagementPolicy", "OrderedReady"),
                     "update_strategy": strategy.get("type", "RollingUpdate"),
                     "partition": (strategy.get("rollingUpdate") or {}).get("partition",
                                                                            0 if strategy.get("type", "RollingUpdate") == "RollingUpdate" else None)})
    rows.sort(key=lambda r: r["name"] or "")
    return _frame(rows, STATEFULSET_COLUMNS, ints=["replicas", "ready_replicas", "updated_replicas", "partition"])


def expected_dns_names(pod: dict, services: Iterable[dict], namespace: str, zone: str = "cluster.local") -> list[str]:
    """The names cluster DNS gives a pod's IP (its PTR answers), by CoreDNS's rules.

    For every Service in the namespace whose selector matches the pod (only while the pod is Ready,
    unless the Service publishes not-ready addresses): ``<hostname>.<svc>.<ns>.svc.<zone>`` when the
    pod's subdomain names that Service, else ``<dashed-ip>.<svc>.<ns>.svc.<zone>``.
    """
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        return []
    spec = pod.get("spec") or {}
    hostname, subdomain = spec.get("hostname") or "", spec.get("subdomain") or ""
    labels_ = _meta(pod).get("labels") or {}
    terminating = bool(_meta(pod).get("deletionTimestamp"))
    out = []
    for svc in sorted(services, key=lambda s: _meta(s).get("name", "")):
        sspec = svc.get("spec") or {}
        if _meta(svc).get("namespace", namespace) != namespace or not map_selector_matches(sspec.get("selector"), labels_):
            continue
        if not sspec.get("publishNotReadyAddresses") and (not pod_ready(pod) or terminating):
            continue
        name = _meta(svc).get("name", "")
        label = hostname if hostname and subdomain == name else dashed_ip(ip)
        out.append(f"{label}.{name}.{namespace}.svc.{zone}")
    out.sort(key=lambda n: (n.split(".")[0] == dashed_ip(ip), n))
    return out


def dns_names(pod_items: Iterable[dict], services: Iterable[dict], namespace: str, zone: str = "cluster.local",
              reverse: dict[str, list[str]] | None = None, replicasets: Iterable[dict] = ()) -> pd.DataFrame:
    """Each pod's DNS identity: ``pod, ip, hostname, subdomain, fqdn, reverse, owner``.

    ``fqdn`` is the name cluster DNS should give the pod (see :func:`expected_dns_names`; the first one
    when several Services select it). ``reverse`` is what a reverse lookup of the IP actually answered
    (``reverse[ip]``, joined with ", "), or missing when no lookup was made. ``owner`` is the
    workload (``statefulset/…``, or ``deployment/…`` when the pod's ReplicaSet is in ``replicasets``).
    """
    services = list(services)
    rs_owner = {}
    for rs in replicasets:
        ref = next((r for r in _meta(rs).get("ownerReferences") or [] if r.get("controller")), None)
        if ref:
            rs_owner[_meta(rs).get("name")] = f"{ref.get('kind', '').lower()}/{ref.get('name', '')}"
    rows = []
    for p in pod_items:
        spec = p.get("spec") or {}
        ip = (p.get("status") or {}).get("podIP")
        names = expected_dns_names(p, services, namespace, zone)
        owner = pod_owner(p)
        answered = None
        if reverse is not None and ip in reverse:
            answered = ", ".join(reverse[ip])
        rows.append({"pod": _meta(p).get("name"), "ip": ip, "hostname": spec.get("hostname") or _meta(p).get("name"),
                     "subdomain": spec.get("subdomain") or None, "fqdn": names[0] if names else None,
                     "reverse": answered,
                     "owner": (rs_owner.get(owner.get("name")) if owner.get("kind") == "ReplicaSet" else None)
                     or f"{owner.get('kind', '').lower()}/{owner.get('name', '')}" if owner else None,
                     "_ordinal": pod_ordinal(p)})
    rows.sort(key=lambda r: (r["owner"] or "", *_sort_key(r["_ordinal"], r["pod"] or "")))
    return _frame(rows, DNS_COLUMNS)


def short_access_modes(modes: Iterable[str] | None) -> str:
    """kubectl's ACCESS MODES cell: ``RWO``, ``RWO,ROX`` …"""
    return ",".join(_ACCESS.get(m, m) for m in modes or [])


def pvcs(items: Iterable[dict], pod_items: Iterable[dict] = (), statefulset_items: Iterable[dict] = ()) -> pd.DataFrame:
    """Claims: ``claim, pod, volume, capacity, access_modes, storage_class, status, ordinal, in_use``.

    ``pod`` is the pod the claim belongs to by the StatefulSet naming rule ``<template>-<set>-<ordinal>``
    (it stays after a scale-down, when the pod is gone); ``in_use`` says whether a live pod mounts it.
    VOLUME, CAPACITY and ACCESS MODES are empty until the claim is bound, as in ``kubectl get pvc``.
    """
    mounted: dict[str, str] = {}
    for p in pod_items:
        for v in (p.get("spec") or {}).get("volumes") or []:
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                mounted[claim] = _meta(p).get("name", "")
    owners: list[tuple[str, str]] = []
    for s in statefulset_items:
        for t in (s.get("spec") or {}).get("volumeClaimTemplates") or []:
            owners.append((f"{_meta(t).get('name', '')}-{_meta(s).get('name', '')}-", _meta(s).get("name", "")))
    rows = []
    for c in items:
        name = _meta(c).get("name", "")
        spec, status = c.get("spec") or {}, c.get("status") or {}
        pod, ordinal = mounted.get(name), None
        for prefix, sts in owners:
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                ordinal = int(name[len(prefix):])
                pod = f"{sts}-{ordinal}"
                break
        if ordinal is None:
            m = re.search(r"-(\d+)$", name)
            if m and pod is None:
                ordinal = int(m.group(1))
            elif pod:
                m2 = re.search(r"-(\d+)$", pod)
                ordinal = int(m2.group(1)) if m2 else None
        bound = status.get("phase") == "Bound"
        rows.append({"claim": name, "pod": pod, "volume": spec.get("volumeName") or "" if bound else "",
                     "capacity": (status.get("capacity") or {}).get("storage", "") if bound else "",
                     "access_modes": short_access_modes(status.get("accessModes")) if bound else "",
                     "storage_class": spec.get("storageClassName"),
                     "status": "Terminating" if _meta(c).get("deletionTimestamp") else status.get("phase", "Pending"),
                     "ordinal": ordinal, "in_use": name in mounted})
    rows.sort(key=lambda r: _sort_key(r["ordinal"], r["claim"]))
    df = _frame(rows, PVC_COLUMNS, ints=["ordinal"])
    df["in_use"] = df["in_use"].astype(bool)
    return df


def events(items: Iterable[dict]) -> pd.DataFrame:
    """Kubernetes Events, oldest first: ``last_seen, type, reason, object, message, count``."""
    rows = []
    for e in items:
        io = e.get("involvedObject") or e.get("regarding") or {}
        when = e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or _meta(e).get("creationTimestamp")
        rows.append({"last_seen": pd.Timestamp(when) if when else pd.NaT, "type": e.get("type"), "reason": e.get("reason"),
                     "object": f"{str(io.get('kind', '')).lower()}/{io.get('name', '')}",
                     "message": e.get("message") or e.get("note"), "count": e.get("count") or 1})
    rows.sort(key=lambda r: (r["last_seen"] is pd.NaT,
                             r["last_seen"] if r["last_seen"] is not pd.NaT else pd.Timestamp(0, tz="UTC")))
    return _frame(rows, EVENT_COLUMNS, ints=["count"])


def services(items: Iterable[dict]) -> pd.DataFrame:
    """Services: ``name, type, cluster_ip, ports, selector``, by name.

    ``cluster_ip`` is ``"None"`` for a headless Service, as kubectl prints it; ``ports`` is kubectl's
    PORT(S) cell (``80/TCP``, ``80:30080/TCP``); ``selector`` the selector map (a dict) or None.
    """
    rows = []
    for svc in items:
        spec = svc.get("spec") or {}
        ports = ",".join(f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
                         for p in spec.get("ports") or [])
        rows.append({"name": _meta(svc).get("name"), "type": spec.get("type", "ClusterIP"),
                     "cluster_ip": spec.get("clusterIP") or None, "ports": ports or "<none>",
                     "selector": dict(spec["selector"]) if spec.get("selector") else None})
    rows.sort(key=lambda r: r["name"] or "")
    df = pd.DataFrame(rows, columns=SERVICE_COLUMNS)
    df["selector"] = pd.Series([r["selector"] for r in rows], dtype=object)
    return df


def volumes(pod_items: Iterable[dict]) -> pd.DataFrame:
    """One row per (pod, volume): ``pod, volume, source, claim, mount_path``; pods by ordinal.

    ``source`` is the volume's type key (``persistentVolumeClaim``, ``projected``, ``emptyDir`` …),
    ``claim`` the claim it names, ``mount_path`` where the first container that mounts it does so.
    """
    rows = []
    pods_sorted = sorted(pod_items, key=lambda p: _sort_key(pod_ordinal(p), _meta(p).get("name", "")))
    for p in pods_sorted:
        spec = p.get("spec") or {}
        mounts: dict[str, str] = {}
        for c in spec.get("containers") or []:
            for m in c.get("volumeMounts") or []:
                mounts.setdefault(m.get("name", ""), m.get("mountPath"))
        for v in spec.get("volumes") or []:
            source = next((k for k in v if k != "name"), None)
            rows.append({"pod": _meta(p).get("name"), "volume": v.get("name"), "source": source,
                         "claim": (v.get("persistentVolumeClaim") or {}).get("claimName"),
                         "mount_path": mounts.get(v.get("name", ""))})
    return pd.DataFrame(rows, columns=VOLUME_COLUMNS)


# ---------------------------------------------------------------------------- comparison

def compare(subjects: Sequence[dict]) -> pd.DataFrame:
    """Side-by-side facts of a Deployment and a StatefulSet (or any two workloads).

    Each subject is ``{"ref": "deployment/test-deploy", "object": {...}, "pods": [...],
    "replicasets": [...], "claims": [...], "services": [...]}``. Rows (``aspect``): kind, replicas,
    manages_pods_through, pod_names, pod_name_pattern, revision_label, hostnames, subdomain,
    volumes, update_order, service.
    """
    aspects = ["kind", "replicas", "manages_pods_through", "pod_names", "pod_name_pattern", "revision_label",
               "hostnames", "subdomain", "volumes", "update_order", "service"]
    columns: dict[str, dict[str, str]] = {}
    for s in subjects:
        obj = s["object"]
        kind = obj.get("kind", "")
        name = _meta(obj).get("name", "")
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        pod_list = sorted(s.get("pods") or [], key=lambda p: _sort_key(pod_ordinal(p), _meta(p).get("name", "")))
        facts: dict[str, str] = {"kind": kind,
                                 "replicas": f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
                                 "pod_names": ", ".join(_meta(p).get("name", "") for p in pod_list) or "-",
                                 "hostnames": ", ".join((p.get("spec") or {}).get("hostname") or _meta(p).get("name", "")
                                                        for p in pod_list) or "-"}
        if kind == "StatefulSet":
            facts["manages_pods_through"] = "the StatefulSet itself (no ReplicaSet)"
            facts["pod_name_pattern"] = f"{name}-<ordinal>"
            revs = sorted({pod_revision(p) for p in pod_list if pod_revision(p)})
            facts["revision_label"] = "controller-revision-hash=" + (", ".join(revs) if revs else "-")
            facts["subdomain"] = spec.get("serviceName") or "-"
            claims = sorted(_meta(c).get("name", "") for c in s.get("claims") or [])
            facts["volumes"] = ", ".join(claims) if claims else (
                ", ".join(_meta(t).get("name", "") for t in spec.get("volumeClaimTemplates") or []) or "-")
            strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
            facts["update_order"] = ("one pod at a time, highest ordinal first" if strategy == "RollingUpdate"
                                     else "OnDelete: only when you delete a pod")
        else:
            rs_names = sorted(_meta(r).get("name", "") for r in s.get("replicasets") or []
                              if (r.get("spec") or {}).get("replicas", 0) > 0) or \
                sorted(_meta(r).get("name", "") for r in s.get("replicasets") or [])
            facts["manages_pods_through"] = ("ReplicaSet " + ", ".join(rs_names)) if rs_names else "ReplicaSet"
            facts["pod_name_pattern"] = f"{name}-<pod-template-hash>-<5 random characters>"
            revs = sorted({pod_revision(p) for p in pod_list if pod_revision(p)})
            facts["revision_label"] = "pod-template-hash=" + (", ".join(revs) if revs else "-")
            facts["subdomain"] = "-"
            facts["volumes"] = "-"
            facts["update_order"] = "new ReplicaSet scaled up while the old one scales down, several pods at once"
        svcs = []
        for svc in sorted(s.get("services") or [], key=lambda x: _meta(x).get("name", "")):
            sspec = svc.get("spec") or {}
            if any(map_selector_matches(sspec.get("selector"), _meta(p).get("labels")) for p in pod_list) or (
                    not pod_list and map_selector_matches(sspec.get("selector"),
                                                      ((spec.get("template") or {}).get("metadata") or {}).get("labels"))):
                ip = sspec.get("clusterIP")
                svcs.append(f"{_meta(svc).get('name')} ({'headless' if ip == 'None' else 'ClusterIP ' + str(ip)})")
        facts["service"] = ", ".join(svcs) or "-"
        columns[s["ref"]] = facts
    rows = [{"aspect": a, **{ref: facts.get(a, "-") for ref, facts in columns.items()}} for a in aspects]
    return _frame(rows, ["aspect", *columns])


# ---------------------------------------------------------------------------- display

#: Columns whose values are translated for display (see :func:`stsnb._labels.value`).
_TRANSLATED_VALUES = ("reason", "event", "when")


def translate(df: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """A copy for display: headers in ``lang``, and the phrases stsnb wrote (aspects, reasons, facts) too.

    Column keys stay English identifiers in the frames the lab returns, and so do names, hashes and
    API values (``Running``, ``Bound``); use this (or ``lab.t(df)``) only for what a reader sees.
    """
    out = df.copy()
    if "aspect" in out.columns:
        out["aspect"] = [_labels.aspect(a, lang) for a in out["aspect"]]
        for c in out.columns[1:]:
            out[c] = pd.Series([_labels.value(v, lang) for v in out[c]], index=out.index, dtype=object)
    for c in _TRANSLATED_VALUES:
        if c in out.columns and not pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = pd.Series([_labels.value(v, lang) for v in out[c]], index=out.index, dtype=object)
    return out.rename(columns=_labels.headers(out.columns, lang))


#: One hue per revision: the strong colour draws timelines, the light tint fills table cells.
REVISION_HUES: list[tuple[str, str]] = [
    ("#2563eb", "#dbeafe"), ("#d97706", "#fde68a"), ("#16a34a", "#bbf7d0"), ("#db2777", "#fbcfe8"),
    ("#7c3aed", "#ddd6fe"), ("#ea580c", "#fed7aa"), ("#0891b2", "#a5f3fc"), ("#65a30d", "#d9f99d"),
]
#: ``<set>-<hash>``: the hash is written in the alphabet of upstream's ``rand.SafeEncodeString`` (no vowels,
#: no 0, 1, 3), so a plain name such as ``nginx-stateful`` is never taken for a revision.
_REVISION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?-[bcdfghjklmnpqrstvwxz2456789]{6,10}$")


class RevisionColors:
    """One colour per revision, the same in every table and figure that shares this object.

    A lab keeps one (``lab.colors``), so within a notebook a hash has one colour everywhere;
    colours are handed out in the order revisions are first seen, so the first eight differ.
    """

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def _i(self, revision: str) -> int:
        if revision not in self._index:
            self._index[revision] = len(self._index) % len(REVISION_HUES)
        return self._index[revision]

    def strong(self, revision: str) -> str:
        return REVISION_HUES[self._i(revision)][0]

    def light(self, revision: str) -> str:
        return REVISION_HUES[self._i(revision)][1]

    def seen(self) -> list[str]:
        return list(self._index)


def revision_colors(values: Iterable[Any], colors: RevisionColors | None = None) -> dict[str, str]:
    """``{revision: light colour}`` for the distinct revision values (from ``colors`` when given)."""
    colors = colors or RevisionColors()
    return {v: colors.light(v) for v in values if isinstance(v, str) and v}


def format_seconds(value: Any, lang: str = "en") -> str:
    """A duration for reading: ``1.2 s`` (``1.2초``); empty for a missing value."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    v = float(value)
    shown = f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 1 or v == 0 else f"{v:.2f}"
    return _labels.text("seconds", lang, value=shown)


def _cell(value: Any) -> str:
    """A cell for reading: nothing for a missing value, ``a, b`` for lists, ``k=v`` for maps."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime("%H:%M:%S") if value.tzinfo else value.strftime("%H:%M:%S")
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: CSS every styled table carries, so it reads the same in JupyterLab, on the site and in panels:
#: one line per cell (names and hashes never wrap), a horizontal scroll bar when the table is wider.
TABLE_STYLES = [
    {"selector": "", "props": "border-collapse: collapse; font-size: 0.8em; display: block; max-width: 100%; "
                              "overflow-x: auto;"},
    {"selector": "th, td", "props": "white-space: nowrap; padding: 2px 6px; text-align: left;"},
    {"selector": "th", "props": "border-bottom: 1px solid #9ca3af;"},
]


def style(df: pd.DataFrame, lang: str = "en", colors: RevisionColors | None = None):
    """A ``Styler`` for display: translated headers and phrases, one colour per revision, ready in bold.

    Every cell is HTML-escaped (a value such as ``<ordinal>`` or an image named ``<img …>`` shows as
    text), missing values show as nothing, ``time`` as a duration (``1.2 s``), timestamps as
    ``HH:MM:SS``, and there is no index column. Styling never changes the data:
    ``style(df).data`` is ``translate(df, lang)``.
    """
    shown = translate(df, lang)
    styler = shown.style
    rev_cols = [c for c in df.columns if c in ("revision", "current_revision", "update_revision", "name", "hash")
                and df[c].astype(str).str.match(_REVISION_NAME).any()]
    revs = [v for c in rev_cols for v in df[c] if isinstance(v, str) and _REVISION_NAME.match(v)]
    palette = revision_colors(revs, colors)
    if palette:
        shown_cols = [_labels.header(c, lang) for c in rev_cols]
        styler = styler.map(lambda v: f"background-color: {palette[v]}" if v in palette else "", subset=shown_cols)
    if "ready" in df.columns and df["ready"].dtype == bool:
        styler = styler.map(lambda v: "font-weight: bold" if v is True else "color: #b91c1c",
                            subset=[_labels.header("ready", lang)])
    formatters: dict[Any, Any] = {c: _cell for c in shown.columns}
    if "time" in df.columns and pd.api.types.is_numeric_dtype(df["time"]):
        formatters[_labels.header("time", lang)] = lambda v: format_seconds(v, lang)
    styler = styler.format(formatters, escape="html")
    styler = styler.set_table_styles(TABLE_STYLES).set_table_attributes('class="stsnb-table dataframe"')
    return styler.hide(axis="index")


def to_html(df: pd.DataFrame, lang: str = "en", colors: RevisionColors | None = None) -> str:
    """The styled table as an HTML fragment (every cell escaped): what notebooks and panels show."""
    return style(df, lang, colors).to_html()
