"""Ctrl-C in the middle of ``stsnb run``, as a terminal sends it: SIGINT to the process, once or twice.

The run: one quick notebook that finishes first, one that is mid-cell when SIGINT arrives (it
writes a marker file, then sleeps), and one still queued (``--jobs 1``). The slow one already has a
complete executed copy from an earlier run, which must survive untouched.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from .conftest import clean_env, write_lessons

#: How long the test waits for the run to reach the slow cell (a hang guard, not a measurement).
REACH_S = 120


def _start(tmp_path: Path, *, deaf: bool = False) -> tuple[subprocess.Popen, Path, Path, bytes]:
    """``deaf``: the slow cell ignores SIGINT (ipykernel restores its own handler before each cell, so in
    the cell itself), so the first Ctrl-C cannot end the run before the second one comes."""
    marker = tmp_path / "slow-cell-started"
    ignore = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" if deaf else ""
    lessons = {
        # most code cells: the runner starts it first
        "01-quick.ipynb": ["x = 1", "x += 1", "x += 1", "print(x)"],
        "02-slow.ipynb": ["import pathlib, time",
                          f"{ignore}pathlib.Path({str(marker)!r}).write_text('1')\ntime.sleep(300)"],
        "03-queued.ipynb": "print('never runs')",
    }
    src = write_lessons(tmp_path / "src", lessons, langs=("en",))
    out = tmp_path / "out"
    previous = out / "en" / "02-slow.ipynb"
    previous.parent.mkdir(parents=True)
    previous.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "note": "earlier run"}')
    proc = subprocess.Popen([sys.executable, "-m", "stsnb", "run", "--source", str(src), "--out", str(out),
                             "--lang", "en", "--jobs", "1", "--timeout", "600", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    deadline = time.monotonic() + REACH_S
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            out_text, err_text = proc.communicate(timeout=30) if proc.poll() is not None else ("", "")
            proc.kill()
            pytest.fail(f"the run never reached the slow cell (exit {proc.poll()}):\n{out_text}\n{err_text}")
        time.sleep(0.1)
    return proc, out, previous, hashlib.sha256(previous.read_bytes()).digest()


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[str]:
    alive = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return alive


def _gone_soon(procs: list[psutil.Process], within: float = 5.0) -> list[str]:
    """Processes still alive after ``within`` seconds (a kernel killed by PDEATHSIG takes a moment to go)."""
    deadline = time.monotonic() + within
    while (alive := _alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def test_first_ctrl_c_stops_the_run_prints_what_was_interrupted_and_leaves_nothing_running(tmp_path):
    proc, out, previous, digest = _start(tmp_path)
    children = _descendants(proc.pid)
    assert any("stsnb.cli._zygote" in " ".join(c.cmdline()) for c in children)
    proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("stsnb run did not exit within 10 s of Ctrl-C")
    assert proc.returncode == 130, stderr
    assert "interrupted; stopping en/02-slow.ipynb and 1 queued" in stderr
    assert "stopped while running: en/02-slow.ipynb; not started: en/03-queued.ipynb" in stdout
    rows = {line.split()[1]: line.split()[2] for line in stdout.splitlines() if line.startswith("en ")}
    assert rows == {"01-quick.ipynb": "passed", "02-slow.ipynb": "interrupted", "03-queued.ipynb": "cancelled"}
    assert hashlib.sha256(previous.read_bytes()).digest() == digest
    assert (out / "en" / "02-slow.interrupted.ipynb").exists()
    assert (out / "en" / "01-quick.ipynb").exists() and not (out / "en" / "03-queued.ipynb").exists()
    assert _gone_soon(children) == []


def test_second_ctrl_c_exits_at_once_and_kills_every_kernel(tmp_path):
    proc, out, previous, digest = _start(tmp_path, deaf=True)
    children = _descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("a second Ctrl-C did not stop stsnb run at once")
    assert proc.returncode == 130, stderr
    assert "stopped at once" in stderr
    assert hashlib.sha256(previous.read_bytes()).digest() == digest
    assert _gone_soon(children) == []


def test_a_killed_runner_takes_its_zygote_and_kernels_with_it(tmp_path):
    proc, _, _, _ = _start(tmp_path)
    children = _descendants(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert _gone_soon(children, within=10) == []
