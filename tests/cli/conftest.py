"""Helpers for the ``stsnb`` command's tests: tiny lessons with the real lessons' parameters cell, and the CLI.

The tiny notebooks declare the same parameters as the lessons (``backend``, ``namespace``,
``k8s_version``, ``speed``, ``timeout_s``, ``storage_class``, ``lang``), so parameter checks,
warm kernels, timeouts and Ctrl-C are exercised through the real runner in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

PARAMETERS = "\n".join([
    'backend = "auto"  # "sandbox", "kubeconfig", or "auto"',
    "namespace = None  # None: the backend's default",
    'k8s_version = None  # None: "1.27"',
    "speed = None  # None: 20",
    "timeout_s = None  # None: 120 seconds",
    "storage_class = None  # None: sc-nfs",
    'lang = "en"  # "en" or "ko"',
])


def write_lessons(root: Path, cells: dict[str, str | list[str]], langs: tuple[str, ...] = ("en", "ko"),
                  parameters: str = PARAMETERS) -> Path:
    """``root/<lang>/<name>`` for each ``name: code`` (a list gives several code cells); returns ``root``."""
    for lang in langs:
        for name, code in cells.items():
            nb = v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            params = v4.new_code_cell(parameters)
            params.metadata["tags"] = ["parameters"]
            codes = [code] if isinstance(code, str) else code
            checks = []
            for text in codes:
                cell = v4.new_code_cell(text)
                cell.metadata["tags"] = ["check"]
                checks.append(cell)
            nb.cells = [v4.new_markdown_cell(f"# {name}"), params, *checks]
            (root / lang).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(root / lang / name))
    return root


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without STSNB_* settings (a developer's own must not leak into a test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSNB_")}
    env.update(extra)
    return env


def stsnb(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess:
    """``stsnb ARGS`` in a new process of this environment, output captured as text."""
    return subprocess.run([sys.executable, "-m", "stsnb", *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=timeout)
