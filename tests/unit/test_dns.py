"""The sandbox's cluster DNS answers like CoreDNS's kubernetes plugin under kubeadm's Corefile."""

from __future__ import annotations

import random
import struct

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import pytest

from stsnb.sandbox.dns import ClusterDns
from stsnb.sandbox.core.store import Store

# ----------------------------------------------------------------- a cluster like the guide's


def _svc(name: str, cluster_ip: str, ports: list[dict] | None = None, ns: str = "default", **spec) -> dict:
    body = {"clusterIP": cluster_ip, "type": "ClusterIP", "ports": ports if ports is not None else
            [{"name": "80-80", "port": 80, "targetPort": 80, "protocol": "TCP"}], **spec}
    if cluster_ip != "None":
        body["clusterIPs"] = [cluster_ip]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": body}


def _slice(service: str, endpoints: list[tuple], ports: list[dict] | None = None, ns: str = "default",
           suffix: str = "abcde") -> dict:
    """``endpoints``: (ip, hostname or None, ready: True/False/None) triples."""
    eps = []
    for ip, hostname, ready in endpoints:
        ep: dict = {"addresses": [ip], "conditions": {} if ready is None else {"ready": ready}}
        if hostname:
            ep["hostname"] = hostname
        eps.append(ep)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{service}-{suffix}", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": service}},
            "ports": ports if ports is not None else [{"name": "80-80", "port": 80, "protocol": "TCP"}],
            "endpoints": eps}


@pytest.fixture
def store() -> Store:
    s = Store()
    for ns in ("default", "kube-system"):
        s.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    s.create("services", _svc("kube-dns", "10.96.0.10", [
        {"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "metrics", "port": 9153, "protocol": "TCP"}], ns="kube-system"))
    s.create("services", _svc("test-deploy", "10.104.20.5", [{"name": "http", "port": 80, "protocol": "TCP"}]))
    s.create("endpointslices", _slice("test-deploy", [("10.100.194.79", None, True), ("10.110.126.39", None, True),
                                                      ("10.110.126.40", None, True)],
                                      [{"name": "http", "port": 80, "protocol": "TCP"}]))
    s.create("services", _svc("nginx-stateful", "None"))
    s.create("endpointslices", _slice("nginx-stateful", [("10.100.194.82", "nginx-stateful-0", True),
                                                         ("10.110.126.47", "nginx-stateful-1", True),
                                                         ("10.100.194.90", "nginx-stateful-2", True)]))
    return s


@pytest.fixture
def cdns(store: Store) -> ClusterDns:
    return ClusterDns(store)


def ask(cdns: ClusterDns, name: str, rdtype: str = "A", **kw) -> dns.message.Message:
    return cdns.resolve(dns.message.make_query(name, rdtype, **kw))


def texts(reply: dns.message.Message, section: str = "answer") -> list[str]:
    return [f"{rr.name} {dns.rdatatype.to_text(rr.rdtype)} {rd}" for rr in getattr(reply, section) for rd in rr]


def ptr(cdns: ClusterDns, ip: str) -> dns.message.Message:
    return ask(cdns, dns.reversename.from_address(ip).to_text(), "PTR")


# ----------------------------------------------------------------- PTR: the guide's three cases


def test_reverse_lookup_of_a_deployment_pod_names_its_dashed_ip_under_the_clusterip_service(cdns):
    reply = ptr(cdns, "10.100.194.79")
    assert reply.rcode() == dns.rcode.NOERROR
    assert texts(reply) == ["79.194.100.10.in-addr.arpa. PTR 10-100-194-79.test-deploy.default.svc.cluster.local."]


def test_reverse_lookup_of_a_statefulset_pod_names_its_hostname_under_the_headless_service(cdns):
    assert texts(ptr(cdns, "10.100.194.82")) == [
        "82.194.100.10.in-addr.arpa. PTR nginx-stateful-0.nginx-stateful.default.svc.cluster.local."]


def test_a_statefulset_without_service_name_gets_the_dashed_name_under_the_headless_service(store, cdns):
    store.create("services", _svc("web", "None"))
    store.create("endpointslices", _slice("web", [("10.100.194.83", None, True)]))
    assert texts(ptr(cdns, "10.100.194.83")) == ["83.194.100.10.in-addr.arpa. PTR 10-100-194-83.web.default.svc.cluster.local."]


def test_a_pod_behind_no_service_falls_through_to_an_upstream_that_answers_nxdomain(cdns):
    reply = ptr(cdns, "10.100.194.99")
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert not reply.flags & dns.flags.AA and reply.flags & dns.flags.RA
    assert reply.answer == [] and reply.authority == []


def test_a_not_ready_endpoint_has_no_records_of_any_kind(store, cdns):
    store.create("services", _svc("slow", "None"))
    store.create("endpointslices", _slice("slow", [("10.100.194.91", "slow-0", False), ("10.100.194.92", "slow-1", True)]))
    assert ptr(cdns, "10.100.194.91").rcode() == dns.rcode.NXDOMAIN
    assert ask(cdns, "slow-0.slow.default.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN
    assert texts(ask(cdns, "slow.default.svc.cluster.local.")) == ["slow.default.svc.cluster.local. A 10.100.194.92"]


def test_an_endpoint_without_a_ready_condition_counts_as_ready(store, cdns):
    store.create("services", _svc("unknown", "None"))
    store.create("endpointslices", _slice("unknown", [("10.100.194.93", None, None)]))
    assert texts(ptr(cdns, "10.100.194.93")) == [
        "93.194.100.10.in-addr.arpa. PTR 10-100-194-93.unknown.default.svc.cluster.local."]


def test_a_pod_selected_by_two_services_gets_one_ptr_answer_per_service(store, cdns):
    store.create("services", _svc("other", "10.104.20.6"))
    store.create("endpointslices", _slice("other", [("10.100.194.82", None, True)]))
    assert sorted(texts(ptr(cdns, "10.100.194.82"))) == [
        "82.194.100.10.in-addr.arpa. PTR 10-100-194-82.other.default.svc.cluster.local.",
        "82.194.100.10.in-addr.arpa. PTR nginx-stateful-0.nginx-stateful.default.svc.cluster.local."]


def test_a_cluster_ip_reverses_to_its_service_only(cdns):
    assert texts(ptr(cdns, "10.96.0.10")) == ["10.0.96.10.in-addr.arpa. PTR kube-dns.kube-system.svc.cluster.local."]


def test_an_incomplete_or_malformed_reverse_name_falls_through_to_nxdomain(cdns):
    for name in ("194.100.10.in-addr.arpa.", "079.194.100.10.in-addr.arpa.", "x.in-addr.arpa."):
        reply = ask(cdns, name, "PTR")
        assert reply.rcode() == dns.rcode.NXDOMAIN and not reply.flags & dns.flags.AA, name


# ----------------------------------------------------------------- A, AAAA, SRV


def test_a_clusterip_service_resolves_to_its_cluster_ip(cdns):
    assert texts(ask(cdns, "kube-dns.kube-system.svc.cluster.local.")) == [
        "kube-dns.kube-system.svc.cluster.local. A 10.96.0.10"]
    assert texts(ask(cdns, "test-deploy.default.svc.cluster.local.")) == [
        "test-deploy.default.svc.cluster.local. A 10.104.20.5"]


def test_a_headless_service_resolves_to_every_ready_endpoint_once(store, cdns):
    # two ports: CoreDNS sees each address twice and de-duplicates
    ports = [{"name": "web", "port": 80, "protocol": "TCP"}, {"name": "admin", "port": 8080, "protocol": "TCP"}]
    store.create("services", _svc("multi", "None", ports))
    store.create("endpointslices", _slice("multi", [("10.1.0.1", "m-0", True), ("10.1.0.2", "m-1", True)], ports))
    store.create("endpointslices", _slice("multi", [("10.1.0.3", "m-2", True), ("10.1.0.1", "m-0", True)], ports,
                                          suffix="fghij"))
    assert texts(ask(cdns, "multi.default.svc.cluster.local.")) == [
        "multi.default.svc.cluster.local. A 10.1.0.1", "multi.default.svc.cluster.local. A 10.1.0.2",
        "multi.default.svc.cluster.local. A 10.1.0.3"]


def test_a_headless_service_without_ready_endpoints_is_nxdomain(store, cdns):
    store.create("services", _svc("empty", "None"))
    reply = ask(cdns, "empty.default.svc.cluster.local.")
    assert reply.rcode() == dns.rcode.NXDOMAIN and reply.flags & dns.flags.AA


def test_a_headless_service_without_ports_still_resolves_but_has_no_srv(store, cdns):
    store.create("services", _svc("bare", "None", []))
    store.create("endpointslices", _slice("bare", [("10.1.0.9", "bare-0", True)], []))
    assert texts(ask(cdns, "bare.default.svc.cluster.local.")) == ["bare.default.svc.cluster.local. A 10.1.0.9"]
    reply = ask(cdns, "bare.default.svc.cluster.local.", "SRV")
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer == []


def test_endpoint_names_resolve_for_headless_and_clusterip_services(cdns):
    assert texts(ask(cdns, "nginx-stateful-1.nginx-stateful.default.svc.cluster.local.")) == [
        "nginx-stateful-1.nginx-stateful.default.svc.cluster.local. A 10.110.126.47"]
    assert texts(ask(cdns, "10-100-194-79.test-deploy.default.svc.cluster.local.")) == [
        "10-100-194-79.test-deploy.default.svc.cluster.local. A 10.100.194.79"]
    # an endpoint with a hostname is known only by it
    assert ask(cdns, "10-100-194-82.nginx-stateful.default.svc.cluster.local.").rcode() == dns.rcode.NXDOMAIN


def test_srv_for_a_named_port_of_a_headless_service_lists_every_endpoint_with_coredns_weights(cdns):
    reply = ask(cdns, "_80-80._tcp.nginx-stateful.default.svc.cluster.local.", "SRV")
    assert texts(reply) == [
        "_80-80._tcp.nginx-stateful.default.svc.cluster.local. SRV 0 33 80 nginx-stateful-0.nginx-stateful.default.svc.cluster.local.",
        "_80-80._tcp.nginx-stateful.default.svc.cluster.local. SRV 0 33 80 nginx-stateful-1.nginx-stateful.default.svc.cluster.local.",
        "_80-80._tcp.nginx-stateful.default.svc.cluster.local. SRV 0 33 80 nginx-stateful-2.nginx-stateful.default.svc.cluster.local."]
    assert texts(reply, "additional") == [
        "nginx-stateful-0.nginx-stateful.default.svc.cluster.local. A 10.100.194.82",
        "nginx-stateful-1.nginx-stateful.default.svc.cluster.local. A 10.110.126.47",
        "nginx-stateful-2.nginx-stateful.default.svc.cluster.local. A 10.100.194.90"]


def test_srv_for_a_clusterip_service_targets_the_service_name(cdns):
    reply = ask(cdns, "_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.", "SRV")
    assert texts(reply) == ["_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local. SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."]
    assert texts(reply, "additional") == ["kube-dns.kube-system.svc.cluster.local. A 10.96.0.10"]
    # without _port._proto every port matches, and the weights share 100
    whole = ask(cdns, "kube-dns.kube-system.svc.cluster.local.", "SRV")
    assert [str(rd).split()[:3] for rr in whole.answer for rd in rr] == [["0", "33", "53"], ["0", "33", "9153"]]


def test_srv_for_a_port_the_service_does_not_have_is_nxdomain(cdns):
    assert ask(cdns, "_https._tcp.test-deploy.default.svc.cluster.local.", "SRV").rcode() == dns.rcode.NXDOMAIN
    assert ask(cdns, "_http._udp.test-deploy.default.svc.cluster.local.", "SRV").rcode() == dns.rcode.NXDOMAIN


def test_aaaa_of_a_service_is_nodata_with_the_zone_soa(cdns):
    reply = ask(cdns, "test-deploy.default.svc.cluster.local.", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR and reply.answer == [] and reply.flags & dns.flags.AA
    (soa,) = reply.authority
    assert soa.name.to_text() == "cluster.local." and soa.ttl == 30
    rd = soa[0]
    assert (rd.mname.to_text(), rd.rname.to_text(), rd.refresh, rd.retry, rd.expire, rd.minimum) == (
        "ns.dns.cluster.local.", "hostmaster.cluster.local.", 7200, 1800, 86400, 30)


def test_pod_names_resolve_without_checking_the_pod(cdns):
    assert texts(ask(cdns, "10-1-2-3.default.pod.cluster.local.")) == ["10-1-2-3.default.pod.cluster.local. A 10.1.2.3"]
    assert ask(cdns, "not-an-ip.default.pod.cluster.local.").rcode() == dns.rcode.NXDOMAIN
    assert ask(cdns, "10-1-2-3.nowhere.pod.cluster.local.").rcode() == dns.rcode.NXDOMAIN


def test_other_names_in_the_zone_are_nxdomain_and_namespaces_are_nodata(cdns):
    for name in ("nope.default.svc.cluster.local.", "test-deploy.nowhere.svc.cluster.local.",
                 "a.b.c.test-deploy.default.svc.cluster.local.", "foo.cluster.local.", "default.cluster.local."):
        reply = ask(cdns, name)
        assert reply.rcode() == dns.rcode.NXDOMAIN and reply.flags & dns.flags.AA, name
        assert texts(reply, "authority")[0].startswith("cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local.")
    for name in ("default.svc.cluster.local.", "svc.cluster.local.", "default.pod.cluster.local.", "cluster.local."):
        reply = ask(cdns, name)
        assert (reply.rcode(), reply.answer, len(reply.authority)) == (dns.rcode.NOERROR, [], 1), name


def test_names_outside_the_zone_get_the_upstreams_nxdomain(cdns):
    for name in ("web-0.nginx.", "example.com.", "nginx-stateful-0.nginx-stateful."):
        reply = ask(cdns, name)
        assert reply.rcode() == dns.rcode.NXDOMAIN and not reply.flags & dns.flags.AA and reply.authority == []


def test_answers_are_authoritative_without_recursion_and_live_30_seconds(cdns):
    reply = ask(cdns, "test-deploy.default.svc.cluster.local.")
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA and reply.flags & dns.flags.RD
    assert {rr.ttl for rr in reply.answer} == {30}


def test_query_case_is_kept_in_owner_names(cdns):
    assert texts(ask(cdns, "Test-Deploy.DEFAULT.svc.Cluster.Local.")) == [
        "Test-Deploy.DEFAULT.svc.Cluster.Local. A 10.104.20.5"]


def test_an_externalname_service_is_a_cname(store, cdns):
    store.create("services", {"metadata": {"name": "ext", "namespace": "default"},
                              "spec": {"type": "ExternalName", "externalName": "example.com"}})
    assert texts(ask(cdns, "ext.default.svc.cluster.local.")) == ["ext.default.svc.cluster.local. CNAME example.com."]
    assert texts(ask(cdns, "ext.default.svc.cluster.local.", "CNAME")) == ["ext.default.svc.cluster.local. CNAME example.com."]


def test_dns_version_and_the_zone_ns_point_at_kube_dns(cdns):
    assert texts(ask(cdns, "dns-version.cluster.local.", "TXT")) == ['dns-version.cluster.local. TXT "1.1.0"']
    ns = ask(cdns, "cluster.local.", "NS")
    assert texts(ns) == ["cluster.local. NS kube-dns.kube-system.svc.cluster.local."]
    assert texts(ns, "additional") == ["kube-dns.kube-system.svc.cluster.local. A 10.96.0.10"]
    assert texts(ask(cdns, "ns.dns.cluster.local.")) == ["ns.dns.cluster.local. A 10.96.0.10"]


def test_the_soa_serial_moves_when_services_change(store, cdns, monkeypatch):
    import stsnb.sandbox.dns as module
    monkeypatch.setattr(module.time, "time", lambda: 2_000_000_000)
    store.create("services", _svc("new", "10.104.20.9"))
    assert ask(cdns, "cluster.local.", "SOA").answer[0][0].serial == 2_000_000_000


# ----------------------------------------------------------------- bad input


def test_unusual_queries_get_the_rcode_a_real_server_gives(cdns):
    q = dns.message.make_query("test-deploy.default.svc.cluster.local.", "A")
    q.set_opcode(dns.opcode.UPDATE)
    assert cdns.resolve(q).rcode() == dns.rcode.NOTIMP
    empty = dns.message.Message()
    assert cdns.resolve(empty).rcode() == dns.rcode.FORMERR
    assert ask(cdns, "test-deploy.default.svc.cluster.local.", use_edns=1).rcode() == dns.rcode.BADVERS
    chaos = dns.message.make_query("version.bind.", "TXT", rdclass=dns.rdataclass.CH)
    assert cdns.resolve(chaos).rcode() == dns.rcode.REFUSED
    # a type the plugin has no records of: NODATA for a name that exists, NXDOMAIN for one that does not
    assert ask(cdns, "test-deploy.default.svc.cluster.local.", "TYPE65280").rcode() == dns.rcode.NOERROR
    assert ask(cdns, "nope.default.svc.cluster.local.", "HINFO").rcode() == dns.rcode.NXDOMAIN
    assert ask(cdns, "test-deploy.default.svc.cluster.local.", "ANY").rcode() == dns.rcode.NOERROR


def _header(qid: int = 0x1234, flags: int = 0x0100, qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


def test_wire_input_is_dropped_or_rejected_the_way_miekg_dns_does(cdns):
    assert cdns.handle_wire(b"") is None and cdns.handle_wire(b"\x12\x34\x01") is None
    response = dns.message.make_query("a.", "A")
    response.flags |= dns.flags.QR
    assert cdns.handle_wire(response.to_wire()) is None
    notimp = cdns.handle_wire(_header(flags=0x2800))  # opcode UPDATE
    assert notimp == struct.pack("!6H", 0x1234, 0xA804, 0, 0, 0, 0)
    two = cdns.handle_wire(_header(qd=2) + b"\x00\x00\x01\x00\x01" * 2)
    assert two == struct.pack("!6H", 0x1234, 0x8101, 0, 0, 0, 0)
    long_label = _header() + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01"
    assert cdns.handle_wire(long_label) == struct.pack("!6H", 0x1234, 0x8101, 0, 0, 0, 0)
    too_long = _header() + (b"\x3f" + b"a" * 63) * 5 + b"\x00\x00\x01\x00\x01"  # a 320-byte name
    assert cdns.handle_wire(too_long) == struct.pack("!6H", 0x1234, 0x8101, 0, 0, 0, 0)
    loop = _header() + b"\xc0\x0c\x00\x01\x00\x01"  # a compression pointer to itself
    assert dns.message.from_wire(cdns.handle_wire(loop)).rcode() == dns.rcode.FORMERR
    good = dns.message.make_query("test-deploy.default.svc.cluster.local.", "A").to_wire()
    assert dns.message.from_wire(cdns.handle_wire(good + b"trailing")).answer


def test_random_bytes_never_raise(cdns):
    rng = random.Random(20240601)
    good = dns.message.make_query("nginx-stateful.default.svc.cluster.local.", "SRV").to_wire()
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        reply = cdns.handle_wire(bytes(data), tcp=rng.random() < 0.5)
        assert reply is None or len(reply) >= 12


def test_big_udp_answers_are_truncated_and_tcp_carries_them_whole(store, cdns):
    store.create("services", _svc("big", "None"))
    store.create("endpointslices", _slice("big", [(f"10.2.{i // 250}.{i % 250 + 1}", None, True) for i in range(80)]))
    query = dns.message.make_query("big.default.svc.cluster.local.", "A")
    udp = cdns.handle_wire(query.to_wire())
    assert len(udp) <= 512
    cut = dns.message.from_wire(udp)
    assert cut.flags & dns.flags.TC and 0 < sum(len(rr) for rr in cut.answer) < 80
    whole = dns.message.from_wire(cdns.handle_wire(query.to_wire(), tcp=True))
    assert not whole.flags & dns.flags.TC and sum(len(rr) for rr in whole.answer) == 80
    edns = dns.message.make_query("big.default.svc.cluster.local.", "A", use_edns=0, payload=4096)
    assert sum(len(rr) for rr in dns.message.from_wire(cdns.handle_wire(edns.to_wire())).answer) == 80


def test_srv_additional_records_are_left_out_before_answers_are_cut(store, cdns):
    store.create("services", _svc("many", "None"))
    # SRV targets are never compressed (RFC 2782): seven answers fit in 512 bytes, their addresses do not
    store.create("endpointslices", _slice("many", [(f"10.3.0.{i}", f"many-{i}", True) for i in range(1, 8)]))
    query = dns.message.make_query("_80-80._tcp.many.default.svc.cluster.local.", "SRV")
    reply = dns.message.from_wire(cdns.handle_wire(query.to_wire()))
    assert sum(len(rr) for rr in reply.answer) == 7 and reply.additional == []
    assert not reply.flags & dns.flags.TC


# ----------------------------------------------------------------- the socket server
