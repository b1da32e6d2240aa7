"""Notebooks as readers use them: JupyterLab 4 in Chromium, Run All from the menu, then the panels.

Each test opens a notebook, runs every cell through JupyterLab's Run menu, checks that no cell
ended in an error, then works the panels with the mouse and keyboard and checks two things each
time: the panel's live table changed, and the cluster agrees (asked directly, with the official
client). The notebooks on their default path run on the sandbox inside their kernel; the test
reaches it through a kubeconfig the kernel writes for it, in a cell the test adds at the end.
Screenshots of every step land in ``build/test-artifacts/browser/``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from kubernetes import client, config
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

#: The notebook on screen: JupyterLab keeps other open notebooks in the DOM, hidden.
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
IDLE = f"{ACTIVE} .jp-Notebook-ExecutionIndicator[data-status='idle']"
BUSY = f"{ACTIVE} .jp-Notebook-ExecutionIndicator[data-status='busy']"


# -- driving JupyterLab ---------------------------------------------------------------------

def _open(browser, jupyter_lab, path: str):
    page = browser.new_page()
    page.goto(jupyter_lab.url(path))
    page.wait_for_selector(f"{ACTIVE} .jp-Cell", timeout=90_000)
    # a fresh JupyterLab may ask which kernel to start: the notebook's own, Python 3 (ipykernel)
    dialog = page.locator(".jp-Dialog:has-text('Select Kernel')")
    try:
        dialog.wait_for(timeout=5_000)
        dialog.locator("button:has-text('Select')").click()
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(IDLE, timeout=90_000)
    return page


def _run_all(page, artifacts: Path, name: str) -> None:
    """Run → Run All Cells, as the docs tell readers, and wait until every code cell has run.

    Stops early (with a screenshot) when a cell ends in an error: Run All stops there too.
    """
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        prompts = [p.strip() for p in _prompts(page)]
        errors = _errors(page)
        if errors:
            _shot(page, artifacts, f"{name}-error")
            pytest.fail(f"a cell ended in an error after Run All: {errors[0]}")
        if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            page.wait_for_selector(IDLE, timeout=60_000)
            return
        page.wait_for_timeout(1000)
    _shot(page, artifacts, f"{name}-run-all-timeout")
    pytest.fail(f"Run All did not finish within 600 s; prompts: {_prompts(page)}")


def _wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=300_000)


def _errors(page) -> list[str]:
    """Texts of outputs that are errors (tracebacks) or stderr."""
    return page.evaluate(f"""() => [...document.querySelectorAll('{ACTIVE} .jp-OutputArea-output')]
        .filter(o => (o.getAttribute('data-mime-type') || '').includes('stderr')
                     || o.querySelector('[data-mime-type*="stderr"]') || o.innerText.includes('Traceback'))
        .map(o => o.innerText.slice(0, 600))""")


def _prompts(page) -> list[str]:
    return page.evaluate(f"() => [...document.querySelectorAll('{ACTIVE} .jp-CodeCell .jp-InputArea-prompt')]"
                         ".map(p => p.innerText)")


def _add_cell(page, code: str) -> str:
    """Add a code cell at the end, run it, and return what it printed."""
    page.locator(f"{ACTIVE} .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type(code)
    page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would add a cell below)
    cell = page.locator(f"{ACTIVE} .jp-CodeCell").last
    cell.locator(".jp-InputArea-prompt", has_text=re.compile(r"\[\d+\]")).wait_for(timeout=120_000)
    _wait_idle(page)
    outs = cell.locator(".jp-OutputArea-output")
    return "\n".join(outs.all_inner_texts()) if outs.count() else ""


def _panel(page, title: str):
    """The widget box (a panel) whose bold title contains ``title``."""
    return page.locator(f"{ACTIVE} .widget-vbox", has=page.locator(f"b:has-text('{title}')")).last


def _table_rows(box) -> list[list[str]]:
    table = box.locator(".widget-output table").last
    return [[c.strip() for c in r.split("\t")] for r in table.inner_text().splitlines()[1:] if r.strip()]


def _set_slider(page, box, value: int) -> None:
    readout = box.locator(".widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    assert readout.inner_text().strip() == str(value)


def _shot(page, artifacts: Path, name: str, locator=None) -> Path:
    if locator is not None:
        locator.scroll_into_view_if_needed()
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# -- asking the cluster -----------------------------------------------------------------------

def _cluster(kubeconfig: str):
    api = config.new_client_from_config(config_file=kubeconfig)
    return client.AppsV1Api(api), client.CoreV1Api(api)


def _kernel_cluster(page) -> str:
    """A kubeconfig for the sandbox inside the notebook's kernel (written by the kernel itself)."""
    printed = _add_cell(page, "print(lab.sandbox.write_kubeconfig())")
    path = printed.strip().splitlines()[-1]
    assert Path(path).is_file(), printed
    return path


def _pods(core, namespace: str, app: str) -> list:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return sorted((p for p in pods if not p.metadata.deletion_timestamp), key=lambda p: p.metadata.name)


# -- the tests ------------------------------------------------------------------------------

def test_a_korean_notebook_is_korean_after_run_all_and_its_dashboard_drives_the_cluster(browser, jupyter_lab,
                                                                                          artifacts):
    page = _open(browser, jupyter_lab, "ko/02-creating.ipynb")
    try:
        _run_all(page, artifacts, "ko-02")
        board = page.locator(f"{ACTIVE} .widget-vbox", has=page.locator("h4:has-text('스테이트풀셋 nginx-stateful')")).last
        text = board.inner_text()
        for korean in ("레플리카", "적용", "이미지 업데이트", "파드 신원", "이름", "서수", "호스트 이름", "새로 고침"):
            assert korean in text, f"{korean!r} missing from the Korean dashboard"
        assert "그대로 두었다" in page.locator(f"{ACTIVE} .jp-Cell").last.inner_text(), "lab.finish() speaks Korean"
        _shot(page, artifacts, "ko-02-after-run-all", board)
        apps, core = _cluster(_kernel_cluster(page))

        scale = _panel(page, "nginx-stateful 스케일")
        _set_slider(page, scale, 5)
        board.locator("button:has-text('적용')").click()
        _wait_idle(page)
        assert [r[0] for r in _table_rows(board)] == [f"nginx-stateful-{i}" for i in range(5)]
        assert apps.read_namespaced_stateful_set("nginx-stateful", "default").spec.replicas == 5
        assert [p.metadata.name for p in _pods(core, "default", "nginx-stateful")] == [f"nginx-stateful-{i}" for i in range(5)]
        _shot(page, artifacts, "ko-02-scaled-up-to-5", board)

        _set_slider(page, scale, 2)
        board.locator("button:has-text('적용')").click()
        _wait_idle(page)
        assert [r[0] for r in _table_rows(board)] == ["nginx-stateful-0", "nginx-stateful-1"]
        assert len(_pods(core, "default", "nginx-stateful")) == 2
        _shot(page, artifacts, "ko-02-scaled-down-to-2", board)

        image = _panel(page, "nginx-stateful의 이미지 업데이트")
        for tag, revision in (("nginx:1.21.1", "nginx-stateful-6c7d474cc"), ("nginx", "nginx-stateful-7db594cfbd")):
            image.locator("select").select_option(tag)
            board.locator("button:has-text('이미지 업데이트')").click()
            _wait_idle(page)
            rows = _table_rows(board)
            assert {r[8] for r in rows} == {revision} and {r[9] for r in rows} == {tag}, rows
            assert "파드 2개 중 2개 업데이트" in image.inner_text()
            pods = _pods(core, "default", "nginx-stateful")
            assert {p.spec.containers[0].image for p in pods} == {tag}
            assert {p.metadata.labels["controller-revision-hash"] for p in pods} == {revision}
            assert board.locator(".widget-output img").count() >= 1, "the rollout's timeline is drawn"
            _shot(page, artifacts, f"ko-02-image-{tag.replace(':', '-')}", board)
        assert _errors(page) == []
    finally:
        page.close()


def test_the_broken_image_panel_shows_the_failure_and_the_cluster_is_stuck_as_it_says(browser, jupyter_lab, artifacts):
    page = _open(browser, jupyter_lab, "en/05-beyond-the-guide.ipynb")
    try:
        _run_all(page, artifacts, "en-05")
        apps, core = _cluster(_kernel_cluster(page))

        panel = _panel(page, "Update the image of nginx-stateful")
        panel.locator("select").select_option("nginx:does-not-exist")
        panel.locator("button:has-text('Update image')").click()
        _wait_idle(page)
        error = panel.locator(".stsnb-error")
        assert error.count() == 1 and re.search(r"ImagePullBackOff|ErrImagePull", error.inner_text())
        rows = _table_rows(panel)
        assert rows[-1][0] == "nginx-stateful-2" and rows[-1][9] == "nginx:does-not-exist" and rows[-1][4] == "False"
        stuck = core.read_namespaced_pod("nginx-stateful-2", "default")
        assert stuck.spec.containers[0].image == "nginx:does-not-exist"
        assert not all(c.ready for c in stuck.status.container_statuses or [])
        _shot(page, artifacts, "en-05-broken-image", panel)

        scale = _panel(page, "Scale nginx-stateful2")
        _set_slider(page, scale, 2)
        scale.locator("button:has-text('Apply')").click()
        _wait_idle(page)
        assert [r[0] for r in _table_rows(scale)] == ["nginx-stateful2-0", "nginx-stateful2-1"]
        assert apps.read_namespaced_stateful_set("nginx-stateful2", "default").spec.replicas == 2
        assert len(_pods(core, "default", "nginx-stateful2")) == 2
        _shot(page, artifacts, "en-05-scale-panel-down-to-2", scale)
    finally:
        page.close()


def test_on_a_real_cluster_run_all_cleans_up_and_the_panel_brings_it_back(browser, jupyter_lab, served_cluster,
                                                                          artifacts):
    """backend="kubeconfig": the last step cleans up, the panels say so, one click brings the set back."""
    apps, core = _cluster(served_cluster["kubeconfig"])
    page = _open(browser, jupyter_lab, "en/02-creating-on-a-cluster.ipynb")
    try:
        _run_all(page, artifacts, "en-02-real")
        assert [s.metadata.name for s in apps.list_namespaced_stateful_set("browser-lab").items] == []
        board = page.locator(f"{ACTIVE} .widget-vbox", has=page.locator("h4:has-text('StatefulSet nginx-stateful')")).last
        assert "the notebook's clean-up step deleted it" in board.inner_text()
        _shot(page, artifacts, "en-02-real-cluster-after-run-all", board)
        board.locator("button:has-text('Bring it back')").first.click()
        _wait_idle(page)
        assert apps.read_namespaced_stateful_set("nginx-stateful", "browser-lab").status.ready_replicas == 3
        assert [r[0] for r in _table_rows(board)] == [f"nginx-stateful-{i}" for i in range(3)]
        assert "clean-up step deleted it" not in board.inner_text()
        _shot(page, artifacts, "en-02-real-cluster-brought-back", board)
        _add_cell(page, "lab.cleanup()")
        assert apps.list_namespaced_stateful_set("browser-lab").items == []
    finally:
        page.close()
