"""Kernels of ``stsnb run``: forked warm from the zygote, over IPC sockets, each its own process.

Each test runs tiny notebooks through the real runner and asks the kernel about itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import nbformat

from stsnb.cli.kernels import KernelFolder, RunnerKernelManager, Zygote
from stsnb.cli.run import run_notebooks

from .conftest import write_lessons

INTROSPECT = "\n".join([
    "import gc, json, os, random, sys",
    "import numpy",
    "class Cycle: pass",
    "a, b = Cycle(), Cycle(); a.b, b.a = b, a; del a, b",
    "collected = gc.collect()",
    "from ipykernel.connect import get_connection_info",
    "parent = open(f'/proc/{os.getppid()}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()",
    "import matplotlib",
    "print(json.dumps({'parent': parent, 'pid': os.getpid(), 'cwd': os.getcwd(), 'path0': sys.path[0],",
    "    'transport': json.loads(get_connection_info())['transport'], 'backend': matplotlib.get_backend(),",
    "    'random': random.random(), 'numpy': float(numpy.random.rand()), 'argv0': sys.argv[0],",
    "    'frozen': gc.get_freeze_count(), 'gc': gc.isenabled(), 'collected': collected}))",
])


def _introspect(tmp_path: Path, warm: bool | None) -> list[dict]:
    src = write_lessons(tmp_path / "src", {"01-a.ipynb": INTROSPECT, "02-b.ipynb": INTROSPECT}, langs=("en",))
    results = run_notebooks(["en"], source_dir=src, out_dir=tmp_path / "out", jobs=2, timeout=60, warm=warm)
    assert all(r.ok for r in results), [r.describe_failure() for r in results]
    seen = []
    for r in results:
        nb = nbformat.read(str(r.output), as_version=4)
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        seen.append({**json.loads(text), "warm": r.warm, "folder": str(r.source.parent)})
    return seen


def test_kernels_are_forked_from_the_warm_zygote(tmp_path):
    for kernel in _introspect(tmp_path, warm=None):
        assert kernel["warm"] is True
        assert "stsnb.cli._zygote" in kernel["parent"]
        assert kernel["argv0"].endswith("ipykernel_launcher.py")


def test_a_warm_kernel_works_in_the_notebooks_folder_like_a_jupyter_kernel(tmp_path):
    for kernel in _introspect(tmp_path, warm=None):
        assert kernel["cwd"] == kernel["folder"] == kernel["path0"]


def test_a_warm_kernel_has_the_inline_matplotlib_backend(tmp_path):
    assert {k["backend"] for k in _introspect(tmp_path, warm=None)} == {"module://matplotlib_inline.backend_inline"}


def test_a_warm_kernel_inherits_the_zygotes_imports_frozen_and_collects_its_own_cycles(tmp_path):
    for kernel in _introspect(tmp_path, warm=None):
        assert kernel["frozen"] > 10_000, "pandas, matplotlib, IPython … sit in the permanent generation"
        assert kernel["gc"] is True and kernel["collected"] >= 2, "the kernel's own garbage is still collected"


def test_two_warm_kernels_draw_different_random_numbers(tmp_path):
    a, b = _introspect(tmp_path, warm=None)
    assert a["pid"] != b["pid"]
    assert a["random"] != b["random"] and a["numpy"] != b["numpy"]


def test_kernels_talk_over_ipc_sockets_not_tcp_ports(tmp_path):
    assert {k["transport"] for k in _introspect(tmp_path, warm=None)} == {"ipc"}


def test_without_warm_kernels_each_kernel_is_a_new_interpreter(tmp_path):
    for kernel in _introspect(tmp_path, warm=False):
        assert kernel["warm"] is False
        assert "stsnb.cli._zygote" not in kernel["parent"]
        assert kernel["frozen"] == 0 and kernel["collected"] >= 2
        assert kernel["transport"] == "ipc"
        assert kernel["backend"] == "module://matplotlib_inline.backend_inline"


def test_the_zygote_has_one_thread_and_nothing_a_kernel_must_not_share_when_it_is_ready(tmp_path):
    folder = KernelFolder()
    zygote = Zygote().start(cwd=folder.path)
    try:
        assert zygote.info["ok"] is True
        assert zygote.info["threads"] == 1 and zygote.info["shared"] == []
        assert zygote.info["failed"] == {}
    finally:
        zygote.stop()
        folder.close()


def test_a_kernel_dies_with_its_zygote(tmp_path):
    folder = KernelFolder()
    zygote = Zygote().start(cwd=folder.path)
    km = RunnerKernelManager(folder=folder, log_path=tmp_path / "kernel.log", zygote=zygote)

    async def fork_then_kill_the_zygote() -> tuple[int, bool]:
        await km.start_kernel()
        pid = km.kernel_pid
        try:
            assert km.warm and pid
            os.kill(zygote.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _exists(pid) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return pid, _exists(pid)
        finally:
            await km.shutdown_kernel(now=True)

    try:
        pid, alive = asyncio.run(fork_then_kill_the_zygote())
        assert pid and not alive
    finally:
        zygote.stop()
        folder.close()


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_warm_kernels_work_with_folders_given_relative_to_where_stsnb_runs(tmp_path, monkeypatch):
    write_lessons(tmp_path / "src", {"01-a.ipynb": "print('hello')"}, langs=("en",))
    monkeypatch.chdir(tmp_path)
    [result] = run_notebooks(["en"], source_dir="src", out_dir="out", jobs=1, timeout=60)
    assert result.ok and result.warm, result.describe_failure()
    assert (tmp_path / "out" / "en" / "01-a.ipynb").exists()
    assert (tmp_path / "out" / "logs" / "en-01-a.log").exists()


def test_a_backend_named_in_the_environment_wins_in_warm_and_cold_kernels_alike(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "agg")
    warm = _introspect(tmp_path / "warm", warm=None)
    cold = _introspect(tmp_path / "cold", warm=False)
    assert {k["backend"] for k in warm} == {k["backend"] for k in cold} == {"agg"}


CONNECT_AND_EXEC = "\n".join([
    "import json, sys",
    "before = set(sys.modules)",
    "import stsnb",
    "lab = stsnb.connect(backend='sandbox')",
    "lab.apply('nginx-stateful', wait=True)",
    "lab.exec_each('statefulset/nginx-stateful', 'hostname')",
    "lab.nslookup('nginx-stateful-0.nginx-stateful', image='busybox')",
    "lab.close()",
    "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in",
    "             ('stsnb', 'cryptography', 'dns', 'wsproto', 'debugpy', 'kubernetes'))",
    "print(json.dumps({'new': new, 'xoptions': sys._xoptions, 'debugger': 'ipykernel.debugger' in before}))",
])


def test_a_warm_kernel_starts_a_sandbox_execs_and_resolves_without_importing_anything(tmp_path):
    """The zygote imported the API server, its TLS, DNS, the container programs and debugpy once, for every kernel."""
    src = write_lessons(tmp_path / "src", {"01-a.ipynb": CONNECT_AND_EXEC}, langs=("en",))
    (result,) = run_notebooks(["en"], source_dir=src, out_dir=tmp_path / "out", jobs=1, timeout=120, warm=None)
    assert result.ok and result.warm, result.describe_failure()
    nb = nbformat.read(str(result.output), as_version=4)
    seen = json.loads("".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs))
    assert seen["new"] == []
    assert seen["debugger"] is True
    assert seen["xoptions"].get("frozen_modules") == "off"  # as the kernelspec `ipykernel install` writes


def test_a_kernel_that_never_stops_printing_is_ready_as_soon_as_it_has_answered(tmp_path):
    """jupyter_client reads IOPub until it has been silent for 0.2 s, which never happens here."""
    folder = KernelFolder()
    zygote = Zygote().start(cwd=folder.path)
    km = RunnerKernelManager(folder=folder, log_path=tmp_path / "kernel.log", zygote=zygote)
    chatter = ("import threading, time\n"
               "def chatter():\n"
               "    while True:\n"
               "        print('.', end='', flush=True)\n"
               "        time.sleep(0.02)\n"
               "threading.Thread(target=chatter, daemon=True).start()")

    async def second_client_while_it_prints() -> tuple[str, str]:
        await km.start_kernel()
        first = km.client()
        first.start_channels()
        try:
            await first.wait_for_ready(timeout=30)
            started = await first.execute_interactive(chatter, timeout=30, output_hook=lambda msg: None)
            second = km.client()
            second.start_channels()
            try:
                await asyncio.wait_for(second.wait_for_ready(timeout=30), timeout=20)
                seen: list[str] = []
                reply = await second.execute_interactive("print('answer', 6 * 7)", timeout=30,
                                                         output_hook=lambda m: seen.append(m["content"].get("text", "")))
                # the chatter's dots may be sent as this cell's output too (ipykernel routes a thread's
                # output to the request being executed): what this cell printed is among them
                return started["content"]["status"], reply["content"]["status"] + " " + \
                    ("answer 42" if "answer 42\n" in "".join(seen) else "".join(seen))
            finally:
                second.stop_channels()
        finally:
            first.stop_channels()
            await km.shutdown_kernel(now=True)

    try:
        assert asyncio.run(second_client_while_it_prints()) == ("ok", "ok answer 42")
    finally:
        zygote.stop()
        folder.close()


def test_the_runner_kernels_client_is_ready_only_once_the_kernel_has_answered_on_both_channels(tmp_path):
    folder = KernelFolder()
    zygote = Zygote().start(cwd=folder.path)
    km = RunnerKernelManager(folder=folder, log_path=tmp_path / "kernel.log", zygote=zygote)

    async def ready_then_first_output() -> tuple[str, str]:
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=30)
            msg_id = kc.execute("print('first')")
            outputs: list[str] = []
            while True:  # the very first cell's output and idle arrive on IOPub: it is subscribed
                msg = await kc.get_iopub_msg(timeout=10)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    outputs.append(msg["content"]["text"])
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return type(kc).__name__, "".join(outputs)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    try:
        assert asyncio.run(ready_then_first_output()) == ("RunnerKernelClient", "first\n")
    finally:
        zygote.stop()
        folder.close()
