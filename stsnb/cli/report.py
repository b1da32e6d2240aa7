"""What ``stsnb run`` did: one :class:`RunResult` per notebook, the summary table, and the run record.

Executed copies go to ``<out>/<lang>/``:

* ``NN-name.ipynb`` — the last copy whose execution **finished with every cell passing**; a run
  replaces it (atomically) only then;
* ``NN-name.failed.ipynb`` — the copy of a run that failed, timed out or lost its kernel, with
  papermill's error markers and ``metadata.stsnb`` naming the cell; it sits beside the last good
  copy and is removed when the notebook passes again;
* ``NN-name.interrupted.ipynb`` — the same for a run stopped with Ctrl-C.

``<out>/run.json`` records, per notebook, the status of its latest run and which file holds it;
``stsnb docs build`` reads it and refuses to publish a notebook whose latest run did not pass.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Task", "RunResult", "format_summary", "RunRecord", "MARKED", "read_record", "write_atomically",
           "RECORD_NAME"]

#: Status → suffix of the copy kept beside the last good one.
MARKED = {"failed": "failed", "timeout": "failed", "error": "failed", "interrupted": "interrupted"}
RECORD_NAME = "run.json"


@dataclass(frozen=True)
class Task:
    """One notebook in one language, and where its copies go."""

    lang: str
    source: Path
    out_dir: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    kernel_name: str = "python3"
    timeout: float = 120.0
    start_timeout: float = 60.0

    @property
    def label(self) -> str:
        return f"{self.lang}/{self.source.name}"

    @property
    def output(self) -> Path:
        return self.out_dir / self.lang / self.source.name

    def marked(self, status: str) -> Path:
        """Where a run that ended with ``status`` (not passed) is kept: ``NN-name.failed.ipynb`` …"""
        return self.output.with_name(f"{self.source.stem}.{MARKED[status]}.ipynb")

    @property
    def log(self) -> Path:
        return self.out_dir / "logs" / f"{self.lang}-{self.source.stem}.log"


@dataclass(frozen=True)
class RunResult:
    """What happened to one notebook in one language.

    ``status`` is ``"passed"``, ``"failed"`` (a cell raised), ``"timeout"`` (a cell ran longer than
    the execution timeout), ``"error"`` (the kernel died or could not start), ``"interrupted"``
    (Ctrl-C while it ran) or ``"cancelled"`` (Ctrl-C before it started). For a failure, ``cell`` is
    the index of the failing cell in the *source* notebook (the injected parameters cell is not
    counted), ``cell_tags`` its tags, ``cell_source`` its code and ``error`` the exception as
    ``Name: value``. ``output`` is the copy this run wrote (``None`` when it wrote none); ``log`` the
    kernel's stdout/stderr. ``started``/``finished`` are wall-clock times (``time.time()``).
    """

    lang: str
    notebook: str
    source: Path
    output: Path | None
    status: str
    seconds: float
    parameters: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None
    cell: int | None = None
    cell_tags: tuple[str, ...] = ()
    cell_source: str | None = None
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    warm: bool = False

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
        text = f"{where}\n  {self.status}: {self.error}"
        if self.output is not None:
            text += f"\n  executed copy: {self.output}"
        return text + (f"\n  kernel log: {self.log}" if self.log else "")


def format_summary(results: Sequence[RunResult]) -> str:
    """A per-notebook table (language, notebook, status, seconds), then each failure with its cell."""
    width = max([len(r.notebook) for r in results] + [8])
    lines = [f"{'lang':<4}  {'notebook':<{width}}  {'status':<11}  {'seconds':>7}"]
    for r in results:
        lines.append(f"{r.lang:<4}  {r.notebook:<{width}}  {r.status:<11}  {r.seconds:>7.1f}")
    passed = sum(r.ok for r in results)
    lines.append(f"{passed}/{len(results)} passed, {sum(r.seconds for r in results):.1f} s of notebook time")
    stopped = [r for r in results if r.status in ("interrupted", "cancelled")]
    if stopped:
        running = [r.label for r in stopped if r.status == "interrupted"]
        queued = [r.label for r in stopped if r.status == "cancelled"]
        lines.append("interrupted (Ctrl-C): " + "; ".join(
            part for part in (f"stopped while running: {', '.join(running)}" if running else "",
                              f"not started: {', '.join(queued)}" if queued else "") if part)
                     + ". Their previous executed copies, if any, are unchanged.")
    failures = [r for r in results if not r.ok and r.status != "cancelled"]
    if failures:
        lines.append("")
        lines.append("failed or interrupted:" if any(r.status == "interrupted" for r in failures) else "failed:")
        lines.extend(r.describe_failure() for r in failures)
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_record(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """``{"en/01-….ipynb": {"status": …, "file": …, …}}`` from ``<out>/run.json`` (empty when there is none)."""
    try:
        data = json.loads((Path(out_dir) / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    notebooks = data.get("notebooks") if isinstance(data, dict) else None
    return notebooks if isinstance(notebooks, dict) else {}


class RunRecord:
    """``<out>/run.json``, updated (atomically) as each notebook ends; thread-safe."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self._lock = threading.Lock()
        self._entries = read_record(self.out_dir)

    def add(self, r: RunResult) -> None:
        if r.status == "cancelled":
            return  # not run: the previous entry (and copy) stays what it was
        entry = {"status": r.status, "file": str(r.output.relative_to(self.out_dir)) if r.output else None,
                 "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(r.finished or time.time())),
                 "seconds": round(r.seconds, 2), "parameters": r.parameters, "cell": r.cell, "error": r.error}
        with self._lock:
            self._entries[r.label] = entry
            write_atomically(self.out_dir / RECORD_NAME,
                             json.dumps({"version": 1, "notebooks": self._entries}, indent=1, ensure_ascii=False,
                                        default=str) + "\n")
