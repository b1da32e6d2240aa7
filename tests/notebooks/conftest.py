"""Fixtures for the notebooks tier: the notebooks as committed, and one executed run of all of them.

``notebook_runs`` executes every notebook in both languages on the sandbox, once per session,
through :func:`stsnb.runner.run_notebooks` (a process pool of ``$STSNB_TEST_JOBS`` workers, 2 by
default). The parametrized tests read its results. The executed copies go to a temporary folder,
or to ``$STSNB_TEST_EXECUTED_DIR`` when set (for example ``build/executed``, to build the docs from
the same run).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from stsnb.runner import LANGS, RunResult, format_summary, run_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: The notebooks by file name, as the English folder has them (the Korean one must match; a test checks).
NAMES = sorted(p.name for p in (NOTEBOOKS / "en").glob("*.ipynb"))
#: Seconds a single cell may run before the run counts as hung.
CELL_TIMEOUT = 180

_SUMMARY: list[str] = []


def read(lang: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(str(NOTEBOOKS / lang / name), as_version=4)


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], RunResult]:
    """``{(lang, name): RunResult}`` for every notebook, executed once on the sandbox."""
    out = os.environ.get("STSNB_TEST_EXECUTED_DIR")
    out_dir = Path(out) if out else tmp_path_factory.mktemp("executed")
    jobs = int(os.environ.get("STSNB_TEST_JOBS", "2"))
    results = run_notebooks(LANGS, backend="sandbox", out_dir=out_dir, jobs=jobs, timeout=CELL_TIMEOUT,
                            source_dir=NOTEBOOKS)
    _SUMMARY.append(format_summary(results))
    return {(r.lang, r.notebook): r for r in results}


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    for text in _SUMMARY:
        terminalreporter.write_sep("-", "notebooks on the sandbox")
        for line in text.splitlines():
            terminalreporter.write_line(line)
