"""busybox ``nslookup``, byte for byte: the OpenWrt-derived one (1.29 on) and the libc one (1.28 and older).

See the package docstring for what each version prints; the replies come from
the cluster DNS the kubelet hands in (:class:`~.base.ProgramContext`).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import dns.flags
import dns.message

from .base import IO, T, ip_or_none, printable

if TYPE_CHECKING:
    from .container import Container


_RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
           "NXRRSET", "NOTAUTH", "NOTZONE", "11", "12", "13", "14", "15")
_NSLOOKUP_TYPES = (("SOA", T.SOA), ("NS", T.NS), ("A", T.A), ("AAAA", T.AAAA), ("CNAME", T.CNAME),
                   ("MX", T.MX), ("TXT", T.TXT), ("SRV", T.SRV), ("PTR", T.PTR), ("ANY", T.ANY))


def _make_ptr(text: str) -> str | None:
    """busybox ``make_ptr``: the reverse name if the argument is an IPv6 or dotted-quad address."""
    try:
        v6 = ipaddress.IPv6Address(text)
    except ValueError:
        v6 = None
    if v6 is not None:
        if v6.ipv4_mapped is not None:
            o = v6.packed[12:]
            return f"{o[3]}.{o[2]}.{o[1]}.{o[0]}.in-addr.arpa"
        nibbles = v6.exploded.replace(":", "")[::-1]
        return ".".join(nibbles) + ".ip6.arpa"
    try:
        v4 = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    o = v4.packed
    return f"{o[3]}.{o[2]}.{o[1]}.{o[0]}.in-addr.arpa"


def _nslookup_usage(c: Container, io: IO) -> int:
    if c.bb >= (1, 29):
        io.err(f"BusyBox v{c.bb[0]}.{c.bb[1]} multi-call binary.\n\n"
               "Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n\n"
               "Query DNS about HOST\n\n"
               "QUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,ptr,srv,any\n")
    else:
        io.err(f"BusyBox v{c.bb[0]}.{c.bb[1]} multi-call binary.\n\n"
               "Usage: nslookup [HOST] [SERVER]\n\n"
               "Query the nameserver for the IP address of the given HOST\n"
               "optionally using a specified DNS server\n")
    return 1


def p_nslookup(c: Container, argv: list[str], io: IO) -> int:
    """busybox ``nslookup``: the OpenWrt-derived one from 1.29, the libc one before (:func:`_nslookup_libc`)."""
    if c.bb < (1, 29):
        return _nslookup_libc(c, argv, io)
    args = argv[1:]
    options = _options(c, args, io)
    if isinstance(options, int):
        return options
    types, port = options
    if not args or len(args) > 2:
        return _nslookup_usage(c, io)
    host = args[0]
    # the server
    if len(args) == 2:
        server = args[1]
        addr = ip_or_none(server)
        if addr is None:
            found = c.libc_addresses(server)
            if not found:
                io.err(f"nslookup: bad address '{server}'\n")
                return 1
            addr = ip_or_none(found[0])
    else:
        server = c.ctx.nameserver or "127.0.0.1"
        addr = ip_or_none(server)
    queries = _queries(host, types, c.ctx.search if c.bb >= (1, 30) else [])
    if addr is None or str(addr) != c.ctx.nameserver or port != 53:
        io.out(";; connection timed out; no servers could be reached\n\n")
        return 1
    exit_code = 0
    printed_header = False
    for qname, rdtype in queries:
        reply = c.query(qname, rdtype)
        if reply is None:
            continue
        if not printed_header:
            shown = f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"
            io.out(f"Server:\t\t{server}\nAddress:\t{shown}\n\n")
            printed_header = True
        rcode = reply.flags & 0xF
        if rcode != 0:
            io.out(f"** server can't find {qname}: {_RCODES[rcode]}\n")
            exit_code = 1
        else:
            count = _print_reply(reply, io)
            if count == 0 and (1, 31) <= c.bb < (1, 34):
                io.out(f"*** Can't find {qname}: No answer\n")
        io.out("\n")
    if not printed_header:
        io.out(";; connection timed out; no servers could be reached\n\n")
        return 1
    return exit_code if c.bb >= (1, 31) else 0


def _options(c: Container, args: list[str], io: IO) -> tuple[set[int], int] | int:
    """Consume the ``-option[=value]`` arguments: the query types and the port, or the exit status."""
    types: set[int] = set()
    port = 53
    while args and args[0].startswith("-"):
        key, _, val = args.pop(0)[1:].partition("=")
        if key in ("type", "querytype"):
            match = [t for label, t in _NSLOOKUP_TYPES if label.lower() == val.lower()
                     and (t != T.SRV or c.bb >= (1, 31))]
            if not match:
                io.err(f'nslookup: invalid query type "{val}"\n')
                return 1
            types.add(match[0])
        elif key == "port":
            if not val.isdigit() or not 1 <= int(val) <= 0xFFFF:
                io.err(f"nslookup: invalid number '{val}'\n")
                return 1
            port = int(val)
        elif key in ("retry", "t", "timeout"):
            if not val.isdigit():
                io.err(f"nslookup: invalid number '{val}'\n")
                return 1
        elif key == "debug":
            pass
        else:
            return _nslookup_usage(c, io)
    return types, port


def _queries(host: str, types: set[int], search: list[str]) -> list[tuple[str, int]]:
    """The (name, type) queries to send, in order: a PTR for an address, else A then AAAA (or ``types``)."""

    def with_search(rdtype: int) -> list[tuple[str, int]]:
        if rdtype == T.PTR or not search or "." in host:
            return [(host, rdtype)]
        return [(f"{host}.{d}", rdtype) for d in search]

    queries: list[tuple[str, int]] = []
    if not types:
        ptr = _make_ptr(host)
        if ptr:
            queries = [(ptr, T.PTR)]
        else:
            queries = with_search(T.A) + with_search(T.AAAA)
    else:
        for _, t in _NSLOOKUP_TYPES:
            if t in types:
                queries += with_search(t)
    return queries


def _print_reply(reply: dns.message.Message, io: IO) -> int:
    """busybox ``parse_reply``: the answer section, one line (or block) per record."""
    if not reply.flags & dns.flags.AA:
        io.out("Non-authoritative answer:\n")
    count = 0
    for rrset in reply.answer:
        owner = printable(rrset.name)
        for rd in rrset:
            count += 1
            t = rrset.rdtype
            if t in (T.A, T.AAAA):
                io.out(f"Name:\t{owner}\nAddress: {rd.address}\n")
            elif t == T.NS:
                io.out(f"{owner}\tnameserver = {printable(rd.target)}\n")
            elif t == T.CNAME:
                io.out(f"{owner}\tcanonical name = {printable(rd.target)}\n")
            elif t == T.PTR:
                io.out(f"{owner}\tname = {printable(rd.target)}\n")
            elif t == T.MX:
                io.out(f"{owner}\tmail exchanger = {rd.preference} {printable(rd.exchange)}\n")
            elif t == T.TXT:
                first = rd.strings[0] if rd.strings else b""
                if first:
                    io.out(f'{owner}\ttext = "{first.decode("latin-1")}"\n')
            elif t == T.SRV:
                io.out(f"{owner}\tservice = {rd.priority} {rd.weight} {rd.port} {printable(rd.target)}\n")
            elif t == T.SOA:
                io.out(f"{owner}\n\torigin = {printable(rd.mname)}\n\tmail addr = {printable(rd.rname)}\n"
                       f"\tserial = {rd.serial}\n\trefresh = {rd.refresh}\n\tretry = {rd.retry}\n"
                       f"\texpire = {rd.expire}\n\tminimum = {rd.minimum}\n")
    return count


def _nslookup_libc(c: Container, argv: list[str], io: IO) -> int:
    """busybox ≤1.28: getaddrinfo/getnameinfo through the system resolver."""
    args = argv[1:]
    if not args or args[0].startswith("-") or len(args) > 2:
        return _nslookup_usage(c, io)
    reachable = True
    if len(args) == 2:
        found = [args[1]] if ip_or_none(args[1]) is not None else c.libc_addresses(args[1])
        if not found:
            io.err(f"nslookup: bad address '{args[1]}'\n")
            return 1
        server = str(ip_or_none(found[0]))
        reachable = server == c.ctx.nameserver
    else:
        server = c.ctx.nameserver or "127.0.0.1"

    def print_host(name: str, header: str) -> int:
        addrs = c.libc_addresses(name) if reachable or ip_or_none(name) is not None else []
        if not addrs:
            io.err(f"nslookup: can't resolve '{name}'\n")
            return 1
        io.out(f"{header:<10} {name}\n")
        for k, a in enumerate(addrs, 1):
            rev = c.libc_reverse(a) if reachable else None
            io.out(f"Address {k}: {a}" + (f" {rev}\n" if rev else "\n"))
        return 0

    print_host(server, "Server:")
    io.out("\n")
    return print_host(args[0], "Name:")

