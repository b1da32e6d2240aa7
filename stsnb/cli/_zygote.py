"""The zygote: a process that has imported what a lesson needs, and forks a kernel from itself on request.

Started by :class:`stsnb.cli.kernels.Zygote` as ``python -m stsnb.cli._zygote`` (a fresh
interpreter, never a fork of the runner, which has threads). It imports :data:`PRELOAD`
once, says ``{"ok": true, ...}`` on stdout, then serves one JSON request per stdin line:

``{"op": "fork", "argv": [...], "env": {...}, "cwd": "...", "log": "...", "exit_file": "..."}``
    fork; the child becomes an ipykernel (``argv`` are ipykernel_launcher's arguments,
    e.g. ``-f <connection file>``); the reply is ``{"pid": N}``. When the child ends, its
    exit status (``waitpid`` style: the code, or minus the signal) is written to
    ``exit_file`` *before* the zygote reaps it, so a pid is never reused while the runner
    still asks about it.

Fork safety, reviewed:

* **No threads at fork.** Nothing in :data:`PRELOAD` starts a thread at import except
  OpenBLAS (numpy), which starts its pool at load time; the launcher therefore sets
  ``OPENBLAS_NUM_THREADS=1`` (and the OpenMP/MKL equivalents) for this process, so kernels
  forked from it run single-threaded BLAS (the lessons do no linear algebra). Before every
  fork the zygote counts its threads in ``/proc/self/task`` and refuses (the runner then
  starts kernels the ordinary way) if there is more than one.
* **No ZMQ context, event loop, kernel app or sandbox before fork.** Only imports; ipykernel
  creates its context, sockets, loop and ``IPKernelApp`` in the child.
* **No pyplot, no backend.** ``matplotlib`` reads ``MPLBACKEND`` when it is imported, and
  ipykernel sets it (to the inline backend, unless the environment already names one) before
  running any cell. The zygote makes the same choice before importing ``matplotlib``, its
  ``figure``, ``font_manager`` (the font cache) and the Agg canvas the timelines draw on
  (``backend_agg`` is a module, not a backend choice), so a forked kernel's rcParams name the
  same backend a new interpreter's would; ``pyplot`` and the selected backend are imported only
  by a cell that asks for them (stsnb's figures never do). (One difference: a ``matplotlibrc`` in the notebook's folder is not
  read, because the zygote imported matplotlib elsewhere.)
* **OpenSSL and debugpy.** cryptography's OpenSSL backend is loaded here (the sandbox makes
  a certificate authority at every start); OpenSSL 3 notices a fork and reseeds its random
  generator in the child, and each kernel makes its own keys. debugpy (``ipykernel.debugger``)
  only defines its classes at import; the kernel starts its debugger threads itself, after
  fork. The zygote runs with ``-Xfrozen_modules=off``, as the kernelspec ``ipykernel install``
  writes does, since a forked kernel keeps its parent's interpreter options.
* **The collector.** After the imports the zygote collects once and freezes what is left
  (``gc.freeze``): kernels inherit those objects in the permanent generation, never walked by their
  collections (and never written to by them, so forked pages stay shared). The kernel's own
  objects are collected as usual.
* **Random state.** :mod:`random` reseeds itself after fork (``os.register_at_fork``); the
  child reseeds numpy's global generator too.
* **Lifetime.** The child starts its own session (``setsid``: Ctrl-C in the terminal goes to
  the runner, which interrupts kernels deliberately), asks the kernel to die with the zygote
  (``PR_SET_PDEATHSIG``), and ipykernel's parent poller watches the zygote as its parent. The
  zygote ignores SIGINT; when its stdin closes (the runner ended, however) it kills every
  kernel it forked and exits.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import sys
import time

#: What a lesson imports, imported once here instead of in every kernel.
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm", "comm",
    "ipykernel.debugger",  # debugpy: every kernel imports it at start (0.3 CPU-s); it starts no thread
    "IPython.core.interactiveshell", "IPython.core.completer", "jupyter_client.session",
    "pandas", "pandas.io.formats.style", "jinja2", "ipywidgets",
    "kubernetes.client.api_client", "kubernetes.config", "kubernetes.watch",
    "yaml", "dns.message", "jsonpatch",
    "stsnb", "stsnb.lab", "stsnb.panels", "stsnb.tables", "stsnb.timeline", "stsnb.sandbox",
    # what Sandbox.start, exec and DNS import on first use: the API server and its TLS (cryptography's x509),
    # the DNS server and its record types, the container programs and the WebSocket streams
    "cryptography.x509", "cryptography.x509.oid", "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.serialization", "cryptography.hazmat.backends.openssl",
    "stsnb.sandbox.apiserver.tls", "stsnb.sandbox.apiserver.auth", "stsnb.sandbox.apiserver.handler",
    "stsnb.sandbox.apiserver.server", "stsnb.sandbox.apiserver.streaming", "stsnb.sandbox.dns",
    "stsnb.sandbox.dns_server", "stsnb.sandbox.node.programs", "stsnb.sandbox.node.envvars",
    "dns.rdtypes.IN.A", "dns.rdtypes.IN.AAAA", "dns.rdtypes.IN.SRV", "dns.rdtypes.ANY.PTR",
    "dns.rdtypes.ANY.CNAME", "dns.rdtypes.ANY.NS", "dns.rdtypes.ANY.TXT", "dns.reversename",
    # what every kernel imported after the fork (sys.modules at the end of each lesson, less the zygote's):
    # the kernel's own start (its launcher, its loop's tornado platform, the shell's debugger, magics and
    # history database), the printers behind the tables the lab asks the API server for, and pandas' plain
    # text tables
    "ipykernel_launcher", "tornado.platform.asyncio", "faulthandler", "sqlite3", "bdb", "cmd", "pdb",
    "IPython.core.debugger", "IPython.core.completerlib", "IPython.core.logger", "IPython.core.oinspect",
    "IPython.extensions.storemagic", "IPython.utils.wildcard",
    "stsnb.sandbox.apiserver.printers", "pandas.io.formats.string",
)

#: Environment of the zygote (not of its kernels): single-threaded BLAS, see the module docstring.
ZYGOTE_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: What ipykernel puts in ``MPLBACKEND`` when the environment names no backend (``IPKernelApp.init_gui_pylab``).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: matplotlib's parts a timeline needs, imported after ``MPLBACKEND`` is settled; never pyplot. Pillow encodes
#: the PNGs (:func:`stsnb.plots.png`); its first save imports its format plugins (``PIL.Image.preinit``).
PRELOAD_MATPLOTLIB: tuple[str, ...] = ("matplotlib", "matplotlib.figure", "matplotlib.font_manager",
                                      "matplotlib.patches", "matplotlib.colors", "matplotlib.backends.backend_agg",
                                      "PIL.Image", "PIL.BmpImagePlugin", "PIL.GifImagePlugin",
                                      "PIL.JpegImagePlugin", "PIL.PpmImagePlugin", "PIL.PngImagePlugin")

_children: dict[int, str] = {}  # pid -> exit file
_START_CWD = os.getcwd()
#: The zygote's own descriptors (the reply pipe, the signal wake-up pipe), closed in every kernel.
_PRIVATE: list[int] = []
_replies = sys.stdout


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading
        return threading.active_count()


def _reply(obj: dict) -> None:
    _replies.write(json.dumps(obj) + "\n")
    _replies.flush()


def _preload() -> dict:
    started = time.perf_counter()
    failed = {}
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # as ipykernel will in every kernel
    for name in (*PRELOAD, *PRELOAD_MATPLOTLIB):
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - a missing optional module only makes kernels colder
            failed[name] = f"{type(e).__name__}: {e}"
    # what was imported lives as long as a kernel does: moved out of the collector's sight (gc.freeze, the
    # standard library's advice for a process that forks without exec), a kernel's full collections no longer
    # walk it (lesson 05: 0.23 -> 0.11 s of collections) and its pages are not copied by the collector's writes
    gc.collect()
    gc.freeze()
    return {"seconds": round(time.perf_counter() - started, 3), "failed": failed, "frozen": gc.get_freeze_count()}


def _reap(block: bool = False) -> None:
    """Write the exit file of every ended child, then reap it."""
    while _children:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG))
        except ChildProcessError:
            _children.clear()
            return
        if info is None:
            return
        code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        exit_file = _children.pop(info.si_pid, None)
        if exit_file:
            try:
                tmp = f"{exit_file}.tmp"
                with open(tmp, "w") as f:
                    f.write(str(code))
                os.replace(tmp, exit_file)
            except OSError:
                pass
        os.waitpid(info.si_pid, 0)


def _shared_state() -> list[str]:
    """State a forked kernel must not inherit: a ZMQ context, an event loop, pyplot, a kernel app (empty when none)."""
    found = []
    zmq = sys.modules.get("zmq")
    if zmq is not None and getattr(zmq.Context, "_instance", None) is not None:
        found.append("zmq.Context.instance()")
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and getattr(asyncio.get_event_loop_policy(), "_local", None) is not None \
            and getattr(asyncio.get_event_loop_policy()._local, "_loop", None) is not None:
        found.append("an asyncio event loop")
    if "matplotlib.pyplot" in sys.modules:
        found.append("matplotlib.pyplot (it picks a backend)")
    mpl = sys.modules.get("matplotlib")
    if mpl is not None and mpl.rcParams._get_backend_or_none() not in (None, os.environ.get("MPLBACKEND")):
        found.append(f"matplotlib's backend {mpl.rcParams._get_backend_or_none()!r} (MPLBACKEND says otherwise)")
    kernelapp = sys.modules.get("ipykernel.kernelapp")
    if kernelapp is not None and kernelapp.IPKernelApp.initialized():
        found.append("IPKernelApp.instance()")
    return found


def _kill_all() -> None:
    for pid in list(_children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + 5
    while _children and time.monotonic() < deadline:
        _reap(block=True)


def _child(req: dict, zygote_pid: int) -> None:
    """Become the kernel; never returns."""
    code = 1
    try:
        os.setsid()
        _die_with_parent(zygote_pid)
        signal.set_wakeup_fd(-1)
        for fd in _PRIVATE:
            os.close(fd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.environ.clear()
        os.environ.update(req["env"])
        os.environ["JPY_PARENT_PID"] = str(zygote_pid)
        if req.get("cwd"):
            os.chdir(req["cwd"])
        # `python -m ipykernel_launcher` has its working folder first on sys.path; so does this kernel
        if sys.path and sys.path[0] == _START_CWD:
            sys.path[0] = os.getcwd()
        if "numpy.random" in sys.modules:
            sys.modules["numpy.random"].seed()
        import ipykernel_launcher
        from ipykernel.kernelapp import IPKernelApp

        # IPKernelApp read JPY_PARENT_PID when the zygote imported it; say it again for this kernel
        argv = [*req["argv"], f"--IPKernelApp.parent_handle={zygote_pid}"]
        sys.argv = [ipykernel_launcher.__file__, *argv]
        IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - the kernel's own crash; its log says why
        import traceback
        traceback.print_exc()
    finally:
        try:
            import atexit
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel is killed when the zygote dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the zygote died between fork and prctl
        os._exit(1)


def _serve_one(line: str, me: int) -> None:
    try:
        req = json.loads(line)
    except ValueError:
        _reply({"error": f"not JSON: {line[:80]!r}"})
        return
    if req.get("op") != "fork":
        _reply({"error": f"unknown op {req.get('op')!r}"})
        return
    threads = _threads()
    if threads != 1:
        _reply({"error": f"the zygote has {threads} threads; forking would copy a process in an unknown state"})
        return
    pid = os.fork()
    if pid == 0:
        _child(req, me)
    _children[pid] = req["exit_file"]
    _reply({"pid": pid})


def main() -> int:
    global _replies
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # replies get a descriptor of their own; whatever a preloaded module prints goes nowhere
    _replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    _PRIVATE.extend([_replies.fileno(), wake_r, wake_w])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    info = _preload()
    threads = _threads()
    me = os.getpid()
    shared = _shared_state()
    _reply({"ok": threads == 1 and not shared, "pid": me, "threads": threads, "shared": shared, **info})
    stdin = sys.stdin.fileno()
    buffer = b""
    while True:
        ready, _, _ = select.select([stdin, wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        _reap()
        if stdin not in ready:
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:
            _kill_all()
            sys.stdout.flush()
            os._exit(0)  # nothing to tidy: skip finalising every preloaded module
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                _serve_one(line.decode("utf-8"), me)


if __name__ == "__main__":
    sys.exit(main())
