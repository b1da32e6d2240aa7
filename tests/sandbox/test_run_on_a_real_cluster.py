"""``stsnb run -p backend kubeconfig``: notebooks on a real cluster run one at a time, and a dead one stops the run.

A sandbox served in this process stands in for the real cluster (``Sandbox.write_kubeconfig`` and
``STSNB_KUBECONFIG``). Every notebook resets the namespace ``stsnb-lab`` when it starts, so two at
once would delete each other's objects: the runner must not overlap them, whatever ``--jobs`` says.
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from stsnb.cli.run import run_notebooks
from stsnb.sandbox import Sandbox

from ..cli.conftest import clean_env, write_lessons

LESSON = "\n".join([
    "import time, stsnb",
    "lab = stsnb.connect(backend=backend, namespace=namespace, timeout_s=timeout_s)",
    "print(lab.why)",
    "lab.reset()",
    "lab.apply('nginx-stateful')",
    "time.sleep(1.0)",
    "names = sorted(p['metadata']['name'] for p in lab.kube.list('statefulsets'))",
    "assert names == ['nginx-stateful'], f'another notebook is in this namespace: {names}'",
    "lab.cleanup()",
])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A served sandbox and a kubeconfig for it."""
    with Sandbox(dns_port=None, speed=50) as sb:
        yield sb, sb.write_kubeconfig(tmp_path_factory.mktemp("cluster") / "kubeconfig")


def test_notebooks_on_a_real_cluster_run_one_at_a_time_whatever_jobs_says(cluster, tmp_path, monkeypatch):
    _, kubeconfig = cluster
    monkeypatch.setenv("STSNB_KUBECONFIG", str(kubeconfig))
    for var in ("STSNB_BACKEND", "STSNB_NAMESPACE"):
        monkeypatch.delenv(var, raising=False)
    src = write_lessons(tmp_path / "src", {f"0{i}-lesson.ipynb": LESSON for i in (1, 2, 3)}, langs=("en",))
    notes: list[str] = []
    results = run_notebooks(["en"], source_dir=src, out_dir=tmp_path / "out", jobs=2, timeout=120,
                            given=[], parameters={"backend": "kubeconfig"}, on_note=notes.append,
                            on_result=lambda r: None)
    assert [r.status for r in results] == ["passed"] * 3, [r.describe_failure() for r in results]
    spans = sorted((r.started, r.finished) for r in results)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), spans
    assert any("one at a time" in n for n in notes)
    assert any(n.startswith("real cluster: a real cluster through the kubeconfig") for n in notes)


def test_an_unreachable_cluster_stops_the_run_before_any_notebook_with_one_message(cluster, tmp_path):
    sb, _ = cluster
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = sb.kubeconfig()
    dead["clusters"][0]["cluster"]["server"] = f"http://127.0.0.1:{port}"
    path = tmp_path / "dead-kubeconfig"
    import yaml

    path.write_text(yaml.safe_dump(dead))
    done = subprocess.run([sys.executable, "-m", "stsnb", "run", "-p", "backend", "kubeconfig", "--lang", "all",
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                          env=clean_env(STSNB_KUBECONFIG=str(path)), timeout=300)
    assert done.returncode == 2
    assert done.stderr.count("no Kubernetes API server answered") == 1, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "out").exists()
