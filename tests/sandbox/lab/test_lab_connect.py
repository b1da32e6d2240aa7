"""connect(): the sandbox by default, a real cluster only when asked for, and errors that say what to do."""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

import stsnb
from stsnb.errors import ClusterUnreachable, ConfigError, Forbidden


def _kubeconfig(path, server: str, context: str = "test") -> str:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}]}))
    return str(path)


def test_import_stsnb_is_light_and_starts_nothing():
    code = ("import sys, threading, stsnb; "
            "assert not any(m.startswith(('kubernetes', 'ipywidgets', 'pandas', 'stsnb.sandbox')) for m in sys.modules); "
            "assert threading.active_count() == 1; print(sorted(stsnb.__all__))")
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sorted(["connect", "Lab", "Settings", "errors", "manifests", "panels", "tables",
                                             "__version__"]))


def test_the_default_is_the_sandbox_in_namespace_default_and_it_says_why(sandbox):
    lab = stsnb.connect(sandbox=sandbox, env={})
    assert lab.is_sandbox and lab.namespace == "default"
    assert "sandbox" in lab.why and "a running sandbox was passed" in lab.why and sandbox.url in lab.why
    assert lab.sandbox is sandbox


def test_connect_starts_its_own_sandbox_and_close_stops_it():
    lab = stsnb.connect(seed=3, env={})
    assert lab.sandbox.started
    assert "v1.27" in lab.why and "no real cluster was asked for" in lab.why
    lab.close()
    assert lab.sandbox.stopping


def test_a_real_cluster_through_a_kubeconfig_gets_its_own_lab_namespace(sandbox, tmp_path):
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    lab = stsnb.connect(backend="kubeconfig", kubeconfig=str(path), env={})
    assert not lab.is_sandbox
    assert lab.namespace == "stsnb-lab"
    assert "context 'stsnb-sandbox'" in lab.why and "(created)" in lab.why
    ns = lab.kube.get("namespaces", "stsnb-lab")
    assert ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
    again = stsnb.connect(backend="kubeconfig", kubeconfig=str(path), env={})
    assert "(created)" not in again.why


def test_stsnb_backend_in_the_environment_selects_the_real_cluster(sandbox, tmp_path):
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    lab = stsnb.connect(env={"STSNB_BACKEND": "kubeconfig", "STSNB_KUBECONFIG": str(path),
                             "STSNB_NAMESPACE": "from-env"})
    assert (lab.is_sandbox, lab.namespace) == (False, "from-env")
    assert "STSNB_BACKEND" in lab.why


def test_a_missing_kubeconfig_file_says_where_it_looked_and_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as e:
        stsnb.connect(backend="kubeconfig", kubeconfig=str(tmp_path / "nope"), env={})
    assert str(tmp_path / "nope") in e.value.message
    assert "backend='sandbox'" in e.value.hint


def test_a_missing_context_lists_the_available_ones(sandbox, tmp_path):
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    with pytest.raises(ConfigError) as e:
        stsnb.connect(backend="kubeconfig", kubeconfig=str(path), context="kind-nope", env={})
    assert "'kind-nope'" in e.value.message
    assert "stsnb-sandbox" in e.value.hint


def test_an_unreachable_cluster_names_the_address_and_the_next_step(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    path = _kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    with pytest.raises(ClusterUnreachable) as e:
        stsnb.connect(backend="kubeconfig", kubeconfig=path, env={})
    assert f"127.0.0.1:{port}" in e.value.message
    assert "kubectl cluster-info" in e.value.hint and "backend='sandbox'" in e.value.hint
    assert e.value.__cause__ is not None


class _ForbiddingApi(BaseHTTPRequestHandler):
    """An API server that knows its version and refuses everything else with a 403 Status."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path.startswith("/version"):
            self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0"})
        else:
            self._send(403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                             "code": 403, "message": 'namespaces "locked" is forbidden: User "alice" cannot get '
                                                     'resource "namespaces" in API group "" in the namespace "locked"'})

    def _send(self, code: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_forbidden_namespace_says_so_and_suggests_another(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForbiddingApi)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        path = _kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{server.server_port}", context="alice")
        with pytest.raises(Forbidden) as e:
            stsnb.connect(backend="kubeconfig", kubeconfig=path, namespace="locked", env={})
        assert "'locked'" in e.value.message and 'User "alice" cannot get' in e.value.message
        assert "namespace=" in e.value.hint
    finally:
        server.shutdown()
        server.server_close()


def test_a_notebooks_own_language_is_used_unless_lang_or_stsnb_lang_says_otherwise(sandbox):
    """Order: ``lang`` (papermill's -p lang, stsnb run), then $STSNB_LANG, then ``notebook_lang``, then English."""
    assert stsnb.connect(sandbox=sandbox, notebook_lang="ko", env={}).lang == "ko"
    assert stsnb.connect(sandbox=sandbox, notebook_lang="ko", env={"STSNB_LANG": "en"}).lang == "en"
    assert stsnb.connect(sandbox=sandbox, lang="en", notebook_lang="ko", env={"STSNB_LANG": "ko"}).lang == "en"
    assert stsnb.connect(sandbox=sandbox, env={}).lang == "en"
    lab = stsnb.connect(sandbox=sandbox, notebook_lang="ko", env={})
    assert lab.settings.sources["lang"] == "notebook"
    with pytest.raises(ConfigError):
        stsnb.connect(sandbox=sandbox, notebook_lang="fr", env={})
