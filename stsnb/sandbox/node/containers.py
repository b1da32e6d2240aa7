"""Container filesystems: in-memory trees built from an image's simulated contents, plus volume mounts.

Every container the sandbox kubelet starts gets a :class:`FileSystem`: a root
:class:`Volume` filled from its image (:func:`image_root`), with each of the
container's ``volumeMounts`` grafted on at its ``mountPath``. The volumes come
from :class:`VolumeData`, which the kubelet keeps for the whole sandbox:

* ``emptyDir``: one tree per pod and volume name, gone with the pod (upstream:
  "When a Pod is removed from a node for any reason, the data in the emptyDir
  is deleted permanently");
* ``persistentVolumeClaim``: the bound PersistentVolume's storage, one tree per
  PV uid (in memory, or a directory of its own under ``Sandbox(data_dir=...)``,
  :mod:`.disk`), kept for as long as the PV object exists. A successor pod that mounts
  the same claim sees what its predecessor wrote; when the PV is deleted (its
  reclaim policy is ``Delete``, or someone deletes it) the data goes with it.
  ``Retain`` keeps the PV ``Released`` and so keeps the data;
* ``hostPath``: a tree per node and path, held in memory (never the host's files);
* ``configMap`` / ``secret`` / ``downwardAPI`` / ``projected``: read-only files laid out as
  the kubelet's AtomicWriter writes them (:func:`write_projection`), rewritten whole when what
  they project changes (the runtime's ``refresh``).

A volume's tree is a :class:`VolumeStorage`: the in-memory :class:`Volume`, or
a PV's :class:`~.disk.DirectoryVolume`. The :class:`FileSystem` does all path
handling itself and hands each volume only normalised components inside it:
paths are resolved lexically (``..`` stops at ``/`` as in the kernel), and a
symbolic link (``ln -s``; a :class:`Link` in memory, a real link in a PV's
directory) holds a path that the volume only stores and reports
(:meth:`VolumeStorage.readlink`); the :class:`FileSystem` resolves it again
inside the same container filesystem (at most :data:`MAX_SYMLINKS` links on the
way: ``Too many levels of symbolic links``), whatever it says: ``/etc/passwd``
is the container's, ``../../..`` stops at the container's root. Hard links
(``ln``) join two names of one in-memory volume; across volumes they fail with
``Invalid cross-device link``, and a PV directory refuses them (``Operation not
permitted``).

Nothing here touches the host but a PV's directory, and :mod:`.disk` confines
every call to it (relative to directory descriptors, links never followed by
the host, a host-planted hard link neither read nor written), so no container
path, and no link's target, leads outside. Each volume has a byte quota (the
claim's size, capped by :data:`MAX_VOLUME_BYTES`); writing past it fails with
``No space left on device``, as a full disk does. Differences from a real
cluster: file ownership and permissions are recorded but never enforced, and a
PV's data lives in this process's memory, so it ends with the sandbox (unless
it has a data directory).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: The most a sandbox volume may hold, whatever its claim asks for (memory is the real disk here).
MAX_VOLUME_BYTES = 16 * 1024 * 1024
#: The writable layer of a container's root filesystem.
ROOT_LAYER_BYTES = 16 * 1024 * 1024
#: What one directory entry costs against the quota (so millions of empty files are refused too).
ENTRY_BYTES = 64


class FsError(Exception):
    """A failed file operation; ``strerror`` is the C library's text (``No such file or directory``)."""

    def __init__(self, strerror: str, path: str = "") -> None:
        super().__init__(f"{path}: {strerror}" if path else strerror)
        self.strerror, self.path = strerror, path


ENOENT = "No such file or directory"
ENOTDIR = "Not a directory"
EISDIR = "Is a directory"
EEXIST = "File exists"
ENOTEMPTY = "Directory not empty"
ENOSPC = "No space left on device"
EROFS = "Read-only file system"
EBUSY = "Resource busy"
ELOOP = "Too many levels of symbolic links"
EXDEV = "Invalid cross-device link"
EPERM = "Operation not permitted"
EINVAL = "Invalid argument"
#: How many symbolic links one path may go through (the kernel's MAXSYMLINKS).
MAX_SYMLINKS = 40


@dataclass
class File:
    data: bytes = b""
    mode: int = 0o644
    mtime: float = field(default_factory=time.time)


@dataclass
class Link:
    """A symbolic link: the path it points to, resolved in the filesystem that looks it up."""

    target: str
    mode: int = 0o777
    mtime: float = field(default_factory=time.time)


@dataclass
class Dir:
    entries: dict[str, "File | Dir | Link"] = field(default_factory=dict)
    mode: int = 0o755
    mtime: float = field(default_factory=time.time)


def split_path(path: str, cwd: str = "/") -> list[str]:
    """The components of ``path`` made absolute against ``cwd``; ``.`` dropped, ``..`` stops at the root."""
    full = path if path.startswith("/") else f"{cwd.rstrip('/')}/{path}"
    out: list[str] = []
    for part in full.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        out.append(part)
    return out


def join(parts: list[str]) -> str:
    return "/" + "/".join(parts)


@dataclass
class Stat:
    is_dir: bool
    size: int
    mode: int
    mtime: float
    is_link: bool = False
    target: str = ""
    uid: int = 0
    gid: int = 0


class VolumeStorage:
    """What a :class:`FileSystem` needs of a mounted volume: a directory tree with a byte quota.

    A path inside the volume is a list of components (``rest``) that :func:`split_path`
    has already normalised: no ``""``, ``.``, ``..`` or ``/`` in any of them; ``[]`` is the
    volume's root. ``path`` is the container's own spelling, for error messages. Every
    method raises :class:`FsError`. Implementations: :class:`Volume` (in memory) and
    :class:`~.disk.DirectoryVolume` (a directory on the host, ``Sandbox(data_dir=...)``).
    Mount points and read-only mounts are the :class:`FileSystem`'s business, not the volume's.

    Symbolic links are too: a volume stores a link (:meth:`symlink`) and reports it
    (:meth:`readlink`, :meth:`stat` with ``is_link``) but never follows one. The
    :class:`FileSystem` resolves every link on a path before it hands the path over,
    so the components of ``rest`` but the last are directories; a link where one is
    expected fails (``Not a directory``, or ``Too many levels of symbolic links`` as
    ``O_NOFOLLOW`` does). :meth:`read` and :meth:`write` on a link fail the same way;
    :meth:`stat`, :meth:`remove`, :meth:`touch` and :meth:`chmod` act on the link itself.
    """

    #: False while the tree cannot hold a symbolic link: paths through it then resolve without
    #: asking about each component (:meth:`FileSystem._resolve`).
    has_links = False

    def __init__(self, quota: int = MAX_VOLUME_BYTES, read_only: bool = False, label: str = "") -> None:
        self.quota = quota
        self.used = 0
        self.read_only = read_only
        self.label = label
        self.lock = threading.RLock()
        #: who owns what, by path in the volume: ``(uid, gid, setgid)``; anything not in it is root's. The
        #: :class:`FileSystem` keeps it (a process's files are its user's; ``fsGroup`` marks a volume's root).
        self.owners: dict[tuple[str, ...], tuple[int, int, bool]] = {}

    def charge(self, delta: int, path: str) -> None:
        if delta > 0 and self.used + delta > self.quota:
            raise FsError(ENOSPC, path)
        self.used = max(0, self.used + delta)

    def stat(self, rest: list[str], path: str = "") -> Stat:
        """What is at ``rest``, a link described itself (``is_link``, ``target``), as ``lstat`` does."""
        raise NotImplementedError

    def readlink(self, rest: list[str], path: str = "") -> str:
        """The target of the symbolic link ``rest``, as it was written (``Invalid argument`` when no link)."""
        raise NotImplementedError

    def read(self, rest: list[str], path: str = "") -> bytes:
        raise NotImplementedError

    def listdir(self, rest: list[str], path: str = "") -> list[str]:
        """The names in directory ``rest``, sorted."""
        raise NotImplementedError

    def write(self, rest: list[str], data: bytes, path: str = "", append: bool = False, mode: int = 0o644) -> None:
        """Create or replace (``append``: extend) the file ``rest``; its directory must exist."""
        raise NotImplementedError

    def mkdir(self, rest: list[str], path: str = "", mode: int = 0o755) -> None:
        raise NotImplementedError

    def symlink(self, rest: list[str], target: str, path: str = "") -> None:
        """Make ``rest`` a symbolic link holding ``target`` (stored as written, never resolved here)."""
        raise NotImplementedError

    def link(self, existing: list[str], rest: list[str], path: str = "") -> None:
        """Make ``rest`` a second name of the file ``existing`` (a hard link, both in this volume)."""
        raise FsError(EPERM, path)

    def remove(self, rest: list[str], path: str = "", recursive: bool = False, directory_ok: bool = False) -> None:
        """Remove a file or link; a directory only when ``recursive``, or when empty and ``directory_ok``."""
        raise NotImplementedError

    def touch(self, rest: list[str], path: str = "") -> None:
        """Set the modification time of what is at ``rest`` to now (``ENOENT`` when nothing is)."""
        raise NotImplementedError

    def chmod(self, rest: list[str], mode: int, path: str = "") -> None:
        raise NotImplementedError

    def discard(self) -> None:
        """The volume's owner is gone for good (a PV reclaimed with ``Delete``): free what holds the data."""


class Volume(VolumeStorage):
    """A volume in memory: a container's root layer, an emptyDir, a PV's data (by default), a projection."""

    def __init__(self, quota: int = MAX_VOLUME_BYTES, read_only: bool = False, label: str = "") -> None:
        super().__init__(quota, read_only, label)
        self.root = Dir()
        self.has_links = False  # paths in it resolve the quick way until a symbolic link is made

    def _node(self, rest: list[str], path: str) -> File | Dir | Link:
        node: File | Dir | Link = self.root
        for name in rest:
            if not isinstance(node, Dir):
                raise FsError(ENOTDIR, path)
            nxt = node.entries.get(name)
            if nxt is None:
                raise FsError(ENOENT, path)
            node = nxt
        return node

    def _parent(self, rest: list[str], path: str) -> tuple[Dir, str]:
        if not rest:
            raise FsError(EISDIR, path)
        node = self._node(rest[:-1], path)
        if not isinstance(node, Dir):
            raise FsError(ENOTDIR, path)
        return node, rest[-1]

    def stat(self, rest: list[str], path: str = "") -> Stat:
        return _stat(self._node(rest, path))

    def readlink(self, rest: list[str], path: str = "") -> str:
        node = self._node(rest, path)
        if not isinstance(node, Link):
            raise FsError(EINVAL, path)
        return node.target

    def read(self, rest: list[str], path: str = "") -> bytes:
        node = self._node(rest, path)
        if isinstance(node, Dir):
            raise FsError(EISDIR, path)
        if isinstance(node, Link):
            raise FsError(ELOOP, path)
        return node.data

    def listdir(self, rest: list[str], path: str = "") -> list[str]:
        node = self._node(rest, path)
        if not isinstance(node, Dir):
            raise FsError(ENOTDIR, path)
        return sorted(node.entries)

    def write(self, rest: list[str], data: bytes, path: str = "", append: bool = False, mode: int = 0o644) -> None:
        with self.lock:
            parent, name = self._parent(rest, path)
            old = parent.entries.get(name)
            if isinstance(old, Dir):
                raise FsError(EISDIR, path)
            if isinstance(old, Link):
                raise FsError(ELOOP, path)
            new = (old.data if (old is not None and append) else b"") + bytes(data)
            self.charge(len(new) - (len(old.data) if old else -ENTRY_BYTES), path)
            if old is None:
                parent.entries[name] = File(new, mode)
                parent.mtime = time.time()
            else:
                old.data, old.mtime = new, time.time()

    def mkdir(self, rest: list[str], path: str = "", mode: int = 0o755) -> None:
        with self.lock:
            parent, name = self._parent(rest, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            self.charge(ENTRY_BYTES, path)
            parent.entries[name] = Dir(mode=mode)
            parent.mtime = time.time()

    def symlink(self, rest: list[str], target: str, path: str = "") -> None:
        with self.lock:
            parent, name = self._parent(rest, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            self.charge(ENTRY_BYTES + len(target), path)
            parent.entries[name] = Link(target)
            parent.mtime = time.time()
            self.has_links = True

    def link(self, existing: list[str], rest: list[str], path: str = "") -> None:
        with self.lock:
            node = self._node(existing, path)
            if isinstance(node, Dir):
                raise FsError(EPERM, path)
            parent, name = self._parent(rest, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            self.charge(ENTRY_BYTES, path)
            parent.entries[name] = node
            parent.mtime = time.time()
            self.has_links = self.has_links or isinstance(node, Link)

    def remove(self, rest: list[str], path: str = "", recursive: bool = False, directory_ok: bool = False) -> None:
        with self.lock:
            parent, name = self._parent(rest, path)
            node = parent.entries.get(name)
            if node is None:
                raise FsError(ENOENT, path)
            if isinstance(node, Dir):
                if not recursive and not directory_ok:
                    raise FsError(EISDIR, path)
                if node.entries and not recursive:
                    raise FsError(ENOTEMPTY, path)
            self.charge(-_size(node), path)
            del parent.entries[name]
            parent.mtime = time.time()

    def touch(self, rest: list[str], path: str = "") -> None:
        self._node(rest, path).mtime = time.time()

    def chmod(self, rest: list[str], mode: int, path: str = "") -> None:
        self._node(rest, path).mode = mode


def _exists(vol: VolumeStorage, rest: list[str]) -> bool:
    try:
        vol.stat(rest)
    except FsError:
        return False
    return True


def _stat(node: File | Dir | Link) -> Stat:
    if isinstance(node, Dir):
        return Stat(True, 4096, node.mode, node.mtime)
    if isinstance(node, Link):
        return Stat(False, len(node.target), node.mode, node.mtime, is_link=True, target=node.target)
    return Stat(False, len(node.data), node.mode, node.mtime)


def _size(node: File | Dir | Link) -> int:
    if isinstance(node, File):
        return len(node.data) + ENTRY_BYTES
    if isinstance(node, Link):
        return len(node.target) + ENTRY_BYTES
    return ENTRY_BYTES + sum(_size(n) for n in node.entries.values())


class FileSystem:
    """A container's view: the root volume with volumes mounted over directories.

    All methods take a path and the working directory; they raise :class:`FsError`.
    The path is normalised here (:func:`split_path`), every symbolic link on it resolved
    here (:meth:`_resolve`, asking each volume what its links hold), the mount it falls in
    found, and the rest of it handed to that mount's :class:`VolumeStorage`.
    """

    def __init__(self, root: VolumeStorage) -> None:
        self.root = root
        self.mounts: dict[tuple[str, ...], tuple[VolumeStorage, list[str], bool]] = {}
        #: ``(uid, gid)`` that files and directories made from now on belong to (the container's user;
        #: None: root, as for what the image and the kubelet put there). A setgid directory passes its
        #: group (and, to directories, its setgid bit) on, as Linux does.
        self.owner: tuple[int, int] | None = None

    # ------------------------------------------------------------------ mounts
    def mount(self, path: str, volume: VolumeStorage, sub_path: str = "", read_only: bool = False) -> None:
        """Graft ``volume`` (or its directory ``sub_path``, created if missing; or its file) on at ``path``."""
        parts = split_path(path)
        self.makedirs(join(parts))
        prefix = split_path(sub_path)
        if prefix and not _exists(volume, prefix):
            try:
                FileSystem(volume).makedirs(join(prefix))
            except FsError:  # a read-only projection without that key: the mount shows nothing there
                pass
        self.mounts[tuple(parts)] = (volume, prefix, read_only)

    def _locate(self, parts: list[str]) -> tuple[VolumeStorage, list[str], bool]:
        best: tuple[str, ...] = ()
        for point in self.mounts:
            if len(point) > len(best) and tuple(parts[:len(point)]) == point:
                best = point
        if best:
            vol, prefix, ro = self.mounts[best]
            return vol, prefix + parts[len(best):], ro or vol.read_only
        return self.root, parts, self.root.read_only

    def _link_target(self, parts: list[str]) -> str | None:
        """What the symbolic link at ``parts`` holds, or None (not a link, not there; a mount point never is)."""
        if tuple(parts) in self.mounts:
            return None
        vol, rest, _ = self._locate(parts)
        if not vol.has_links:
            return None
        try:
            return vol.readlink(rest)
        except FsError:
            return None

    def _resolve(self, path: str, cwd: str, follow_last: bool = True) -> list[str]:
        """The components of ``path`` with each symbolic link on the way replaced by its target (the last
        component's only with ``follow_last``); targets resolve in this filesystem, never outside it."""
        parts = split_path(path, cwd)
        if not self.root.has_links and not any(v.has_links for v, _, _ in self.mounts.values()):
            return parts
        done: list[str] = []
        hops, i = 0, 0
        while i < len(parts):
            target = self._link_target(done + [parts[i]]) if i < len(parts) - 1 or follow_last else None
            if target is not None:
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise FsError(ELOOP, path)
                parts = split_path(target, join(done)) + parts[i + 1:]
                done, i = [], 0
                continue
            done.append(parts[i])
            i += 1
        return done

    def realpath(self, path: str, cwd: str = "/") -> str:
        """``path`` made absolute with every symbolic link on it resolved (``readlink -f``)."""
        return join(self._resolve(path, cwd))

    def _at(self, path: str, cwd: str, follow: bool = True) -> tuple[VolumeStorage, list[str]]:
        """The volume ``path`` falls in (links resolved; the last one only with ``follow``) and its path there."""
        vol, rest, _ = self._locate(self._resolve(path, cwd, follow))
        return vol, rest

    def _writable(self, path: str, cwd: str, existing: bool = False,
                  follow: bool = False) -> tuple[VolumeStorage, list[str], list[str]]:
        """The volume, its path and the resolved components for a change to ``path``: not ``/``, not a mount
        point, not read-only. The last component is itself (a link is made, removed) unless ``follow``
        (a link is written through).

        As the kernel looks a path up before it asks whether the filesystem is writable, a
        read-only mount answers ``ENOENT`` for a missing directory (or, with ``existing``, file).
        """
        parts = self._resolve(path, cwd, follow)
        if not parts or tuple(parts) in self.mounts:
            raise FsError(EBUSY if parts else EISDIR, path)
        vol, rest, ro = self._locate(parts)
        if ro:
            looked_up = vol.stat(rest if existing else rest[:-1], path)
            if not existing and not looked_up.is_dir:
                raise FsError(ENOTDIR, path)
            raise FsError(EROFS, path)
        return vol, rest, parts

    # ------------------------------------------------------------------ owners
    @staticmethod
    def _owned(vol: VolumeStorage, rest: list[str], st: Stat) -> Stat:
        owner = vol.owners.get(tuple(rest))
        if owner is None:
            return st
        uid, gid, setgid = owner
        st.uid, st.gid = uid, gid
        if setgid and st.is_dir:
            st.mode |= 0o2000
        return st

    def _own(self, vol: VolumeStorage, rest: list[str], directory: bool) -> None:
        """Record who owns what was just made at ``rest``: this filesystem's owner, the group of a setgid parent."""
        parent = vol.owners.get(tuple(rest[:-1]))
        inherit = parent is not None and parent[2]
        if self.owner is None and not inherit:
            vol.owners.pop(tuple(rest), None)
            return
        uid, gid = self.owner or (0, 0)
        vol.owners[tuple(rest)] = (uid, parent[1] if inherit else gid, bool(inherit and directory))

    def set_group(self, path: str, gid: int) -> None:
        """``fsGroup``: the directory at ``path`` belongs to group ``gid``, setgid, so what is made in it does too."""
        vol, rest = self._at(path, "/")
        uid = vol.owners.get(tuple(rest), (0, 0, False))[0]
        vol.owners[tuple(rest)] = (uid, gid, True)

    # ------------------------------------------------------------------ queries
    def stat(self, path: str, cwd: str = "/") -> Stat:
        vol, rest = self._at(path, cwd)
        return self._owned(vol, rest, vol.stat(rest, path))

    def lstat(self, path: str, cwd: str = "/") -> Stat:
        """As :meth:`stat`, but a symbolic link is described itself (``is_link``, ``target``)."""
        vol, rest = self._at(path, cwd, follow=False)
        return self._owned(vol, rest, vol.stat(rest, path))

    def is_link(self, path: str, cwd: str = "/") -> bool:
        try:
            return self.lstat(path, cwd).is_link
        except FsError:
            return False

    def exists(self, path: str, cwd: str = "/") -> bool:
        try:
            self.stat(path, cwd)
            return True
        except FsError:
            return False

    def is_dir(self, path: str, cwd: str = "/") -> bool:
        try:
            return self.stat(path, cwd).is_dir
        except FsError:
            return False

    def read(self, path: str, cwd: str = "/") -> bytes:
        vol, rest = self._at(path, cwd)
        return vol.read(rest, path)

    def listdir(self, path: str, cwd: str = "/") -> list[str]:
        vol, rest = self._at(path, cwd)
        return vol.listdir(rest, path)

    # ------------------------------------------------------------------ changes
    def write(self, path: str, data: bytes, cwd: str = "/", append: bool = False, mode: int = 0o644) -> None:
        """Create or replace (``append``: extend) a file; writing through a link writes its target."""
        vol, rest, _ = self._writable(path, cwd, follow=True)
        created = (self.owner is not None or bool(vol.owners)) and not _exists(vol, rest)
        vol.write(rest, data, path, append=append, mode=mode)
        if created:
            self._own(vol, rest, directory=False)

    def mkdir(self, path: str, cwd: str = "/", mode: int = 0o755) -> None:
        vol, rest, _ = self._writable(path, cwd)
        vol.mkdir(rest, path, mode=mode)
        if self.owner is not None or vol.owners:
            self._own(vol, rest, directory=True)

    def symlink(self, target: str, path: str, cwd: str = "/") -> None:
        """``ln -s target path``: a link holding ``target`` as written (resolved when looked up)."""
        vol, rest, _ = self._writable(path, cwd)
        vol.symlink(rest, target, path)

    def link(self, existing: str, path: str, cwd: str = "/") -> None:
        """``ln existing path``: a hard link, one file under two names (on the same volume)."""
        src_vol, src_rest = self._at(existing, cwd, follow=False)
        if src_vol.stat(src_rest, existing).is_dir:
            raise FsError(EPERM, existing)
        vol, _ = self._at(path, cwd, follow=False)
        if vol is not src_vol:
            raise FsError(EXDEV, path)
        vol, rest, _ = self._writable(path, cwd)
        vol.link(src_rest, rest, path)

    def makedirs(self, path: str, cwd: str = "/") -> None:
        parts = split_path(path, cwd)
        for k in range(1, len(parts) + 1):
            sub = join(parts[:k])
            if self.is_dir(sub):
                continue
            self.mkdir(sub)

    def remove(self, path: str, cwd: str = "/", recursive: bool = False, directory_ok: bool = False) -> None:
        """Remove a file, a link (never what it points at) or a directory (``recursive``, ``directory_ok``)."""
        vol, rest, parts = self._writable(path, cwd, existing=True)
        if vol.stat(rest, path).is_dir:
            prefix = tuple(parts)
            if any(p[:len(prefix)] == prefix for p in self.mounts):
                raise FsError(EBUSY, path)
        vol.remove(rest, path, recursive=recursive, directory_ok=directory_ok)

    def touch(self, path: str, cwd: str = "/") -> None:
        vol, rest = self._at(path, cwd)
        try:
            vol.touch(rest, path)
        except FsError as e:
            if e.strerror != ENOENT:
                raise
            self.write(path, b"", cwd)

    def chmod(self, path: str, mode: int, cwd: str = "/") -> None:
        """Record ``mode`` (permissions are never enforced in the sandbox)."""
        vol, rest = self._at(path, cwd)
        vol.chmod(rest, mode, path)

    def walk(self, path: str, cwd: str = "/") -> list[tuple[str, Stat]]:
        """``path`` and everything below it (mounts followed, symbolic links below it not), parents first."""
        base = join(split_path(path, cwd))
        out = [(base, self.stat(base))]
        if out[0][1].is_dir:
            for name in self.listdir(base):
                sub = f"{base.rstrip('/')}/{name}"
                st = self.lstat(sub)
                out += [(sub, st)] if st.is_link else self.walk(sub)
        return out


# ---------------------------------------------------------------------- images

BUSYBOX_APPLETS = ("ash", "busybox", "cat", "cp", "date", "dd", "echo", "env", "false", "find", "grep", "head",
                   "hostname", "id", "ln", "ls", "mkdir", "mv", "nslookup", "printenv", "printf", "ps", "pwd", "rm",
                   "rmdir", "sh", "sleep", "tail", "tar", "touch", "true", "wc", "wget")
DEBIAN_BIN = ("bash", "cat", "cp", "date", "dd", "echo", "env", "false", "find", "grep", "head", "hostname", "id", "ln",
              "ls", "mkdir", "mv", "printenv", "printf", "pwd", "rm", "rmdir", "sh", "sleep", "tail", "tar", "touch",
              "true", "wc")

_BUSYBOX_PASSWD = ("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                   "bin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\n"
                   "mail:x:8:8:mail:/var/spool/mail:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n"
                   "operator:x:37:37:Operator:/var:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
_DEBIAN_PASSWD = ("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                  "bin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
                  "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                  "nginx:x:101:101:nginx user:/nonexistent:/bin/false\n")

#: nginx's own welcome page (nginx/nginx: docs/html/index.html), served from /usr/share/nginx/html.
NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
NGINX_50X = """<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""
NGINX_CONF = """
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
"""
NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
#: Where nginx serves files from (the ``root`` of default.conf's ``location /``).
NGINX_HTML = "/usr/share/nginx/html"
#: httpd's web root (``DocumentRoot`` of the httpd images, also upstream's e2e ``httpd`` images) and its page.
HTTPD_HTDOCS = "/usr/local/apache2/htdocs"
HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"
_APPLET = b"\x7fELF (stsnb sandbox: a simulated program; it runs only inside the sandbox's containers)\n"


def image_root(userland: str, nginx: bool, quota: int = ROOT_LAYER_BYTES, httpd: bool = False,
               files: tuple[str, ...] = (), users: tuple[tuple[str, int], ...] = ()) -> Volume:
    """A root filesystem for an image: busybox's or Debian's userland, nginx's files when it is nginx,
    httpd's (``/usr/local/apache2``, its ``htdocs/index.html``) when it is httpd, and the image's own
    programs (``files``) as executables."""
    vol = Volume(quota=quota, label="rootfs")
    fs = FileSystem(vol)
    for d in ("/bin", "/dev", "/etc", "/home", "/proc", "/root", "/sys", "/tmp", "/usr/bin", "/usr/sbin",
              "/usr/local/bin", "/var/log", "/var/run", "/var/tmp"):
        fs.makedirs(d)
    fs.write("/dev/null", b"", mode=0o666)
    if userland == "busybox":
        for name in BUSYBOX_APPLETS:
            fs.write(f"/bin/{name}", _APPLET, mode=0o755)
        fs.write("/etc/passwd", _BUSYBOX_PASSWD.encode())
        fs.write("/etc/group", b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nwww-data:x:33:\nnobody:x:65534:\n")
        fs.makedirs("/var/spool/mail")
        fs.makedirs("/var/www")
    else:
        for name in DEBIAN_BIN:
            fs.write(f"/bin/{name}", _APPLET, mode=0o755)
        fs.write("/usr/bin/curl", _APPLET, mode=0o755)
        fs.write("/etc/passwd", _DEBIAN_PASSWD.encode())
        fs.write("/etc/group", b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nwww-data:x:33:\nnogroup:x:65534:\n"
                               b"nginx:x:101:\n")
        fs.write("/etc/os-release", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                                    b'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n')
    if nginx:
        fs.write("/usr/sbin/nginx", _APPLET, mode=0o755)
        fs.makedirs("/etc/nginx/conf.d")
        fs.write("/etc/nginx/nginx.conf", NGINX_CONF.encode())
        fs.write("/etc/nginx/conf.d/default.conf", NGINX_DEFAULT_CONF.encode())
        fs.makedirs(NGINX_HTML)
        fs.write(f"{NGINX_HTML}/index.html", NGINX_INDEX.encode())
        fs.write(f"{NGINX_HTML}/50x.html", NGINX_50X.encode())
        fs.makedirs("/var/log/nginx")
        fs.makedirs("/var/cache/nginx")
        fs.makedirs("/docker-entrypoint.d")
        fs.write("/docker-entrypoint.sh", _APPLET, mode=0o755)
    if httpd:
        for d in ("/usr/local/apache2/bin", "/usr/local/apache2/conf", "/usr/local/apache2/logs", HTTPD_HTDOCS):
            fs.makedirs(d)
        fs.write("/usr/local/apache2/bin/httpd", _APPLET, mode=0o755)
        fs.write("/usr/local/bin/httpd-foreground", _APPLET, mode=0o755)
        fs.write(f"{HTTPD_HTDOCS}/index.html", HTTPD_INDEX.encode())
    for path in files:
        fs.makedirs(path.rsplit("/", 1)[0] or "/")
        fs.write(path, _APPLET, mode=0o755)
    for name, uid in users:  # as `useradd NAME` leaves them: a group of the same name and id
        fs.write("/etc/passwd", f"{name}:x:{uid}:{uid}::/home/{name}:/bin/sh\n".encode(), append=True)
        fs.write("/etc/group", f"{name}:x:{uid}:\n".encode(), append=True)
    vol.used = 0  # the image's own files are in the read-only lower layer: only what is written counts
    return vol


# ---------------------------------------------------------------------- volumes kept by the kubelet


class VolumeData:
    """The data of every volume the sandbox's pods mount, kept as long as its owner exists.

    Keys: ``("pv", pv uid)`` for PersistentVolumes, ``("emptydir", pod uid, name)``,
    ``("hostpath", node, path)``. :meth:`release` drops what belongs to a deleted PV or pod.
    A volume is in memory unless :meth:`get` is told how to ``make`` it (a PV's directory).
    """

    def __init__(self) -> None:
        self._volumes: dict[tuple, VolumeStorage] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, quota: int = MAX_VOLUME_BYTES, label: str = "",
            make: Callable[[int], VolumeStorage] | None = None) -> VolumeStorage:
        with self._lock:
            vol = self._volumes.get(key)
            if vol is None:
                quota = min(max(quota, ENTRY_BYTES), MAX_VOLUME_BYTES)
                vol = self._volumes[key] = make(quota) if make else Volume(quota=quota, label=label)
            return vol

    def has(self, key: tuple) -> bool:
        with self._lock:
            return key in self._volumes

    def release(self, kind: str, uid: str) -> list[VolumeStorage]:
        """Forget the volumes of a deleted PersistentVolume (``"pv"``) or pod (``"emptydir"``); they are returned."""
        with self._lock:
            return [self._volumes.pop(key) for key in [k for k in self._volumes if k[0] == kind and k[1] == uid]]


def projected_volume(items: dict[str, bytes], label: str, *, stamp: str = "", modes: dict[str, int] | None = None,
                     root_mode: int = 0o755) -> Volume:
    """A read-only volume of files (a configMap's or secret's keys, the downward API's fields).

    With a ``stamp`` it is laid out as the kubelet's ``AtomicWriter`` writes it (:func:`write_projection`):
    the files in a ``..<stamp>`` directory, ``..data`` pointing at it, and a link per top-level name, so a
    later :func:`write_projection` replaces every file at once. Without one (a ``subPath`` mount, which
    upstream never updates) the files lie flat; only top-level names are kept then."""
    vol = Volume(quota=MAX_VOLUME_BYTES, label=label)
    vol.chmod([], root_mode)
    if stamp:
        write_projection(vol, items, stamp, modes)
    else:
        fs = FileSystem(vol)
        for key, value in items.items():
            if key and "/" not in key and key not in (".", ".."):
                fs.write(f"/{key}", value, mode=(modes or {}).get(key, 0o644))
    vol.read_only = True
    return vol


def projection_path(path: str) -> list[str] | None:
    """The components of an item's ``path``, or None where upstream's ``validatePath`` refuses it
    (absolute, a ``..`` component, a leading ``..``, empty, or too long)."""
    parts = path.split("/")
    if not path or path.startswith("/") or path.startswith("..") or len(path) > 4096 or \
            any(p in ("", ".", "..") or len(p) > 255 for p in parts):
        return None
    return parts


def write_projection(vol: Volume, items: dict[str, bytes], stamp: str, modes: dict[str, int] | None = None) -> None:
    """Write a projected volume's files as upstream's ``AtomicWriter.Write`` does (pkg/volume/util/atomic_writer.go).

    The payload goes into a new directory ``..<stamp>`` (0755, subdirectories made as needed, each file with its
    mode, 0644 by default); then ``..data`` is pointed at it in one step, each top-level name of the payload is a
    link to ``..data/<name>`` (made once, kept while the name is in the payload, removed when it is not), and the
    previous directory is removed. A reader sees the old files or the new ones, never a mix."""
    modes = modes or {}
    with vol.lock:
        tree = Dir()
        size = ENTRY_BYTES
        for key, data in items.items():
            parts = projection_path(key)
            if parts is None:
                continue
            node = tree
            for name in parts[:-1]:
                nxt = node.entries.get(name)
                if not isinstance(nxt, Dir):
                    nxt = node.entries[name] = Dir()
                    size += ENTRY_BYTES
                node = nxt
            if parts[-1] not in node.entries:
                node.entries[parts[-1]] = File(bytes(data), modes.get(key, 0o644))
                size += ENTRY_BYTES + len(data)
        root = vol.root
        old = root.entries.get("..data")
        old_dir = old.target if isinstance(old, Link) else None
        name = f"..{stamp}"
        vol.charge(size, name)
        root.entries[name] = tree
        root.entries["..data"] = Link(name)
        for top in tree.entries:
            if not isinstance(root.entries.get(top), Link):
                root.entries[top] = Link(f"..data/{top}")
        for top in [n for n in root.entries if not n.startswith("..") and n not in tree.entries]:
            del root.entries[top]
        if old_dir and old_dir != name and isinstance(root.entries.get(old_dir), Dir):
            vol.charge(-_size(root.entries.pop(old_dir)), old_dir)
        root.mtime = time.time()
        vol.has_links = True


def config_items(obj: dict | None, binary: bool) -> dict[str, bytes]:
    """A ConfigMap's (``data``, ``binaryData``) or a Secret's (``data`` base64, ``stringData``) files."""
    if not obj:
        return {}
    out: dict[str, bytes] = {}
    if binary:  # a Secret: data is base64
        for k, v in (obj.get("data") or {}).items():
            try:
                out[k] = base64.b64decode(v or "")
            except ValueError:
                out[k] = b""
        for k, v in (obj.get("stringData") or {}).items():
            out[k] = str(v).encode()
    else:
        for k, v in (obj.get("data") or {}).items():
            out[k] = str(v).encode()
        for k, v in (obj.get("binaryData") or {}).items():
            try:
                out[k] = base64.b64decode(v or "")
            except ValueError:
                out[k] = b""
    return out
