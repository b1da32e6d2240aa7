"""What the container programs share: the context and outcome types, images, streams, control flow.

The kubelet hands :func:`~stsnb.sandbox.node.programs.run` a :class:`ProgramContext`
and gets an :class:`Outcome`; in between, the programs write through an
:class:`IO` into an :class:`Acc` and end with a status, :class:`Exit` or
:class:`Forever`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Callable

import dns.message
import dns.name
import dns.rdatatype

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


PROGRAMS = ("cat", "echo", "false", "hostname", "nginx", "nslookup", "sh", "sleep", "true")
USERLAND = {  # what each image family has of them
    "busybox": frozenset({"sh", "ash", "cat", "echo", "false", "hostname", "nslookup", "sleep", "true", "busybox"}),
    "debian": frozenset({"sh", "bash", "cat", "echo", "false", "hostname", "sleep", "true"}),
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
                 images.busybox_version(ref, LATEST_BUSYBOX))


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


class Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Forever(Exception):
    """The process does not end by itself (a server, ``sleep infinity``, a shell waiting on stdin)."""

    def __init__(self, handles_sigterm: bool = False) -> None:
        super().__init__()
        self.handles_sigterm = handles_sigterm


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


class IO:
    """A process's stdout and stderr: callables taking text, ``None`` for ``/dev/null``."""

    def __init__(self, out: Callable[[str], None] | None, err: Callable[[str], None] | None) -> None:
        self.stdout, self.stderr = out, err

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

