"""The pod network: which pod answers a TCP connection to an IP and port, and what nginx sends back.

There are no sockets between sandbox pods. A program that connects (``wget``,
``curl``, a port-forward) asks :class:`PodNetwork` for the server at an
address, the way kube-proxy and the CNI would route it:

* a pod IP reaches that pod, if a container of it serves the port (nginx serves
  the ``listen`` ports of its configuration, 80 by default);
* a Service's ClusterIP reaches one of its **ready** endpoints (EndpointSlices),
  the service port mapped to the endpoint's port, chosen round-robin (kube-proxy
  picks at random); a Service without ready endpoints refuses the connection;
* ``127.0.0.1`` is the calling pod itself.

Anything else is refused (``Connection refused``). HTTP requests and responses are
parsed and written with ``h11``; nginx answers as its default configuration does:
files from ``/usr/share/nginx/html`` (``index.html`` for a directory), ``403
Forbidden`` for a directory without an index (``autoindex`` is off), ``404 Not
Found``, ``405 Not Allowed`` for methods other than GET and HEAD.

``agnhost netexec`` (the Hello Minikube tutorial's server, :func:`netexec_server`) answers
as upstream's ``test/images/agnhost/netexec`` does with Go's ``net/http``: ``/`` (and any
path no other handler takes) ``NOW: <Go time>``, ``/hostname`` and ``/hostName`` the
pod's hostname, ``/echo?msg=M&code=C``, ``/healthz`` 200; each request is logged the way
its ``log.Printf`` goes through klog (``I1204 14:55:00.123456       1 log.go:195] GET /``).
Its endpoints that act on the world (``/dial``, ``/shell``, ``/upload``, ``/exit``,
``/shutdown``, ``/redirect``, ``/clientip``) answer ``501`` naming what is simulated.
"""

from __future__ import annotations

import email.utils
import http
import json
import itertools
import mimetypes
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from urllib.parse import parse_qs
from dataclasses import dataclass, field
from typing import Callable

import h11

from .containers import NGINX_HTML, FileSystem, FsError, join, split_path

#: The nginx version in ``Server:`` headers and error pages, by image name.
NGINX_VERSIONS = {"nginx": "1.27.3", "nginx-slim": "1.11.13"}


@dataclass
class HttpRequest:
    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class Refused(OSError):
    """Nothing listens there (``ECONNREFUSED``)."""


Server = Callable[[HttpRequest], HttpResponse]


def static_lookup(fs: FileSystem, root: str, target: str, *, autoindex: bool = False) -> tuple[int, str]:
    """How a static web server serving ``root`` of ``fs`` answers ``GET target``: ``(status, where)``.

    200 with the file served (``index.html`` or ``index.htm`` for a directory; with ``autoindex``, as
    httpd's default ``Options Indexes``, a directory without one is listed: 200 with the directory);
    301 with the location to go to for a directory asked without its trailing slash; 403 for a
    directory without an index (nginx: ``autoindex`` is off); 404 for anything missing.
    """
    path = target.split("?", 1)[0].split("#", 1)[0] or "/"
    full = join(split_path(path, "/"))
    local = root.rstrip("/") + full
    if fs.is_dir(local):
        if not path.endswith("/"):
            return 301, f"{path}/"
        index = next((f"{local.rstrip('/')}/{n}" for n in ("index.html", "index.htm")
                      if fs.exists(f"{local.rstrip('/')}/{n}") and not fs.is_dir(f"{local.rstrip('/')}/{n}")), None)
        if index is None:
            return (200, local) if autoindex else (403, "")
        return 200, index
    return (200, local) if fs.exists(local) else (404, "")


def nginx_server(fs: FileSystem, version: str) -> Server:
    """nginx with the image's default configuration, serving ``fs``'s html directory."""

    def page(status: int, reason: str) -> bytes:
        return (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
                f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n"
                "</body>\r\n</html>\r\n").encode()

    def serve(req: HttpRequest) -> HttpResponse:
        now = email.utils.formatdate(usegmt=True)
        base = [("Server", f"nginx/{version}"), ("Date", now)]

        def error(status: int, reason: str) -> HttpResponse:
            body = page(status, reason)
            return HttpResponse(status, reason, base + [("Content-Type", "text/html"),
                                                        ("Content-Length", str(len(body)))],
                                b"" if req.method == "HEAD" else body)

        if req.method not in ("GET", "HEAD"):
            return error(405, "Not Allowed")
        status, local = static_lookup(fs, NGINX_HTML, req.target)
        if status == 301:
            resp = error(301, "Moved Permanently")
            resp.headers.append(("Location", local))
            return resp
        if status != 200:
            return error(status, {403: "Forbidden", 404: "Not Found"}[status])
        try:
            data = fs.read(local)
            st = fs.stat(local)
        except FsError:
            return error(404, "Not Found")
        ctype = mimetypes.guess_type(local)[0] or "application/octet-stream"
        headers = base + [("Content-Type", ctype), ("Content-Length", str(len(data))),
                          ("Last-Modified", email.utils.formatdate(st.mtime, usegmt=True)),
                          ("Connection", "keep-alive"), ("ETag", f'"{int(st.mtime):x}-{len(data):x}"'),
                          ("Accept-Ranges", "bytes")]
        return HttpResponse(200, "OK", headers, b"" if req.method == "HEAD" else data)

    return serve


def klog_line(message: str, now: float | None = None) -> str:
    """``message`` as agnhost's ``log.Printf`` writes it through klog: header, PID 1, the bridge's source line."""
    when = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    return f"I{when:%m%d %H:%M:%S}.{when.microsecond:06d}       1 log.go:195] {message}\n"


def go_time(now: float, monotonic: float) -> str:
    """Go's ``time.Now().String()`` in UTC: ``2026-12-04 14:55:00.123456 +0000 UTC m=+12.345678901``."""
    when = datetime.fromtimestamp(now, timezone.utc)
    frac = f"{when.microsecond:06d}".rstrip("0")
    return f"{when:%Y-%m-%d %H:%M:%S}{'.' + frac if frac else ''} +0000 UTC m=+{monotonic:.9f}"


#: netexec's endpoints that dial, run, store or stop something: not simulated (501, naming what is).
NETEXEC_UNSIMULATED = ("/clientip", "/dial", "/exit", "/redirect", "/shell", "/shutdown", "/upload")


def netexec_server(hostname: str, log: Callable[[str], None], started: float) -> Server:
    """``agnhost netexec``'s HTTP server (see the module docstring); ``started`` is its ``time.monotonic()`` start."""

    def reply(req: HttpRequest, status: int, body: str, *, typed: bool = True) -> HttpResponse:
        data = body.encode()
        headers = [("Content-Length", str(len(data)))]  # Go writes header names in sorted order
        if typed and data:
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        headers.append(("Date", email.utils.formatdate(usegmt=True)))
        try:
            reason = "I'm a teapot" if status == 418 else http.HTTPStatus(status).phrase  # Go's StatusText
        except ValueError:
            reason = f"status code {status}"
        return HttpResponse(status, reason, headers, b"" if req.method == "HEAD" else data)

    def serve(req: HttpRequest) -> HttpResponse:
        path, _, query = req.target.partition("?")
        form = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if path in ("/hostname", "/hostName"):
            log(klog_line(f"GET {path}"))
            return reply(req, 200, hostname)
        if path == "/echo":
            msg, code = form.get("msg", ""), form.get("code", "")
            log(klog_line(f"GET /echo?msg={msg}&code={code}"))
            if not code:
                return reply(req, 200, msg)
            if not code.lstrip("-").isdigit():
                return reply(req, 200, f"argument 'code' must be an integer or empty, got {json.dumps(code)}\n")
            status = int(code)
            if not 100 <= status <= 999:  # Go's WriteHeader panics; the handler's panic is a 500 here
                return reply(req, 500, "")
            return reply(req, status, msg)
        if path == "/healthz":
            log(klog_line("GET /healthz"))
            return reply(req, 200, "")
        if path in NETEXEC_UNSIMULATED:
            return reply(req, 501, f"stsnb sandbox: agnhost netexec's {path} is not simulated here; "
                                   "/, /hostname, /echo and /healthz are\n")
        log(klog_line("GET /"))
        return reply(req, 200, "NOW: " + go_time(time.time(), time.monotonic() - started))

    return serve


def bootcamp_server(hostname: str, version: str, log: Callable[[str], None], started: float) -> Server:
    """The Kubernetes Basics tutorial's ``server.js`` (Node's ``http``): one line for any request, each logged
    with the count of requests so far and the app's uptime."""
    count = itertools.count(1)

    def serve(req: HttpRequest) -> HttpResponse:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        log(f"Running On: {hostname} | Total Requests: {next(count)} | App Uptime: "
            f"{time.monotonic() - started:.3f} seconds | Log Time: {stamp}\n")
        body = f"Hello Kubernetes bootcamp! | Running on: {hostname} | {version}\n".encode()
        return HttpResponse(200, "OK", [("Date", email.utils.formatdate(usegmt=True)), ("Connection", "keep-alive"),
                                        ("Content-Length", str(len(body)))], b"" if req.method == "HEAD" else body)

    return serve


def hello_app_server(hostname: str, version: str, log: Callable[[str], None]) -> Server:
    """Google's ``hello-app`` (``main.go``, Go's ``net/http``): three lines for any path, and each request
    logged by Go's ``log`` (``2006/01/02 15:04:05 Serving request: /``)."""
    def serve(req: HttpRequest) -> HttpResponse:
        path = urllib.parse.urlsplit(req.target).path or "/"
        log(f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())} Serving request: {path}\n")
        body = f"Hello, world!\nVersion: {version}\nHostname: {hostname}\n".encode()
        return HttpResponse(200, "OK", [("Date", email.utils.formatdate(usegmt=True)),
                                        ("Content-Length", str(len(body))),
                                        ("Content-Type", "text/plain; charset=utf-8")],
                            b"" if req.method == "HEAD" else body)

    return serve


class PodNetwork:
    """Routes connections to pod servers: pod IPs, Service ClusterIPs (ready endpoints), loopback."""

    def __init__(self, store, servers: Callable[[str], dict[int, Server]]) -> None:
        self.store = store
        self._servers = servers  # pod IP -> {port: server} of its running containers
        self._turn = itertools.count()

    def connect(self, ip: str, port: int, own_ip: str | None = None) -> Server:
        """The server at ``ip:port`` as seen from a pod with ``own_ip``; raises :class:`Refused`."""
        if ip.startswith("127.") or ip == "::1":
            ip = own_ip or ip
        served = self._servers(ip)
        if served:
            if port in served:
                return served[port]
            raise Refused(f"connect to {ip} port {port} failed: Connection refused")
        target = self._service_endpoint(ip, port)
        if target is not None:
            pod_ip, pod_port = target
            served = self._servers(pod_ip)
            if pod_port in served:
                return served[pod_port]
        raise Refused(f"connect to {ip} port {port} failed: Connection refused")

    def _service_endpoint(self, ip: str, port: int) -> tuple[str, int] | None:
        for svc in self.store.list("services"):
            spec = svc.get("spec") or {}
            if spec.get("clusterIP") != ip:
                continue
            sport = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
            if sport is None:
                return None
            meta = svc["metadata"]
            ready: list[tuple[str, int]] = []
            for es in self.store.list("endpointslices", meta["namespace"]):
                if (es["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != meta["name"]:
                    continue
                eport = next((p.get("port") for p in es.get("ports") or []
                              if p.get("name", "") == sport.get("name", "")), None)
                if eport is None:
                    continue
                for ep in es.get("endpoints") or []:
                    if (ep.get("conditions") or {}).get("ready") is False:
                        continue
                    ready += [(a, eport) for a in ep.get("addresses") or []]
            if not ready:
                return None
            return ready[next(self._turn) % len(ready)]
        return None


class HttpConnection:
    """One TCP connection to a simulated HTTP server, bytes in and out (what a port-forward carries).

    Requests are parsed and responses written with ``h11``; a malformed request gets
    nginx's ``400 Bad Request`` and the connection closes.
    """

    def __init__(self, server: Server, send: Callable[[bytes], None], close: Callable[[], None]) -> None:
        self.server, self.send, self.close = server, send, close
        self.conn = h11.Connection(h11.SERVER)
        self.lock = threading.Lock()
        self.closed = False

    def feed(self, data: bytes) -> None:
        with self.lock:
            if self.closed:
                return
            self.conn.receive_data(data)
            self._drain()

    def _drain(self) -> None:
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError:
                self._respond(HttpResponse(400, "Bad Request", [("Connection", "close")], b""), close=True)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if event is h11.PAUSED and self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
                    try:
                        self.conn.start_next_cycle()
                        continue
                    except h11.LocalProtocolError:
                        pass
                return
            if isinstance(event, h11.ConnectionClosed):
                self.closed = True
                self.close()
                return
            if isinstance(event, h11.Request):
                self._request = HttpRequest(event.method.decode(), event.target.decode("latin-1"),
                                            [(k.decode(), v.decode("latin-1")) for k, v in event.headers])
            elif isinstance(event, h11.EndOfMessage):
                self._respond(self.server(self._request), close=False)

    def _respond(self, resp: HttpResponse, close: bool) -> None:
        headers = [(k, v) for k, v in resp.headers if k.lower() not in ("connection",)]
        try:
            out = self.conn.send(h11.Response(status_code=resp.status, headers=headers, reason=resp.reason.encode()))
            out += self.conn.send(h11.Data(data=resp.body)) if resp.body else b""
            out += self.conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            out, close = b"", True
        self.send(out)
        if close or self.conn.our_state is h11.MUST_CLOSE:
            self.closed = True
            self.close()
