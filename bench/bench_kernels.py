"""Kernel starts as ``stsnb run`` makes them: how many fail, and how long they take.

Starts ``--starts`` kernels one after another through :class:`stsnb.cli.kernels.RunnerKernelManager`
(warm from one zygote, or ``--cold-kernels``), and for each one: start, wait for ``kernel_info``,
run ``1 + 1``, shut down. A start fails when any of that raises or times out ("Kernel died before
replying to kernel_info" was the failure seen with TCP ports, about 1 in 200). Prints the failures
with their first error line, and start/shutdown seconds as min/median/p95/max. Numbers are
reported, never asserted.

    .venv/bin/python bench/bench_kernels.py [--starts 300] [--cold-kernels]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stsnb.cli.kernels import KernelFolder, RunnerKernelManager, Zygote


async def _one(folder: KernelFolder, zygote: Zygote | None, log: Path, timeout: float) -> tuple[float, float, bool]:
    km = RunnerKernelManager(folder=folder, log_path=log, zygote=zygote)
    started = time.perf_counter()
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        reply = await kc.execute_interactive("1 + 1", timeout=timeout, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"1 + 1 failed: {reply['content']}")
        start_s = time.perf_counter() - started
    finally:
        kc.stop_channels()
        stopping = time.perf_counter()
        await km.shutdown_kernel(now=True)
    return start_s, time.perf_counter() - stopping, km.warm


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    p95 = sorted(values)[max(0, int(len(values) * 0.95) - 1)]
    return (f"min {min(values):.3f}  median {statistics.median(values):.3f}  p95 {p95:.3f}  "
            f"max {max(values):.3f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--starts", type=int, default=300, help="kernels to start, one after another (default: 300)")
    p.add_argument("--cold-kernels", action="store_true", help="new interpreters instead of forks of a zygote")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds for each start (default: 60)")
    args = p.parse_args(argv)
    folder = KernelFolder()
    zygote = None if args.cold_kernels else Zygote().start(cwd=folder.path)
    starts: list[float] = []
    stops: list[float] = []
    failures: list[str] = []
    warm = 0
    with tempfile.TemporaryDirectory(prefix="stsnb-kernels-") as logs:
        try:
            for i in range(args.starts):
                log = Path(logs) / f"kernel-{i}.log"
                try:
                    start_s, stop_s, was_warm = asyncio.run(_one(folder, zygote, log, args.timeout))
                except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                    failures.append(f"start {i + 1}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
                    continue
                starts.append(start_s)
                stops.append(stop_s)
                warm += was_warm
        finally:
            if zygote is not None:
                zygote.stop()
            folder.close()
    print(f"{args.starts} consecutive kernel starts ({'cold' if args.cold_kernels else 'warm'}; {warm} forked warm): "
          f"{len(failures)} failed")
    for line in failures[:20]:
        print(f"  {line}")
    print(f"  start to 1 + 1 answered, s  {_spread(starts)}")
    print(f"  shutdown (now=True), s      {_spread(stops)}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
