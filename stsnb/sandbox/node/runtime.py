"""The container runtime beside the kubelet: filesystems, live processes, exec, attach, port-forward.

What containerd does for a real kubelet, the sandbox way:

* each container start gets a fresh root filesystem from its image with the
  pod's volumes mounted (:mod:`.containers`); the volume data outlives the
  container (emptyDir: the pod; a claim: its PersistentVolume, in memory or,
  with ``Sandbox(data_dir=...)``, in a directory of its own, :mod:`.disk`);
* a container whose shell reads its stdin (``stdin: true``) runs as a live
  :class:`~.programs.Process`, so ``kubectl attach`` and ``kubectl run -it``
  talk to it;
* ``exec`` starts a process in a running container; ``attach`` joins the main
  process's streams; ``port_forward`` connects to a port a container serves;
* programs run on threads of their own, bounded by :class:`~.programs.Limits`,
  so a runaway program never holds up the controllers.

Every entry point raises :class:`~stsnb.sandbox.core.errors.ApiError` with the
API server's or the kubelet's wording when the pod or container is not there to
talk to.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core import errors
from ..core.resources import BY_PLURAL
from .containers import (MAX_VOLUME_BYTES, FileSystem, Volume, VolumeData, VolumeStorage, config_items,
                         projected_volume, write_projection)
from .disk import PvDirectories
from .network import (NGINX_VERSIONS, HttpConnection, PodNetwork, Server, bootcamp_server, hello_app_server,
                      netexec_server, nginx_server)

if TYPE_CHECKING:
    from ..core.cluster import Cluster
    from .programs import Forever, Process, ProgramContext


@dataclass
class _PodState:
    """What the runtime holds for one pod (by uid)."""

    fs: dict[str, FileSystem] = field(default_factory=dict)  # per container, rebuilt at each start
    listens: dict[str, tuple[int, ...]] = field(default_factory=dict)
    serving: dict[str, Server] = field(default_factory=dict)  # per container: a server other than nginx
    main: dict[str, Process] = field(default_factory=dict)  # live main processes (interactive shells)
    watchers: dict[str, set] = field(default_factory=dict)  # attach sessions per container: on_output callables
    execs: set = field(default_factory=set)
    ip: str | None = None
    pids: dict[str, int] = field(default_factory=dict)  # per container: the last PID given to an exec session
    #: per container: its configMap, secret, downwardAPI and projected volumes, which the kubelet keeps current
    projections: dict[str, list["_Projection"]] = field(default_factory=dict)


@dataclass
class _Projection:
    """A mounted configMap, secret, downwardAPI or projected volume, and what was last written to it."""

    volume: Volume
    source: dict  # the pod's volume entry
    files: dict[str, bytes]
    modes: dict[str, int]


_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
           "Ti": 2**40}


#: The least a PersistentVolume holds, whatever its capacity says: a provisioner hands out whole
#: filesystems, never a few bytes (upstream's e2e claims ask for 1 byte, ``NewStatefulSetPVC``).
MIN_PV_BYTES = 1 << 20


def _quantity(q: object, minimum: int = 0) -> int:
    """A storage quantity in bytes ("1Gi", "500M"), at least ``minimum``; anything else (or nothing) is the
    sandbox's maximum."""
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(q or "").strip())
    if not m:
        return MAX_VOLUME_BYTES
    return max(minimum, int(float(m.group(1)) * _SUFFIX[m.group(2) or ""]))


class ContainerRuntime:
    """Filesystems, processes and connections of the pods the kubelet runs."""

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self.volumes = VolumeData()
        #: Where PersistentVolumes keep their files (``Sandbox(data_dir=...)``); None: in memory.
        self.disk = PvDirectories(sb.data_dir) if sb.data_dir is not None else None
        self.pods: dict[str, _PodState] = {}
        self.network = PodNetwork(sb.store, self.servers)
        self.lock = threading.RLock()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (a container start's programs) on the runtime's workers, off the controller thread.

        Until it has run (and scheduled what follows on the engine), a discrete clock does not jump
        (``Engine.holding``): the start is still under way.
        """
        done = self.sb.engine.holding()

        def run() -> None:
            try:
                fn()
            finally:
                done()
        with self.lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="stsnb-sandbox-programs")
        try:
            self._pool.submit(run)
        except RuntimeError:  # shut down: nothing will come back
            done()
            raise

    def shutdown(self) -> None:
        """The sandbox stops: every process of every pod is killed (its thread ends), and the workers go."""
        with self.lock:
            states = list(self.pods.values())
        for st in states:
            for proc in [*st.main.values(), *st.execs]:
                proc.kill()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def state(self, uid: str) -> _PodState:
        with self.lock:
            return self.pods.setdefault(uid, _PodState())

    # ------------------------------------------------------------------ filesystems
    def filesystem(self, pod: dict, container: dict, make_root: Callable[[], FileSystem]) -> FileSystem:
        """A fresh root filesystem for a container start, with the pod's volumes mounted.

        It is built when first used (most containers never look at their files), so a
        thousand-pod StatefulSet starts no slower for having filesystems.
        """
        volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
        fs_group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")

        def build() -> FileSystem:
            fs = make_root()
            owner, fs.owner = fs.owner, None  # the kubelet mounts, as root
            projections: list[_Projection] = []
            for m in container.get("volumeMounts") or []:
                source = volumes.get(m.get("name"))
                if source is None or not m.get("mountPath"):
                    continue
                vol = self._volume(pod, source, projections=None if m.get("subPath") else projections)
                fs.mount(m["mountPath"], vol, sub_path=m.get("subPath") or "", read_only=bool(m.get("readOnly")))
                # fsGroup: volumes that support ownership belong to the group, setgid (SetVolumeOwnership)
                if isinstance(fs_group, int) and not m.get("subPath") and any(
                        k in source for k in ("emptyDir", "persistentVolumeClaim", "configMap", "secret",
                                              "downwardAPI", "projected")):
                    fs.set_group(m["mountPath"], fs_group)
            fs.owner = owner
            self.state(pod["metadata"]["uid"]).projections[container["name"]] = projections
            return fs

        fs = LazyFileSystem(build)
        self.state(pod["metadata"]["uid"]).fs[container["name"]] = fs
        return fs

    def container_fs(self, uid: str, container: str) -> FileSystem | LazyFileSystem | None:
        """The filesystem of the container's current start, or None (never started, or the pod is gone)."""
        with self.lock:
            st = self.pods.get(uid)
        return st.fs.get(container) if st is not None else None

    def _volume(self, pod: dict, source: dict, projections: list[_Projection] | None = None) -> VolumeStorage:
        """The storage of one of the pod's volumes. A configMap, secret, downwardAPI or projected volume is written
        as the kubelet's AtomicWriter does, and added to ``projections`` (kept current by :meth:`refresh`); without
        ``projections`` (a ``subPath`` mount, never updated upstream) its files lie flat."""
        meta = pod["metadata"]
        ns, uid, name = meta.get("namespace", "default"), meta["uid"], source.get("name", "")
        if "persistentVolumeClaim" in source:
            claim = self.sb.store.get("persistentvolumeclaims", ns, source["persistentVolumeClaim"].get("claimName"))
            pv_name = ((claim or {}).get("spec") or {}).get("volumeName")
            pv = self.sb.store.get("persistentvolumes", "", pv_name) if pv_name else None
            if pv is not None:
                size = ((pv.get("spec") or {}).get("capacity") or {}).get("storage")
                pv_uid, label = pv["metadata"]["uid"], f"pv/{pv_name}"
                disk = self.disk
                make = (lambda quota: disk.volume(pv_uid, quota, label)) \
                    if disk is not None and disk.usable(pv_uid) else None
                return self.volumes.get(("pv", pv_uid), _quantity(size, MIN_PV_BYTES), label=label, make=make)
            return self.volumes.get(("emptydir", uid, name), label=f"unbound claim {name}")
        if "hostPath" in source:
            node = (pod.get("spec") or {}).get("nodeName", "")
            return self.volumes.get(("hostpath", node, source["hostPath"].get("path", "")), label="hostPath")
        kind = next((k for k in ("configMap", "secret", "downwardAPI", "projected") if k in source), None)
        if kind is not None:
            files, modes = self._projection(pod, source)
            # secrets and projections are tmpfs (drwxrwxrwt), configMaps and the downward API an emptyDir's directory
            vol = projected_volume(files, label=kind, modes=modes, root_mode=0o1777 if kind in ("secret", "projected")
                                   else 0o777, stamp=self._stamp() if projections is not None else "")
            if projections is not None:
                projections.append(_Projection(vol, source, files, modes))
            return vol
        if "emptyDir" in source:
            limit = (source.get("emptyDir") or {}).get("sizeLimit")

            def empty_dir(quota: int) -> VolumeStorage:
                vol = Volume(quota=quota, label="emptyDir")
                vol.chmod([], 0o777)  # the kubelet makes an emptyDir's directory world-writable
                return vol
            return self.volumes.get(("emptydir", uid, name), _quantity(limit), label="emptyDir", make=empty_dir)
        return projected_volume({}, label="unsupported volume type")

    def _projection(self, pod: dict, source: dict,
                    token: bytes | None = None) -> tuple[dict[str, bytes], dict[str, int]]:
        """A projecting volume's files and their modes (``defaultMode``, each item's ``mode``; 0644 by default).
        ``token``: the ServiceAccount token already written (the kubelet rotates it on its own schedule)."""
        kind = next(k for k in ("configMap", "secret", "downwardAPI", "projected") if k in source)
        spec = source.get(kind) or {}
        parts = spec.get("sources") or [] if kind == "projected" else [{kind: spec}]
        files: dict[str, bytes] = {}
        modes: dict[str, int] = {}
        default = spec.get("defaultMode")
        for part in parts:
            if token is not None and "serviceAccountToken" in part:
                part_files = {(part.get("serviceAccountToken") or {}).get("path") or "token": token}
            else:
                part_files = self._source_files(pod, part)
            items = next(((v or {}).get("items") or [] for v in part.values() if isinstance(v, dict)), [])
            item_modes = {str(i.get("path")): i["mode"] for i in items if isinstance(i.get("mode"), int)}
            for path in part_files:
                mode = item_modes.get(path, default)
                modes[path] = mode & 0o777 if isinstance(mode, int) else 0o644
            files |= part_files
        return files, modes

    def _stamp(self) -> str:
        """The name AtomicWriter gives a payload directory (after ``..``): the UTC time and os.MkdirTemp's number."""
        return self.sb.clock.datetime().strftime("%Y_%m_%d_%H_%M_%S.") + str(self.sb.rng.getrandbits(32))

    def refresh(self, pod: dict, kinds: tuple[str, ...] = ("configMap", "secret", "downwardAPI", "projected")) -> None:
        """Rewrite the pod's projected volumes whose content changed (a ConfigMap's or Secret's data, the pod's
        labels or annotations), as the kubelet's periodic sync does; ``subPath`` mounts keep what they had."""
        with self.lock:
            st = self.pods.get(pod["metadata"]["uid"])
            projections = [p for ps in st.projections.values() for p in ps] if st is not None else []
        ns = pod["metadata"].get("namespace", "default")
        for proj in projections:
            if not any(k in proj.source for k in kinds):
                continue
            parts = [proj.source, *((proj.source.get("projected") or {}).get("sources") or [])]
            if any(self.sb.store.get(plural, ns, ref.get("secretName") or ref.get("name")) is None
                   for plural, kind in (("configmaps", "configMap"), ("secrets", "secret"))
                   for ref in (p.get(kind) for p in parts) if isinstance(ref, dict)):
                continue  # a deleted ConfigMap or Secret: the kubelet keeps the files it last wrote
            token = next((v for k, v in proj.files.items() if self._is_token(proj.source, k)), None)
            files, modes = self._projection(pod, proj.source, token=token)
            if files != proj.files or modes != proj.modes:
                write_projection(proj.volume, files, self._stamp(), modes)
                proj.files, proj.modes = files, modes

    @staticmethod
    def _is_token(source: dict, path: str) -> bool:
        return any("serviceAccountToken" in part and ((part.get("serviceAccountToken") or {}).get("path") or "token")
                   == path for part in (source.get("projected") or {}).get("sources") or [])

    def mounts(self, uid: str, kind: str, name: str) -> bool:
        """Whether the pod's containers mount the ConfigMap or Secret ``name`` (``kind``: ``configMap`` or
        ``secret``), directly or in a projected volume."""
        with self.lock:
            st = self.pods.get(uid)
            projections = [p for ps in st.projections.values() for p in ps] if st is not None else []
        for proj in projections:
            for part in [proj.source, *((proj.source.get("projected") or {}).get("sources") or [])]:
                ref = part.get(kind)
                if isinstance(ref, dict) and (ref.get("secretName") or ref.get("name")) == name:
                    return True
        return False

    def _source_files(self, pod: dict, part: dict) -> dict[str, bytes]:
        """The files of one volume source: a ConfigMap's or Secret's keys (``items`` maps keys to paths), the
        downward API's fields, a ServiceAccount token."""
        ns = pod["metadata"].get("namespace", "default")
        if "serviceAccountToken" in part:
            return {(part.get("serviceAccountToken") or {}).get("path") or "token": self._token(pod)}
        if "configMap" in part:
            cm = self.sb.store.get("configmaps", ns, (part.get("configMap") or {}).get("name"))
            return _items(config_items(cm, binary=False), (part.get("configMap") or {}).get("items"))
        if "secret" in part:
            ref = part.get("secret") or {}
            secret = self.sb.store.get("secrets", ns, ref.get("secretName") or ref.get("name")) \
                if "secrets" in BY_PLURAL else None
            return _items(config_items(secret, binary=True), ref.get("items"))
        if "downwardAPI" in part:
            node = self.sb.store.get("nodes", "", (pod.get("spec") or {}).get("nodeName") or "") or {}
            return downward_files(pod, (part.get("downwardAPI") or {}).get("items") or [],
                                  allocatable=(node.get("status") or {}).get("allocatable") or {})
        return {}

    def _token(self, pod: dict) -> bytes:
        """A bound ServiceAccount token as the kubelet writes it: a JWT with upstream's claims (not signed by
        anything a server checks: the sandbox's API authenticates with the kubeconfig's token)."""
        import base64
        import hashlib
        import json
        meta = pod["metadata"]
        issued = int(self.sb.clock.datetime().timestamp())
        issuer = f"https://kubernetes.default.svc.{self.sb.zone}"
        sa = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        claims = {"aud": [issuer], "exp": issued + 3607, "iat": issued, "iss": issuer,
                  "kubernetes.io": {"namespace": meta.get("namespace", "default"),
                                    "pod": {"name": meta.get("name", ""), "uid": meta.get("uid", "")},
                                    "serviceaccount": {"name": sa, "uid": ""}},
                  "nbf": issued, "sub": f"system:serviceaccount:{meta.get('namespace', 'default')}:{sa}"}

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        head = b64(json.dumps({"alg": "RS256", "kid": "stsnb-sandbox"}, separators=(",", ":")).encode())
        body = b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{head}.{body}.{b64(hashlib.sha256(f'{head}.{body}'.encode()).digest())}".encode()

    def pv_deleted(self, pv_uid: str, retain: bool = False) -> None:
        """The PersistentVolume is gone (reclaimed with ``Delete``, or deleted by hand): so is its data.

        Unless its reclaim policy was ``Retain`` and it was kept on disk: then its directory
        stays, as a retained volume's storage outlives the PV object.
        """
        for vol in self.volumes.release("pv", pv_uid):
            if not retain:
                vol.discard()

    # ------------------------------------------------------------------ lifecycle
    def started(self, uid: str, container: str, ip: str | None, listens: tuple[int, ...],
                server: "str | Server" = "nginx",
                log: Callable[[str], None] | None = None, hostname: str = "") -> None:
        """The container's process is up and serves ``listens`` with ``server`` (see :mod:`.network`);
        ``log`` appends to its log (a server's request lines)."""
        st = self.state(uid)
        st.ip = ip
        st.listens[container] = listens
        st.serving.pop(container, None)
        if callable(server):  # a program's own server (mysqld, ncat --listen), built where it ran
            if listens:
                if hasattr(server, "set_log") and log is not None:
                    server.set_log(log)
                st.serving[container] = server
        elif server == "netexec" and listens:
            st.serving[container] = netexec_server(hostname, log or (lambda text: None), started=time.monotonic())
        elif server.startswith("bootcamp:") and listens:
            st.serving[container] = bootcamp_server(hostname, server.partition(":")[2], log or (lambda text: None),
                                                    started=time.monotonic())
        elif server.startswith("hello-app:") and listens:
            st.serving[container] = hello_app_server(hostname, server.partition(":")[2], log or (lambda text: None))
        elif server.startswith("zookeeper:") and listens and st.fs.get(container) is not None:
            from .zookeeper import zookeeper_server
            _, port, myid, data_dir = server.split(":", 3)
            st.serving[container] = zookeeper_server(st.fs[container], data_dir, myid, int(port),
                                                     log or (lambda text: None),
                                                     lambda: self.sb.clock.datetime().timestamp())

    def container_stopped(self, uid: str, container: str) -> None:
        st = self.state(uid)
        st.listens.pop(container, None)
        st.serving.pop(container, None)
        proc = st.main.pop(container, None)
        if proc is not None:
            proc.kill()

    def pod_stopped(self, uid: str) -> None:
        """Everything of the pod stops: its processes are killed, its servers stop listening."""
        with self.lock:
            st = self.pods.get(uid)
        if st is None:
            return
        for proc in [*st.main.values(), *st.execs]:
            proc.kill()
        st.listens.clear()
        st.serving.clear()
        st.main.clear()

    def pod_gone(self, uid: str) -> None:
        self.pod_stopped(uid)
        with self.lock:
            self.pods.pop(uid, None)
        self.volumes.release("emptydir", uid)

    # ------------------------------------------------------------------ network
    def own_server(self, uid: str, container: str) -> tuple[tuple[int, ...], Server] | None:
        """The ports and server of the container's running program when it is not nginx (agnhost netexec)."""
        with self.lock:
            st = self.pods.get(uid)
        own = st.serving.get(container) if st is not None else None
        return (st.listens.get(container, ()), own) if st is not None and own is not None else None

    def servers(self, ip: str) -> dict[int, Server]:
        with self.lock:
            states = [(uid, st) for uid, st in self.pods.items() if st.ip == ip]
        out: dict[int, Server] = {}
        for uid, st in states:
            for cname, ports in st.listens.items():
                fs = st.fs.get(cname)
                own = st.serving.get(cname)
                if fs is None and own is None:
                    continue
                for port in ports:
                    out.setdefault(port, own or nginx_server(fs, self._nginx_version(uid, cname)))
        return out

    def _nginx_version(self, uid: str, container: str) -> str:
        from .programs import parse_image
        for pod in self.sb.store.list("pods"):
            if pod["metadata"]["uid"] == uid:
                for c in pod["spec"]["containers"]:
                    if c["name"] == container:
                        image = parse_image(c.get("image") or "")
                        return NGINX_VERSIONS.get(image.name if image else "nginx", NGINX_VERSIONS["nginx"])
        return NGINX_VERSIONS["nginx"]

    def connector(self, ip: str | None) -> Callable[[str, int], Server]:
        return lambda to_ip, port: self.network.connect(to_ip, port, own_ip=ip)

    # ------------------------------------------------------------------ interactive main processes
    def start_main(self, uid: str, ctx: ProgramContext, argv: list[str], tty: bool,
                   log: Callable[[str], None], exited: Callable[[int, str | None], None]) -> None:
        """Run the container's shell as a live process; its output goes to the log and to attached clients."""
        from .programs import Process
        st = self.state(uid)
        name = ctx.container["name"]

        def output(channel: int, data: bytes) -> None:
            log(data.decode("utf-8", "replace"))
            for w in list(st.watchers.get(name, ())):
                w(channel, data)

        def on_exit(code: int, reason: str | None) -> None:
            if st.main.get(name) is proc:
                del st.main[name]
            exited(code, reason)

        proc = Process(ctx, argv, tty=tty, on_output=output, on_exit=on_exit,
                       sleep_scale=self.sb.clock.wall_delay)
        st.main[name] = proc
        proc.start()

    def run_program(self, uid: str, ctx: ProgramContext, argv: list[str], *,
                    started: Callable[[str, int | None, "Forever | None", str | None], None],
                    log: Callable[[str], None], serving: Callable[["Forever"], None],
                    exited: Callable[[int, str | None], None]) -> None:
        """Run a container's program live, on a thread of its own, sleeping in sandbox time (:class:`Pacer`).

        Until it first sleeps, serves for ever or ends, the engine holds (the start is under way) and its
        output is gathered; then ``started(output, exit code or None, Forever or None, reason)`` is
        called once. After that its output goes to ``log`` (and to attached clients) as it is written,
        ``serving(forever)`` says it became a server, and ``exited(code, reason)`` that it ended (not
        called when it ended before ``started``, which carries the code). The process is the
        container's main process: stopping the container kills it (:meth:`container_stopped`).
        """
        from .programs import Forever, Process
        st = self.state(uid)
        name = ctx.container["name"]
        pacer = Pacer(self.sb.engine)
        gathered: list[str] = []
        first = threading.Lock()
        phase = {"live": False}

        def begin(code: int | None, forever: Forever | None, reason: str | None) -> bool:
            with first:
                if phase["live"]:
                    return False
                phase["live"] = True
            started("".join(gathered), code, forever, reason)
            return True

        def output(channel: int, data: bytes) -> None:
            if not phase["live"]:
                gathered.append(data.decode("utf-8", "replace"))
                return
            log(data.decode("utf-8", "replace"))
            for w in list(st.watchers.get(name, ())):
                w(channel, data)

        def sleeper(seconds: float, cancel: threading.Event) -> None:
            if math.isinf(seconds):
                raise Forever()  # ``sleep infinity``: a process that never ends by itself
            begin(None, None, None)
            pacer.sleep(seconds, cancel)

        def on_forever(forever: Forever) -> None:
            if not begin(None, forever, None):
                serving(forever)
            pacer.release()

        def on_exit(code: int, reason: str | None) -> None:
            try:
                if st.main.get(name) is proc:
                    del st.main[name]
                if not begin(code, None, reason):
                    exited(code, reason)
            finally:
                pacer.release()

        proc = Process(ctx, argv, tty=bool((ctx.container or {}).get("tty")), on_output=output, on_exit=on_exit,
                       stdin=False, sleeper=sleeper, on_forever=on_forever)
        st.main[name] = proc
        proc.start()

    # ------------------------------------------------------------------ exec, attach, port-forward
    def exec(self, uid: str, ctx: ProgramContext, argv: list[str], tty: bool, stdin: bool,
             on_output: Callable[[int, bytes], None], on_exit: Callable[[int, str | None], None]) -> Process:
        from .programs import Process
        st = self.state(uid)

        def done(code: int, reason: str | None) -> None:
            st.execs.discard(proc)
            on_exit(code, reason)

        name = (ctx.container or {}).get("name", "")
        with self.lock:
            ctx.pid = st.pids[name] = st.pids.get(name, 1) + 5

        def sessions() -> list[tuple[int, list[str]]]:
            return sorted((p.ctx.pid, p.argv) for p in list(st.execs)
                          if (p.ctx.container or {}).get("name") == name and not p.done.is_set())
        ctx.processes = sessions

        def signal_main(code: int) -> bool:
            main = st.main.get(name)
            if main is None or main.done.is_set():
                return False
            main.kill(code)
            return True
        ctx.signal_main = signal_main
        proc = Process(ctx, argv, tty=tty, on_output=on_output, on_exit=done, stdin=stdin,
                       sleep_scale=self.sb.clock.wall_delay)
        st.execs.add(proc)
        return proc.start()

    def attach(self, uid: str, container: str, on_output: Callable[[int, bytes], None]) -> Attachment:
        st = self.state(uid)
        st.watchers.setdefault(container, set()).add(on_output)
        return Attachment(self, st, container, on_output)

    def port_forward(self, uid: str, port: int, send: Callable[[bytes], None],
                     close: Callable[[], None]) -> HttpConnection:
        st = self.state(uid)
        if st.ip is None:
            raise errors.ApiError(500, "InternalError", "pod has no IP address yet")
        try:
            server = self.network.connect(st.ip, port, own_ip=st.ip)
        except OSError:
            raise errors.ApiError(500, "InternalError", f"error forwarding port {port} to pod {uid}, uid : "
                                  f"failed to execute portforward in network namespace: failed to connect to "
                                  f"localhost:{port} inside namespace: connection refused") from None
        return HttpConnection(server, send, close)


def _items(files: dict[str, bytes], items: list | None) -> dict[str, bytes]:
    """A volume's ``items``: only those keys, each at its ``path``; without ``items``, every key."""
    if not items:
        return files
    return {str(i.get("path") or i.get("key")): files[i["key"]] for i in items if i.get("key") in files}


def downward_files(pod: dict, items: list, allocatable: dict | None = None) -> dict[str, bytes]:
    """The downward API's files: a pod field (``ExtractFieldPathAsString``: name, namespace, uid, labels or
    annotations as upstream's ``FormatMap``, one of them by key) or a container's resource (``resourceFieldRef``,
    in units of its ``divisor``), each at its ``path``."""
    from .envvars import _field, _resource
    out: dict[str, bytes] = {}
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    for item in items:
        if not item.get("path"):
            continue
        if item.get("resourceFieldRef"):
            value = _resource(pod, containers[0], item["resourceFieldRef"], allocatable or {})
        else:
            value = _field(pod, (item.get("fieldRef") or {}).get("fieldPath") or "")
        out[str(item["path"])] = value.encode()
    return out


class Pacer:
    """Sandbox time for a live program: it sleeps until an engine timer wakes it, and while it runs
    (from its start, and from each wake-up to its next sleep or its end) the engine holds, so a
    discrete clock jumps to its wake-ups but never past what it does after them."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._done: Callable[[], None] | None = engine.holding()

    def release(self) -> None:
        with self._lock:
            done, self._done = self._done, None
        if done is not None:
            done()

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        """Wait ``seconds`` of sandbox time; raise ``Killed`` if ``cancel`` is set first."""
        from .programs import Killed
        self.release()
        woke = threading.Event()
        state = {"cancelled": False}

        def wake() -> None:  # on the engine thread, as the timer fires: hold until the program waits again
            with self._lock:
                if state["cancelled"]:
                    return
                self._done = self.engine.holding()
            woke.set()
        timer = self.engine.call_later(max(0.0, seconds), wake)
        while not woke.wait(0.2):
            if cancel.is_set():
                with self._lock:
                    state["cancelled"] = True
                timer.cancel()
                self.release()  # wake() may have taken a hold just before
                raise Killed("Killed", "")
        if cancel.is_set():
            raise Killed("Killed", "")


class LazyFileSystem:
    """A :class:`FileSystem` built on first use; ``built`` says whether it has been."""

    def __init__(self, build: Callable[[], FileSystem]) -> None:
        self._build = build
        self._fs: FileSystem | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._fs is not None

    def _real(self) -> FileSystem:
        if self._fs is None:
            with self._lock:
                if self._fs is None:
                    self._fs = self._build()
        return self._fs

    def __getattr__(self, name: str):
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value) -> None:
        """Its own fields stay its own; anything else (``fs.owner = …``) is set on the filesystem itself."""
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._real(), name, value)


class Attachment:
    """A client attached to a container's main process: its output, and its stdin if it reads one."""

    def __init__(self, rt: ContainerRuntime, st: _PodState, container: str,
                 on_output: Callable[[int, bytes], None]) -> None:
        self.rt, self.st, self.container, self.on_output = rt, st, container, on_output

    @property
    def process(self) -> Process | None:
        return self.st.main.get(self.container)

    def write(self, data: bytes) -> None:
        proc = self.process
        if proc is not None:
            proc.write(data)

    def detach(self, stdin_once: bool) -> None:
        self.st.watchers.get(self.container, set()).discard(self.on_output)
        proc = self.process
        if stdin_once and proc is not None:
            proc.close_stdin()  # stdinOnce: the first attach session closes the container's stdin
