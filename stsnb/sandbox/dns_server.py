"""The cluster DNS on a real port: UDP and TCP sockets around :meth:`ClusterDns.handle_wire`.

``dig @127.0.0.1 -p PORT -x 10.100.194.79`` works against it. The wire-level
rules (truncation, FORMERR, EDNS) are :class:`~stsnb.sandbox.dns.ClusterDns`'s;
this module only moves bytes, as miekg/dns's server does: one query per UDP
datagram, length-prefixed queries on a TCP connection (at most 128 per
connection, 8 s idle), no tracebacks printed for bad clients.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dns import ClusterDns

__all__ = ["DnsServer"]


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.cluster_dns.handle_wire(data, tcp=False)  # type: ignore[attr-defined]
        if reply:
            try:
                sock.sendto(reply, self.client_address)
            except OSError:
                pass


class _TCPHandler(socketserver.BaseRequestHandler):
    max_queries = 128  # miekg/dns maxTCPQueries

    def handle(self) -> None:
        conn: socket.socket = self.request
        server = self.server
        server.track(conn, True)  # type: ignore[attr-defined]
        try:
            conn.settimeout(server.idle_timeout)  # type: ignore[attr-defined]
            for _ in range(self.max_queries):
                head = _recv_exact(conn, 2)
                if head is None:
                    return
                data = _recv_exact(conn, struct.unpack("!H", head)[0])
                if data is None:
                    return
                reply = server.cluster_dns.handle_wire(data, tcp=True)  # type: ignore[attr-defined]
                if reply:
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return
        finally:
            server.track(conn, False)  # type: ignore[attr-defined]


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class _UDPServer(socketserver.UDPServer):
    max_packet_size = 65535

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001 - never print tracebacks
        pass


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = True
    idle_timeout = 8.0  # miekg/dns: 8 s between queries on one connection

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass


class DnsServer:
    """Serves a :class:`ClusterDns` over UDP and TCP on one port of ``host``, one thread per transport.

    ``port=0`` picks a port that is free for both transports. Use as a context
    manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, cluster_dns: ClusterDns, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster_dns = cluster_dns
        self.host = host
        self.port = port
        self._udp: _UDPServer | None = None
        self._tcp: _TCPServer | None = None
        self._threads: list[threading.Thread] = []

    def _bind(self) -> None:
        attempts = 50 if self.port == 0 else 1
        for attempt in range(attempts):
            udp = _UDPServer((self.host, self.port), _UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer((self.host, port), _TCPHandler)
            except OSError:
                udp.server_close()
                if attempt == attempts - 1:
                    raise
                continue
            self._udp, self._tcp, self.port = udp, tcp, port
            return

    def start(self) -> "DnsServer":
        if self._udp is not None:
            return self
        self._bind()
        for server, proto in ((self._udp, "udp"), (self._tcp, "tcp")):
            server.cluster_dns = self.cluster_dns  # type: ignore[union-attr]
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},  # type: ignore[union-attr]
                                 name=f"stsnb-sandbox-dns-{proto}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        udp, tcp = self._udp, self._tcp
        if udp is None or tcp is None:
            return
        self._udp = self._tcp = None
        udp.shutdown()
        tcp.shutdown()
        tcp.close_connections()
        udp.server_close()
        tcp.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
