"""PersistentVolumes kept on disk: ``Sandbox(data_dir=PATH)`` keeps each PV's files under ``PATH/<pv uid>/``.

:class:`DirectoryVolume` is the same :class:`~.containers.VolumeStorage` the
in-memory :class:`~.containers.Volume` is, so the container programs use it
unchanged. :class:`PvDirectories` makes one directory per PV and removes it
when the PV is deleted with reclaim policy ``Delete``; a ``Retain`` PV's
directory stays on disk even after the PV object is gone, as the storage asset
of a retained volume does.

Confinement. A container path reaches a volume already normalised
(:func:`~.containers.split_path`: no ``.``, ``..`` or empty component, none
with a ``/``) and with its symbolic links resolved by the container's
:class:`~.containers.FileSystem`, and every host call here is relative to an
open directory descriptor, one component at a time, with ``O_NOFOLLOW``: the
host never follows a link in the directory. A container's ``ln -s`` makes a
real symbolic link (:func:`os.symlink` relative to the parent's descriptor),
so it is there for the PV's next pod; its target is only ever read back
(:func:`os.readlink`, :meth:`DirectoryVolume.readlink`) and resolved by the
container's filesystem, inside it: ``/etc/passwd`` is the container's own,
``../../..`` stops at the container's root. A link planted from the host is
just such a link. Should a path still meet a link where the container's
filesystem saw none (one planted meanwhile), the call fails rather than follow
it (``Not a directory`` on the way, ``Too many levels of symbolic links`` at
the end); removing a link removes the link. Files are opened without ``O_TRUNC`` and checked to be regular files
with a single link (a hard link planted from outside may be another file's
too: it is neither read nor written through, ``Permission denied``) before
anything is read or truncated; for the same reason a container cannot make
hard links here (``ln`` without ``-s``: ``Operation not permitted``, as on a
filesystem without them). Directories are removed with :func:`shutil.rmtree`
on descriptors, which does not follow links either. Permissions and ownership
are not mirrored: files are made ``0644``, directories ``0755``, ``chmod``
changes nothing on disk.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat as st_
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .containers import ENTRY_BYTES, EPERM, MAX_VOLUME_BYTES, FsError, Stat, VolumeStorage

__all__ = ["DirectoryVolume", "PvDirectories", "supported"]

_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_FILE = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
#: What a uid must look like to name a directory (the store's are UUIDs).
_UID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,127}")


def supported() -> bool:
    """True where every host call can be confined to a directory (Linux, macOS; not Windows)."""
    return (hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd
            and os.stat in os.supports_dir_fd and os.utime in os.supports_follow_symlinks
            and os.symlink in os.supports_dir_fd and os.readlink in os.supports_dir_fd
            and shutil.rmtree.avoids_symlink_attacks)


@contextmanager
def _host_errors(path: str) -> Iterator[None]:
    """A failed host call as the container sees it: the C library's text, the container's path, nothing of the host's."""
    try:
        yield
    except FsError:
        raise
    except OSError as e:
        raise FsError(os.strerror(e.errno) if e.errno else "Input/output error", path) from None
    except ValueError:  # a NUL in a name
        raise FsError(os.strerror(errno.EINVAL), path) from None


def _as_stat(st: os.stat_result, target: str = "") -> Stat:
    """A directory, a symbolic link (its ``target`` read by the caller), or else a file: a device or pipe
    planted from the host shows as an empty file (so ``rm`` takes it)."""
    if st_.S_ISDIR(st.st_mode):
        return Stat(True, 4096, st_.S_IMODE(st.st_mode), st.st_mtime)
    if st_.S_ISLNK(st.st_mode):
        return Stat(False, st.st_size, 0o777, st.st_mtime, is_link=True, target=target)
    return Stat(False, st.st_size if st_.S_ISREG(st.st_mode) else 0, st_.S_IMODE(st.st_mode), st.st_mtime)


def _refuse_special(st: os.stat_result, path: str) -> None:
    """Refuse to use what is neither a regular file nor a directory: a link is not followed, a device not opened."""
    if not (st_.S_ISREG(st.st_mode) or st_.S_ISDIR(st.st_mode)):
        raise FsError(os.strerror(errno.ELOOP if st_.S_ISLNK(st.st_mode) else errno.EACCES), path)


def _entry_size(st: os.stat_result) -> int:
    """What an entry other than a directory costs: a file its bytes, a symbolic link its target's length."""
    return ENTRY_BYTES + (st.st_size if st_.S_ISREG(st.st_mode) or st_.S_ISLNK(st.st_mode) else 0)


def _tree_size(parent: int, name: str) -> int:
    """What ``name`` (a file or directory under descriptor ``parent``) costs against a quota; links not followed."""
    st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    if not st_.S_ISDIR(st.st_mode):
        return _entry_size(st)
    fd = os.open(name, _DIR, dir_fd=parent)
    try:
        return ENTRY_BYTES + sum(_tree_size(fd, n) for n in os.listdir(fd))
    finally:
        os.close(fd)


class DirectoryVolume(VolumeStorage):
    """A volume whose tree is the host directory ``path``, every access confined to it."""

    #: Someone on the host may plant a symbolic link at any time: the container's filesystem asks about each
    #: component of a path in here (:meth:`readlink`) and resolves what it finds itself.
    has_links = True

    def __init__(self, path: str | os.PathLike, quota: int = MAX_VOLUME_BYTES, label: str = "") -> None:
        super().__init__(quota, label=label)
        self.path = Path(path)
        with self._dir([], str(self.path)) as fd:
            self.used = sum(_tree_size(fd, n) for n in os.listdir(fd))

    @contextmanager
    def _dir(self, parts: list[str], path: str) -> Iterator[int]:
        """A descriptor of the directory ``parts`` under the volume's root, reached without following a link."""
        with _host_errors(path):
            fd = os.open(self.path, _DIR)
            try:
                for name in parts:
                    nxt = os.open(name, _DIR, dir_fd=fd)
                    os.close(fd)
                    fd = nxt
            except BaseException:
                os.close(fd)
                raise
        try:
            with _host_errors(path):
                yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _lstat(fd: int, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------------ queries
    def stat(self, rest: list[str], path: str = "") -> Stat:
        if not rest:
            with self._dir([], path) as fd:
                return _as_stat(os.fstat(fd))
        with self._dir(rest[:-1], path) as fd:
            st = os.stat(rest[-1], dir_fd=fd, follow_symlinks=False)
            return _as_stat(st, os.readlink(rest[-1], dir_fd=fd) if st_.S_ISLNK(st.st_mode) else "")

    def readlink(self, rest: list[str], path: str = "") -> str:
        """The link's target as stored; the host's :func:`os.readlink` never follows anything."""
        if not rest:
            raise FsError(os.strerror(errno.EINVAL), path)
        with self._dir(rest[:-1], path) as fd:
            return os.readlink(rest[-1], dir_fd=fd)

    def read(self, rest: list[str], path: str = "") -> bytes:
        if not rest:
            raise FsError(os.strerror(errno.EISDIR), path)
        with self._dir(rest[:-1], path) as parent:
            fd = os.open(rest[-1], os.O_RDONLY | _FILE, dir_fd=parent)
            try:
                st = os.fstat(fd)
                if st_.S_ISDIR(st.st_mode):
                    raise FsError(os.strerror(errno.EISDIR), path)
                if not st_.S_ISREG(st.st_mode) or st.st_nlink > 1:
                    raise FsError(os.strerror(errno.EACCES), path)  # a hard link may be another file's too
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(fd)

    def listdir(self, rest: list[str], path: str = "") -> list[str]:
        with self._dir(rest, path) as fd:
            return sorted(os.listdir(fd))

    # ------------------------------------------------------------------ changes
    def write(self, rest: list[str], data: bytes, path: str = "", append: bool = False, mode: int = 0o644) -> None:
        if not rest:
            raise FsError(os.strerror(errno.EISDIR), path)
        data = bytes(data)
        with self.lock, self._dir(rest[:-1], path) as parent:
            name = rest[-1]
            old = self._lstat(parent, name)
            if old is not None:
                _refuse_special(old, path)
                if st_.S_ISDIR(old.st_mode):
                    raise FsError(os.strerror(errno.EISDIR), path)
            old_size = old.st_size if old is not None else None
            delta = len(data) + (old_size if append and old_size is not None else 0) - \
                (old_size if old_size is not None else -ENTRY_BYTES)
            self.charge(delta, path)
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | _FILE, 0o644, dir_fd=parent)
                try:
                    st = os.fstat(fd)
                    if not st_.S_ISREG(st.st_mode) or st.st_nlink > 1:
                        raise FsError(os.strerror(errno.EACCES), path)  # never write through a hard link
                    if append:
                        os.lseek(fd, 0, os.SEEK_END)
                    else:
                        os.ftruncate(fd, 0)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
            except BaseException:
                self.charge(-delta, path)
                raise

    def mkdir(self, rest: list[str], path: str = "", mode: int = 0o755) -> None:
        if not rest:
            raise FsError(os.strerror(errno.EEXIST), path)
        with self.lock, self._dir(rest[:-1], path) as parent:
            if self._lstat(parent, rest[-1]) is not None:
                raise FsError(os.strerror(errno.EEXIST), path)
            self.charge(ENTRY_BYTES, path)
            try:
                os.mkdir(rest[-1], 0o755, dir_fd=parent)
            except BaseException:
                self.charge(-ENTRY_BYTES, path)
                raise

    def symlink(self, rest: list[str], target: str, path: str = "") -> None:
        """A real symbolic link holding ``target``: it outlives the pod; only the container resolves it."""
        if not rest:
            raise FsError(os.strerror(errno.EEXIST), path)
        with self.lock, self._dir(rest[:-1], path) as parent:
            if self._lstat(parent, rest[-1]) is not None:
                raise FsError(os.strerror(errno.EEXIST), path)
            size = ENTRY_BYTES + len(os.fsencode(target))
            self.charge(size, path)
            try:
                os.symlink(target, rest[-1], dir_fd=parent)
            except BaseException:
                self.charge(-size, path)
                raise

    def link(self, existing: list[str], rest: list[str], path: str = "") -> None:
        """Refused: a file here has one name (so one planted from the host, with two, is never used)."""
        raise FsError(EPERM, path)

    def remove(self, rest: list[str], path: str = "", recursive: bool = False, directory_ok: bool = False) -> None:
        if not rest:
            raise FsError(os.strerror(errno.EBUSY), path)
        with self.lock, self._dir(rest[:-1], path) as parent:
            name = rest[-1]
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if st_.S_ISDIR(st.st_mode):
                if not recursive and not directory_ok:
                    raise FsError(os.strerror(errno.EISDIR), path)
                size = _tree_size(parent, name)
                if recursive:
                    shutil.rmtree(name, dir_fd=parent)
                else:
                    os.rmdir(name, dir_fd=parent)
            else:
                size = _entry_size(st)
                os.unlink(name, dir_fd=parent)  # a link itself, never what it points at
            self.charge(-size, path)

    def touch(self, rest: list[str], path: str = "") -> None:
        if not rest:
            with self._dir([], path) as fd:
                os.utime(fd)
            return
        with self._dir(rest[:-1], path) as parent:
            st = os.stat(rest[-1], dir_fd=parent, follow_symlinks=False)
            if not st_.S_ISLNK(st.st_mode):  # a link's own time is set (lutimes), what it points at is not
                _refuse_special(st, path)
            os.utime(rest[-1], dir_fd=parent, follow_symlinks=False)

    def chmod(self, rest: list[str], mode: int, path: str = "") -> None:
        self.stat(rest, path)  # it must be there; permissions are not mirrored on disk

    def discard(self) -> None:
        """Remove the directory and everything in it (without following any link)."""
        with self.lock:
            try:
                parent = os.open(self.path.parent, _DIR)
            except OSError:
                return
            try:
                shutil.rmtree(self.path.name, dir_fd=parent)
            except FileNotFoundError:
                pass
            finally:
                os.close(parent)
            self.used = 0


class PvDirectories:
    """The sandbox's data directory: one :class:`DirectoryVolume` per PersistentVolume uid, ``root/<uid>/``.

    A directory is made empty for a PV the first time a pod mounts it. One already there
    was left by an earlier sandbox (uids repeat with the same seed): it is moved aside to
    ``<uid>.earlier-N``, never reused and never deleted.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        if not supported():
            raise ValueError("a data directory needs a system whose file calls can refuse to follow links "
                             "(Linux, macOS); keep PersistentVolumes in memory here")
        self.root = Path(root)

    @staticmethod
    def usable(uid: str) -> bool:
        return bool(_UID.fullmatch(uid))

    def volume(self, uid: str, quota: int, label: str = "") -> DirectoryVolume:
        if not self.usable(uid):
            raise ValueError(f"{uid!r} cannot name a directory")
        root = os.open(self.root, _DIR)
        try:
            if self._exists(root, uid):
                n = 1
                while self._exists(root, f"{uid}.earlier-{n}"):
                    n += 1
                os.rename(uid, f"{uid}.earlier-{n}", src_dir_fd=root, dst_dir_fd=root)
            os.mkdir(uid, 0o755, dir_fd=root)
        finally:
            os.close(root)
        return DirectoryVolume(self.root / uid, quota=quota, label=label)

    @staticmethod
    def _exists(fd: int, name: str) -> bool:
        try:
            os.stat(name, dir_fd=fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False
