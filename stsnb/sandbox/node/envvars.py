"""A container's environment as the kubelet makes it (``pkg/kubelet/kubelet_pods.go``, ``pkg/kubelet/envvars``).

* :func:`from_services`: the Docker-link variables of Services (``envvars.FromServices``):
  ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT`` (and one per named port),
  ``<NAME>_PORT=tcp://IP:PORT`` and ``<NAME>_PORT_<P>_<PROTO>[_PROTO|_PORT|_ADDR]``, for every
  Service with a cluster IP in the pod's namespace (``enableServiceLinks``, on by default) and
  always for ``kubernetes`` in ``default``;
* :func:`container_env` (``makeEnvironmentVariables``): ``envFrom`` (ConfigMaps and Secrets,
  with their ``prefix``), then ``env`` in order: a ``value`` with ``$(VAR)`` expanded against
  what came before and the Service variables; ``fieldRef``; ``resourceFieldRef``;
  ``configMapKeyRef`` and ``secretKeyRef``; then the Service variables not declared.

A missing ConfigMap, Secret or key that is not ``optional`` is :class:`ConfigError`, which the
kubelet shows as ``CreateContainerConfigError`` (upstream's message, e.g. ``configmap
"special-config" not found``) until it exists.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable

from ...k8s.quantity import parse_quantity
from .programs import kubelet_expand

__all__ = ["ConfigError", "from_services", "container_env"]

#: ``masterServices``: their variables are in every pod, whatever ``enableServiceLinks`` says
MASTER_SERVICES = ("kubernetes",)


class ConfigError(Exception):
    """The container's environment refers to something that is not there (``CreateContainerConfigError``)."""


def _var_name(name: str) -> str:
    return name.replace("-", "_").upper()


def from_services(services: list[dict]) -> list[tuple[str, str]]:
    """``envvars.FromServices``: the variables of each Service with a cluster IP, in the order given."""
    out: list[tuple[str, str]] = []
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _var_name(svc["metadata"]["name"])
        out.append((f"{prefix}_SERVICE_HOST", ip))
        out.append((f"{prefix}_SERVICE_PORT", str(ports[0].get("port"))))
        for p in ports:
            if p.get("name"):
                out.append((f"{prefix}_SERVICE_PORT_{_var_name(p['name'])}", str(p.get("port"))))
        host = f"[{ip}]" if ":" in ip else ip
        for i, p in enumerate(ports):
            proto = (p.get("protocol") or "TCP")
            url = f"{proto.lower()}://{host}:{p.get('port')}"
            if i == 0:
                out.append((f"{prefix}_PORT", url))
            pp = f"{prefix}_PORT_{p.get('port')}_{proto.upper()}"
            out += [(pp, url), (f"{pp}_PROTO", proto.lower()), (f"{pp}_PORT", str(p.get("port"))), (f"{pp}_ADDR", ip)]
    return out


def _field(pod: dict, path: str) -> str:
    """``ExtractFieldPathAsString`` and the kubelet's own fields (``podFieldSelectorRuntimeValue``)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']*)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):  # pkg/fieldpath FormatMap: key=%q, sorted, one a line
        return "\n".join(f"{k}={go_quote(str(v))}" for k, v in sorted((meta.get(path.split(".")[1]) or {}).items()))
    values = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "spec.serviceAccountName": spec.get("serviceAccountName", ""),
              "status.hostIP": status.get("hostIP", ""),
              "status.hostIPs": ",".join(i.get("ip", "") for i in status.get("hostIPs") or []) or status.get("hostIP", ""),
              "status.podIP": status.get("podIP", ""),
              "status.podIPs": ",".join(i.get("ip", "") for i in status.get("podIPs") or []) or status.get("podIP", "")}
    return str(values.get(path, ""))


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): double quotes, ``\\"`` and ``\\\\``, C escapes, ``\\xNN`` for other control
    bytes, ``\\uNNNN``/``\\UNNNNNNNN`` for runes that are not printable; printable Unicode as it is."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _resource(pod: dict, container: dict, ref: dict, allocatable: dict) -> str:
    """``resourceFieldRef``: a limit or request of a container, in units of ``divisor`` (rounded up);
    a limit not set is the node's allocatable amount."""
    name = ref.get("containerName") or container.get("name")
    target = next((c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == name), container)
    kind, _, resource = (ref.get("resource") or "").partition(".")
    value = ((target.get("resources") or {}).get(kind) or {}).get(resource)
    if value is None:
        value = allocatable.get(resource, "0") if kind == "limits" else "0"
    divisor = parse_quantity(ref.get("divisor") or "1") or 1
    return str(max(0, math.ceil(parse_quantity(value) / divisor - 1e-9)))


def container_env(pod: dict, container: dict, *, lookup: Callable[[str, str], dict | None],
                  services: list[tuple[str, str]], allocatable: dict) -> list[tuple[str, str]]:
    """``makeEnvironmentVariables``: the declared variables in order, then the Service variables not declared.

    ``lookup(kind, name)`` reads a ConfigMap (``"configmaps"``) or Secret (``"secrets"``) of the
    pod's namespace, None when missing. Raises :class:`ConfigError` with upstream's message.
    """
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    env: dict[str, str] = {}

    def data(kind: str, name: str, optional: bool) -> dict[str, str] | None:
        obj = lookup(kind, name)
        if obj is None:
            if optional:
                return None
            raise ConfigError(f'{"configmap" if kind == "configmaps" else "secret"} "{name}" not found')
        if kind == "configmaps":
            return {k: str(v) for k, v in (obj.get("data") or {}).items()}
        out = {k: base64.b64decode(v or "").decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
        return out | {k: str(v) for k, v in (obj.get("stringData") or {}).items()}

    for source in container.get("envFrom") or []:
        for key, kind in (("configMapRef", "configmaps"), ("secretRef", "secrets")):
            ref = source.get(key)
            if ref is not None:
                found = data(kind, ref.get("name", ""), bool(ref.get("optional")))
                for k, v in (found or {}).items():
                    env[(source.get("prefix") or "") + k] = v
    service_env = dict(services)
    for var in container.get("env") or []:
        name = var.get("name")
        if not name:
            continue
        source = var.get("valueFrom") or {}
        if var.get("value"):
            env[name] = kubelet_expand(str(var["value"]), {**service_env, **env})
        elif "fieldRef" in source:
            env[name] = _field(pod, (source["fieldRef"] or {}).get("fieldPath", ""))
        elif "resourceFieldRef" in source:
            env[name] = _resource(pod, container, source["resourceFieldRef"] or {}, allocatable)
        elif "configMapKeyRef" in source or "secretKeyRef" in source:
            key, kind = ("configMapKeyRef", "configmaps") if "configMapKeyRef" in source else ("secretKeyRef", "secrets")
            ref = source[key] or {}
            found = data(kind, ref.get("name", ""), bool(ref.get("optional")))
            if found is None:
                continue
            if ref.get("key") not in found:
                if ref.get("optional"):
                    continue
                what = "ConfigMap" if kind == "configmaps" else "Secret"
                raise ConfigError(f"couldn't find key {ref.get('key')} in {what} {ns}/{ref.get('name')}")
            env[name] = found[ref["key"]]
        else:
            env[name] = ""
    return list(env.items()) + [(k, v) for k, v in services if k not in env]
