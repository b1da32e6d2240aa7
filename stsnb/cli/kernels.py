"""Kernels for ``stsnb run``: forked warm from a zygote where that is safe, started the ordinary way elsewhere.

:class:`RunnerKernelManager` is jupyter_client's ``AsyncKernelManager`` with three changes:

* **IPC transport.** The kernel's five channels are Unix sockets in a private folder
  (``ipc://<folder>/<kernel id>-N``), not TCP ports jupyter_client picks and the kernel binds
  later, which collided about once in 200 starts ("Address already in use"). Windows has no
  IPC transport and keeps TCP.
* **Warm start.** With a :class:`Zygote` (Linux), :class:`ZygoteProvisioner` asks it to fork
  the kernel from a process that has already imported ipykernel, pandas, ipywidgets, the
  official client and stsnb (see :mod:`stsnb.cli._zygote` for the fork-safety review), instead
  of starting a fresh interpreter that imports them all again. Without a zygote (macOS,
  Windows, ``STSNB_WARM_KERNELS=0``, a zygote that could not start safely, or a kernelspec that
  is not this environment's ipykernel) it is jupyter_client's own ``LocalProvisioner``.
* **Its own log.** The kernel's stdout/stderr go to ``log_path``, never to the runner's terminal.
* **Ready when proven, not after a silence.** Its client (:class:`RunnerKernelClient`) is ready once
  the kernel has answered ``kernel_info`` on the shell channel *and* published that request's
  ``idle`` status on IOPub (so IOPub is subscribed and everything it sent for the request has
  arrived), instead of jupyter_client's final drain of IOPub until 0.2 s pass without a message,
  which made every kernel start idle at least that long (and never ends while a kernel keeps printing).

Either way the kernel runs in its own session (process group), so the runner can interrupt
it with SIGINT and kill it with everything it started.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import DottedObjectName, Type, default

__all__ = ["Zygote", "ZygoteError", "KernelNotStarted", "ZygoteProvisioner", "RunnerKernelManager",
           "RunnerKernelClient", "warm_kernels_supported", "KernelFolder"]

_IPC_PATH_MAX = 100  # sockaddr_un.sun_path is 104-108 bytes; keep a margin


def warm_kernels_supported(env: dict[str, str] | None = None) -> tuple[bool, str]:
    """``(True, "")`` where kernels may be forked from a zygote, else ``(False, why not)``."""
    env = os.environ if env is None else env
    if env.get("STSNB_WARM_KERNELS", "1").strip().lower() in ("0", "no", "false", "off"):
        return False, "STSNB_WARM_KERNELS=0"
    if not sys.platform.startswith("linux"):
        return False, f"fork without exec is not safe on {sys.platform}"
    if not hasattr(os, "fork") or not hasattr(os, "waitid"):
        return False, "this Python has no os.fork/os.waitid"
    return True, ""


class ZygoteError(RuntimeError):
    """The zygote could not start safely, or refused a fork."""


class KernelNotStarted(RuntimeError):
    """The runner is stopping (Ctrl-C), so no kernel is started."""


class Zygote:
    """A running ``python -m stsnb.cli._zygote``; :meth:`fork` asks it for one kernel. Thread-safe.

    Start it with :meth:`start` (it imports the lesson's modules, ~2 s once); stop it with
    :meth:`stop`, which kills every kernel it forked.
    """

    def __init__(self, *, start_timeout: float = 120.0) -> None:
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self.log_path: Path | None = None
        self._lock = threading.Lock()

    def start(self, cwd: str | None = None, *, wait: bool = True) -> "Zygote":
        """Start it (in ``cwd``: a folder with nothing importable in it, since it comes first on ``sys.path``).

        With ``wait=False`` this returns at once and the first :meth:`fork` waits for the imports.
        """
        env = {**os.environ, **_zygote_env()}
        self.log_path = Path(cwd or tempfile.gettempdir()) / f"zygote-{os.getpid()}.log"
        with open(self.log_path, "ab") as log:  # why it died, if it does
            # -Xfrozen_modules=off as `ipykernel install` writes into the kernelspec: the kernels forked from here
            # inherit the interpreter's options, and debugpy (preloaded) warns at import without it
            self.proc = subprocess.Popen([sys.executable, "-Xfrozen_modules=off", "-m", "stsnb.cli._zygote"],
                                         stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log, env=env, close_fds=True, cwd=cwd)
        if wait:
            with self._lock:
                self._ready()
        return self

    def _ready(self, cancel: threading.Event | None = None) -> None:
        """Wait for the zygote's hello (once); raise :class:`ZygoteError` when it is not safe. Hold the lock."""
        if self.info:
            if not self.info.get("ok"):
                raise ZygoteError(f"the zygote is not safe to fork from: {self.info}")
            return
        deadline = time.monotonic() + self.start_timeout
        while not self._readable(0.2):
            if cancel is not None and cancel.is_set():
                raise KernelNotStarted("the run is stopping; no kernel started")
            if time.monotonic() > deadline or not self.alive():
                self.info = {"ok": False, "error": f"no answer within {self.start_timeout:g} s"
                             if self.alive() else f"exited with code {self.proc.poll() if self.proc else '?'}"
                             f"{self._log_tail()}"}
                raise ZygoteError(f"the zygote did not start: {self.info['error']}")
        try:
            self.info = self._read(self.start_timeout)
        except ZygoteError as e:
            self.info = {"ok": False, "error": str(e)}
            raise
        if not self.info.get("ok"):
            raise ZygoteError(f"the zygote is not safe to fork from: {self.info}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1]}" if lines else ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str | None, log: str, exit_file: str,
             timeout: float = 30.0, cancel: threading.Event | None = None) -> int:
        """Fork one kernel (ipykernel_launcher's ``argv``); its pid.

        ``cancel`` set while the zygote is still importing raises :class:`KernelNotStarted`.
        """
        req = {"op": "fork", "argv": argv, "env": dict(env), "cwd": cwd, "log": log, "exit_file": exit_file}
        with self._lock:
            if not self.alive():
                raise ZygoteError("the zygote is not running")
            self._ready(cancel)
            if cancel is not None and cancel.is_set():
                raise KernelNotStarted("the run is stopping; no kernel started")
            assert self.proc is not None and self.proc.stdin is not None
            try:
                self.proc.stdin.write((json.dumps(req) + "\n").encode("utf-8"))
                self.proc.stdin.flush()
            except OSError as e:
                raise ZygoteError(f"the zygote stopped listening: {e}") from e
            reply = self._read(timeout)
        if "pid" not in reply:
            raise ZygoteError(reply.get("error", f"unexpected reply {reply!r}"))
        return int(reply["pid"])

    def _readable(self, timeout: float) -> bool:
        import select

        assert self.proc is not None and self.proc.stdout is not None
        return bool(select.select([self.proc.stdout.fileno()], [], [], timeout)[0])

    def _read(self, timeout: float) -> dict[str, Any]:
        import select

        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise ZygoteError(f"the zygote did not answer within {timeout:g} s")
        line = self.proc.stdout.readline()
        if not line:
            raise ZygoteError(f"the zygote exited (code {self.proc.poll()})")
        return json.loads(line)

    def stop(self, timeout: float = 3.0) -> None:
        """Close its stdin (it kills its kernels and exits); kill it if it does not, or if it is still importing."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if not self.info:  # still importing: it has forked nothing and would read stdin only when done
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def kill(self) -> None:
        """At once: SIGKILL; its kernels die with it (``PR_SET_PDEATHSIG``)."""
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass


def _zygote_env() -> dict[str, str]:
    from ._zygote import ZYGOTE_ENV

    return dict(ZYGOTE_ENV)


class _ForkedKernel:
    """What ``LocalProvisioner`` expects of ``subprocess.Popen``, for a kernel the zygote forked."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, exit_file: Path) -> None:
        self.pid = pid
        self.exit_file = exit_file
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = int(self.exit_file.read_text())
            except (OSError, ValueError):
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    self.returncode = -signal.SIGKILL  # gone, and the zygote never said how
                except PermissionError:
                    pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):
    """``LocalProvisioner`` whose :meth:`launch_kernel` forks the kernel from the manager's zygote.

    Falls back to ``LocalProvisioner.launch_kernel`` (a new interpreter) when the kernel command
    is not this interpreter's ``-m ipykernel_launcher`` or the zygote refuses.
    """

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        km = self.parent
        zygote: Zygote | None = getattr(km, "zygote", None)
        argv = _ipykernel_argv(cmd)
        if zygote is None or argv is None or not zygote.alive():
            return await self._launch_cold(cmd, **kwargs)
        exit_file = Path(km.folder.path) / f"{km.kernel_id}.exit"
        try:
            # the zygote works in another folder: every path it gets is absolute
            cwd = os.path.abspath(kwargs["cwd"]) if kwargs.get("cwd") else os.getcwd()
            pid = await asyncio.to_thread(zygote.fork, argv, kwargs.get("env") or dict(os.environ), cwd,
                                          os.path.abspath(km.log_path), os.path.abspath(exit_file),
                                          cancel=km.stopping)
        except ZygoteError:  # the runner says once why kernels are cold (Zygote.info)
            return await self._launch_cold(cmd, **kwargs)
        self.process = _ForkedKernel(pid, exit_file)  # type: ignore[assignment]
        self.pid = self.pgid = pid
        self.cwd = cwd
        km.warm = True
        return self.connection_info

    async def _launch_cold(self, cmd: list[str], **kwargs: Any) -> Any:
        km = self.parent
        if km.stopping.is_set():
            raise KernelNotStarted("the run is stopping; no kernel started")
        log = open(km.log_path, "ab")  # noqa: SIM115 - Popen keeps its own copy of the descriptor
        try:
            return await super().launch_kernel(cmd, **{**kwargs, "stdout": log, "stderr": log})
        finally:
            log.close()


def _ipykernel_argv(cmd: list[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when ``cmd`` runs this interpreter's ipykernel.

    Interpreter ``-X`` options before ``-m`` are allowed (``ipykernel install`` writes
    ``-Xfrozen_modules=off``, which only matters to a debugger stepping into the standard library).
    """
    rest = cmd[1:]
    while rest and rest[0].startswith("-X"):
        rest = rest[1:]
    if not cmd or rest[:2] != ["-m", "ipykernel_launcher"]:
        return None
    try:
        same = cmd[0] == sys.executable or Path(cmd[0]).resolve() == Path(sys.executable).resolve()
    except OSError:
        return None
    return rest[2:] if same else None


class KernelFolder:
    """A private folder for connection files, IPC sockets and exit files; removed by :meth:`close`."""

    def __init__(self) -> None:
        base = "/tmp" if os.path.isdir("/tmp") and os.name == "posix" else tempfile.gettempdir()
        self.path = tempfile.mkdtemp(prefix="stsnb-k", dir=base)
        self.ipc = os.name == "posix" and len(self.path) + 40 < _IPC_PATH_MAX

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class RunnerKernelClient(AsyncKernelClient):
    """jupyter_client's async client whose :meth:`wait_for_ready` ends on evidence instead of a silence.

    Like jupyter_client's it asks ``kernel_info`` again each round until the kernel answers on the
    shell channel and IOPub turns out to be subscribed (a SUB socket joins late: jupyter_client#593),
    raising as it does when the kernel dies or the timeout passes. It is done when IOPub delivers
    the ``idle`` status of one of those requests, the last message a kernel publishes for a request;
    jupyter_client instead reads IOPub on until 0.2 s pass without a message. Whatever else is
    still on its way (the replies and statuses of a repeated request) answers requests nobody waits
    for: nbclient matches every reply and output to its own request's ``msg_id``.
    """

    #: how long one round waits for the shell reply, then for the IOPub ``idle`` after it, before asking
    #: again (a kernel publishes that ``idle`` as it replies: one that does not come was missed)
    ROUND_S, IOPUB_S = 1.0, 0.25
    #: ZMQ's pause between attempts to connect to a kernel that has not bound its sockets yet (ZMQ's default
    #: 100 ms was most of a warm kernel's start: its sockets exist ~50 ms after the fork)
    RECONNECT_MS = 10

    @default("context")
    def _context_default(self) -> Any:
        import zmq
        import zmq.asyncio

        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, self.RECONNECT_MS)  # a default for the channels' sockets
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        asked: set[str] = set()
        while True:
            asked.add(self.kernel_info())
            reply = await self._next(self.shell_channel, asked, "kernel_info_reply", deadline, self.ROUND_S)
            if reply is not None:
                idle = await self._next(self.iopub_channel, asked, "status", deadline, self.IOPUB_S,
                                        want=lambda m: m["content"].get("execution_state") == "idle")
                if idle is not None:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    @staticmethod
    async def _next(channel: Any, parents: set[str], msg_type: str, deadline: float, within: float,
                    want: Any = None) -> dict | None:
        """The first message of ``msg_type`` answering one of ``parents`` ``within`` seconds, else None."""
        end = min(deadline, time.monotonic() + within)
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await channel.get_msg(timeout=left)
            except queue.Empty:
                return None
            if (msg["msg_type"] == msg_type and msg["parent_header"].get("msg_id") in parents
                    and (want is None or want(msg))):
                return msg
        return None


class RunnerKernelManager(AsyncKernelManager):
    """A kernel manager for one notebook of ``stsnb run``: IPC channels, a log file, warm when it can be.

    Args:
        folder: where the connection file and IPC sockets live (one :class:`KernelFolder` per run).
        log_path: the kernel's stdout and stderr.
        zygote: fork the kernel from this :class:`Zygote`; ``None`` starts it the ordinary way.
        kernel_name: the kernelspec (``python3``).
    """

    client_class = DottedObjectName("stsnb.cli.kernels.RunnerKernelClient")
    client_factory = Type(klass=RunnerKernelClient)

    def __init__(self, *, folder: KernelFolder, log_path: Path, zygote: Zygote | None = None,
                 kernel_name: str = "python3", stopping: threading.Event | None = None, **kw: Any) -> None:
        kernel_id = uuid.uuid4().hex
        extra: dict[str, Any] = {}
        if folder.ipc:
            extra = {"transport": "ipc", "ip": os.path.join(folder.path, kernel_id[:12])}
        super().__init__(kernel_name=kernel_name, **extra, **kw)
        self.kernel_id = kernel_id
        self.connection_file = os.path.join(folder.path, f"kernel-{kernel_id[:12]}.json")
        self.folder = folder
        self.log_path = Path(log_path)
        self.zygote = zygote
        self.stopping = stopping or threading.Event()
        self.warm = False

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        """Until the kernel is gone (after a kill): asked every 5 ms at first, backing off to ``pollinterval``.

        jupyter_client asks every 0.1 s, so a kernel killed at the end of every notebook cost its
        worker 0.1 s although it dies within milliseconds.
        """
        delay = 0.005
        while await self._async_is_alive():
            await asyncio.sleep(delay)
            delay = min(pollinterval, delay * 2)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.provisioner = ZygoteProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    @property
    def kernel_pid(self) -> int | None:
        """The kernel's pid (also its process group), once started."""
        prov = self.provisioner
        return getattr(prov, "pid", None) if prov is not None and prov.has_process else None
