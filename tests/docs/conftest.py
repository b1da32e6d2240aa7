"""Fixtures for the docs-site tests: executed notebooks, and the site built from them.

``executed_dir`` is ``$STSNB_EXECUTED_DIR`` when that is set (point it at the real
``build/executed`` written by ``stsnb run``). Otherwise it makes a tiny pair of
notebooks (en/ko: a markdown title, a ``parameters`` cell, a DataFrame, a timeline-like
figure, an ipywidgets panel with an IntSlider and an Output showing a DataFrame, and a
``check`` cell) and executes them with papermill, as ``stsnb run`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_BUILD_REPORTS: list[str] = []

_TITLES = {"en": "# What is a StatefulSet", "ko": "# 스테이트풀셋이란"}
_PROSE = {
    "en": "A StatefulSet keeps each Pod's name, DNS name and volume across re-creation.",
    "ko": "스테이트풀셋은 파드를 다시 만들어도 파드의 이름, DNS 이름, 볼륨을 유지한다. "
    "파드가 지워지면 같은 서수로 다시 만들어진다.",
}
_FIXTURE_NAME = "01-what-is-a-statefulset.ipynb"

_CODE_TABLE = """\
import pandas as pd

pods = pd.DataFrame(
    {
        "pod": ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"],
        "controller-revision-hash": ["nginx-stateful-7db594cfbd"] * 3,
        "ready": ["1/1", "1/1", "1/1"],
    }
)
pods"""

_CODE_FIGURE = """\
import matplotlib

matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 1.5))
ax.barh(["nginx-stateful-2", "nginx-stateful-1", "nginx-stateful-0"], [1, 1, 1], left=[0, 1, 2])
ax.set_xlabel("t (s)")
plt.show()"""

_CODE_PANEL = """\
import ipywidgets as widgets
from IPython.display import display

replicas = widgets.IntSlider(value=3, min=0, max=5, description="replicas")
table = widgets.Output()
with table:
    display(pods.head(replicas.value))
panel = widgets.VBox([replicas, table])
panel"""

_CODE_CHECK = """\
assert list(pods["pod"]) == [f"nginx-stateful-{i}" for i in range(3)]
print("check passed: 3 pods in ordinal order")"""


def _write_fixture_notebook(path: Path, lang: str) -> None:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = v4.new_code_cell('lang = "en"\nbackend = "sandbox"')
    params.metadata["tags"] = ["parameters"]
    check = v4.new_code_cell(_CODE_CHECK)
    check.metadata["tags"] = ["check"]
    nb.cells = [
        v4.new_markdown_cell(_TITLES[lang] + "\n\n" + _PROSE[lang]),
        params,
        v4.new_code_cell(_CODE_TABLE),
        v4.new_code_cell(_CODE_FIGURE),
        v4.new_code_cell(_CODE_PANEL),
        check,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="session")
def executed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``en/`` and ``ko/`` executed notebooks."""
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

    import papermill

    root = tmp_path_factory.mktemp("notebooks")
    executed = root / "executed"
    for lang in ("en", "ko"):
        source = root / "source" / lang / _FIXTURE_NAME
        _write_fixture_notebook(source, lang)
        target = executed / lang / _FIXTURE_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters={"lang": lang},
            kernel_name="python3",
            execution_timeout=60,
            progress_bar=False,
            cwd=str(root),
        )
    return executed


@pytest.fixture(scope="session")
def site(executed_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The docs site built from ``executed_dir`` (a :class:`stsnb.docs.BuildReport`)."""
    from stsnb.docs import build_site

    report = build_site(executed_dir, tmp_path_factory.mktemp("site"))
    _BUILD_REPORTS.append(report.summary())
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    for line in _BUILD_REPORTS:
        terminalreporter.write_line(line)
