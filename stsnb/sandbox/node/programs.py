"""The container programs the sandbox kubelet can "run", with the output the real ones give.

The kubelet calls :func:`run` once per container start. The program comes from the
image and ``command``/``args`` the way a real kubelet and runtime combine them:
``command`` replaces the image's ENTRYPOINT (and drops its CMD), ``args`` replace
CMD, and ``$(VAR)`` in either is expanded from the container's ``env`` first.

Images the sandbox knows:

==========================  ==================================  ==========================
image                       default ENTRYPOINT + CMD            userland
==========================  ==================================  ==========================
``busybox[:tag]``           ``sh``                              busybox (its version from the tag)
``alpine[:tag]``            ``/bin/sh``                         busybox (latest)
``nginx[:tag]``             ``/docker-entrypoint.sh nginx -g    Debian (dash, coreutils); an
                            'daemon off;'``                     ``-alpine`` tag: busybox
==========================  ==================================  ==========================

Programs (each only where its image has it):

* ``nslookup [-type=T] NAME|IP [SERVER]`` (busybox). busybox ≥1.29 (``busybox``,
  ``busybox:latest``, any non-numeric tag, ``1.29``+) prints the OpenWrt-derived
  format byte for byte: a header when the first reply arrives, each reply followed by a
  blank line, ``** server can't find NAME: NXDOMAIN`` on errors (exit 1 since 1.31).
  An IP is one PTR query for its reverse name; a name with a dot is sent literally; a
  dot-less name is expanded with every search domain (since 1.30), A queries first,
  then AAAA. NODATA prints ``*** Can't find NAME: No answer`` in 1.31-1.33 and nothing
  from 1.34. ``busybox:1.28`` and older use the libc resolver format
  (``Server:    …`` / ``Address 1: IP NAME``), where search domains and ``ndots`` apply
  and each address is followed by its reverse name. Replies are printed in the order
  the queries were sent. A SERVER other than the cluster DNS times out
  (``;; connection timed out; no servers could be reached``).
* ``hostname [-s|-f|-d|-i]``: the short name (``spec.hostname`` or the pod name,
  truncated to 63 characters), ``-f`` the FQDN ``<hostname>.<subdomain>.<ns>.svc.<zone>``
  when a subdomain is set. ``setHostnameAsFQDN`` makes the FQDN the kernel hostname.
* ``cat FILE...`` for ``/etc/hostname``, ``/etc/hosts`` (the kubelet-managed layout of
  kubelet_pods.go ``managedHostsFileContent``, host aliases included) and
  ``/etc/resolv.conf`` (as containerd writes it: ``search``, ``nameserver``,
  ``options ndots:N``); other paths fail like the image's ``cat``.
* ``echo``, ``true``, ``false``, ``sleep N|infinity`` (summed arguments, suffixes
  s/m/h/d; PID 1 without a SIGTERM handler, so it waits out the grace period).
* ``nginx`` (the nginx image): the entrypoint's configuration lines, then a server
  that stays up; without ``-g 'daemon off;'`` it daemonizes and the container exits 0.
* ``sh -c SCRIPT`` (and ``ash``, ``bash``): simple commands joined by ``;``, newlines,
  ``&&`` and ``||``; single and double quotes and backslashes; ``$VAR``, ``${VAR}``,
  ``$?``, ``$(command)`` and backquotes; ``NAME=value`` assignments; ``exit [N]``,
  ``exec``, ``set -e``/``sh -e``; redirections ``>/dev/null``, ``2>/dev/null``,
  ``2>&1``, ``>&2``. Not supported (a clear error, exit 2): pipes, ``&``, ``if``/``for``/
  ``while``/``case``, functions, subshells, redirection to files. ``sh`` with no
  script exits 0 at once, unless the container has ``stdin: true``, where it waits.

An unknown command prints the shell's ``not found`` line plus a line naming the
programs the sandbox runs, and exits 127 (a real runtime would fail an exec-form
command with a StartError, exit 128, instead).

Output is stdout and stderr interleaved as ``kubectl logs`` shows them. A container
that sleeps is reported with ``sleep_seconds``; what it prints and how it exits after
the sleep are ``output_after_sleep`` and ``exit_code_after_sleep`` (output after
several sleeps is all reported at the end of the total).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from typing import Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.reversename

__all__ = ["ProgramContext", "Outcome", "run", "supported_programs"]

_T = dns.rdatatype
_LATEST_BUSYBOX = (1, 37)


@dataclass
class ProgramContext:
    """What a container sees of its pod and of the cluster."""

    pod: dict  # the pod object
    container: dict  # the container spec
    resolve: Callable[[dns.message.Message], dns.message.Message]  # the cluster DNS (ClusterDns.resolve)
    nameserver: str  # "10.96.0.10"
    search: list[str]  # ["<ns>.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    ndots: int = 5


@dataclass
class Outcome:
    """What a container start comes to."""

    output: str  # what the container writes (stdout+stderr interleaved as kubectl logs shows)
    exit_code: int | None  # None = still running (a server or sleep)
    runs_forever: bool  # nginx, sleep N (exits after N seconds: give `sleep_seconds`)
    sleep_seconds: float | None = None
    ignores_sigterm: bool = False  # e.g. busybox `sleep` as PID 1: terminates only after the grace period
    output_after_sleep: str = ""  # written when the sleep ends
    exit_code_after_sleep: int | None = 0  # how it exits then; None = it keeps running (e.g. a server)


_PROGRAMS = ("cat", "echo", "false", "hostname", "nginx", "nslookup", "sh", "sleep", "true")
_USERLAND = {  # what each image family has of them
    "busybox": frozenset({"sh", "ash", "cat", "echo", "false", "hostname", "nslookup", "sleep", "true", "busybox"}),
    "debian": frozenset({"sh", "bash", "cat", "echo", "false", "hostname", "sleep", "true"}),
}


def supported_programs() -> list[str]:
    """The programs containers can run in the sandbox (``sh`` meaning ``sh -c SCRIPT``)."""
    return list(_PROGRAMS)


# ------------------------------------------------------------------ images


@dataclass(frozen=True)
class _Image:
    name: str
    tag: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    userland: str  # "busybox" or "debian"
    busybox: tuple[int, int]  # the busybox version, for nslookup


def _parse_image(image: str) -> _Image | None:
    ref = (image or "").split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    name, _, tag = last.partition(":")
    tag = tag or "latest"
    if name == "busybox":
        m = re.match(r"(\d+)\.(\d+)", tag)
        version = (int(m.group(1)), int(m.group(2))) if m else _LATEST_BUSYBOX
        return _Image(name, tag, (), ("sh",), "busybox", version)
    if name == "alpine":
        return _Image(name, tag, (), ("/bin/sh",), "busybox", _LATEST_BUSYBOX)
    if name == "nginx":
        userland = "busybox" if "alpine" in tag else "debian"
        return _Image(name, tag, ("/docker-entrypoint.sh",), ("nginx", "-g", "daemon off;"), userland,
                      _LATEST_BUSYBOX)
    return None


def _kubelet_expand(s: str, env: dict[str, str]) -> str:
    """``$(VAR)`` from the container's env, ``$$`` to ``$`` (third_party/forked/golang/expansion)."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "$" and i + 1 < len(s):
            if s[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if s[i + 1] == "(":
                end = s.find(")", i + 2)
                if end != -1 and s[i + 2:end] in env:
                    out.append(env[s[i + 2:end]])
                    i = end + 1
                    continue
        out.append(s[i])
        i += 1
    return "".join(out)


# ------------------------------------------------------------------ control flow


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Forever(Exception):
    """The process does not end by itself (a server, ``sleep infinity``, a shell waiting on stdin)."""

    def __init__(self, handles_sigterm: bool = False) -> None:
        super().__init__()
        self.handles_sigterm = handles_sigterm


class _ShellError(Exception):
    """A script the sandbox shell cannot run; the message is what it prints."""


@dataclass
class _Acc:
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    slept: float = 0.0

    def write(self, s: str) -> None:
        (self.after if self.slept else self.before).append(s)


class _IO:
    def __init__(self, out: Callable[[str], None] | None, err: Callable[[str], None] | None) -> None:
        self._out, self._err = out, err

    def out(self, s: str) -> None:
        if self._out is not None and s:
            self._out(s)

    def err(self, s: str) -> None:
        if self._err is not None and s:
            self._err(s)


@dataclass
class _Redirect:
    fd: int
    op: str  # ">", ">>", ">&", "<"
    target: str


_KEYWORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
             "function", "select", "{", "}", "!", "[[", "]]"}
_BIN_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ------------------------------------------------------------------ the container


class _Container:
    def __init__(self, ctx: ProgramContext, image: _Image | None) -> None:
        self.ctx = ctx
        self.image = image
        self.userland = image.userland if image else "busybox"
        self.bb = image.busybox if image else _LATEST_BUSYBOX
        self.acc = _Acc()
        self.status = 0
        self.errexit = False
        pod, spec = ctx.pod or {}, (ctx.pod or {}).get("spec") or {}
        meta = pod.get("metadata") or {}
        self.namespace = meta.get("namespace") or "default"
        name = spec.get("hostname") or meta.get("name") or ""
        if len(name) > 63:
            name = name[:63].rstrip("-.")
        self.hostname = name
        zone = _cluster_zone(ctx)
        sub = spec.get("subdomain") or ""
        self.domain = f"{sub}.{self.namespace}.svc.{zone}" if sub else ""
        self.fqdn = f"{name}.{self.domain}" if sub else name
        self.nodename = self.fqdn if (sub and spec.get("setHostnameAsFQDN")) else name
        status = pod.get("status") or {}
        ips = [p.get("ip") for p in status.get("podIPs") or [] if p.get("ip")]
        self.pod_ips = [status["podIP"]] if status.get("podIP") else ips  # podIP is the one the kubelet just set
        self.env = self._environment()

    # ----- files the kubelet and runtime write

    def _environment(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOSTNAME": self.nodename, "HOME": "/root"}
        pod = self.ctx.pod or {}
        refs = {"metadata.name": (pod.get("metadata") or {}).get("name", ""),
                "metadata.namespace": self.namespace,
                "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
                "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", ""),
                "status.podIP": self.pod_ips[0] if self.pod_ips else "",
                "status.podIPs": ",".join(self.pod_ips),
                "status.hostIP": (pod.get("status") or {}).get("hostIP", "")}
        for var in (self.ctx.container or {}).get("env") or []:
            name = var.get("name")
            if not name:
                continue
            if "value" in var:
                env[name] = _kubelet_expand(str(var.get("value") or ""), env)
            elif ((var.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") in refs:
                env[name] = refs[var["valueFrom"]["fieldRef"]["fieldPath"]]
        return env

    def hosts_entries(self) -> list[tuple[str, list[str]]]:
        entries = [("127.0.0.1", ["localhost"]), ("::1", ["localhost", "ip6-localhost", "ip6-loopback"]),
                   ("fe00::0", ["ip6-localnet"]), ("fe00::0", ["ip6-mcastprefix"]),
                   ("fe00::1", ["ip6-allnodes"]), ("fe00::2", ["ip6-allrouters"])]
        for ip in self.pod_ips:
            entries.append((ip, [f"{self.hostname}.{self.domain}", self.hostname] if self.domain else [self.hostname]))
        for alias in ((self.ctx.pod or {}).get("spec") or {}).get("hostAliases") or []:
            if alias.get("ip") and alias.get("hostnames"):
                entries.append((alias["ip"], list(alias["hostnames"])))
        return entries

    def file(self, path: str) -> str | None:
        if path == "/etc/hostname":
            return self.nodename + "\n"
        if path == "/etc/hosts":
            lines = ["# Kubernetes-managed hosts file.\n", "127.0.0.1\tlocalhost\n",
                     "::1\tlocalhost ip6-localhost ip6-loopback\n", "fe00::0\tip6-localnet\n",
                     "fe00::0\tip6-mcastprefix\n", "fe00::1\tip6-allnodes\n", "fe00::2\tip6-allrouters\n"]
            for ip in self.pod_ips:
                lines.append(f"{ip}\t{self.hostname}.{self.domain}\t{self.hostname}\n" if self.domain
                             else f"{ip}\t{self.hostname}\n")
            aliases = ((self.ctx.pod or {}).get("spec") or {}).get("hostAliases") or []
            if aliases:
                lines.append("\n# Entries added by HostAliases.\n")
                for alias in aliases:
                    lines.append(f"{alias.get('ip', '')}\t{chr(9).join(alias.get('hostnames') or [])}\n")
            return "".join(lines)
        if path == "/etc/resolv.conf":
            out = ""
            if self.ctx.search:
                out += "search " + " ".join(self.ctx.search) + "\n"
            if self.ctx.nameserver:
                out += f"nameserver {self.ctx.nameserver}\n"
            out += f"options ndots:{self.ctx.ndots}\n"
            return out
        return None

    # ----- running

    def available(self, name: str) -> bool:
        if name in ("nginx", "/docker-entrypoint.sh"):
            return self.image is not None and self.image.name == "nginx"
        return name in _USERLAND[self.userland]

    def not_found(self, name: str, io: _IO, in_shell: bool) -> int:
        if in_shell and self.userland == "debian":
            io.err(f"sh: 1: {name}: not found\n")
        else:
            io.err(f"sh: {name}: not found\n")
        io.err("stsnb sandbox: containers here run only these programs: " + ", ".join(_PROGRAMS) +
               " (see stsnb.sandbox.programs)\n")
        return 127

    def execute(self, argv: list[str], io: _IO, in_shell: bool) -> int:
        if not argv:
            return 0
        word = argv[0]
        if in_shell:
            builtin = _BUILTINS.get(word)
            if builtin is not None:
                return builtin(self, argv, io)
        name = word
        if "/" in word:
            if word == "/docker-entrypoint.sh":
                name = word
            elif word.startswith(_BIN_DIRS):
                name = word.rsplit("/", 1)[1]
            else:
                name = ""
        if not name or not self.available(name):
            return self.not_found(word, io, in_shell)
        return _PROGRAM_FUNCS[name](self, [name, *argv[1:]], io)

    # ----- the shell

    def shell_error(self, message: str) -> str:
        if self.userland == "debian":
            return f"sh: 1: {message}\n"
        return f"sh: {message}\n"

    def run_script(self, script: str, io: _IO) -> int:
        try:
            items = _split_list(script)
        except _ShellError as e:
            io.err(self.shell_error(str(e)))
            return 2
        for k, (op, text) in enumerate(items):
            if op == "&&" and self.status != 0:
                continue
            if op == "||" and self.status == 0:
                continue
            try:
                self.status = self.run_simple(text, io)
            except _ShellError as e:
                io.err(self.shell_error(str(e)))
                raise _Exit(2) from None
            nxt = items[k + 1][0] if k + 1 < len(items) else None
            if self.errexit and self.status != 0 and nxt not in ("&&", "||") and op not in ("&&", "||"):
                raise _Exit(self.status)
        return self.status

    def run_simple(self, text: str, io: _IO) -> int:
        first = text.split(None, 1)[0] if text.split() else ""
        if first in _KEYWORDS or first.startswith("(") or first.endswith("()"):
            raise _ShellError(f"'{first}': not supported by the stsnb sandbox shell, which runs simple commands "
                              "joined by ;, && and || (with quotes, $VAR and $(...))")
        tokens = self.words(text, io)
        redirects = [t for t in tokens if isinstance(t, _Redirect)]
        words = [t for t in tokens if isinstance(t, str)]
        assigns: dict[str, str] = {}
        while words and "=" in words[0] and _NAME_RE.fullmatch(words[0].split("=", 1)[0]):
            key, _, value = words.pop(0).partition("=")
            assigns[key] = value
        if not words:
            self.env.update(assigns)
            return 0
        io = self.redirect(io, redirects)
        saved = dict(self.env)
        self.env.update(assigns)
        try:
            return self.execute(words, io, in_shell=True)
        finally:
            if assigns:
                self.env = saved

    def redirect(self, io: _IO, redirects: list[_Redirect]) -> _IO:
        fds = {1: io._out, 2: io._err}
        for r in redirects:
            if r.op in (">", ">>") and r.target == "/dev/null":
                fds[r.fd] = None
            elif r.op == ">&" and r.target in ("1", "2"):
                fds[r.fd] = fds[int(r.target)]
            elif r.op == "<" and r.target == "/dev/null":
                pass
            else:
                raise _ShellError(f"redirection '{r.fd}{r.op}{r.target}': not supported by the stsnb sandbox shell "
                                  "(only >/dev/null, 2>/dev/null, 2>&1 and >&2)")
        return _IO(fds.get(1), fds.get(2))

    def substitute(self, script: str, io: _IO) -> str:
        """``$(script)``: run in a subshell (its variables stay its own), stdout captured."""
        captured: list[str] = []
        saved = dict(self.env)
        try:
            self.status = self.run_script(script, _IO(captured.append, io._err))
        except _Exit as e:
            self.status = e.code
        finally:
            self.env = saved
        return "".join(captured).rstrip("\n")

    def variable(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return "0"
        if name == "0":
            return "sh"
        if name.isdigit():
            return ""
        return self.env.get(name, "")

    def words(self, text: str, io: _IO) -> list:
        """Split one simple command into words and redirections, expanding as it goes."""
        out: list = []
        cur: list[str] = []
        have = False
        i, n = 0, len(text)

        def flush() -> None:
            nonlocal cur, have
            if have:
                out.append("".join(cur))
            cur, have = [], False

        def unquoted(value: str) -> None:  # field splitting of an unquoted expansion
            nonlocal have
            if not value:
                return
            if value[0].isspace():
                flush()
            parts = value.split()
            for k, part in enumerate(parts):
                if k:
                    flush()
                cur.append(part)
                have = True
            if value[-1].isspace():
                flush()

        while i < n:
            c = text[i]
            if c in " \t\n":
                flush()
                i += 1
            elif c == "\\":
                if i + 1 < n:
                    if text[i + 1] != "\n":
                        cur.append(text[i + 1])
                        have = True
                    i += 2
                else:
                    cur.append("\\")
                    have = True
                    i += 1
            elif c == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise _ShellError("syntax error: unterminated quoted string")
                cur.append(text[i + 1:end])
                have = True
                i = end + 1
            elif c == '"':
                have = True
                i += 1
                while True:
                    if i >= n:
                        raise _ShellError("syntax error: unterminated quoted string")
                    d = text[i]
                    if d == '"':
                        i += 1
                        break
                    if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                        if text[i + 1] != "\n":
                            cur.append(text[i + 1])
                        i += 2
                    elif d == "$":
                        value, i = self.dollar(text, i, io)
                        cur.append(value)
                    elif d == "`":
                        end = _find_backquote(text, i)
                        cur.append(self.substitute(text[i + 1:end], io))
                        i = end + 1
                    else:
                        cur.append(d)
                        i += 1
            elif c == "$":
                value, i = self.dollar(text, i, io)
                unquoted(value)
            elif c == "`":
                end = _find_backquote(text, i)
                unquoted(self.substitute(text[i + 1:end], io))
                i = end + 1
            elif c in "<>":
                digits = "".join(cur)
                if have and digits.isdigit():
                    fd = int(digits)
                    cur, have = [], False
                else:
                    flush()
                    fd = 1 if c == ">" else 0
                op = c
                i += 1
                if i < n and text[i] in ">&" and c == ">":
                    op += text[i]
                    i += 1
                while i < n and text[i] in " \t":
                    i += 1
                start = i
                while i < n and text[i] not in " \t\n<>;&|":
                    i += 1
                if start == i:
                    raise _ShellError("syntax error: unexpected newline")
                out.append(_Redirect(fd, op, text[start:i]))
            elif c == "#" and not have:
                break
            else:
                cur.append(c)
                have = True
                i += 1
        flush()
        return out

    def dollar(self, text: str, i: int, io: _IO) -> tuple[str, int]:
        """Expand the ``$…`` at ``text[i]``; returns the value and the index after it."""
        n = len(text)
        if i + 1 >= n:
            return "$", i + 1
        c = text[i + 1]
        if c == "(":
            if i + 2 < n and text[i + 2] == "(":
                raise _ShellError("'$((': arithmetic is not supported by the stsnb sandbox shell")
            end = _find_paren(text, i + 1)
            return self.substitute(text[i + 2:end], io), end + 1
        if c == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise _ShellError("syntax error: missing '}'")
            inner = text[i + 2:end]
            if not (_NAME_RE.fullmatch(inner) or inner in ("?", "$", "#") or inner.isdigit()):
                raise _ShellError(f"'${{{inner}}}': not supported by the stsnb sandbox shell")
            return self.variable(inner), end + 1
        if c in "?$#" or c.isdigit():
            return self.variable(c), i + 2
        m = _NAME_RE.match(text, i + 1)
        if m:
            return self.variable(m.group(0)), m.end()
        return "$", i + 1

    # ----- name resolution as libc does it (nsswitch "files dns", resolv.conf search and ndots)

    def query(self, name: str, rdtype: int) -> dns.message.Message | None:
        try:
            q = dns.message.make_query(name if name.endswith(".") else name + ".", rdtype)
        except Exception:
            return None
        try:
            return self.ctx.resolve(q)
        except Exception:
            return None

    def libc_addresses(self, name: str) -> list[str]:
        """getaddrinfo(AF_UNSPEC): /etc/hosts, then DNS with search domains and ndots."""
        if _ip_or_none(name) is not None:
            return [str(_ip_or_none(name))]
        want = name.rstrip(".").lower()
        found = [ip for ip, names in self.hosts_entries() if want in (h.lower() for h in names)]
        if found:
            return found
        for candidate in self.search_candidates(name):
            addrs: list[str] = []
            for rdtype in (_T.A, _T.AAAA):
                reply = self.query(candidate, rdtype)
                if reply is None or reply.rcode() != dns.rcode.NOERROR:
                    continue
                for rrset in reply.answer:
                    if rrset.rdtype == rdtype:
                        addrs += [rd.address for rd in rrset]
            if addrs:
                return addrs
        return []

    def search_candidates(self, name: str) -> list[str]:
        if name.endswith("."):
            return [name]
        searched = [f"{name}.{d}" for d in self.ctx.search]
        if name.count(".") >= self.ctx.ndots:
            return [name, *searched]
        return [*searched, name]

    def libc_reverse(self, ip: str) -> str | None:
        """getnameinfo(NI_NAMEREQD): /etc/hosts, then a PTR query; the first name."""
        for addr, names in self.hosts_entries():
            if _ip_or_none(addr) == _ip_or_none(ip):
                return names[0]
        try:
            rev = dns.reversename.from_address(ip).to_text()
        except Exception:
            return None
        reply = self.query(rev, _T.PTR)
        if reply is None or reply.rcode() != dns.rcode.NOERROR:
            return None
        for rrset in reply.answer:
            if rrset.rdtype == _T.PTR:
                for rd in rrset:
                    return _printable(rd.target)
        return None


def _cluster_zone(ctx: ProgramContext) -> str:
    for d in ctx.search or []:
        if d.startswith("svc."):
            return d[4:]
    return "cluster.local"


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _printable(name: dns.name.Name) -> str:
    """A name the way ``dn_expand``/``ns_name_ntop`` prints it: no trailing dot, the root as ``.``."""
    if name == dns.name.root or len(name.labels) == 0:
        return "."
    return name.to_text(omit_final_dot=True)


def _find_paren(text: str, i: int) -> int:
    """The index of the ``)`` matching the ``(`` at ``text[i]``, skipping quotes."""
    depth, j, n = 0, i, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "'":
            end = text.find("'", j + 1)
            if end < 0:
                break
            j = end + 1
            continue
        if c == '"':
            j += 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise _ShellError("syntax error: unterminated $(")


def _find_backquote(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "`":
            return j
        j += 1
    raise _ShellError("syntax error: unterminated `")


def _split_list(script: str) -> list[tuple[str | None, str]]:
    """Split a script into simple commands with the operator before each (None, ";", "&&", "||")."""
    items: list[tuple[str | None, str]] = []
    buf: list[str] = []
    op: str | None = None
    i, n = 0, len(script)

    def flush(next_op: str | None, hard: bool) -> None:
        nonlocal buf, op
        text = "".join(buf).strip()
        if not text:
            if hard or op in ("&&", "||"):
                raise _ShellError(f"syntax error: unexpected \"{next_op or op}\"")
            buf = []
            return
        items.append((op, text))
        buf, op = [], next_op

    while i < n:
        c = script[i]
        if c == "\\":
            buf.append(script[i:i + 2])
            i += 2
        elif c == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise _ShellError("syntax error: unterminated quoted string")
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == '"':
            j = i + 1
            while j < n and script[j] != '"':
                if script[j] == "\\":
                    j += 2
                elif script[j] == "$" and j + 1 < n and script[j + 1] == "(":
                    j = _find_paren(script, j + 1) + 1
                else:
                    j += 1
            if j >= n:
                raise _ShellError("syntax error: unterminated quoted string")
            buf.append(script[i:j + 1])
            i = j + 1
        elif c == "`":
            end = _find_backquote(script, i)
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == "$" and i + 1 < n and script[i + 1] == "(":
            end = _find_paren(script, i + 1)
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == "#" and (not buf or buf[-1][-1:] in (" ", "\t", "\n")):
            while i < n and script[i] != "\n":
                i += 1
        elif c == "\n":
            if "".join(buf).strip():
                flush(";", False)
            elif op in ("&&", "||"):
                pass  # a newline may follow && and ||
            i += 1
        elif c == ";":
            if script[i:i + 2] == ";;":
                raise _ShellError('syntax error: unexpected ";;"')
            flush(";", True)
            i += 1
        elif c == "&":
            if script[i:i + 2] == "&&":
                flush("&&", True)
                i += 2
            elif buf and buf[-1][-1:] in (">", "<"):
                buf.append(c)
                i += 1
            else:
                raise _ShellError("'&': background jobs are not supported by the stsnb sandbox shell")
        elif c == "|":
            if script[i:i + 2] == "||":
                flush("||", True)
                i += 2
            else:
                raise _ShellError("'|': pipes are not supported by the stsnb sandbox shell")
        elif c in "()" and not "".join(buf).strip():
            raise _ShellError(f"'{c}': subshells are not supported by the stsnb sandbox shell")
        else:
            buf.append(c)
            i += 1
    if "".join(buf).strip():
        flush(None, False)
    elif op in ("&&", "||"):
        raise _ShellError("syntax error: unexpected end of file")
    return items


# ------------------------------------------------------------------ builtins and programs


def _b_exit(c: _Container, argv: list[str], io: _IO) -> int:
    if len(argv) > 1:
        try:
            raise _Exit(int(argv[1]) & 0xFF)
        except ValueError:
            io.err(c.shell_error(f"exit: Illegal number: {argv[1]}"))
            raise _Exit(2) from None
    raise _Exit(c.status)


def _b_exec(c: _Container, argv: list[str], io: _IO) -> int:
    if len(argv) == 1:
        return 0
    raise _Exit(c.execute(argv[1:], io, in_shell=False))


def _b_set(c: _Container, argv: list[str], io: _IO) -> int:
    for a in argv[1:]:
        if a.startswith("-") and "e" in a:
            c.errexit = True
        elif a.startswith("+") and "e" in a:
            c.errexit = False
    return 0


def _b_export(c: _Container, argv: list[str], io: _IO) -> int:
    for a in argv[1:]:
        if "=" in a:
            key, _, value = a.partition("=")
            c.env[key] = value
    return 0


_BUILTINS: dict[str, Callable[[_Container, list[str], _IO], int]] = {
    "exit": _b_exit, "exec": _b_exec, "set": _b_set, "export": _b_export,
    ":": lambda c, a, io: 0, "true": lambda c, a, io: 0, "false": lambda c, a, io: 1,
    "cd": lambda c, a, io: 0,
}


def _p_true(c: _Container, argv: list[str], io: _IO) -> int:
    return 0


def _p_false(c: _Container, argv: list[str], io: _IO) -> int:
    return 1


def _p_echo(c: _Container, argv: list[str], io: _IO) -> int:
    args = argv[1:]
    newline, escapes = True, c.userland == "debian"  # dash's echo always interprets escapes
    if c.userland == "busybox":
        while args and re.fullmatch(r"-[neE]+", args[0]):
            flags = args.pop(0)[1:]
            newline = newline and "n" not in flags
            for f in flags:
                escapes = True if f == "e" else False if f == "E" else escapes
    elif args and args[0] == "-n":
        newline = False
        args.pop(0)
    text = " ".join(args)
    if escapes:
        text, stop = _echo_escapes(text)
        if stop:
            newline = False
    io.out(text + ("\n" if newline else ""))
    return 0


def _echo_escapes(text: str) -> tuple[str, bool]:
    out, i = [], 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "0":
                m = re.match(r"[0-7]{0,3}", text[i + 2:])
                out.append(chr(int(m.group(0) or "0", 8) & 0xFF))
                i += 2 + len(m.group(0))
                continue
        out.append(ch)
        i += 1
    return "".join(out), False


def _p_cat(c: _Container, argv: list[str], io: _IO) -> int:
    status = 0
    for path in argv[1:] or ["-"]:
        if path == "-":
            continue  # stdin: nothing attached
        content = c.file(path)
        if content is None:
            if c.userland == "debian":
                io.err(f"cat: {path}: No such file or directory\n")
            else:
                io.err(f"cat: can't open '{path}': No such file or directory\n")
            status = 1
            continue
        io.out(content)
    return status


def _p_hostname(c: _Container, argv: list[str], io: _IO) -> int:
    opts, rest = "", []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            opts += a[1:]
        elif a in ("--fqdn", "--long"):
            opts += "f"
        elif a == "--short":
            opts += "s"
        elif a == "--domain":
            opts += "d"
        elif a == "--ip-address":
            opts += "i"
        else:
            rest.append(a)
    if rest and not opts:
        if c.userland == "debian":
            io.err("hostname: you must be root to change the host name\n")
        else:
            io.err("hostname: sethostname: Operation not permitted\n")
        return 1
    canonical = c.fqdn if c.domain else c.nodename  # gethostbyname(hostname) reads /etc/hosts
    if "i" in opts:
        ips = " ".join(c.pod_ips)
        io.out(ips + (" \n" if c.userland == "busybox" else "\n"))
    elif "d" in opts:
        if "." in canonical:
            io.out(canonical.split(".", 1)[1] + "\n")
        elif c.userland == "debian":
            io.out("\n")
    elif "f" in opts:
        io.out(canonical + "\n")
    elif "s" in opts:
        io.out(c.nodename.split(".", 1)[0] + "\n")
    else:
        io.out(c.nodename + "\n")
    return 0


_SLEEP_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _p_sleep(c: _Container, argv: list[str], io: _IO) -> int:
    if len(argv) < 2:
        if c.userland == "debian":
            io.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
        else:
            io.err("Usage: sleep [N]...\n\nPause for a time equal to the total of the args given, "
                   "where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays\n")
        return 1
    total = 0.0
    for a in argv[1:]:
        if a.lower() in ("inf", "infinity"):
            total = math.inf
            continue
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            if c.userland == "debian":
                io.err(f"sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.\n")
            else:
                io.err(f"sleep: invalid number '{a}'\n")
            return 1
        total += float(m.group(1)) * _SLEEP_UNITS[m.group(2) or "s"]
    if math.isinf(total):
        raise _Forever()
    c.acc.slept += total
    return 0


_ENTRYPOINT_LINES = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n"
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n"
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf\n"
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh\n"
    "/docker-entrypoint.sh: Configuration complete; ready for start up\n"
)


def _p_entrypoint(c: _Container, argv: list[str], io: _IO) -> int:
    """nginx's /docker-entrypoint.sh: configure when starting nginx, then ``exec "$@"``."""
    args = argv[1:]
    if args and args[0] in ("nginx", "nginx-debug"):
        io.out(_ENTRYPOINT_LINES)
    return c.execute(args, io, in_shell=False)


def _p_nginx(c: _Container, argv: list[str], io: _IO) -> int:
    directives = " ".join(argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-g")
    if "-t" in argv[1:]:
        io.err("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
               "nginx: configuration file /etc/nginx/nginx.conf test is successful\n")
        return 0
    if re.search(r"daemon\s+off\s*;", directives):
        raise _Forever(handles_sigterm=True)
    return 0  # daemonized: the foreground process exits


def _p_sh(c: _Container, argv: list[str], io: _IO) -> int:
    args = argv[1:]
    script: str | None = None
    errexit = False
    while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        flags = args.pop(0)[1:]
        errexit = errexit or "e" in flags
        if "c" in flags:
            if not args:
                io.err(c.shell_error("-c requires an argument") if c.userland == "busybox"
                       else "sh: 0: -c requires an argument\n")
                return 2
            script = args.pop(0)
    if args and args[0] == "--":
        args.pop(0)
    if script is None:
        if args:
            if c.userland == "debian":
                io.err(f"sh: 0: cannot open {args[0]}: No such file\n")
            else:
                io.err(f"sh: can't open '{args[0]}': No such file or directory\n")
            return 2
        container = c.ctx.container or {}
        if container.get("stdin"):
            if container.get("tty"):
                io.err("/ # " if c.userland == "busybox" else "# ")
            raise _Forever()
        return 0  # no tty, stdin closed: the shell reads EOF and exits
    saved = (dict(c.env), c.errexit)  # a child shell's variables and options stay its own
    c.errexit = errexit
    try:
        return c.run_script(script, io)
    except _Exit as e:
        return e.code
    finally:
        c.env, c.errexit = saved


def _p_busybox(c: _Container, argv: list[str], io: _IO) -> int:
    if len(argv) > 1 and argv[1] in _USERLAND["busybox"] and argv[1] != "busybox":
        return c.execute(argv[1:], io, in_shell=False)
    if len(argv) > 1:
        io.err(f"{argv[1]}: applet not found\n")
        return 127
    io.out(f"BusyBox v{c.bb[0]}.{c.bb[1]} multi-call binary.\n")
    return 0


# ----- nslookup

_RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
           "NXRRSET", "NOTAUTH", "NOTZONE", "11", "12", "13", "14", "15")
_NSLOOKUP_TYPES = (("SOA", _T.SOA), ("NS", _T.NS), ("A", _T.A), ("AAAA", _T.AAAA), ("CNAME", _T.CNAME),
                   ("MX", _T.MX), ("TXT", _T.TXT), ("SRV", _T.SRV), ("PTR", _T.PTR), ("ANY", _T.ANY))


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


def _nslookup_usage(c: _Container, io: _IO) -> int:
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


def _p_nslookup(c: _Container, argv: list[str], io: _IO) -> int:
    if c.bb < (1, 29):
        return _nslookup_libc(c, argv, io)
    args = argv[1:]
    types: set[int] = set()
    port = 53
    while args and args[0].startswith("-"):
        key, _, val = args.pop(0)[1:].partition("=")
        if key in ("type", "querytype"):
            match = [t for label, t in _NSLOOKUP_TYPES if label.lower() == val.lower()
                     and (t != _T.SRV or c.bb >= (1, 31))]
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
    if not args or len(args) > 2:
        return _nslookup_usage(c, io)
    host = args[0]
    # the server
    if len(args) == 2:
        server = args[1]
        addr = _ip_or_none(server)
        if addr is None:
            found = c.libc_addresses(server)
            if not found:
                io.err(f"nslookup: bad address '{server}'\n")
                return 1
            addr = _ip_or_none(found[0])
    else:
        server = c.ctx.nameserver or "127.0.0.1"
        addr = _ip_or_none(server)
    # the queries
    search = c.ctx.search if c.bb >= (1, 30) else []

    def with_search(rdtype: int) -> list[tuple[str, int]]:
        if rdtype == _T.PTR or not search or "." in host:
            return [(host, rdtype)]
        return [(f"{host}.{d}", rdtype) for d in search]

    queries: list[tuple[str, int]] = []
    if not types:
        ptr = _make_ptr(host)
        if ptr:
            queries = [(ptr, _T.PTR)]
        else:
            queries = with_search(_T.A) + with_search(_T.AAAA)
    else:
        for _, t in _NSLOOKUP_TYPES:
            if t in types:
                queries += with_search(t)
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


def _print_reply(reply: dns.message.Message, io: _IO) -> int:
    """busybox ``parse_reply``: the answer section, one line (or block) per record."""
    if not reply.flags & dns.flags.AA:
        io.out("Non-authoritative answer:\n")
    count = 0
    for rrset in reply.answer:
        owner = _printable(rrset.name)
        for rd in rrset:
            count += 1
            t = rrset.rdtype
            if t in (_T.A, _T.AAAA):
                io.out(f"Name:\t{owner}\nAddress: {rd.address}\n")
            elif t == _T.NS:
                io.out(f"{owner}\tnameserver = {_printable(rd.target)}\n")
            elif t == _T.CNAME:
                io.out(f"{owner}\tcanonical name = {_printable(rd.target)}\n")
            elif t == _T.PTR:
                io.out(f"{owner}\tname = {_printable(rd.target)}\n")
            elif t == _T.MX:
                io.out(f"{owner}\tmail exchanger = {rd.preference} {_printable(rd.exchange)}\n")
            elif t == _T.TXT:
                first = rd.strings[0] if rd.strings else b""
                if first:
                    io.out(f'{owner}\ttext = "{first.decode("latin-1")}"\n')
            elif t == _T.SRV:
                io.out(f"{owner}\tservice = {rd.priority} {rd.weight} {rd.port} {_printable(rd.target)}\n")
            elif t == _T.SOA:
                io.out(f"{owner}\n\torigin = {_printable(rd.mname)}\n\tmail addr = {_printable(rd.rname)}\n"
                       f"\tserial = {rd.serial}\n\trefresh = {rd.refresh}\n\tretry = {rd.retry}\n"
                       f"\texpire = {rd.expire}\n\tminimum = {rd.minimum}\n")
    return count


def _nslookup_libc(c: _Container, argv: list[str], io: _IO) -> int:
    """busybox ≤1.28: getaddrinfo/getnameinfo through the system resolver."""
    args = argv[1:]
    if not args or args[0].startswith("-") or len(args) > 2:
        return _nslookup_usage(c, io)
    reachable = True
    if len(args) == 2:
        found = [args[1]] if _ip_or_none(args[1]) is not None else c.libc_addresses(args[1])
        if not found:
            io.err(f"nslookup: bad address '{args[1]}'\n")
            return 1
        server = str(_ip_or_none(found[0]))
        reachable = server == c.ctx.nameserver
    else:
        server = c.ctx.nameserver or "127.0.0.1"

    def print_host(name: str, header: str) -> int:
        addrs = c.libc_addresses(name) if reachable or _ip_or_none(name) is not None else []
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


_PROGRAM_FUNCS: dict[str, Callable[[_Container, list[str], _IO], int]] = {
    "sh": _p_sh, "ash": _p_sh, "bash": _p_sh, "cat": _p_cat, "echo": _p_echo, "sleep": _p_sleep,
    "true": _p_true, "false": _p_false, "hostname": _p_hostname, "nslookup": _p_nslookup,
    "nginx": _p_nginx, "/docker-entrypoint.sh": _p_entrypoint, "busybox": _p_busybox,
}


# ------------------------------------------------------------------ entry point


def run(ctx: ProgramContext) -> Outcome:
    """Start the container ``ctx.container`` of ``ctx.pod``; see the module docstring."""
    try:
        return _run(ctx)
    except Exception as e:  # a sandbox bug must not take the kubelet down with it
        return Outcome(output=f"stsnb sandbox: internal error while running the container: {e!r}\n",
                       exit_code=128, runs_forever=False)


def _run(ctx: ProgramContext) -> Outcome:
    container = ctx.container or {}
    image = _parse_image(container.get("image") or "")
    c = _Container(ctx, image)
    command = [str(a) for a in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command:
        argv = command + args
    elif image is not None:
        argv = list(image.entrypoint) + (args or list(image.cmd))
    else:
        argv = args
    argv = [_kubelet_expand(a, c.env) for a in argv]
    if not argv:
        known = "busybox, alpine and nginx"
        return Outcome(output=f"stsnb sandbox: image {container.get('image')!r} is not one the sandbox knows "
                              f"({known}), so it has no default command; give the container a command\n",
                       exit_code=127, runs_forever=False)
    io = _IO(c.acc.write, c.acc.write)
    forever: _Forever | None = None
    try:
        status = c.execute(argv, io, in_shell=False)
    except _Exit as e:
        status = e.code
    except _Forever as f:
        forever, status = f, 0
    before, after = "".join(c.acc.before), "".join(c.acc.after)
    slept = c.acc.slept or None
    if forever is not None:
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=not forever.handles_sigterm, output_after_sleep=after,
                       exit_code_after_sleep=None)
    if slept:
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=True, output_after_sleep=after, exit_code_after_sleep=status & 0xFF)
    return Outcome(output=before, exit_code=status & 0xFF, runs_forever=False)
