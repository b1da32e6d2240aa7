"""How long do the lessons take, compared with the floor the runner itself sets?

Interleaved rounds, in one process and with the same runner and settings: each round runs

1. the same number of *empty* notebooks (same names, a parameters cell and nothing else) through
   :func:`stsnb.cli.run.run_notebooks`: kernel start-up, papermill and the runner are all it measures;
2. every lesson of the chosen languages on the sandbox, through the same function;
3. with ``--connect-only``, notebooks that only import stsnb, connect and clean up (the fixed cost
   every lesson pays before its first step);
4. with ``--replay``, *replays* of that round's executed lessons: the same cells (markdown as it is,
   each code cell replaced by one that re-publishes the outputs the lesson cell printed and showed,
   its tables, figures and widget views byte for byte, without computing them). Jupyter, papermill
   and the runner handle the same cells and the same output bytes as for the lessons, so this is the
   floor of "unchanged outputs": what the lessons would cost if the lab, the sandbox, pandas and
   matplotlib took no time at all;
5. with ``--replay-connected``, the same replays except that the cells which connect, ``lab.reset()``
   and ``lab.cleanup()`` run as written: the sandbox starts and stops as in a lesson, so this adds the
   fixed cost no lesson can skip to the floor of unchanged outputs.

Each is reported as wall seconds and CPU seconds (this process plus every child process it waited
for: the zygote and its kernels, or pool workers and theirs), min/median/max over the rounds, and
the ratio lessons/empty per round (wall and CPU). Numbers are reported, never asserted. Results
also go to ``bench/results/notebooks.json`` (git-ignored).

    .venv/bin/python bench/bench_notebooks.py [--rounds 3] [--jobs 2] [--lang all] [--cold-kernels]
                                              [--connect-only] [--replay] [--replay-connected]

``PYTHONPATH=<folder with another stsnb/>`` (run from a folder that has no ``stsnb/``) measures
that copy's runner the same way, e.g. an older commit for a before/after comparison.
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat import v4

from stsnb.cli.run import LANGS, find_notebooks, format_summary, run_notebooks

try:
    from stsnb.cli.runner import DEFAULT_JOBS
except ImportError:  # an older stsnb
    DEFAULT_JOBS = 2

try:
    from stsnb.cli.lessons import lessons_root as default_source
except ImportError:  # an older stsnb
    from stsnb.cli.run import default_source_dir as default_source

HERE = Path(__file__).resolve().parent

#: What every lesson does before its first step and at its end.
CONNECT_ONLY = ("import stsnb", "lab = stsnb.connect(backend=backend, k8s_version=k8s_version, speed=speed)",
                "lab.reset()", "lab.cleanup()")


def _stand_ins(root: Path, langs: list[str], names: dict[str, list[str]], body: tuple[str, ...] = ()) -> Path:
    """One notebook per lesson, same names, in ``root/<lang>/``: a parameters cell, then ``body``."""
    for lang in langs:
        for name in names[lang]:
            nb = v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            params = v4.new_code_cell('backend = "auto"\nnamespace = None\nk8s_version = None\nspeed = None\n'
                                      'timeout_s = None\nstorage_class = None\nlang = "en"')
            params.metadata["tags"] = ["parameters"]
            nb.cells = [params, *(v4.new_code_cell(src) for src in body)]
            (root / lang).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(root / lang / name))
    return root


#: The replay's first cell: reads the recorded outputs, and ``_replay(i)`` re-emits those of code cell ``i``
#: (streams written, displays published, the cell's value returned as a mime bundle for the display hook).
REPLAY_PRELUDE = """\
import json as _json, sys as _sys
from IPython.display import publish_display_data as _publish
_OUTPUTS = _json.load(open({path!r}, encoding="utf-8"))
class _Value:
    def __init__(self, output):
        self.output = output
    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.output["data"], self.output.get("metadata", {{}})
def _replay(i):
    value = None
    for output in _OUTPUTS[i]:
        kind = output["output_type"]
        if kind == "stream":
            (_sys.stdout if output["name"] == "stdout" else _sys.stderr).write(output["text"])
        elif kind == "execute_result":
            value = _Value(output)
        elif kind == "display_data":
            _publish(output["data"], output.get("metadata", {{}}))
    return value"""


def _joined(output: dict) -> dict:
    """An output as the kernel sent it: nbformat stores multi-line text as lists of lines."""
    out = dict(output)
    if isinstance(out.get("text"), list):
        out["text"] = "".join(out["text"])
    if "data" in out:
        out["data"] = {k: "".join(v) if isinstance(v, list) else v for k, v in out["data"].items()}
    return out


#: With ``--replay-connected``, the lesson cells that run as written in a replay: connecting (the sandbox starts),
#: ``lab.reset()`` and ``lab.cleanup()``, the fixed cost every lesson pays whatever its steps.
CONNECTED = ("stsnb.connect(", "lab.reset()", "lab.cleanup()")


def _replays(root: Path, executed: Path, langs: list[str], names: dict[str, list[str]],
             keep: tuple[str, ...] = ()) -> Path:
    """Replays of the executed lessons in ``executed/<lang>/``: same cells, outputs re-emitted (see the docstring).

    A code cell whose source contains one of ``keep`` runs as written instead of being replayed."""
    for lang in langs:
        for name in names[lang]:
            lesson = nbformat.read(str(executed / lang / name), as_version=4)
            outputs, cells = [], []
            for cell in lesson.cells:
                if cell.cell_type != "code":
                    cells.append(cell)
                elif "parameters" in cell.metadata.get("tags", []) or \
                        "injected-parameters" in cell.metadata.get("tags", []):
                    if "parameters" in cell.metadata.get("tags", []):
                        cells.append(v4.new_code_cell(cell.source, metadata={"tags": ["parameters"]}))
                elif any(k in cell.source for k in keep):
                    cells.append(v4.new_code_cell(cell.source))
                else:
                    cells.append(v4.new_code_cell(f"_replay({len(outputs)})"))
                    outputs.append([_joined(o) for o in cell.outputs if o.output_type != "error"])
            (root / lang).mkdir(parents=True, exist_ok=True)
            data = root / lang / (name + ".outputs.json")
            data.write_text(json.dumps(outputs), encoding="utf-8")
            first = next(i for i, c in enumerate(cells) if c.cell_type == "code") + 1
            cells.insert(first, v4.new_code_cell(REPLAY_PRELUDE.format(path=str(data))))
            nb = v4.new_notebook(cells=cells, metadata=lesson.metadata)
            nb.metadata.pop("papermill", None)
            nbformat.write(nb, str(root / lang / name))
    return root


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(**kw) -> tuple[float, float, list]:
    """``(wall s, CPU s, results)`` of one ``run_notebooks`` call."""
    accepted = inspect.signature(run_notebooks).parameters
    kw = {k: v for k, v in kw.items() if k in accepted}
    if "on_result" in accepted:
        kw["on_result"] = lambda result: None  # no per-notebook lines
    cpu, started = _cpu(), time.perf_counter()
    results = run_notebooks(**kw)
    return time.perf_counter() - started, _cpu() - cpu, results


def _spread(values: list[float]) -> str:
    return f"min {min(values):7.2f}  median {statistics.median(values):7.2f}  max {max(values):7.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="which lessons (default: all)")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                   help=f"notebooks at a time (default: the runner's, {DEFAULT_JOBS} here)")
    p.add_argument("--timeout", type=float, default=180.0, help="cell timeout in seconds (default: 180)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: 3)")
    p.add_argument("--connect-only", action="store_true", help="also time notebooks that only connect and clean up")
    p.add_argument("--replay", action="store_true",
                   help="also time replays of each round's executed lessons (same cells and output bytes, no work)")
    p.add_argument("--replay-connected", action="store_true",
                   help="also time replays whose connect, reset and cleanup cells run as written (the sandbox starts)")
    p.add_argument("--cold-kernels", action="store_true", help="start kernels as new interpreters (no zygote)")
    p.add_argument("--source", default=None, help="folder with en/ and ko/ (default: the lessons stsnb finds)")
    args = p.parse_args(argv)
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    source = Path(args.source) if args.source else default_source()
    names = {lang: [nb.name for nb in find_notebooks(source, lang)] for lang in langs}
    count = sum(len(v) for v in names.values())
    kinds = ["empty", "lessons"] + (["connect"] if args.connect_only else []) + (["replay"] if args.replay else []) \
        + (["replay+connect"] if args.replay_connected else [])
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="stsnb-bench-") as tmp:
        tmp_path = Path(tmp)
        sources = {"empty": _stand_ins(tmp_path / "empty", langs, names), "lessons": source,
                   "connect": _stand_ins(tmp_path / "connect", langs, names, CONNECT_ONLY)}
        for i in range(args.rounds):
            row: dict = {}
            for kind in kinds:
                if kind in ("replay", "replay+connect"):
                    sources[kind] = _replays(tmp_path / f"{kind}-src-{i}", tmp_path / f"lessons-{i}", langs, names,
                                             keep=CONNECTED if kind == "replay+connect" else ())
                wall, cpu, results = _timed(langs=langs, backend="sandbox", jobs=args.jobs, timeout=args.timeout,
                                            source_dir=sources[kind], out_dir=tmp_path / f"{kind}-{i}",
                                            warm=False if args.cold_kernels else None)
                row[kind] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "passed": sum(r.ok for r in results),
                             "per_notebook_s": {r.label: round(r.seconds, 2) for r in results}}
                if kind == "lessons" and row[kind]["passed"] != count:
                    print(format_summary(results))
            row["ratio_wall"] = round(row["lessons"]["wall_s"] / row["empty"]["wall_s"], 2)
            row["ratio_cpu"] = round(row["lessons"]["cpu_s"] / row["empty"]["cpu_s"], 2)
            for kind in ("replay", "replay+connect"):
                if kind in row:
                    row[f"ratio_{kind}_wall"] = round(row[kind]["wall_s"] / row["empty"]["wall_s"], 2)
                    row[f"ratio_{kind}_cpu"] = round(row[kind]["cpu_s"] / row["empty"]["cpu_s"], 2)
            rounds.append(row)
            print(f"round {i + 1}: " + "  ".join(f"{k} {row[k]['wall_s']:.1f} s wall / {row[k]['cpu_s']:.1f} s CPU "
                                               f"({row[k]['passed']}/{count})" for k in kinds)
                  + f"  ratio {row['ratio_wall']:.2f}x wall, {row['ratio_cpu']:.2f}x CPU", flush=True)
    print(f"\n{count} notebooks ({', '.join(langs)}), {args.jobs} jobs, {args.rounds} interleaved rounds, "
          f"{'cold' if args.cold_kernels else 'warm where supported'} kernels:")
    for kind in kinds:
        print(f"  {kind:<14} wall s  {_spread([r[kind]['wall_s'] for r in rounds])}")
        print(f"  {'':<14} CPU s   {_spread([r[kind]['cpu_s'] for r in rounds])}")
    print(f"  ratio lessons/empty, wall  {_spread([r['ratio_wall'] for r in rounds])}")
    print(f"  ratio lessons/empty, CPU   {_spread([r['ratio_cpu'] for r in rounds])}")
    for kind in ("replay", "replay+connect"):
        if kind in kinds:
            print(f"  ratio {kind}/empty, wall  {_spread([r[f'ratio_{kind}_wall'] for r in rounds])}")
            print(f"  ratio {kind}/empty, CPU   {_spread([r[f'ratio_{kind}_cpu'] for r in rounds])}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "notebooks.json").write_text(json.dumps({
        "python": sys.version.split()[0], "machine": platform.machine(), "jobs": args.jobs, "langs": langs,
        "cold_kernels": args.cold_kernels, "rounds": rounds}, indent=2))
    return 0 if all(r["lessons"]["passed"] == count for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
