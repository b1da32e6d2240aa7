"""Cluster DNS: answers the way CoreDNS's ``kubernetes`` plugin does under kubeadm's Corefile.

The Corefile being imitated (kubernetes/kubernetes:cmd/kubeadm/app/phases/addons/dns/manifests.go)::

    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf

:class:`ClusterDns` turns a query into a reply over the sandbox's store, with no
sockets (so the kubelet's programs call it directly); :meth:`ClusterDns.handle_wire`
adds the wire-level rules of CoreDNS's server (miekg/dns); :class:`DnsServer` is the
thin UDP+TCP socket layer (in :mod:`.dns_server`), so ``dig @127.0.0.1 -p PORT -x 10.100.194.79`` works.

What follows CoreDNS (coredns/coredns: plugin/kubernetes/{handler,kubernetes,parse,
reverse,ns,namespace}.go, plugin/kubernetes/object/endpoint.go, plugin/backend_lookup.go):

* Only ready endpoints count (``conditions.ready`` missing counts as ready). A slice
  without ports gets CoreDNS's port ``-1`` sentinel: A records, no SRV.
* ``<svc>.<ns>.svc``: the ClusterIP(s), or every ready endpoint IP of a headless
  service, de-duplicated (NXDOMAIN when it has none). A ClusterIP service without
  ports is NXDOMAIN too, as in CoreDNS.
* ``<endpoint>.<svc>.<ns>.svc`` for any service type; the endpoint label is the
  endpoint's hostname, else the dashed IP.
* ``_<port>._<proto>.<svc>.<ns>.svc`` SRV (and SRV on ``<svc>.<ns>.svc`` itself, which
  matches every port): priority 0, weight ``floor(100 / n)`` (at least 1), targets
  ``<endpoint>.<svc>…`` (headless) or ``<svc>…`` (ClusterIP), with their A records in
  the additional section.
* ExternalName services are a CNAME (the upstream lookup of an outside target finds
  nothing here, so the answer is the CNAME alone).
* ``a-b-c-d.<ns>.pod`` A records without checking the pod (``pods insecure``).
* ``<ns>.svc`` and ``<ns>.pod`` of an existing namespace, ``svc``/``pod`` and the zone
  apex: NODATA. Any other name in the zone: NXDOMAIN. The namespace must exist (a
  Namespace object, or - lenient - any Service or Pod in it).
* PTR: a ClusterIP gives the first service that has it; otherwise every service whose
  EndpointSlices have that IP as a ready address gives one answer each.
* ``dns-version.<zone>`` TXT ``1.1.0``; ``ns.dns.<zone>`` A and the apex NS point at
  the ``kube-dns`` service. TXT for any other name is NODATA (a CoreDNS quirk), and
  SOA for any name in the zone answers the zone's SOA.
* Answers are authoritative (AA) without RA, TTL 30. NXDOMAIN and NODATA carry the
  SOA ``<zone> 30 SOA ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 30``
  in the authority section; the serial is the Unix time of the last change to
  services, slices, namespaces or pods (CoreDNS's ``Modified``).

Where the sandbox differs from a real cluster:

* There is no upstream. Everything ``forward . /etc/resolv.conf`` would send out -
  names outside the zone and reverse names with no cluster record (the
  ``fallthrough``) - gets the answer an upstream resolver gives for a name that does
  not exist: NXDOMAIN, not authoritative, RA set, no authority section. NXDOMAIN
  rather than REFUSED because that is what a real cluster prints for the teaching
  cases (``nslookup web-0.nginx`` with busybox ≥1.29, a pod IP behind no service);
  the cost is that internet names (``example.com``) do not resolve.
* Record order is the store's (slices by name, endpoints in slice order); CoreDNS's
  ``loadbalance`` plugin would shuffle A records. Nothing is cached.
* Classes other than IN (and ANY) are REFUSED.

Bad input never raises. On the wire, as miekg/dns's server does: fewer than 12 bytes
or a response (QR set) are dropped; an opcode other than QUERY is NOTIMP; a header with
QDCOUNT ≠ 1, ANCOUNT > 1, NSCOUNT > 1 or ARCOUNT > 2, or a packet that does not parse
(label or name too long, bad pointers...), gets a header-only FORMERR; EDNS version > 0
gets BADVERS; a TSIG-signed query is answered unsigned (there is no tsig plugin). UDP
answers larger than 512 bytes (or the client's EDNS buffer size) are truncated record
by record with TC set, additional records first and without TC for those (RFC 2181
§9); over TCP the limit is 65535. Records go out in a fixed order (no shuffling).
"""

from __future__ import annotations

import ipaddress
import math
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rdtypes.ANY.NS
import dns.rdtypes.ANY.PTR
import dns.rdtypes.ANY.SOA
import dns.rdtypes.ANY.TXT
import dns.rdtypes.IN.A
import dns.rdtypes.IN.AAAA
import dns.rdtypes.IN.SRV

from .dns_server import DnsServer  # the socket layer; importable from here too

if TYPE_CHECKING:
    from .core.store import Event, Store

__all__ = ["ClusterDns", "DnsServer", "DNS_SCHEMA_VERSION"]

DNS_SCHEMA_VERSION = "1.1.0"  # kubernetes/dns docs/specification.md, as CoreDNS serves it
_IN = dns.rdataclass.IN
_T = dns.rdatatype
_REVERSE_ZONES = (dns.name.from_text("in-addr.arpa."), dns.name.from_text("ip6.arpa."))
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_MAX_UDP = 512
_MAX_TCP = 65535


class _NameError(Exception):
    """CoreDNS's errNoItems / errNsNotExposed / errInvalidRequest: NXDOMAIN (or fallthrough)."""


@dataclass
class _Entry:
    """One ``msg.Service``: what a name stands for before it becomes records."""

    host: str  # an IP address, or a domain name (CNAME), or "" with text (TXT)
    port: int = -1
    key: str = ""  # the absolute name this entry lives at (SRV target, NS name)
    ttl: int = 30
    text: str = ""


@dataclass
class _Request:
    """``recordRequest`` from plugin/kubernetes/parse.go."""

    kind: str = ""  # "svc", "pod" or "" (NODATA)
    namespace: str = ""
    service: str = ""
    endpoint: str = ""
    port: str = ""
    protocol: str = ""


def _match(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _match_port(a_port: str, b_port: str, a_proto: str, b_proto: str) -> bool:
    return (a_port == "" or _match(a_port, b_port)) and (a_proto == "" or _match(a_proto, b_proto))


def _strip_underscore(s: str) -> str:
    return s[1:] if s.startswith("_") else s


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _endpoint_hostname(ip: str, hostname: str | None) -> str:
    """``endpointHostname``: the endpoint's hostname, else the IP with dashes."""
    if hostname:
        return hostname
    if "." in ip:
        return ip.replace(".", "-")
    if ":" in ip:
        dashed = ip.replace(":", "-")
        return dashed + "0" if dashed.endswith("-") else dashed
    return ""


def _ready(endpoint: dict) -> bool:
    ready = (endpoint.get("conditions") or {}).get("ready")
    return True if ready is None else bool(ready)


def _cluster_ips(svc: dict) -> list[str]:
    spec = svc.get("spec") or {}
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [ip for ip in ips if ip and ip != "None"]


def _address_from_reverse(name: dns.name.Name) -> str:
    """``dnsutil.ExtractAddressFromReverse``: the IP a reverse name stands for, or ""."""
    try:
        text = name.to_text().lower()
        if text.endswith(".in-addr.arpa."):
            parts = text[: -len(".in-addr.arpa.")].split(".")
            if len(parts) != 4:
                return ""
            ip = _ip(".".join(reversed(parts)))
        elif text.endswith(".ip6.arpa."):
            nibbles = text[: -len(".ip6.arpa.")].split(".")
            if len(nibbles) != 32 or any(len(n) != 1 for n in nibbles):
                return ""
            h = "".join(reversed(nibbles))
            ip = _ip(":".join(h[i:i + 4] for i in range(0, 32, 4)))
        else:
            return ""
    except Exception:
        return ""
    return str(ip) if ip is not None else ""


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text)


class ClusterDns:
    """The cluster's DNS over a :class:`~stsnb.sandbox.store.Store`; see the module docstring."""

    def __init__(self, store: "Store", zone: str = "cluster.local", ttl: int = 30) -> None:
        self.store = store
        self.zone = dns.name.from_text(zone)
        self.ttl = ttl
        self._zones = (self.zone, *_REVERSE_ZONES)
        self._serial = int(time.time())
        store.subscribe(self._on_event)

    # ----- the store

    def _on_event(self, ev: "Event") -> None:  # runs under the store lock: only set a number
        if ev.plural in ("services", "endpointslices", "namespaces", "pods"):
            self._serial = int(time.time())

    def _namespace_exists(self, ns: str) -> bool:
        if not ns:
            return False
        if self.store.get("namespaces", "", ns) is not None:
            return True
        return bool(self.store.list("services", ns) or self.store.list("pods", ns))

    def _slices(self, namespace: str | None = None) -> Iterable[tuple[dict, str]]:
        """EndpointSlices with their service name (slices without the label are skipped)."""
        for sl in self.store.list("endpointslices", namespace):
            svc = ((sl.get("metadata") or {}).get("labels") or {}).get(_SERVICE_NAME_LABEL)
            if svc:
                yield sl, svc

    # ----- public API

    def resolve(self, query: dns.message.Message) -> dns.message.Message:
        """The reply CoreDNS would give to ``query``. Never raises: SERVFAIL on a bug."""
        try:
            return self._resolve(query)
        except Exception:
            try:
                return self._header_reply(query, dns.rcode.SERVFAIL)
            except Exception:
                reply = dns.message.Message()
                reply.flags = dns.flags.QR
                reply.set_rcode(dns.rcode.SERVFAIL)
                return reply

    def handle_wire(self, data: bytes, *, tcp: bool = False) -> bytes | None:
        """One query in wire format to one reply in wire format, or ``None`` to drop it."""
        try:
            return self._handle_wire(data, tcp)
        except Exception:
            return None

    # ----- wire level (miekg/dns server rules)

    def _handle_wire(self, data: bytes, tcp: bool) -> bytes | None:
        if len(data) < 12:
            return None  # "Let client hang, they are sending crap; any reply can be used to amplify."
        qid, flags, qd, an, ns, ar = struct.unpack("!6H", data[:12])
        if flags & 0x8000:
            return None  # a response: ignore
        opcode = (flags >> 11) & 0xF
        if opcode != dns.opcode.QUERY:
            return self._header_only(qid, flags, opcode, dns.rcode.NOTIMP)
        if qd != 1 or an > 1 or ns > 1 or ar > 2:
            return self._header_only(qid, flags, 0, dns.rcode.FORMERR)
        try:
            try:
                query = dns.message.from_wire(data, ignore_trailing=True)
            except dns.message.UnknownTSIGKey:  # no tsig plugin: answered, unsigned
                query = dns.message.from_wire(data, question_only=True)
        except Exception:
            return self._header_only(qid, flags, 0, dns.rcode.FORMERR)
        reply = self.resolve(query)
        if tcp:
            limit = _MAX_TCP
        elif query.edns >= 0:
            limit = max(_MAX_UDP, min(query.payload, _MAX_TCP))
        else:
            limit = _MAX_UDP
        try:
            return self._to_wire(reply, limit)
        except Exception:
            return self._header_only(qid, flags, 0, dns.rcode.SERVFAIL)

    @staticmethod
    def _header_only(qid: int, flags: int, opcode: int, rcode: int) -> bytes:
        """miekg's rejection: the request header turned into a reply, every section empty."""
        out = (flags & ~(0x7800 | 0x0400 | 0x0040 | 0x000F)) | 0x8000 | (opcode << 11) | (rcode & 0xF)
        return struct.pack("!6H", qid, out, 0, 0, 0, 0)

    @staticmethod
    def _to_wire(reply: dns.message.Message, limit: int) -> bytes:
        try:
            return reply.to_wire(max_size=limit, want_shuffle=False)
        except dns.exception.TooBig:
            pass
        # Additional records first: leaving them out does not set TC (RFC 2181 §9).
        reply.additional = []
        try:
            return reply.to_wire(max_size=limit, want_shuffle=False)
        except dns.exception.TooBig:
            pass
        flat = [(rr.name, rr.rdtype, rr.ttl, rd) for rr in reply.answer for rd in rr]
        authority = list(reply.authority)

        def build(n: int, with_authority: bool) -> bytes:
            cut = dns.message.Message(id=reply.id)
            cut.flags = reply.flags | dns.flags.TC
            cut.question = list(reply.question)
            if reply.edns >= 0:
                cut.use_edns(reply.edns, reply.ednsflags, reply.payload, options=reply.options)
            for name, rdtype, ttl, rd in flat[:n]:
                cut.find_rrset(cut.answer, name, _IN, rdtype, create=True).add(rd, ttl)
            cut.authority = authority if with_authority else []
            return cut.to_wire(max_size=limit, want_shuffle=False)

        for with_authority in (True, False):
            lo, hi, best = 0, len(flat), None
            while lo <= hi:
                mid = (lo + hi) // 2
                try:
                    build(mid, with_authority)
                    best, lo = mid, mid + 1
                except dns.exception.TooBig:
                    hi = mid - 1
            if best is not None:
                return build(best, with_authority)
        return build(0, False)

    # ----- message level

    @staticmethod
    def _header_reply(query: dns.message.Message, rcode: int) -> dns.message.Message:
        reply = dns.message.Message(id=query.id)
        reply.flags = dns.flags.QR | (query.flags & (dns.flags.RD | dns.flags.CD))
        reply.set_opcode(query.opcode())
        reply.set_rcode(rcode)
        return reply

    @staticmethod
    def _reply(query: dns.message.Message) -> dns.message.Message:
        """``SetReply``: same id, question, RD/CD; EDNS echoed with the client's buffer size."""
        reply = dns.message.Message(id=query.id)
        reply.flags = dns.flags.QR | (query.flags & (dns.flags.RD | dns.flags.CD))
        reply.set_opcode(query.opcode())
        reply.question = list(query.question)
        if query.edns >= 0:
            reply.use_edns(0, query.ednsflags & dns.flags.DO, max(_MAX_UDP, min(query.payload, _MAX_TCP)))
        return reply

    def _resolve(self, query: dns.message.Message) -> dns.message.Message:
        if query.opcode() != dns.opcode.QUERY:
            return self._header_reply(query, dns.rcode.NOTIMP)
        if len(query.question) != 1:
            return self._header_reply(query, dns.rcode.FORMERR)
        reply = self._reply(query)
        if query.edns > 0:
            reply.set_rcode(dns.rcode.BADVERS)
            return reply
        q = query.question[0]
        if q.rdclass not in (_IN, dns.rdataclass.ANY):
            reply.set_rcode(dns.rcode.REFUSED)
            return reply
        zone = None
        for z in self._zones:  # the longest matching zone; ours do not nest
            if q.name.is_subdomain(z):
                zone = z
        if zone is None:
            return self._upstream(reply)
        return self._serve(reply, q.name, q.rdtype, zone)

    @staticmethod
    def _upstream(reply: dns.message.Message) -> dns.message.Message:
        """``forward . /etc/resolv.conf`` to an upstream that knows no such name."""
        reply.flags |= dns.flags.RA
        reply.set_rcode(dns.rcode.NXDOMAIN)
        return reply

    # ----- the kubernetes plugin's ServeDNS

    def _serve(self, reply: dns.message.Message, qname: dns.name.Name, qtype: int,
               zone: dns.name.Name) -> dns.message.Message:
        # plugin/kubernetes/handler.go: "maintain case of original query" for the zone
        zone_name = dns.name.Name(qname.labels[len(qname.labels) - len(zone.labels):])
        labels = [lb.lower().decode("latin-1") for lb in qname.relativize(zone).labels]
        fallthrough = zone != self.zone
        records: list[tuple[dns.name.Name, int, dns.rdata.Rdata]] = []
        extra: list[tuple[dns.name.Name, int, dns.rdata.Rdata]] = []
        try:
            if qtype in (_T.A, _T.AAAA):
                records = self._address_records(qname, labels, qtype, zone, zone_name, [])
            elif qtype == _T.TXT:
                records = [(qname, _T.TXT, dns.rdtypes.ANY.TXT.TXT(_IN, _T.TXT, [e.text.encode()]))
                           for e in self._services(labels, qtype, zone_name) if e.text]
            elif qtype == _T.CNAME:
                entries = self._services(labels, qtype, zone_name)
                if entries and entries[0].host and _ip(entries[0].host) is None:
                    target = _name(_fqdn(entries[0].host))
                    records = [(qname, _T.CNAME, dns.rdtypes.ANY.CNAME.CNAME(_IN, _T.CNAME, target))]
            elif qtype == _T.PTR:
                records = self._ptr_records(qname, labels, zone_name)
            elif qtype == _T.MX:
                self._services(labels, qtype, zone_name)  # nothing here is a mail host
            elif qtype == _T.SRV:
                records, extra = self._srv_records(qname, labels, zone_name)
            elif qtype == _T.SOA:
                records = [(zone_name, _T.SOA, self._soa_rdata(zone_name))]
            elif qtype == _T.NS and not labels:
                for e in self._ns_entries(zone_name):
                    target = _name(e.key)
                    records.append((qname, _T.NS, dns.rdtypes.ANY.NS.NS(_IN, _T.NS, target)))
                    extra.append((target, _T.A, dns.rdtypes.IN.A.A(_IN, _T.A, e.host)))
            else:
                # "Do a fake A lookup, so we can distinguish between NODATA and NXDOMAIN"
                self._address_records(qname, labels, _T.A, zone, zone_name, [])
        except _NameError:
            if fallthrough:
                return self._upstream(reply)
            return self._negative(reply, dns.rcode.NXDOMAIN, zone_name)
        if not records:
            return self._negative(reply, dns.rcode.NOERROR, zone_name)
        reply.flags |= dns.flags.AA
        for section, items in ((reply.answer, records), (reply.additional, extra)):
            for name, rdtype, rdata in items:
                ttl = 28800 if rdtype == _T.TXT else self.ttl
                reply.find_rrset(section, name, _IN, rdtype, create=True).add(rdata, ttl)
        return reply

    def _soa_rdata(self, zone_name: dns.name.Name) -> dns.rdata.Rdata:
        return dns.rdtypes.ANY.SOA.SOA(
            _IN, _T.SOA, dns.name.Name((b"ns", b"dns") + zone_name.labels),
            dns.name.Name((b"hostmaster",) + zone_name.labels),
            self._serial & 0xFFFFFFFF, 7200, 1800, 86400, self.ttl)

    def _negative(self, reply: dns.message.Message, rcode: int, zone_name: dns.name.Name) -> dns.message.Message:
        """``plugin.BackendError``: AA, the rcode, the zone's SOA in the authority section."""
        reply.flags |= dns.flags.AA
        reply.set_rcode(rcode)
        reply.find_rrset(reply.authority, zone_name, _IN, _T.SOA, create=True).add(
            self._soa_rdata(zone_name), min(300, self.ttl))
        return reply

    # ----- Kubernetes.Services / Records

    def _services(self, labels: list[str], qtype: int, zone_name: dns.name.Name) -> list[_Entry]:
        if qtype == _T.TXT:
            if labels == ["dns-version"]:
                return [_Entry(host="", text=DNS_SCHEMA_VERSION, ttl=28800)]
            return []
        if qtype == _T.NS:
            return self._ns_entries(zone_name)
        if labels == ["ns", "dns"]:  # isDefaultNS
            return [e for e in self._ns_entries(zone_name) if qtype == _T.A]
        entries = self._records(labels, zone_name)
        if qtype == _T.SRV:  # "SRV for external services is not yet implemented"
            entries = [e for e in entries if _ip(e.host) is not None]
        return entries

    def _ns_entries(self, zone_name: dns.name.Name) -> list[_Entry]:
        """``nsAddrs``: the kube-dns service (the sandbox has no CoreDNS pod to look up)."""
        zone_text = zone_name.to_text()
        svc = self.store.get("services", "kube-system", "kube-dns")
        if svc is None:
            return []
        return [_Entry(host=ip, key=f"kube-dns.kube-system.svc.{zone_text}", ttl=self.ttl)
                for ip in _cluster_ips(svc) if isinstance(_ip(ip), ipaddress.IPv4Address)]

    @staticmethod
    def _parse(labels: list[str]) -> _Request:
        """``parseRequest``."""
        r = _Request()
        if not labels or labels in (["svc"], ["pod"]):
            return r
        segs = list(labels)
        r.kind = segs.pop()
        if r.kind not in ("svc", "pod"):
            raise _NameError("invalid query name")
        if segs:
            r.namespace = segs.pop()
        if segs:
            r.service = segs.pop()
        if len(segs) == 1:
            r.endpoint = segs[0]
        elif len(segs) == 2:
            r.port, r.protocol = _strip_underscore(segs[0]), _strip_underscore(segs[1])
        elif len(segs) > 2:
            raise _NameError("query name too long")
        return r

    def _records(self, labels: list[str], zone_name: dns.name.Name) -> list[_Entry]:
        r = self._parse(labels)
        if not r.kind:
            return []
        if not self._namespace_exists(r.namespace):
            raise _NameError("namespace is not exposed")
        if r.kind == "pod":
            return self._find_pods(r)
        return self._find_services(r, zone_name.to_text())

    def _find_pods(self, r: _Request) -> list[_Entry]:
        name = r.service
        if not name:
            return []
        if name.count("-") == 3 and "--" not in name:
            ip = _ip(name.replace("-", "."))
        else:
            ip = _ip(name.replace("-", ":"))
        if ip is None:
            raise _NameError("not a pod IP")
        return [_Entry(host=str(ip), ttl=self.ttl)]

    def _find_services(self, r: _Request, zone_text: str) -> list[_Entry]:
        if not r.service:
            return []
        found = False
        out: list[_Entry] = []
        for svc in self.store.list("services", r.namespace):
            name = svc["metadata"]["name"]
            if not _match(name, r.service):
                continue
            ns = svc["metadata"].get("namespace", "")
            spec = svc.get("spec") or {}
            if spec.get("type") == "ExternalName":
                if r.endpoint:
                    continue
                target = spec.get("externalName") or ""
                if target and _ip(target) is None:
                    out.append(_Entry(host=target, key=f"{name}.{ns}.svc.{zone_text}", ttl=self.ttl))
                    found = True
                continue
            if spec.get("clusterIP") == "None" or r.endpoint:
                for sl, svc_name in self._slices(ns):
                    if svc_name != name:
                        continue
                    ports = [(p.get("name") or "", -1 if p.get("port") is None else p["port"], p.get("protocol") or "")
                             for p in sl.get("ports") or []] or [("", -1, "")]  # CoreDNS's "no ports" sentinel
                    for ep in sl.get("endpoints") or []:
                        if not _ready(ep):
                            continue
                        for addr in ep.get("addresses") or []:
                            host = _endpoint_hostname(addr, ep.get("hostname"))
                            if r.endpoint and not _match(r.endpoint, host):
                                continue
                            for pname, pnum, pproto in ports:
                                if not _match_port(r.port, pname, r.protocol, pproto):
                                    continue
                                out.append(_Entry(host=addr, port=pnum, ttl=self.ttl,
                                                  key=f"{host}.{name}.{ns}.svc.{zone_text}"))
                                found = True
                continue
            for p in spec.get("ports") or []:
                if not _match_port(r.port, p.get("name") or "", r.protocol, p.get("protocol") or "TCP"):
                    continue
                found = True
                for ip in _cluster_ips(svc):
                    out.append(_Entry(host=ip, port=p.get("port", -1), ttl=self.ttl,
                                      key=f"{name}.{ns}.svc.{zone_text}"))
        if not found:
            raise _NameError("no items found")
        return out

    # ----- plugin/backend_lookup.go

    def _address_records(self, qname: dns.name.Name, labels: list[str], qtype: int, zone: dns.name.Name,
                         zone_name: dns.name.Name, previous: list) -> list:
        """``plugin.A`` / ``plugin.AAAA``, following CNAMEs inside the zone."""
        out: list = []
        seen: set[str] = set()
        for e in self._services(labels, qtype, zone_name):
            ip = _ip(e.host)
            if ip is None:
                if not e.host:
                    continue
                target = _name(_fqdn(e.host))
                if target == qname or len(previous) > 7 or target in previous:
                    continue
                cname = (qname, _T.CNAME, dns.rdtypes.ANY.CNAME.CNAME(_IN, _T.CNAME, target))
                if target.is_subdomain(zone):
                    sub = [lb.lower().decode("latin-1") for lb in target.relativize(zone).labels]
                    try:
                        nxt = self._address_records(target, sub, qtype, zone, zone_name, previous + [target])
                    except _NameError:
                        continue
                    if nxt:
                        out += [cname, *nxt]
                    continue
                out.append(cname)  # the upstream knows nothing more about an outside target
                continue
            want = ipaddress.IPv4Address if qtype == _T.A else ipaddress.IPv6Address
            if isinstance(ip, want) and e.host not in seen:
                seen.add(e.host)
                cls = dns.rdtypes.IN.A.A if qtype == _T.A else dns.rdtypes.IN.AAAA.AAAA
                out.append((qname, qtype, cls(_IN, qtype, str(ip))))
        return out

    def _srv_records(self, qname: dns.name.Name, labels: list[str], zone_name: dns.name.Name) -> tuple[list, list]:
        entries = self._services(labels, _T.SRV, zone_name)
        total = 100 * len(entries)  # every entry has priority 0 and the default weight 100
        records: list = []
        extra: list = []
        dup: set = set()
        for e in entries:
            if e.port == -1:
                continue
            weight = max(1, math.floor(100.0 / float(total) * 100)) & 0xFFFF
            target = _name(e.key)
            if (target, e.port, "") not in dup:
                dup.add((target, e.port, ""))
                records.append((qname, _T.SRV, dns.rdtypes.IN.SRV.SRV(_IN, _T.SRV, 0, weight, e.port & 0xFFFF, target)))
            if (target, 0, e.host) not in dup:
                dup.add((target, 0, e.host))
                ip = _ip(e.host)
                if isinstance(ip, ipaddress.IPv4Address):
                    extra.append((target, _T.A, dns.rdtypes.IN.A.A(_IN, _T.A, str(ip))))
                else:
                    extra.append((target, _T.AAAA, dns.rdtypes.IN.AAAA.AAAA(_IN, _T.AAAA, str(ip))))
        return records, extra

    def _ptr_records(self, qname: dns.name.Name, labels: list[str], zone_name: dns.name.Name) -> list:
        """``plugin.PTR`` over ``Reverse``: ``serviceRecordForIP``, else ``Records``."""
        ip = _address_from_reverse(qname)
        if ip:
            hosts = self._service_record_for_ip(ip)
            if not hosts:
                raise _NameError("no items found")
        else:
            hosts = [e.host for e in self._records(labels, zone_name)]
        out, seen = [], set()
        for host in hosts:
            if _ip(host) is None and host and host not in seen:
                seen.add(host)
                out.append((qname, _T.PTR, dns.rdtypes.ANY.PTR.PTR(_IN, _T.PTR, _name(_fqdn(host)))))
        return out

    def _service_record_for_ip(self, ip: str) -> list[str]:
        zone_text = self.zone.to_text()
        for svc in self.store.list("services"):
            if ip in {str(_ip(c)) for c in _cluster_ips(svc) if _ip(c) is not None}:
                meta = svc["metadata"]
                return [f"{meta['name']}.{meta.get('namespace', '')}.svc.{zone_text}"]
        out = []
        for sl, svc_name in self._slices():
            ns = sl["metadata"].get("namespace", "")
            for ep in sl.get("endpoints") or []:
                if not _ready(ep):
                    continue
                for addr in ep.get("addresses") or []:
                    parsed = _ip(addr)
                    if parsed is not None and str(parsed) == ip:
                        out.append(f"{_endpoint_hostname(addr, ep.get('hostname'))}.{svc_name}.{ns}.svc.{zone_text}")
        return out


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."
