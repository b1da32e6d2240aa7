"""Fixtures for the docs-site tests: executed notebooks, and the site built from them.

``executed_dir`` is the session's run of the real notebooks (``notebook_runs`` in
``tests/conftest.py``), or ``$STSNB_EXECUTED_DIR`` when that is set (point it at the
``build/executed`` written by ``stsnb run``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_BUILD_REPORTS: list[str] = []


@pytest.fixture(scope="session")
def executed_dir(request: pytest.FixtureRequest) -> Path:
    """A folder with ``en/`` and ``ko/`` executed notebooks: the session's notebook run.

    ``$STSNB_EXECUTED_DIR`` (e.g. ``build/executed`` from ``stsnb run``) is used instead when set.
    """
    configured = os.environ.get("STSNB_EXECUTED_DIR")
    if configured:
        path = Path(configured)
        missing = [lang for lang in ("en", "ko") if not any((path / lang).glob("*.ipynb"))]
        if missing:
            pytest.fail(
                f"STSNB_EXECUTED_DIR={configured} has no executed notebooks for {missing}; "
                "run `stsnb run` first"
            )
        return path
    runs = request.getfixturevalue("notebook_runs")
    failed = [f"{r.lang}/{r.notebook}: {r.status}" for r in runs.values() if r.status != "passed"]
    if failed:
        pytest.fail(f"the site is built from the notebooks, and some failed: {failed}")
    return next(iter(runs.values())).output.parent.parent


@pytest.fixture(scope="session")
def site(executed_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The docs site built from ``executed_dir`` (a :class:`stsnb.cli.docs.BuildReport`)."""
    from stsnb.cli.docs import build_site

    report = build_site(executed_dir, tmp_path_factory.mktemp("site"))
    _BUILD_REPORTS.append(report.summary())
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    for line in _BUILD_REPORTS:
        terminalreporter.write_line(line)
