"""The sandbox's API on a loopback socket: a thin adapter over :class:`~.api.Api`.

The standard library's ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive and
Nagle's algorithm disabled (44 ms per request with it, 1.1 ms without, as
measured in ``reference/tooling-notes.md``). Watches and followed logs are sent
with chunked transfer encoding.
"""

from __future__ import annotations

import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from .handler import Request, Response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "stsnb-sandbox"
    handle_request: Callable[[Request], Response]  # set on the subclass per server

    def log_message(self, format: str, *args: object) -> None:  # quiet: notebooks read stderr
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
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
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in resp.body:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                elif self._client_gone():  # an idle tick: stop streaming to a client that hung up
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

    def _client_gone(self) -> bool:
        """True when the client closed its end (the socket reads EOF), without consuming anything."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError):
            return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class ApiServer:
    """Serves a request handler on 127.0.0.1 in a background thread."""

    def __init__(self, handle: Callable[[Request], Response], host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"handle_request": staticmethod(handle)})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="stsnb-sandbox-api", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
