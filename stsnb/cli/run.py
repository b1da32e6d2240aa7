"""``stsnb run``: execute the notebooks with papermill, in a small process pool.

Each notebook of each language is one task: papermill injects the parameters
(``lang`` always; ``backend`` when given; anything passed with ``-p``) after the
cell tagged ``parameters``, runs every cell with a per-cell execution timeout and
writes the executed copy to ``<out>/<lang>/<name>.ipynb``. A failing task never
stops the others; its :class:`RunResult` names the notebook, the cell (its index
in the source notebook, its tags and first line) and the error. Notebooks run in
spawned worker processes (``jobs`` of them); a worker's stderr, which the kernel
inherits, goes to ``<out>/logs/<lang>-<name>.log`` so kernel warnings never mix
with the summary.

The kernel is the ``python3`` kernelspec of *this* environment. ipykernel's wheel
installs one under ``sys.prefix`` (``python -m ipykernel install --sys-prefix``
writes it again) whose command is a bare ``python``, which jupyter_client replaces
with ``sys.executable``. A ``python3`` spec elsewhere on the Jupyter path (for
example in ``~/.local/share/jupyter/kernels``) shadows it; :func:`check_kernel`
refuses to run then, because the notebooks would import another environment's
``stsnb``.

Library use::

    from stsnb.cli.run import run_notebooks
    results = run_notebooks(["en", "ko"], backend="sandbox", jobs=2, timeout=120)
    assert all(r.ok for r in results)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["LANGS", "RunResult", "find_notebooks", "check_kernel", "run_notebooks", "format_summary", "main_run"]

#: The languages the notebooks exist in, in the order they run and are reported.
LANGS: tuple[str, ...] = ("en", "ko")
#: The kernelspec the notebooks name in their metadata.
KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 120.0
DEFAULT_JOBS = 2
DEFAULT_OUT = Path("build") / "executed"
DESCRIPTION = "Execute the notebooks with papermill and write the executed copies (with outputs) for the docs."


@dataclass(frozen=True)
class RunResult:
    """What happened to one notebook in one language.

    ``status`` is ``"passed"``, ``"failed"`` (a cell raised), ``"timeout"`` (a cell ran
    longer than the execution timeout) or ``"error"`` (the kernel died or could not
    start). For a failure, ``cell`` is the index of the failing cell in the *source*
    notebook (the injected parameters cell is not counted), ``cell_tags`` its tags,
    ``cell_source`` its code and ``error`` the exception as ``Name: value``. ``log`` is
    the kernel's stderr (``<out>/logs/<lang>-<name>.log``).
    """

    lang: str
    notebook: str
    source: Path
    output: Path
    status: str
    seconds: float
    parameters: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None
    cell: int | None = None
    cell_tags: tuple[str, ...] = ()
    cell_source: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    @property
    def label(self) -> str:
        """``en/01-what-is-a-statefulset.ipynb``."""
        return f"{self.lang}/{self.notebook}"

    def describe_failure(self) -> str:
        """Which notebook and cell failed, and how; empty when the run passed."""
        if self.ok:
            return ""
        where = f"{self.label}"
        if self.cell is not None:
            tags = f" [{', '.join(self.cell_tags)}]" if self.cell_tags else ""
            first = (self.cell_source or "").strip().splitlines()[:1]
            where += f", cell {self.cell}{tags}" + (f": {first[0]}" if first else "")
        text = f"{where}\n  {self.status}: {self.error}\n  executed copy: {self.output}"
        return text + (f"\n  kernel log: {self.log}" if self.log else "")


def default_source_dir() -> Path:
    """Where the notebooks are: ``$STSNB_NOTEBOOKS``, ``./notebooks``, or the checkout this package lives in."""
    env = os.environ.get("STSNB_NOTEBOOKS")
    if env:
        return Path(env)
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "notebooks"


def find_notebooks(source_dir: Path, lang: str, select: Sequence[str] = ()) -> list[Path]:
    """The notebooks of one language, in name order; ``select`` keeps those whose name starts with or contains one of its entries."""
    folder = Path(source_dir) / lang
    if not folder.is_dir():
        raise ConfigError(f"no notebooks for language {lang!r}: {folder} is not a folder",
                          hint="run from the repository root, or pass --source DIR (or set STSNB_NOTEBOOKS)")
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if select:
        found = [p for p in found if any(p.name.startswith(s) or s in p.name for s in select)]
    return found


def check_kernel(kernel_name: str = KERNEL_NAME) -> str:
    """Make sure ``kernel_name`` starts this environment's Python; return the command it runs.

    Raises :class:`~stsnb.errors.ConfigError` when the kernelspec is missing or runs another interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    fix = f"{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}"
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ConfigError(f"there is no Jupyter kernel named {kernel_name!r}", hint=f"install it: {fix}") from None
    argv0 = spec.argv[0] if spec.argv else ""
    # jupyter_client runs a bare "python" / "python3" / "python3.X" as sys.executable.
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if argv0 in bare:
        return sys.executable
    if Path(argv0).resolve() == Path(sys.executable).resolve() or Path(argv0).absolute() == Path(sys.executable).absolute():
        return argv0
    raise ConfigError(
        f"the {kernel_name!r} kernelspec in {spec.resource_dir} runs {argv0!r}, not this environment's "
        f"{sys.executable}; the notebooks would import another environment's stsnb",
        hint=f"install this environment's kernelspec with `{fix}` and remove the other one, "
             "or pass --kernel with a kernelspec of this environment")


def _infer(value: str) -> Any:
    """A ``-p NAME VALUE`` value as papermill's CLI reads it: bool, None, int, float, else the string."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _source_cell(source_nb: Path, code: str | None) -> tuple[int | None, tuple[str, ...]]:
    """The index and tags of the source cell whose code is ``code``."""
    import nbformat

    if code is None:
        return None, ()
    nb = nbformat.read(str(source_nb), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.source.strip() == code.strip():
            return i, tuple(cell.metadata.get("tags", ()))
    return None, ()


def _execute_one(task: dict[str, Any]) -> RunResult:
    """Run one notebook (in a pool worker). Never raises: a failure becomes the result."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(task["source"]), Path(task["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    base = dict(lang=task["lang"], notebook=source.name, source=source, output=output,
                parameters=dict(task["parameters"]), log=Path(task["log"]))
    started = time.perf_counter()
    try:
        _stderr_to(Path(task["log"]))
        pm.execute_notebook(
            str(source), str(output),
            parameters=task["parameters"],
            kernel_name=task["kernel_name"],
            execution_timeout=task["timeout"],
            start_timeout=task["start_timeout"],
            progress_bar=False,
            log_output=False,
            cwd=str(source.parent),
        )
    except PapermillExecutionError as e:
        cell, tags = _source_cell(source, e.source)
        error = f"{e.ename}: {e.evalue}".rstrip(": ")
        line = _failing_line(e.traceback)
        return RunResult(**base, status="failed", seconds=time.perf_counter() - started,
                         cell=cell, cell_tags=tags, cell_source=e.source,
                         error=f"{error} (at: {line})" if line else error)
    except Exception as e:  # noqa: BLE001 - a timeout, a dead kernel, a bad notebook: report, don't crash the pool
        from nbclient.exceptions import CellTimeoutError

        status = "timeout" if isinstance(e, CellTimeoutError) else "error"
        cell, tags, code = _timed_out_cell(output, source) if status == "timeout" else (None, (), None)
        message = str(e).strip().splitlines()
        return RunResult(**base, status=status, seconds=time.perf_counter() - started, cell=cell, cell_tags=tags,
                         cell_source=code,
                         error=f"{type(e).__name__}: {message[0] if message else ''}".rstrip(": "))
    return RunResult(**base, status="passed", seconds=time.perf_counter() - started)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ARROW = re.compile(r"^-+>\s*(\d+)\s(.*)$")


def _failing_line(traceback: list[str] | None) -> str | None:
    """The line IPython marked with ``---->`` in the failing cell: which assert of a check failed."""
    lines = [m for frame in traceback or [] for raw in _ANSI.sub("", frame).splitlines()
             if (m := _ARROW.match(raw.strip()))]
    return lines[0].group(2).strip() if lines else None


def _stderr_to(log: Path) -> None:
    """Send this worker's stderr, which the kernel inherits, to ``log`` (kernel warnings, tracebacks of a dead kernel)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def _timed_out_cell(output: Path, source: Path) -> tuple[int | None, tuple[str, ...], str | None]:
    """For a timeout: the last cell that started, read from the executed copy papermill wrote."""
    import nbformat

    try:
        nb = nbformat.read(str(output), as_version=4)
    except Exception:  # noqa: BLE001 - no copy written yet
        return None, (), None
    started = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("papermill", {}).get("start_time")]
    if not started:
        return None, (), None
    index, tags = _source_cell(source, started[-1].source)
    return index, tags, started[-1].source


def run_notebooks(
    langs: Iterable[str] = LANGS,
    backend: str | None = None,
    parameters: dict[str, Any] | None = None,
    out_dir: str | Path = DEFAULT_OUT,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    source_dir: str | Path | None = None,
    select: Sequence[str] = (),
    kernel_name: str = KERNEL_NAME,
    start_timeout: float = 60.0,
    progress: bool = False,
) -> list[RunResult]:
    """Execute the notebooks of ``langs`` with papermill, ``jobs`` at a time; one :class:`RunResult` each.

    Args:
        langs: languages to run (``"en"``, ``"ko"``).
        backend: injected as the ``backend`` parameter when given; otherwise the notebook's default
            (``"auto"``: the sandbox unless ``STSNB_BACKEND`` / ``STSNB_KUBECONFIG`` say otherwise).
        parameters: more parameters to inject (``lang`` is always set per language).
        out_dir: executed copies go to ``out_dir/<lang>/``.
        jobs: worker processes. Against a real cluster every notebook uses the same namespace, so
            the notebooks then run one at a time whatever ``jobs`` says.
        timeout: execution timeout of each cell, in seconds.
        source_dir: the folder holding ``en/`` and ``ko/`` (default: :func:`default_source_dir`).
        select: run only notebooks whose name starts with or contains one of these.
        kernel_name: the kernelspec to run; checked by :func:`check_kernel`.
        start_timeout: seconds to wait for a kernel to start.
        progress: show a tqdm progress bar on stderr.

    Results come back in (language, name) order, whatever order they finished in.
    """
    langs = [lang for lang in langs]
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ConfigError(f"unknown language {unknown[0]!r}", hint=f"use one of {', '.join(LANGS)} or all")
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    if not timeout or timeout <= 0:
        raise ConfigError(f"the execution timeout must be a positive number of seconds, not {timeout!r}",
                          hint="papermill waits forever without one; pass --timeout 120")
    check_kernel(kernel_name)
    source_dir = Path(source_dir) if source_dir is not None else default_source_dir()
    out_dir = Path(out_dir)

    effective = backend or os.environ.get("STSNB_BACKEND") or ("kubeconfig" if os.environ.get("STSNB_KUBECONFIG")
                                                                else "sandbox")
    if effective != "sandbox":
        jobs = 1  # the notebooks share one namespace on a real cluster

    tasks: list[dict[str, Any]] = []
    for lang in langs:
        for nb in find_notebooks(source_dir, lang, select):
            params = {**(parameters or {}), "lang": lang}
            if backend is not None:
                params["backend"] = backend
            tasks.append(dict(source=str(nb), output=str(out_dir / lang / nb.name), lang=lang, parameters=params,
                              kernel_name=kernel_name, timeout=float(timeout), start_timeout=float(start_timeout),
                              log=str(out_dir / "logs" / f"{lang}-{nb.stem}.log")))
    if not tasks:
        raise ConfigError(f"no notebooks to run in {source_dir} for {', '.join(langs)}"
                          + (f" matching {', '.join(select)}" if select else ""))

    # Longest first (code cells as the estimate), so the pool does not end on one long notebook alone.
    tasks.sort(key=lambda t: -_code_cells(Path(t["source"])))

    results: list[RunResult] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="notebooks", unit="nb", file=sys.stderr, dynamic_ncols=True)
    try:
        # Always in worker processes: each worker's stderr goes to a log file, never to ours.
        # spawn, not fork: this process may have threads (tqdm's monitor, a sandbox) that fork would copy.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=ctx) as pool:
            futures = [pool.submit(_execute_one, task) for task in tasks]
            for fut in as_completed(futures):
                results.append(fut.result())
                _tick(bar, results[-1])
    finally:
        if bar is not None:
            bar.close()
    order = {lang: i for i, lang in enumerate(LANGS)}
    return sorted(results, key=lambda r: (order[r.lang], r.notebook))


def _code_cells(path: Path) -> int:
    try:
        return sum(1 for c in json.loads(path.read_text(encoding="utf-8")).get("cells", []) if c.get("cell_type") == "code")
    except (OSError, ValueError):
        return 0


def _tick(bar: Any, result: RunResult) -> None:
    if bar is not None:
        bar.set_postfix_str(f"{result.label} {result.status}", refresh=False)
        bar.update(1)


def format_summary(results: Sequence[RunResult]) -> str:
    """A per-notebook table (language, notebook, status, seconds), then each failure with its cell."""
    width = max([len(r.notebook) for r in results] + [8])
    lines = [f"{'lang':<4}  {'notebook':<{width}}  {'status':<7}  {'seconds':>7}"]
    for r in results:
        lines.append(f"{r.lang:<4}  {r.notebook:<{width}}  {r.status:<7}  {r.seconds:>7.1f}")
    passed = sum(r.ok for r in results)
    lines.append(f"{passed}/{len(results)} passed, {sum(r.seconds for r in results):.1f} s of notebook time")
    failures = [r for r in results if not r.ok]
    if failures:
        lines.append("")
        lines.append("failed:")
        lines.extend(r.describe_failure() for r in failures)
    return "\n".join(lines)


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``stsnb run``."""
    p.add_argument("select", nargs="*", metavar="NOTEBOOK",
                   help="run only notebooks whose name starts with or contains this (e.g. 03)")
    p.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="which language (default: all)")
    p.add_argument("--backend", choices=["sandbox", "kubeconfig", "auto"], default=None,
                   help="injected as the backend parameter (default: the notebooks' own, auto)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="inject a parameter, typed as papermill does (True/False, None, int, float, str)")
    p.add_argument("-r", "--raw", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="inject a parameter as a string, untyped (e.g. -r k8s_version 1.30, which -p reads as 1.3)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help=f"where executed copies go (default: {DEFAULT_OUT})")
    p.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help=f"notebooks at a time (default: {DEFAULT_JOBS})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"execution timeout of each cell in seconds (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--source", default=None, help="folder with en/ and ko/ (default: ./notebooks)")
    p.add_argument("--kernel", default=KERNEL_NAME, help=f"kernelspec to run (default: {KERNEL_NAME})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(prog="stsnb run", description=DESCRIPTION))


def main_run(argv: Sequence[str] | None = None) -> int:
    """``stsnb run [NOTEBOOK…] [--lang ko|en|all] [--backend …] [-p NAME VALUE] [-r NAME VALUE] [--out DIR] [--jobs N] [--timeout S]``.

    Prints the per-notebook summary; returns 0 when every notebook passed, 1 when one failed
    (naming the notebook and the cell), 2 on a usage or configuration error.
    """
    return command(_parser().parse_args(list(sys.argv[1:] if argv is None else argv)))


def command(args: argparse.Namespace) -> int:
    """Run what ``stsnb run`` was asked for (``args`` from :func:`add_arguments`)."""
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    params = {name: _infer(value) for name, value in args.parameter}
    params.update({name: value for name, value in args.raw})
    if "lang" in params:
        print("stsnb run: lang is set per language; use --lang instead of -p lang", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        results = run_notebooks(langs, backend=args.backend, parameters=params, out_dir=args.out, jobs=args.jobs,
                                timeout=args.timeout, source_dir=args.source, select=args.select,
                                kernel_name=args.kernel, progress=not args.no_progress)
    except ConfigError as e:
        print(f"stsnb run: {e}", file=sys.stderr)
        return 2
    print(format_summary(results))
    print(f"wall time {time.perf_counter() - started:.1f} s; executed copies in {args.out}")
    return 0 if all(r.ok for r in results) else 1
