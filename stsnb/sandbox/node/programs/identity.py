"""Who a container's processes run as, and ``id`` and ``ps`` (busybox) that show it.

*Configure a Security Context for a Pod or Container* runs ``id`` and ``ps`` in a busybox pod with
``runAsUser: 1000``, ``runAsGroup: 3000`` and ``fsGroup: 2000``. The identity follows the kubelet
and containerd: ``runAsUser``/``runAsGroup`` of the container, else of the pod, else the image's
root; the supplementary groups are, for a user the image's ``/etc/passwd`` knows, its primary group
and the ``/etc/group`` entries that list it (containerd's ``WithAdditionalGIDs``), then the pod's
``fsGroup`` and ``supplementalGroups``. Names come from the image's ``/etc/passwd`` and
``/etc/group``; an id without one is printed as a number, as ``id`` and ``ps`` print it.

``ps`` lists the container's main process as PID 1 (``sh -c "sleep 1h"`` shows as ``sleep 1h``: busybox
``sh -c`` runs a lone command in its own place) and the ``kubectl exec`` sessions into the container
with their own PIDs, then ``ps`` itself; times are ``0:00``. Debian's slim images have no ``ps``, as
on a node. What the processes make is their user's, and a volume with ``fsGroup`` passes its group on
(:class:`~..containers.FileSystem` ``owner``, ``set_group``), so ``ls -l`` shows both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..containers import FsError
from .base import IO

if TYPE_CHECKING:
    from ..containers import FileSystem
    from .container import Container


def _security(c: Container, field: str) -> object:
    own = ((c.ctx.container or {}).get("securityContext") or {}).get(field)
    return own if own is not None else (((c.ctx.pod or {}).get("spec") or {}).get("securityContext") or {}).get(field)


def _table(c: Container, path: str, fs: "FileSystem | None" = None) -> list[list[str]]:
    try:
        text = (fs or c.fs).read(path).decode("utf-8", "replace")
    except (FsError, AttributeError):
        text = ""
    return [line.split(":") for line in text.splitlines() if line.count(":") >= 3]


def identity(c: Container, fs: "FileSystem | None" = None) -> tuple[int, int, list[int]]:
    """``(uid, gid, supplementary groups)`` of the container's processes (names read from ``fs``, else its own)."""
    uid = _security(c, "runAsUser")
    uid = uid if isinstance(uid, int) else 0
    user = next((row for row in _table(c, "/etc/passwd", fs) if row[2] == str(uid)), None)
    gid = _security(c, "runAsGroup")
    if not isinstance(gid, int):
        gid = int(user[3]) if user and user[3].isdigit() else 0
    groups: list[int] = []
    if user is not None:
        groups.append(gid)
        groups += [int(row[2]) for row in _table(c, "/etc/group", fs)
                   if row[2].isdigit() and user[0] in row[3].split(",")]
    pod = ((c.ctx.pod or {}).get("spec") or {}).get("securityContext") or {}
    if isinstance(pod.get("fsGroup"), int):
        groups.append(pod["fsGroup"])
    groups += [g for g in pod.get("supplementalGroups") or [] if isinstance(g, int)]
    return uid, gid, list(dict.fromkeys(groups))


def _named(c: Container, path: str, number: int) -> str:
    name = next((row[0] for row in _table(c, path) if row[2] == str(number)), None)
    return f"{number}({name})" if name else str(number)


def user_name(c: Container, uid: int) -> str:
    """The name ``/etc/passwd`` gives ``uid``, else the number (what ``ls -l`` and ``ps`` print)."""
    return next((row[0] for row in _table(c, "/etc/passwd") if row[2] == str(uid)), str(uid))


def group_name(c: Container, gid: int) -> str:
    return next((row[0] for row in _table(c, "/etc/group") if row[2] == str(gid)), str(gid))


def p_id(c: Container, argv: list[str], io: IO) -> int:
    """``id``, ``id -u``, ``id -g``, ``id -G`` (``-n`` for names)."""
    uid, gid, groups = identity(c)
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    names = "n" in flags
    if set(flags) - set("ugGn"):
        io.err(f"id: invalid option -- '{sorted(set(flags) - set('ugGn'))[0]}'\n")
        return 1

    def one(path: str, number: int) -> str:
        if not names:
            return str(number)
        return _named(c, path, number).partition("(")[2].rstrip(")") or str(number)
    if "u" in flags:
        io.out(one("/etc/passwd", uid) + "\n")
    elif "g" in flags:
        io.out(one("/etc/group", gid) + "\n")
    elif "G" in flags:
        io.out(" ".join(one("/etc/group", g) for g in groups or [gid]) + "\n")
    else:
        text = f"uid={_named(c, '/etc/passwd', uid)} gid={_named(c, '/etc/group', gid)}"
        if groups:
            text += " groups=" + ",".join(_named(c, "/etc/group", g) for g in groups)
        io.out(text + "\n")
    return 0


def main_command(c: Container) -> str:
    """What ``ps`` shows for PID 1: the container's command (busybox's ``sh -c`` runs a lone command in its place;
    dash stays, as ``sh -c …``)."""
    spec = c.ctx.container or {}
    image = c.image
    command = list(spec.get("command") or (image.entrypoint if image else ()))
    args = list(spec.get("args") or ([] if spec.get("command") else (image.cmd if image else ())))
    argv = command + args
    if c.userland == "busybox" and len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "ash") \
            and argv[1] == "-c" and not re.search(r"[;&|<>()`$\n]", argv[2]):
        return argv[2].strip()
    return " ".join(argv)


def p_ps(c: Container, argv: list[str], io: IO) -> int:
    """busybox ``ps``: PID 1, the ``kubectl exec`` sessions, then itself."""
    uid, _, _ = identity(c)
    user = _named(c, "/etc/passwd", uid).partition("(")[2].rstrip(")") or str(uid)
    rows = [(1, main_command(c))]
    sessions = c.ctx.processes() if c.ctx.processes is not None else []
    rows += [(pid, " ".join(cmd)) for pid, cmd in sessions if pid != 1]
    itself = (c.ctx.pid == 1 and rows[0][1] == " ".join(argv)) or any(
        pid == c.ctx.pid and cmd[:1] == argv[:1] for pid, cmd in sessions)  # ps is PID 1, or the exec'd command
    if not itself:  # run from a shell: its child
        rows.append((max([pid for pid, _ in rows] + [c.ctx.pid]) + 5, " ".join(argv)))
    io.out("PID   USER     TIME  COMMAND\n")
    for pid, command in sorted(rows):
        io.out(f"{pid:>5} {user[:8]:<8} {'0:00':>5} {command}\n")
    return 0
