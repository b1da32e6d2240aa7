"""Shared fixtures: a sandbox cluster, a lab connected to it, and the notebook-like guide scenario.

Tiers: ``tests/unit`` (pure functions, no cluster), ``tests/sandbox`` (the sandbox through the
official client, the lab and the panels on it), ``tests/kubectl``, ``tests/notebooks``, ``tests/docs``
(always) and ``tests/e2e`` (a real cluster, when ``STSNB_E2E_KUBECONFIG`` is set). Sandbox tests
start one :class:`~stsnb.sandbox.Sandbox` per module (a discrete clock: simulated delays are skipped) and give each test a clean
lab namespace.

A sandbox that cannot start is a failure of every test that needs it, never a skip.
"""

from __future__ import annotations

import itertools
import os
from typing import Callable

import pytest

_NS_COUNTER = itertools.count(1)


def _start_sandbox(**kw):
    from stsnb.sandbox import Sandbox
    return Sandbox(**kw).start()


@pytest.fixture(scope="module")
def sandbox():
    """A started sandbox shared by one test module (seeded, discrete clock)."""
    sb = _start_sandbox(seed=7, dns_port=None)
    yield sb
    sb.stop()


@pytest.fixture()
def new_sandbox() -> Callable:
    """A factory for a fresh sandbox per test (stopped at the end), for tests that need exact names."""
    started = []

    def make(**kw):
        kw.setdefault("dns_port", None)
        sb = _start_sandbox(**kw)
        started.append(sb)
        return sb
    yield make
    for sb in started:
        sb.stop()


@pytest.fixture()
def lab(sandbox):
    """A lab on the module's sandbox in a namespace of its own (created by connect), cleaned up after."""
    import stsnb
    ns = f"t{next(_NS_COUNTER)}"
    lab = stsnb.connect(sandbox=sandbox, namespace=ns, timeout_s=60, env={})
    yield lab
    try:
        lab.cleanup(timeout=30)
    except Exception:  # noqa: BLE001 - teardown must not hide the test's own result
        pass


@pytest.fixture()
def guide_lab(new_sandbox):
    """A lab in namespace ``default`` of a fresh sandbox: the guide's exact names come out."""
    import stsnb
    sb = new_sandbox(seed=1)
    return stsnb.connect(sandbox=sb, timeout_s=60, env={})


def guide_scenario(lab, *, storage_class: str | None = None, dns: bool = True) -> dict:
    """What the notebooks do, in order (§01–§04), through the lab; returns what it observed.

    Used by the cleanup-safety test on the sandbox and by the real-cluster tier.
    """
    seen: dict = {}
    lab.reset()
    seen["apply"] = str(lab.apply("nginx-stateful"))
    lab.wait_ready("nginx-stateful")
    seen["pods"] = lab.pods("app=nginx-stateful")
    seen["labels"] = lab.labels("app=nginx-stateful")
    with lab.record("nginx-stateful") as rec:
        lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
    seen["update_order"] = rec.order("deleted")
    seen["revisions"] = lab.revisions("nginx-stateful")
    seen["expose"] = str(lab.try_(lambda: lab.expose("statefulset/nginx-stateful")))
    lab.apply("test-deploy")
    lab.wait_ready("deployment/test-deploy")
    lab.delete("statefulset/nginx-stateful")
    seen["headless"] = str(lab.create_headless_service("nginx-stateful"))
    lab.apply("nginx-stateful-headless-svc")
    lab.apply("nginx-stateful-with-service")
    lab.wait_ready("nginx-stateful")
    if dns:
        seen["dns"] = lab.dns_names("app in (test-deploy, nginx-stateful)")
    seen["replacement"] = lab.delete_pod("nginx-stateful-0")
    if storage_class is None:
        lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", storage_class=storage_class)
    lab.wait_ready("nginx-stateful2")
    seen["pvcs"] = lab.pvcs("app=nginx-stateful2")
    seen["compare"] = lab.compare("deployment/test-deploy", "statefulset/nginx-stateful")
    seen["cleanup"] = lab.cleanup()
    return seen


@pytest.fixture()
def scenario() -> Callable:
    """The notebook-like guide scenario as a callable: ``scenario(lab, storage_class=None)``."""
    return guide_scenario


def e2e_kubeconfig() -> str | None:
    return os.environ.get("STSNB_E2E_KUBECONFIG") or None


# ----------------------------------------------------------------------------- notebooks, once per session
_NOTEBOOK_SUMMARY: list[str] = []
#: Seconds a single notebook cell may run before the run counts as hung.
NOTEBOOK_CELL_TIMEOUT = 180


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{(lang, name): RunResult}`` for every notebook, executed once on the sandbox.

    Shared by the notebooks tier (which asserts on the results) and the docs tier (which builds
    the site from the executed copies). Runs through :func:`stsnb.cli.run.run_notebooks` with a
    pool of ``$STSNB_TEST_JOBS`` workers (2 by default); the copies go to a temporary folder, or
    to ``$STSNB_TEST_EXECUTED_DIR`` when set.
    """
    from pathlib import Path

    from stsnb.cli.run import LANGS, format_summary, run_notebooks

    out = os.environ.get("STSNB_TEST_EXECUTED_DIR")
    out_dir = Path(out) if out else tmp_path_factory.mktemp("executed")
    jobs = int(os.environ.get("STSNB_TEST_JOBS", "2"))
    source = Path(__file__).resolve().parents[1] / "notebooks"
    results = run_notebooks(LANGS, backend="sandbox", out_dir=out_dir, jobs=jobs, timeout=NOTEBOOK_CELL_TIMEOUT,
                            source_dir=source)
    _NOTEBOOK_SUMMARY.append(format_summary(results))
    return {(r.lang, r.notebook): r for r in results}


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    for text in _NOTEBOOK_SUMMARY:
        terminalreporter.write_sep("-", "notebooks on the sandbox")
        for line in text.splitlines():
            terminalreporter.write_line(line)
