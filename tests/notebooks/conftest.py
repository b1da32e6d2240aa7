"""Fixtures for the notebooks tier: the notebooks as committed, and one executed run of all of them.

``notebook_runs`` (in ``tests/conftest.py``, shared with the docs tier) executes every notebook
in both languages on the sandbox, once per session; the parametrized tests read its results.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: The notebooks by file name, as the English folder has them (the Korean one must match; a test checks).
NAMES = sorted(p.name for p in (NOTEBOOKS / "en").glob("*.ipynb"))


def read(lang: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(str(NOTEBOOKS / lang / name), as_version=4)


