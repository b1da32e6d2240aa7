"""Manifests as plain dicts: the guide's own, shipped as package data, and pure builders.

Nothing here talks to a cluster (lightkube's prepare/send split): every
function takes and returns plain JSON-shaped data, so it can be tested, shown
and diffed without one. :class:`stsnb.lab.Lab` does the sending.

The guide's manifests, by name (:func:`names`):

* ``nginx-stateful`` — §02, the StatefulSet (no ``serviceName``);
* ``nginx-stateful-headless-svc`` — §03, the headless Service from YAML;
* ``nginx-stateful-with-service`` — §03, the StatefulSet with ``serviceName: nginx-stateful``;
* ``nginx-stateful2`` — §04, headless Service + StatefulSet with ``volumeClaimTemplates`` (``sc-nfs``);
* ``test-deploy`` — §01/§03, the Deployment and its ClusterIP Service (the guide shows only their output);
* ``sc-nfs`` — §04, the StorageClass the claims name.

:func:`load` returns them exactly as the guide writes them. :func:`managed`
adds the label ``app.kubernetes.io/managed-by: stsnb`` where cleanup can find
it — top-level ``metadata.labels`` and each ``volumeClaimTemplates[].metadata.labels``
(so the PVCs carry it too) — and **never** in ``spec.template``: the pod
template is what the revision hash ``nginx-stateful-7db594cfbd`` is computed from.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml as _yaml

from ..errors import ConfigError, NotFound

__all__ = [
    "MANAGED_BY", "MANAGED_BY_KEY", "MANAGED_BY_VALUE", "MANAGED_SELECTOR", "GUIDE_STORAGE_CLASS",
    "names", "load", "yaml", "source", "parse", "managed", "is_managed", "with_storage_class", "with_namespace",
    "statefulset", "volume_claim_template", "headless_service", "clusterip_service", "service", "deployment", "storage_class",
    "dns_query_pod", "expose_service", "object_ref",
]

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "stsnb"
MANAGED_BY = {MANAGED_BY_KEY: MANAGED_BY_VALUE}
#: The label selector cleanup uses: only what stsnb created.
MANAGED_SELECTOR = f"{MANAGED_BY_KEY}={MANAGED_BY_VALUE}"
#: The StorageClass the guide's claim templates name.
GUIDE_STORAGE_CLASS = "sc-nfs"

_GUIDE: dict[str, str] = {
    "nginx-stateful": "§02 the StatefulSet nginx-stateful, created from YAML (3 replicas, image nginx)",
    "nginx-stateful-headless-svc": "§03 the headless Service nginx-stateful (clusterIP: None), from YAML",
    "nginx-stateful-with-service": "§03 the StatefulSet nginx-stateful linked to its Service (serviceName)",
    "nginx-stateful2": "§04 headless Service + StatefulSet nginx-stateful2 with volumeClaimTemplates (sc-nfs, 2Gi)",
    "test-deploy": "§01/§03 the Deployment test-deploy (3 replicas, nginx) and its ClusterIP Service",
    "sc-nfs": "§04 the StorageClass sc-nfs with a dynamic provisioner",
}


# ---------------------------------------------------------------------------- the guide's manifests

def names() -> list[str]:
    """The guide's manifests that ship with stsnb, in the order the guide uses them."""
    return list(_GUIDE)


def source(name: str) -> str:
    """One line: which section of the guide a manifest comes from."""
    _check_name(name)
    return _GUIDE[name]


def _check_name(name: str) -> None:
    if name not in _GUIDE:
        raise NotFound(f"no guide manifest named {name!r}",
                       hint=f"the guide's manifests are: {', '.join(_GUIDE)}; or pass YAML text, a path or a dict")


def _text(name: str) -> str:
    _check_name(name)
    return resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def yaml(name: str) -> str:
    """The YAML text of a guide manifest, as the guide shows it (without the file's comment header)."""
    lines = _text(name).splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def load(name: str, *, storage_class: str | None = None) -> list[dict]:
    """The objects of a guide manifest, as fresh dicts (exactly the guide's; see :func:`managed`).

    Args:
        name: one of :func:`names`.
        storage_class: replaces ``sc-nfs`` in ``volumeClaimTemplates`` (a real cluster's own class).
    """
    objs = [d for d in _yaml.safe_load_all(_text(name)) if d]
    return with_storage_class(objs, storage_class) if storage_class else objs


# ---------------------------------------------------------------------------- parsing

def parse(source: Any) -> list[dict]:
    """Objects from a guide manifest name, YAML/JSON text, a file path, a dict or a list of dicts.

    A ``kind: List`` is flattened into its items. Returns deep copies; the input is never modified.
    """
    if isinstance(source, dict):
        docs: list[Any] = [source]
    elif isinstance(source, (list, tuple)):
        docs = [d for item in source for d in (parse(item) if not isinstance(item, dict) else [item])]
    elif isinstance(source, os.PathLike):
        docs = list(_yaml.safe_load_all(Path(source).read_text(encoding="utf-8")))
    elif isinstance(source, str):
        text = source.strip()
        if text in _GUIDE:
            return load(text)
        if "\n" not in text and ":" not in text:
            path = Path(os.path.expanduser(text))
            if path.is_file():
                docs = list(_yaml.safe_load_all(path.read_text(encoding="utf-8")))
            else:
                raise NotFound(f"{text!r} is neither a guide manifest nor a file",
                               hint=f"use one of {', '.join(_GUIDE)}, a path to a YAML file, YAML text or a dict")
        else:
            try:
                docs = list(_yaml.safe_load_all(text))
            except _yaml.YAMLError as e:
                raise ConfigError(f"the manifest is not valid YAML: {e}",
                                  hint="check the indentation around the line named above") from None
    else:
        raise ConfigError(f"cannot read a manifest from a {type(source).__name__}: {source!r}",
                          hint="pass a guide manifest name, YAML text, a path, a dict or a list of dicts")
    out: list[dict] = []
    for d in docs:
        if d is None:
            continue
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise ConfigError(f"a manifest document is not a Kubernetes object: {str(d)[:120]!r}",
                              hint="each document needs apiVersion, kind and metadata.name")
        if d.get("kind") == "List":
            out.extend(parse(list(d.get("items") or [])))
            continue
        out.append(copy.deepcopy(d))
    return out


# ---------------------------------------------------------------------------- transforms (pure)

def managed(objs: Iterable[dict] | dict) -> list[dict]:
    """Copies labelled ``app.kubernetes.io/managed-by: stsnb`` on metadata and on each volume claim template.

    The pod template is left exactly as it is, so revision hashes do not change.
    """
    out = []
    for obj in ([objs] if isinstance(objs, dict) else objs):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), **MANAGED_BY}
        for vct in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
            vmeta = vct.setdefault("metadata", {})
            vmeta["labels"] = {**(vmeta.get("labels") or {}), **MANAGED_BY}
        out.append(obj)
    return out


def is_managed(obj: dict) -> bool:
    """Whether an object carries stsnb's managed-by label."""
    return ((obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def with_storage_class(objs: Iterable[dict], storage_class: str | None) -> list[dict]:
    """Copies whose ``volumeClaimTemplates`` (and PVCs) name ``storage_class`` (unchanged when ``None``)."""
    out = []
    for obj in objs:
        obj = copy.deepcopy(obj)
        if storage_class:
            for vct in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
                vct.setdefault("spec", {})["storageClassName"] = storage_class
            if obj.get("kind") == "PersistentVolumeClaim":
                obj.setdefault("spec", {})["storageClassName"] = storage_class
        out.append(obj)
    return out


def with_namespace(objs: Iterable[dict], namespace: str, *, cluster_scoped: Iterable[str] = ()) -> list[dict]:
    """Copies with ``metadata.namespace`` set (kinds in ``cluster_scoped`` get none).

    Raises:
        ConfigError: an object names another namespace; stsnb only works inside its own.
    """
    scoped = set(cluster_scoped)
    out = []
    for obj in objs:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if obj.get("kind") in scoped:
            meta.pop("namespace", None)
        else:
            if meta.get("namespace") not in (None, "", namespace):
                raise ConfigError(
                    f"{object_ref(obj)} names namespace {meta['namespace']!r}, but this lab works in {namespace!r}",
                    hint="remove metadata.namespace from the manifest (the lab fills in its own), or connect "
                         f"with namespace={meta['namespace']!r}")
            meta["namespace"] = namespace
        out.append(obj)
    return out


def object_ref(obj: dict) -> str:
    """kubectl's name for an object: ``statefulset.apps/nginx-stateful``, ``service/nginx-stateful``."""
    api_version = obj.get("apiVersion", "v1")
    group = api_version.split("/")[0] if "/" in api_version else ""
    kind = str(obj.get("kind", "")).lower()
    return f"{kind}{'.' + group if group else ''}/{(obj.get('metadata') or {}).get('name', '')}"


# ---------------------------------------------------------------------------- builders (pure)

def statefulset(name: str, *, replicas: int = 3, image: str = "nginx", container: str = "nginx",
                service_name: str | None = None, labels: dict | None = None,
                volume_claim_templates: list[dict] | None = None, mount_path: str | None = None,
                pod_management_policy: str | None = None, partition: int | None = None,
                update_strategy: str | None = None) -> dict:
    """A StatefulSet shaped like the guide's: labels ``app: <name>``, one container.

    With the defaults, ``statefulset("nginx-stateful")`` equals ``load("nginx-stateful")[0]``.
    """
    labels = dict(labels or {"app": name})
    ctr: dict[str, Any] = {"image": image, "name": container}
    if volume_claim_templates and mount_path:
        ctr["volumeMounts"] = [{"name": volume_claim_templates[0]["metadata"]["name"], "mountPath": mount_path}]
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": dict(labels)}}
    if service_name:
        spec["serviceName"] = service_name
    if pod_management_policy:
        spec["podManagementPolicy"] = pod_management_policy
    if update_strategy or partition is not None:
        strategy: dict[str, Any] = {"type": update_strategy or "RollingUpdate"}
        if partition is not None:
            strategy["rollingUpdate"] = {"partition": partition}
        spec["updateStrategy"] = strategy
    spec["template"] = {"metadata": {"labels": dict(labels)}, "spec": {"containers": [ctr]}}
    if volume_claim_templates:
        spec["volumeClaimTemplates"] = copy.deepcopy(volume_claim_templates)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"labels": dict(labels), "name": name},
            "spec": spec}


def volume_claim_template(name: str, *, storage: str = "2Gi", storage_class: str | None = GUIDE_STORAGE_CLASS,
                          access_modes: tuple[str, ...] = ("ReadWriteOnce",)) -> dict:
    """One ``volumeClaimTemplates`` entry, like the guide's ``nginx-stateful2-pvc``."""
    spec: dict[str, Any] = {"accessModes": list(access_modes)}
    if storage_class:
        spec["storageClassName"] = storage_class
    spec["resources"] = {"requests": {"storage": storage}}
    return {"metadata": {"name": name}, "spec": spec}


def headless_service(name: str, *, port: int = 80, target_port: int = 80, selector: dict | None = None) -> dict:
    """A headless Service from YAML, as in guide §03 (``clusterIP: None``)."""
    sel = dict(selector or {"app": name})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"labels": dict(sel), "name": name},
            "spec": {"clusterIP": "None", "ports": [{"port": port, "protocol": "TCP", "targetPort": target_port}],
                     "selector": sel, "type": "ClusterIP"}}


def clusterip_service(name: str, *, tcp: str | Iterable[str] = "80:80", cluster_ip: str | None = None) -> dict:
    """What ``kubectl create service clusterip NAME --tcp=PORT:TARGET [--clusterip=None]`` sends.

    The selector and the label are both ``app: NAME`` (kubectl hard-codes that), and each port is
    named ``PORT-TARGET``.
    """
    specs = [tcp] if isinstance(tcp, str) else list(tcp)
    ports = []
    for item in specs:
        port_s, _, target_s = str(item).partition(":")
        target_s = target_s or port_s
        try:
            port = int(port_s)
        except ValueError:
            raise ConfigError(f"--tcp={item!r}: the port must be a number",
                              hint="write it as PORT:TARGET, e.g. '80:80'") from None
        target: Any = int(target_s) if target_s.isdigit() else target_s
        ports.append({"name": f"{port_s}-{target_s}", "port": port, "protocol": "TCP", "targetPort": target})
    spec: dict[str, Any] = {}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    spec.update({"ports": ports, "selector": {"app": name}, "type": "ClusterIP"})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"labels": {"app": name}, "name": name},
            "spec": spec}


def service(name: str, *, port: int = 80, target_port: int | str = 80, selector: dict | None = None,
            type: str = "ClusterIP") -> dict:
    """A ClusterIP (or NodePort) Service selecting ``selector`` (``app: NAME`` by default)."""
    sel = dict(selector or {"app": name})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"labels": dict(sel), "name": name},
            "spec": {"ports": [{"port": port, "protocol": "TCP", "targetPort": target_port}], "selector": sel,
                     "type": type}}


def expose_service(workload: dict, *, port: int = 80, target_port: int | str | None = None,
                   name: str | None = None, type: str = "ClusterIP") -> dict:
    """What ``kubectl expose`` creates for a Deployment, ReplicaSet, Pod or Service (selector copied)."""
    meta = workload.get("metadata") or {}
    kind = workload.get("kind")
    if kind == "Pod":
        selector = dict(meta.get("labels") or {})
    elif kind == "Service":
        selector = dict((workload.get("spec") or {}).get("selector") or {})
    else:
        selector = dict(((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    svc = service(name or meta.get("name", ""), port=port, target_port=port if target_port is None else target_port,
                  selector=selector, type=type)
    svc["metadata"]["labels"] = dict(meta.get("labels") or {})
    return svc


def deployment(name: str, *, replicas: int = 3, image: str = "nginx", container: str = "nginx",
               labels: dict | None = None) -> dict:
    """A Deployment like ``test-deploy``: ``app: NAME`` everywhere, one container."""
    labels = dict(labels or {"app": name})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"labels": dict(labels), "name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"image": image, "name": container}]}}}}


def storage_class(name: str = GUIDE_STORAGE_CLASS, *, provisioner: str = "k8s-sigs.io/nfs-subdir-external-provisioner",
                  binding_mode: str = "Immediate", reclaim_policy: str = "Delete",
                  parameters: dict | None = None, default: bool = False) -> dict:
    """A StorageClass; on kind use ``provisioner="rancher.io/local-path", binding_mode="WaitForFirstConsumer"``."""
    meta: dict[str, Any] = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    obj: dict[str, Any] = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
                           "provisioner": provisioner}
    if parameters:
        obj["parameters"] = dict(parameters)
    obj["reclaimPolicy"] = reclaim_policy
    obj["volumeBindingMode"] = binding_mode
    return obj


def dns_query_pod(query: str, *, image: str = "busybox", name: str = "dnsquery") -> dict:
    """The pod the guide's ``kubectl run dnsquery --image=busybox --restart=Never -- nslookup IP`` makes.

    ``restartPolicy: Never``; the container runs ``nslookup QUERY`` once and exits.
    """
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"run": name}, "name": name},
            "spec": {"containers": [{"command": ["nslookup", query], "image": image, "name": name}],
                     "restartPolicy": "Never"}}
