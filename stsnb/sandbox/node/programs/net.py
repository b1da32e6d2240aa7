"""``wget`` (busybox) and ``curl`` (Debian's curl 7.88): HTTP GETs to cluster names and IPs.

Names resolve as libc resolves them in the pod (``/etc/hosts``, then the cluster
DNS with the search path), so ``wget -qO- http://web-0.nginx`` and
``curl http://localhost/`` work as in a cluster; the connection goes through the
sandbox's pod network (:mod:`..network`): pod IPs, Service ClusterIPs (ready
endpoints only) and loopback. Messages follow busybox 1.36 and curl 7.88.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..containers import FsError
from ..network import HttpRequest, HttpResponse, Refused
from .base import IO

if TYPE_CHECKING:
    from .container import Container


class _Unresolved(Exception):
    pass


def _fetch(c: Container, url: str, method: str = "GET") -> tuple[str, str, int, HttpResponse]:
    """``(host, ip, port, response)``; raises :class:`_Unresolved` or :class:`Refused`."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", ""):
        raise Refused(f"unsupported scheme {parts.scheme}")
    host = parts.hostname or ""
    port = parts.port or 80
    addrs = c.libc_addresses(host) if host else []
    if not addrs:
        raise _Unresolved(host)
    ip = addrs[0]
    if c.ctx.network is None:
        raise Refused(f"connect to {ip} port {port} failed: Connection refused")
    server = c.ctx.network(ip, port)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    req = HttpRequest(method, target, [("Host", parts.netloc), ("User-Agent", "Wget" if c.userland == "busybox"
                                                                   else "curl/7.88.1"), ("Accept", "*/*")])
    c.tick()
    return host, ip, port, server(req)


def p_wget(c: Container, argv: list[str], io: IO) -> int:
    quiet, output, urls, spider = False, None, [], False
    it = iter(argv[1:])
    for a in it:
        if a in ("-q", "--quiet"):
            quiet = True
        elif a.startswith("-qO") or a.startswith("-O"):
            quiet = quiet or a.startswith("-q")
            output = a.split("O", 1)[1] or next(it, "-")
        elif a in ("-T", "-t", "-U", "--header", "-Y"):
            next(it, None)
        elif a == "--spider":
            spider = True
        elif a.startswith("-"):
            continue
        else:
            urls.append(a)
    if not urls:
        io.err(f"BusyBox v{c.bb[0]}.{c.bb[1]} multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] "
               "[-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t"
               "[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    status = 0
    for url in urls:
        try:
            host, ip, port, resp = _fetch(c, url, "HEAD" if spider else "GET")
        except _Unresolved as e:
            io.err(f"wget: bad address '{e.args[0]}'\n")
            return 1
        except Refused:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            addrs = c.libc_addresses(parts.hostname or "")
            if not quiet:
                io.err(f"Connecting to {parts.netloc} ({addrs[0] if addrs else ''}:{parts.port or 80})\n")
            io.err(f"wget: can't connect to remote host ({addrs[0] if addrs else ''}): Connection refused\n")
            return 1
        if not quiet:
            io.err(f"Connecting to {host}{'' if port == 80 else f':{port}'} ({ip}:{port})\n")
        if resp.status >= 400:
            io.err(f"wget: server returned error: HTTP/1.1 {resp.status} {resp.reason}\n")
            status = 1
            continue
        if spider:
            if not quiet:
                io.err("remote file exists\n")
            continue
        name = output or (urlsplit(url).path.rsplit("/", 1)[-1] or "index.html")
        size = len(resp.body)
        if name == "-":
            if not quiet:
                io.err("writing to stdout\n")
            io.out(resp.body.decode("utf-8", "surrogateescape"))
            if not quiet:
                io.err(f"-                    100% |{'*' * 32}| {size:>5}  0:00:00 ETA\nwritten to stdout\n")
            continue
        try:
            c.fs.write(name, resp.body, c.cwd)
        except FsError as e:
            io.err(f"wget: can't open '{name}': {e.strerror}\n")
            return 1
        if not quiet:
            io.err(f"saving to '{name}'\n{name[:20]:<20} 100% |{'*' * 32}| {size:>5}  0:00:00 ETA\n'{name}' saved\n")
    return status


_METER_HEAD = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n")


def p_curl(c: Container, argv: list[str], io: IO) -> int:
    silent = show_errors = fail = head = include = False
    output, urls, method = None, [], None
    it = iter(argv[1:])
    for a in it:
        if a.startswith("-") and not a.startswith("--") and len(a) > 2 and all(ch in "sSfIiLvk" for ch in a[1:]):
            flags = a[1:]
        elif a.startswith("--"):
            flags = {"--silent": "s", "--show-error": "S", "--fail": "f", "--head": "I", "--include": "i",
                     "--location": "L", "--verbose": "v", "--insecure": "k"}.get(a, "")
            if a in ("--output", "--request", "--header", "--max-time", "--connect-timeout", "--data"):
                value = next(it, "")
                output = value if a == "--output" else output
                method = value if a == "--request" else method
            if not flags:
                continue
        elif a in ("-o", "-X", "-H", "-m", "-d", "-A", "-u"):
            value = next(it, "")
            output = value if a == "-o" else output
            method = value if a == "-X" else method
            continue
        elif a.startswith("-") and len(a) == 2:
            flags = a[1:]
        else:
            urls.append(a)
            continue
        silent |= "s" in flags
        show_errors |= "S" in flags
        fail |= "f" in flags
        head |= "I" in flags
        include |= "i" in flags
    if not urls:
        io.err("curl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    status = 0
    for url in urls:
        try:
            host, ip, port, resp = _fetch(c, url, method or ("HEAD" if head else "GET"))
        except _Unresolved as e:
            if not silent or show_errors:
                io.err(f"curl: (6) Could not resolve host: {e.args[0]}\n")
            return 6
        except Refused:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            if not silent or show_errors:
                io.err(f"curl: (7) Failed to connect to {parts.hostname} port {parts.port or 80} after 0 ms: "
                       "Couldn't connect to server\n")
            return 7
        if fail and resp.status >= 400:
            if not silent or show_errors:
                io.err(f"curl: (22) The requested URL returned error: {resp.status}\n")
            status = 22
            continue
        text = ""
        if head or include:
            text += f"HTTP/1.1 {resp.status} {resp.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in resp.headers)
            text += "\r\n"
        text += resp.body.decode("utf-8", "surrogateescape")
        to_file = output not in (None, "-")
        if not silent and (to_file or not io.tty):
            n = len(resp.body)
            io.err(_METER_HEAD + f"100 {n:>5}  100 {n:>5}    0     0   {n * 1000:>5}      0 --:--:-- --:--:-- "
                                 f"--:--:-- {n * 1000:>5}\n")
        if to_file:
            try:
                c.fs.write(output, text.encode("utf-8", "surrogateescape"), c.cwd)
            except FsError as e:
                io.err(f"curl: (23) Failure writing output to destination: {e.strerror}\n")
                return 23
        else:
            io.out(text)
    return status
