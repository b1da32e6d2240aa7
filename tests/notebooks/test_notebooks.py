"""Every notebook, in both languages, runs end to end on the sandbox, and its checks hold.

One session-scoped run executes them all through the runner's process pool (``notebook_runs``);
the tests here read its results and the executed copies.
"""

from __future__ import annotations

import nbformat
import pytest

from .conftest import NAMES, read

#: The notebooks that show a panel (ipywidgets), whose state the docs site needs.
PANEL_NAMES = [n for n in NAMES if any("stsnb.panels." in c.source for c in read("en", n).cells)]

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(1800)]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_end_to_end_on_the_sandbox(notebook_runs, lang, name):
    result = notebook_runs[(lang, name)]
    assert result.ok, result.describe_failure()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_every_check_cell_ran_and_raised_nothing(notebook_runs, lang, name):
    result = notebook_runs[(lang, name)]
    if not result.ok:
        pytest.fail(f"the notebook failed: {result.describe_failure()}")
    nb = nbformat.read(str(result.output), as_version=4)
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert checks and all(c.execution_count is not None for c in checks)
    assert not [o for c in checks for o in c.outputs if o.output_type == "error"]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_executed_copy_shows_something_after_every_step(notebook_runs, lang, name):
    """Each step's cell leaves a table, a timeline, a panel or text for the reader (checks and setup aside)."""
    result = notebook_runs[(lang, name)]
    if not result.ok:
        pytest.fail(f"the notebook failed: {result.describe_failure()}")
    nb = nbformat.read(str(result.output), as_version=4)
    assert nb.metadata.papermill.parameters["lang"] == lang
    silent = [c.source for c in nb.cells
              if c.cell_type == "code" and not c.outputs
              and not set(c.metadata.get("tags", [])) & {"check", "parameters", "injected-parameters"}]
    assert not silent, f"cells that show nothing: {silent}"


@pytest.mark.parametrize("name", NAMES)
def test_korean_and_english_runs_produce_the_same_kinds_of_output_cell_by_cell(notebook_runs, name):
    """Identical code gives the same outputs (streams, results, displays) in the same cells in both languages."""
    en, ko = notebook_runs[("en", name)], notebook_runs[("ko", name)]
    if not (en.ok and ko.ok):
        pytest.fail("a notebook failed: see test_notebook_runs_end_to_end_on_the_sandbox")
    a = nbformat.read(str(en.output), as_version=4)
    b = nbformat.read(str(ko.output), as_version=4)
    assert len(a.cells) == len(b.cells)
    kinds_a = [[o.output_type for o in c.get("outputs", [])] for c in a.cells]
    kinds_b = [[o.output_type for o in c.get("outputs", [])] for c in b.cells]
    assert kinds_a == kinds_b


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", PANEL_NAMES)
def test_executed_copy_keeps_the_state_of_its_panels_for_the_docs(notebook_runs, lang, name):
    result = notebook_runs[(lang, name)]
    if not result.ok:
        pytest.fail(f"the notebook failed: {result.describe_failure()}")
    nb = nbformat.read(str(result.output), as_version=4)
    panels = [c for c in nb.cells if c.cell_type == "code" and "stsnb.panels." in c.source]
    views = [o for c in panels for o in c.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == len(panels)
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    assert all(v["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] in state for v in views)
