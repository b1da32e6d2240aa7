"""One notebook through papermill, written once when it ends.

papermill's ``execute_notebook`` writes the whole notebook before and after every cell
(``NotebookExecutionManager.save`` on ``cell_start``/``cell_complete``, plus
``autosave_cell_every``), which costs seconds of CPU in a long lesson, and replaces the
previous executed copy with a half-executed one the moment a run starts. Here papermill's
own steps run in the same order (``parameterize_notebook``, ``prepare_notebook_metadata``,
``remove_error_markers``, an nbclient engine, ``raise_for_execution_errors``) with a manager
whose ``save`` writes nothing; the runner writes the notebook once, atomically, when it ends:

* every cell passed → ``NN-name.ipynb`` (replacing the previous copy);
* a cell raised, timed out, or the kernel died → ``NN-name.failed.ipynb`` beside it, with
  papermill's error markers and ``metadata.stsnb`` = ``{"status", "cell", "error"}``;
* Ctrl-C → ``NN-name.interrupted.ipynb``, marked the same way.

A cell that runs past the timeout is not just named: before its kernel is stopped, the kernel
writes every thread's stack to its log (``faulthandler`` on ``SIGUSR1``, registered at kernel
start by :data:`KERNEL_ARGUMENTS`, on POSIX), and the error says where the cell was waiting
(``the kernel was at: threading.py:331 in wait <- stsnb/watching.py:301 in wait_for <- cell line 4``).

The kernel (a :class:`~stsnb.cli.kernels.RunnerKernelManager`) is owned by the caller and shut
down here with ``now=True`` once the notebook's outputs and widget state are in hand: a kernel
that has nothing left to do is killed rather than asked to tidy up (which took ~1 s).
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

from ._deferred import defer_rfc3987_syntax

defer_rfc3987_syntax()  # before papermill imports nbformat and jsonschema (1.5 CPU-s saved; see ._deferred)

from papermill.clientwrap import PapermillNotebookClient  # noqa: E402
from papermill.engines import NBClientEngine, NotebookExecutionManager  # noqa: E402

from .report import MARKED, RunResult, Task, write_atomically

__all__ = ["KERNEL_ARGUMENTS", "execute_task"]

#: What every kernel of a run starts with: on POSIX, ``SIGUSR1`` makes it write every thread's stack to its
#: log (ipykernel points ``faulthandler`` at the kernel's own stderr, the log); nothing lands in the user's names.
KERNEL_ARGUMENTS: tuple[str, ...] = (
    ("--IPKernelApp.exec_lines=__import__('faulthandler').register(__import__('signal').SIGUSR1)",)
    if hasattr(signal, "SIGUSR1") else ())


class _FinalSaveManager(NotebookExecutionManager):
    """papermill's bookkeeping (timings, statuses) without writing the notebook around every cell."""

    current: int | None = None

    def save(self, **kwargs: Any) -> None:  # noqa: ARG002 - the runner writes the notebook once, at the end
        self.last_save_time = self.now()

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        self.current = cell_index
        super().cell_start(cell, cell_index, **kwargs)


class _Engine(NBClientEngine):
    """papermill's nbclient engine with :class:`_FinalSaveManager` and a kernel manager the caller owns."""

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, *, holder: dict, **kwargs: Any) -> Any:  # type: ignore[override]
        nb_man = _FinalSaveManager(nb, output_path=None, progress_bar=False, log_output=False,
                                   autosave_cell_every=0)
        holder["manager"] = nb_man
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, holder=holder, **kwargs)
        finally:
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, *, km: Any, execution_timeout: float,  # type: ignore[override]
                                 start_timeout: float, stopping: threading.Event, cwd: Path | None = None,
                                 holder: dict | None = None, **kwargs: Any) -> Any:
        from papermill.log import logger

        # the kernel works in the notebook's folder, as Jupyter starts it (nbclient reads resources' path)
        client = PapermillNotebookClient(nb_man, km=km, timeout=execution_timeout, startup_timeout=start_timeout,
                                         kernel_name=kernel_name, log=logger, log_output=False,
                                         resources={"metadata": {"path": str(cwd)}} if cwd else {},
                                         on_cell_start=_stop_if(stopping), extra_arguments=list(KERNEL_ARGUMENTS))
        from nbclient.exceptions import CellTimeoutError
        try:
            return client.execute()
        except CellTimeoutError:
            if holder is not None:
                holder["stacks"] = _kernel_stacks(km)
            raise
        finally:
            _shut_down(client, km)


def _kernel_stacks(km: Any, wait: float = 2.0) -> str:
    """Ask the kernel for every thread's stack (``SIGUSR1``); what it wrote to its log, or "" if nothing came."""
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    log = Path(getattr(km, "log_path", "") or "")
    if not KERNEL_ARGUMENTS or not pid or not log.is_file():
        return ""
    start = log.stat().st_size
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return ""
    deadline, seen = time.monotonic() + wait, -1
    while time.monotonic() < deadline:
        time.sleep(0.05)
        size = log.stat().st_size
        if size == seen and size > start:  # written, and no longer growing
            break
        seen = size
    with open(log, "rb") as f:
        f.seek(start)
        return f.read().decode("utf-8", "replace")


_FRAME = re.compile(r'\s*File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')
_CELL_FILE = re.compile(r"ipykernel_\d+/\d+\.py$")


def waiting_at(stacks: str) -> str:
    """Where the cell's thread was, from a ``faulthandler`` dump: its innermost frame, the innermost of stsnb's,
    and the cell's line (``threading.py:331 in wait <- stsnb/watching.py:301 in wait_for <- cell line 4``)."""
    block = stacks.partition("Current thread")[2]
    frames = [m.groupdict() for m in map(_FRAME.match, block.split("\n\n")[0].splitlines()[1:]) if m]
    if not frames:
        return ""

    def short(f: dict) -> str:
        path = f["path"]
        for marker in ("/site-packages/", "/stsnb/"):
            if marker in path:
                path = ("stsnb/" if marker == "/stsnb/" else "") + path.rsplit(marker, 1)[1]
                break
        else:
            path = path.rsplit("/", 1)[-1]
        return f"{path}:{f['line']} in {f['func']}"

    cell = next((f for f in frames if _CELL_FILE.search(f["path"])), None)
    inside = frames[:frames.index(cell)] if cell is not None else frames  # the calls the cell is in
    picked = [short(inside[0])] if inside else []
    ours = next((f for f in inside if "/stsnb/" in f["path"]), None)
    if ours is not None and ours is not inside[0]:
        picked.append(short(ours))
    if cell is not None:
        picked.append(f"cell line {cell['line']}")
    return " <- ".join(picked)


class Stopped(Exception):
    """The runner is stopping (Ctrl-C) and this notebook's next cell is not run."""


def _stop_if(stopping: threading.Event) -> Any:
    def hook(**kwargs: Any) -> None:  # noqa: ARG001 - nbclient passes cell and cell_index
        if stopping.is_set():
            raise Stopped("stsnb run was interrupted before this cell")
    return hook


def _shut_down(client: Any, km: Any) -> None:
    from jupyter_core.utils import run_sync

    try:
        if client.kc is not None:
            client.kc.stop_channels()
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
        else:
            run_sync(km.cleanup_resources)()


def execute_task(task: Task, km: Any, stopping: threading.Event) -> RunResult:
    """Run ``task`` on the kernel ``km`` starts; never raises: every outcome is a :class:`RunResult`.

    ``stopping`` is set by the runner on Ctrl-C: a notebook that then ends without passing is
    ``"interrupted"``, whatever error its kernel reported.
    """
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    started, clock = time.time(), time.perf_counter()
    task.output.parent.mkdir(parents=True, exist_ok=True)
    task.log.parent.mkdir(parents=True, exist_ok=True)
    nb = load_notebook_node(str(task.source))
    nb = parameterize_notebook(nb, task.parameters, kernel_name=task.kernel_name)
    nb = prepare_notebook_metadata(nb, str(task.source), str(task.output))
    nb = remove_error_markers(nb)
    holder: dict[str, Any] = {}
    base = dict(lang=task.lang, notebook=task.source.name, source=task.source, parameters=dict(task.parameters),
                log=task.log, started=started)
    try:
        nb = _Engine.execute_notebook(nb, task.kernel_name, holder=holder, km=km, execution_timeout=task.timeout,
                                      start_timeout=task.start_timeout, cwd=task.source.parent, stopping=stopping)
    except BaseException as e:  # noqa: BLE001 - a timeout, a dead kernel, Ctrl-C: recorded, never raised
        outcome = _broken(task, nb, holder, e, stopping)
    else:
        outcome = _finished(task, nb, stopping)
    return RunResult(**base, **outcome, seconds=time.perf_counter() - clock, finished=time.time(),
                     warm=bool(getattr(km, "warm", False)))


def _finished(task: Task, nb: Any, stopping: threading.Event) -> dict[str, Any]:
    """Every cell ran: keep the copy if none raised, else mark it failed (or interrupted)."""
    import nbformat
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    tmp = task.output.with_name(f".{task.source.stem}.{threading.get_ident()}.partial.ipynb")
    try:
        raise_for_execution_errors(nb, str(tmp))  # on an error: writes tmp with papermill's markers, raises
    except PapermillExecutionError as e:
        status = "interrupted" if stopping.is_set() else "failed"
        cell, tags = _source_cell(task.source, e.source)
        error = f"{e.ename}: {e.evalue}".rstrip(": ")
        line = _failing_line(e.traceback)
        error = f"{error} (at: {line})" if line else error
        marked = json.loads(tmp.read_text(encoding="utf-8"))
        tmp.unlink()
        output = _write_marked(task, marked, status, cell, error)
        return dict(status=status, output=output, cell=cell, cell_tags=tags, cell_source=e.source, error=error)
    write_atomically(task.output, nbformat.writes(nb))
    for stale in {task.marked(s) for s in MARKED}:
        stale.unlink(missing_ok=True)
    return dict(status="passed", output=task.output)


def _broken(task: Task, nb: Any, holder: dict, e: BaseException, stopping: threading.Event) -> dict[str, Any]:
    """The run stopped before its last cell (timeout, dead kernel, no kernel): keep what ran, marked."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError

    if stopping.is_set():
        status = "interrupted"
    else:
        status = "timeout" if isinstance(e, CellTimeoutError) else "error"
    manager = holder.get("manager")
    index = getattr(manager, "current", None)
    code = nb.cells[index].source if index is not None and index < len(nb.cells) else None
    cell, tags = _source_cell(task.source, code)
    message = str(e).strip().splitlines()
    error = f"{type(e).__name__}: {message[0] if message else ''}".rstrip(": ")
    where = waiting_at(holder.get("stacks", "")) if status == "timeout" else ""
    if where:
        error += f" (the kernel was at: {where})"
    output = _write_marked(task, json.loads(nbformat.writes(nb)), status, cell, error) if manager else None
    return dict(status=status, output=output, cell=cell, cell_tags=tags, cell_source=code, error=error)


def _write_marked(task: Task, nb: dict, status: str, cell: int | None, error: str) -> Path:
    nb.setdefault("metadata", {})["stsnb"] = {"status": status, "cell": cell, "error": error}
    path = task.marked(status)
    write_atomically(path, json.dumps(nb, ensure_ascii=False, indent=1) + "\n")
    return path


def _source_cell(source_nb: Path, code: str | None) -> tuple[int | None, tuple[str, ...]]:
    """The index and tags of the source cell whose code is ``code``."""
    if code is None:
        return None, ()
    cells = json.loads(source_nb.read_text(encoding="utf-8")).get("cells", [])
    for i, cell in enumerate(cells):
        text = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        if cell.get("cell_type") == "code" and text.strip() == code.strip():
            return i, tuple(cell.get("metadata", {}).get("tags", ()))
    return None, ()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ARROW = re.compile(r"^-+>\s*(\d+)\s(.*)$")


def _failing_line(traceback: list[str] | None) -> str | None:
    """The line IPython marked with ``---->`` in the failing cell: which assert of a check failed."""
    lines = [m for frame in traceback or [] for raw in _ANSI.sub("", frame).splitlines()
             if (m := _ARROW.match(raw.strip()))]
    return lines[0].group(2).strip() if lines else None
