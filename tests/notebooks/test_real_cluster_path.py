"""The notebooks through a kubeconfig, as on a learner's own cluster, and twice in a row.

A sandbox served in this process stands in for the real cluster: the notebooks get
``backend="kubeconfig"`` and ``STSNB_KUBECONFIG``, so ``lab.is_sandbox`` is False, they work in
the namespace ``stsnb-lab`` and their checks hold only the shapes, not the guide's exact values.
The second run finds the first run's cluster (cleaned up, plus the StorageClass, which cleanup
leaves alone) and must pass again: that is what ``lab.reset()`` is for.
"""

from __future__ import annotations

import pytest

from stsnb.cli.run import run_notebooks
from stsnb.sandbox import Sandbox

from ..conftest import NOTEBOOK_CELL_TIMEOUT as CELL_TIMEOUT
from .conftest import NOTEBOOKS

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(1800)]

TWICE = ["02-creating.ipynb", "04-storage.ipynb", "05-beyond-the-guide.ipynb"]


@pytest.fixture(scope="module")
def served_twice(tmp_path_factory):
    """``[first run, second run]`` of TWICE (English) against one served sandbox through a kubeconfig."""
    mp = pytest.MonkeyPatch()
    sb = Sandbox(dns_port=None, speed=20)
    sb.start()
    try:
        out = tmp_path_factory.mktemp("served")
        mp.setenv("STSNB_KUBECONFIG", str(sb.write_kubeconfig(out / "kubeconfig")))
        mp.delenv("STSNB_BACKEND", raising=False)
        mp.delenv("STSNB_NAMESPACE", raising=False)
        runs = [run_notebooks(["en"], backend="kubeconfig", out_dir=out / f"run{i}", jobs=1, timeout=CELL_TIMEOUT,
                              source_dir=NOTEBOOKS, select=TWICE) for i in (1, 2)]
        yield runs, sb
    finally:
        mp.undo()
        sb.stop()


@pytest.mark.parametrize("name", TWICE)
@pytest.mark.parametrize("run", [1, 2])
def test_notebook_passes_through_a_kubeconfig_on_each_of_two_runs_in_a_row(served_twice, run, name):
    runs, _ = served_twice
    result = {r.notebook: r for r in runs[run - 1]}[name]
    assert result.ok, result.describe_failure()


def test_the_runs_stayed_in_their_own_namespace_and_left_nothing_behind(served_twice):
    _, sb = served_twice
    from kubernetes import client

    core = client.CoreV1Api(sb.api_client())
    assert core.list_namespaced_pod("default").items == []
    lab_pods = core.list_namespaced_pod("stsnb-lab").items
    assert [p.metadata.name for p in lab_pods] == []
    assert [c.metadata.name for c in core.list_namespaced_persistent_volume_claim("stsnb-lab").items] == []
