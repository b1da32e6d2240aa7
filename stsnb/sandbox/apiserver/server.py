"""The sandbox's API on a loopback socket: a thin adapter over :class:`~.handler.Api`.

The standard library's ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive and
Nagle's algorithm disabled (44 ms per request with it, 1.1 ms without, as
measured in ``reference/tooling-notes.md``). Watches and followed logs are sent
with chunked transfer encoding.

What this layer guards, as kube-apiserver's HTTP stack does:

* **TLS** on the same port as plain HTTP, chosen by the client's first byte
  (:mod:`.tls` says why kubectl needs it);
* **authentication** first, for every request (WebSocket upgrades included):
  :meth:`~.auth.Authenticator.check`, the one check all transports share;
* **request bodies** read in bounded chunks, never by allocating what a
  ``Content-Length`` announces; more than :data:`MAX_BODY_BYTES` (upstream's
  ``MaxRequestBodyBytes``, 3 MiB) is a 413 ``Request entity too large: limit is
  3145728``. Chunked bodies are decoded (RFC 9112 §7.1) under the same limit; a
  malformed chunk, a transfer coding other than ``chunked``, or both
  ``Content-Length`` and ``Transfer-Encoding`` is a 400 and the connection is
  closed, so no byte of one request is ever read as the next;
* **protocol errors** the standard library reports itself (malformed request
  line, oversized line or headers, an unknown method) are answered with a JSON
  ``Status`` like every other error, never HTML, and logged as one line;
  a client that vanishes mid-request is logged as one line, never a traceback;
* **streams** notice a client that went away even while nothing happens: idle
  watch ticks check the socket, so an abandoned quiet watch frees its thread;
* **load**: a listen backlog of :data:`LISTEN_BACKLOG` (the standard library's
  default of 5 reset hundreds of simultaneous connections).
"""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from ..core import errors
from .handler import Request, Response

__all__ = ["ApiServer", "LISTEN_BACKLOG", "MAX_BODY_BYTES"]

log = logging.getLogger(__name__)

#: kube-apiserver's ``MaxRequestBodyBytes`` (3 MiB).
MAX_BODY_BYTES = 3 * 1024 * 1024
#: Connections the kernel queues before ``accept`` (Linux caps it at ``net.core.somaxconn``).
LISTEN_BACKLOG = 1024
_READ_CHUNK = 64 * 1024
_MAX_CHUNK_LINE = 4096
_MAX_DISCARD = 64 * 1024 * 1024
_FIRST_BYTE_TIMEOUT = 30.0

#: What the standard library's error path reports, as the API server's Status reason.
_REASONS = {400: "BadRequest", 405: "MethodNotAllowed", 408: "Timeout", 411: "LengthRequired",
            413: "RequestEntityTooLarge", 414: "RequestURITooLong", 431: "RequestHeaderFieldsTooLarge",
            501: "NotImplemented", 505: "HTTPVersionNotSupported"}


class _BodyError(Exception):
    def __init__(self, error: errors.ApiError) -> None:
        super().__init__(error.message)
        self.error = error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "stsnb-sandbox"
    handle_request: Callable[[Request], Response]  # set on the subclass per server
    authenticate: Callable[[str, str | None], errors.ApiError | None]  # likewise

    def log_message(self, format: str, *args: object) -> None:  # quiet: notebooks read stderr
        pass

    # ------------------------------------------------------------------ errors of the HTTP layer
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's error path (bad request line, long headers, unknown method) as a JSON Status."""
        if code == 501:  # an unknown method: the API server answers 405 to any method it does not route
            code, text = 405, "the server does not allow this method on the requested resource"
        else:
            text = message or explain or "bad request"
        log.info("stsnb sandbox: refused a malformed request from %s: %d %s", self.client_address[0], code, text)
        if self.request_version == "HTTP/0.9" or not self.request_version:
            self.request_version = "HTTP/1.1"  # answer with a status line and headers, whatever was sent
        self._send_status(errors.ApiError(code, _REASONS.get(code, "BadRequest"), text), close=True)

    def _send_status(self, error: errors.ApiError, close: bool = False) -> None:
        body = json.dumps(error.status(), separators=(",", ":")).encode() + b"\n"
        self.send_response(error.code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)

    # ------------------------------------------------------------------ bodies
    def _read_exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.rfile.read(min(_READ_CHUNK, n - len(out)))
            if not chunk:
                raise _BodyError(errors.bad_request("the request body ended before its announced length"))
            out += chunk
        return bytes(out)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
                raise _BodyError(errors.bad_request("malformed chunked encoding: a chunk-size line is missing or "
                                                    "too long"))
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
                if size < 0 or not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                    raise ValueError
            except ValueError:
                raise _BodyError(errors.bad_request(f"malformed chunked encoding: invalid chunk size "
                                                    f"{size_text[:20].decode('latin-1')!r}")) from None
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise _BodyError(errors.too_large(f"limit is {MAX_BODY_BYTES}"))
            body += self._read_exact(size)
            if self.rfile.read(2) != b"\r\n":
                raise _BodyError(errors.bad_request("malformed chunked encoding: a chunk does not end with CRLF"))
        for _ in range(100):  # trailer fields, then the empty line
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise _BodyError(errors.bad_request("malformed chunked encoding: too many trailer fields"))

    def _read_body(self) -> bytes:
        coding = self.headers.get("Transfer-Encoding")
        length = self.headers.get_all("Content-Length") or []
        if coding is not None:
            if length:
                raise _BodyError(errors.bad_request("a request may not carry both Content-Length and "
                                                    "Transfer-Encoding"))
            if coding.strip().lower() != "chunked":
                raise _BodyError(errors.ApiError(501, "NotImplemented",
                                                 f"unsupported transfer encoding: {coding!r}"))
            return self._read_chunked()
        if not length:
            return b""
        if len(set(length)) > 1 or not length[0].strip().isdigit():
            raise _BodyError(errors.bad_request(f"bad Content-Length {length[0]!r}"))
        n = int(length[0])
        if n > MAX_BODY_BYTES:
            self._discard(n)
            raise _BodyError(errors.too_large(f"limit is {MAX_BODY_BYTES}"))
        return self._read_exact(n)

    def _discard(self, n: int) -> None:
        """Read and drop what a refused body sends (at most :data:`_MAX_DISCARD`, 2 s per read), so the
        client, still writing, reads the 413 instead of a reset connection. Nothing is kept."""
        left = min(n, _MAX_DISCARD)
        try:
            self.connection.settimeout(2.0)
            while left > 0:
                chunk = self.rfile.read(min(_READ_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return

    # ------------------------------------------------------------------ requests
    def _serve(self) -> None:
        denied = self.authenticate(self.path, self.headers.get("Authorization"))
        try:
            body = self._read_body()
        except _BodyError as e:
            log.info("stsnb sandbox: refused the body of %s %s: %s", self.command, self.path[:200], e.error.message)
            self._send_status(e.error, close=True)
            return
        if denied is not None:
            self._send_status(denied)
            return
        req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        resp = self.handle_request(req)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in resp.headers:
            self.send_header(k, v.encode("utf-8").decode("latin-1"))  # raw UTF-8 bytes on the wire, as Go writes
        if not resp.streaming:
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self._stream(resp)

    def _stream(self, resp: Response) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in resp.body:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                elif self._peer_gone():  # an idle tick: is anyone still listening?
                    self.close_connection = True
                    return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            close = getattr(resp.body, "close", None)
            if close:
                close()

    def _peer_gone(self) -> bool:
        """True when the client has closed its end (readable, and a peek reads nothing)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        """Serve one connection, in TLS when the client opens with a handshake (first byte 0x16)."""
        conn = request
        if self.tls is not None:
            request.settimeout(_FIRST_BYTE_TIMEOUT)  # a client that connects and says nothing frees its thread
            try:
                first = request.recv(1, socket.MSG_PEEK)
            except OSError:
                return
            if first == b"\x16":
                conn = self.tls.wrap_socket(request, server_side=True)
            conn.settimeout(None)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            if conn is not request:
                conn.close()

    def handle_error(self, request: object, client_address: tuple) -> None:
        """A connection that failed mid-request (client gone, reset): one line, no traceback."""
        import sys
        exc = sys.exc_info()[1]
        log.info("stsnb sandbox: connection from %s ended: %s: %s", client_address[0], type(exc).__name__, exc)


class ApiServer:
    """Serves a request handler on 127.0.0.1 in a background thread, behind an authentication check."""

    def __init__(self, handle: Callable[[Request], Response], host: str = "127.0.0.1", port: int = 0,
                 authenticate: Callable[[str, str | None], errors.ApiError | None] | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        handler = type("Handler", (_Handler,), {"handle_request": staticmethod(handle),
                                                "authenticate": staticmethod(authenticate or (lambda p, a: None))})
        self.httpd = _Server((host, port), handler)
        self.httpd.tls = tls
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="stsnb-sandbox-api", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_url(self) -> str:
        """The same port, spoken to in TLS (what kubeconfigs name: kubectl sends credentials only over TLS)."""
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
