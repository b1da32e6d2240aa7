"""The browser tier: JupyterLab 4 driven by Playwright for Python through Debian's Chromium.

A reader's path, not ours: open a notebook in JupyterLab, Run All from the menu, then use the
panels with the mouse and keyboard. ``jupyter_lab`` starts a JupyterLab server (the ``lab``
extra) on a free loopback port over a scratch copy of the notebooks, with a settings folder of
its own (no news prompt, every cell rendered); ``browser`` is Chromium at ``/usr/bin/chromium``
(never a browser Playwright downloads) with a fresh profile. Screenshots go to
``build/test-artifacts/browser/`` (git-ignored).

Skipped only when ``/usr/bin/chromium`` is missing. JupyterLab missing is a failure: it is
stsnb's own ``lab`` extra.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "build" / "test-artifacts" / "browser"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Chromium is not installed at /usr/bin/chromium (Debian: apt-get install chromium)")

#: JupyterLab user settings for the test server: no news prompt, and every cell in the DOM.
_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A running JupyterLab server: ``url(path)`` opens a notebook in it."""

    def __init__(self, port: int, token: str, root: Path, proc: subprocess.Popen, log: Path) -> None:
        self.port, self.token, self.root, self.proc, self.log = port, token, root, proc, log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?token={self.token}"


@pytest.fixture(scope="package")
def served_cluster(tmp_path_factory) -> Iterator[dict]:
    """A sandbox served from this process, standing in for a reader's own cluster (kubeconfig)."""
    from stsnb.sandbox import Sandbox
    sb = Sandbox(dns_port=None, speed=20, seed=11)
    sb.start()
    path = sb.write_kubeconfig(tmp_path_factory.mktemp("cluster") / "kubeconfig")
    yield {"sandbox": sb, "kubeconfig": str(path)}
    sb.stop()


@pytest.fixture(scope="package")
def jupyter_lab(tmp_path_factory, served_cluster) -> Iterator[JupyterLab]:
    """JupyterLab over a scratch copy of ``notebooks/`` (plus a real-cluster variant), on a free port."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.fail("JupyterLab is missing: install the lab extra (pip install -e '.[lab]'); the browser tier needs it")
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    _real_cluster_copy(root / "en" / "02-creating.ipynb", root / "en" / "02-creating-on-a-cluster.ipynb")
    settings = base / "settings"
    for rel, value in _SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    log = base / "jupyterlab.log"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(base / "ws"),
           "KUBECONFIG": served_cluster["kubeconfig"]}  # used only by the copy that asks for backend="kubeconfig"
    for var in ("STSNB_BACKEND", "STSNB_KUBECONFIG", "STSNB_LANG", "STSNB_NAMESPACE"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--ServerApp.token={token}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={root}", "--LabApp.news_url=None"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    lab = JupyterLab(port, token, root, proc, log)
    try:
        _wait_for_server(lab)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _real_cluster_copy(source: Path, target: Path) -> None:
    """A copy of a notebook whose parameters ask for ``backend="kubeconfig"``: the reader's own cluster."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            text = "".join(cell["source"])
            text = re.sub(r'^backend = "auto"', 'backend = "kubeconfig"', text, flags=re.M)
            text = re.sub(r"^namespace = None", 'namespace = "browser-lab"', text, flags=re.M)
            cell["source"] = text
    target.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


def _wait_for_server(lab: JupyterLab, timeout: float = 90.0) -> None:
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {lab.proc.returncode}:\n{lab.log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/api/status?token={lab.token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)  # polling a process we started for its port; no condition to watch instead
    pytest.fail(f"JupyterLab did not answer within {timeout:g} s:\n{lab.log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="package")
def browser(tmp_path_factory) -> Iterator:
    """Debian's Chromium through Playwright, with a fresh profile; 1400×1000 pages."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("profile")),
                                                       executable_path=str(CHROMIUM), args=LAUNCH_ARGS,
                                                       viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
