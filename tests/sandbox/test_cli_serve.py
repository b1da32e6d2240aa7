"""`stsnb sandbox serve`: a sandbox in its own process, reachable through the kubeconfig it writes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

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
        assert "API:        http://127.0.0.1:" in banner, banner
        assert "DNS:        127.0.0.1:" in banner
        api = config.new_client_from_config(config_file=str(kubeconfig))
        assert client.VersionApi(api).get_code().git_version.startswith("v1.27")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stsnb sandbox stopped." in out


def test_serve_rejects_an_unsupported_version_with_the_supported_range():
    proc = subprocess.run([sys.executable, "-m", "stsnb", "sandbox", "serve", "--k8s-version", "2.0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unsupported k8s_version '2.0'" in proc.stderr and "1.25 to 1.37" in proc.stderr
