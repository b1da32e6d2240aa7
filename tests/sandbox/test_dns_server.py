"""The sandbox's DNS server on a real port: UDP and TCP, malformed packets, and ``dig`` against it."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess

import dns.message
import dns.query
import pytest

from stsnb.sandbox.dns import DnsServer

from ..unit.test_dns import _header, cdns, store, texts  # noqa: F401 - fixtures shared with the unit tier


@pytest.fixture
def server(cdns):
    with DnsServer(cdns) as srv:
        yield srv


def test_the_server_answers_over_udp_and_tcp_on_one_port(server):
    query = dns.message.make_query("79.194.100.10.in-addr.arpa.", "PTR")
    for send in (dns.query.udp, dns.query.tcp):
        reply = send(query, "127.0.0.1", port=server.port, timeout=5)
        assert texts(reply) == ["79.194.100.10.in-addr.arpa. PTR 10-100-194-79.test-deploy.default.svc.cluster.local."]


def test_the_server_survives_malformed_packets(server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        for junk in (b"", b"\x00\x01", _header(qd=0), _header() + b"\x3f" + b"x" * 10, bytes(range(256)) * 3):
            sock.sendto(junk, ("127.0.0.1", server.port))
            try:
                reply, _ = sock.recvfrom(4096)
                assert struct.unpack("!H", reply[2:4])[0] & 0x8000  # a response, if any
            except socket.timeout:
                pass
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(struct.pack("!H", 5) + b"\x01\x02\x03\x04\x05")  # too short to answer: dropped
        good = dns.message.make_query("nginx-stateful.default.svc.cluster.local.", "A").to_wire()
        conn.sendall(struct.pack("!H", len(good)) + good)  # the same connection keeps working
        size = struct.unpack("!H", conn.recv(2))[0]
        data = b""
        while len(data) < size:
            data += conn.recv(size - len(data))
        assert len(dns.message.from_wire(data).answer[0]) == 3
    query = dns.message.make_query("test-deploy.default.svc.cluster.local.", "A")
    assert dns.query.udp(query, "127.0.0.1", port=server.port, timeout=5).answer


def test_the_server_stops_and_frees_its_port(cdns):
    srv = DnsServer(cdns).start()
    port = srv.port
    srv.stop()
    again = DnsServer(cdns, port=port).start()
    try:
        assert again.port == port
    finally:
        again.stop()


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed (apt-get install dnsutils)")
def test_dig_reverse_lookup_prints_the_guides_names(server):
    for ip, name in (("10.100.194.79", "10-100-194-79.test-deploy.default.svc.cluster.local."),
                     ("10.100.194.82", "nginx-stateful-0.nginx-stateful.default.svc.cluster.local.")):
        for transport in ("+notcp", "+tcp"):
            out = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), transport, "+short", "-x", ip],
                                 capture_output=True, text=True, timeout=20, check=True).stdout
            assert out == name + "\n"
    full = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), "-x", "10.100.194.99"],
                          capture_output=True, text=True, timeout=20, check=True).stdout
    assert "status: NXDOMAIN" in full
