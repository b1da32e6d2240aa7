"""`stsnb sandbox serve`: a sandbox in its own process, reachable through the kubeconfig it writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kubernetes import client, config


def test_serve_writes_a_kubeconfig_serves_the_api_and_stops_cleanly_on_sigterm(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen([sys.executable, "-m", "stsnb", "sandbox", "serve", "--port", "0", "--dns-port", "0",
                             "--kubeconfig", str(kubeconfig), "--seed", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        banner = "".join(lines)
        assert "API:        https://127.0.0.1:" in banner, banner
        assert "DNS:        127.0.0.1:" in banner
        api = config.new_client_from_config(config_file=str(kubeconfig))
        assert client.VersionApi(api).get_code().git_version.startswith("v1.27")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stsnb sandbox stopped." in out


def test_serve_with_a_data_dir_makes_it_and_names_where_pv_files_go(tmp_path):
    data = tmp_path / "pv-data"
    proc = subprocess.Popen([sys.executable, "-m", "stsnb", "sandbox", "serve", "--dns-port", "0",
                             "--kubeconfig", str(tmp_path / "kubeconfig"), "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Press Ctrl-C") or not line:
                break
        assert f"  PV data:    {data}/<pv-uid>/\n" in lines, "".join(lines)
        assert data.is_dir()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_serve_refuses_a_data_dir_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    proc = subprocess.run([sys.executable, "-m", "stsnb", "sandbox", "serve", "--data-dir", str(tmp_path / "file")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is not a directory" in proc.stderr or "cannot be a directory" in proc.stderr


def test_serve_rejects_an_unsupported_version_with_the_supported_range():
    proc = subprocess.run([sys.executable, "-m", "stsnb", "sandbox", "serve", "--k8s-version", "2.0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unsupported k8s_version '2.0'" in proc.stderr and "1.25 to 1.37" in proc.stderr


# ------------------------------------------------------------------ --kubeconfig never destroys a file it did not write

KUBECTL = str(Path(sys.executable).parent / "kubectl")


def _own_kubeconfig(path: Path) -> bytes:
    """A kubeconfig as kubectl itself writes it: a 'prod' cluster, user (with a token) and current context."""
    env = {"KUBECONFIG": str(path), "HOME": str(path.parent), "PATH": os.environ.get("PATH", "")}
    for args in (["set-cluster", "prod", "--server=https://10.0.0.1:6443", "--insecure-skip-tls-verify=true"],
                 ["set-credentials", "admin", "--token=production-secret"],
                 ["set-context", "prod", "--cluster=prod", "--user=admin", "--namespace=payments"],
                 ["use-context", "prod"]):
        subprocess.run([KUBECTL, "config", *args], env=env, check=True, capture_output=True, timeout=30)
    return path.read_bytes()


def _serve(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "stsnb", "sandbox", "serve", "--port", "0", "--dns-port", "0",
                             "--seed", "1", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    return proc, "".join(lines)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out, err


def test_serve_merges_into_an_existing_kubeconfig_and_leaves_it_byte_for_byte_on_stop(tmp_path):
    path = tmp_path / "config"
    original = _own_kubeconfig(path)
    proc, banner = _serve("--kubeconfig", str(path))
    try:
        assert "not the current one" in banner and "--context stsnb-sandbox" in banner, banner
        merged = yaml.safe_load(path.read_text())
        assert merged["current-context"] == "prod"
        assert [c["name"] for c in merged["contexts"]] == ["prod", "stsnb-sandbox"]
        before = yaml.safe_load(original)
        for key in ("clusters", "users", "contexts"):
            assert [e for e in merged[key] if e["name"] != "stsnb-sandbox"] == before[key]
        # every line of the user's file is still there, in order, unchanged
        text = path.read_text().splitlines()
        it = iter(text)
        assert all(line in it for line in original.decode().splitlines())
        env = {"KUBECONFIG": str(path), "HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
        nodes = subprocess.run([KUBECTL, "--context", "stsnb-sandbox", "get", "nodes", "-o", "name"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert nodes.stdout.split() == ["node/k8s-master", "node/k8s-worker1", "node/k8s-worker2"], nodes.stderr
    finally:
        _stop(proc)
    assert path.read_bytes() == original


def test_serve_set_current_switches_the_context_and_restores_it_on_stop(tmp_path):
    path = tmp_path / "config"
    original = _own_kubeconfig(path)
    proc, _ = _serve("--kubeconfig", str(path), "--set-current")
    try:
        api = config.new_client_from_config(config_file=str(path))  # the current context: the sandbox
        assert client.VersionApi(api).get_code().git_version.startswith("v1.27")
        assert yaml.safe_load(path.read_text())["current-context"] == "stsnb-sandbox"
    finally:
        _stop(proc)
    assert path.read_bytes() == original


def test_serve_refuses_a_file_that_is_not_a_kubeconfig_and_leaves_it_alone(tmp_path):
    path = tmp_path / "notes.yaml"
    path.write_text("- a shopping list\n- not: a kubeconfig\n")
    proc = subprocess.run([sys.executable, "-m", "stsnb", "sandbox", "serve", "--kubeconfig", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is not a kubeconfig" in proc.stderr and "choose another --kubeconfig path" in proc.stderr
    assert path.read_text() == "- a shopping list\n- not: a kubeconfig\n"


def test_serve_removes_a_kubeconfig_it_created_itself_on_stop(tmp_path):
    path = tmp_path / "new" / "config"
    proc, _ = _serve("--kubeconfig", str(path))
    try:
        assert yaml.safe_load(path.read_text())["current-context"] == "stsnb-sandbox"
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        _stop(proc)
    assert not path.exists()


def test_serve_stopped_while_it_prints_its_banner_still_exits_cleanly_and_restores_the_kubeconfig(tmp_path):
    # The signal goes out as soon as the first banner line is read, before "Press Ctrl-C" is printed: the
    # handlers must already be in place then (CI once saw such a SIGTERM kill the process, exit -15).
    path = tmp_path / "config"
    original = _own_kubeconfig(path)
    proc = subprocess.Popen([sys.executable, "-m", "stsnb", "sandbox", "serve", "--port", "0", "--dns-port", "0",
                             "--seed", "1", "--kubeconfig", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert "serving" in first, first
    out, err = _stop(proc)
    assert "stsnb sandbox stopped." in out
    assert path.read_bytes() == original
