"""Container filesystems: in-memory trees built from an image's simulated contents, plus volume mounts.

Every container the sandbox kubelet starts gets a :class:`FileSystem`: a root
:class:`Volume` filled from its image (:func:`image_root`), with each of the
container's ``volumeMounts`` grafted on at its ``mountPath``. The volumes come
from :class:`VolumeData`, which the kubelet keeps for the whole sandbox:

* ``emptyDir``: one tree per pod and volume name, gone with the pod (upstream:
  "When a Pod is removed from a node for any reason, the data in the emptyDir
  is deleted permanently");
* ``persistentVolumeClaim``: the bound PersistentVolume's storage, one tree per
  PV uid, kept for as long as the PV object exists. A successor pod that mounts
  the same claim sees what its predecessor wrote; when the PV is deleted (its
  reclaim policy is ``Delete``, or someone deletes it) the data goes with it.
  ``Retain`` keeps the PV ``Released`` and so keeps the data;
* ``hostPath``: a tree per node and path, held in memory (never the host's files);
* ``configMap`` / ``secret``: read-only files from the object's keys at start.

Nothing here touches the host: the trees are Python objects, paths are resolved
lexically (``..`` stops at ``/`` as in the kernel), and a symbolic link
(:class:`Link`, ``ln -s``) holds a path that is resolved again inside the same
container filesystem (at most 40 links on the way: ``Too many levels of symbolic
links``), so no path can lead outside. Each volume has a byte quota (the claim's size,
capped by :data:`MAX_VOLUME_BYTES`); writing past it fails with ``No space left
on device``, as a full disk does. Differences from a real cluster: file
ownership and permissions are recorded but never enforced, and a PV's data
lives in this process's memory, so it ends with the sandbox.
"""

from __future__ import annotations

import base64
import threading
import time
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


class Volume:
    """A directory tree with a byte quota: a container's root layer or a mounted volume."""

    def __init__(self, quota: int = MAX_VOLUME_BYTES, read_only: bool = False, label: str = "") -> None:
        self.root = Dir()
        self.quota = quota
        self.used = 0
        self.read_only = read_only
        self.label = label
        self.lock = threading.RLock()
        self.has_links = False  # paths in it resolve the quick way until a symbolic link is made

    def charge(self, delta: int, path: str) -> None:
        if delta > 0 and self.used + delta > self.quota:
            raise FsError(ENOSPC, path)
        self.used = max(0, self.used + delta)


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


class FileSystem:
    """A container's view: the root volume with volumes mounted over directories.

    All methods take a path and the working directory; they raise :class:`FsError`.
    """

    def __init__(self, root: Volume) -> None:
        self.root = root
        self.mounts: dict[tuple[str, ...], tuple[Volume, list[str], bool]] = {}

    # ------------------------------------------------------------------ mounts
    def mount(self, path: str, volume: Volume, sub_path: str = "", read_only: bool = False) -> None:
        """Graft ``volume`` (or its directory ``sub_path``, created if missing) on at ``path``."""
        parts = split_path(path)
        self.makedirs(join(parts))
        prefix = split_path(sub_path)
        if prefix:
            FileSystem(volume).makedirs(join(prefix))
        self.mounts[tuple(parts)] = (volume, prefix, read_only)

    def _locate(self, parts: list[str]) -> tuple[Volume, list[str], bool]:
        best: tuple[str, ...] = ()
        for point in self.mounts:
            if len(point) > len(best) and tuple(parts[:len(point)]) == point:
                best = point
        if best:
            vol, prefix, ro = self.mounts[best]
            return vol, prefix + parts[len(best):], ro or vol.read_only
        return self.root, parts, self.root.read_only

    def _peek(self, parts: list[str]) -> File | Dir | Link | None:
        """The node at ``parts`` (no link followed), or None."""
        vol, rest, _ = self._locate(parts)
        node: File | Dir | Link = vol.root
        for name in rest:
            if not isinstance(node, Dir):
                return None
            nxt = node.entries.get(name)
            if nxt is None:
                return None
            node = nxt
        return node

    def _resolve(self, path: str, cwd: str, follow_last: bool = True) -> list[str]:
        """The components of ``path`` with each symbolic link on the way replaced by its target (the last
        component's only with ``follow_last``); targets resolve in this filesystem, never outside it."""
        parts = split_path(path, cwd)
        if not self.root.has_links and not any(v.has_links for v, _, _ in self.mounts.values()):
            return parts
        done: list[str] = []
        hops, i = 0, 0
        while i < len(parts):
            node = self._peek(done + [parts[i]])
            if isinstance(node, Link) and (i < len(parts) - 1 or follow_last):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise FsError(ELOOP, path)
                parts = split_path(node.target, join(done)) + parts[i + 1:]
                done, i = [], 0
                continue
            done.append(parts[i])
            i += 1
        return done

    def _node(self, path: str, cwd: str, follow: bool = True) -> tuple[Volume, File | Dir | Link]:
        parts = self._resolve(path, cwd, follow)
        vol, rest, _ = self._locate(parts)
        node: File | Dir | Link = vol.root
        for name in rest:
            if not isinstance(node, Dir):
                raise FsError(ENOTDIR, path)
            nxt = node.entries.get(name)
            if nxt is None:
                raise FsError(ENOENT, path)
            node = nxt
        return vol, node

    def _parent(self, path: str, cwd: str) -> tuple[Volume, Dir, str, bool]:
        parts = self._resolve(path, cwd, follow_last=False)
        if not parts or tuple(parts) in self.mounts:
            raise FsError(EBUSY if parts else EISDIR, path)
        vol, rest, ro = self._locate(parts)
        node: File | Dir | Link = vol.root
        for name in rest[:-1]:
            if not isinstance(node, Dir):
                raise FsError(ENOTDIR, path)
            nxt = node.entries.get(name)
            if nxt is None:
                raise FsError(ENOENT, path)
            node = nxt
        if not isinstance(node, Dir):
            raise FsError(ENOTDIR, path)
        return vol, node, rest[-1], ro

    # ------------------------------------------------------------------ queries
    def stat(self, path: str, cwd: str = "/") -> Stat:
        _, node = self._node(path, cwd)
        return _stat(node)

    def lstat(self, path: str, cwd: str = "/") -> Stat:
        """As :meth:`stat`, but a symbolic link is described itself (``is_link``, ``target``)."""
        _, node = self._node(path, cwd, follow=False)
        return _stat(node)

    def is_link(self, path: str, cwd: str = "/") -> bool:
        try:
            return isinstance(self._node(path, cwd, follow=False)[1], Link)
        except FsError:
            return False

    def exists(self, path: str, cwd: str = "/") -> bool:
        try:
            self._node(path, cwd)
            return True
        except FsError:
            return False

    def is_dir(self, path: str, cwd: str = "/") -> bool:
        try:
            return isinstance(self._node(path, cwd)[1], Dir)
        except FsError:
            return False

    def read(self, path: str, cwd: str = "/") -> bytes:
        _, node = self._node(path, cwd)
        if isinstance(node, Dir):
            raise FsError(EISDIR, path)
        return node.data

    def listdir(self, path: str, cwd: str = "/") -> list[str]:
        _, node = self._node(path, cwd)
        if not isinstance(node, Dir):
            raise FsError(ENOTDIR, path)
        return sorted(node.entries)

    # ------------------------------------------------------------------ changes
    def write(self, path: str, data: bytes, cwd: str = "/", append: bool = False, mode: int = 0o644) -> None:
        vol, parent, name, ro = self._parent(path, cwd)
        if isinstance(parent.entries.get(name), Link):  # writing through a link writes its target
            self.write(join(self._resolve(path, cwd)), data, "/", append, mode)
            return
        with vol.lock:
            if ro:
                raise FsError(EROFS, path)
            old = parent.entries.get(name)
            if isinstance(old, Dir):
                raise FsError(EISDIR, path)
            new = (old.data if (old is not None and append) else b"") + bytes(data)
            vol.charge(len(new) - (len(old.data) if old else -ENTRY_BYTES), path)
            if old is None:
                parent.entries[name] = File(new, mode)
                parent.mtime = time.time()
            else:
                old.data, old.mtime = new, time.time()

    def mkdir(self, path: str, cwd: str = "/", mode: int = 0o755) -> None:
        vol, parent, name, ro = self._parent(path, cwd)
        with vol.lock:
            if ro:
                raise FsError(EROFS, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            vol.charge(ENTRY_BYTES, path)
            parent.entries[name] = Dir(mode=mode)
            parent.mtime = time.time()

    def symlink(self, target: str, path: str, cwd: str = "/") -> None:
        """``ln -s target path``: a link holding ``target`` as written (resolved when looked up)."""
        vol, parent, name, ro = self._parent(path, cwd)
        with vol.lock:
            if ro:
                raise FsError(EROFS, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            vol.charge(ENTRY_BYTES + len(target), path)
            parent.entries[name] = Link(target)
            parent.mtime = time.time()
            vol.has_links = True

    def link(self, existing: str, path: str, cwd: str = "/") -> None:
        """``ln existing path``: a hard link, one file under two names (on the same volume)."""
        src_vol, node = self._node(existing, cwd, follow=False)
        if isinstance(node, Dir):
            raise FsError("Operation not permitted", existing)
        vol, parent, name, ro = self._parent(path, cwd)
        if vol is not src_vol:
            raise FsError(EXDEV, path)
        with vol.lock:
            if ro:
                raise FsError(EROFS, path)
            if name in parent.entries:
                raise FsError(EEXIST, path)
            vol.charge(ENTRY_BYTES, path)
            parent.entries[name] = node
            parent.mtime = time.time()
            vol.has_links = vol.has_links or isinstance(node, Link)

    def makedirs(self, path: str, cwd: str = "/") -> None:
        parts = split_path(path, cwd)
        for k in range(1, len(parts) + 1):
            sub = join(parts[:k])
            if self.is_dir(sub):
                continue
            self.mkdir(sub)

    def remove(self, path: str, cwd: str = "/", recursive: bool = False, directory_ok: bool = False) -> None:
        vol, parent, name, ro = self._parent(path, cwd)
        with vol.lock:
            node = parent.entries.get(name)
            if node is None:
                raise FsError(ENOENT, path)
            if ro:
                raise FsError(EROFS, path)
            if isinstance(node, Dir):
                prefix = tuple(split_path(path, cwd))
                if any(p[:len(prefix)] == prefix for p in self.mounts):
                    raise FsError(EBUSY, path)
                if not recursive and not directory_ok:
                    raise FsError(EISDIR, path)
                if node.entries and not recursive:
                    raise FsError(ENOTEMPTY, path)
            vol.charge(-_size(node), path)
            del parent.entries[name]
            parent.mtime = time.time()

    def touch(self, path: str, cwd: str = "/") -> None:
        try:
            _, node = self._node(path, cwd)
            node.mtime = time.time()
        except FsError as e:
            if e.strerror != ENOENT:
                raise
            self.write(path, b"", cwd)

    def walk(self, path: str, cwd: str = "/") -> list[tuple[str, Stat]]:
        """``path`` and everything below it (mounts followed, symbolic links below it not), parents first."""
        base = join(split_path(path, cwd))
        out = [(base, self.stat(base))]
        if out[0][1].is_dir:
            for name in self.listdir(base):
                sub = f"{base.rstrip('/')}/{name}"
                out += [(sub, self.lstat(sub))] if self.is_link(sub) else self.walk(sub)
        return out


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


# ---------------------------------------------------------------------- images

BUSYBOX_APPLETS = ("ash", "busybox", "cat", "cp", "date", "dd", "echo", "env", "false", "find", "grep", "head",
                   "hostname", "ln", "ls", "mkdir", "mv", "nslookup", "printenv", "printf", "pwd", "rm", "rmdir", "sh",
                   "sleep", "tail", "tar", "touch", "true", "wc", "wget")
DEBIAN_BIN = ("bash", "cat", "cp", "date", "dd", "echo", "env", "false", "find", "grep", "head", "hostname", "ln", "ls",
              "mkdir", "mv", "printenv", "printf", "pwd", "rm", "rmdir", "sh", "sleep", "tail", "tar", "touch", "true",
              "wc")

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


def image_root(userland: str, nginx: bool, quota: int = ROOT_LAYER_BYTES, httpd: bool = False) -> Volume:
    """A root filesystem for an image: busybox's or Debian's userland, nginx's files when it is nginx,
    httpd's (``/usr/local/apache2``, its ``htdocs/index.html``) when it is httpd."""
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
    vol.used = 0  # the image's own files are in the read-only lower layer: only what is written counts
    return vol


# ---------------------------------------------------------------------- volumes kept by the kubelet


class VolumeData:
    """The data of every volume the sandbox's pods mount, kept as long as its owner exists.

    Keys: ``("pv", pv uid)`` for PersistentVolumes, ``("emptydir", pod uid, name)``,
    ``("hostpath", node, path)``. :meth:`release` drops what belongs to a deleted PV or pod.
    """

    def __init__(self) -> None:
        self._volumes: dict[tuple, Volume] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, quota: int = MAX_VOLUME_BYTES, label: str = "") -> Volume:
        with self._lock:
            vol = self._volumes.get(key)
            if vol is None:
                vol = self._volumes[key] = Volume(quota=min(max(quota, ENTRY_BYTES), MAX_VOLUME_BYTES), label=label)
            return vol

    def has(self, key: tuple) -> bool:
        with self._lock:
            return key in self._volumes

    def release(self, kind: str, uid: str) -> None:
        """Forget the volumes of a deleted PersistentVolume (``"pv"``) or pod (``"emptydir"``)."""
        with self._lock:
            for key in [k for k in self._volumes if k[0] == kind and k[1] == uid]:
                del self._volumes[key]


def projected_volume(items: dict[str, bytes], label: str) -> Volume:
    """A read-only volume of files (a configMap's or secret's keys)."""
    vol = Volume(quota=MAX_VOLUME_BYTES, label=label)
    fs = FileSystem(vol)
    for key, value in items.items():
        if key and "/" not in key and key not in (".", ".."):
            fs.write(f"/{key}", value)
    vol.read_only = True
    return vol


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
