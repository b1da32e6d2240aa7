"""The ``proxy`` subresource of pods and services: one HTTP request relayed into the pod network.

``/api/v1/namespaces/{ns}/pods/{name}/proxy/{path}`` and ``…/services/{name}/proxy/{path}``,
what ``kubectl proxy`` URLs, ``kubectl get --raw`` and the *Kubernetes Basics* tutorial use,
located as kube-apiserver's ``ResourceLocation`` does (``pkg/registry/core/pod/strategy.go``,
``pkg/registry/core/service/storage/storage.go``):

* the name may carry a scheme and a port, ``[scheme:]name[:port]`` (``SplitSchemeNamePort``);
  only ``http`` is served here (the sandbox's servers speak plain HTTP);
* a pod without a port goes to the first port its containers declare (else 80); a pod without
  an IP yet is a 400 ``address not allowed``;
* a Service's port is a port name or number (a number must be one of the Service's ports:
  503 ``no service port N found for service "name"``); the request goes to a ready endpoint of
  that port, and a Service without one is a 503 ``no endpoints available for service "id"``;
* nothing listening there is a 503 ``error trying to reach service: dial tcp IP:PORT: connect:
  connection refused`` (the proxy transport's wording).

The pod's answer comes back as it was sent: status, body, and its headers except the hop-by-hop
ones and those the API server writes itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ..core import errors

if TYPE_CHECKING:
    from ..core.cluster import Cluster
    from .handler import Request

#: Headers of the pod's answer not relayed: hop-by-hop (RFC 9110 §7.6.1) and the API server's own.
_NOT_RELAYED = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                          "proxy-authenticate", "proxy-authorization", "content-length", "content-type", "date",
                          "server", "cache-control"})
#: Request headers not passed to the pod: hop-by-hop, and the caller's credentials for the API server.
_NOT_FORWARDED = _NOT_RELAYED - {"content-type"} | {"authorization", "host"}


def split_scheme_name_port(ident: str) -> tuple[str, str, str] | None:
    """``(scheme, name, port)`` of ``[scheme:]name[:port]`` (apimachinery's ``SplitSchemeNamePort``), or None."""
    parts = ident.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
        if scheme not in ("http", "https"):
            return None
    else:
        return None
    return (scheme, name, port) if name else None


def proxy(sb: Cluster, req: Request, plural: str, namespace: str,
          ident: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
    """Relay ``req`` to the pod (or a ready endpoint of the Service) named ``ident``, at the path after ``proxy``:
    the answer's ``(status, body, content type, other headers)``."""
    segments = urlsplit(req.target).path.split("/")
    at = next(i for i in range(1, len(segments)) if unquote(segments[i]) == "proxy"
              and unquote(segments[i - 1]) == ident and unquote(segments[i - 2]) == plural)
    tail = "/" + "/".join(segments[at + 1:])  # as sent: still percent-encoded, its trailing slash kept

    parsed = split_scheme_name_port(ident)
    if parsed is None:
        raise errors.bad_request(f"invalid request {ident!r}".replace("'", '"'))
    scheme, name, port = parsed
    if scheme == "https":
        raise errors.bad_request(f"the stsnb sandbox's {plural} speak plain HTTP: proxy to http:{name}:{port} "
                                 f"(or {name}:{port}) instead of https:{name}:{port}")
    ip, port_number = (_pod_location if plural == "pods" else _service_location)(sb, namespace, ident, name, port)
    query = req.target.partition("?")[2]
    headers = [(k, v) for k, v in req.headers.items() if k not in _NOT_FORWARDED]
    try:
        status, answer_headers, body = sb.kubelet.http_request(
            ip, port_number, req.method, (tail or "/") + (f"?{query}" if query else ""),
            [("host", f"{ip}:{port_number}"), *headers], req.body)
    except ConnectionRefusedError:
        raise errors.ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp {ip}:{port_number}: "
                                                         "connect: connection refused") from None
    ctype = next((v for k, v in answer_headers if k.lower() == "content-type"), "")
    return status, body, ctype, [(k, v) for k, v in answer_headers if k.lower() not in _NOT_RELAYED]


def _pod_location(sb: Cluster, namespace: str, ident: str, name: str, port: str) -> tuple[str, int]:
    pod = sb.store.get("pods", namespace, name)
    if pod is None:
        raise errors.not_found("", "pods", name)
    if not port:
        declared = [p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                    for p in c.get("ports") or [] if p.get("containerPort")]
        port = str(declared[0]) if declared else "80"
    ip = (pod.get("status") or {}).get("podIP") or ""
    if not ip:
        raise errors.bad_request("address not allowed")
    if not re.fullmatch(r"\d{1,5}", port):
        raise errors.ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp: address "
                                                         f"{ip}:{port}: invalid port")
    return ip, int(port)


def _service_location(sb: Cluster, namespace: str, ident: str, name: str, port: str) -> tuple[str, int]:
    svc = sb.store.get("services", namespace, name)
    if svc is None:
        raise errors.not_found("", "services", name)
    ports = (svc.get("spec") or {}).get("ports") or []
    if port.isdigit():
        named = next((p for p in ports if p.get("port") == int(port)), None)
        if named is None:
            raise errors.ApiError(503, "ServiceUnavailable", f"no service port {port} found for service \"{name}\"")
        port = named.get("name", "")
    for es in sb.store.list("endpointslices", namespace):
        if (es["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != name:
            continue
        target = next((p.get("port") for p in es.get("ports") or [] if p.get("name", "") == port), None)
        if target is None:
            continue
        for ep in es.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is False:
                continue
            for address in ep.get("addresses") or []:
                return address, int(target)
    raise errors.ApiError(503, "ServiceUnavailable", f"no endpoints available for service \"{ident}\"")
