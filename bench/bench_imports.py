"""What ``import stsnb`` + ``stsnb.connect()`` costs in a fresh process, and which imports cost most.

Each round starts a new interpreter that imports stsnb, connects a lab to a new sandbox and closes
it; reported as min/median/max: the CPU seconds (user + system) it spent from start until connected,
those of the whole process including interpreter exit (from ``wait4``), and wall seconds. One more run under ``python -X importtime`` gives the ten imports with the largest
cumulative time. ``--source DIR`` measures another copy of the package (a folder holding
``stsnb/``, put first on ``PYTHONPATH``), e.g. an older commit for a before/after comparison::

    git archive <commit> stsnb | tar -x -C /tmp/before
    .venv/bin/python bench/bench_imports.py --source /tmp/before
    .venv/bin/python bench/bench_imports.py

Run it with bytecode caching on (``env -u PYTHONDONTWRITEBYTECODE``) to measure what an installed
package costs; with ``PYTHONDONTWRITEBYTECODE=1`` every stsnb module is compiled again in every
process (~0.2 CPU-s more). Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CODE = "import stsnb\nlab = stsnb.connect()\nlab.close()\n"
#: The same, then the CPU seconds spent so far (interpreter start, imports, connect; not the exit).
MEASURED = CODE + ("import resource\nr = resource.getrusage(resource.RUSAGE_SELF)\n"
                   "print(r.ru_utime + r.ru_stime, flush=True)\n")
#: Children run here, so that ``-c``'s working folder on sys.path holds no stsnb/ of its own.
NEUTRAL = tempfile.gettempdir()


def _env(source: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSNB_")}
    if source:
        env["PYTHONPATH"] = source
    return env


def measure(source: str | None) -> tuple[float, float, float]:
    """``(CPU s to connected, CPU s of the whole process, wall s)`` of one fresh ``import stsnb; stsnb.connect()``."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", MEASURED], env=_env(source), stdout=subprocess.PIPE, text=True,
                            cwd=NEUTRAL)
    assert proc.stdout is not None
    connected = float(proc.stdout.read().strip())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the measured process failed with status {status}")
    return connected, usage.ru_utime + usage.ru_stime, wall


def top_imports(source: str | None, count: int = 10) -> list[tuple[float, float, str]]:
    """``(cumulative ms, self ms, module)`` of the ``count`` most expensive imports."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", CODE], env=_env(source), capture_output=True,
                          text=True, check=True, cwd=NEUTRAL)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|")
        rows.append((int(cumulative) / 1000, int(own) / 1000, name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7, help="fresh processes to measure (default: 7)")
    p.add_argument("--source", default=None, help="a folder holding another stsnb/ to measure (default: this one)")
    args = p.parse_args(argv)
    runs = [measure(args.source) for _ in range(args.rounds)]
    print(f"import stsnb + connect(), {args.rounds} fresh processes ({args.source or 'this checkout'}):")
    for label, values in (("CPU s, start to connected", [r[0] for r in runs]),
                          ("CPU s, whole process (with exit)", [r[1] for r in runs]),
                          ("wall s, whole process", [r[2] for r in runs])):
        print(f"  {label:<34} min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}")
    print("  top-10 imports by cumulative time (python -X importtime; its own overhead included):")
    for cumulative, own, name in top_imports(args.source):
        print(f"    {cumulative:8.1f} ms  (self {own:6.1f} ms)  {name.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
