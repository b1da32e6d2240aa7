"""What one timeline figure costs: building it, and drawing it as the PNG a notebook shows.

    .venv/bin/python bench/bench_figures.py [--repeat 20]

Records two real rollouts on a sandbox (the guide's 3-replica set updated to a new image, and a
scale from 3 to 5), then builds each figure ``--repeat`` times in English and in Korean and draws
each as the PNG a notebook shows (:meth:`TimelineFigure._repr_png_`). Reported as min/median/max
CPU milliseconds of this process per figure (building and drawing apart). The lessons draw about
24 such figures; numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import stsnb


def _record() -> list:
    lab = stsnb.connect(backend="sandbox")
    try:
        lab.apply("nginx-stateful", wait=True)
        with lab.record("nginx-stateful") as update:
            lab.set_image("nginx-stateful", nginx="nginx:1.21.1", wait=True)
        with lab.record("nginx-stateful") as up:
            lab.scale("nginx-stateful", 5, wait=True)
        return [update, up]
    finally:
        lab.close()


def _cpu_ms(fn) -> tuple[float, object]:
    before = time.process_time()
    value = fn()
    return (time.process_time() - before) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    recordings = _record()
    for lang in ("en", "ko"):
        build, draw, size = [], [], []
        recordings[0].plot(lang=lang)._repr_png_()  # fonts and caches warm, as after a lesson's first figure
        for _ in range(args.repeat):
            for rec in recordings:
                ms, fig = _cpu_ms(lambda rec=rec: rec.plot(lang=lang))
                build.append(ms)
                ms, data = _cpu_ms(fig._repr_png_)
                draw.append(ms)
                size.append(len(data))
        for name, values in (("build", build), ("png", draw)):
            print(f"{lang}  {name:5}  CPU ms  min {min(values):7.1f}  median {statistics.median(values):7.1f}"
                  f"  max {max(values):7.1f}   ({len(values)} figures)")
        print(f"{lang}  PNG bytes median {statistics.median(size):.0f}")


if __name__ == "__main__":
    main()
