"""How long do the notebooks take, compared with the floor papermill itself sets?

Runs, in one process and with the same pool and settings:

1. every notebook of the chosen languages on the sandbox, through :func:`stsnb.cli.run.run_notebooks`;
2. the same number of *empty* notebooks (a parameters cell and nothing else, same kernelspec)
   through the same function, so kernel start-up, papermill and the pool are all that is measured.

It prints both wall times, the per-notebook seconds and the ratio. Numbers are reported, never
asserted. Results also go to ``bench/results/notebooks.json`` (git-ignored).

    .venv/bin/python bench/bench_notebooks.py [--jobs 2] [--lang all] [--timeout 180] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat import v4

from stsnb.cli.run import LANGS, RunResult, default_source_dir, find_notebooks, format_summary, run_notebooks

HERE = Path(__file__).resolve().parent


#: The fixed cost every lesson pays before its first step: importing stsnb and the official
#: client, starting the sandbox, and cleaning up. Measured separately to say where time goes.
CONNECT_ONLY = ("import stsnb", "lab = stsnb.connect(backend=backend, k8s_version=k8s_version, speed=speed)",
                "lab.reset()", "lab.cleanup()")


def _empty_notebooks(root: Path, langs: list[str], names: dict[str, list[str]],
                     body: tuple[str, ...] = ()) -> Path:
    """One notebook per real one, same names, in ``root/<lang>/``: a parameters cell, then ``body``."""
    for lang in langs:
        for name in names[lang]:
            nb = v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            params = v4.new_code_cell('lang = "en"\nbackend = "sandbox"\nk8s_version = "1.27"\nspeed = 20.0')
            params.metadata["tags"] = ["parameters"]
            nb.cells = [params, *(v4.new_code_cell(src) for src in body)]
            (root / lang).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(root / lang / name))
    return root


def _timed(**kw) -> tuple[float, list[RunResult]]:
    started = time.perf_counter()
    results = run_notebooks(**kw)
    return time.perf_counter() - started, results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lang", choices=[*LANGS, "all"], default="all")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=180.0)
    p.add_argument("--repeat", type=int, default=1, help="repeat both runs and report each")
    p.add_argument("--source", default=None, help="folder with en/ and ko/ (default: the repository's notebooks/)")
    args = p.parse_args(argv)
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    source = Path(args.source) if args.source else default_source_dir()
    names = {lang: [nb.name for nb in find_notebooks(source, lang)] for lang in langs}
    count = sum(len(v) for v in names.values())

    rounds = []
    with tempfile.TemporaryDirectory(prefix="stsnb-bench-") as tmp:
        tmp_path = Path(tmp)
        empty_src = _empty_notebooks(tmp_path / "empty", langs, names)
        connect_src = _empty_notebooks(tmp_path / "connect", langs, names, CONNECT_ONLY)
        for i in range(args.repeat):
            common = dict(langs=langs, backend="sandbox", jobs=args.jobs, timeout=args.timeout)
            real_s, real = _timed(source_dir=source, out_dir=tmp_path / f"real-{i}", **common)
            empty_s, empty = _timed(source_dir=empty_src, out_dir=tmp_path / f"empty-{i}", **common)
            connect_s, connect = _timed(source_dir=connect_src, out_dir=tmp_path / f"connect-{i}", **common)
            rounds.append({"notebooks_s": round(real_s, 2), "empty_s": round(empty_s, 2),
                           "connect_only_s": round(connect_s, 2),
                           "ratio": round(real_s / empty_s, 2) if empty_s else None,
                           "passed": sum(r.ok for r in real), "count": count,
                           "per_notebook_s": {r.label: round(r.seconds, 2) for r in real},
                           "per_empty_s": {r.label: round(r.seconds, 2) for r in empty}})
            print(format_summary(real))
            print()
            print(f"round {i + 1}: {count} notebooks ({', '.join(langs)}) with {args.jobs} jobs")
            print(f"  notebooks on the sandbox   {real_s:7.1f} s wall   ({sum(r.ok for r in real)}/{count} passed)")
            print(f"  empty notebooks (floor)    {empty_s:7.1f} s wall   ({sum(r.ok for r in empty)}/{count} passed)")
            print(f"  connect + cleanup only     {connect_s:7.1f} s wall   (import stsnb and the official client, "
                  "start the sandbox)")
            print(f"  ratio                      {real_s / empty_s:7.2f} x   (to connect-only: "
                  f"{real_s / connect_s:.2f} x)")
            print(f"  above the floor            {real_s - empty_s:7.1f} s, "
                  f"{(real_s - empty_s) / count:.1f} s per notebook")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "notebooks.json").write_text(json.dumps({
        "python": sys.version.split()[0], "machine": platform.machine(), "jobs": args.jobs, "langs": langs,
        "rounds": rounds}, indent=2))
    return 0 if all(r["passed"] == r["count"] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
