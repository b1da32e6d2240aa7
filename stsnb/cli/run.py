"""``stsnb run``: execute the lessons with papermill and write the executed copies for the docs.

The work is in :mod:`stsnb.cli.runner` (the pool, warm kernels, Ctrl-C), :mod:`stsnb.cli.execute`
(one notebook, written once at its end), :mod:`stsnb.cli.params` (parameters checked before any
kernel starts) and :mod:`stsnb.cli.report` (results, summary, ``run.json``); this module is the
command line, and keeps the names other code imports from here.

Library use::

    from stsnb.cli.run import run_notebooks
    results = run_notebooks(["en", "ko"], backend="sandbox", jobs=2, timeout=120)
    assert all(r.ok for r in results)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import StsnbError
from .lessons import LANGS, find_notebooks, lessons_root
from .params import Given, format_parameters, infer, read_parameters
from .report import RunResult, format_summary
from .runner import (DEFAULT_JOBS, DEFAULT_OUT, DEFAULT_TIMEOUT, KERNEL_NAME, RunInterrupted, check_kernel,
                     run_notebooks)

__all__ = ["LANGS", "RunResult", "find_notebooks", "check_kernel", "run_notebooks", "format_summary", "main_run",
           "default_source_dir", "add_arguments", "command", "DESCRIPTION"]

DESCRIPTION = ("Execute the lessons (Jupyter notebooks) headless with papermill, on the embedded sandbox cluster "
               "unless told otherwise, and write the executed copies (with outputs) for the docs site. "
               "Parameters are checked before any kernel starts; Ctrl-C stops cleanly (twice: at once).")

#: Kept for callers of the earlier API: where the lessons are.
default_source_dir = lessons_root
#: ``-p`` values as papermill types them.
_infer = infer


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``stsnb run``."""
    p.add_argument("select", nargs="*", metavar="NOTEBOOK",
                   help="run only notebooks whose name starts with or contains this, e.g. 03 (default: all)")
    p.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="which language (default: all)")
    p.add_argument("--list", action="store_true",
                   help="list the notebooks and their parameters (from their parameters cells), run nothing")
    p.add_argument("--backend", choices=["sandbox", "kubeconfig", "auto"], default=None,
                   help="injected as the backend parameter (default: the notebooks' own, auto: the sandbox "
                        "unless STSNB_BACKEND or STSNB_KUBECONFIG says otherwise)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="inject a parameter, typed as papermill types it: True/False, None, int, float, "
                        "else text (default: none; see --list)")
    p.add_argument("-r", "--raw", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="inject a parameter as text, untyped: use it for versions (-r k8s_version 1.30; "
                        "-p would make that the number 1.3) (default: none)")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help=f"where executed copies go, one folder per language (default: {DEFAULT_OUT})")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                   help=f"notebooks at a time on the sandbox; a real cluster runs one at a time "
                        f"(default: {DEFAULT_JOBS}, one per CPU plus one)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"execution timeout of each cell in seconds (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--source", default=None,
                   help="folder with en/ and ko/ (default: $STSNB_NOTEBOOKS, else the lessons installed with "
                        "stsnb, else the checkout's notebooks/)")
    p.add_argument("--kernel", default=KERNEL_NAME, help=f"kernelspec to run (default: {KERNEL_NAME})")
    p.add_argument("--cold-kernels", action="store_true",
                   help="start every kernel as a new interpreter instead of forking it from a warm one "
                        "(default: warm on Linux; also STSNB_WARM_KERNELS=0)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar; print a line as each notebook ends (default: a bar on stderr)")
    return p


def _parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(prog="stsnb run", description=DESCRIPTION))


def main_run(argv: Sequence[str] | None = None) -> int:
    """``stsnb run [NOTEBOOK…] [--lang ko|en|all] [-p NAME VALUE] [-r NAME VALUE] [--out DIR] [--jobs N] …``.

    Prints the per-notebook summary; returns 0 when every notebook passed, 1 when one failed
    (naming the notebook and the cell), 2 on a usage or configuration error, 130 on Ctrl-C.
    """
    return command(_parser().parse_args(list(sys.argv[1:] if argv is None else argv)))


def list_notebooks(langs: Sequence[str], source: Path, select: Sequence[str]) -> str:
    """``stsnb run --list``: each notebook with its title, then the parameters (once when all share them)."""
    lines: list[str] = []
    declared: dict[str, list] = {}
    for lang in langs:
        lines.append(f"{lang}: {source / lang}")
        for nb in find_notebooks(source, lang, select):
            declared[f"{lang}/{nb.name}"] = params = read_parameters(nb)
            lines.append(f"  {nb.name:<34} {_title(nb)}")
    distinct = {tuple(p) for p in declared.values()}
    lines.append("")
    if len(distinct) == 1:
        lines.append("parameters (every notebook; -p NAME VALUE, or -r NAME VALUE for text such as versions):")
        lines.extend(f"  {line}" for line in format_parameters(list(next(iter(distinct)))))
    else:
        for label, params in declared.items():
            lines.append(f"parameters of {label}:")
            lines.extend(f"  {line}" for line in format_parameters(params))
    lines.append("  (lang is set per language by --lang)")
    return "\n".join(lines)


def _title(nb: Path) -> str:
    import json

    for cell in json.loads(nb.read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") == "markdown":
            text = "".join(cell["source"]) if isinstance(cell.get("source"), list) else cell.get("source", "")
            for line in text.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def command(args: argparse.Namespace) -> int:
    """Run what ``stsnb run`` was asked for (``args`` from :func:`add_arguments`)."""
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    given = [Given.typed(n, v) for n, v in args.parameter] + [Given.raw_text(n, v) for n, v in args.raw]
    started = time.perf_counter()
    try:
        source = Path(args.source) if args.source else lessons_root()
        if args.list:
            print(list_notebooks(langs, source, args.select))
            return 0
        results = run_notebooks(langs, backend=args.backend, given=given, out_dir=args.out, jobs=args.jobs,
                                timeout=args.timeout, source_dir=source, select=args.select,
                                kernel_name=args.kernel, progress=not args.no_progress,
                                warm=False if args.cold_kernels else None,
                                on_note=lambda text: print(f"stsnb run: {text}", file=sys.stderr, flush=True))
    except RunInterrupted as e:
        print(format_summary(e.results))
        print(f"interrupted after {time.perf_counter() - started:.1f} s; executed copies in {args.out}", flush=True)
        return 130
    except StsnbError as e:
        print(f"stsnb run: {e}", file=sys.stderr)
        return 2
    print(format_summary(results))
    print(f"wall time {time.perf_counter() - started:.1f} s; executed copies in {args.out}")
    return 0 if all(r.ok for r in results) else 1
