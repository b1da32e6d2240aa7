"""What the container programs share: the context and outcome types, images, streams, control flow.

The kubelet hands :func:`~stsnb.sandbox.node.programs.run` a :class:`ProgramContext`
and gets an :class:`Outcome`; in between, the programs write through an
:class:`IO` into an :class:`Acc` and end with a status, :class:`Exit` or
:class:`Forever`.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import dns.message
import dns.name
import dns.rdatatype

if TYPE_CHECKING:
    from ..containers import FileSystem

T = dns.rdatatype  # record types
LATEST_BUSYBOX = (1, 37)


@dataclass
class ProgramContext:
    """What a container sees of its pod and of the cluster."""

    pod: dict  # the pod object
    container: dict  # the container spec
    resolve: Callable[[dns.message.Message], dns.message.Message]  # the cluster DNS (ClusterDns.resolve)
    nameserver: str  # "10.96.0.10"
    search: list[str]  # ["<ns>.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    ndots: int = 5
    fs: FileSystem | None = None  # the container's filesystem (a fresh one from the image when None)
    network: Callable[..., Any] | None = None  # in-cluster TCP: ``network(ip, port, request) -> response``
    limits: Limits | None = None  # the bounds of one program run (:class:`Limits` by default)
    sleep: Callable[[float], None] | None = None  # really wait (exec sessions); None: add up sleeps
    clock: Callable[[], float] = time.time  # what ``date`` reads: seconds since the epoch, in sandbox time
    env: list[tuple[str, str]] | None = None  # the kubelet's variables (declared, then Service links); None: from the spec
    pid: int = 1  # the process's PID in its container (1: the main process; exec sessions get their own)
    processes: Callable[[], list[tuple[int, list[str]]]] | None = None  # the container's exec sessions, for ``ps``
    signal_main: Callable[[int], bool] | None = None  # stop the container's main process with this exit code


@dataclass(frozen=True)
class Limits:
    """What one program run may use before the sandbox stops it.

    ``steps``: commands and loop turns run without sleeping or waiting for input (the
    sandbox's stand-in for CPU time: a busy loop would otherwise hold a thread for ever);
    ``memory``: bytes of shell variables and of any one word being built (``a=$a$a``).
    """

    steps: int = 20_000
    memory: int = 4 * 1024 * 1024


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
    reason: str | None = None  # the terminated state's reason when not Completed/Error (OOMKilled)
    listens: tuple[int, ...] = ()  # TCP ports the program serves (nginx: the ``listen`` ports of its config)
    server: Any = "nginx"  # what answers: "nginx" (its web root), "netexec" (agnhost), "bootcamp:v=N" (Basics), or
    #                        a program's own server (a callable taking an HttpRequest: mysqld, ncat --listen)
    hostname: str = ""  # the hostname the server reports (netexec's /hostname)
    interactive: bool = False  # a shell reading its stdin (``stdin: true``): the kubelet keeps it running


PROGRAMS = ("agnhost", "cat", "chmod", "cp", "curl", "date", "dd", "echo", "env", "false", "find", "grep", "head",
            "hello-app", "hostname", "id", "ln", "ls", "mkdir", "mv", "mysql", "mysqladmin", "mysqld", "ncat", "nginx",
            "node", "nodetool", "nslookup", "perl", "printenv", "printf", "ps", "pwd", "readlink", "rm", "rmdir", "sed", "sh",
            "sleep", "start-zookeeper", "stress", "tail", "tar", "test", "touch", "true", "wc", "wget", "xbstream",
            "xtrabackup", "zkCli.sh", "zookeeper-ready")
_COMMON = frozenset({"cat", "chmod", "cp", "date", "dd", "echo", "env", "false", "find", "grep", "head", "hostname",
                     "id", "ln", "ls", "mkdir", "mv", "printenv", "printf", "pwd", "readlink", "rm", "rmdir", "sed",
                     "sh", "sleep", "tail", "tar", "test", "[", "touch", "true", "wc"})
USERLAND = {  # what each image family has of them
    "busybox": _COMMON | {"ash", "nslookup", "busybox", "ps", "wget"},
    "debian": _COMMON | {"bash", "curl"},
    "none": frozenset(),  # images without a shell or tools (pause, CoreDNS)
}


def supported_programs() -> list[str]:
    """The programs containers can run in the sandbox (``sh`` meaning ``sh -c SCRIPT``)."""
    return list(PROGRAMS)


# ------------------------------------------------------------------ images


@dataclass(frozen=True)
class Image:
    name: str
    tag: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    userland: str  # "busybox" or "debian"
    busybox: tuple[int, int]  # the busybox version, for nslookup
    nginx: bool = False  # serves files with nginx (nginx, registry.k8s.io/nginx-slim)
    httpd: bool = False  # has httpd's files (httpd, upstream's e2e httpd images)
    files: tuple[str, ...] = ()  # the image's own programs, at these paths
    users: tuple[tuple[str, int], ...] = ()  # users (and their groups) the image adds


def is_nginx(name: str) -> bool:
    """Whether an image (its last path part, without tag) behaves as nginx.

    ``nginx`` and the tutorial's ``registry.k8s.io/nginx-slim``; the image catalogue
    may replace this with its own table.
    """
    return name in ("nginx", "nginx-slim")


def parse_image(image: str) -> Image | None:
    """The image's default ENTRYPOINT, CMD and userland, from the sandbox's image catalogue (:mod:`..images`)."""
    from .. import images
    try:
        ref = images.parse(image)
    except images.InvalidReference:
        return None
    entry = images.lookup(ref)
    if entry is None:
        return None
    return Image(entry.programs_name, ref.tag, entry.entrypoint, entry.cmd, entry.userland_for(ref.tag) or "none",
                 images.busybox_version(ref, LATEST_BUSYBOX),
                 nginx=entry.programs_name == "nginx", httpd=entry.programs_name == "httpd", files=entry.files,
                 users=entry.users)


def kubelet_expand(s: str, env: dict[str, str]) -> str:
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


class Killed(Exception):
    """The sandbox stopped the program: it went past one of its :class:`Limits` (or was told to stop)."""

    def __init__(self, reason: str, message: str, code: int = 137) -> None:
        super().__init__(message)
        self.reason, self.message, self.code = reason, message, code


class Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Forever(Exception):
    """The process does not end by itself (a server, ``sleep infinity``, a shell waiting on stdin)."""

    def __init__(self, handles_sigterm: bool = False, listens: tuple[int, ...] = (), server: Any = "nginx",
                 hostname: str = "", sigterm_code: int = 0) -> None:
        super().__init__()
        self.handles_sigterm = handles_sigterm
        self.sigterm_code = sigterm_code  # how it exits on SIGTERM: 0 (nginx), 143 (a JVM: 128 + SIGTERM)
        self.listens = listens
        self.server = server
        self.hostname = hostname


class ShellError(Exception):
    """A script the sandbox shell cannot run; the message is what it prints."""


@dataclass
class Acc:
    """What a container wrote, before and after its (summed) sleeps."""

    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    slept: float = 0.0

    def write(self, s: str) -> None:
        (self.after if self.slept else self.before).append(s)


class Input:
    """A process's stdin: text that is all there (a file, a pipe) or that arrives (a terminal, an exec stream).

    Bytes are carried as text decoded with ``surrogateescape``, so binary data (``tar``) round-trips.
    """

    def __init__(self, text: str = "", more: Callable[[], str | None] | None = None) -> None:
        self._buf = text
        self._more = more  # blocks for the next piece; None at end of input

    @property
    def live(self) -> bool:
        """True while more input may arrive (a terminal or an exec stream that is still open)."""
        return self._more is not None or bool(self._buf)

    def _fill(self) -> bool:
        if self._more is None:
            return False
        piece = self._more()
        if piece is None:
            self._more = None
            return False
        self._buf += piece
        return True

    def readline(self) -> str | None:
        while "\n" not in self._buf:
            if not self._fill():
                break
        if not self._buf:
            return None
        line, sep, rest = self._buf.partition("\n")
        self._buf = rest
        return line + sep

    def read(self) -> str:
        while self._fill():
            pass
        out, self._buf = self._buf, ""
        return out


EMPTY_INPUT = Input()


class IO:
    """A process's stdin, stdout and stderr: callables taking text (``None`` for ``/dev/null``) and an :class:`Input`."""

    def __init__(self, out: Callable[[str], None] | None, err: Callable[[str], None] | None,
                 stdin: Input | None = None, tty: bool = False) -> None:
        self.stdout, self.stderr = out, err
        self.stdin = stdin if stdin is not None else Input()
        self.tty = tty

    def out(self, s: str) -> None:
        if self.stdout is not None and s:
            self.stdout(s)

    def err(self, s: str) -> None:
        if self.stderr is not None and s:
            self.stderr(s)


def ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def printable(name: dns.name.Name) -> str:
    """A name the way ``dn_expand``/``ns_name_ntop`` prints it: no trailing dot, the root as ``.``."""
    if name == dns.name.root or len(name.labels) == 0:
        return "."
    return name.to_text(omit_final_dot=True)

